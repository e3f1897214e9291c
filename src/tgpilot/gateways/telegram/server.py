"""Which Telegram server a session belongs to, so staging and production never mix.

Beside each session file we record ``<account>.server.json``: ``{"kind": "production"}``
or ``{"kind": "custom", "dc_id", "address", "port"}``. Opening a session against another
server than the one it was made on is a :class:`ConfigError` (spec telegram-cli §1.6).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from telethon.crypto import rsa

from tgpilot.core.errors import ConfigError
from tgpilot.gateways.telegram.client import ServerSpec


def describe(record: dict[str, Any]) -> str:
    """Human form of a server record."""
    if record.get("kind") == "custom":
        return f"test server {record['address']}:{record['port']} (dc {record['dc_id']})"
    return "Telegram's production servers"


def record_for(server: ServerSpec | None) -> dict[str, Any]:
    """The record of the server a config points at."""
    if server is None:
        return {"kind": "production"}
    return {"kind": "custom", "dc_id": server.dc_id, "address": server.address, "port": server.port}


def read_record(path: Path) -> dict[str, Any] | None:
    """The recorded server of a session, or None if none was recorded."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"session server record {path} is unreadable: {exc}") from exc
    return data if isinstance(data, dict) else None


def check_server(path: Path, server: ServerSpec | None, session_path: Path) -> None:
    """Refuse to use a session made on another server than the configured one."""
    recorded = read_record(path)
    if recorded is None:
        return
    wanted = record_for(server)
    if recorded != wanted:
        raise ConfigError(
            f"session {session_path} belongs to {describe(recorded)}, "
            f"but the config points at {describe(wanted)}",
            hint="use another --account for the other server, or fix telegram.server",
        )


def check_unrecorded(
    stored: tuple[int, str, int], logged_in: bool, server: ServerSpec | None, session_path: Path
) -> None:
    """Refuse a logged-in session without a record whose stored DC is not the test server.

    Such a session (made before records existed, or by another tool) names its server
    only through the DC address Telethon stored in it; connecting it elsewhere would
    rewrite that address and record the wrong server.
    """
    if server is None or not logged_in:
        return
    dc_id, address, port = stored
    if (address, port) != (server.address, server.port):
        raise ConfigError(
            f"session {session_path} was made on {address}:{port} (dc {dc_id}), "
            f"but the config points at {describe(record_for(server))}",
            hint="use another --account for the other server, or fix telegram.server",
        )


def write_record(path: Path, server: ServerSpec | None) -> None:
    """Record the server a session was made on (atomically, mode 0600)."""
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(record_for(server), handle)
    tmp.replace(path)


def register_rsa_key(pem: str) -> None:
    """Teach Telethon the server's RSA public key (test servers have their own)."""
    try:
        rsa.add_key(pem, old=False)
    except Exception as exc:  # the PEM/ASN.1 parsers raise ValueError, PyAsn1Error, ...
        raise ConfigError(
            f"telegram.server.rsa_key_file: not an RSA public key (PKCS#1 PEM): {exc}"
        ) from exc
