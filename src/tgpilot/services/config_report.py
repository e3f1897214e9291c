"""``tgpilot config check`` and ``config paths``: what the configuration is and what is wrong.

Built on :func:`tgpilot.core.config.inspect_config` (every field's value, source and
status), this adds the file checks of spec telegram-cli §1.1: the session file exists
and is mode 0600, who holds the session lock — read with
:func:`~tgpilot.core.session_lock.read_holder`, never by taking it — the server's RSA key
file, summary rows for the store URL, chat aliases and link patterns, and the LLM
endpoint that will receive chat content (provider, model, resolved URL — the official
one when ``llm.base_url`` is unset, a loopback server noted as needing no key) with any
missing key named by its environment variable. The CLI renders the report and exits with
:attr:`ConfigReport.exit_code` (0 valid, 2 otherwise). ``--online`` (authorisation)
is the CLI's business: it needs the Telegram gateway.
"""

from __future__ import annotations

import asyncio
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tgpilot.core.config import Config, ConfigInspection, ConfigOptions, inspect_config
from tgpilot.core.errors import EXIT_OK, EXIT_USAGE, TgpilotError
from tgpilot.core.paths import Paths
from tgpilot.core.session_lock import read_holder

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
    holder = read_holder(paths.lock_file)
    checks.add("session lock", f"held by {holder.describe()}" if holder is not None else "free")


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


def _check_llm(checks: _Checks, config: Config, environ: Mapping[str, str] | None) -> None:
    """Which endpoint receives chat content — for ``llm`` and each ``llm.commands``
    entry that sends elsewhere — and any missing key, named by its variable (a
    warning: AI commands then run locally, ai.md §5)."""
    from tgpilot.gateways.llm.factory import EndpointReport, endpoint_report

    try:
        main = endpoint_report(config, environ=environ)
        reports: list[EndpointReport] = [main]
        for command in sorted(config.llm.commands):
            report = endpoint_report(config, command, environ)
            if (report.provider, report.model) != (main.provider, main.model):
                reports.append(report)
    except TgpilotError as exc:
        checks.add("llm endpoint", "—", "problem", f"llm: {exc.message}")
        return
    for report in reports:
        name = f"llm endpoint ({report.command})" if report.command else "llm endpoint"
        if not report.key_missing:
            key = f"; key from {report.key_env}" if report.key_set else ""
            checks.add(name, report.describe() + key)
            continue
        where = f"llm.commands.{report.command}" if report.command else "llm"
        checks.add(
            name,
            f"{report.describe()}; key missing",
            "warning",
            f"{where}: no API key for {report.provider} — set {report.key_env} "
            f"(until then AI commands run locally)",
        )


def _check_voice_and_embeddings(
    checks: _Checks, config: Config, environ: Mapping[str, str] | None
) -> None:
    """Where embeddings are computed and where audio would be sent. Both are reported,
    never warned about: embeddings default to the provider's API only when used, and
    voice is opt-in (ai.md §4.11), so "unavailable" is a plain fact here."""
    from tgpilot.gateways.llm.embeddings_factory import embedding_settings
    from tgpilot.gateways.llm.speech import resolve_speech

    try:
        embeddings = embedding_settings(config)
    except TgpilotError as exc:
        checks.add("embeddings", "—", "problem", f"embeddings: {exc.message}")
    else:
        where = {
            "hash": "computed locally, offline",
            "local": "computed locally (sentence-transformers)",
        }.get(embeddings.provider, "sent to the llm endpoint's provider")
        checks.add("embeddings", f"{embeddings.provider} {embeddings.model} ({where})")
    try:
        target = resolve_speech(config, "transcription", environ=environ)
    except TgpilotError as exc:
        checks.add("speech endpoint", f"unavailable (opt-in): {exc.message}")
    else:
        key = f"key from {target.key_env}" if target.secret is not None else "no key needed"
        where = f"{target.provider} {target.base_url} ({target.model})"
        checks.add("speech endpoint", f"{where}; {key}")


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
            _check_llm(checks, inspection.config, environ)
            _check_voice_and_embeddings(checks, inspection.config, environ)
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

    ``environ`` defaults to the process environment (read by ``core/config.py``). With
    ``paths_only`` (``config paths``) credentials are not required and the file checks
    are skipped: the report then carries the fields, their problems and the paths.
    """
    return await asyncio.to_thread(_build, options, environ, paths_only)
