"""``archive sync --media`` and how ``export --archive`` links stored media files.

Spec telegram-cli §3.3 (``--media TYPES``) with the media rules of §3.2: files go to
``<data dir>/media/<chat id>/``, their absolute paths are stored with the messages,
and an archive export shows them exactly as a live export shows downloaded files.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.fakes.telegram import FakeTelegram, document, photo, video
from tests.harness import Cli
from tgpilot.store import Store
from tgpilot.store.schema import messages as messages_table

T0 = datetime(2025, 1, 2, 3, 4, tzinfo=UTC)
CLUB_ID = -1001234567890
TEXT_MESSAGES = range(5, 151)
"""Enough text between the old media and the newest photo that the old ones lie
beyond the newest history page (what a catch-up re-reads)."""


def media_world() -> FakeTelegram:
    world = FakeTelegram()
    world.add_me(1000, "Me", phone="+15150001000")
    alice = world.add_user(1001, "Alice")
    club = world.add_supergroup(1234567890, "Book Club", "bookclub", members=[alice])

    def at(n: int) -> datetime:
        return T0 + timedelta(minutes=n)

    world.add_message(club, 1, date=at(1), sender=alice, text="cover", media=photo(200_000))
    world.add_message(club, 2, date=at(2), sender=alice, media=video(100_000))
    world.add_message(club, 3, date=at(3), sender=alice, media=document(10_000, "notes.pdf"))
    world.add_message(club, 4, date=at(4), sender=alice, media=photo(3_000_000))
    for n in TEXT_MESSAGES:
        world.add_message(club, n, date=at(n), sender=alice, text=f"message {n}")
    world.add_message(club, 151, date=at(151), sender=alice, media=photo(50_000))
    return world


@pytest.fixture
def cli(make_cli: Callable[..., Cli]) -> Cli:
    return make_cli(media_world())


def media_folder(cli: Cli) -> Path:
    return cli.home / "media" / str(CLUB_ID)


def stored_media(store_url: str) -> dict[int, tuple[str | None, int | None]]:
    """``message_id → (media_path, media_size)`` of the club's rows with media."""

    async def read() -> dict[int, tuple[str | None, int | None]]:
        async with await Store.open(store_url) as store, store.engine.connect() as conn:
            result = await conn.execute(
                select(
                    messages_table.c.message_id,
                    messages_table.c.media_path,
                    messages_table.c.media_size,
                ).where(
                    messages_table.c.chat_id == CLUB_ID, messages_table.c.media_type.is_not(None)
                )
            )
            return {int(r.message_id): (r.media_path, r.media_size) for r in result}

    return asyncio.run(read())


def default_store(cli: Cli) -> str:
    return f"sqlite:///{cli.home / 'tgpilot.db'}"


def test_sync_media_photo_downloads_only_photos_within_the_size_limit(cli: Cli) -> None:
    result = cli(
        "archive", "sync", "bookclub", "--media", "photo", "--max-media-size", "1MB", "--json"
    )
    assert result.code == 0, result.err
    (row,) = result.json()
    assert row["inserted"] == 151
    assert row["media"] == {
        "downloaded": 2,
        "already_present": 0,
        "failed": 0,
        "skipped": {"type not selected": 2, "too large": 1},
    }
    folder = media_folder(cli)
    assert sorted(p.name for p in folder.iterdir()) == ["151_photo.jpg", "1_photo.jpg"]
    assert (folder / "1_photo.jpg").stat().st_size == 200_000
    assert cli.world.requests["GetFileRequest"] > 0
    # the history pages already held what the downloads need: no message is fetched again
    assert cli.world.requests["GetMessagesRequest"] == 0
    media = stored_media(default_store(cli))
    assert media[1] == (str(folder / "1_photo.jpg"), 200_000)
    assert media[151] == (str(folder / "151_photo.jpg"), 50_000)
    assert media[2] == (None, 100_000) and media[3] == (None, 10_000)
    assert media[4] == (None, 3_000_000)


def test_rerun_downloads_nothing_new(cli: Cli) -> None:
    args = ("archive", "sync", "bookclub", "--media", "photo", "--max-media-size", "1MB")
    assert cli(*args).code == 0
    before = {p.name: p.stat().st_mtime_ns for p in media_folder(cli).iterdir()}
    cli.world.reset_counts()
    again = cli(*args, "--json")
    assert again.code == 0, again.err
    (row,) = again.json()
    assert (row["inserted"], row["updated"], row["unchanged"]) == (0, 0, 151)
    assert row["media"]["downloaded"] == 0 and row["media"]["already_present"] == 1
    assert cli.world.requests["GetFileRequest"] == 0
    assert cli.world.requests["GetHistoryRequest"] == 1
    assert {p.name: p.stat().st_mtime_ns for p in media_folder(cli).iterdir()} == before


def test_media_asked_for_later_fetches_the_stored_messages_by_id(cli: Cli) -> None:
    assert cli("archive", "sync", "bookclub").code == 0
    assert not (cli.home / "media").exists()
    cli.world.reset_counts()
    result = cli("archive", "sync", "bookclub", "--media", "photo", "--json")
    assert result.code == 0, result.err
    assert result.json()[0]["media"]["downloaded"] == 3
    names = sorted(p.name for p in media_folder(cli).iterdir())
    assert names == ["151_photo.jpg", "1_photo.jpg", "4_photo.jpg"]
    # 151 came with the re-read newest page; 1 and 4 in one lookup by id
    assert cli.world.requests["GetMessagesRequest"] == 1
    assert cli.world.requests["GetHistoryRequest"] == 1


