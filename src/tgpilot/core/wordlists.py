"""Word lists shipped as data files, and the user's overrides of them (spec ai.md §3).

Lists live in the package as ``tgpilot/data/wordlists/<name>.yml``. A user overrides
one by putting a file of the same name in an override directory (the CLI passes
``<data dir>/wordlists``); the override replaces the bundled file as a whole.
Extending a list without replacing it is done through configuration instead (for
example ``moderation.profanity.patterns``).

This module only finds and reads the files and checks their shape; what a list
means is up to the service using it. Terms in them follow :mod:`tgpilot.core.textmatch`.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from tgpilot.core.errors import ConfigError

PACKAGE = "tgpilot.data.wordlists"


def bundled_names() -> list[str]:
    """The names of the bundled word lists (file names without ``.yml``)."""
    folder = resources.files(PACKAGE)
    return sorted(
        entry.name.removesuffix(".yml") for entry in folder.iterdir() if entry.name.endswith(".yml")
    )


def wordlist_source(name: str, override_dir: Path | None = None) -> str:
    """Where list ``name`` is read from: the override file's path or ``packaged``."""
    override = _override_file(name, override_dir)
    return str(override) if override is not None else "packaged"


def _override_file(name: str, override_dir: Path | None) -> Path | None:
    if override_dir is None:
        return None
    candidate = override_dir / f"{name}.yml"
    return candidate if candidate.is_file() else None


def load_wordlist(name: str, override_dir: Path | None = None) -> Mapping[str, Any]:
    """The parsed mapping of list ``name``: the user's override if present, else bundled.

    A missing bundled list is a programming error (``FileNotFoundError``); an override
    that is not valid YAML or not a mapping is a :class:`ConfigError` naming the file.
    """
    override = _override_file(name, override_dir)
    if override is not None:
        origin = str(override)
        try:
            text = override.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"cannot read word list {origin}: {error}") from error
    else:
        origin = f"packaged word list {name}.yml"
        text = resources.files(PACKAGE).joinpath(f"{name}.yml").read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{origin} is not valid YAML: {error}") from error
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{origin} must be a mapping of keys to lists of terms")
    return data


def term_list(data: Mapping[str, Any], key: str, *, origin: str) -> list[str]:
    """``data[key]`` as a list of strings (missing → empty); anything else is a ConfigError."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{origin}: {key} must be a list of strings")
    return list(value)


def term_groups(data: Mapping[str, Any], key: str, *, origin: str) -> dict[str, list[str]]:
    """``data[key]`` as a mapping of group name to a list of strings (missing → empty)."""
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{origin}: {key} must be a mapping of names to lists of terms")
    return {str(group): term_list(value, group, origin=f"{origin}: {key}") for group in value}


def check_keys(data: Mapping[str, Any], known: set[str], origin: str) -> None:
    """A ConfigError naming the file (or entry) and the keys of ``data`` not in ``known``."""
    unknown = sorted(set(map(str, data)) - known)
    if unknown:
        raise ConfigError(f"{origin}: unknown key(s) {', '.join(unknown)}")
