"""One prompt file: its front matter, system message, user template, and how it renders.

The format (spec ai.md §2) is Markdown with YAML front matter::

    ---
    description: What the prompt is for.
    placeholders: [chat_name, messages, language]
    temperature: 0.3        # optional defaults for the request
    max_tokens: 2000
    json: true
    schema: analysis        # the name of the answer schema the caller validates
    ---
    System message …
    <!-- user -->
    User template with {{chat_name}} and {{messages}} …

Text above the ``<!-- user -->`` line is the system message, text below it the user
template; without that line the whole body is the system message and the user template
is ``{{input}}`` (``input`` then counts as declared). Placeholders are ``{{name}}``;
single braces are literal, so JSON examples need no escaping. Every placeholder used
must be declared, and every declared one must be filled when rendering — otherwise a
:class:`ConfigError` (exit 2) names the file and the placeholder.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)

from tgpilot.core.errors import ConfigError

PromptSource = Literal["packaged", "override", "path"]
"""Where a prompt's effective text came from: the package, an override folder, or a path."""

PLACEHOLDER = re.compile(r"\{\{[ \t]*([A-Za-z_][A-Za-z0-9_]*)[ \t]*\}\}")
"""A placeholder, ``{{name}}`` (spaces inside the braces allowed)."""

USER_MARKER = re.compile(r"^[ \t]*<!--[ \t]*user[ \t]*-->[ \t]*$", re.MULTILINE)
"""The line separating the system message from the user template."""

IMPLICIT_INPUT = "input"
"""The placeholder of the implicit user template of a prompt without a user part."""

HASH_LENGTH = 12
_FENCE = "---"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class FrontMatter(BaseModel):
    """The YAML header of a prompt file; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: StrictStr = ""
    placeholders: list[StrictStr] = Field(default_factory=list)
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: StrictInt | None = Field(default=None, ge=1)
    json_answer: StrictBool = Field(default=False, alias="json")
    schema_name: StrictStr | None = Field(default=None, alias="schema")

    @field_validator("placeholders", mode="before")
    @classmethod
    def _none_is_empty(cls, value: object) -> object:
        return [] if value is None else value

    @field_validator("temperature", mode="before")
    @classmethod
    def _number_only(cls, value: object) -> object:
        if isinstance(value, bool | str):
            raise ValueError("must be a number from 0 to 2")
        return value

    @field_validator("placeholders")
    @classmethod
    def _check_names(cls, names: list[str]) -> list[str]:
        bad = [name for name in names if not _NAME.fullmatch(name)]
        if bad:
            raise ValueError(f"not a placeholder name: {', '.join(map(repr, bad))}")
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"declared more than once: {', '.join(repeated)}")
        return names


@dataclass(frozen=True)
class PromptDefaults:
    """Request defaults a prompt suggests; config and flags win over them (ai.md §1.1)."""

    temperature: float | None = None
    max_tokens: int | None = None
    json: bool = False
    schema: str | None = None


@dataclass(frozen=True)
class RenderedPrompt:
    """A prompt with its placeholders filled: the two messages, plus what reports record."""

    name: str
    hash: str
    system: str
    user: str


@dataclass(frozen=True)
class Prompt:
    """A parsed, checked prompt file."""

    name: str
    """The prompt's name (``digest``, ``sales/cold_email``) or the path it was loaded from."""
    source: PromptSource
    origin: str
    """The file, as error messages name it."""
    text: str
    """The effective file text, front matter included (what ``prompts show`` prints)."""
    description: str
    placeholders: tuple[str, ...]
    """Declared placeholders, in declaration order (``input`` added when implicit)."""
    system: str
    user_template: str
    defaults: PromptDefaults
    shared: Mapping[str, str] = field(default_factory=dict)
    """Values the library fills itself (``language``, ``now``); render values win."""

    @property
    def hash(self) -> str:
        """A short, stable hash of the effective text (sha256, first 12 hex digits)."""
        return content_hash(self.text)

    @property
    def used_placeholders(self) -> tuple[str, ...]:
        """Placeholders the system message and user template use, in order of use."""
        return _used(self.system + "\n" + self.user_template)

    def render(self, **values: object) -> RenderedPrompt:
        """Both messages with every declared placeholder filled.

        Values are inserted as they are (strings), as JSON (mappings, lists, booleans)
        or as ``str(value)``; ``None`` counts as not given. Values for names the prompt
        does not declare are ignored. An unfilled declared placeholder is a ConfigError.
        """
        filled = self._values(values, self.placeholders)
        return RenderedPrompt(
            name=self.name,
            hash=self.hash,
            system=_fill(self.system, filled),
            user=_fill(self.user_template, filled),
        )

    def render_system(self, **values: object) -> str:
        """Only the system message, needing only the placeholders it uses.

        For callers that build the user turns themselves (auto-responder, consultant)
        or need a header (``export --format transcript --prompt``).
        """
        filled = self._values(values, _used(self.system))
        return _fill(self.system, filled)

    def _values(self, values: Mapping[str, object], required: tuple[str, ...]) -> dict[str, str]:
        given = {name: value for name, value in values.items() if value is not None}
        merged: dict[str, str] = {name: _as_text(value) for name, value in given.items()}
        for name, value in self.shared.items():
            merged.setdefault(name, value)
        missing = [name for name in required if name not in merged]
        if missing:
            listed = ", ".join("{{" + name + "}}" for name in missing)
            noun = "placeholder" if len(missing) == 1 else "placeholders"
            raise ConfigError(
                f"prompt {self.origin}: {noun} {listed} not filled",
                hint="every placeholder the prompt declares needs a value",
            )
        return merged


