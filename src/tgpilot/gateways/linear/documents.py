"""The GraphQL documents the Linear gateway sends, loaded from ``queries/*.graphql``.

One named operation per file, and the file stem is the operation's name
(``queries/IssueCreate.graphql`` holds ``mutation IssueCreate(…)``). Fragments may sit
beside the operation in the same file. Any module may add a file; the client sends it
by name (``client.execute("IssueCreate", …)``), and a unit test validates every file
against Linear's published schema.

Shared fragments live in ``queries/fragments/<FragmentName>.graphql``, one fragment per
file; :func:`load_document` appends every fragment an operation spreads (and the ones
those spread), so a field list such as ``IssueFields`` is written once.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from graphql import FragmentSpreadNode, OperationDefinitionNode, parse, visit
from graphql.error import GraphQLSyntaxError
from graphql.language import Visitor

QUERIES_PACKAGE = "tgpilot.gateways.linear"
QUERIES_DIR = "queries"
FRAGMENTS_DIR = "fragments"


class DocumentError(Exception):
    """A ``.graphql`` file is not one named operation matching its file name
    (a programming error, caught by the document test, never a user error)."""


def queries_dir() -> Path:
    """The folder holding the ``.graphql`` files."""
    return Path(str(resources.files(QUERIES_PACKAGE).joinpath(QUERIES_DIR)))


def document_files() -> list[Path]:
    """Every ``.graphql`` file, sorted by name."""
    return sorted(queries_dir().glob("*.graphql"))


def check_document(path: Path, text: str) -> None:
    """Raise :class:`DocumentError` unless ``text`` parses and holds exactly one
    operation, named like the file."""
    try:
        parsed = parse(text)
    except GraphQLSyntaxError as exc:
        raise DocumentError(f"{path.name}: {exc.message}") from exc
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1:
        raise DocumentError(f"{path.name}: {len(operations)} operations, expected one")
    name = operations[0].name.value if operations[0].name else None
    if name != path.stem:
        raise DocumentError(f"{path.name}: operation is named {name!r}, expected {path.stem!r}")


class _Spreads(Visitor):
    """Collects the fragment names a document spreads."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_args: object) -> None:
        self.names.add(node.name.value)


def _spread_names(text: str) -> set[str]:
    spreads = _Spreads()
    visit(parse(text), spreads)
    return spreads.names


def _with_fragments(text: str) -> str:
    """``text`` followed by every fragment it needs, each once."""
    parts = [text]
    seen: set[str] = set()
    pending = _spread_names(text)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        path = queries_dir() / FRAGMENTS_DIR / f"{name}.graphql"
        if not path.is_file():
            raise DocumentError(f"fragment {name!r} has no file {path.name} in {FRAGMENTS_DIR}/")
        fragment = path.read_text(encoding="utf-8")
        parts.append(fragment)
        pending |= _spread_names(fragment) - seen
    return "\n".join(parts)


@cache
def load_document(name: str) -> str:
    """The text of operation ``name`` with its fragments (checked once per process)."""
    path = queries_dir() / f"{name}.graphql"
    if not path.is_file():
        raise DocumentError(f"no GraphQL document {name!r} in {queries_dir()}")
    text = path.read_text(encoding="utf-8")
    check_document(path, text)
    return _with_fragments(text)
