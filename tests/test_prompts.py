"""Prompts as files: loading, overrides, front matter, rendering, errors and the CLI.

Spec ai.md §2 and scenario 6 (the prompt half: an override ``digest.md`` containing
"HOUSE STYLE" is what renders, ``prompts list`` shows ``override``, an undeclared
``{{foo}}`` exits 2 naming ``foo`` and the file); telegram-cli §3.2 ``export --prompt``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.fakes.clock import FakeClock
from tests.harness import Cli
from tests.test_export import CLUB, club_world
from tgpilot.core.config import ConfigOptions, load_config
from tgpilot.core.errors import ConfigError
from tgpilot.services.prompts import PromptLibrary, content_hash, packaged_names

SPEC_PROMPTS = (
    "analyze", "analyze_wishes", "analyze.map", "analyze.reduce",
    "digest", "digest.map", "digest.reduce", "crm", "crm.map",
    "ideas", "tasks", "contacts", "moderator",
    "autoanswer", "ask", "consultant", "consultant_context", "json_retry",
    "sales_agent", "calculator", "friendly",
    "sales/cold_email", "sales/linkedin_sequence", "sales/battlecard", "sales/objection_handler",
    "transcript",
)  # fmt: skip

HOUSE_DIGEST = """---
description: Our own digest.
placeholders: [chat_name, period, messages, language]
temperature: 0.1
---
HOUSE STYLE: three bullets, no more. Answer in {{language}}.
<!-- user -->
{{chat_name}} / {{period}}
{{messages}}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def library(clock: FakeClock | None = None) -> PromptLibrary:
    """The library the CLI would build in this test's environment."""
    return PromptLibrary.from_config(load_config(ConfigOptions()), clock=clock)


@pytest.fixture
def user_prompts(tmp_path: Path) -> Path:
    """``$XDG_CONFIG_HOME/tgpilot/prompts``: the override folder when there is no config file."""
    return tmp_path / "userhome" / ".config" / "tgpilot" / "prompts"


@pytest.fixture
def cli(make_cli: Callable[..., Cli]) -> Cli:
    return make_cli(club_world())


# --------------------------------------------------------------------------- packaged


def test_every_prompt_the_spec_names_is_packaged() -> None:
    assert set(SPEC_PROMPTS) <= set(packaged_names())


def test_packaged_prompts_pass_check(cli: Cli) -> None:
    assert library().check() == []
    result = cli("prompts", "check", "--json")
    assert result.code == 0, result.err
    report = result.json()
    assert report["valid"] is True and report["problems"] == []
    assert report["checked"] == len(packaged_names())


def test_analysis_prompts_share_the_schema_and_ask_for_json() -> None:
    lib = library()
    for name in ("analyze", "analyze_wishes", "analyze.map", "analyze.reduce"):
        prompt = lib.load(name)
        assert prompt.defaults.json is True and prompt.defaults.schema == "analysis"
        for field in ("subcategories", "activity_level", "key_participants", "engagement_score"):
            assert field in prompt.system, (name, field)
    assert '"Wishes & Suggestions"' in lib.load("analyze_wishes").system


def test_front_matter_defaults() -> None:
    lib = library()
    crm = lib.load("crm").defaults
    assert (crm.temperature, crm.max_tokens, crm.json, crm.schema) == (0.1, 3000, True, "crm")
    transcript = lib.load("transcript").defaults
    assert (transcript.temperature, transcript.max_tokens) == (None, None)
    assert (transcript.json, transcript.schema) == (False, None)
    assert lib.load("autoanswer").defaults.temperature == 0.7


# --------------------------------------------------------------------------- rendering


def test_render_fills_placeholders_and_keeps_single_braces_literal(tmp_path: Path) -> None:
    path = write(
        tmp_path / "extract.md",
        "---\ndescription: x\nplaceholders: [who, data]\n---\n"
        'Reply as {"name": {{who}}, "tags": [{"a": 1}]} and {not_a_placeholder}.\n'
        "<!-- user -->\nData: {{ data }}\n",
    )
    rendered = library().load(str(path)).render(who='"Ann"', data={"n": [1, 2]}, extra="ignored")
    expected = 'Reply as {"name": "Ann", "tags": [{"a": 1}]} and {not_a_placeholder}.'
    assert rendered.system == expected
    assert rendered.user == 'Data: {\n  "n": [\n    1,\n    2\n  ]\n}'


