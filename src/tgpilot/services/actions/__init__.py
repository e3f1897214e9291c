"""Acting on the account (DESIGN rule 4): plans as data, paced application, audit.

``plan`` holds the plan file format, ``pacing`` the delay between mutations,
``executor`` applies a plan item by item through a kind's :class:`ActionHandler`;
the commands (``react``, ``like``, ``clean``, ``viral send``, ``apply``) build plans.
"""
