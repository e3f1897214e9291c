"""Benchmark how peak RSS grows with N for ``tgpilot export`` and ``tgpilot import``.

    uv run python bench/memory.py [--tiny] [--small N] [--large N] [--formats jsonl,md]
                                  [--out FILE]

Issue #3: "peak RSS grows by less than 30 MB between exporting 10,000 and 200,000
messages (streaming), and likewise for importing a 200,000-message Desktop export".
Every measurement runs in a **fresh interpreter** of its own (this script with
``--child``), so its peak is its own; the peak is the kernel's ``VmHWM`` (Linux's
``ru_maxrss`` of an exec'd child still holds its parent's high-water mark, see
``analyze_local._rss_mb``).

- **export** — ``tgpilot export bench_club --format F --limit 0 --out FILE`` through the
  real CLI and Telethon on the fake Telegram of ``harness.message_world(N)``. The fake
  world lives in the same process (the CLI talks to it in-process, as in every
  benchmark; ``tests/fakes/telegram/launch.py`` also loads the world into the CLI's
  process), and holds all N messages, so its size grows with N. To measure tgpilot's
  side only, the child builds the world, collects garbage, then **resets the
  high-water mark** (``echo 5 > /proc/self/clear_refs``) and notes the resident size
  (``VmRSS``, the world included) right before the command; the figure is ``VmHWM``
  after the command minus that resident size: what the export added on top of the
  world (Telethon's pages, the fake's rendering of them, tgpilot's own state). Where
  the reset is unavailable the figure falls back to peak minus the RSS before the world
  was built minus the world's own resident size (reported as ``method``).
- **import** — a single-chat Telegram Desktop ``result.json`` of N messages, written
  streamed to a temporary file by cycling the 5,000 messages of the shipped sample
  (``sample/desktop_export/result.json``) with ids, replies and dates shifted per
  cycle; then ``tgpilot import FILE --json`` into a fresh SQLite store in a private
  home. Nothing else lives in that child; the figure is likewise peak minus the RSS
  right before the command (after imports), and ``peak_rss_mb`` is the absolute peak.

Figures per side and size: ``added_peak_mb`` (the figure above), ``peak_rss_mb``,
``rss_before_mb``, ``seconds``; ``growth_mb`` = added peak at the large size minus at
the small size, against the target 30 MB (``target_met``). Sizes: 10,000 and 200,000
(``--tiny``: 1,000 and 5,000). Prints one JSON document; exits 1 if a run fails or
writes the wrong number of messages, or growth exceeds the target.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parents[1]
for entry in (REPO / "src", REPO):
    if str(entry) not in sys.path:  # `python bench/x.py` puts only bench/ on the path
        sys.path.insert(0, str(entry))

NOW = datetime(2025, 12, 1, 9, 0, tzinfo=UTC)
SMALL, LARGE = 10_000, 200_000
TINY = (1000, 5000)
TARGET_MB = 30.0
SAMPLE = REPO / "sample" / "desktop_export" / "result.json"
CYCLE_IDS = 10_000  # the sample's ids are < 10,000: cycle k uses ids k*10,000 + id
CYCLE_SECONDS = 200 * 86_400  # the sample spans six months: cycle k is k*200 days later


# --------------------------------------------------------------------------- memory


def _status() -> dict[str, float]:
    """``VmHWM`` and ``VmRSS`` of this process in MB (``ru_maxrss`` if /proc is absent)."""
    found: dict[str, float] = {}
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        status = ""
    for line in status.splitlines():
        key = line.split(":", 1)[0]
        if key in ("VmHWM", "VmRSS"):
            found[key] = round(int(line.split()[1]) / 1024, 1)
    if "VmHWM" not in found:
        peak = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        found = {"VmHWM": peak, "VmRSS": peak}
    return found


def _reset_peak() -> bool:
    """Reset this process's ``VmHWM`` to its current RSS (Linux ≥ 4.0); False if not."""
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
    except OSError:
        return False
    return True


# --------------------------------------------------------------------------- children


