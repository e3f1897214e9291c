"""The shipped sample Telegram Desktop export (``sample/desktop_export/``): generated
deterministically, committed up to date, commit-sized, holding what its generator
promises, and imported whole into the embedded store with no account."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sample.desktop_export import generate
from tests.fakes.clock import FakeClock
from tgpilot.models import ChatType, Message
from tgpilot.services.desktop_import import import_desktop_export
from tgpilot.store import Store

SHIPPED = Path(generate.__file__).with_name("result.json")
CHAT_ID = -(1_000_000_000_000 + generate.CHAT_ID)
CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
LATIN_WORD = re.compile(r"\b[a-z]{4,}\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(SHIPPED.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_generator_is_deterministic_and_the_shipped_file_is_current(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "result.json", tmp_path / "b" / "result.json"
    assert generate.main([str(first)]) == 0
    assert generate.main([str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() == SHIPPED.read_bytes(), (
        "sample/desktop_export/result.json is stale: run python -m sample.desktop_export.generate"
    )


def test_sample_is_commit_sized_and_in_desktop_layout(document: dict[str, Any]) -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    assert SHIPPED.stat().st_size < 3_000_000
    assert text == json.dumps(document, ensure_ascii=False, indent=1) + "\n"
    assert list(document) == ["name", "type", "id", "messages"]
    assert (document["name"], document["type"], document["id"]) == (
        generate.TITLE,
        "public_supergroup",
        generate.CHAT_ID,
    )


def test_sample_holds_a_realistic_multi_month_group_chat(document: dict[str, Any]) -> None:
    messages = document["messages"]
    assert len(messages) == 5000
    ids = [m["id"] for m in messages]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    dates = [int(m["date_unixtime"]) for m in messages]
    assert dates == sorted(dates)
    months = {m["date"][:7] for m in messages}
    assert months == {f"2025-{n:02d}" for n in range(3, 9)}
    kinds: Counter[str] = Counter()
    for m in messages:
        text = m["text"] if isinstance(m["text"], str) else "".join(
            p if isinstance(p, str) else p["text"] for p in m["text"]
        )  # fmt: skip
        kinds["cyrillic"] += bool(CYRILLIC.search(text))
        kinds["latin"] += bool(LATIN_WORD.search(text)) and not CYRILLIC.search(text)
        kinds["service"] += m["type"] == "service"
        kinds["reply"] += "reply_to_message_id" in m
        kinds["forward"] += "forwarded_from" in m
        kinds["edited"] += "edited" in m
        kinds["entities"] += isinstance(m["text"], list)
        kinds["photo"] += m["type"] == "message" and "photo" in m
        kinds["poll"] += "poll" in m
        kinds["signed"] += "author" in m
        kinds["not_included"] += generate.NOT_INCLUDED in (m.get("photo"), m.get("file"))
        if "file" in m:
            kinds[m.get("media_type", "document")] += 1
        for reaction in m.get("reactions", ()):
            kinds[f"reaction:{reaction['type']}"] += 1
        if m["type"] == "service":
            kinds[f"action:{m['action']}"] += 1
    assert kinds["cyrillic"] > 2000 and kinds["latin"] > 500
    assert kinds["reply"] > 1000 and kinds["forward"] > 30 and kinds["edited"] > 50
    assert kinds["entities"] > 100 and kinds["poll"] >= 5 and kinds["signed"] > 5
    for media_type in ("sticker", "voice_message", "video_message", "video_file", "animation",
                       "audio_file", "document"):  # fmt: skip
        assert kinds[media_type] > 0, media_type
    assert kinds["photo"] > 100 and kinds["not_included"] > 1000
    for reaction in ("emoji", "custom_emoji", "paid"):
        assert kinds[f"reaction:{reaction}"] > 0, reaction
    actions = ("create_channel", "invite_members", "join_group_by_link", "remove_members",
               "edit_group_title", "edit_group_photo", "pin_message", "group_call")  # fmt: skip
    for action in actions:
        assert kinds[f"action:{action}"] > 0, action
    assert kinds["service"] >= 20


async def test_sample_imports_into_the_embedded_store(
    tmp_path: Path, document: dict[str, Any]
) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'tgpilot.db'}")
    try:
        summary = await import_desktop_export(
            SHIPPED.parent, store, tz=ZoneInfo("UTC"), home=tmp_path / "home", clock=FakeClock()
        )
        assert summary.describe() == (
            "chats 1; messages inserted 5000, updated 0, unchanged 0, skipped 0"
        )
        record = await store.chat_record(CHAT_ID)
        assert record is not None
        assert (record.type, record.title, record.source) == (
            ChatType.SUPERGROUP,
            generate.TITLE,
            "import",
        )
        assert await store.count_messages(CHAT_ID) == 5000
        rows: list[Message] = [m async for m in store.iter_messages(CHAT_ID, newest_first=False)]
        assert [m.id for m in rows] == [m["id"] for m in document["messages"]]
        service = [m for m in rows if m.is_service]
        assert len(service) == sum(1 for m in document["messages"] if m["type"] == "service")
        assert all(m.service_action for m in service)
        media = Counter(m.media_type for m in rows if m.media_type)
        assert set(media) == {
            "photo", "sticker", "voice", "round", "video", "animation", "audio", "document",
            "other",
        }  # fmt: skip
        assert all(m.sender is not None for m in rows)
        assert any(m.sender is not None and m.sender.name.startswith("User ") for m in rows)
        assert sum(m.reactions_total for m in rows) > 2000
        hits = await store.search("Пикник", chat_ids=[CHAT_ID])
        assert hits
        again = await import_desktop_export(
            SHIPPED, store, tz=ZoneInfo("UTC"), home=tmp_path / "home", clock=FakeClock()
        )
        assert again.describe() == (
            "chats 1; messages inserted 0, updated 0, unchanged 5000, skipped 0"
        )
    finally:
        await store.close()
