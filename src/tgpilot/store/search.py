"""``search --archive``: the portable query syntax and its translation per backend.

Syntax (spec telegram-cli §3.4): words are ANDed, ``"exact phrase"`` matches words in
sequence, ``-word`` / ``-"phrase"`` excludes. Every other character is plain text: a
user's word is always *quoted* for the backend, so FTS syntax (``*``, ``(``, ``NEAR``,
``OR``, ``column:``) is never interpreted. A term with no letter or digit is dropped;
a query with nothing left to find is a :class:`UsageError`.

- SQLite: ``messages_fts MATCH '("w1" AND "two words") NOT "w3"'``, rank ``-bm25()``.
- PostgreSQL: ``to_tsvector('simple', text) @@ tsquery`` built from
  ``phraseto_tsquery('simple', term)`` joined with ``tsquery_and``/``tsquery_not``
  (so the GIN index applies), rank ``ts_rank``.
- MariaDB/MySQL: ``MATCH(text) AGAINST ('+"w1" +"two words" -"w3"' IN BOOLEAN MODE)``.
  InnoDB does not index words shorter than ``innodb_ft_min_token_size`` (3) nor its
  stop words, and a required term it does not index matches nothing; such terms are
  matched with a word-bounded, case-insensitive ``REGEXP`` instead.

Hits are ordered by relevance, then date (newest first), then message id.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    Select,
    and_,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    not_,
    select,
)
from sqlalchemy.dialects.mysql import match as mysql_match
from sqlalchemy.sql import column, table
from sqlalchemy.sql.elements import ColumnElement

from tgpilot.core.errors import UsageError
from tgpilot.store.engine import CASEFOLD_FUNCTION
from tgpilot.store.records import SearchHit
from tgpilot.store.schema import MESSAGES_FTS, TS_CONFIG, messages, users
from tgpilot.store.types import as_utc
from tgpilot.store.urls import Backend

_WORD = re.compile(r"\w+")
_HAS_WORD = re.compile(r"[^\W_]")

INNODB_MIN_TOKEN_SIZE = 3
INNODB_DEFAULT_STOPWORDS = frozenset(
    {"a", "about", "an", "are", "as", "at", "be", "by", "com", "de", "en", "for", "from"}
    | {"how", "i", "in", "is", "it", "la", "of", "on", "or", "that", "the", "this", "to"}
    | {"was", "what", "when", "where", "who", "will", "with", "und", "www"}
)


@dataclass(frozen=True)
class SearchQuery:
    """A parsed portable query: terms that must occur and terms that must not."""

    include: tuple[str, ...]
    exclude: tuple[str, ...]


def parse_query(query: str) -> SearchQuery:
    """Split ``query`` into included and excluded terms (words or quoted phrases)."""
    include: list[str] = []
    exclude: list[str] = []
    i, n = 0, len(query)
    while i < n:
        if query[i].isspace():
            i += 1
            continue
        negative = False
        if query[i] in "-+":
            negative = query[i] == "-"
            i += 1
            if i >= n or query[i].isspace():
                continue
        if query[i] == '"':
            end = query.find('"', i + 1)
            end = n if end < 0 else end
            term = query[i + 1 : end]
            i = end + 1
        else:
            start = i
            while i < n and not query[i].isspace():
                i += 1
            term = query[start:i]
        term = " ".join(term.split())
        if _HAS_WORD.search(term):
            (exclude if negative else include).append(term)
    if not include:
        what = "only excludes words" if exclude else "has no word to search for"
        raise UsageError(
            f"search query {query.strip()!r} {what}",
            hint='give at least one word or "phrase" to find; -word excludes',
        )
    return SearchQuery(tuple(include), tuple(exclude))


@dataclass(frozen=True)
class SearchFilters:
    """The filters of a search besides the text query."""

    chat_ids: Sequence[int] | None = None
    sender: int | str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50


@dataclass(frozen=True)
class FulltextRules:
    """What MariaDB/MySQL's InnoDB full-text index holds (read once from the server)."""

    min_token_size: int = INNODB_MIN_TOKEN_SIZE
    stopwords: frozenset[str] = INNODB_DEFAULT_STOPWORDS

    def indexed(self, term: str) -> bool:
        """True if InnoDB can find ``term`` by its index (it has an indexed word)."""
        return any(
            len(word) >= self.min_token_size and word.lower() not in self.stopwords
            for word in _WORD.findall(term)
        )


# --------------------------------------------------------------------------- per backend


def fts5_match(query: SearchQuery) -> str:
    """The FTS5 MATCH expression: every term a quoted string (``"`` doubled)."""

    def quoted(term: str) -> str:
        return '"' + term.replace('"', '""') + '"'

    expression = " AND ".join(quoted(t) for t in query.include)
    if query.exclude:
        expression = f"({expression})" + "".join(f" NOT {quoted(t)}" for t in query.exclude)
    return expression


def mysql_phrase(term: str) -> str:
    """``term`` as a double-quoted InnoDB phrase of its words (operators removed)."""
    return '"' + " ".join(_WORD.findall(term)) + '"'


def word_pattern(term: str) -> str:
    r"""A regular expression matching ``term``'s words in sequence, on word boundaries."""
    return r"\b" + r"\W+".join(_WORD.findall(term)) + r"\b"


_FTS = table(MESSAGES_FTS, column("rowid"))
_TS_CONFIG: ColumnElement[Any] = literal_column(f"'{TS_CONFIG}'::regconfig")


