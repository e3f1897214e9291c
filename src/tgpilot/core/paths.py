"""Where tgpilot keeps its files: the data dir (home) and every path inside it.

Spec telegram-cli §1.2. The home is ``$TGPILOT_HOME`` (default
``~/.local/share/tgpilot/``); ``core/config.py`` works it out and passes it in — this
module never reads the environment. Everything here is per account except the shared
database and audit log. Nothing here depends on the working directory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ACCOUNT_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""What an ``--account`` name may look like (it becomes part of file names)."""

DEFAULT_HOME_UNDER_USER_HOME = Path(".local/share/tgpilot")
"""The default home, relative to the user's home directory."""

PRIVATE_DIR_MODE = 0o700


def is_valid_account(name: str) -> bool:
    """True if ``name`` is a usable account name (1–64 of letters, digits, ``_``, ``-``)."""
    return ACCOUNT_NAME.fullmatch(name) is not None


@dataclass(frozen=True)
class Paths:
    """Every file and folder of one account under one home (all absolute if home is)."""

    home: Path
    account: str = "default"

    def __post_init__(self) -> None:
        if not is_valid_account(self.account):
            raise ValueError(f"invalid account name {self.account!r}")

    @property
    def sessions_dir(self) -> Path:
        """``sessions/``: session files and their lock files (0700)."""
        return self.home / "sessions"

    @property
    def session_file(self) -> Path:
        """``sessions/<account>.session``: the Telethon SQLite session (0600)."""
        return self.sessions_dir / f"{self.account}.session"

    @property
    def lock_file(self) -> Path:
        """``sessions/<account>.lock``: the session lock, never deleted."""
        return self.sessions_dir / f"{self.account}.lock"

    @property
    def server_file(self) -> Path:
        """``sessions/<account>.server.json``: the Telegram server the session belongs to."""
        return self.sessions_dir / f"{self.account}.server.json"

    @property
    def db_file(self) -> Path:
        """``tgpilot.db``: the default SQLite store (shared by all accounts)."""
        return self.home / "tgpilot.db"

    @property
    def cache_dir(self) -> Path:
        """``cache/``: throw-away caches (0700)."""
        return self.home / "cache"

    @property
    def reactions_cache(self) -> Path:
        """``cache/reactions-<account>.json``: the server's reaction list (24 h)."""
        return self.cache_dir / f"reactions-{self.account}.json"

    @property
    def dialog_cache(self) -> Path:
        """``cache/dialogs-<account>.json``: the cached dialog list."""
        return self.cache_dir / f"dialogs-{self.account}.json"

    @property
    def audit_log(self) -> Path:
        """``audit.jsonl``: the append-only audit log of every mutation."""
        return self.home / "audit.jsonl"

    def as_dict(self) -> dict[str, Path]:
        """Every path by name, in a stable order (for ``config paths``)."""
        return {
            "home": self.home,
            "sessions_dir": self.sessions_dir,
            "session_file": self.session_file,
            "lock_file": self.lock_file,
            "server_file": self.server_file,
            "db_file": self.db_file,
            "cache_dir": self.cache_dir,
            "dialog_cache": self.dialog_cache,
            "reactions_cache": self.reactions_cache,
            "audit_log": self.audit_log,
        }

    def ensure_private_dirs(self) -> None:
        """Create home, ``sessions/`` and ``cache/`` with mode 0700.

        Folders this call creates get 0700 whatever the umask; an existing
        ``sessions/`` is tightened to 0700 too (it holds login secrets). An existing
        home or cache folder keeps its mode.
        """
        for folder in (self.home, self.sessions_dir, self.cache_dir):
            existed = folder.is_dir()
            folder.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
            if not existed or folder == self.sessions_dir:
                folder.chmod(PRIVATE_DIR_MODE)


def default_home(user_home: Path) -> Path:
    """The default data dir for a user whose home directory is ``user_home``."""
    return user_home / DEFAULT_HOME_UNDER_USER_HOME


def remove_session_files(session_file: Path, server_file: Path) -> None:
    """Delete a session file, its SQLite journal and its server record.

    The lock file beside them is never deleted (DESIGN "The account session").
    """
    journal = session_file.with_name(session_file.name + "-journal")
    for path in (session_file, journal, server_file):
        path.unlink(missing_ok=True)
