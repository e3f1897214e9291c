"""Alembic's entry point for the store: hands over to :func:`tgpilot.store.migrate.run_env`.

Alembic executes this file for every command; tgpilot never reads an ``alembic.ini``.
"""

from __future__ import annotations

from tgpilot.store.migrate import run_env

run_env()