def child_export(messages: int, fmt: str) -> dict[str, Any]:
    """In a fresh interpreter: the world of ``messages``, then one export; see the module."""
    import tgpilot.cli.app  # noqa: F401  (imports are not part of the figure)
    from harness import Bench, isolate, message_world
    from tests.fakes.clock import FakeClock

    start = _status()["VmRSS"]
    world = message_world(messages, now=NOW)
    with tempfile.TemporaryDirectory(prefix="tgpilot-bench-") as tmp:
        home = Path(tmp)
        isolate(home)
        bench = Bench(world, home, FakeClock(start=NOW))
        target = home / f"export.{fmt}"
        gc.collect()
        world_rss = _status()["VmRSS"]
        reset = _reset_peak()
        before = _status()["VmRSS"]
        began = time.perf_counter()
        code, _out, err, requests, _ = bench.cli(
            "export", "bench_club", "--format", fmt, "--limit", "0", "--out", str(target)
        )
        seconds = time.perf_counter() - began
        peak = _status()["VmHWM"]
        written = target.stat().st_size if target.exists() else 0
        lines = sum(1 for _ in target.open("rb")) if fmt == "jsonl" and target.exists() else None
        os.chdir(REPO)
    added = peak - before if reset else peak - start - (world_rss - start)
    return {
        "code": code,
        "error": err.strip()[-1000:] if code else "",
        "seconds": round(seconds, 3),
        "world_mb": round(world_rss - start, 1),
        "rss_before_mb": before,
        "peak_rss_mb": peak,
        "added_peak_mb": round(added, 1),
        "method": "clear_refs" if reset else "peak - world",
        "history_requests": requests["GetHistoryRequest"],
        "bytes": written,
        "lines": lines,
    }


def child_import(path: Path) -> dict[str, Any]:
    """In a fresh interpreter: ``tgpilot import PATH --json`` into a fresh store."""
    import tgpilot.cli.app
    import tgpilot.services.desktop_import.service
    from harness import isolate

    with tempfile.TemporaryDirectory(prefix="tgpilot-bench-") as tmp:
        home = Path(tmp)
        isolate(home)
        os.environ["TGPILOT_STORE__URL"] = f"sqlite:///{home / 'archive.db'}"
        gc.collect()
        reset = _reset_peak()
        before = _status()["VmRSS"]
        out = tempfile.SpooledTemporaryFile(max_size=1 << 20, mode="w+")  # noqa: SIM115
        import contextlib
        import io

        err = io.StringIO()
        began = time.perf_counter()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = tgpilot.cli.app.run(["import", str(path), "--json", "--media", "skip"])
        seconds = time.perf_counter() - began
        peak = _status()["VmHWM"]
        out.seek(0)
        text = out.read()
        stored = _count_rows(home / "archive.db")
        os.chdir(REPO)
    return {
        "code": code,
        "error": err.getvalue().strip()[-1000:] if code else "",
        "seconds": round(seconds, 3),
        "rss_before_mb": before,
        "peak_rss_mb": peak,
        "added_peak_mb": round(peak - before, 1),
        "method": "clear_refs" if reset else "peak - before (ru_maxrss)",
        "stored": stored,
        "summary": _summary(text),
    }


