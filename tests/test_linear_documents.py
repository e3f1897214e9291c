"""Every GraphQL document of the Linear gateway is valid against Linear's published
schema (spec §1.1) — including documents other modules add to ``queries/`` later."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import FragmentDefinitionNode, parse, validate

from tests.fakes.linear.graph import linear_schema
from tgpilot.gateways.linear.documents import (
    FRAGMENTS_DIR,
    DocumentError,
    check_document,
    document_files,
    load_document,
    queries_dir,
)

DOCUMENTS = document_files()
FRAGMENTS = sorted((queries_dir() / FRAGMENTS_DIR).glob("*.graphql"))


def test_the_gateway_ships_documents() -> None:
    names = {p.stem for p in DOCUMENTS}
    assert {"IssueCreate", "IssueUpdate", "IssueGet", "Issues", "SearchIssues"} <= names
    assert {"TeamByKey", "Labels", "TeamStates", "TeamProjects", "TeamMembers"} <= names


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_document_is_valid_against_the_published_schema(path: Path) -> None:
    text = load_document(path.stem)
    problems = validate(linear_schema(), parse(text))
    assert [p.message for p in problems] == []


@pytest.mark.parametrize("path", FRAGMENTS, ids=lambda p: p.name)
def test_fragment_file_holds_one_fragment_named_like_the_file(path: Path) -> None:
    (definition,) = parse(path.read_text(encoding="utf-8")).definitions
    assert isinstance(definition, FragmentDefinitionNode)
    assert definition.name.value == path.stem


def test_team_lookup_by_key_uses_a_teams_filter() -> None:
    text = load_document("TeamByKey")
    assert "teams(filter: { key: { eq: $key } })" in text


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("query Other { viewer { id } }", "expected 'Sample'"),
        ("query Sample { viewer { id } } query Two { viewer { id } }", "2 operations"),
        ("{ viewer { id } }", "named None"),
        ("query Sample {", "Sample.graphql"),
    ],
)
def test_a_document_must_be_one_operation_named_like_its_file(text: str, problem: str) -> None:
    with pytest.raises(DocumentError, match=problem):
        check_document(Path("Sample.graphql"), text)


def test_unknown_document_is_a_document_error() -> None:
    with pytest.raises(DocumentError, match="NoSuchOperation"):
        load_document("NoSuchOperation")
