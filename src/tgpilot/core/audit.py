"""The append-only audit log: one JSON line per mutation (DESIGN rule 4).

``audit.jsonl`` in the data dir records what was done to the account and with what
result: ``{ts, account, plan_id, command, action, chat_id, message_id, params, result,
error}``. Lines are appended with ``O_APPEND`` (one ``write`` each, so concurrent
writers never interleave), the file is 0600, and nothing secret is ever passed in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from tgpilot.core.output import iso_time


@dataclass(frozen=True)
class AuditLog:
    """Appends mutation records for one account."""

    path: Path
    account: str

    def record(
        self,
        *,
        ts: datetime,
        command: str,
        action: str,
        result: str,
        plan_id: str | None = None,
        chat_id: int | None = None,
        message_id: int | None = None,
        params: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        """Append one line; ``result`` is ``ok``, ``skipped`` or ``failed``."""
        line = {
            "ts": iso_time(ts),
            "account": self.account,
            "plan_id": plan_id,
            "command": command,
            "action": action,
            "chat_id": chat_id,
            "message_id": message_id,
            "params": params or {},
            "result": result,
            "error": error,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, orjson.dumps(line) + b"\n")
        finally:
            os.close(fd)