def test_failed_download_exits_3_keeps_every_row_and_the_next_run_fetches_it(
    make_cli: Callable[..., Cli], store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TGPILOT_STORE__URL", store_url)
    cli = make_cli(media_world())
    cli.world.faults.fail("GetFileRequest", every=1, error="FILE_ID_INVALID")
    args = ("archive", "sync", "bookclub", "--media", "photo", "--max-media-size", "1MB")
    broken = cli(*args, "--json")
    assert broken.code == 3, broken.err
    (row,) = broken.json()
    assert row["error"] is None and row["stored"] == 151
    assert row["media"]["failed"] == 2 and row["media"]["downloaded"] == 0
    assert "media of #1 not downloaded" in broken.err
    assert stored_media(store_url)[1] == (None, 200_000)

    cli.world.faults.clear()
    cli.world.reset_counts()
    fixed = cli(*args, "--json")
    assert fixed.code == 0, fixed.err
    assert fixed.json()[0]["media"]["downloaded"] == 2
    folder = media_folder(cli)
    assert stored_media(store_url)[1] == (str(folder / "1_photo.jpg"), 200_000)
    assert cli.world.requests["GetMessagesRequest"] == 1


@pytest.mark.parametrize("fmt", ["md", "transcript", "json", "jsonl", "csv"])
def test_archive_export_links_stored_files_exactly_as_a_live_export(
    cli: Cli, tmp_path: Path, fmt: str
) -> None:
    media = ("--media", "photo", "--max-media-size", "1MB")
    assert cli("archive", "sync", "bookclub", *media).code == 0
    exports = tmp_path / "exports"
    archived, live = exports / f"archive.{fmt}", exports / f"live.{fmt}"
    from_archive = cli(
        "export", "bookclub", "--archive", "--format", fmt, "--limit", "0", "--out", str(archived)
    )
    assert from_archive.code == 0, from_archive.err
    cli.world.reset_counts()
    from_telegram = cli(
        "export", "bookclub", "--format", fmt, "--limit", "0", "--out", str(live),
        *media, "--media-dir", str(media_folder(cli)),
    )  # fmt: skip
    assert from_telegram.code == 0, from_telegram.err
    assert cli.world.requests["GetFileRequest"] == 0  # the synced files were kept
    assert archived.read_text(encoding="utf-8") == live.read_text(encoding="utf-8")
    relative = os.path.relpath(media_folder(cli) / "1_photo.jpg", exports)
    assert relative.startswith("..") and relative in archived.read_text(encoding="utf-8")


def test_archive_export_markers_and_a_missing_stored_file(cli: Cli, tmp_path: Path) -> None:
    assert cli("archive", "sync", "bookclub", "--media", "photo").code == 0
    (media_folder(cli) / "151_photo.jpg").unlink()
    out = tmp_path / "club.md"
    result = cli("export", "bookclub", "--archive", "--limit", "0", "--out", str(out))
    assert result.code == 0, result.err
    text = out.read_text(encoding="utf-8")
    cover = os.path.relpath(media_folder(cli) / "1_photo.jpg", tmp_path)
    assert f"cover\n[photo: {cover}]\n" in text
    assert "#2):\n[video]\n" in text and "#151):\n[photo]\n" in text
    assert "stored file missing 1" in result.err
    jsonl = tmp_path / "club.jsonl"
    assert (
        cli("export", "bookclub", "--archive", "--format", "jsonl", "--out", str(jsonl)).code == 0
    )
    rows = {r["message_id"]: r for r in map(json.loads, jsonl.read_text().splitlines())}
    assert rows[1]["media_path"] == cover and rows[1]["media_type"] == "photo"
    assert rows[2]["media_path"] is None and rows[2]["media_type"] == "video"


@pytest.mark.parametrize("mode", ["link", "copy"])
def test_desktop_imported_media_render_like_synced_media(
    make_cli: Callable[..., Cli], tmp_path: Path, mode: str
) -> None:
    cli = make_cli(FakeTelegram(), logged_in=False)
    folder = tmp_path / "ChatExport"
    (folder / "photos").mkdir(parents=True)
    (folder / "photos" / "photo_1.jpg").write_bytes(b"jpeg" * 100)
    when = T0.strftime("%Y-%m-%dT%H:%M:%S")
    unix = str(int(T0.timestamp()))
    document_ = {
        "name": "Book Club",
        "type": "public_supergroup",
        "id": 1234567890,
        "messages": [
            {"id": 1, "type": "message", "date": when, "date_unixtime": unix,
             "from": "Alice", "from_id": "user1001", "photo": "photos/photo_1.jpg",
             "photo_file_size": 400, "text": "cover", "text_entities": []},
        ],
    }  # fmt: skip
    (folder / "result.json").write_text(json.dumps(document_), encoding="utf-8")
    imported = cli("import", str(folder), "--media", mode)
    assert imported.code == 0, imported.err
    stored = (
        folder / "photos" / "photo_1.jpg"
        if mode == "link"
        else cli.home / "media" / str(CLUB_ID) / "photos" / "photo_1.jpg"
    )
    out = tmp_path / "out" / "club.md"
    result = cli("export", str(CLUB_ID), "--archive", "--out", str(out))
    assert result.code == 0, result.err
    relative = os.path.relpath(stored.resolve(), out.parent)
    assert f"cover\n[photo: {relative}]\n" in out.read_text(encoding="utf-8")


def test_bad_media_options_are_usage_errors(cli: Cli) -> None:
    assert cli("archive", "sync", "bookclub", "--media", "holograms").code == 2
    assert (
        cli("archive", "sync", "bookclub", "--media", "photo", "--max-media-size", "big").code == 2
    )
    assert cli.world.requests["GetHistoryRequest"] == 0
