"""Alembic environment and revisions of the store; run from code by :mod:`tgpilot.store.migrate`."""
