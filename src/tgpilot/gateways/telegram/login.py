"""Logging an account in: phone, code, two-step password, retries (spec §1.3).

Terminal I/O stays out of the gateway: the caller passes a :class:`LoginPrompts`
implementation (the CLI's asks on a terminal; tests answer from a script).

The dialogue sends ``auth.sendCode``/``auth.signIn``/``auth.checkPassword`` itself
rather than through Telethon's ``sign_in``: that one returns the current user without
checking anything when the key is already logged in, which would let ``--force``
"re-log in" with any code.
"""

from __future__ import annotations

from typing import Any, Protocol

from telethon import errors, utils
from telethon import password as srp
from telethon.tl import functions, types

from tgpilot.core.errors import TelegramError, UsageError
from tgpilot.gateways.telegram.client import PolicyClient
from tgpilot.gateways.telegram.convert import account_from_user
from tgpilot.models import Account

CODE_ATTEMPTS = 3
PASSWORD_ATTEMPTS = 3


class LoginPrompts(Protocol):
    """Where the login flow gets what only the person knows."""

    def phone(self) -> str:
        """The phone number, when neither flag nor config gave one."""
        ...

    def code(self) -> str:
        """The login code Telegram just sent (prompt ``Login code: ``)."""
        ...

    def password(self) -> str:
        """The two-step verification password (no echo)."""
        ...

    def notice(self, message: str) -> None:
        """Tell the person something (a wrong code, a new code sent)."""
        ...


class LoginFailed(TelegramError):
    """Telegram refused the login; the message carries its reason."""


async def log_in(
    client: PolicyClient,
    prompts: LoginPrompts,
    *,
    phone: str | None,
    password: str | None,
) -> Account:
    """Run the whole login dialogue on a connected, unauthorised client."""
    number = (phone or prompts.phone()).strip()
    if not number:
        raise UsageError(
            "a phone number is needed to log in", hint="pass --phone or set TELEGRAM_PHONE"
        )
    number = utils.parse_phone(number) or number
    code_hash = await _send_code(client, number)
    resent = False
    needs_password = False
    attempt = 0
    while attempt < CODE_ATTEMPTS:
        attempt += 1
        code = prompts.code().strip()
        try:
            return await _authorise(client, functions.auth.SignInRequest(number, code_hash, code))
        except errors.SessionPasswordNeededError:
            needs_password = True
            break
        except (errors.PhoneCodeInvalidError, errors.PhoneCodeEmptyError):
            if attempt >= CODE_ATTEMPTS:
                raise LoginFailed("PHONE_CODE_INVALID", "auth.signIn") from None
            prompts.notice(f"wrong code ({CODE_ATTEMPTS - attempt} attempts left)")
        except errors.PhoneCodeExpiredError:
            if resent:
                raise LoginFailed("PHONE_CODE_EXPIRED", "auth.signIn") from None
            resent = True
            attempt = 0
            code_hash = await _send_code(client, number)
            prompts.notice("the code expired; a new one was sent")
    if not needs_password:
        raise LoginFailed("PHONE_CODE_INVALID", "auth.signIn")
    return await _check_password(client, prompts, password)


async def _check_password(
    client: PolicyClient, prompts: LoginPrompts, password: str | None
) -> Account:
    for attempt in range(1, PASSWORD_ATTEMPTS + 1):
        secret = password if (password and attempt == 1) else prompts.password()
        try:
            current = await client(functions.account.GetPasswordRequest())
            return await _authorise(
                client, functions.auth.CheckPasswordRequest(srp.compute_check(current, secret))
            )
        except errors.PasswordHashInvalidError:
            if attempt >= PASSWORD_ATTEMPTS:
                raise LoginFailed("PASSWORD_HASH_INVALID", "auth.checkPassword") from None
            prompts.notice(f"wrong password ({PASSWORD_ATTEMPTS - attempt} attempts left)")
    raise LoginFailed("PASSWORD_HASH_INVALID", "auth.checkPassword")


async def _send_code(client: PolicyClient, number: str) -> str:
    """Ask Telegram for a (new) login code; returns its ``phone_code_hash``."""
    sent = await client(
        functions.auth.SendCodeRequest(number, client.api_id, client.api_hash, types.CodeSettings())
    )
    if isinstance(sent, types.auth.SentCodeSuccess):
        raise LoginFailed("SENT_CODE_SUCCESS", "auth.sendCode")
    return str(sent.phone_code_hash)


async def _authorise(client: PolicyClient, request: Any) -> Account:
    """Send a sign-in request and let Telethon adopt the logged-in user."""
    result = await client(request)
    if isinstance(result, types.auth.AuthorizationSignUpRequired):
        raise LoginFailed("PHONE_NUMBER_UNOCCUPIED", "auth.signIn")
    user = await client._on_login(result.user)
    return account_from_user(user)
