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

For long-running commands (``tgpilot run``) two more options let a test act as the
rest of Telegram while the process runs, and survive its ``kill -9``:

- ``--inbox DIR``: every ``*.json`` file dropped into DIR (write it elsewhere and
  rename it in) is read, deleted and applied to the world inside the process — ``{"add":
  {"chat": ID, "text": …, "sender": ID}}`` adds a message (dated now, pushed to the
  client), ``{"drop": true}`` drops every connection;
- ``--persist``: the world file is rewritten (atomically) after every mutating request
  and every inbox item, so a killed process leaves the world as it had made it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from tests.fakes.clock import FakeClock

from .world import MUTATING_REQUESTS, ClientFactoryFn, FakeTelegram


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
    parser.add_argument("--inbox", type=Path, help="apply JSON items dropped here")
    parser.add_argument("--persist", action="store_true", help="save the world as it changes")
    return parser.parse_args(own), rest


def _exit_code(code: Any) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _saver(world: FakeTelegram, path: Path) -> Callable[[str], None]:
    def save_after(name: str) -> None:
        if name in MUTATING_REQUESTS:
            world.save(path)

    return save_after


def _with_inbox(
    factory: ClientFactoryFn, world: FakeTelegram, inbox: Path, persist: Path | None
) -> ClientFactoryFn:
    """``factory``, also starting the inbox poller in the loop of the first client."""
    started: list[asyncio.Task[None]] = []

    def build(spec: Any) -> Any:
        if not started:
            poller = _poll_inbox(world, inbox, persist)
            started.append(asyncio.get_running_loop().create_task(poller))
        return factory(spec)

    return build


async def _poll_inbox(world: FakeTelegram, inbox: Path, persist: Path | None) -> None:
    inbox.mkdir(parents=True, exist_ok=True)
    while True:
        for item in sorted(inbox.glob("*.json")):
            order = json.loads(item.read_text(encoding="utf-8"))
            item.unlink()
            if order.get("drop"):
                world.drop_connections()
            if "add" in order:
                spec = order["add"]
                world.add_message(
                    spec["chat"],
                    text=spec.get("text", ""),
                    sender=spec.get("sender"),
                    date=datetime.now(UTC),
                )
            if persist is not None:
                world.save(persist)
        await asyncio.sleep(0.05)


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
    factory = world.client_factory(clock)
    if args.persist:
        world.on_served = _saver(world, args.world)
    if args.inbox is not None:
        factory = _with_inbox(factory, world, args.inbox, args.world if args.persist else None)
    code = 0
    try:
        result = app.main(tgpilot_argv, client_factory=factory, clock=clock)
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
