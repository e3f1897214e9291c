"""``tgpilot import`` end to end: offline, no lock, idempotent; json export round trip."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fakes.telegram import FakeTelegram
from tests.harness import Cli

SAMPLE = Path(__file__).resolve().parents[1] / "sample" / "desktop_export" / "result.json"


@pytest.fixture
def offline(make_cli: Callable[..., Cli]) -> Cli:
    return make_cli(FakeTelegram(), logged_in=False)


def test_sample_import_is_offline_and_idempotent(offline: Cli) -> None:
    first = offline("import", str(SAMPLE), "--json")
    assert first.code == 0, first.err
    assert (first.json()["chats"], first.json()["inserted"]) == (1, 5000)
    assert offline.world.connections == []
    assert not (offline.home / "sessions" / "default.lock").exists()
    again = offline("import", str(SAMPLE.parent))
    assert again.code == 0, again.err
    assert "chats 1; messages inserted 0, updated 0, unchanged 5000, skipped 0" in again.out


def test_imported_chat_exports_and_reimports_the_same_rows(offline: Cli, tmp_path: Path) -> None:
    assert offline("import", str(SAMPLE)).code == 0
    out = tmp_path / "club" / "result.json"
    exported = offline(
        "export", "--title-contains", "Reading Club", "--archive", "--format", "json",
        "--include-service", "--limit", "0", "--out", str(out),
    )  # fmt: skip
    assert exported.code == 0, exported.err
    assert "exported 5000 messages" in exported.err
    reimported = offline("import", str(out), "--json")
    assert reimported.code == 0, reimported.err
    assert reimported.json()["unchanged"] == 5000
    assert reimported.json()["inserted"] == reimported.json()["updated"] == 0


def test_dry_run_writes_nothing(offline: Cli) -> None:
    result = offline("import", str(SAMPLE), "--dry-run")
    assert result.code == 0, result.err
    assert "dry run" in result.out
    stats = offline("stats", "--title-contains", "Reading Club", "--archive")
    assert stats.code == 2  # nothing was stored


def test_bad_paths_and_modes(offline: Cli, tmp_path: Path) -> None:
    assert offline("import", str(tmp_path / "missing.json")).code == 2
    assert offline("import", str(SAMPLE), "--media", "teleport").code == 2
