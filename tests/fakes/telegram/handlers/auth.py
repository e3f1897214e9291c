"""Login and logout: ``auth.sendCode``/``resendCode``/``signIn``, 2FA via SRP, ``auth.logOut``.

Authorisation is per auth key: a successful sign-in marks the sender's key as logged in
as the user (on the server address it connected to). Login codes are single-use and
expire after ``world.code_ttl`` seconds or when scripted with ``expire_next_code``.
"""

from __future__ import annotations

import random
import secrets

from telethon.tl import functions, types

from tests.fakes.telegram import srp
from tests.fakes.telegram.errors import RpcFail
from tests.fakes.telegram.model import SentCodeRec
from tests.fakes.telegram.world import normalise_phone

from .registry import Context, handles

_SYSTEM_RANDOM = random.SystemRandom()


def _sent_code(rec: SentCodeRec, phone_code_hash: str, *, sms: bool) -> types.auth.SentCode:
    length = len(rec.code)
    kind = types.auth.SentCodeTypeSms(length) if sms else types.auth.SentCodeTypeApp(length)
    return types.auth.SentCode(
        type=kind,
        phone_code_hash=phone_code_hash,
        next_type=types.auth.CodeTypeSms(),
        timeout=60,
    )


@handles(functions.auth.SendCodeRequest, auth=False)
def send_code(ctx: Context, req: functions.auth.SendCodeRequest) -> types.auth.SentCode:
    phone = normalise_phone(req.phone_number)
    if not phone:
        raise RpcFail("PHONE_NUMBER_INVALID")
    world = ctx.world
    expired = world.expire_codes.get(phone, 0) > 0
    if expired:
        world.expire_codes[phone] -= 1
    rec = SentCodeRec(phone=phone, code=world.code_for(phone), issued_at=ctx.now, expired=expired)
    phone_code_hash = secrets.token_hex(9)
    world.sent_codes[phone_code_hash] = rec
    return _sent_code(rec, phone_code_hash, sms=False)


def _live_code(ctx: Context, phone_number: str, phone_code_hash: str) -> SentCodeRec:
    if not phone_code_hash:
        raise RpcFail("PHONE_CODE_HASH_EMPTY")
    rec = ctx.world.sent_codes.get(phone_code_hash)
    if rec is None:
        raise RpcFail("PHONE_CODE_EXPIRED")
    if rec.phone != normalise_phone(phone_number):
        raise RpcFail("PHONE_NUMBER_INVALID")
    age = (ctx.now - rec.issued_at).total_seconds()
    if rec.expired or age > ctx.world.code_ttl:
        del ctx.world.sent_codes[phone_code_hash]
        raise RpcFail("PHONE_CODE_EXPIRED")
    return rec


@handles(functions.auth.ResendCodeRequest, auth=False)
def resend_code(ctx: Context, req: functions.auth.ResendCodeRequest) -> types.auth.SentCode:
    rec = _live_code(ctx, req.phone_number, req.phone_code_hash)
    return _sent_code(rec, req.phone_code_hash, sms=True)


@handles(functions.auth.SignInRequest, auth=False)
def sign_in(
    ctx: Context, req: functions.auth.SignInRequest
) -> types.auth.Authorization | types.auth.AuthorizationSignUpRequired:
    if not req.phone_code:
        raise RpcFail("PHONE_CODE_EMPTY")
    rec = _live_code(ctx, req.phone_number, req.phone_code_hash)
    if req.phone_code != rec.code:
        raise RpcFail("PHONE_CODE_INVALID")
    del ctx.world.sent_codes[req.phone_code_hash]
    user = ctx.world.user_by_phone(rec.phone)
    if user is None:
        return types.auth.AuthorizationSignUpRequired()
    if ctx.key_id is None:
        raise RpcFail("AUTH_KEY_UNREGISTERED", 401)
    if user.id in ctx.world.passwords:
        ctx.world.pending_password[ctx.key_id] = user.id
        raise RpcFail("SESSION_PASSWORD_NEEDED", 401)
    return _log_in(ctx, user.id)


def _log_in(ctx: Context, user_id: int) -> types.auth.Authorization:
    assert ctx.key_id is not None
    ctx.world.pending_password.pop(ctx.key_id, None)
    ctx.world.authorize_key(ctx.key_id, user_id, ctx.server)
    renderer = ctx.renderer()
    return types.auth.Authorization(user=renderer.user(ctx.world.users[user_id]))


def _password_user(ctx: Context) -> int:
    user = ctx.user_id
    if user is None and ctx.key_id is not None:
        user = ctx.world.pending_password.get(ctx.key_id)
    if user is None:
        raise RpcFail("AUTH_KEY_UNREGISTERED", 401)
    return user


@handles(functions.account.GetPasswordRequest, auth=False)
def get_password(ctx: Context, req: functions.account.GetPasswordRequest) -> types.account.Password:
    user = _password_user(ctx)
    rec = ctx.world.passwords.get(user)
    if rec is None:
        return srp.password_info(None, None)
    challenge = srp.new_challenge(rec, _SYSTEM_RANDOM)
    assert ctx.key_id is not None
    ctx.world.srp_challenges[challenge.srp_id] = (ctx.key_id, user, challenge)
    return srp.password_info(rec, challenge)


@handles(functions.auth.CheckPasswordRequest, auth=False)
def check_password(
    ctx: Context, req: functions.auth.CheckPasswordRequest
) -> types.auth.Authorization:
    user = _password_user(ctx)
    rec = ctx.world.passwords.get(user)
    check = req.password
    if rec is None or not isinstance(check, types.InputCheckPasswordSRP):
        raise RpcFail("PASSWORD_HASH_INVALID")
    entry = ctx.world.srp_challenges.pop(check.srp_id, None)
    if entry is None or entry[0] != ctx.key_id or entry[1] != user:
        raise RpcFail("SRP_ID_INVALID")
    if not srp.check(rec, entry[2], check.A, check.M1):
        raise RpcFail("PASSWORD_HASH_INVALID")
    return _log_in(ctx, user)


@handles(functions.auth.LogOutRequest)
def log_out(ctx: Context, req: functions.auth.LogOutRequest) -> types.auth.LoggedOut:
    assert ctx.key_id is not None
    ctx.world.log_out_key(ctx.key_id)
    return types.auth.LoggedOut()
