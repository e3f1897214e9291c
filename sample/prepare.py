"""Set up a tgpilot data dir for the demo: the sample world plus a logged-in session.

    python -m sample.prepare HOME WORLD [--account NAME]

Builds the sample world (``sample.build_world``), writes an already-authorised Telethon
session for its account at ``HOME/sessions/<account>.session`` (folder 0700, file 0600,
as ``tgpilot session login`` would leave it) and saves the world — which now knows the
session's auth key — to ``WORLD`` for ``tests.fakes.telegram.launch --world``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from sample.build_world import build_world
from tests.fakes.telegram import FakeTelegram


def prepare(home: Path, world_file: Path, account: str = "default") -> FakeTelegram:
    """Write the world to ``world_file`` and an authorised session under ``home``."""
    world = build_world()
    sessions = home / "sessions"
    sessions.mkdir(parents=True, exist_ok=True, mode=0o700)
    sessions.chmod(0o700)
    session = world.authorize_session_file(sessions / f"{account}.session")
    session.chmod(0o600)
    world_file.parent.mkdir(parents=True, exist_ok=True)
    world.save(world_file)
    return world


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sample.prepare", description=__doc__)
    parser.add_argument("home", type=Path, help="the TGPILOT_HOME to set up")
    parser.add_argument("world", type=Path, help="where to write the world file")
    parser.add_argument("--account", default="default", help="account (session) name")
    args = parser.parse_args(argv)
    world = prepare(args.home, args.world, args.account)
    me = world.me
    print(
        f"sample account {me.full_name} (@{me.username}): {len(world.dialogs)} dialogs, "
        f"{sum(len(m) for m in world.messages.values())} messages"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
