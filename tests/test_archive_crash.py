"""Crash safety of ``archive sync`` (issue #3; spec telegram-cli §3.3): ``kill -9`` at
10 random points, and every rerun ends with exactly the source's messages — none lost,
none duplicated.

The real ``tgpilot`` runs as a subprocess on a saved fake Telegram world
(``tests.fakes.telegram.launch``) and archives into ``$TGPILOT_HOME/tgpilot.db``. All
ten kills hit the same archive, so each one lands on what the earlier kills and
reruns left behind. For every round to have work to be killed in, the round both
catches up and backfills: before it, the source grows by ``GROWTH`` new messages on
top (the catch-up path), and its ``--since`` bound moves ``SLICE`` messages further
back (the backfill path, which commits its progress with every batch); the last round
has no bound and must end with the backfill complete.

A round starts ``archive sync``, waits until the run has committed a seeded random
number of whole batches (not its last one), sleeps a random part of one batch's time
(measured beforehand on an uninterrupted run into a separate home) and sends SIGKILL —
kill points tied to the run's progress, not to wall time, so a slow or busy machine
moves them no nearer the end; two rounds instead kill a random time after the start,
before the first commit (while starting, migrating or reading the first page).
The rerun must exit 0 and leave
exactly the source's messages at or after the bound (ids and texts), no duplicates, an
intact database and a matching ``sync_state``. At least 6 of the 10 kills must land
mid-sync (the run had written part of its work), so the test cannot pass vacuously.
Finally the crashed archive is compared, row by row, with one synced without a crash.
"""

from __future__ import annotations

import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.telegram import FakeTelegram
from tests.harness import API_HASH, API_ID
from tgpilot.store import BATCH_SIZE as BATCH

REPO = Path(__file__).resolve().parents[1]
CHAT = "crashclub"
CHAT_ID = -1001777000042
ROUNDS = 10
SLICE = 3_000
"""Older messages each round's backfill reaches further back."""
GROWTH = 3_000
"""New messages the source gains before each round after the first."""
HISTORY = (ROUNDS + 1) * SLICE
"""Messages before the first round; the first bound takes the newest ``2 * SLICE``."""
EARLY_KILLS = 2
"""Rounds killed before the run's first write."""
MIN_MID_SYNC = 6
T0 = datetime(2024, 1, 1, tzinfo=UTC)
WORDS = ["архив", "sync", "kill", "resume", "batch", "привет", "🙂", "offset", "state"]
COMPARED = (
    "chat_id, message_id, date, edit_date, sender_id, text, reply_to_id, views, forwards, "
    "replies_count, reactions_total, media_type, is_outgoing, is_service"
)


def text_of(n: int) -> str:
    return f"message {n}: " + " ".join(WORDS[(n * k) % len(WORDS)] for k in range(1, 2 + n % 7))


def date_of(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


def add_messages(world: FakeTelegram, first: int, last: int) -> None:
    members = [1001, 1002, 1003]
    for n in range(first, last + 1):
        world.add_message(
            CHAT_ID,
            n,
            text=text_of(n),
            date=date_of(n),
            sender=members[n % len(members)],
            reply_to=n - 1 if n % 5 == 0 else None,
            reactions=[("👍", 1 + n % 4)] if n % 3 == 0 else None,
        )


def bound(round_no: int) -> datetime | None:
    """Round ``round_no``'s ``--since``: the history from id ``HISTORY - (r + 2) * SLICE
    + 1`` up; the last round has none."""
    if round_no == ROUNDS - 1:
        return None
    return date_of(HISTORY - (round_no + 2) * SLICE + 1)


@dataclass
class Fixture:
    world: FakeTelegram
    world_file: Path
    crash_home: Path
    clean_home: Path


@pytest.fixture
def setup(tmp_path: Path) -> Fixture:
    world = FakeTelegram(now=T0 + timedelta(days=365))
    world.add_me(1000, "Me", phone="+15550001000")
    members = [world.add_user(1001 + n, f"Member {n}") for n in range(3)]
    world.add_supergroup(1777000042, "Crash Club", CHAT, members=members)
    add_messages(world, 1, HISTORY)
    homes = tmp_path / "crash-home", tmp_path / "clean-home"
    for home in homes:
        world.authorize_session_file(home / "sessions" / "default.session")
    world_file = tmp_path / "world.pickle"
    world.save(world_file)
    return Fixture(world, world_file, *homes)


def sync_command(world_file: Path, since: datetime | None) -> list[str]:
    command = [sys.executable, "-m", "tests.fakes.telegram.launch", "--world", str(world_file)]
    command += ["--", "archive", "sync", CHAT]
    if since is not None:
        command += ["--since", since.isoformat()]
    return command


def environment(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "src")]),
        "TGPILOT_HOME": str(home),
        "TELEGRAM_API_ID": API_ID,
        "TELEGRAM_API_HASH": API_HASH,
    }