def test_inserted_values_are_never_expanded_again() -> None:
    digest = library().load("digest")
    rendered = digest.render(chat_name="{{period}}", period="today", messages="use {{language}} x")
    assert "Chat: {{period}}" in rendered.user
    assert "use {{language}} x" in rendered.user


def test_without_user_line_the_body_is_system_and_user_is_input(tmp_path: Path) -> None:
    path = write(tmp_path / "p.md", "---\ndescription: x\nplaceholders: []\n---\n\nBe brief.\n")
    prompt = library().load(str(path))
    assert prompt.system == "Be brief."
    assert prompt.user_template == "{{input}}"
    assert prompt.placeholders == ("input",)
    assert prompt.render(input="hello").user == "hello"
    assert prompt.render_system() == "Be brief."


def test_language_comes_from_ai_language_and_now_from_the_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TGPILOT_AI__LANGUAGE", "ru")
    clock = FakeClock(datetime(2024, 3, 10, 12, 0, tzinfo=UTC))
    prompt = library(clock).load("ask")
    rendered = prompt.render(context="[1] x", question="why?")
    assert "Write in Russian." in rendered.system
    assert "2024-03-10 12:00 UTC" in rendered.system
    assert rendered.name == "ask" and rendered.hash == prompt.hash


def test_hash_is_the_short_sha256_of_the_effective_text() -> None:
    prompt = library().load("digest")
    assert prompt.hash == content_hash(prompt.text)
    assert len(prompt.hash) == 12
    assert library().load("digest").hash == prompt.hash


# --------------------------------------------------------------------------- errors


def test_undeclared_placeholder_is_a_config_error_naming_it_and_the_file(
    cli: Cli, user_prompts: Path
) -> None:
    override = write(user_prompts / "digest.md", HOUSE_DIGEST.replace("three", "{{foo}}"))
    with pytest.raises(ConfigError) as caught:
        library().load("digest")
    assert "{{foo}}" in caught.value.message and str(override) in caught.value.message
    result = cli("prompts", "show", "digest")
    assert result.code == 2
    assert "foo" in result.err and str(override) in result.err


def test_unfilled_declared_placeholder_is_a_config_error() -> None:
    prompt = library().load("digest")
    with pytest.raises(ConfigError) as caught:
        prompt.render(chat_name="Team", messages="10:00 A: hi")
    assert "{{period}}" in caught.value.message
    assert "tgpilot/prompts/digest.md" in caught.value.message
    assert caught.value.exit_code == 2


def test_missing_prompt_name_or_file_is_a_config_error(cli: Cli) -> None:
    with pytest.raises(ConfigError, match="'nope' not found"):
        library().load("nope")
    with pytest.raises(ConfigError, match=r"missing\.md not found"):
        library().load("./missing.md")
    result = cli("prompts", "show", "nope")
    assert result.code == 2 and "nope" in result.err


def test_bad_front_matter_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path / "p.md", "---\ndescription: x\ntemprature: 0.3\n---\nHi\n")
    with pytest.raises(ConfigError, match="temprature: unknown key"):
        library().load(str(path))
    path = write(tmp_path / "q.md", "---\ndescription: x\nplaceholders: [a\n---\nHi {{a}}\n")
    with pytest.raises(ConfigError, match="invalid YAML in the front matter"):
        library().load(str(path))
    path = write(tmp_path / "r.md", "---\ndescription: x\n\nHi\n")
    with pytest.raises(ConfigError, match="no closing '---' line"):
        library().load(str(path))


