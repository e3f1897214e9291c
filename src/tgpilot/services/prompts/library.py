"""Finding prompt files: packaged defaults, the user's overrides, and explicit paths.

A prompt is named by its path under ``tgpilot/prompts/`` without ``.md``
(``digest``, ``digest.map``, ``sales/cold_email``). Lookup, highest first:

1. ``--prompt PATH`` — a reference ending in ``.md`` or ``.txt``, or starting with
   ``/``, ``./`` or ``../``, is a file path and bypasses everything else;
2. ``prompts.dir`` (``TGPILOT_PROMPTS__DIR``), when set;
3. ``<config dir>/prompts/`` — the folder of the loaded config file, else
   ``$XDG_CONFIG_HOME/tgpilot``;
4. the packaged default.

An override replaces the packaged file as a whole. Override folders may also hold new
prompts of their own; ``prompts copy`` writes into the highest override folder.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, tzinfo
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from tgpilot.core.errors import ConfigError, UsageError
from tgpilot.services.prompts.template import (
    Prompt,
    PromptSource,
    content_hash,
    parse_prompt,
    prompt_problems,
)

if TYPE_CHECKING:
    from tgpilot.core.clock import Clock
    from tgpilot.core.config import Config

PACKAGE = "tgpilot.prompts"
SUFFIX = ".md"
OVERRIDE_FOLDER = "prompts"
_PATH_SUFFIXES = (".md", ".txt")
_PATH_PREFIXES = ("/", "./", "../")
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_][A-Za-z0-9_.-]*)*")

Language = Literal["auto", "en", "ru"]

LANGUAGE_TEXT: dict[Language, str] = {
    "auto": "the same language as the messages or request you are given",
    "en": "English",
    "ru": "Russian",
}
"""What ``{{language}}`` becomes for each ``ai.language`` setting."""


@dataclass(frozen=True)
class PromptInfo:
    """One line of ``prompts list``: a prompt's effective file, whether or not it is valid."""

    name: str
    source: PromptSource
    origin: str
    hash: str
    description: str
    placeholders: tuple[str, ...]
    problem: str | None = None
    """Why the file does not load (None when it does)."""

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "source": self.source,
            "origin": self.origin,
            "hash": self.hash,
            "description": self.description,
            "placeholders": list(self.placeholders),
            "problem": self.problem,
        }


@dataclass(frozen=True)
class PromptProblem:
    """One problem ``prompts check`` found in a prompt file."""

    name: str
    origin: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "origin": self.origin, "message": self.message}


@dataclass(frozen=True)
class _Located:
    name: str
    source: PromptSource
    origin: str
    text: str


