"""``tgpilot config check`` and ``config paths``: what the configuration is and what is wrong.

Built on :func:`tgpilot.core.config.inspect_config` (every field's value, source and
status), this adds the file checks of spec telegram-cli §1.1: the session file exists
and is mode 0600, who holds (or last held) the session lock — read from the lock
file, never by taking the lock — the server's RSA key file, and summary rows for the
store URL, chat aliases and link patterns. The CLI renders the report and exits with
:attr:`ConfigReport.exit_code` (0 valid, 2 otherwise). ``--online`` (authorisation)
is the CLI's business: it needs the Telegram gateway.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from tgpilot.core.config import Config, ConfigInspection, ConfigOptions, inspect_config
from tgpilot.core.errors import EXIT_OK, EXIT_USAGE
from tgpilot.core.paths import Paths

CheckStatus = Literal["ok", "warning", "problem"]

SESSION_FILE_MODE = 0o600
NONE_SHOWN = "(none)"


@dataclass(frozen=True)
class CheckRow:
    """One extra check of ``config check`` (session file, lock, store, aliases, …)."""

    name: str
    value: str
    status: CheckStatus = "ok"
    message: str = ""

    def to_json(self) -> dict[str, str]:
        return {
            "name": self.name,
            "value": self.value,
            "status": self.status,
            "message": self.message,
        }


@dataclass(frozen=True)
class LockInfo:
    """What the lock file says about its (last) holder, read without taking the lock."""

    pid: int | None
    command: str
    started_at: str
    running: bool | None
    """True/False when the pid could be checked on this machine, None when unknown."""

    def describe(self) -> str:
        who = f"pid {self.pid}" if self.pid is not None else "unknown pid"
        text = f"{who} ({self.command or '?'}) since {self.started_at or '?'}"
        if self.running is False:
            return f"free (last held by {text}, no longer running)"
        return f"held by {text}"


@dataclass(frozen=True)
class ConfigReport:
    """The result of ``config check``: field rows, file checks, problems and warnings."""

    inspection: ConfigInspection
    checks: tuple[CheckRow, ...]
    problems: tuple[str, ...]
    warnings: tuple[str, ...]
    paths: dict[str, str]

    @property
    def valid(self) -> bool:
        """True when nothing is wrong (warnings allowed)."""
        return not self.problems

    @property
    def exit_code(self) -> int:
        """0 when valid, else 2 (spec telegram-cli §1.1)."""
        return EXIT_OK if self.valid else EXIT_USAGE

    def to_json(self) -> dict[str, Any]:
        """The whole report as plain JSON-able data (``config check --json``)."""
        inspection = self.inspection
        return {
            "valid": self.valid,
            "exit_code": self.exit_code,
            "account": inspection.account,
            "config_file": _shown(inspection.config_file),
            "env_file": _shown(inspection.env_file),
            "home": str(inspection.home),
            "fields": [row.to_json() for row in inspection.rows],
            "checks": [row.to_json() for row in self.checks],
            "problems": list(self.problems),
            "warnings": list(self.warnings),
            "paths": dict(self.paths),
        }


def _shown(path: Path | None) -> str:
    return str(path) if path is not None else NONE_SHOWN


def paths_report(config: Config | ConfigInspection) -> dict[str, str]:
    """Every path tgpilot uses, plus the config and .env files read (``config paths``).

    Takes a valid :class:`Config`, or an inspection so that ``config paths`` works
    even when some value is wrong.
    """
    paths: Paths | None
    if isinstance(config, Config):
        paths, config_file, env_file = config.paths_resolved, config.config_file, config.env_file
        exports: Path | None = config.paths.exports
        store: str | None = config.store.masked_url
    else:
        paths, config_file, env_file = config.paths, config.config_file, config.env_file
        exports = config.config.paths.exports if config.config is not None else None
        store = config.config.store.masked_url if config.config is not None else None
    report = {"config_file": _shown(config_file), "env_file": _shown(env_file)}
    if paths is not None:
        report.update({name: str(path) for name, path in paths.as_dict().items()})
    else:
        report["home"] = str(config.home)
    if exports is not None:
        report["exports"] = str(exports)
    if store is not None:
        report["store"] = store
    return report


# --------------------------------------------------------------------------- lock


def _pid_running(pid: int) -> bool | None:
    """Whether a process with ``pid`` exists here (signal 0 only probes; sends nothing)."""
    if pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return None
    return True


def _lock_info_from_json(path: Path) -> LockInfo | None:
    """Read ``{"pid", "command", "started_at"}`` from the lock file; None if empty/absent."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    if not text.strip():
        return None
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("lock file content is not a JSON object")
    return _lock_info(data.get("pid"), data.get("command"), data.get("started_at"))


def _lock_info(pid: object, command: object, started_at: object) -> LockInfo:
    number = pid if isinstance(pid, int) and not isinstance(pid, bool) else None
    if isinstance(command, list | tuple):
        command = " ".join(str(part) for part in command)
    started = (
        started_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if isinstance(started_at, datetime)
        else started_at
    )
    return LockInfo(
        pid=number,
        command=str(command) if command is not None else "",
        started_at=str(started) if started is not None else "",
        running=_pid_running(number) if number is not None else None,
    )


