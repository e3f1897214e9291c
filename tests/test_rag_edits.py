"""``rag index`` after the archive changed underneath it (spec ai.md §4.9, §4.11): an
edited message that is already indexed is re-chunked and re-embedded by a normal
incremental run — only the chunks around it, no ``--rebuild``, its stale points
replaced — and ``with_transcripts`` adds (or takes away) voice messages' transcripts
the same way. Every incremental result is compared with a fresh index of the same
archive: same point ids, same texts."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tgpilot.gateways.llm.embeddings import HashBackend, TextEmbedder
from tgpilot.gateways.vectors.qdrant import VectorStore
from tgpilot.models import Chat, ChatType, Message, Sender
from tgpilot.services.rag.archive import StoreArchive
from tgpilot.services.rag.index import ArchiveIndexer, IndexReport, IndexSettings, IndexState
from tgpilot.store import Store
from tgpilot.store.message_changes import MessageChanges
from tgpilot.store.transcripts import TranscriptRepository

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
CHAT = Chat(-1001862000001, 1862000001, ChatType.SUPERGROUP, "Garden club")
ANNA = Sender(101, "Anna")
BORIS = Sender(102, "Boris")
SETTINGS = IndexSettings(chunk_tokens=24, gap_minutes=30)
VOICE_ID = 12
SECOND_TALK = 20


def words(text: str) -> int:
    return len(text.split())


def when(n: int) -> datetime:
    """Two conversations a minute apart per message, two hours between them."""
    return T0 + timedelta(minutes=n + (120 if n > SECOND_TALK else 0))


def garden_messages(count: int = 40) -> list[Message]:
    """Message 12 is a voice message without a caption; 21 on is the second talk."""
    found = []
    for n in range(1, count + 1):
        sender = ANNA if n % 2 else BORIS
        if n == VOICE_ID:
            found.append(Message(CHAT.id, n, when(n), "", sender, media_type="voice"))
            continue
        text = f"note {n} about tomatoes and watering schedule"
        found.append(Message(CHAT.id, n, when(n), text, sender))
    return found


@dataclass
class Index:
    """One index (its own Qdrant folder and state file) over the shared store."""

    store: Store
    vectors: VectorStore
    state_path: Path
    embedder: TextEmbedder

    async def run(self, *, with_transcripts: bool = False) -> IndexReport:
        indexer = ArchiveIndexer(
            StoreArchive(self.store),
            self.vectors,
            self.embedder,
            IndexState(self.state_path, "local|hash"),
            annotate=lambda _text: ((), "neutral"),
            count_tokens=words,
            settings=SETTINGS,
            changes=MessageChanges(self.store),
            transcripts=TranscriptRepository(self.store),
        )
        return await indexer.index([CHAT], with_transcripts=with_transcripts)

    async def points(self) -> dict[str, str]:
        """Point id → indexed text, of the one collection."""
        (name,) = await self.vectors.collections()
        return {p.id: p.payload["text"] for p in await self.vectors.scroll(name)}


def first_talk(points: dict[str, str]) -> int:
    """How many chunks hold messages of the first conversation."""
    return sum(1 for text in points.values() if first_note(text) <= SECOND_TALK)


def second_talk(points: dict[str, str]) -> dict[str, str]:
    """The chunks that start in the second conversation."""
    return {pid: text for pid, text in points.items() if first_note(text) > SECOND_TALK}


def first_note(text: str) -> int:
    found = re.search(r"note (\d+)", text)
    assert found is not None
    return int(found.group(1))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with await Store.open(f"sqlite:///{tmp_path / 'tgpilot.db'}") as opened:
        await opened.upsert_messages(garden_messages(), fetched_at=T0 + timedelta(days=1))
        yield opened


@pytest.fixture
async def index(store: Store, tmp_path: Path) -> AsyncIterator[Index]:
    async with VectorStore(path=tmp_path / "qdrant") as vectors:
        yield Index(store, vectors, tmp_path / "state.json", TextEmbedder(HashBackend()))


async def fresh(store: Store, tmp_path: Path, *, with_transcripts: bool = False) -> dict[str, str]:
    """The points a first index of the archive as it is now would hold."""
    folder = tmp_path / f"fresh-{len(list(tmp_path.glob('fresh-*')))}"
    async with VectorStore(path=folder / "qdrant") as vectors:
        other = Index(store, vectors, folder / "state.json", TextEmbedder(HashBackend()))
        await other.run(with_transcripts=with_transcripts)
        return await other.points()


async def edit(store: Store, message_id: int, text: str, *, day: int = 2) -> None:
    """What a re-sync stores for an edited message: new text and edit date."""
    original = next(m for m in garden_messages() if m.id == message_id)
    when = T0 + timedelta(days=day)
    edited = replace(original, text=text, edit_date=when)
    await store.upsert_messages([edited], fetched_at=when)


async def test_an_edited_message_is_reembedded_without_rebuild(
    store: Store, index: Index, tmp_path: Path
) -> None:
    first = await index.run()
    before = await index.points()
    assert first.embedded == len(before) > 4
    await edit(store, 5, "note 5 about roses and pruning schedule")  # same length

    report = await index.run()

    after = await index.points()
    assert report.changed == 1
    assert 1 <= report.embedded <= 2  # the chunk(s) holding message 5 (one of overlap)
    assert report.requests == 1
    assert len(after) == len(before)  # replaced, not duplicated
    assert any("roses and pruning" in text for text in after.values())
    assert not any("note 5 about tomatoes" in text for text in after.values())
    changed = {pid for pid in after if after[pid] != before.get(pid)}
    assert len(changed) == report.embedded
    assert after == await fresh(store, tmp_path)
    again = await index.run()
    assert (again.embedded, again.requests, again.changed) == (0, 0, 0)


async def test_an_edit_that_moves_cuts_reaches_only_to_the_next_silence(
    store: Store, index: Index, tmp_path: Path
) -> None:
    await index.run()
    before = await index.points()
    second_talk = {pid for pid, text in before.items() if "note 25 " in text or "note 35" in text}
    await edit(store, 3, "note 3 " + " ".join(f"word{n}" for n in range(12)))
    await edit(store, 30, "note 30 about beans and watering schedule", day=3)  # same length

    report = await index.run()

    after = await index.points()
    assert report.changed == 2
    assert report.replaced >= 1  # cuts moved in the first talk: old ids gone, not kept
    assert second_talk <= set(after)  # the second talk's other chunks stand as they were
    assert all(after[pid] == before[pid] for pid in second_talk)
    assert after == await fresh(store, tmp_path)


async def test_an_edit_in_the_tail_and_new_messages_together(
    store: Store, index: Index, tmp_path: Path
) -> None:
    await index.run()
    newer = [Message(CHAT.id, n, when(n), f"later note {n} on seeds", ANNA) for n in (41, 42, 43)]
    await store.upsert_messages(newer, fetched_at=T0 + timedelta(days=2))
    await edit(store, 8, "note 8 the hose is broken", day=2)
    await edit(store, 39, "note 39 compost ready", day=2)

    report = await index.run()

    assert report.changed == 2  # 39 is in the tail (re-read anyway) and the chunk before
    assert await index.points() == await fresh(store, tmp_path)


async def test_transcripts_join_the_index_only_with_the_option(
    store: Store, index: Index, tmp_path: Path
) -> None:
    await index.run()
    plain = await index.points()
    assert not any("[voice message]" in text for text in plain.values())
    await TranscriptRepository(store).save(
        CHAT.id, VOICE_ID, text="the greenhouse door is stuck", provider="openai",
        model="whisper-1", language=None, now=T0 + timedelta(days=2),
    )  # fmt: skip

    unchanged = await index.run()  # without the option the transcript stays out
    assert (unchanged.embedded, unchanged.requests) == (0, 0)

    added = await index.run(with_transcripts=True)
    spoken = await index.points()
    assert added.changed == 1
    assert 1 <= added.embedded <= first_talk(plain)  # one more message: cuts move, to 20
    assert second_talk(spoken) == second_talk(plain)
    assert any("Boris: [voice message] the greenhouse door is stuck" in t for t in spoken.values())
    assert spoken == await fresh(store, tmp_path, with_transcripts=True)
    again = await index.run(with_transcripts=True)
    assert (again.embedded, again.requests) == (0, 0)

    removed = await index.run()
    assert 1 <= removed.embedded <= first_talk(plain)
    assert await index.points() == plain


async def test_a_transcript_stored_later_is_picked_up_by_the_next_run(
    store: Store, index: Index, tmp_path: Path
) -> None:
    await index.run(with_transcripts=True)
    before = await index.points()
    await TranscriptRepository(store).save(
        CHAT.id, VOICE_ID, text="water the peppers twice", provider="openai",
        model="whisper-1", language="en", now=T0 + timedelta(days=3),
    )  # fmt: skip

    report = await index.run(with_transcripts=True)

    after = await index.points()
    assert report.changed == 1
    assert 1 <= report.embedded <= first_talk(before)
    assert second_talk(after) == second_talk(before)
    assert after == await fresh(store, tmp_path, with_transcripts=True)


async def test_a_change_days_after_the_chunk_before_it(tmp_path: Path) -> None:
    """The voice message follows two days of silence, so no stored chunk of the last day
    holds or precedes it: the run looks at all of the chat's chunks to find where to
    start, and the result is still the fresh index."""
    early = [
        Message(CHAT.id, n, T0 + timedelta(minutes=n), f"note {n} about seedlings", ANNA)
        for n in range(1, 11)
    ]
    later_start = T0 + timedelta(days=2)
    spoken = Message(CHAT.id, 11, later_start, "", BORIS, media_type="voice")
    later = [
        Message(CHAT.id, n, later_start + timedelta(minutes=n), f"note {n} about harvest", ANNA)
        for n in range(12, 30)
    ]
    async with await Store.open(f"sqlite:///{tmp_path / 'far.db'}") as store:
        await store.upsert_messages([*early, spoken, *later], fetched_at=T0 + timedelta(days=5))
        async with VectorStore(path=tmp_path / "qdrant") as vectors:
            index = Index(store, vectors, tmp_path / "state.json", TextEmbedder(HashBackend()))
            await index.run(with_transcripts=True)
            await TranscriptRepository(store).save(
                CHAT.id, 11, text="the frost got the beans", provider="openai",
                model="whisper-1", language="en", now=T0 + timedelta(days=6),
            )  # fmt: skip

            report = await index.run(with_transcripts=True)

            after = await index.points()
        assert report.changed == 1
        assert any("[voice message] the frost got the beans" in t for t in after.values())
        assert after == await fresh(store, tmp_path, with_transcripts=True)
