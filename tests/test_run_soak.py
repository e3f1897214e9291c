"""A short soak of ``tgpilot run``: 200 messages across 10 chats (plus a denied user, a
bot, a group and blank messages) — every eligible message answered exactly once, no
other ever, no handler failure. ``bench/run_soak.py`` runs the long one."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.llm.server import FakeLLMServer
from tests.run_support import soak


async def test_200_messages_across_10_chats_are_each_answered_once(tmp_path: Path) -> None:
    with FakeLLMServer() as llm:
        result = await soak(tmp_path, llm, messages=200, chats=10)
    assert result.eligible > 100
    assert result.unanswered == 0
    assert result.answered == result.eligible
    assert result.answered_twice == 0
    assert result.ineligible_answered == 0
    assert result.handler_failures == 0
    assert result.replies == result.llm_requests == len(result.overheads)
    assert result.ok
