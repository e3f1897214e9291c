"""Configuration loading: precedence, files, placeholders, secrets, aliases (spec §1.1–§1.2).

Every test passes an explicit ``environ``; home, config dir and working dir live in
``tmp_path`` (the working dir is set by ``conftest.clean_environment``).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tgpilot.core.config import (
    ENV_ALIASES,
    Config,
    ConfigInspection,
    ConfigOptions,
    env_names,
    inspect_config,
    load_config,
    mask_url,
)
from tgpilot.core.errors import ConfigError
from tgpilot.core.paths import Paths
from tgpilot.models import ChatType

API_HASH = "0123456789abcdef0123456789abcdef"
PASSWORD = "correct-horse-battery"
DB_PASSWORD = "s3cr3t-db-pass"


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The working directory (config.yml and .env lookup start here)."""
    folder = tmp_path / "cwd"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A minimal environment: a private user home and data dir, nothing else."""
    return {
        "HOME": str(tmp_path / "user"),
        "TGPILOT_HOME": str(tmp_path / "data"),
    }


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(options: ConfigOptions, environ: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(options, environ)
    return caught.value.message


def row(inspection: ConfigInspection, path: str) -> tuple[str, str, str]:
    found = [r for r in inspection.rows if r.path == path]
    assert found, f"no row {path}: {[r.path for r in inspection.rows]}"
    return found[0].value, found[0].source, found[0].status


def everything_shown(inspection: ConfigInspection) -> str:
    parts = [*inspection.problems]
    for r in inspection.rows:
        parts += [r.path, r.value, r.message, r.origin]
    return "\n".join(parts)


# --------------------------------------------------------------------------- precedence


def test_scenario_1_precedence(work: Path, env: dict[str, str]) -> None:
    write(work / "config.yml", "telegram:\n  api_id: 321\nlimits:\n  default: 3000\n")
    env |= {"TELEGRAM_API_ID": "9999", "TGPILOT_LIMITS__DEFAULT": "1000"}

    config = load_config(ConfigOptions(), env)
    assert config.telegram.api_id == 9999
    assert config.limits.default == 1000

    flagged = load_config(ConfigOptions(flags={"limits.default": 50}), env)
    assert flagged.limits.default == 50

    in_ci = load_config(ConfigOptions(), env | {"GITHUB_ACTIONS": "true", "CI": "true"})
    assert in_ci.model_dump() == config.model_dump()


def test_every_layer_in_order(work: Path, env: dict[str, str]) -> None:
    write(work / "config.yml", "session:\n  lock_wait: 3\n")
    write(work / ".env", "TGPILOT_SESSION__LOCK_WAIT=4\n")
    inspection = inspect_config(ConfigOptions(), env, require_credentials=False)
    assert row(inspection, "session.lock_wait")[:2] == ("4", ".env")
    assert row(inspection, "flood.max_wait")[:2] == ("300", "default")

    env["TGPILOT_SESSION__LOCK_WAIT"] = "5"
    assert load_config(ConfigOptions(), env).session.lock_wait == 5
    flagged = ConfigOptions(flags={"session.lock_wait": 6.0, "flood.max_wait": None})
    inspection = inspect_config(flagged, env, require_credentials=False)
    assert row(inspection, "session.lock_wait")[:2] == ("6.0", "flag")
    assert row(inspection, "flood.max_wait")[:2] == ("300", "default")  # None: not given

    (work / ".env").unlink()
    del env["TGPILOT_SESSION__LOCK_WAIT"]
    inspection = inspect_config(ConfigOptions(), env, require_credentials=False)
    assert row(inspection, "session.lock_wait")[:2] == ("3", "config.yml")


def test_tgpilot_form_beats_alias(work: Path, env: dict[str, str]) -> None:
    env |= {"TELEGRAM_API_ID": "1111", "TGPILOT_TELEGRAM__API_ID": "2222"}
    inspection = inspect_config(ConfigOptions(), env, require_credentials=False)
    assert inspection.config is not None
    assert inspection.config.telegram.api_id == 2222
    assert inspection.rows[0].origin == "TGPILOT_TELEGRAM__API_ID"


def test_process_env_alias_beats_dotenv_tgpilot_form(work: Path, env: dict[str, str]) -> None:
    write(work / ".env", "TGPILOT_TELEGRAM__API_ID=2222\n")
    config = load_config(ConfigOptions(), env | {"TELEGRAM_API_ID": "1111"})
    assert config.telegram.api_id == 1111


def test_alias_table_is_one_dict() -> None:
    assert ENV_ALIASES["telegram.api_hash"] == ("TELEGRAM_API_HASH",)
    assert env_names("telegram.password") == ("TGPILOT_TELEGRAM__PASSWORD", "TELEGRAM_PASSWORD")
    assert env_names("telegram.server.dc_id") == ("TGPILOT_TELEGRAM__SERVER__DC_ID",)


# --------------------------------------------------------------------------- env and .env


def test_scenario_2_env_file_alone(work: Path, env: dict[str, str]) -> None:
    write(work / ".env", f"TELEGRAM_API_ID=4242\nTELEGRAM_API_HASH={API_HASH}\n")
    before = dict(os.environ)
    inspection = inspect_config(ConfigOptions(), env)
    assert dict(os.environ) == before  # .env never touches the process environment
    assert inspection.valid, inspection.problems
    assert inspection.config_file is None
    assert inspection.env_file == work / ".env"
    assert row(inspection, "telegram.api_id") == ("4242", ".env", "ok")
    assert row(inspection, "telegram.api_hash") == ("set (32 chars)", ".env", "ok")
    assert inspection.config is not None
    assert inspection.config.require_api_credentials() == (4242, API_HASH)


def test_env_file_lookup_order(work: Path, env: dict[str, str], tmp_path: Path) -> None:
    write(tmp_path / "data" / ".env", "TELEGRAM_API_ID=1\n")
    assert load_config(ConfigOptions(), env).telegram.api_id == 1
    write(work / ".env", "TELEGRAM_API_ID=2\n")
    assert load_config(ConfigOptions(), env).telegram.api_id == 2
    named = write(tmp_path / "other.env", "TELEGRAM_API_ID=3\n")
    config = load_config(ConfigOptions(env_file=named), env)
    assert (config.telegram.api_id, config.env_file) == (3, named)
    message = problems_of(ConfigOptions(env_file=tmp_path / "nope.env"), env)
    assert str(tmp_path / "nope.env") in message


def test_env_alone_is_complete(work: Path, env: dict[str, str]) -> None:
    env |= {
        "TGPILOT_TELEGRAM__API_ID": "77",
        "TGPILOT_TELEGRAM__API_HASH": API_HASH,
        "TGPILOT_TELEGRAM__SERVER__DC_ID": "2",
        "TGPILOT_TELEGRAM__SERVER__ADDRESS": "203.0.113.10",
        "TGPILOT_OUTPUT__TIMEZONE": "Europe/Moscow",
        "TGPILOT_CHATS__TEAM__ID": "-1001234567890",
        "TGPILOT_CHATS__TEAM__TYPE": "supergroup",
        "TGPILOT_CLEAN__LINK_PATTERNS__MEETINGS": r"https://zoom\.us/\S+",
    }
    config = load_config(ConfigOptions(), env)
    assert config.telegram.server is not None
    assert (config.telegram.server.dc_id, config.telegram.server.port) == (2, 443)
    assert config.output.tz.key == "Europe/Moscow"
    assert config.chats["team"].id == -1001234567890
    assert config.chats["team"].type is ChatType.SUPERGROUP
    assert config.clean.compiled_patterns()["meetings"].match("https://zoom.us/j/1")


def test_env_values_convert_with_clear_errors(work: Path, env: dict[str, str]) -> None:
    env |= {"TELEGRAM_API_ID": "abc", "TGPILOT_FLOOD__MAX_WAIT": "ten"}
    message = problems_of(ConfigOptions(), env)
    assert "telegram.api_id: not an integer: 'abc' (from TELEGRAM_API_ID)" in message
    assert "flood.max_wait: not an integer: 'ten' (from TGPILOT_FLOOD__MAX_WAIT)" in message


def test_empty_env_value_is_an_error(work: Path, env: dict[str, str]) -> None:
    message = problems_of(ConfigOptions(), env | {"TELEGRAM_PHONE": ""})
    assert message == "telegram.phone: empty value (from TELEGRAM_PHONE)"


def test_typo_in_known_section_env_name_is_an_error(work: Path, env: dict[str, str]) -> None:
    env |= {"TGPILOT_SESSION__LOCKWAIT": "3", "TGPILOT_TEST_MYSQL_URL": "x", "CI": "1"}
    message = problems_of(ConfigOptions(), env)
    assert message.startswith("TGPILOT_SESSION__LOCKWAIT: no such setting session.lockwait")
    assert "session.lock_wait" in message  # the suggestion
    assert "TGPILOT_TEST_MYSQL_URL" not in message


# --------------------------------------------------------------------------- config.yml


def test_config_file_lookup_order(work: Path, env: dict[str, str], tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    env["XDG_CONFIG_HOME"] = str(xdg)
    write(xdg / "tgpilot" / "config.yml", "limits: {default: 1}\n")
    assert load_config(ConfigOptions(), env).limits.default == 1
    write(work / "config.yml", "limits: {default: 2}\n")
    assert load_config(ConfigOptions(), env).limits.default == 2
    named = write(tmp_path / "named.yml", "limits: {default: 3}\n")
    assert load_config(ConfigOptions(), env | {"TGPILOT_CONFIG": str(named)}).limits.default == 3
    flagged = write(tmp_path / "flag.yml", "limits: {default: 4}\n")
    config = load_config(ConfigOptions(config_file=flagged), env | {"TGPILOT_CONFIG": str(named)})
    assert (config.limits.default, config.config_file) == (4, flagged)


def test_xdg_default_is_dot_config(work: Path, env: dict[str, str], tmp_path: Path) -> None:
    write(tmp_path / "user" / ".config" / "tgpilot" / "config.yml", "limits: {default: 9}\n")
    assert load_config(ConfigOptions(), env).limits.default == 9


def test_missing_named_config_file(work: Path, env: dict[str, str], tmp_path: Path) -> None:
    missing = tmp_path / "missing.yml"
    message = problems_of(ConfigOptions(config_file=missing), env)
    assert str(missing) in message and "--config" in message
    message = problems_of(ConfigOptions(), env | {"TGPILOT_CONFIG": str(missing)})
    assert str(missing) in message and "TGPILOT_CONFIG" in message


def test_bad_yaml_names_path_and_line(work: Path, env: dict[str, str]) -> None:
    path = write(work / "config.yml", "telegram:\n  api_id: 1\n  phone: [unclosed\nlimits: 3\n")
    message = problems_of(ConfigOptions(), env)
    assert str(path) in message
    assert "line 4" in message


def test_yaml_top_level_must_be_a_mapping(work: Path, env: dict[str, str]) -> None:
    write(work / "config.yml", "- a\n- b\n")
    assert "top level must be a mapping" in problems_of(ConfigOptions(), env)


def test_empty_yaml_and_empty_sections_are_fine(work: Path, env: dict[str, str]) -> None:
    write(work / "config.yml", "telegram:\nchats:\n")
    assert load_config(ConfigOptions(), env).chats == {}
    write(work / "config.yml", "")
    assert load_config(ConfigOptions(), env).limits.default == 3000


def test_unknown_keys_are_named(work: Path, env: dict[str, str]) -> None:
    write(work / "config.yml", "sesion: {lock_wait: 3}\ntelegram: {api_idd: 5}\n")
    message = problems_of(ConfigOptions(), env)
    assert "sesion: unknown key (did you mean session?)" in message
    assert "telegram.api_idd: unknown key (did you mean telegram.api_id?)" in message


def test_scenario_2_placeholders(work: Path, env: dict[str, str]) -> None:
    write(work / "config.yml", "telegram:\n  api_id: ${MY_ID}\n")
    inspection = inspect_config(ConfigOptions(), env | {"MY_ID": "4242"}, require_credentials=False)
    assert inspection.config is not None and inspection.config.telegram.api_id == 4242
    assert row(inspection, "telegram.api_id")[:2] == ("4242", "config.yml")

    write(work / ".env", "MY_ID=4343\n")
    assert load_config(ConfigOptions(), env).telegram.api_id == 4343
    (work / ".env").unlink()

    message = problems_of(ConfigOptions(), env)
    assert "MY_ID" in message
    assert message.startswith("telegram.api_id: ${MY_ID} is not set")


def test_scenario_3_aliases(work: Path, env: dict[str, str]) -> None:
    aliases = (
        "chats:\n"
        "  news: {username: example_news}\n"
        "  feed: {id: 123456, type: channel}\n"
        "  team: {id: -1001234567890}\n"
        "  friend: {id: 5555, type: user}\n"
        '  club: {link: "https://t.me/example_book_club", title: "Book: \\"Club\\""}\n'
    )
    write(work / "config.yml", aliases)
    chats = load_config(ConfigOptions(), env).chats
    assert chats["news"].username == "example_news"
    assert (chats["feed"].id, chats["feed"].type) == (123456, ChatType.CHANNEL)
    assert (chats["team"].id, chats["team"].type) == (-1001234567890, None)
    assert chats["friend"].type is ChatType.USER
    assert (chats["club"].link, chats["club"].title) == (
        "https://t.me/example_book_club",
        'Book: "Club"',
    )

    write(work / "config.yml", aliases + "  broken: {type: random}\n")
    message = problems_of(ConfigOptions(), env)
    assert "chats.broken" in message and "'random'" in message
    for kind in ChatType:
        assert kind.value in message


@pytest.mark.parametrize(
    ("alias", "expected"),
    [
        ("{}", "no target"),
        ("{id: 1, username: x}", "several targets (id, username)"),
        ("{id: 12x}", "id is not an integer: '12x'"),
        ("{id: 1.5}", "id is not an integer: 1.5"),
        ("{usernme: x}", "unknown key 'usernme'"),
        ("-100123", "must be a mapping"),
    ],
)
def test_bad_aliases(work: Path, env: dict[str, str], alias: str, expected: str) -> None:
    write(work / "config.yml", f"chats:\n  team: {alias}\n")
    message = problems_of(ConfigOptions(), env)
    assert message.startswith("chats.team: ")
    assert expected in message


def test_alias_is_replaced_whole_by_a_higher_layer(work: Path, env: dict[str, str]) -> None:
    write(
        work / "config.yml", "chats:\n  team: {username: old_team, title: Team}\n  ops: {id: 7}\n"
    )
    config = load_config(ConfigOptions(), env | {"TGPILOT_CHATS__TEAM__ID": "-1009"})
    assert config.chats["team"].model_dump(exclude_none=True) == {"id": -1009}
    assert config.chats["ops"].id == 7


def test_booleans_are_not_numbers(work: Path, env: dict[str, str]) -> None:
    write(work / "config.yml", "telegram: {api_id: true}\n")
    assert "telegram.api_id: a boolean is not allowed here" in problems_of(ConfigOptions(), env)


def test_yaml_phone_number_stays_a_string(work: Path, env: dict[str, str]) -> None:
    write(work / "config.yml", "telegram: {phone: +15551234567}\n")
    assert load_config(ConfigOptions(), env).telegram.phone == "15551234567"
    write(work / "config.yml", 'telegram: {phone: "+15551234567"}\n')
    assert load_config(ConfigOptions(), env).telegram.phone == "+15551234567"


# --------------------------------------------------------------------------- secrets


@pytest.mark.parametrize(
    ("yaml_text", "env_name"),
    [
        (f"telegram:\n  api_hash: {API_HASH}\n", "TGPILOT_TELEGRAM__API_HASH or TELEGRAM_API_HASH"),
        (f"telegram:\n  password: {PASSWORD}\n", "TGPILOT_TELEGRAM__PASSWORD or TELEGRAM_PASSWORD"),
        (f"store:\n  url: mysql://bot:{DB_PASSWORD}@db.local/tg\n", "TGPILOT_STORE__URL"),
    ],
)
def test_secret_in_yaml_is_an_error(
    work: Path, env: dict[str, str], yaml_text: str, env_name: str
) -> None:
    write(work / "config.yml", yaml_text)
    message = problems_of(ConfigOptions(), env)
    assert env_name in message
    assert "config.yml" in message
    inspection = inspect_config(ConfigOptions(), env)
    shown = everything_shown(inspection)
    for secret in (API_HASH, PASSWORD, DB_PASSWORD):
        assert secret not in message
        assert secret not in shown


def test_secret_placeholders_are_allowed(work: Path, env: dict[str, str]) -> None:
    write(
        work / "config.yml",
        "telegram:\n  api_hash: ${HASH}\nstore:\n  url: mysql://bot:${DB_PASS}@db.local/tg\n",
    )
    config = load_config(ConfigOptions(), env | {"HASH": API_HASH, "DB_PASS": DB_PASSWORD})
    assert config.telegram.api_hash is not None
    assert config.telegram.api_hash.get_secret_value() == API_HASH
    assert config.store.url.get_secret_value() == f"mysql://bot:{DB_PASSWORD}@db.local/tg"
    assert config.store.masked_url == "mysql://bot:***@db.local/tg"


def test_secrets_never_shown(work: Path, env: dict[str, str]) -> None:
    env |= {
        "TELEGRAM_API_ID": "not-a-number",
        "TELEGRAM_API_HASH": API_HASH,
        "TELEGRAM_PASSWORD": PASSWORD,
        "TGPILOT_STORE__URL": f"mysql+pymysql://bot:{DB_PASSWORD}@db.local:3306/tg",
    }
    inspection = inspect_config(ConfigOptions(), env)
    shown = everything_shown(inspection)
    assert row(inspection, "telegram.api_hash")[0] == "set (32 chars)"
    assert row(inspection, "telegram.password")[0] == f"set ({len(PASSWORD)} chars)"
    assert row(inspection, "store.url")[0] == "mysql+pymysql://bot:***@db.local:3306/tg"
    for secret in (API_HASH, PASSWORD, DB_PASSWORD):
        assert secret not in shown
    env["TELEGRAM_API_ID"] = "5"
    config = load_config(ConfigOptions(), env)
    for secret in (API_HASH, PASSWORD, DB_PASSWORD):
        assert secret not in repr(config)
        assert secret not in str(config.model_dump())


def test_bad_store_url_is_masked(work: Path, env: dict[str, str]) -> None:
    env["TGPILOT_STORE__URL"] = f"oracle://bot:{DB_PASSWORD}@db/x"
    message = problems_of(ConfigOptions(), env)
    assert "store.url: not a database URL: 'oracle://bot:***@db/x'" in message
    assert DB_PASSWORD not in message


def test_store_url_default_and_mask(work: Path, env: dict[str, str], tmp_path: Path) -> None:
    config = load_config(ConfigOptions(), env)
    assert config.store.url.get_secret_value() == f"sqlite:///{tmp_path / 'data' / 'tgpilot.db'}"
    assert config.store.dialect == "sqlite"
    assert mask_url("postgresql://u:p@h:5432/d") == "postgresql://u:***@h:5432/d"
    assert mask_url("mysql://h/d") == "mysql://h/d"


# --------------------------------------------------------------------------- fields


def test_every_problem_listed_at_once(work: Path, env: dict[str, str]) -> None:
    write(
        work / "config.yml",
        "output: {timezone: Mars/Base}\n"
        "chats: {broken: {type: random}}\n"
        'clean: {link_patterns: {meetings: "zoom("}}\n'
        "session: {lock_wait: -1}\n",
    )
    env |= {"TELEGRAM_API_ID": "abc", "TELEGRAM_PHONE": ""}
    message = problems_of(ConfigOptions(account="bad name"), env)
    lines = message.splitlines()
    assert len(lines) == 7, lines
    for needle in (
        "account: invalid name 'bad name'",
        "telegram.api_id: not an integer",
        "telegram.phone: empty value",
        "output.timezone: unknown time zone 'Mars/Base'",
        "chats.broken: ",
        "clean.link_patterns.meetings: invalid regular expression 'zoom('",
        "session.lock_wait: input should be greater than or equal to 0: -1",
    ):
        assert sum(needle in line for line in lines) == 1, needle


def test_timezone(work: Path, env: dict[str, str]) -> None:
    config = load_config(ConfigOptions(flags={"output.timezone": "Europe/Moscow"}), env)
    assert config.output.tz.key == "Europe/Moscow"
    message = problems_of(ConfigOptions(), env | {"TGPILOT_OUTPUT__TIMEZONE": "Nowhere/Town"})
    assert message.startswith("output.timezone: unknown time zone 'Nowhere/Town'")
    assert "(from TGPILOT_OUTPUT__TIMEZONE)" in message


def test_rsa_key_file_is_relative_to_config_folder(
    work: Path, env: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "conf"
    key = write(folder / "keys" / "test.pem", "-----BEGIN RSA PUBLIC KEY-----\nAA\n")
    config_file = write(
        folder / "config.yml",
        "telegram:\n  server: {dc_id: 2, address: 203.0.113.10, rsa_key_file: keys/test.pem}\n",
    )
    config = load_config(ConfigOptions(config_file=config_file), env)
    server = config.telegram.server
    assert server is not None
    assert (server.dc_id, server.address, server.port) == (2, "203.0.113.10", 443)
    assert server.rsa_key_file == key
    assert server.rsa_key_pem() == key.read_text()

    flagged = ConfigOptions(
        config_file=config_file, flags={"telegram.server.rsa_key_file": "other.pem"}
    )
    server = load_config(flagged, env).telegram.server
    assert server is not None and server.rsa_key_file == Path("other.pem")
    with pytest.raises(ConfigError, match=r"telegram\.server\.rsa_key_file: cannot read"):
        server.rsa_key_pem()


def test_incomplete_server_names_missing_fields(work: Path, env: dict[str, str]) -> None:
    message = problems_of(ConfigOptions(), env | {"TGPILOT_TELEGRAM__SERVER__PORT": "444"})
    assert "telegram.server.dc_id: missing — set TGPILOT_TELEGRAM__SERVER__DC_ID" in message
    assert "telegram.server.address: missing" in message


def test_require_api_credentials(work: Path, env: dict[str, str]) -> None:
    config = load_config(ConfigOptions(), env)  # offline: no credentials needed
    with pytest.raises(ConfigError) as caught:
        config.require_api_credentials()
    assert caught.value.message.splitlines() == [
        "telegram.api_id: missing — set TGPILOT_TELEGRAM__API_ID or TELEGRAM_API_ID",
        "telegram.api_hash: missing — set TGPILOT_TELEGRAM__API_HASH or TELEGRAM_API_HASH",
    ]
    inspection = inspect_config(ConfigOptions(), env)
    assert not inspection.valid
    assert inspection.config is not None
    assert row(inspection, "telegram.api_id")[2] == "missing"


def test_invalid_account(work: Path, env: dict[str, str]) -> None:
    message = problems_of(ConfigOptions(account="../etc"), env)
    assert message.startswith("account: invalid name '../etc'")
    assert load_config(ConfigOptions(account="work-2"), env).account == "work-2"


def test_unknown_flag_path_is_a_problem(work: Path, env: dict[str, str]) -> None:
    assert "limits.defualt" in problems_of(ConfigOptions(flags={"limits.defualt": 5}), env)


# --------------------------------------------------------------------------- paths


def test_paths_layout(work: Path, env: dict[str, str], tmp_path: Path) -> None:
    config = load_config(ConfigOptions(account="work"), env)
    paths = config.paths_resolved
    home = tmp_path / "data"
    assert paths == Paths(home, "work")
    assert config.home == home
    assert paths.session_file == home / "sessions" / "work.session"
    assert paths.lock_file == home / "sessions" / "work.lock"
    assert paths.server_file == home / "sessions" / "work.server.json"
    assert paths.db_file == home / "tgpilot.db"
    assert paths.dialog_cache == home / "cache" / "dialogs-work.json"
    assert paths.audit_log == home / "audit.jsonl"
    assert config.paths.exports == Path("exports")


def test_default_home_and_tilde(work: Path, tmp_path: Path) -> None:
    user = tmp_path / "user"
    config = load_config(ConfigOptions(), {"HOME": str(user)})
    assert config.home == user / ".local" / "share" / "tgpilot"
    config = load_config(ConfigOptions(), {"HOME": str(user), "TGPILOT_HOME": "~/tg"})
    assert config.home == user / "tg"


def test_yaml_relative_exports_follow_config_folder(
    work: Path, env: dict[str, str], tmp_path: Path
) -> None:
    config_file = write(tmp_path / "conf" / "config.yml", "paths: {exports: out}\n")
    config = load_config(ConfigOptions(config_file=config_file), env)
    assert config.paths.exports == tmp_path / "conf" / "out"


def test_ensure_private_dirs(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "home", "default")
    paths.ensure_private_dirs()
    for folder in (paths.home, paths.sessions_dir, paths.cache_dir):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    with pytest.raises(ValueError, match="invalid account"):
        Paths(tmp_path, "a/b")


def test_config_is_frozen(work: Path, env: dict[str, str]) -> None:
    config = load_config(ConfigOptions(), env)
    assert isinstance(config, Config)
    with pytest.raises(ValueError, match="frozen"):
        config.limits.default = 5  # type: ignore[misc]


# --------------------------------------------------------------------------- lists from env


def test_list_fields_take_a_json_array_or_comma_separated_values(
    work: Path, env: dict[str, str]
) -> None:
    env |= {
        "TGPILOT_ME__NAMES": '["Ann", "Анна"]',
        "TGPILOT_AUTOANSWER__ALLOW": " @ann , 12345,,",
        "TGPILOT_LIKE__FALLBACK": "👍,❤",
        "TGPILOT_MODERATION__PROFANITY__PATTERNS": '["re:\\\\d{2,3}", "=word"]',
        "TGPILOT_MODERATION__SPAM__PATTERNS__CRYPTO": "крипт,=btc",
        "TGPILOT_RUN__HANDLERS": '[{"kind": "moderate", "chat": "team", "warn": true}]',
    }
    inspection = inspect_config(ConfigOptions(), env, require_credentials=False)
    assert inspection.problems == ()
    config = inspection.config
    assert config is not None
    assert config.me.names == ["Ann", "Анна"]
    assert config.autoanswer.allow == ["@ann", "12345"]
    assert config.like.fallback == ["👍", "❤"]
    assert config.moderation.profanity.patterns == ["re:\\d{2,3}", "=word"]
    assert config.moderation.spam.patterns == {"crypto": ["крипт", "=btc"]}
    assert [(w.chat, w.warn) for w in config.run.moderate] == [("team", True)]
    assert row(inspection, "me.names")[:2] == ('["Ann", "Анна"]', "env")


def test_a_list_from_dotenv_beats_config_yml_whole(work: Path, env: dict[str, str]) -> None:
    write(work / "config.yml", "me:\n  names: [Ivan, Ваня]\n")
    write(work / ".env", "TGPILOT_ME__NAMES=Ann\n")
    assert load_config(ConfigOptions(), env).me.names == ["Ann"]


def test_a_bad_list_from_env_names_the_variable(work: Path, env: dict[str, str]) -> None:
    env |= {"TGPILOT_ME__NAMES": '["Ann", ', "TGPILOT_RUN__HANDLERS": "team"}
    message = problems_of(ConfigOptions(), env)
    assert "me.names: not a JSON array (" in message and "(from TGPILOT_ME__NAMES)" in message
    assert "run.handlers: not a JSON array" in message and "TGPILOT_RUN__HANDLERS" in message
    inspection = inspect_config(ConfigOptions(), env, require_credentials=False)
    assert row(inspection, "me.names")[2] == "invalid"
