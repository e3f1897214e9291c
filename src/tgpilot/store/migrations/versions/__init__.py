"""Alembic revisions of the store, oldest first (``vNNNN_<what>.py``)."""
