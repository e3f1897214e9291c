"""The §4.2 sender matcher: ``@name`` exact username, integer id, else name/username substring.

Spec telegram-cli §4.2 and the matcher part of scenario 27.
"""

from __future__ import annotations

import pytest

from tgpilot.core.errors import UsageError
from tgpilot.models import Sender
from tgpilot.services.matching import MatchKind, SenderMatcher, contains_folded, fold

ALICE = Sender(id=12345, name="Alice Smith", username="alice")
BOB = Sender(id=67890, name="Bob", username="bobby_b")
ALICE_B = Sender(id=222, name="Bob Two", username="alice_b")
CHANNEL = Sender(id=-1001234567890, name="Team News", username=None)
NO_USERNAME = Sender(id=333, name="Ålice Ünder", username=None)


def matching(text: str, *senders: Sender | None) -> list[str]:
    matcher = SenderMatcher.parse(text)
    return [s.name for s in senders if s is not None and matcher.matches(s)]


def test_scenario_27_matchers() -> None:
    everyone = (ALICE, BOB)
    assert matching("12345", *everyone) == ["Alice Smith"]
    assert matching("@Alice", *everyone) == ["Alice Smith"]
    assert matching("ali", *everyone) == ["Alice Smith"]


def test_at_name_is_an_exact_username_only() -> None:
    senders = (ALICE, BOB, ALICE_B, NO_USERNAME)
    assert matching("@alice", *senders) == ["Alice Smith"]
    assert matching("@ALICE", *senders) == ["Alice Smith"]
    assert matching("@@alice", *senders) == ["Alice Smith"]
    assert matching("@ali", *senders) == []  # not a substring match
    assert matching("@Alice Smith", *senders) == []  # names do not count


def test_integer_is_a_sender_id_never_a_name() -> None:
    named_digits = Sender(id=1, name="Agent 12345", username=None)
    assert matching("12345", ALICE, named_digits) == ["Alice Smith"]
    assert matching("-1001234567890", ALICE, CHANNEL) == ["Team News"]
    assert SenderMatcher.parse(" 42 ").kind is MatchKind.ID


def test_substring_is_case_folded_over_name_and_username() -> None:
    senders = (ALICE, BOB, ALICE_B, NO_USERNAME)
    assert matching("SMITH", *senders) == ["Alice Smith"]
    assert matching("bobby", *senders) == ["Bob"]  # username
    assert matching("alice", *senders) == ["Alice Smith", "Bob Two"]  # name or username
    assert matching("ålice", *senders) == ["Ålice Ünder"]
    assert fold("Straße") == fold("STRASSE")


def test_no_sender_or_no_id_never_matches_by_id() -> None:
    matcher = SenderMatcher.parse("12345")
    assert not matcher.matches(None)
    assert not matcher.matches(Sender(id=None, name="12345"))
    assert not SenderMatcher.parse("ali").matches(None)


@pytest.mark.parametrize("text", ["", "   ", "@", "@@"])
def test_empty_matchers_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        SenderMatcher.parse(text)


def test_describe_and_contains_folded() -> None:
    assert SenderMatcher.parse("@Alice").describe() == "username @Alice"
    assert SenderMatcher.parse("7").describe() == "sender id 7"
    assert "ali" in SenderMatcher.parse("ali").describe()
    assert contains_folded("ALI", None, "", "alice")
    assert not contains_folded("zed", None, "alice")
