"""Run the tgpilot CLI in a subprocess against a saved fake Telegram world.

    PYTHONPATH=/path/to/repo python -m tests.fakes.telegram.launch \\
        --world WORLD.pickle [--request-log REQUESTS.txt] [--fake-clock] -- <tgpilot args...>

Loads the world (``FakeTelegram.save``), then calls
``tgpilot.cli.app.main(argv, client_factory=world.client_factory(clock), clock=clock)``
and exits with its exit code. Each request's name is appended to ``--request-log`` as
it is answered (one per line, flushed, so even a killed process leaves its log). On
exit, logins and logouts made by this process are merged back into the world file, so
the next process sees them. ``--fake-clock`` runs on a ``FakeClock`` starting at
``world.now`` (sleeps cost no time); otherwise the real clock is used.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from tests.fakes.clock import FakeClock

from .world import FakeTelegram


def _parse(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    argv = list(argv)
    if "--" in argv:
        split = argv.index("--")
        own, rest = argv[:split], argv[split + 1 :]
    else:
        own, rest = argv, []
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.telegram.launch")
    parser.add_argument("--world", required=True, type=Path, help="world file (FakeTelegram.save)")
    parser.add_argument("--request-log", type=Path, help="append request names here")
    parser.add_argument("--fake-clock", action="store_true", help="run on a FakeClock")
    return parser.parse_args(own), rest


def _exit_code(code: Any) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run tgpilot with the fake world beneath it; returns the exit code."""
    args, tgpilot_argv = _parse(sys.argv[1:] if argv is None else argv)
    world = FakeTelegram.load(args.world)
    before = world.auth_snapshot()
    log: IO[str] | None = None
    if args.request_log is not None:
        log = args.request_log.open("a", encoding="utf-8", buffering=1)
        sink = log

        def write(name: str) -> None:
            sink.write(name + "\n")
            sink.flush()

        world.request_sink = write

    from tgpilot.cli import app
    from tgpilot.core.clock import SystemClock

    clock = FakeClock(start=world.now) if args.fake_clock else SystemClock()
    code = 0
    try:
        result = app.main(tgpilot_argv, client_factory=world.client_factory(clock), clock=clock)
        code = _exit_code(result)
    except SystemExit as e:
        code = _exit_code(e.code)
    finally:
        world.request_sink = None
        if log is not None:
            log.close()
        world.merge_auth_into(args.world, before)
    return code


if __name__ == "__main__":
    sys.exit(main())
