"""Plans as data: what a bulk action would do, printable, savable and re-appliable.

A plan is ``{plan_id, kind, created_at, account, command, params, items}``; each item
says which ``action`` on which ``chat_id``/``message_id`` (with ``emoji`` or ``text``
when the action needs one), a ``preview`` of the message and the ``reason`` it was
selected. ``--plan-out FILE`` writes one; ``tgpilot apply FILE`` reads it back and hands
it to the service owning its ``kind``. Files are written atomically, mode 0600 (they can
hold message text).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from tgpilot.core.errors import UsageError
from tgpilot.core.output import atomic_write, iso_time

PLAN_FORMAT = 1


@dataclass(frozen=True)
class PlanContext:
    """Who is planning: recorded in every plan and its audit lines."""

    account: str
    command: str
    now: Callable[[], datetime]


@dataclass(frozen=True)
class PlanItem:
    """One mutation a plan would make."""

    action: str
    chat_id: int
    message_id: int | None = None
    emoji: tuple[str, ...] = ()
    text: str | None = None
    preview: str = ""
    reason: str = ""
    chat_title: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "action": self.action,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
        }
        if self.emoji:
            data["emoji"] = list(self.emoji)
        if self.text is not None:
            data["text"] = self.text
        data["preview"] = self.preview
        data["reason"] = self.reason
        if self.chat_title is not None:
            data["chat_title"] = self.chat_title
        if self.extra:
            data["extra"] = self.extra
        return data

    @classmethod
    def from_json(cls, data: Any, where: str) -> PlanItem:
        if not isinstance(data, dict):
            raise UsageError(f"{where}: an item must be an object")
        action = data.get("action")
        chat_id = data.get("chat_id")
        message_id = data.get("message_id")
        emoji = data.get("emoji", [])
        if isinstance(emoji, str):
            emoji = [emoji]
        if not isinstance(action, str) or not action:
            raise UsageError(f"{where}: missing action")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool):
            raise UsageError(f"{where}: chat_id must be an integer")
        if message_id is not None and not _is_int(message_id):
            raise UsageError(f"{where}: message_id must be an integer")
        if not isinstance(emoji, list) or not all(isinstance(e, str) for e in emoji):
            raise UsageError(f"{where}: emoji must be a string or a list of strings")
        extra = data.get("extra", {})
        if not isinstance(extra, dict):
            raise UsageError(f"{where}: extra must be an object")
        return cls(
            action=action,
            chat_id=chat_id,
            message_id=message_id,
            emoji=tuple(emoji),
            text=_optional_str(data.get("text"), f"{where}: text"),
            preview=_optional_str(data.get("preview"), f"{where}: preview") or "",
            reason=_optional_str(data.get("reason"), f"{where}: reason") or "",
            chat_title=_optional_str(data.get("chat_title"), f"{where}: chat_title"),
            extra=extra,
        )


@dataclass(frozen=True)
class Plan:
    """A whole plan: its identity, where it came from, and its items in order.

    ``skipped`` lists what was selected but needs no action (already reacted, not
    found, …), each with its reason; they count as skipped in the summary.
    """

    kind: str
    account: str
    command: str
    created_at: datetime
    items: tuple[PlanItem, ...]
    params: dict[str, Any] = field(default_factory=dict)
    skipped: tuple[PlanItem, ...] = ()
    plan_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": PLAN_FORMAT,
            "plan_id": self.plan_id,
            "kind": self.kind,
            "created_at": iso_time(self.created_at),
            "account": self.account,
            "command": self.command,
            "params": self.params,
            "items": [item.to_json() for item in self.items],
            "skipped": [item.to_json() for item in self.skipped],
        }

    def with_params(self, **params: Any) -> Plan:
        """The plan with more ``params`` recorded (how it is to be applied)."""
        return replace(self, params={**self.params, **params})

    def save(self, path: Path) -> None:
        """Write the plan as JSON, atomically and readable only by the owner."""
        with atomic_write(path, mode=0o600) as handle:
            handle.write(orjson.dumps(self.to_json(), option=orjson.OPT_INDENT_2).decode() + "\n")

    @classmethod
    def load(cls, path: Path) -> Plan:
        """Read a plan file; anything unreadable or malformed is a usage error (exit 2)."""
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read plan {path}: {exc.strerror}") from None
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise UsageError(f"{path} is not a plan file: invalid JSON ({exc})") from None
        return cls.from_json(data, str(path))

    @classmethod
    def from_json(cls, data: Any, where: str) -> Plan:
        if not isinstance(data, dict):
            raise UsageError(f"{where} is not a plan file: expected a JSON object")
        for key in ("plan_id", "kind", "account", "command", "created_at"):
            if not isinstance(data.get(key), str) or not data[key]:
                raise UsageError(f"{where} is not a plan file: missing {key}")
        try:
            created = datetime.fromisoformat(data["created_at"].replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(f"{where}: created_at is not an ISO time") from None
        items = data.get("items")
        if not isinstance(items, list):
            raise UsageError(f"{where} is not a plan file: items must be a list")
        skipped = data.get("skipped", [])
        if not isinstance(skipped, list):
            raise UsageError(f"{where}: skipped must be a list")
        params = data.get("params", {})
        if not isinstance(params, dict):
            raise UsageError(f"{where}: params must be an object")
        return cls(
            kind=data["kind"],
            account=data["account"],
            command=data["command"],
            created_at=created,
            items=tuple(
                PlanItem.from_json(item, f"{where}: item {n}") for n, item in enumerate(items, 1)
            ),
            params=params,
            skipped=tuple(
                PlanItem.from_json(item, f"{where}: skipped item {n}")
                for n, item in enumerate(skipped, 1)
            ),
            plan_id=data["plan_id"],
        )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _optional_str(value: Any, where: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise UsageError(f"{where} must be a string")
    return value
