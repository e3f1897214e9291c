"""The CRM tables: contacts, deals and action items with provenance (spec ai.md §4.3).

:class:`CrmRepository` works on an open :class:`~tgpilot.store.Store`'s engine. Records
are upserted by natural key, so extracting the same chat again changes nothing:

- contact: E.164 phone, else e-mail, else Telegram username, else name + company;
- deal: chat + case-folded title;
- action item: chat + task (case-folded, whitespace collapsed).

The key is stored as its SHA-256 (``key_hash``), since MariaDB cannot index long text
whole. A record met again is merged with the stored one (:func:`merge_records`: a new
non-empty value wins, lists are united) and written only when that changes it; its
provenance — chat, message ids, time, model, method ``llm`` or ``regex`` — is that of
the extraction that last changed it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from sqlalchemy import Table, bindparam, insert, select, update

from tgpilot.store.records import UpsertCounts
from tgpilot.store.repository import Repository
from tgpilot.store.schema import crm_actions, crm_contacts, crm_deals
from tgpilot.store.text import clip
from tgpilot.store.types import as_utc

if TYPE_CHECKING:
    pass

Method = Literal["llm", "regex"]
UNKNOWN = "unknown"
"""An enum value the extraction did not settle (never overrides a known one)."""


@dataclass(frozen=True)
class Provenance:
    """Where and how a batch of records was extracted."""

    chat_id: int
    chat_title: str
    extracted_at: datetime
    method: Method
    model: str | None = None


@dataclass(frozen=True)
class CrmContact:
    """A person or company to follow up with; ``phone`` is E.164 when it parses."""

    name: str = ""
    company: str = ""
    role: str = ""
    phone: str = ""
    email: str = ""
    telegram: str = ""
    interests: tuple[str, ...] = ()
    temperature: str = UNKNOWN
    notes: str = ""
    urls: tuple[str, ...] = ()
    message_ids: tuple[int, ...] = ()
    provenance: Provenance | None = field(default=None, compare=False)


@dataclass(frozen=True)
class CrmDeal:
    """An opportunity discussed in a chat."""

    title: str
    description: str = ""
    stage: str = UNKNOWN
    value: float | None = None
    currency: str | None = None
    next_action: str = ""
    deadline: date | None = None
    message_ids: tuple[int, ...] = ()
    provenance: Provenance | None = field(default=None, compare=False)


@dataclass(frozen=True)
class CrmAction:
    """A follow-up task agreed in a chat."""

    task: str
    assignee: str = ""
    due_date: date | None = None
    message_ids: tuple[int, ...] = ()
    provenance: Provenance | None = field(default=None, compare=False)


R = TypeVar("R", CrmContact, CrmDeal, CrmAction)


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def contact_key(contact: CrmContact) -> str | None:
    """The contact's natural key, or None when it has nothing to be known by."""
    if contact.phone.strip():
        return f"phone:{contact.phone.strip()}"
    if contact.email.strip():
        return f"email:{_fold(contact.email)}"
    if contact.telegram.strip():
        return f"telegram:{_fold(contact.telegram)}"
    if contact.name.strip() or contact.company.strip():
        return f"name:{_fold(contact.name)}\n{_fold(contact.company)}"
    return None


def deal_key(chat_id: int, deal: CrmDeal) -> str | None:
    """Chat + case-folded title (None for a deal without a title)."""
    title = _fold(deal.title)
    return f"{chat_id}\n{title}" if title else None


def action_key(chat_id: int, action: CrmAction) -> str | None:
    """Chat + case-folded task (None for an empty task)."""
    task = _fold(action.task)
    return f"{chat_id}\n{task}" if task else None


def record_key(chat_id: int, record: CrmContact | CrmDeal | CrmAction) -> str | None:
    """The natural key of any CRM record (contacts ignore the chat)."""
    if isinstance(record, CrmContact):
        return contact_key(record)
    if isinstance(record, CrmDeal):
        return deal_key(chat_id, record)
    return action_key(chat_id, record)


def key_hash(key: str) -> str:
    """The SHA-256 (hex) of a natural key: the ``key_hash`` column."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _merged_value(old: Any, new: Any) -> Any:
    if isinstance(old, tuple):
        united = tuple(dict.fromkeys((*old, *new)))
        return tuple(sorted(united)) if all(isinstance(v, int) for v in united) else united
    if new is None or new == UNKNOWN or (isinstance(new, str) and not new.strip()):
        return old
    return new


def merge_records(old: R, new: R) -> R:
    """Two records of one key as one: a new non-empty (and not ``unknown``) value wins,
    lists are united (message ids sorted); the provenance is the new one's."""
    changes = {
        f.name: _merged_value(getattr(old, f.name), getattr(new, f.name))
        for f in fields(old)
        if f.name != "provenance"
    }
    return replace(old, **changes, provenance=new.provenance or old.provenance)


# --------------------------------------------------------------------------- rows


def _provenance(row: Mapping[Any, Any]) -> Provenance:
    return Provenance(
        chat_id=int(row["chat_id"]),
        chat_title=row["chat_title"],
        extracted_at=row["extracted_at"],
        method=row["method"],
        model=row["model"],
    )