def test_prompts_check_lists_every_problem(cli: Cli, user_prompts: Path) -> None:
    write(user_prompts / "digest.md", HOUSE_DIGEST.replace("three", "{{foo}}"))
    write(user_prompts / "crm.md", "---\ndescription: x\njson: maybe\n---\nHi\n")
    write(user_prompts / "mine.md", "---\nplaceholders: [unused]\n---\nHi\n")
    result = cli("prompts", "check", "--json")
    assert result.code == 2
    problems = {(p["name"], p["message"]) for p in result.json()["problems"]}
    messages = " | ".join(message for _, message in problems)
    assert {name for name, _ in problems} == {"digest", "crm", "mine"}
    assert "{{foo}}" in messages
    assert "json" in messages
    assert "no description" in messages and "{{unused}}" in messages
    human = cli("prompts", "check")
    assert human.code == 2
    assert "4 problem(s)" in human.err and str(user_prompts / "crm.md") in human.err


# --------------------------------------------------------------------------- overrides


def test_override_in_the_user_config_dir_is_used_and_listed(cli: Cli, user_prompts: Path) -> None:
    override = write(user_prompts / "digest.md", HOUSE_DIGEST)
    prompt = library().load("digest")
    assert prompt.source == "override" and prompt.origin == str(override)
    rendered = prompt.render(chat_name="Team", period="today", messages="10:00 Ann: hi")
    assert rendered.system.startswith("HOUSE STYLE")
    assert rendered.user == "Team / today\n10:00 Ann: hi"
    assert prompt.defaults.temperature == 0.1
    result = cli("prompts", "list", "--json")
    assert result.code == 0, result.err
    rows = {row["name"]: row for row in result.json()["prompts"]}
    assert rows["digest"]["source"] == "override"
    assert rows["digest"]["hash"] == prompt.hash
    assert rows["crm"]["source"] == "packaged"
    assert rows["digest"]["placeholders"] == ["chat_name", "period", "messages", "language"]
    human = cli("prompts", "list")
    assert human.code == 0 and "override" in human.out and "1 overridden" in human.err