def content_hash(text: str) -> str:
    """The short sha256 of a prompt's text, as ``prompts list`` and reports show it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_LENGTH]


def parse_prompt(text: str, *, name: str, source: PromptSource, origin: str) -> Prompt:
    """The prompt in ``text``, or one ConfigError listing every problem (one per line)."""
    prompt, problems = _analyse(text, name=name, source=source, origin=origin)
    if prompt is None or problems:
        raise ConfigError(
            "\n".join(f"prompt {origin}: {problem}" for problem in problems),
            hint="tgpilot prompts check lists every problem of every prompt",
        )
    return prompt


def prompt_problems(text: str, *, name: str, source: PromptSource, origin: str) -> list[str]:
    """Every problem of a prompt file, including ones loading tolerates.

    Besides what :func:`parse_prompt` refuses, a missing description and a declared
    placeholder that is never used are problems here (``prompts check``).
    """
    prompt, problems = _analyse(text, name=name, source=source, origin=origin)
    if prompt is None:
        return problems
    if not prompt.description.strip():
        problems.append("the front matter has no description")
    unused = [p for p in prompt.placeholders if p not in prompt.used_placeholders]
    if unused:
        listed = ", ".join("{{" + name + "}}" for name in unused)
        problems.append(f"declared but never used: {listed}")
    return problems


def _analyse(
    text: str, *, name: str, source: PromptSource, origin: str
) -> tuple[Prompt | None, list[str]]:
    problems: list[str] = []
    header, body, header_problem = _split_front_matter(text)
    if header_problem:
        return None, [header_problem]
    try:
        front = FrontMatter.model_validate(header)
    except ValidationError as exc:
        return None, [_front_matter_problem(error) for error in exc.errors()]
    markers = USER_MARKER.findall(body)
    if len(markers) > 1:
        problems.append(f"{len(markers)} '<!-- user -->' lines; a prompt has at most one")
    parts = USER_MARKER.split(body, maxsplit=1)
    declared = list(front.placeholders)
    if len(parts) == 2:
        system, user = parts[0].strip(), parts[1].strip()
    else:
        system, user = body.strip(), "{{" + IMPLICIT_INPUT + "}}"
        if IMPLICIT_INPUT not in declared:
            declared.append(IMPLICIT_INPUT)
    undeclared = [p for p in _used(system + "\n" + user) if p not in declared]
    if undeclared:
        listed = ", ".join("{{" + p + "}}" for p in undeclared)
        noun = "placeholder" if len(undeclared) == 1 else "placeholders"
        problems.append(f"undeclared {noun} {listed} — add to placeholders: in the front matter")
    prompt = Prompt(
        name=name,
        source=source,
        origin=origin,
        text=text,
        description=front.description,
        placeholders=tuple(declared),
        system=system,
        user_template=user,
        defaults=PromptDefaults(
            temperature=front.temperature,
            max_tokens=front.max_tokens,
            json=front.json_answer,
            schema=front.schema_name,
        ),
    )
    return prompt, problems


def _split_front_matter(text: str) -> tuple[dict[str, Any], str, str | None]:
    """``(front matter mapping, body, problem)``; no leading ``---`` line → no front matter."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != _FENCE:
        return {}, text, None
    for index in range(1, len(lines)):
        if lines[index].rstrip() == _FENCE:
            block = "\n".join(lines[1:index])
            body = "\n".join(lines[index + 1 :])
            break
    else:
        return {}, text, "the front matter has no closing '---' line"
    try:
        data = yaml.safe_load(block)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 2}" if mark is not None else ""
        return {}, body, f"invalid YAML in the front matter{where}: {exc.problem or exc}"
    except yaml.YAMLError as exc:
        return {}, body, f"invalid YAML in the front matter: {exc}"
    if data is None:
        return {}, body, None
    if not isinstance(data, dict):
        return {}, body, "the front matter must be a mapping (description:, placeholders:, …)"
    return data, body, None


def _front_matter_problem(error: Mapping[str, Any]) -> str:
    location = ".".join(str(part) for part in error.get("loc", ()))
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    if error.get("type") == "extra_forbidden":
        message = "unknown key (allowed: " + ", ".join(_ALLOWED_KEYS) + ")"
    return f"front matter: {location}: {message}" if location else f"front matter: {message}"


_ALLOWED_KEYS = ("description", "placeholders", "temperature", "max_tokens", "json", "schema")


def _used(template: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(match.group(1) for match in PLACEHOLDER.finditer(template)))


def _fill(template: str, values: Mapping[str, str]) -> str:
    """One pass: text inserted for a placeholder is never scanned for placeholders again."""
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def _as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping | list | tuple | bool):
        return json.dumps(value, ensure_ascii=False, indent=2, default=str)
    return str(value)