def _from_row(kind: type[R], row: Mapping[Any, Any]) -> R:
    values: dict[str, Any] = {}
    for f in fields(kind):
        if f.name == "provenance":
            values[f.name] = _provenance(row)
        elif f.name in ("interests", "urls"):
            values[f.name] = tuple(row[f.name] or ())
        elif f.name == "message_ids":
            values[f.name] = tuple(int(i) for i in row[f.name] or ())
        else:
            values[f.name] = row[f.name]
    return kind(**values)


def _to_row(record: CrmContact | CrmDeal | CrmAction, provenance: Provenance) -> dict[str, Any]:
    row: dict[str, Any] = {
        f.name: list(value) if isinstance(value, tuple) else value
        for f in fields(record)
        if f.name != "provenance"
        for value in [getattr(record, f.name)]
    }
    row.update(
        chat_id=provenance.chat_id,
        chat_title=provenance.chat_title,
        extracted_at=as_utc(provenance.extracted_at),
        model=provenance.model,
        method=provenance.method,
    )
    return row


def _fit(table: Table, row: dict[str, Any], *, prefix: str = "") -> dict[str, Any]:
    """``row`` with texts clipped to their columns' lengths (a model may write long names)."""
    fitted = dict(row)
    for name, value in row.items():
        length = getattr(table.c[name.removeprefix(prefix)].type, "length", None)
        if isinstance(value, str) and length is not None:
            fitted[name] = clip(value, length)
    return fitted


@dataclass(frozen=True)
class CrmCounts:
    """What an extraction did to each table."""

    contacts: UpsertCounts = field(default_factory=UpsertCounts)
    deals: UpsertCounts = field(default_factory=UpsertCounts)
    actions: UpsertCounts = field(default_factory=UpsertCounts)


class CrmRepository(Repository):
    """Reads and writes the CRM tables of one open store."""

    async def save(
        self,
        provenance: Provenance,
        contacts: Sequence[CrmContact] = (),
        deals: Sequence[CrmDeal] = (),
        actions: Sequence[CrmAction] = (),
    ) -> CrmCounts:
        """Upsert one extraction's records by natural key, in one transaction; records
        without a key (no name, title or task) are skipped."""
        async with self._guard("saving CRM records"), self._writer.begin() as conn:
            counts = []
            for table, records in (
                (crm_contacts, contacts),
                (crm_deals, deals),
                (crm_actions, actions),
            ):
                counts.append(await self._upsert(conn, table, records, provenance))
        return CrmCounts(*counts)

    async def _upsert(
        self,
        conn: Any,
        table: Table,
        records: Sequence[CrmContact] | Sequence[CrmDeal] | Sequence[CrmAction],
        provenance: Provenance,
    ) -> UpsertCounts:
        wanted: dict[str, Any] = {}
        for record in records:
            key = record_key(provenance.chat_id, record)
            if key is None:
                continue
            digest = key_hash(key)
            old = wanted.get(digest)
            wanted[digest] = record if old is None else merge_records(old, record)
        if not wanted:
            return UpsertCounts()
        kind = type(next(iter(wanted.values())))
        result = await conn.execute(select(table).where(table.c.key_hash.in_(sorted(wanted))))
        stored = {row["key_hash"]: _from_row(kind, row) for row in result.mappings()}
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for digest, record in wanted.items():
            old = stored.get(digest)
            if old is None:
                inserts.append({**_to_row(record, provenance), "key_hash": digest})
                continue
            merged = merge_records(old, record)
            if merged != old:
                row = _to_row(merged, provenance)
                updates.append({"b_key_hash": digest, **{f"b_{k}": v for k, v in row.items()}})
        if inserts:
            await conn.execute(insert(table), [_fit(table, row) for row in inserts])
        if updates:
            updates = [_fit(table, row, prefix="b_") for row in updates]
            columns = [name for name in updates[0] if name != "b_key_hash"]
            statement = (
                update(table)
                .where(table.c.key_hash == bindparam("b_key_hash"))
                .values({name[2:]: bindparam(name) for name in columns})
            )
            await conn.execute(statement, updates)
        return UpsertCounts(len(inserts), len(updates), len(wanted) - len(inserts) - len(updates))

    async def contacts(self) -> list[CrmContact]:
        """Every contact, by name, then id."""
        return await self._read(crm_contacts, CrmContact, crm_contacts.c.name)

    async def deals(self) -> list[CrmDeal]:
        """Every deal, by chat, then id."""
        return await self._read(crm_deals, CrmDeal, crm_deals.c.chat_title)

    async def actions(self) -> list[CrmAction]:
        """Every action item, by chat, then id."""
        return await self._read(crm_actions, CrmAction, crm_actions.c.chat_title)

    async def _read(self, table: Table, kind: type[R], order: Any) -> list[R]:
        statement = select(table).order_by(order, table.c.id)
        async with self._guard(f"reading {table.name}"), self._engine.connect() as conn:
            result = await conn.execute(statement)
            return [_from_row(kind, row) for row in result.mappings()]