def test_override_precedence(
    cli: Cli, user_prompts: Path, clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def system() -> str:
        return library().load("digest").render_system(language="en")

    def variant(label: str) -> str:
        return HOUSE_DIGEST.replace("HOUSE STYLE", label)

    assert system().startswith("You write digests")  # packaged
    write(user_prompts / "digest.md", variant("XDG"))
    assert system().startswith("XDG")
    write(clean_environment / "config.yml", "limits:\n  default: 10\n")
    write(clean_environment / "prompts" / "digest.md", variant("CONFIG DIR"))
    assert system().startswith("CONFIG DIR")  # the loaded config file's folder
    write(clean_environment / "team" / "digest.md", variant("PROMPTS DIR"))
    write(clean_environment / "team" / "extra.md", "---\ndescription: x\n---\nExtra\n")
    monkeypatch.setenv("TGPILOT_PROMPTS__DIR", str(clean_environment / "team"))
    assert system().startswith("PROMPTS DIR")
    assert library().load("extra").source == "override"
    assert library().load("crm").source == "packaged"
    path = write(clean_environment / "one-off.md", variant("PATH"))
    prompt = library().load(str(path))
    assert prompt.source == "path" and prompt.system.startswith("PATH")


def test_prompts_dir_from_config_yml_is_relative_to_the_config_file(
    clean_environment: Path,
) -> None:
    write(clean_environment / "conf" / "config.yml", "prompts:\n  dir: house\n")
    write(clean_environment / "conf" / "house" / "digest.md", HOUSE_DIGEST)
    config = load_config(ConfigOptions(config_file=clean_environment / "conf" / "config.yml"))
    prompt = PromptLibrary.from_config(config).load("digest")
    assert prompt.origin == str(clean_environment / "conf" / "house" / "digest.md")


# --------------------------------------------------------------------------- CLI


def test_prompts_show_prints_the_effective_text(cli: Cli, user_prompts: Path) -> None:
    result = cli("prompts", "show", "sales/cold_email")
    assert result.code == 0, result.err
    packaged = library().load("sales/cold_email")
    assert result.out == packaged.text
    assert "packaged" in result.err
    write(user_prompts / "digest.md", HOUSE_DIGEST)
    shown = cli("prompts", "show", "digest", "--json")
    assert shown.code == 0, shown.err
    data = shown.json()
    assert data["source"] == "override" and data["text"] == HOUSE_DIGEST
    assert data["system"].startswith("HOUSE STYLE") and data["defaults"]["temperature"] == 0.1


def test_prompts_copy_refuses_to_overwrite_without_force(cli: Cli, user_prompts: Path) -> None:
    result = cli("prompts", "copy", "digest", "--json")
    assert result.code == 0, result.err
    target = user_prompts / "digest.md"
    assert result.json()["path"] == str(target)
    assert target.read_text(encoding="utf-8") == library().load("digest").text
    assert library().load("digest").source == "override"
    target.write_text(HOUSE_DIGEST, encoding="utf-8")
    again = cli("prompts", "copy", "digest")
    assert again.code == 2 and "--force" in again.err
    assert target.read_text(encoding="utf-8") == HOUSE_DIGEST
    forced = cli("prompts", "copy", "digest", "--force")
    assert forced.code == 0, forced.err
    assert "HOUSE STYLE" not in target.read_text(encoding="utf-8")
    nested = cli("prompts", "copy", "sales/battlecard")
    assert nested.code == 0 and (user_prompts / "sales" / "battlecard.md").is_file()
    assert cli("prompts", "copy", "nope").code == 2


# --------------------------------------------------------------------------- export --prompt


def test_export_transcript_header_from_a_prompt_name(cli: Cli, clean_environment: Path) -> None:
    result = cli(
        "--tz", "UTC", "export", CLUB, "--format", "transcript", "--prompt", "transcript",
        "--out", "club.txt",
    )  # fmt: skip
    assert result.code == 0, result.err
    text = (clean_environment / "club.txt").read_text(encoding="utf-8")
    header = library().load("transcript").system
    assert text == (
        f"{header}\n\n"
        "[2025-01-02 03:04] Alice: Hello everyone 👍×2 ❤×1\n"
        "[2025-01-02 03:06] Bob: [photo]\n"
    )


def test_export_prompt_honours_overrides_and_paths(
    cli: Cli, clean_environment: Path, user_prompts: Path
) -> None:
    write(user_prompts / "transcript.md", "---\ndescription: ours\n---\nHOUSE HEADER   \n")
    result = cli("export", CLUB, "--format", "transcript", "--prompt", "transcript", "--out", "a")
    assert result.code == 0, result.err
    assert (clean_environment / "a").read_text(encoding="utf-8").startswith("HOUSE HEADER\n\n[")
    path = write(clean_environment / "brief.md", "---\ndescription: b\n---\nBrief header\n")
    result = cli("export", CLUB, "--format", "transcript", "--prompt", str(path), "--out", "b")
    assert result.code == 0, result.err
    assert (clean_environment / "b").read_text(encoding="utf-8").startswith("Brief header\n\n[")


def test_export_prompt_errors_are_usage_errors(cli: Cli, clean_environment: Path) -> None:
    transcript = ("export", CLUB, "--format", "transcript", "--out", "t.txt")
    missing = cli(*transcript, "--prompt", "nope")
    assert missing.code == 2 and "nope" in missing.err
    both = cli(*transcript, "--prompt", "transcript", "--header", "x")
    assert both.code == 2 and "one of --header, --prompt-file and --prompt" in both.err
    markdown = cli("export", CLUB, "--prompt", "transcript")
    assert markdown.code == 2 and "--format transcript" in markdown.err
    assert not (clean_environment / "t.txt").exists()
    needs_values = write(clean_environment / "v.md", "---\nplaceholders: [who]\n---\nHi {{who}}\n")
    unfilled = cli(*transcript, "--prompt", str(needs_values))
    assert unfilled.code == 2 and "{{who}}" in unfilled.err


def test_prompt_listing_is_json_parseable_without_a_session(cli: Cli) -> None:
    result = cli("--json", "prompts", "list")
    assert result.code == 0, result.err
    names = [row["name"] for row in json.loads(result.out)["prompts"]]
    assert names == sorted(names) and "sales/cold_email" in names
