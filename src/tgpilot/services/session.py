"""``session login|status|logout``: the account's session file over its whole life.

Login refuses nothing it need not: an authorised session is a no-op (no code is
requested); a failed login deletes the unauthorised session file it created. Logout
follows DESIGN rule 4: a plan first, applied and audited only with ``--yes``.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tgpilot.core.audit import AuditLog
from tgpilot.core.errors import TgpilotError
from tgpilot.core.session_lock import LockHolder, read_holder
from tgpilot.models import Account

if TYPE_CHECKING:
    from tgpilot.gateways.telegram.gateway import TelegramGateway
    from tgpilot.gateways.telegram.login import LoginPrompts

GatewayOpener = Callable[..., AbstractAsyncContextManager["TelegramGateway"]]


@dataclass(frozen=True)
class SessionFiles:
    """The files of one account's session."""

    session: Path
    lock: Path
    server: Path

    def remove_session(self) -> None:
        """Delete the session file and its server record; the lock file always stays."""
        for path in (
            self.session,
            self.server,
            self.session.with_name(self.session.name + "-journal"),
        ):
            path.unlink(missing_ok=True)


@dataclass(frozen=True)
class LoginResult:
    """Who is logged in, and whether this run did it."""

    account: Account
    already: bool
    session_path: Path


async def login(
    open_gateway: GatewayOpener,
    files: SessionFiles,
    prompts: LoginPrompts,
    *,
    phone: str | None,
    password: str | None,
    force: bool = False,
) -> LoginResult:
    """Log the account in, or report that it already is.

    On failure the session opener deletes the session file, under the lock, only when
    it is known to hold no login — never when the session could not be opened (busy,
    made on another server), nor when its state could not be learnt (a network error)
    unless this run created it.
    """
    async with open_gateway(require_auth=False, discard_unauthorised_on_error=True) as gateway:
        if not force and await gateway.is_authorized():
            return LoginResult(await gateway.me(), True, files.session)
        account = await gateway.log_in(prompts, phone=phone, password=password)
        return LoginResult(account, False, files.session)


@dataclass(frozen=True)
class SessionStatus:
    """What ``session status`` reports."""

    session_path: Path
    exists: bool
    mode: str | None
    holder: LockHolder | None
    server: str
    account: Account | None = None
    data_center: str | None = None

    @property
    def authorised(self) -> bool:
        return self.account is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "session": str(self.session_path),
            "exists": self.exists,
            "mode": self.mode,
            "lock_holder": (
                {
                    "pid": self.holder.pid,
                    "command": self.holder.command,
                    "started_at": self.holder.started_at.isoformat(),
                }
                if self.holder
                else None
            ),
            "server": self.server,
            "authorised": self.authorised if self.account or self.data_center else None,
            "user": (
                {
                    "id": self.account.id,
                    "name": self.account.name,
                    "username": self.account.username,
                }
                if self.account
                else None
            ),
            "dc": self.data_center,
        }


def file_mode(path: Path) -> str | None:
    """``0600``-style permission bits of a file, or None if absent."""
    try:
        return f"{stat.S_IMODE(path.stat().st_mode):04o}"
    except FileNotFoundError:
        return None


async def status(
    open_gateway: GatewayOpener, files: SessionFiles, server: str, *, offline: bool
) -> SessionStatus:
    """Session file, lock holder and server; online also the user and DC."""
    base = SessionStatus(
        session_path=files.session,
        exists=files.session.exists(),
        mode=file_mode(files.session),
        holder=read_holder(files.lock),
        server=server,
    )
    if offline or not base.exists:
        return base
    async with open_gateway(require_auth=False) as gateway:
        dc = gateway.data_center()
        account = await gateway.me() if await gateway.is_authorized() else None
    return SessionStatus(
        base.session_path, base.exists, base.mode, base.holder, server, account, dc
    )


@dataclass(frozen=True)
class LogoutPlan:
    """Logging out is destructive: this is what would happen."""

    account: Account
    session_path: Path

    def describe(self) -> str:
        return f"log out {self.account.describe()}, delete {self.session_path}"


async def logout(
    open_gateway: GatewayOpener,
    files: SessionFiles,
    audit: AuditLog,
    *,
    apply: bool,
    command: str,
    now: Callable[[], datetime],
) -> tuple[LogoutPlan, bool]:
    """Plan the logout; with ``apply`` end the session on Telegram and delete the file."""
    async with open_gateway() as gateway:
        plan = LogoutPlan(await gateway.me(), files.session)
        if not apply:
            return plan, False
        try:
            await gateway.log_out()
        except TgpilotError as exc:
            audit.record(
                ts=now(),
                command=command,
                action="session.logout",
                result="failed",
                params={"user_id": plan.account.id},
                error=exc.message,
            )
            raise
    files.remove_session()
    audit.record(
        ts=now(),
        command=command,
        action="session.logout",
        result="ok",
        params={"user_id": plan.account.id},
    )
    return plan, True
