"""Is ``tgpilot run`` the process holding the session? (``autoanswer drafts approve``)

The session lock's holder record names the holder's command line. ``approve`` hands an
approved draft to a running ``run`` (which sends approved drafts) instead of waiting
for the lock; any other holder is waited for as usual.
"""

from __future__ import annotations

from pathlib import Path

from tgpilot.core.session_lock import LockHolder, read_holder

_GLOBAL_OPTIONS_WITH_VALUE = frozenset(
    {"--config", "--env-file", "--account", "--lock-wait", "--max-flood-wait", "--tz"}
)


def is_run_command(command: str) -> bool:
    """True if ``command`` (``tgpilot [global options] run …``) is ``tgpilot run``."""
    words = command.split()[1:]
    index = 0
    while index < len(words):
        word = words[index]
        if word in _GLOBAL_OPTIONS_WITH_VALUE:
            index += 2
            continue
        if word.startswith("-"):
            index += 1
            continue
        return word == "run" and "--print-systemd-unit" not in words
    return False


def run_holder(lock_file: Path) -> LockHolder | None:
    """The ``tgpilot run`` holding the session at ``lock_file``, or None."""
    holder = read_holder(lock_file)
    if holder is not None and is_run_command(holder.command):
        return holder
    return None
