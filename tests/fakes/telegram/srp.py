"""The server side of Telegram's SRP 2FA check (``account.getPassword``/``auth.checkPassword``).

Telethon's client computes ``telethon.password.compute_check`` from the
``account.Password`` we send; here the server does its half with the same hash helpers:

    x  = PH2(password, salt1, salt2)          v = g^x mod p  (stored, never the password)
    k  = H(p | g)                             B = (k·v + g^b) mod p
    u  = H(A | B)                             S = (A · v^u)^b mod p,  K = H(S)
    M1 = H(H(p) xor H(g) | H(salt1) | H(salt2) | A | B | K)

A wrong password gives a different M1, answered with ``PASSWORD_HASH_INVALID``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from telethon import password as tpw
from telethon.tl import types

from .model import PasswordRec

#: Telegram's 2048-bit safe prime (the one Telethon accepts without factorising).
GOOD_PRIME = bytes.fromhex(
    "C71CAEB9C6B1C9048E6C522F70F13F73980D40238E3E21C14934D037563D930F"
    "48198A0AA7C14058229493D22530F4DBFA336F6E0AC925139543AED44CCE7C37"
    "20FD51F69458705AC68CD4FE6B6B13ABDC9746512969328454F18FAF8C595F64"
    "2477FE96BB2A941D5BCD1D4AC8CC49880708FA9B378E3C4F3A9060BEE67CF9A4"
    "A4A695811051907E162753B56B0F6B410DBA74D8A84B2A14B3144E0EF1284754"
    "FD17ED950D5965B4B9DD46582DB1178D169C6BC465B0D6FF9CA3928FEF5B9AE4"
    "E418FC15E83EBEA0F87FA9FF5EED70050DED2849F47BF959D956850CE929851F"
    "0D8115F635B105EE2E4E15D04B2454BF6F4FADF034B10403119CD8E3B92FCC5B"
)
GENERATOR = 3


def make_password(password: str, rng: random.Random, hint: str | None = None) -> PasswordRec:
    """The record a server keeps for ``password``: salts and the verifier ``v = g^x``."""
    salt1 = rng.randbytes(40)
    salt2 = rng.randbytes(16)
    algo = _algo(salt1, salt2)
    x = int.from_bytes(tpw.compute_hash(algo, password), "big")
    verifier = pow(GENERATOR, x, int.from_bytes(GOOD_PRIME, "big"))
    return PasswordRec(
        salt1=salt1, salt2=salt2, g=GENERATOR, p=GOOD_PRIME, verifier=verifier, hint=hint
    )


def _algo(
    salt1: bytes, salt2: bytes
) -> types.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow:
    return types.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow(
        salt1=salt1, salt2=salt2, g=GENERATOR, p=GOOD_PRIME
    )


@dataclass
class SrpChallenge:
    """One ``account.getPassword`` answer's secret half: ``b`` and the ``B`` sent."""

    srp_id: int
    b: int
    big_b: int


def new_challenge(rec: PasswordRec, rng: random.Random) -> SrpChallenge:
    """Pick ``b`` and compute ``B = k·v + g^b (mod p)`` so that the client's checks pass."""
    p = int.from_bytes(rec.p, "big")
    k = int.from_bytes(tpw.sha256(rec.p, tpw.big_num_for_hash(rec.g)), "big")
    while True:
        b = int.from_bytes(rng.randbytes(256), "big")
        g_b = pow(rec.g, b, p)
        big_b = (k * rec.verifier + g_b) % p
        if tpw.is_good_mod_exp_first(g_b, p) and tpw.is_good_large(big_b, p):
            return SrpChallenge(srp_id=rng.getrandbits(63), b=b, big_b=big_b)


def password_info(
    rec: PasswordRec | None, challenge: SrpChallenge | None
) -> types.account.Password:
    """The ``account.Password`` answer: the current algorithm, ``srp_B`` and ``srp_id``."""
    new_algo = _algo(b"\x00" * 8, b"\x00" * 16)
    if rec is None or challenge is None:
        return types.account.Password(
            new_algo=new_algo,
            new_secure_algo=types.SecurePasswordKdfAlgoUnknown(),
            secure_random=bytes(32),
            has_password=False,
        )
    return types.account.Password(
        new_algo=new_algo,
        new_secure_algo=types.SecurePasswordKdfAlgoUnknown(),
        secure_random=bytes(32),
        has_password=True,
        current_algo=_algo(rec.salt1, rec.salt2),
        srp_B=tpw.big_num_for_hash(challenge.big_b),
        srp_id=challenge.srp_id,
        hint=rec.hint,
    )


def check(rec: PasswordRec, challenge: SrpChallenge, a_bytes: bytes, m1: bytes) -> bool:
    """Whether the client's ``A`` and ``M1`` prove knowledge of the password."""
    p = int.from_bytes(rec.p, "big")
    big_a = int.from_bytes(a_bytes, "big")
    if not tpw.is_good_large(big_a, p):
        return False
    a_for_hash = tpw.big_num_for_hash(big_a)
    b_for_hash = tpw.big_num_for_hash(challenge.big_b)
    u = int.from_bytes(tpw.sha256(a_for_hash, b_for_hash), "big")
    s = pow(big_a * pow(rec.verifier, u, p) % p, challenge.b, p)
    k_session = tpw.sha256(tpw.big_num_for_hash(s))
    p_for_hash = tpw.num_bytes_for_hash(rec.p)
    g_for_hash = tpw.big_num_for_hash(rec.g)
    expected = tpw.sha256(
        tpw.xor(tpw.sha256(p_for_hash), tpw.sha256(g_for_hash)),
        tpw.sha256(rec.salt1),
        tpw.sha256(rec.salt2),
        a_for_hash,
        b_for_hash,
        k_session,
    )
    return expected == m1