def read_lock_info(path: Path) -> LockInfo | None:
    """The lock file's holder, without taking the lock; None when it is free.

    Uses ``tgpilot.core.session_lock.read_holder`` (which probes the lock with a
    shared, non-blocking flock and drops the probe at once) when that module provides
    it; else reads the JSON record itself and checks whether its pid still runs.
    Raises ValueError (or OSError) for an unreadable file in the fallback.
    """
    try:
        module = importlib.import_module("tgpilot.core.session_lock")
        reader = module.read_holder
    except (ImportError, AttributeError):
        return _lock_info_from_json(path)
    holder = reader(path)
    if holder is None:
        return None
    return _lock_info(
        getattr(holder, "pid", None),
        getattr(holder, "command", None),
        getattr(holder, "started_at", None),
    )


# --------------------------------------------------------------------------- checks


class _Checks:
    def __init__(self) -> None:
        self.rows: list[CheckRow] = []
        self.problems: list[str] = []
        self.warnings: list[str] = []

    def add(self, name: str, value: str, status: CheckStatus = "ok", message: str = "") -> None:
        """Record a check; a message is a new problem or warning (summaries have none)."""
        self.rows.append(CheckRow(name, value, status, message))
        if status == "problem" and message:
            self.problems.append(message)
        elif status == "warning" and message:
            self.warnings.append(message)


def _check_session(checks: _Checks, inspection: ConfigInspection) -> None:
    paths = inspection.paths
    if paths is None:
        return
    session = paths.session_file
    try:
        mode = stat.S_IMODE(session.stat().st_mode)
    except FileNotFoundError:
        checks.add(
            "session file",
            f"{session} (absent)",
            "warning",
            f"session file {session} does not exist — run tgpilot session login",
        )
    except OSError as exc:
        checks.add("session file", str(session), "problem", f"session file {session}: {exc}")
    else:
        if mode == SESSION_FILE_MODE:
            checks.add("session file", f"{session} (0600)")
        else:
            checks.add(
                "session file",
                f"{session} ({mode:04o})",
                "problem",
                f"session file {session} has mode {mode:04o}, expected 0600"
                f" — run chmod 600 {session}",
            )
    lock = paths.lock_file
    try:
        info = read_lock_info(lock)
    except (OSError, ValueError) as exc:
        checks.add(
            "session lock",
            str(lock),
            "warning",
            f"lock file {lock} is unreadable ({exc}); it is rewritten at the next lock",
        )
        return
    checks.add("session lock", info.describe() if info is not None else "free")


def _check_rsa_key(checks: _Checks, config: Config) -> None:
    server = config.telegram.server
    if server is None or server.rsa_key_file is None:
        return
    key = server.rsa_key_file
    try:
        text = key.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        checks.add(
            "rsa key file",
            str(key),
            "problem",
            f"telegram.server.rsa_key_file: cannot read {key}: {reason}",
        )
        return
    if "-----BEGIN" not in text:
        checks.add(
            "rsa key file",
            str(key),
            "problem",
            f"telegram.server.rsa_key_file: {key} is not a PEM key",
        )
        return
    checks.add("rsa key file", str(key))


def _summaries(checks: _Checks, inspection: ConfigInspection) -> None:
    """Store URL, aliases and link patterns at a glance (their problems are field rows)."""
    rows = inspection.rows
    store = [r for r in rows if r.path == "store.url"]
    if store:
        checks.add("store url", store[0].value, "ok" if store[0].status == "ok" else "problem")
    for name, prefix in (("chat aliases", "chats"), ("link patterns", "clean.link_patterns")):
        entries = [r for r in rows if r.path.startswith(prefix + ".")]
        bad = [r.path.removeprefix(prefix + ".") for r in entries if r.status != "ok"]
        value = f"{len(entries)} defined" + (f", invalid: {', '.join(bad)}" if bad else "")
        checks.add(name, value, "problem" if bad else "ok")


def _build(
    options: ConfigOptions, environ: Mapping[str, str] | None, paths_only: bool
) -> ConfigReport:
    inspection = inspect_config(options, environ, require_credentials=not paths_only)
    checks = _Checks()
    if not paths_only:
        _summaries(checks, inspection)
        _check_session(checks, inspection)
        if inspection.config is not None:
            _check_rsa_key(checks, inspection.config)
    return ConfigReport(
        inspection=inspection,
        checks=tuple(checks.rows),
        problems=(*inspection.problems, *checks.problems),
        warnings=tuple(checks.warnings),
        paths=paths_report(inspection),
    )


async def check_config(
    options: ConfigOptions,
    environ: Mapping[str, str] | None = None,
    *,
    paths_only: bool = False,
) -> ConfigReport:
    """Validate everything ``config check`` covers (offline) and report it.

    ``environ`` defaults to ``os.environ`` (read by ``core/config.py``). With
    ``paths_only`` (``config paths``) credentials are not required and the file checks
    are skipped: the report then carries the fields, their problems and the paths.
    """
    return await asyncio.to_thread(_build, options, environ, paths_only)
