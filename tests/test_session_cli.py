"""``session login|status|logout`` through the real CLI on the fake Telegram.

Spec telegram-cli §1.3 and scenario 4: no code for an authorised session, code and
two-step password with retries, the unauthorised session file deleted on failure,
status offline and online, logout as a plan first and audited when applied.
"""

from __future__ import annotations

import asyncio
import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegram
from tests.harness import API_HASH, Cli
from tgpilot.core.session_lock import SessionLock

PHONE = "+15550001000"
CODE = "22222"
PASSWORD = "correct horse battery staple"


def login_world(*, password: str | None = PASSWORD) -> FakeTelegram:
    world = FakeTelegram()
    world.add_me(1000, "Ada", "Lovelace", username="ada", phone=PHONE, password=password)
    alice = world.add_user(1001, "Alice", dialog=True)
    world.add_message(alice, text="hello")
    world.set_login_code(PHONE, CODE)
    return world


@pytest.fixture
def cli(make_cli: Callable[..., Cli]) -> Cli:
    return make_cli(login_world(), logged_in=False)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def server_file(cli: Cli) -> Path:
    return cli.home / "sessions" / "default.server.json"


def lock_file(cli: Cli) -> Path:
    return cli.home / "sessions" / "default.lock"


def code_requests(world: FakeTelegram) -> int:
    return world.requests["SendCodeRequest"] + world.requests["ResendCodeRequest"]


# login ---------------------------------------------------------------------------------


def test_login_when_authorised_requests_no_code(cli: Cli) -> None:
    cli.login_session()
    result = cli("session", "login", "--phone", PHONE)
    assert result.code == 0, result.err
    assert "already logged in as Ada Lovelace (@ada, id 1000)" in result.out
    assert cli.world.requests["SendCodeRequest"] == 0
    assert code_requests(cli.world) == 0
    assert "Login code" not in result.err


def test_login_wrong_code_then_right_code_and_password(cli: Cli) -> None:
    result = cli("session", "login", "--phone", PHONE, stdin=f"11111\n{CODE}\n{PASSWORD}\n")
    assert result.code == 0, result.err
    assert "Login code: " in result.err
    assert "wrong code (2 attempts left)" in result.err
    assert "Two-step verification password: " in result.err
    # the password is asked only after the wrong code was reported
    assert result.err.index("wrong code") < result.err.index("Two-step verification")
    assert "logged in as Ada Lovelace (@ada, id 1000)" in result.out
    assert f"session: {cli.session_file}" in result.out
    assert cli.world.requests["SendCodeRequest"] == 1
    assert cli.world.requests["SignInRequest"] == 2
    assert cli.world.requests["CheckPasswordRequest"] == 1
    assert mode(cli.session_file) == 0o600
    assert mode(cli.session_file.parent) == 0o700
    assert json.loads(server_file(cli).read_text(encoding="utf-8")) == {"kind": "production"}
    assert PASSWORD not in result.out + result.err
    # the new session is really logged in: an online command works without a prompt
    cli.world.reset_counts()
    listed = cli("chats", "list", "--refresh", "--json")
    assert listed.code == 0, listed.err
    assert [row["title"] for row in listed.json()] == ["Alice"]
    assert code_requests(cli.world) == 0


