"""CRM records as table rows: the CSV export and the ``--json`` objects (spec ai.md §4.3).

CSV headers are ``name,company,role,phone,email,telegram`` for contacts,
``title,description,stage,value,next_action,deadline`` for deals and
``task,assignee,due_date,chat`` for actions. Files are written by the ``csv`` module
(RFC 4180 quoting) in UTF-8, with a BOM for Excel when asked.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from tgpilot.core.output import atomic_write, iso_time
from tgpilot.store.crm import CrmAction, CrmContact, CrmDeal

Kind = Literal["contacts", "deals", "actions"]
KINDS: tuple[Kind, ...] = ("contacts", "deals", "actions")
HEADERS: dict[Kind, tuple[str, ...]] = {
    "contacts": ("name", "company", "role", "phone", "email", "telegram"),
    "deals": ("title", "description", "stage", "value", "next_action", "deadline"),
    "actions": ("task", "assignee", "due_date", "chat"),
}
BOM = "\ufeff"
Record = CrmContact | CrmDeal | CrmAction


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if value.is_integer() else str(value)


def csv_row(record: Record) -> list[str]:
    """The CSV cells of a record, in its kind's header order."""
    if isinstance(record, CrmContact):
        return [
            record.name,
            record.company,
            record.role,
            record.phone,
            record.email,
            record.telegram,
        ]
    if isinstance(record, CrmDeal):
        return [
            record.title,
            record.description,
            record.stage,
            _number(record.value),
            record.next_action,
            record.deadline.isoformat() if record.deadline else "",
        ]
    chat = record.provenance.chat_title if record.provenance else ""
    due = record.due_date.isoformat() if record.due_date else ""
    return [record.task, record.assignee, due, chat]


def write_csv(path: Path, kind: Kind, records: Sequence[Record], *, excel: bool = False) -> Path:
    """Write ``records`` of ``kind`` to ``path`` as CSV (a BOM first with ``excel``)."""
    with atomic_write(path) as handle:
        if excel:
            handle.write(BOM)
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADERS[kind])
        writer.writerows(csv_row(record) for record in records)
    return path


def record_json(record: Record) -> dict[str, Any]:
    """A record as a JSON object, with its provenance when it has one."""
    document: dict[str, Any] = {}
    for name, value in vars(record).items():
        if name == "provenance":
            continue
        if isinstance(value, tuple):
            document[name] = list(value)
        elif hasattr(value, "isoformat"):
            document[name] = value.isoformat()
        else:
            document[name] = value
    source = record.provenance
    if source is not None:
        document["source"] = {
            "chat_id": source.chat_id,
            "chat": source.chat_title,
            "extracted_at": iso_time(source.extracted_at),
            "model": source.model,
            "method": source.method,
        }
    return document
