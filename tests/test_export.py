"""``tgpilot export`` on the fake Telegram: selection, windows, media, files, round trips.

Spec telegram-cli §3.2 and scenarios 7, 13, 14, 17, 19.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.telegram import FakeTelegram, photo, video
from tests.harness import Cli

T0 = datetime(2025, 1, 2, 3, 4, tzinfo=UTC)
CLUB = "bookclub"


def club_world(extra: int = 0) -> FakeTelegram:
    world = FakeTelegram()
    world.add_me(1000, "Me", phone="+15550001000")
    alice = world.add_user(1001, "Alice")
    bob = world.add_user(1002, "Bob")
    club = world.add_supergroup(1234567890, "Book Club", "bookclub", members=[alice, bob])
    world.add_message(
        club, 41, text="Hello everyone", date=T0, sender=alice, reactions=[("👍", 2), ("❤", 1)]
    )
    world.add_message(
        club, 42, date=T0 + timedelta(minutes=2), sender=bob, media=photo(200_000), reply_to=41
    )
    for n in range(extra):
        world.add_message(
            club, 100 + n, text=f"bulk {n}", date=T0 + timedelta(hours=1, minutes=n), sender=alice
        )
    return world


@pytest.fixture
def cli(make_cli: Callable[..., Cli]) -> Cli:
    return make_cli(club_world())


def test_markdown_export_golden_body(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "club.md"
    result = cli("--tz", "UTC", "export", CLUB, "--out", str(out))
    assert result.code == 0, result.err
    assert "exported 2 messages to" in result.err
    text = out.read_text(encoding="utf-8")
    body = text.split("---\n\n", 1)[1]
    assert body == (
        "**Alice** (2025-01-02 03:04, #41):\nHello everyone\nReactions: 👍×2 ❤×1\n\n"
        "**Bob** (2025-01-02 03:06, #42, reply to #41):\n[photo]\n\n"
    )
    assert "- Messages: 2\n" in text and " UTC\n" in text


def test_default_output_path_uses_the_safe_title(cli: Cli) -> None:
    result = cli("export", CLUB)
    assert result.code == 0, result.err
    assert (Path.cwd() / "exports" / "Book_Club.md").is_file()


def test_short_flood_on_history_exports_everything(
    make_cli: Callable[..., Cli], tmp_path: Path
) -> None:
    cli = make_cli(club_world(extra=248))
    cli.world.faults.fail("GetHistoryRequest", nth=2, error="FLOOD_WAIT_3")
    out = tmp_path / "club.jsonl"
    result = cli("export", CLUB, "--format", "jsonl", "--out", str(out), "--limit", "250")
    assert result.code == 0, result.err
    assert "rate limited by Telegram: waiting 3 s" in result.err
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 250
    assert cli.world.requests["GetHistoryRequest"] == 4
    ids = [json.loads(line)["message_id"] for line in lines]
    assert ids == sorted(ids)  # oldest first


def test_full_export_costs_ceil_n_over_100_history_requests(
    make_cli: Callable[..., Cli], tmp_path: Path
) -> None:
    cli = make_cli(club_world(extra=448))
    cli.world.reset_counts()
    result = cli(
        "export", CLUB, "--format", "csv", "--limit", "0", "--out", str(tmp_path / "c.csv")
    )
    assert result.code == 0, result.err
    assert "exported 450 messages" in result.err
    assert cli.world.requests["GetHistoryRequest"] <= 5 + 2


def test_window_since_inclusive_until_exclusive(
    make_cli: Callable[..., Cli], tmp_path: Path
) -> None:
    world = FakeTelegram()
    world.add_me(1000, "Me", phone="+15550001000")
    alice = world.add_user(1001, "Alice")
    club = world.add_supergroup(1234567890, "Book Club", "bookclub", members=[alice])
    start = datetime(2024, 12, 1, tzinfo=UTC)
    for day in range(120):  # December to March, one a day
        world.add_message(
            club,
            day + 1,
            text=f"day {day}",
            date=start + timedelta(days=day, hours=12),
            sender=alice,
        )
    cli = make_cli(world)
    cli.world.reset_counts()
    out = tmp_path / "jan.jsonl"
    result = cli(
        "--tz", "UTC", "export", CLUB, "--format", "jsonl", "--out", str(out),
        "--since", "2025-01-01", "--until", "2025-02-01", "--limit", "0",
    )  # fmt: skip
    assert result.code == 0, result.err
    dates = [json.loads(line)["date"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(dates) == 31
    assert dates[0].startswith("2025-01-01") and dates[-1].startswith("2025-01-31")
    assert dates == sorted(dates)
    # 59 messages from March back to February are skipped by the offset date; the walk
    # stops at the first page reaching December.
    assert cli.world.requests["GetHistoryRequest"] == 1


def test_media_selection_size_limit_and_rerun(make_cli: Callable[..., Cli], tmp_path: Path) -> None:
    world = FakeTelegram()
    world.add_me(1000, "Me", phone="+15550001000")
    alice = world.add_user(1001, "Alice")
    club = world.add_supergroup(1234567890, "Book Club", "bookclub", members=[alice])
    world.add_message(club, 1, date=T0, sender=alice, media=photo(200_000))
    world.add_message(club, 2, date=T0 + timedelta(minutes=1), sender=alice, media=photo(3_000_000))
    world.add_message(club, 3, date=T0 + timedelta(minutes=2), sender=alice, media=video(100_000))
    cli = make_cli(world)
    out = tmp_path / "club.md"
    args = ("export", CLUB, "--out", str(out), "--media", "photo", "--max-media-size", "1MB")
    result = cli(*args)
    assert result.code == 0, result.err
    files = sorted(p.name for p in (tmp_path / "club_media").iterdir())
    assert files == ["1_photo.jpg"]
    assert (tmp_path / "club_media" / "1_photo.jpg").stat().st_size == 200_000
    assert "too large 1, type not selected 1" in result.err
    assert "[photo: club_media/1_photo.jpg]" in out.read_text(encoding="utf-8")
    cli.world.reset_counts()
    again = cli(*args)
    assert again.code == 0
    assert "0 downloaded" in again.err and "1 already present" in again.err
    assert cli.world.requests["GetFileRequest"] == 0


def test_transcript_with_prompt_file_and_media_dir(
    cli: Cli, tmp_path: Path, clean_environment: Path
) -> None:
    prompt = clean_environment / "prompt.txt"
    prompt.write_text("Prompt line\n", encoding="utf-8")
    result = cli(
        "--tz", "UTC", "export", CLUB, "--format", "transcript", "--prompt-file", str(prompt),
        "--media", "photo", "--media-dir", "media", "--out", "club.txt",
    )  # fmt: skip
    assert result.code == 0, result.err
    text = (clean_environment / "club.txt").read_text(encoding="utf-8")
    assert text == (
        "Prompt line\n\n"
        "[2025-01-02 03:04] Alice: Hello everyone 👍×2 ❤×1\n"
        "[2025-01-02 03:06] Bob: [photo: media/42_photo.jpg]\n"
    )


def test_export_to_stdout(cli: Cli) -> None:
    result = cli("export", CLUB, "--format", "jsonl", "--out", "-")
    assert result.code == 0, result.err
    assert [json.loads(line)["message_id"] for line in result.out.splitlines()] == [41, 42]


def test_bad_inputs_are_usage_errors(cli: Cli) -> None:
    assert cli("export", CLUB, "--format", "pdf").code == 2
    assert cli("export", CLUB, "--since", "yesterday").code == 2
    assert cli("export", CLUB, "--media", "holograms").code == 2
    assert cli("export", CLUB, "--header", "x").code == 2  # header needs transcript
    assert cli("export").code == 2


def test_existing_file_is_replaced_only_when_the_export_succeeds(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    out = folder / "club.md"
    out.write_text("previous export\n", encoding="utf-8")
    cli.world.faults.fail("GetHistoryRequest", nth=1, error="FLOOD_WAIT_99999")
    result = cli("export", CLUB, "--out", str(out))
    assert result.code == 1
    assert "99999 s wait" in result.err
    assert out.read_text(encoding="utf-8") == "previous export\n"
    assert [p.name for p in folder.iterdir()] == ["club.md"]


def test_failed_media_download_keeps_the_export_and_exits_3(
    make_cli: Callable[..., Cli], tmp_path: Path
) -> None:
    cli = make_cli(club_world())
    cli.world.faults.fail("GetFileRequest", every=1, error="FILE_REFERENCE_EXPIRED")
    out = tmp_path / "club.md"
    result = cli("export", CLUB, "--out", str(out), "--media", "photo")
    assert result.code == 3
    assert "1 failed" in result.err
    assert "[photo]" in out.read_text(encoding="utf-8")  # the marker stays, without a path