def _base(rank: ColumnElement[Any]) -> Select[Any]:
    return select(
        messages.c.chat_id,
        messages.c.message_id,
        messages.c.date,
        messages.c.sender_name,
        messages.c.text,
        rank.label("relevance"),
    )


def _sqlite(query: SearchQuery) -> Select[Any]:
    fts_table: ColumnElement[Any] = literal_column(MESSAGES_FTS)
    rank = cast(-func.bm25(fts_table), Float)
    return (
        _base(rank)
        .select_from(
            _FTS.join(messages, _FTS.c.rowid == literal_column("messages.rowid")).outerjoin(
                users, users.c.id == messages.c.sender_id
            )
        )
        .where(fts_table.op("MATCH")(bindparam("fts_query", fts5_match(query))))
    )


def _postgresql(query: SearchQuery) -> Select[Any]:
    def phrase(term: str) -> ColumnElement[Any]:
        return func.phraseto_tsquery(_TS_CONFIG, literal(term))

    tsquery = phrase(query.include[0])
    for term in query.include[1:]:
        tsquery = func.tsquery_and(tsquery, phrase(term))
    for term in query.exclude:
        tsquery = func.tsquery_and(tsquery, func.tsquery_not(phrase(term)))
    document = func.to_tsvector(_TS_CONFIG, messages.c.text)
    rank = cast(func.ts_rank(document, tsquery), Float)
    return (
        _base(rank)
        .select_from(messages.outerjoin(users, users.c.id == messages.c.sender_id))
        .where(document.op("@@")(tsquery))
    )


def _mysql(query: SearchQuery, rules: FulltextRules) -> Select[Any]:
    required = [t for t in query.include if rules.indexed(t)]
    excluded = [t for t in query.exclude if rules.indexed(t)]
    conditions: list[ColumnElement[bool]] = []
    conditions += [
        messages.c.text.regexp_match(word_pattern(t)) for t in query.include if not rules.indexed(t)
    ]
    conditions += [
        not_(messages.c.text.regexp_match(word_pattern(t)))
        for t in query.exclude
        if not rules.indexed(t)
    ]
    rank: ColumnElement[Any]
    if required:
        against = " ".join(
            [f"+{mysql_phrase(t)}" for t in required] + [f"-{mysql_phrase(t)}" for t in excluded]
        )
        matched = mysql_match(messages.c.text, against=literal(against)).in_boolean_mode()
        rank = cast(matched, Float)
        conditions.append(matched)
    else:
        rank = cast(literal(0), Float)
        if excluded:
            any_excluded = " ".join(mysql_phrase(t) for t in excluded)
            unwanted = mysql_match(messages.c.text, against=literal(any_excluded))
            conditions.append(not_(unwanted.in_boolean_mode()))
    return (
        _base(rank)
        .select_from(messages.outerjoin(users, users.c.id == messages.c.sender_id))
        .where(and_(*conditions))
    )


def _folded(backend: Backend, value: ColumnElement[Any]) -> ColumnElement[Any]:
    if backend == "sqlite":
        return getattr(func, CASEFOLD_FUNCTION)(value)  # type: ignore[no-any-return]
    return func.lower(value)


def _fold(backend: Backend, text: str) -> str:
    return text.casefold() if backend == "sqlite" else text.lower()


def sender_condition(backend: Backend, sender: int | str) -> ColumnElement[bool]:
    """The §4.2 matcher: an integer id, ``@username`` exactly, else a substring of the
    sender's name or username; case-folded."""
    if isinstance(sender, int):
        return messages.c.sender_id == sender
    wanted = sender.strip()
    if re.fullmatch(r"-?\d+", wanted):
        return messages.c.sender_id == int(wanted)
    if wanted.startswith("@"):
        return _folded(backend, users.c.username) == _fold(backend, wanted[1:])
    needle = _fold(backend, wanted)
    return _folded(backend, messages.c.sender_name).contains(needle, autoescape=True) | _folded(
        backend, users.c.username
    ).contains(needle, autoescape=True)


def search_statement(
    backend: Backend,
    query: SearchQuery,
    filters: SearchFilters,
    rules: FulltextRules | None = None,
) -> Select[Any]:
    """The SELECT of ``search --archive`` on ``backend``, ranked and limited."""
    if backend == "sqlite":
        statement = _sqlite(query)
    elif backend == "postgresql":
        statement = _postgresql(query)
    else:
        statement = _mysql(query, rules or FulltextRules())
    if filters.chat_ids is not None:
        statement = statement.where(messages.c.chat_id.in_(list(filters.chat_ids)))
    if filters.sender is not None:
        statement = statement.where(sender_condition(backend, filters.sender))
    if filters.since is not None:
        statement = statement.where(messages.c.date >= as_utc(filters.since))
    if filters.until is not None:
        statement = statement.where(messages.c.date < as_utc(filters.until))
    statement = statement.order_by(
        literal_column("relevance").desc(),
        messages.c.date.desc(),
        messages.c.message_id.desc(),
        messages.c.chat_id.desc(),
    )
    if filters.limit:
        statement = statement.limit(filters.limit)
    return statement


def hit_from_row(row: Any) -> SearchHit:
    return SearchHit(
        chat_id=int(row.chat_id),
        message_id=int(row.message_id),
        date=row.date,
        sender_name=row.sender_name,
        text=row.text or "",
        rank=float(row.relevance or 0.0),
    )