def _summary(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text[-400:].strip()


def _count_rows(db: Path) -> int | None:
    import sqlite3

    if not db.exists():
        return None
    with sqlite3.connect(db) as conn:
        (count,) = conn.execute("SELECT count(*) FROM messages").fetchone()
    return int(count)


def run_child(*args: str) -> dict[str, Any]:
    """This script with ``--child ...`` in a fresh interpreter: its JSON result."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), str(REPO)])
    proc = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        return {"code": proc.returncode, "error": proc.stderr.strip()[-2000:]}
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


# --------------------------------------------------------------------------- the export file


def write_desktop_export(path: Path, messages: int) -> None:
    """A single-chat Desktop ``result.json`` of ``messages`` messages, written streamed:
    the sample's messages cycled, ids, replies and dates shifted per cycle."""
    document = json.loads(SAMPLE.read_text(encoding="utf-8"))
    sample: list[dict[str, Any]] = document.pop("messages")
    head = json.dumps(document, ensure_ascii=False, indent=1)[:-2]  # without the closing "}"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(head + ',\n "messages": [\n')
        for n in range(messages):
            cycle, raw = divmod(n, len(sample))
            if n:
                handle.write(",\n")
            _write_message(handle, sample[raw], cycle)
        handle.write("\n ]\n}\n")


def _write_message(handle: IO[str], message: dict[str, Any], cycle: int) -> None:
    if cycle:
        message = dict(message)
        message["id"] = message["id"] + cycle * CYCLE_IDS
        if "reply_to_message_id" in message:
            message["reply_to_message_id"] += cycle * CYCLE_IDS
        for wall, unix in (("date", "date_unixtime"), ("edited", "edited_unixtime")):
            if unix in message:
                stamp = int(message[unix]) + cycle * CYCLE_SECONDS
                message[unix] = str(stamp)
                local = datetime.fromisoformat(message[wall]).timestamp() + cycle * CYCLE_SECONDS
                message[wall] = datetime.fromtimestamp(local).isoformat()
    handle.write("  " + json.dumps(message, ensure_ascii=False))


# --------------------------------------------------------------------------- the report


def measure(small: int, large: int, formats: Sequence[str]) -> dict[str, Any]:
    problems: list[str] = []
    sides: dict[str, Any] = {}
    for fmt in formats:
        runs = {
            str(n): run_child("export", "--messages", str(n), "--format", fmt)
            for n in (small, large)
        }
        for n, result in runs.items():
            if result.get("code") != 0:
                problems.append(
                    f"export {fmt} of {n}: exit {result.get('code')}: {result['error']}"
                )
            elif fmt == "jsonl" and result["lines"] != int(n):
                problems.append(f"export jsonl of {n}: wrote {result['lines']} lines")
        sides[f"export_{fmt}"] = {
            "command": f"tgpilot export bench_club --format {fmt} --limit 0 --out FILE",
            "runs": runs,
        }
    with tempfile.TemporaryDirectory(prefix="tgpilot-bench-import-") as tmp:
        runs = {}
        for n in (small, large):
            path = Path(tmp) / f"result-{n}.json"
            write_desktop_export(path, n)
            runs[str(n)] = run_child("import", "--path", str(path))
            runs[str(n)]["file_bytes"] = path.stat().st_size
            path.unlink()
        for n, result in runs.items():
            if result.get("code") != 0:
                problems.append(f"import of {n}: exit {result.get('code')}: {result['error']}")
            elif result["stored"] != int(n):
                problems.append(f"import of {n}: stored {result['stored']} messages")
        sides["import"] = {
            "command": "tgpilot import result.json --json --media skip",
            "runs": runs,
        }
    growth: dict[str, float | None] = {}
    for name, side in sides.items():
        a, b = side["runs"][str(small)], side["runs"][str(large)]
        if "added_peak_mb" in a and "added_peak_mb" in b:
            side["growth_mb"] = round(b["added_peak_mb"] - a["added_peak_mb"], 1)
            side["peak_growth_mb"] = round(b["peak_rss_mb"] - a["peak_rss_mb"], 1)
        else:
            side["growth_mb"] = side["peak_growth_mb"] = None
        growth[name] = side["growth_mb"]
        if side["growth_mb"] is not None and side["growth_mb"] >= TARGET_MB:
            problems.append(f"{name}: peak RSS grew {side['growth_mb']} MB ≥ {TARGET_MB} MB")
    return {
        "benchmark": "memory",
        "sizes": [small, large],
        **sides,
        "baseline": {
            "export": "the RSS of the child with the fake world built, right before the command",
            "import": "the RSS of the child after imports, right before the command",
        },
        "figures": {"growth_mb": growth},
        "target": {"growth_mb_below": TARGET_MB},
        "target_met": all(g is not None and g < TARGET_MB for g in growth.values()),
        "bounds_ok": not problems,
        "problems": problems,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/memory.py", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--tiny", action="store_true", help=f"{TINY[0]} vs {TINY[1]} (CI)")
    parser.add_argument("--small", type=int, default=SMALL, help=f"small size ({SMALL})")
    parser.add_argument("--large", type=int, default=LARGE, help=f"large size ({LARGE})")
    parser.add_argument("--formats", default="jsonl,md", help="export formats (jsonl,md)")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    parser.add_argument("--child", choices=("export", "import"), help=argparse.SUPPRESS)
    parser.add_argument("--messages", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--format", default="jsonl", help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "export":
        print(json.dumps(child_export(args.messages, args.format), ensure_ascii=False))
        return 0
    if args.child == "import":
        print(json.dumps(child_import(args.path), ensure_ascii=False))
        return 0
    small, large = TINY if args.tiny else (args.small, args.large)
    if not 0 < small < large:
        parser.error("need 0 < --small < --large")
    formats = [f for f in args.formats.split(",") if f]
    from harness import report  # not in the children' parent imports: it loads the fake

    return report(measure(small, large, formats), args.out)


if __name__ == "__main__":
    sys.exit(main())
