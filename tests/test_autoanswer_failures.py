"""The auto-responder when things go wrong: the model fails (the placeholder goes,
nothing is sent), Telegram asks to wait (intermediate edits are skipped, the final one
waits), and drafts nobody decides on expire."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.llm.replies import Reply
from tests.fakes.llm.server import FakeLLMServer
from tests.run_support import ALICE, SCENARIO_START, make_world, running_host, settings, settle
from tgpilot.store import Store
from tgpilot.store.autoanswer import AutoanswerRepository


@pytest.fixture
def llm() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


async def test_on_llm_failure_the_placeholder_is_deleted_and_nothing_is_sent(
    tmp_path: Path, llm: FakeLLMServer
) -> None:
    clock = FakeClock(SCENARIO_START)
    world = make_world()
    llm.script(Reply.error(400, "bad request"))
    async with running_host(world, tmp_path, llm, clock=clock) as run:
        world.add_message(ALICE, text="Как дела?", date=clock.now())
        await settle(lambda: any(a["result"] == "failed" for a in run.audit()))
    assert run.outgoing(ALICE) == []
    assert world.requests_qualified["messages.SendMessageRequest"] == 1  # the placeholder
    assert world.requests_qualified["messages.DeleteMessagesRequest"] == 1
    [line] = run.audit()
    assert (line["action"], line["result"]) == ("telegram.autoanswer.reply", "failed")
    assert "400" in line["error"]


async def test_flood_waits_skip_intermediate_edits_and_the_final_edit_waits(
    tmp_path: Path, llm: FakeLLMServer
) -> None:
    world = make_world()
    deltas = [f"часть{n} " for n in range(8)]
    llm.script(Reply.stream(deltas, delay=0.15))
    world.faults.fail("EditMessageRequest", nth=1, error="FLOOD_WAIT_1")  # an intermediate edit
    world.faults.fail("EditMessageRequest", nth=2, error="FLOOD_WAIT_1")  # the final edit
    async with running_host(world, tmp_path, llm, answer=settings(edit_interval_s=0.3)) as run:
        world.add_message(ALICE, text="Расскажи", date=datetime.now(UTC))
        full = "".join(deltas).strip()
        await settle(lambda: any(m.text == full for m in run.outgoing(ALICE)), timeout=30)
    assert world.requests["EditMessageRequest"] == 3  # skipped, flooded final, final again
    assert run.responder is not None and run.responder.failures == 0
    assert [a["result"] for a in run.audit()] == ["ok"]


async def test_pending_drafts_expire_after_24_hours(tmp_path: Path) -> None:
    now = SCENARIO_START
    async with await Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
        repository = AutoanswerRepository(store)
        draft_id = await repository.add_draft(
            chat_id=ALICE, chat_title="Alice", reply_to_id=5, source_ids=[5], text="Ок",
            now=now, expires_at=now + timedelta(hours=24),
        )  # fmt: skip
        assert await repository.expire_drafts(now + timedelta(hours=23)) == 0
        assert await repository.expire_drafts(now + timedelta(hours=24)) == 1
        expired = await repository.draft(draft_id)
        assert expired is not None and expired.status == "expired"
        assert not await repository.move_draft(draft_id, ("pending",), "approved", now)