@dataclass(frozen=True)
class PromptLibrary:
    """Loads prompts by name or path; the one way services get prompt text."""

    override_dirs: tuple[Path, ...] = ()
    """Override folders, highest precedence first."""
    language: Language = "auto"
    clock: Clock | None = None
    """Fills ``{{now}}`` when given."""
    tz: tzinfo = UTC
    """The zone ``{{now}}`` is written in."""

    @classmethod
    def from_config(cls, config: Config, *, clock: Clock | None = None) -> PromptLibrary:
        """The library ``config`` describes: ``prompts.dir``, then ``<config dir>/prompts``."""
        folders: list[Path] = []
        if config.prompts.dir is not None:
            folders.append(config.prompts.dir)
        if config.config_dir is not None:
            default = config.config_dir / OVERRIDE_FOLDER
            if default not in folders:
                folders.append(default)
        return cls(tuple(folders), language=config.ai.language, clock=clock, tz=config.output.tz)

    @property
    def copy_dir(self) -> Path:
        """Where ``prompts copy`` puts a default for editing: the highest override folder."""
        if not self.override_dirs:
            raise ConfigError("no prompt override folder", hint="set prompts.dir")
        return self.override_dirs[0]

    def load(self, ref: str) -> Prompt:
        """The prompt ``ref`` names (a name or a path), parsed and checked.

        A missing file, bad front matter or an undeclared placeholder is a ConfigError
        naming the file (and the placeholder).
        """
        located = self._locate(ref)
        prompt = parse_prompt(
            located.text, name=located.name, source=located.source, origin=located.origin
        )
        return replace(prompt, shared=self._shared())

    def names(self) -> list[str]:
        """Every prompt name: packaged ones and those only in override folders, sorted."""
        found = set(packaged_names())
        for folder in self.override_dirs:
            found.update(_folder_names(folder))
        return sorted(found)

    def infos(self) -> list[PromptInfo]:
        """Every prompt's effective file, source, hash and placeholders (``prompts list``)."""
        infos: list[PromptInfo] = []
        for name in self.names():
            try:
                located = self._locate(name)
            except ConfigError as exc:
                infos.append(PromptInfo(name, "override", name, "", "", (), exc.message))
                continue
            try:
                prompt = parse_prompt(
                    located.text, name=name, source=located.source, origin=located.origin
                )
            except ConfigError as exc:
                digest = content_hash(located.text)
                infos.append(
                    PromptInfo(name, located.source, located.origin, digest, "", (), exc.message)
                )
                continue
            infos.append(
                PromptInfo(
                    name, prompt.source, prompt.origin, prompt.hash, prompt.description,
                    prompt.placeholders,
                )
            )  # fmt: skip
        return infos

    def check(self) -> list[PromptProblem]:
        """Every problem of every effective prompt file (``prompts check``); [] when all pass."""
        problems: list[PromptProblem] = []
        for name in self.names():
            try:
                located = self._locate(name)
            except ConfigError as exc:
                problems.append(PromptProblem(name, name, exc.message))
                continue
            for message in prompt_problems(
                located.text, name=located.name, source=located.source, origin=located.origin
            ):
                problems.append(PromptProblem(name, located.origin, message))
        return problems

    def copy(self, name: str, *, force: bool = False) -> Path:
        """Copy packaged prompt ``name`` into :attr:`copy_dir` for editing; the new path.

        An existing file is kept (UsageError) unless ``force``.
        """
        _check_name(name)
        source = _packaged_file(name)
        if source is None:
            raise ConfigError(f"no packaged prompt {name!r}", hint="tgpilot prompts list")
        target = self.copy_dir / f"{name}{SUFFIX}"
        if target.exists() and not force:
            raise UsageError(f"{target} already exists", hint="add --force to overwrite it")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from exc
        return target

    def _shared(self) -> dict[str, str]:
        shared = {"language": LANGUAGE_TEXT[self.language]}
        if self.clock is not None:
            shared["now"] = self.clock.now().astimezone(self.tz).strftime("%Y-%m-%d %H:%M %Z")
        return shared

    def _locate(self, ref: str) -> _Located:
        if is_path_reference(ref):
            path = Path(ref)
            return _Located(ref, "path", str(path), _read_file(path, what="prompt file"))
        _check_name(ref)
        for folder in self.override_dirs:
            candidate = folder / f"{ref}{SUFFIX}"
            if candidate.is_file():
                return _Located(ref, "override", str(candidate), _read_file(candidate))
        packaged = _packaged_file(ref)
        if packaged is None:
            looked = ", ".join(str(folder) for folder in self.override_dirs)
            where = f" (looked in {looked} and the packaged prompts)" if looked else ""
            raise ConfigError(f"prompt {ref!r} not found{where}", hint="tgpilot prompts list")
        return _Located(
            ref, "packaged", f"tgpilot/prompts/{ref}{SUFFIX}", packaged.read_text(encoding="utf-8")
        )


def is_path_reference(ref: str) -> bool:
    """True if ``--prompt`` was given a file path rather than a prompt name."""
    return ref.endswith(_PATH_SUFFIXES) or ref.startswith(_PATH_PREFIXES)


def packaged_names() -> list[str]:
    """The names of the prompts shipped with tgpilot, sorted."""
    return sorted(_walk(resources.files(PACKAGE), ""))


def _walk(folder: Traversable, prefix: str) -> Iterator[str]:
    for entry in folder.iterdir():
        if entry.is_dir():
            if not entry.name.startswith(("_", ".")):
                yield from _walk(entry, f"{prefix}{entry.name}/")
        elif entry.name.endswith(SUFFIX):
            yield prefix + entry.name.removesuffix(SUFFIX)


def _folder_names(folder: Path) -> Iterator[str]:
    if not folder.is_dir():
        return
    for path in folder.rglob(f"*{SUFFIX}"):
        name = path.relative_to(folder).with_suffix("").as_posix()
        if path.is_file() and _NAME.fullmatch(name):
            yield name


def _packaged_file(name: str) -> Traversable | None:
    node = resources.files(PACKAGE)
    parts: Sequence[str] = name.split("/")
    for part in parts[:-1]:
        node = node.joinpath(part)
    node = node.joinpath(parts[-1] + SUFFIX)
    return node if node.is_file() else None


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise ConfigError(
            f"not a prompt name or path: {name!r}",
            hint="give a name such as digest or sales/cold_email, or a path ending in .md",
        )


def _read_file(path: Path, *, what: str = "prompt override") -> str:
    """The file's text (a UTF-8 BOM dropped); a ConfigError naming it if unreadable."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"cannot read {what} {path}: {reason}") from exc