def test_login_password_from_environment(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_PASSWORD", PASSWORD)
    result = cli("session", "login", "--phone", PHONE, stdin=f"{CODE}\n")
    assert result.code == 0, result.err
    assert "Two-step verification password" not in result.err
    assert "logged in as Ada Lovelace (@ada, id 1000)" in result.out
    assert mode(cli.session_file) == 0o600


def test_login_phone_from_environment(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_PHONE", PHONE)
    monkeypatch.setenv("TELEGRAM_PASSWORD", PASSWORD)
    result = cli("session", "login", stdin=f"{CODE}\n")
    assert result.code == 0, result.err
    assert "Phone number" not in result.err


def test_login_three_wrong_passwords_fails_and_deletes_the_session(cli: Cli) -> None:
    stdin = f"{CODE}\nnope-1\nnope-2\nnope-3\n"
    result = cli("session", "login", "--phone", PHONE, stdin=stdin)
    assert result.code == 1
    assert "PASSWORD_HASH_INVALID" in result.err
    assert "wrong password (2 attempts left)" in result.err
    assert "wrong password (1 attempts left)" in result.err
    assert cli.world.requests["CheckPasswordRequest"] == 3
    assert not cli.session_file.exists()
    assert not server_file(cli).exists()
    assert lock_file(cli).exists()  # the lock file is never deleted
    assert "nope-" not in result.out + result.err

    after = cli("chats", "list", "--refresh")
    assert after.code == 2
    assert "hint: tgpilot session login" in after.err


def test_failed_login_deletes_the_session_before_releasing_the_lock(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tgpilot.core.session_lock import SessionLock

    seen_at_release: list[bool] = []
    release = SessionLock.release

    def spying_release(lock: SessionLock) -> None:
        seen_at_release.append(cli.session_file.exists())
        release(lock)

    monkeypatch.setattr(SessionLock, "release", spying_release)
    result = cli("session", "login", "--phone", PHONE, stdin="11111\n33333\n44444\n")
    assert result.code == 1
    assert seen_at_release == [False]


def test_login_three_wrong_codes_fails_and_deletes_the_session(cli: Cli) -> None:
    result = cli("session", "login", "--phone", PHONE, stdin="11111\n33333\n44444\n")
    assert result.code == 1
    assert "PHONE_CODE_INVALID" in result.err
    assert cli.world.requests["SignInRequest"] == 3
    assert cli.world.requests["SendCodeRequest"] == 1
    assert not cli.session_file.exists()


def test_login_expired_code_requests_exactly_one_new_code(cli: Cli) -> None:
    cli.world.expire_next_code(PHONE)
    result = cli("session", "login", "--phone", PHONE, stdin=f"{CODE}\n{CODE}\n{PASSWORD}\n")
    assert result.code == 0, result.err
    assert "the code expired; a new one was sent" in result.err
    assert code_requests(cli.world) == 2
    assert "logged in as Ada Lovelace" in result.out


def test_login_code_expired_twice_fails(cli: Cli) -> None:
    cli.world.expire_next_code(PHONE, count=2)
    result = cli("session", "login", "--phone", PHONE, stdin=f"{CODE}\n{CODE}\n{CODE}\n")
    assert result.code == 1
    assert "PHONE_CODE_EXPIRED" in result.err
    assert code_requests(cli.world) == 2
    assert not cli.session_file.exists()


def test_login_without_a_terminal_exits_2_and_leaves_no_session(cli: Cli) -> None:
    result = cli("session", "login", "--phone", PHONE)  # stdin at EOF
    assert result.code == 2
    assert "no terminal to prompt on" in result.err
    assert "Login code: " in result.err
    assert not cli.session_file.exists()


def test_login_without_a_terminal_at_the_password_prompt_exits_2(cli: Cli) -> None:
    result = cli("session", "login", "--phone", PHONE, stdin=f"{CODE}\n")
    assert result.code == 2
    assert "no terminal to prompt on" in result.err
    assert not cli.session_file.exists()


def test_login_without_2fa(
    tgpilot_home: Path,
    fake_clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    world = FakeTelegram()
    world.add_me(1000, "Ada", phone=PHONE)
    world.set_login_code(PHONE, CODE)
    cli = Cli(world, fake_clock, tgpilot_home, monkeypatch, capsys)
    result = cli("session", "login", "--phone", PHONE, stdin=f"{CODE}\n")
    assert result.code == 0, result.err
    assert "logged in as Ada ((no username), id 1000)" in result.out
    assert "Two-step" not in result.err
    assert world.requests["CheckPasswordRequest"] == 0


def test_login_json(cli: Cli) -> None:
    result = cli("--json", "session", "login", "--phone", PHONE, stdin=f"{CODE}\n{PASSWORD}\n")
    assert result.code == 0, result.err
    assert result.json() == {
        "already": False,
        "user": {"id": 1000, "name": "Ada Lovelace", "username": "ada"},
        "session": str(cli.session_file),
    }
    again = cli("session", "login", "--json")
    assert again.code == 0, again.err
    assert again.json()["already"] is True
    assert again.json()["user"]["id"] == 1000


def test_login_force_logs_in_again(cli: Cli) -> None:
    cli.login_session()
    result = cli("session", "login", "--force", "--phone", PHONE, stdin=f"{CODE}\n{PASSWORD}\n")
    assert result.code == 0, result.err
    assert cli.world.requests["SendCodeRequest"] == 1
    assert "logged in as Ada Lovelace" in result.out


def test_failed_forced_login_keeps_the_authorised_session(cli: Cli) -> None:
    cli.login_session()
    result = cli("session", "login", "--force", "--phone", PHONE, stdin="1\n2\n3\n")
    assert result.code == 1
    assert cli.session_file.exists()
    assert cli("session", "status").code == 0


def test_login_while_the_session_is_busy_keeps_the_session_file(cli: Cli) -> None:
    cli.login_session()
    lock = SessionLock(lock_file(cli), "tgpilot export team --watch")
    asyncio.run(lock.acquire(0))
    try:
        result = cli("--lock-wait", "0", "session", "login", "--phone", PHONE)
    finally:
        lock.release()
    assert result.code == 4
    assert "tgpilot export team --watch" in result.err
    assert cli.session_file.exists()
    assert cli("session", "login").code == 0  # still logged in


def test_login_that_cannot_connect_leaves_no_new_session_file(cli: Cli) -> None:
    cli.world.faults.fail("connect", error="NETWORK_DOWN")
    result = cli("session", "login", "--phone", PHONE, stdin=f"{CODE}\n")
    assert result.code == 1
    assert "could not reach Telegram" in result.err
    assert not cli.session_file.exists()


def test_login_that_cannot_connect_keeps_an_existing_session(cli: Cli) -> None:
    cli.login_session()
    cli.world.faults.fail("connect", error="NETWORK_DOWN", times=1)
    result = cli("session", "login", "--phone", PHONE)
    assert result.code == 1
    assert cli.session_file.exists()
    assert cli("session", "login").code == 0


def test_online_command_on_an_unauthorised_session_file_hints_login(cli: Cli) -> None:
    cli.login_session()
    cli.world.auth.clear()  # the key was revoked on Telegram's side
    result = cli("chats", "list", "--refresh")
    assert result.code == 2
    assert str(cli.session_file) in result.err
    assert "hint: tgpilot session login" in result.err


# status --------------------------------------------------------------------------------


def test_status_offline_with_and_without_a_session(cli: Cli) -> None:
    missing = cli("session", "status", "--offline")
    assert missing.code == 2
    assert "missing" in missing.out
    assert "hint: tgpilot session login" in missing.err

    cli.login_session()
    result = cli("session", "status", "--offline")
    assert result.code == 0, result.err
    assert f"session:  {cli.session_file} (0600)" in result.out
    assert "lock:     free" in result.out
    assert "server:   Telegram's production servers" in result.out
    assert "user:" not in result.out
    assert sum(cli.world.requests.values()) == 0
    assert cli.world.connections == []


def test_status_offline_names_the_lock_holder(cli: Cli) -> None:
    cli.login_session()
    lock = SessionLock(lock_file(cli), "tgpilot export team --watch", clock=cli.clock)
    asyncio.run(lock.acquire(0))
    try:
        result = cli("session", "status", "--offline")
        as_json = cli("session", "status", "--offline", "--json")
    finally:
        lock.release()
    assert result.code == 0, result.err
    assert "(tgpilot export team --watch) since 2025-01-15T12:00:00Z" in result.out
    holder = as_json.json()["lock_holder"]
    assert holder["command"] == "tgpilot export team --watch"
    assert isinstance(holder["pid"], int)


def test_status_online_shows_user_and_dc(cli: Cli) -> None:
    cli.login_session()
    result = cli("session", "status")
    assert result.code == 0, result.err
    assert "user:     Ada Lovelace (@ada, id 1000)" in result.out
    assert "dc:       dc 2 (149.154.167.51:443)" in result.out
    data = cli("session", "status", "--json").json()
    assert data["authorised"] is True
    assert data["user"] == {"id": 1000, "name": "Ada Lovelace", "username": "ada"}
    assert data["dc"] == "dc 2 (149.154.167.51:443)"
    assert data["mode"] == "0600"


def test_status_online_unauthorised_session_exits_2(cli: Cli) -> None:
    cli.login_session()
    cli.world.auth.clear()
    result = cli("session", "status")
    assert result.code == 2
    assert "user:     not logged in" in result.out
    assert "hint: tgpilot session login" in result.err
    assert cli.session_file.exists()  # status never deletes anything


def test_status_online_without_a_session_exits_2_without_connecting(cli: Cli) -> None:
    result = cli("session", "status")
    assert result.code == 2
    assert cli.world.connections == []
    assert not cli.session_file.exists()


# logout --------------------------------------------------------------------------------


def test_logout_without_yes_only_prints_the_plan(cli: Cli) -> None:
    cli.login_session()
    result = cli("session", "logout")
    assert result.code == 0, result.err
    assert f"log out Ada Lovelace (@ada, id 1000), delete {cli.session_file}" in result.out
    assert "--yes" in result.err
    assert cli.world.requests["LogOutRequest"] == 0
    assert cli.session_file.exists()
    assert not (cli.home / "audit.jsonl").exists()
    assert cli("session", "status").code == 0


def test_logout_with_yes_logs_out_deletes_and_audits(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_PASSWORD", PASSWORD)
    cli.login_session()
    assert cli("session", "status").code == 0  # writes the server record
    assert server_file(cli).exists()
    result = cli("session", "logout", "--yes")
    assert result.code == 0, result.err
    assert f"logged out Ada Lovelace (@ada, id 1000); deleted {cli.session_file}" in result.out
    assert cli.world.requests["LogOutRequest"] == 1
    assert cli.world.auth == {}
    assert not cli.session_file.exists()
    assert not server_file(cli).exists()
    assert lock_file(cli).exists()
    audit = cli.home / "audit.jsonl"
    text = audit.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["action"] == "session.logout"
    assert record["result"] == "ok"
    assert record["account"] == "default"
    assert record["params"] == {"user_id": 1000}
    assert API_HASH not in text
    assert PASSWORD not in text
    assert mode(audit) == 0o600

    again = cli("session", "logout", "--yes")
    assert again.code == 2
    assert "hint: tgpilot session login" in again.err
    assert len(audit.read_text(encoding="utf-8").splitlines()) == 1


def test_logout_json_plan(cli: Cli) -> None:
    cli.login_session()
    result = cli("session", "logout", "--json")
    assert result.code == 0, result.err
    assert result.json() == {
        "plan": [f"log out Ada Lovelace (@ada, id 1000), delete {cli.session_file}"],
        "applied": False,
    }