def start(home: Path, world_file: Path, since: datetime | None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        sync_command(world_file, since),
        cwd=REPO,
        env=environment(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def rerun(home: Path, world_file: Path, since: datetime | None) -> int:
    """Sync to completion (exit 0); returns how many messages it inserted."""
    done = subprocess.run(
        sync_command(world_file, since),
        cwd=REPO,
        env=environment(home),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"rerun exited {done.returncode}: {done.stdout}{done.stderr}"
    found = re.search(r"\(-?\d+\): inserted (\d+), updated \d+, unchanged \d+", done.stdout)
    assert found, done.stdout
    return int(found.group(1))


@contextmanager
def connect(db: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(db, timeout=30, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


class Watch:
    """The archive's message count while a run writes it, read cheaply: one connection
    that counts again only after another connection committed (``PRAGMA data_version``)."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.conn: sqlite3.Connection | None = None
        self.version: int | None = None
        self.count = 0

    def rows(self) -> int:
        if self.conn is None:
            if not self.db.exists():
                return 0
            self.conn = sqlite3.connect(self.db, timeout=30, isolation_level=None)
        version = self.conn.execute("PRAGMA data_version").fetchone()[0]
        if version != self.version:
            try:
                query = "SELECT COUNT(*) FROM messages WHERE chat_id = ?"
                self.count = self.conn.execute(query, (CHAT_ID,)).fetchone()[0]
            except sqlite3.OperationalError:  # not migrated yet
                return 0
            self.version = version
        return self.count

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def stored_ids(db: Path) -> set[int]:
    if not db.exists():
        return set()
    try:
        with connect(db) as conn:
            rows = conn.execute("SELECT message_id FROM messages WHERE chat_id = ?", (CHAT_ID,))
            return {row[0] for row in rows}
    except sqlite3.OperationalError:
        return set()


def wait_for_rows(proc: subprocess.Popen[str], db: Path, rows: int) -> bool:
    """Poll until the archive holds ``rows`` messages of the chat; False if the run
    exited first."""
    watch = Watch(db)
    try:
        while proc.poll() is None:
            if watch.rows() >= rows:
                return True
            time.sleep(0.005)
        return False
    finally:
        watch.close()


def commit_times(proc: subprocess.Popen[str], db: Path) -> list[float]:
    """When the archive's message count went up, until the run exits."""
    times: list[float] = []
    watch = Watch(db)
    try:
        seen = watch.rows()
        while proc.poll() is None:
            now = watch.rows()
            if now != seen:
                times.append(time.monotonic())
                seen = now
            time.sleep(0.005)
    finally:
        watch.close()
    return times


def expected(world: FakeTelegram, since: datetime | None) -> dict[int, str]:
    return {m.id: m.text for m in world.history(CHAT_ID) if since is None or m.date >= since}


def check_archive(db: Path, source: dict[int, str], *, complete: bool, when: str) -> None:
    with connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)], when
        chats = {row[0] for row in conn.execute("SELECT DISTINCT chat_id FROM messages")}
        assert chats == {CHAT_ID}, when
        total, distinct = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT message_id) FROM messages WHERE chat_id = ?",
            (CHAT_ID,),
        ).fetchone()
        assert total == distinct, f"{when}: {total - distinct} duplicated rows"
        rows = dict(
            conn.execute("SELECT message_id, text FROM messages WHERE chat_id = ?", (CHAT_ID,))
        )
        state = conn.execute(
            "SELECT newest_id, oldest_id, backfill_complete, last_error FROM sync_state"
            " WHERE chat_id = ?",
            (CHAT_ID,),
        ).fetchone()
    missing = sorted(source.keys() - rows.keys())
    extra = sorted(rows.keys() - source.keys())
    assert not missing and not extra, (
        f"{when}: {len(missing)} lost (e.g. {missing[:10]}), {len(extra)} extra (e.g. {extra[:10]})"
    )
    wrong = sorted(i for i, text in rows.items() if text != source[i])
    assert not wrong, f"{when}: {len(wrong)} rows with the wrong text, e.g. {wrong[:10]}"
    assert state is not None, f"{when}: no sync_state row"
    assert (state[0], state[1], bool(state[2]), state[3]) == (
        max(source),
        min(source),
        complete,
        None,
    ), when


@dataclass
class Kill:
    round_no: int
    early: bool
    after_rows: int
    """Killed once the run had committed this many messages (0: from its start)."""
    delay: float
    """Seconds after that (or after the start)."""
    alive: bool
    partial: bool
    inserted_by_rerun: int


@pytest.mark.timeout(600)
def test_archive_sync_killed_at_10_random_points_loses_and_duplicates_nothing(
    setup: Fixture,
) -> None:
    world, world_file = setup.world, setup.world_file
    crash_db = setup.crash_home / "tgpilot.db"
    clean_db = setup.clean_home / "tgpilot.db"

    # Calibrate on the first round's sync, uninterrupted, into a separate home: how
    # long the run takes to its first commit, and how long a batch takes.
    started = time.monotonic()
    proc = start(setup.clean_home, world_file, bound(0))
    commits = commit_times(proc, clean_db)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, out + err
    check_archive(clean_db, expected(world, bound(0)), complete=False, when="calibration")
    assert len(commits) == 2 * SLICE // BATCH, commits
    startup = commits[0] - started
    batch = (commits[-1] - commits[0]) / (len(commits) - 1)
    print(f"calibration: first commit after {startup:.2f}s, then one every {batch:.3f}s")

    rng = random.Random(20240303)
    early_rounds = set(rng.sample(range(ROUNDS), EARLY_KILLS))
    kills: list[Kill] = []
    newest = HISTORY
    for round_no in range(ROUNDS):
        if round_no:
            add_messages(world, newest + 1, newest + GROWTH)
            newest += GROWTH
            world.save(world_file)
        since = bound(round_no)
        source = expected(world, since)
        before_ids = stored_ids(crash_db)
        work = len(source) - len(before_ids)
        early = round_no in early_rounds
        proc = start(setup.crash_home, world_file, since)
        if early:  # while starting, migrating or reading the first page
            after_rows, delay = 0, rng.uniform(0.1, 0.9) * startup
            time.sleep(delay)
        else:  # a random batch boundary (not the last), then a random part of a batch
            after_rows = BATCH * rng.randrange(1, work // BATCH)
            delay = rng.uniform(0.0, 0.8) * batch
            if wait_for_rows(proc, crash_db, len(before_ids) + after_rows):
                time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
        alive = proc.returncode == -signal.SIGKILL
        assert alive or proc.returncode == 0, f"round {round_no}: exit {proc.returncode}: {err}"
        after_ids = stored_ids(crash_db)
        assert after_ids <= source.keys(), f"round {round_no}: a killed run stored strangers"
        partial = alive and before_ids < after_ids < source.keys()
        inserted = rerun(setup.crash_home, world_file, since)
        when = f"round {round_no} (killed after {after_rows} rows + {delay:.3f}s)"
        check_archive(crash_db, source, complete=since is None, when=when)
        assert inserted == len(source.keys() - after_ids), when
        kills.append(Kill(round_no, early, after_rows, delay, alive, partial, inserted))

    print(*kills, sep="\n")
    mid_sync = [k for k in kills if k.partial]
    assert len(mid_sync) >= MIN_MID_SYNC, f"only {len(mid_sync)} kills landed mid-sync: {kills}"
    assert all(k.alive for k in kills if k.early), kills

    # The crashed archive holds what an uninterrupted sync of the same source holds.
    assert rerun(setup.clean_home, world_file, None) > 0
    check_archive(clean_db, expected(world, None), complete=True, when="clean archive")
    with connect(crash_db) as crashed, connect(clean_db) as clean:
        query = f"SELECT {COMPARED} FROM messages ORDER BY chat_id, message_id"
        assert crashed.execute(query).fetchall() == clean.execute(query).fetchall()
