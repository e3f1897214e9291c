"""``telegram.server``: a session bound to a test server, never mixed with production.

Spec telegram-cli §1.6 and scenario 9: the gateway sets the session's DC to the
configured server and registers its RSA key before connecting; the session records its
server and using it against another one is a ``ConfigError`` (exit 2).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import rsa
from telethon.crypto import rsa as telethon_rsa

from tests.fakes.telegram import DEFAULT_DC, FakeTelegram
from tests.harness import Cli

TEST_DC = (2, "203.0.113.10", 443)
SERVER_YAML = """\
telegram:
  server:
    dc_id: 2
    address: 203.0.113.10
    port: 443
    rsa_key_file: keys/test.pem
"""


@pytest.fixture(scope="module")
def test_key() -> rsa.PublicKey:
    return rsa.newkeys(512)[0]


@pytest.fixture(autouse=True)
def isolated_rsa_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Registered keys go to a copy of Telethon's store, dropped after the test."""
    monkeypatch.setattr(telethon_rsa, "_server_keys", dict(telethon_rsa._server_keys))
    yield


def server_world() -> FakeTelegram:
    world = FakeTelegram(test_mode=True)
    world.add_me(1000, "Tess", username="tess", phone="+9996621234")
    alice = world.add_user(1001, "Alice", dialog=True)
    world.add_message(alice, text="hello from the test DC")
    return world


@pytest.fixture
def cli(make_cli: Callable[..., Cli]) -> Cli:
    return make_cli(server_world(), logged_in=False)


@pytest.fixture
def config_dir(tmp_path: Path, test_key: rsa.PublicKey) -> Path:
    """A config folder (not the working directory) with config.yml and keys/test.pem."""
    folder = tmp_path / "conf"
    (folder / "keys").mkdir(parents=True)
    (folder / "keys" / "test.pem").write_bytes(test_key.save_pkcs1())
    (folder / "config.yml").write_text(SERVER_YAML, encoding="utf-8")
    return folder


def fingerprint(key: rsa.PublicKey) -> int:
    return int(telethon_rsa._compute_fingerprint(key))


def server_record(cli: Cli) -> object:
    path = cli.home / "sessions" / "default.server.json"
    return json.loads(path.read_text(encoding="utf-8"))


def authorize_on_test_dc(cli: Cli) -> Path:
    cli.session_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    cli.world.authorize_session_file(cli.session_file, dc=TEST_DC)
    cli.session_file.chmod(0o600)
    return cli.session_file


def test_online_command_connects_to_the_test_server_with_its_key(
    cli: Cli, config_dir: Path, test_key: rsa.PublicKey
) -> None:
    authorize_on_test_dc(cli)
    config = str(config_dir / "config.yml")
    result = cli("--config", config, "chats", "list", "--refresh", "--json")
    assert result.code == 0, result.err
    assert [row["title"] for row in result.json()] == ["Alice"]
    assert cli.world.connections
    for connection in cli.world.connections:
        assert (connection.dc_id, connection.ip, connection.port) == TEST_DC
        assert fingerprint(test_key) in connection.rsa_fingerprints
    assert fingerprint(test_key) in telethon_rsa._server_keys
    assert server_record(cli) == {
        "kind": "custom",
        "dc_id": 2,
        "address": "203.0.113.10",
        "port": 443,
    }
    status = cli("--config", config, "session", "status")
    assert status.code == 0, status.err
    assert "server:   test server 203.0.113.10:443 (dc 2)" in status.out
    assert "dc:       dc 2 (203.0.113.10:443)" in status.out


def test_test_server_session_without_the_setting_is_a_config_error(
    cli: Cli, config_dir: Path
) -> None:
    authorize_on_test_dc(cli)
    config = str(config_dir / "config.yml")
    assert cli("--config", config, "chats", "list", "--refresh").code == 0
    connections = len(cli.world.connections)
    for args in (("chats", "list", "--refresh"), ("session", "status"), ("session", "login")):
        result = cli(*args)
        assert result.code == 2, (args, result.err)
        assert "test server 203.0.113.10:443 (dc 2)" in result.err
        assert "production" in result.err
    assert len(cli.world.connections) == connections  # refused before connecting
    assert cli.session_file.exists()  # a refused login deletes nothing
    assert cli("--config", config, "session", "status").code == 0


def test_production_session_with_the_setting_is_a_config_error(cli: Cli, config_dir: Path) -> None:
    cli.login_session()
    assert cli("session", "status").code == 0  # records the production server
    assert server_record(cli) == {"kind": "production"}
    config = str(config_dir / "config.yml")
    connections = len(cli.world.connections)
    for args in (("chats", "list", "--refresh"), ("session", "status"), ("session", "login")):
        result = cli("--config", config, *args)
        assert result.code == 2, (args, result.err)
        assert "production" in result.err
        assert "test server 203.0.113.10:443 (dc 2)" in result.err
    assert len(cli.world.connections) == connections
    assert cli.session_file.exists()
    assert cli("session", "status").code == 0


def test_unrecorded_production_session_with_the_setting_is_refused(
    cli: Cli, config_dir: Path
) -> None:
    """A session made before server records existed: its stored DC tells its server."""
    cli.login_session()
    config = str(config_dir / "config.yml")
    for args in (("session", "status"), ("chats", "list", "--refresh"), ("session", "login")):
        result = cli("--config", config, *args)
        assert result.code == 2, (args, result.err)
        assert "test server 203.0.113.10:443 (dc 2)" in result.err
    assert not (cli.home / "sessions" / "default.server.json").exists()
    assert cli.session_file.exists()
    production = cli("session", "status")
    assert production.code == 0, production.err
    assert f"dc {DEFAULT_DC[0]} ({DEFAULT_DC[1]}:{DEFAULT_DC[2]})" in production.out


def test_login_on_the_test_server_uses_test_dc_codes(cli: Cli, config_dir: Path) -> None:
    config = str(config_dir / "config.yml")
    result = cli("--config", config, "session", "login", "--phone", "9996621234", stdin="22222\n")
    assert result.code == 0, result.err
    assert "logged in as Tess (@tess, id 1000)" in result.out
    assert {(c.dc_id, c.ip, c.port) for c in cli.world.connections} == {TEST_DC}
    assert server_record(cli)["kind"] == "custom"  # type: ignore[index]
    assert cli("--config", config, "chats", "list", "--refresh").code == 0


@pytest.mark.parametrize(
    "content",
    [
        b"this is not a key\n",
        b"-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----\n",
        b"\xff\xfe\x00garbage",
    ],
    ids=["text", "bad-body", "binary"],
)
def test_garbage_rsa_key_file_is_a_config_error(cli: Cli, config_dir: Path, content: bytes) -> None:
    authorize_on_test_dc(cli)
    (config_dir / "keys" / "test.pem").write_bytes(content)
    result = cli("--config", str(config_dir / "config.yml"), "chats", "list", "--refresh")
    assert result.code == 2, result.err
    assert "rsa_key_file" in result.err
    assert "Traceback" not in result.err
    assert cli.world.connections == []


@pytest.mark.parametrize("problem", ["missing", "directory"])
def test_unreadable_rsa_key_file_is_a_config_error(
    cli: Cli, config_dir: Path, problem: str
) -> None:
    authorize_on_test_dc(cli)
    key = config_dir / "keys" / "test.pem"
    key.unlink()
    if problem == "directory":
        key.mkdir()
    result = cli("--config", str(config_dir / "config.yml"), "chats", "list", "--refresh")
    assert result.code == 2, result.err
    assert "rsa_key_file" in result.err
    assert str(key) in result.err
    assert cli.world.connections == []
