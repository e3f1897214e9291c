"""Finding, merging and validating configuration values (the machinery behind
:func:`load_config` and :func:`inspect_config`; the rules are in the package docstring).

The only code of tgpilot that reads environment variables.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin
from urllib.parse import urlsplit

import yaml
from dotenv import dotenv_values
from pydantic import (
    BaseModel,
    SecretStr,
    ValidationError,
)

from tgpilot.core.config.settings import (
    CONFIG_FILE_NAME,
    CONFIG_VAR,
    ENV_FILE_NAME,
    ENV_PREFIX,
    HOME_VAR,
    SECRET_KEY,
    URL_PASSWORD,
    Config,
    FieldStatus,
    Settings,
    Source,
    env_name,
    env_names,
    mask_url,
    missing_message,
)
from tgpilot.core.errors import ConfigError
from tgpilot.core.paths import Paths, default_home, is_valid_account

_RANK: dict[Source, int] = {"default": 0, "config.yml": 1, ".env": 2, "env": 3, "flag": 4}
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


# --------------------------------------------------------------------------- schema


class _Kind(Enum):
    SECTION = "section"  # a nested model: its fields are walked
    LEAF = "leaf"  # one value
    MAP_MODEL = "map-model"  # dict[str, Model]: each entry is replaced whole
    MAP_VALUE = "map-value"  # dict[str, scalar]


class _Items(Enum):
    """What a list-typed value holds, which says how an env string becomes the list."""

    VALUES = "values"  # plain values: a JSON array, or comma-separated
    MODELS = "models"  # mappings: a JSON array only


_Key = tuple[str, ...]


@dataclass(frozen=True)
class _Spec:
    """What the loader needs to know about one field path."""

    path: _Key
    kind: _Kind
    optional: bool
    secret: str | None  # "value" | "url-password" | None
    is_path: bool
    has_default: bool
    default: object
    items: _Items | None = None
    """For a list field (or a map of lists: its values), what the lists hold."""

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], len(args) != len(get_args(annotation))
    return annotation, False


def _is_model(annotation: Any) -> bool:
    """A model, or a union of models (such as the kinds of ``run.handlers``)."""
    if get_origin(annotation) in (Union, types.UnionType):
        return all(_is_model(a) for a in get_args(annotation) if a is not type(None))
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _bare(annotation: Any) -> Any:
    """``annotation`` without ``Annotated[…]`` and ``| None``."""
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return _unwrap_optional(annotation)[0]


def _list_items(annotation: Any) -> _Items | None:
    """What a list (tuple, set) annotation holds; None when it is no list."""
    annotation = _bare(annotation)
    if get_origin(annotation) not in (list, tuple, set, frozenset):
        return None
    args = [a for a in get_args(annotation) if a is not Ellipsis]
    return _Items.MODELS if args and _is_model(_bare(args[0])) else _Items.VALUES


def _env_list(text: str, items: _Items) -> list[Any]:
    """An env string for a list: a JSON array, or (plain values only) comma-separated
    items, stripped, empty ones dropped. A ValueError says what is wrong."""
    stripped = text.strip()
    if items is _Items.VALUES and not stripped.startswith("["):
        return [part.strip() for part in stripped.split(",") if part.strip()]
    try:
        value = json.loads(stripped)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not a JSON array ({exc.msg})") from exc
    if not isinstance(value, list):
        raise ValueError("not a JSON array")
    return value


def _walk(model: type[BaseModel], prefix: _Key, out: dict[_Key, _Spec]) -> None:
    for name, info in model.model_fields.items():
        path = (*prefix, name)
        inner, optional = _unwrap_optional(info.annotation)
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        secret: str | None = None
        if extra.get(SECRET_KEY) == URL_PASSWORD:
            secret = URL_PASSWORD
        elif inner is SecretStr:
            secret = "value"
        items = _list_items(inner)
        if _is_model(inner):
            kind = _Kind.SECTION
        elif get_origin(inner) is dict:
            value_type = get_args(inner)[1]
            if get_origin(value_type) is Annotated:
                value_type = get_args(value_type)[0]
            kind = _Kind.MAP_MODEL if _is_model(value_type) else _Kind.MAP_VALUE
            items = _list_items(value_type) if kind is _Kind.MAP_VALUE else None
        else:
            kind = _Kind.LEAF
        has_default = not info.is_required()
        default = info.get_default(call_default_factory=True) if has_default else None
        out[path] = _Spec(
            path=path,
            kind=kind,
            optional=optional,
            secret=secret,
            is_path=inner is Path,
            has_default=has_default,
            default=default,
            items=items,
        )
        if kind is _Kind.SECTION:
            _walk(inner, path, out)


@cache
def _specs() -> dict[_Key, _Spec]:
    """Every field path of :class:`Settings`, depth first, in declaration order."""
    out: dict[_Key, _Spec] = {}
    _walk(Settings, (), out)
    return out


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class ConfigOptions:
    """What the command line says about configuration (global options and flags)."""

    config_file: Path | None = None
    env_file: Path | None = None
    account: str = "default"
    flags: Mapping[str, object] = field(default_factory=dict)
    """Flag values by dotted field path (``{"limits.default": 50}``); None = not given."""


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class FieldRow:
    """One line of ``config check``: a field's value, where it came from, its status."""

    path: str
    value: str
    source: Source
    status: FieldStatus = "ok"
    message: str = ""
    origin: str = ""
    """The env variable or file the value came from ("" for defaults)."""

    def to_json(self) -> dict[str, str]:
        return {
            "path": self.path,
            "value": self.value,
            "source": self.source,
            "origin": self.origin,
            "status": self.status,
            "message": self.message,
        }


@dataclass(frozen=True)
class ConfigInspection:
    """Everything known about a configuration, valid or not (for ``config check``)."""

    account: str
    rows: tuple[FieldRow, ...]
    problems: tuple[str, ...]
    config: Config | None
    config_file: Path | None
    env_file: Path | None
    home: Path
    paths: Paths | None

    @property
    def valid(self) -> bool:
        """True when there is no problem at all (missing credentials included)."""
        return not self.problems


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class _Origin:
    source: Source
    where: str = ""  # env name, "NAME in FILE", file path, flag
    via: str = ""  # placeholder variables used, for YAML values

    def suffix(self) -> str:
        if self.source == "default":
            return ""
        if self.source == "flag":
            return " (from flag)"
        if self.via:
            return f" (from {self.via} in {self.where})"
        return f" (from {self.where})"


@dataclass
class _Entry:
    value: object
    origin: _Origin


@dataclass(frozen=True)
class _Problem:
    path: str | None
    message: str
    status: FieldStatus = "invalid"


class _Loader:
    """One run of loading: gathers layers, validates, records every problem."""

    def __init__(
        self, options: ConfigOptions, environ: Mapping[str, str], require_credentials: bool
    ) -> None:
        self.options = options
        self.environ = environ
        self.require_credentials = require_credentials
        self.problems: list[_Problem] = []
        self.dropped: dict[_Key, _Entry] = {}
        """Values given but not used (a problem each), kept for ``config check`` rows."""
        self.dotenv: dict[str, str] = {}
        self.env_file: Path | None = None
        self.config_file: Path | None = None
        self.cwd = Path.cwd()
        user_home = environ.get("HOME")
        self.user_home = Path(user_home) if user_home else Path.home()

    def problem(self, path: str | None, message: str, status: FieldStatus = "invalid") -> None:
        self.problems.append(_Problem(path, message, status))

    # ----- small helpers

    def expand(self, text: str) -> Path:
        if text == "~" or text.startswith("~/"):
            return self.user_home / text[2:]
        return Path(text)

    def absolute(self, path: Path) -> Path:
        return path if path.is_absolute() else self.cwd / path

    def lookup(self, name: str) -> tuple[str, Source] | None:
        """A variable from the process env, else from ``.env``."""
        if name in self.environ:
            return self.environ[name], "env"
        if name in self.dotenv:
            return self.dotenv[name], ".env"
        return None

    # ----- files

    def find_env_file(self) -> None:
        named = self.options.env_file
        if named is not None:
            path = self.absolute(self.expand(str(named)))
            if not path.is_file():
                self.problem(None, f"env file {path} not found (--env-file)")
                return
            self.env_file = path
        else:
            local = self.cwd / ENV_FILE_NAME
            home_text = self.environ.get(HOME_VAR)
            home = (
                self.absolute(self.expand(home_text)) if home_text else default_home(self.user_home)
            )
            for candidate in (local, home / ENV_FILE_NAME):
                if candidate.is_file():
                    self.env_file = candidate
                    break
        if self.env_file is None:
            return
        try:
            values = dotenv_values(self.env_file, interpolate=False, encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.problem(None, f"env file {self.env_file}: cannot read: {exc}")
            return
        self.dotenv = {k: v for k, v in values.items() if v is not None}

    def find_home(self) -> Path:
        found = self.lookup(HOME_VAR)
        if found is not None:
            text, source = found
            if text:
                return self.absolute(self.expand(text))
            where = HOME_VAR if source == "env" else f"{HOME_VAR} in {self.env_file}"
            self.problem("home", f"home: empty value (from {where})")
        return default_home(self.user_home)

    def find_config_file(self) -> None:
        if self.options.config_file is not None:
            named, why = str(self.options.config_file), "--config"
        else:
            found = self.lookup(CONFIG_VAR)
            if found is not None and not found[0]:
                self.problem(None, f"{CONFIG_VAR}: empty value")
                return
            named, why = (found[0], CONFIG_VAR) if found is not None else ("", "")
        if named:
            path = self.absolute(self.expand(named))
            if not path.is_file():
                self.problem(None, f"config file {path} not found ({why})")
                return
            self.config_file = path
            return
        for candidate in (self.cwd / CONFIG_FILE_NAME, self.user_config_dir() / CONFIG_FILE_NAME):
            if candidate.is_file():
                self.config_file = candidate
                return

    def user_config_dir(self) -> Path:
        """``$XDG_CONFIG_HOME/tgpilot`` (``~/.config/tgpilot`` when unset or relative)."""
        xdg = self.environ.get("XDG_CONFIG_HOME")
        xdg_dir = Path(xdg) if xdg and Path(xdg).is_absolute() else self.user_home / ".config"
        return xdg_dir / "tgpilot"

    def read_yaml(self) -> dict[Any, Any] | None:
        if self.config_file is None:
            return None
        path = self.config_file
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.problem(None, f"config file {path}: cannot read: {exc}")
            return None
        try:
            tree = yaml.safe_load(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            what = exc.problem or exc.context or "syntax error"
            self.problem(None, f"config file {path}: invalid YAML{where}: {what}")
            return None
        except yaml.YAMLError as exc:
            self.problem(None, f"config file {path}: invalid YAML: {exc}")
            return None
        if tree is None:
            return {}
        if not isinstance(tree, dict):
            self.problem(
                None,
                f"config file {path}: the top level must be a mapping of sections "
                "(telegram:, session:, …)",
            )
            return None
        return tree

    # ----- layers

    def yaml_layer(self, tree: dict[Any, Any]) -> dict[_Key, _Entry]:
        assert self.config_file is not None
        flat: dict[_Key, object] = {}
        _flatten(tree, (), flat)
        specs = _specs()
        out: dict[_Key, _Entry] = {}
        where = str(self.config_file)
        for key, raw in flat.items():
            dotted = ".".join(key)
            spec = specs.get(key)
            if (
                spec is not None
                and spec.secret is not None
                and raw is not None
                and not self.secret_allowed_in_yaml(spec, raw)
            ):
                self.dropped[key] = _Entry(raw, _Origin("config.yml", where))
                continue
            value, used, missing = self.substitute(raw)
            for name in missing:
                self.problem(
                    dotted,
                    f"{dotted}: ${{{name}}} is not set — set {name} in the environment or .env"
                    f" (used in {where})",
                )
            if missing:
                self.dropped[key] = _Entry(raw, _Origin("config.yml", where))
                continue
            via = ", ".join(f"${{{name}}}" for name in used)
            out[key] = _Entry(value, _Origin("config.yml", where, via))
        return out

    def secret_allowed_in_yaml(self, spec: _Spec, raw: object) -> bool:
        dotted = spec.dotted
        if spec.secret == URL_PASSWORD:
            if not isinstance(raw, str):
                return True
            try:
                password = urlsplit(raw).password
            except ValueError:
                password = None
            if not password or _PLACEHOLDER.fullmatch(password):
                return True
            self.problem(
                dotted,
                f"{dotted}: a password may not be written in config.yml ({self.config_file})"
                f" — set the whole URL in {env_name(dotted)} (environment or .env),"
                " or write the password as ${VAR}",
            )
            return False
        if isinstance(raw, str) and _PLACEHOLDER.fullmatch(raw):
            return True
        self.problem(
            dotted,
            f"{dotted}: secrets may not be written in config.yml ({self.config_file})"
            f" — remove it and set {' or '.join(env_names(dotted))} in the environment or .env",
        )
        return False

    def substitute(self, value: object) -> tuple[object, list[str], list[str]]:
        """``value`` with ``${NAME}`` replaced; also the names used and the unset ones."""
        used: list[str] = []
        missing: list[str] = []

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            found = self.lookup(name)
            if found is None:
                if name not in missing:
                    missing.append(name)
                return match.group(0)
            if name not in used:
                used.append(name)
            return found[0]

        def walk(item: object) -> object:
            if isinstance(item, str):
                return _PLACEHOLDER.sub(replace, item)
            if isinstance(item, dict):
                return {k: walk(v) for k, v in item.items()}
            if isinstance(item, list):
                return [walk(v) for v in item]
            return item

        result = walk(value)
        return result, used, missing

    def env_layer(self, variables: Mapping[str, str], source: Source) -> dict[_Key, _Entry]:
        def origin(name: str) -> _Origin:
            where = name if source == "env" else f"{name} in {self.env_file}"
            return _Origin(source, where)

        specs = _specs()
        out: dict[_Key, _Entry] = {}
        known: set[str] = set()
        map_prefixes: list[str] = []
        for key, spec in specs.items():
            if spec.kind is _Kind.LEAF:
                names = env_names(spec.dotted)
                known.update(names)
                for name in names:
                    if name in variables:
                        self.env_value(spec, key, _Entry(variables[name], origin(name)), out)
                        break
            elif spec.kind in (_Kind.MAP_MODEL, _Kind.MAP_VALUE):
                prefix = env_name(spec.dotted) + "__"
                map_prefixes.append(prefix)
                self.env_map(spec, prefix, variables, origin, out)
        sections = {key[0] for key in specs}
        for name in variables:
            if not name.startswith(ENV_PREFIX) or "__" not in name or name in known:
                continue
            if any(name.startswith(p) for p in map_prefixes):
                continue
            path = name[len(ENV_PREFIX) :].lower().split("__")
            if path[0] in sections:
                dotted = ".".join(path)
                self.dropped[tuple(path)] = _Entry(variables[name], origin(name))
                self.problem(
                    dotted,
                    f"{name}: no such setting {dotted}{_suggest(path)}"
                    + ("" if source == "env" else f" (in {self.env_file})"),
                )
        return out

    def env_map(
        self,
        spec: _Spec,
        prefix: str,
        variables: Mapping[str, str],
        origin: Callable[[str], _Origin],
        out: dict[_Key, _Entry],
    ) -> None:
        groups: dict[str, dict[str, str]] = {}
        first_name: dict[str, str] = {}
        for name in sorted(variables):
            if not name.startswith(prefix):
                continue
            rest = name[len(prefix) :]
            if spec.kind is _Kind.MAP_VALUE:
                if rest:
                    entry = _Entry(variables[name], origin(name))
                    self.env_value(spec, (*spec.path, rest.lower()), entry, out)
                continue
            alias, sep, member = rest.rpartition("__")
            if not sep or not alias or not member:
                self.problem(
                    spec.dotted,
                    f"{name}: expected {prefix}<NAME>__<FIELD>, e.g. {prefix}TEAM__ID",
                )
                continue
            groups.setdefault(alias.lower(), {})[member.lower()] = variables[name]
            first_name.setdefault(alias.lower(), f"{prefix}{alias}__*")
        for alias, values in groups.items():
            out[(*spec.path, alias)] = _Entry(values, origin(first_name[alias]))

    def env_value(self, spec: _Spec, key: _Key, entry: _Entry, out: dict[_Key, _Entry]) -> None:
        """Put an env value into ``out``; a list field's string becomes its list first
        (a value that cannot is a problem, kept for ``config check``)."""
        if spec.items is not None and isinstance(entry.value, str) and entry.value != "":
            try:
                entry.value = _env_list(entry.value, spec.items)
            except ValueError as exc:
                dotted = ".".join(key)
                self.dropped[key] = entry
                self.problem(dotted, f"{dotted}: {exc}{entry.origin.suffix()}")
                return
        out[key] = entry

    def flag_layer(self) -> dict[_Key, _Entry]:
        specs = _specs()
        out: dict[_Key, _Entry] = {}
        for dotted, value in self.options.flags.items():
            if value is None:
                continue
            key = tuple(dotted.split("."))
            spec = specs.get(key)
            parent = specs.get(key[:-1])
            if (spec is not None and spec.kind is _Kind.LEAF) or (
                parent is not None and parent.kind in (_Kind.MAP_MODEL, _Kind.MAP_VALUE)
            ):
                out[key] = _Entry(value, _Origin("flag", "flag"))
            else:
                self.problem(dotted, f"{dotted}: a flag was given for an unknown setting")
        return out

    # ----- merging and validation

    def normalise(self, merged: dict[_Key, _Entry]) -> None:
        """Drop empty strings (a problem each) and expand/resolve path values."""
        specs = _specs()
        for key in list(merged):
            entry = merged[key]
            dotted = ".".join(key)
            if entry.value == "":
                self.problem(dotted, f"{dotted}: empty value{entry.origin.suffix()}")
                self.dropped[key] = merged.pop(key)
                continue
            if isinstance(entry.value, dict):
                for member, inner in list(entry.value.items()):
                    if inner == "":
                        self.problem(
                            f"{dotted}.{member}",
                            f"{dotted}.{member}: empty value{entry.origin.suffix()}",
                        )
                        entry.value = {k: v for k, v in entry.value.items() if k != member}
            spec = specs.get(key)
            if spec is not None and spec.is_path and isinstance(entry.value, str | Path):
                path = self.expand(str(entry.value))
                if entry.origin.source == "config.yml" and not path.is_absolute():
                    assert self.config_file is not None
                    path = self.config_file.parent / path
                entry.value = path

    def validate(self, merged: dict[_Key, _Entry]) -> Settings | None:
        tree: dict[str, Any] = {}
        for key, entry in merged.items():
            _set_nested(tree, key, entry.value)
        try:
            return Settings.model_validate(tree)
        except ValidationError as exc:
            for error in exc.errors():
                loc = tuple(str(part) for part in error["loc"])
                self.problem(".".join(loc), _error_line(error, loc, merged))
            return None


def _flatten(value: object, key: _Key, out: dict[_Key, object]) -> None:
    """YAML tree → values by field path, following the schema (sections are walked)."""
    specs = _specs()
    spec = specs.get(key)
    kind = _Kind.SECTION if not key else (spec.kind if spec is not None else _Kind.LEAF)
    if kind is _Kind.SECTION and isinstance(value, dict):
        for name, inner in value.items():
            _flatten(inner, (*key, str(name)), out)
    elif kind is _Kind.SECTION and value is None:
        return
    elif kind in (_Kind.MAP_MODEL, _Kind.MAP_VALUE) and isinstance(value, dict):
        for name, inner in value.items():
            out[(*key, str(name))] = inner
    elif kind in (_Kind.MAP_MODEL, _Kind.MAP_VALUE) and value is None:
        return
    else:
        out[key] = value


def _set_nested(tree: dict[str, Any], key: _Key, value: object) -> None:
    node = tree
    for part in key[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[key[-1]] = value


def _suggest(path: Iterable[str]) -> str:
    """`` (did you mean x?)`` for an unknown dotted path, or ""."""
    parts = list(path)
    specs = _specs()
    siblings = [k[-1] for k in specs if k[:-1] == tuple(parts[:-1])]
    if not parts[:-1]:
        siblings = [k[0] for k in specs if len(k) == 1]
    close = difflib.get_close_matches(parts[-1], siblings, n=1)
    return f" (did you mean {'.'.join([*parts[:-1], close[0]])}?)" if close else ""


_ERROR_WORDS = {
    "int_parsing": "not an integer",
    "int_type": "not an integer",
    "int_from_float": "not an integer",
    "float_parsing": "not a number",
    "float_type": "not a number",
    "finite_number": "not a finite number",
    "bool_parsing": "not a boolean (use true or false)",
    "bool_type": "not a boolean (use true or false)",
    "string_type": "not a string",
    "path_type": "not a path",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "list_type": "must be a list",
    "enum": "not one of the allowed values",
}


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _origin_for(loc: _Key, merged: Mapping[_Key, _Entry]) -> _Origin | None:
    for end in range(len(loc), 0, -1):
        entry = merged.get(loc[:end])
        if entry is not None:
            return entry.origin
    return None


def _is_secret_path(loc: _Key) -> bool:
    specs = _specs()
    return any(
        (spec := specs.get(loc[:end])) is not None and spec.secret is not None
        for end in range(len(loc), 0, -1)
    )


def _error_line(error: Any, loc: _Key, merged: Mapping[_Key, _Entry]) -> str:
    """One problem line for a pydantic error, naming field, problem, value and source."""
    dotted = ".".join(loc)
    origin = _origin_for(loc, merged)
    suffix = origin.suffix() if origin is not None else ""
    kind = error["type"]
    if kind == "missing":
        spec = _specs().get(loc)
        how = f"set {' or '.join(env_names(dotted))}" if spec is not None else "give a value"
        return f"{dotted}: missing — {how}{suffix}"
    if kind == "extra_forbidden":
        return f"{dotted}: unknown key{_suggest(loc)}{suffix}"
    if kind == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
        return f"{dotted}: {message}{suffix}"
    words = _ERROR_WORDS.get(kind)
    if words is None:
        msg = str(error["msg"])
        words = msg[:1].lower() + msg[1:]
    shown = "" if _is_secret_path(loc) else f": {_short(error.get('input'))}"
    if kind in ("dict_type", "model_type", "model_attributes_type", "list_type"):
        shown = ""
    return f"{dotted}: {words}{shown}{suffix}"


# --------------------------------------------------------------------------- rows


def _display(spec: _Spec | None, value: object) -> str:
    if value is None:
        return "(not set)"
    if value == "":
        return "(empty)"
    if spec is not None and spec.secret == URL_PASSWORD:
        text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        return mask_url(text)
    if spec is not None and spec.secret is not None:
        secret = value.get_secret_value() if isinstance(value, SecretStr) else value
        return f"set ({len(secret)} chars)" if isinstance(secret, str) else "set"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _touches(row_path: str, problem_path: str) -> bool:
    return (
        row_path == problem_path
        or problem_path.startswith(row_path + ".")
        or row_path.startswith(problem_path + ".")
    )


def _build_rows(merged: Mapping[_Key, _Entry], problems: list[_Problem]) -> list[FieldRow]:
    specs = _specs()
    rows: list[FieldRow] = []
    skipped: list[_Key] = []

    def row(path: str, value: str, origin: _Origin | None) -> None:
        source: Source = origin.source if origin is not None else "default"
        attached = [p for p in problems if p.path is not None and _touches(path, p.path)]
        status: FieldStatus = "ok"
        if attached:
            status = "missing" if all(p.status == "missing" for p in attached) else "invalid"
        rows.append(
            FieldRow(
                path=path,
                value=value,
                source=source,
                status=status,
                message="; ".join(p.message for p in attached),
                origin=origin.where if origin is not None else "",
            )
        )

    for key, spec in specs.items():
        if any(key[: len(s)] == s for s in skipped):
            continue
        if spec.kind is _Kind.SECTION:
            given = merged.get(key)
            if given is not None:  # a section written as a plain value
                row(spec.dotted, _display(None, given.value), given.origin)
                skipped.append(key)
            elif spec.optional and not any(k[: len(key)] == key for k in merged):
                row(spec.dotted, "(not set)", None)
                skipped.append(key)
            continue
        if spec.kind is _Kind.LEAF:
            entry = merged.get(key)
            if entry is not None:
                row(spec.dotted, _display(spec, entry.value), entry.origin)
            else:
                row(spec.dotted, _display(spec, spec.default), None)
            continue
        entries = [(k, e) for k, e in merged.items() if len(k) == len(key) + 1 and k[:-1] == key]
        whole = merged.get(key)
        if whole is not None:
            row(spec.dotted, _display(None, whole.value), whole.origin)
        elif not entries:
            row(spec.dotted, "(none)", None)
        for k, entry in entries:
            row(".".join(k), _display(None, entry.value), entry.origin)
    covered = [r.path for r in rows]
    for problem in problems:
        path = problem.path
        if path is None or path == "home" or any(_touches(c, path) for c in covered):
            continue
        origin = _origin_for(tuple(path.split(".")), merged)
        row(path, "(unknown key)", origin)
        covered.append(path)
    return rows


# --------------------------------------------------------------------------- API


def _secrets(merged: Mapping[_Key, _Entry]) -> list[str]:
    specs = _specs()
    found: list[str] = []
    for key, entry in merged.items():
        spec = specs.get(key)
        value = entry.value
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if spec is None or spec.secret is None or not isinstance(text, str):
            continue
        if spec.secret == URL_PASSWORD:
            try:
                password = urlsplit(text).password
            except ValueError:
                password = None
            if password:
                found.append(password)
        else:
            found.append(text)
    return sorted((s for s in found if len(s) >= 4), key=len, reverse=True)


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def _run(
    options: ConfigOptions, environ: Mapping[str, str] | None, require_credentials: bool
) -> ConfigInspection:
    env: Mapping[str, str] = os.environ if environ is None else environ
    loader = _Loader(options, env, require_credentials)
    account = options.account
    if not is_valid_account(account):
        loader.problem(
            "account",
            f"account: invalid name {_short(account)} — use 1 to 64 letters, digits, _ or -",
        )
    loader.find_env_file()
    home = loader.find_home()
    paths = Paths(home, account) if is_valid_account(account) else None
    loader.find_config_file()
    tree = loader.read_yaml()

    layers: list[dict[_Key, _Entry]] = [
        {("store", "url"): _Entry(f"sqlite:///{home / 'tgpilot.db'}", _Origin("default"))}
    ]
    if tree is not None:
        layers.append(loader.yaml_layer(tree))
    layers.append(loader.env_layer(loader.dotenv, ".env"))
    layers.append(loader.env_layer(env, "env"))
    layers.append(loader.flag_layer())
    merged: dict[_Key, _Entry] = {}
    for layer in layers:
        merged.update(layer)
    loader.normalise(merged)
    settings = loader.validate(merged)

    config: Config | None = None
    if settings is not None and paths is not None and not loader.problems:
        config = Config(
            **{name: getattr(settings, name) for name in Settings.model_fields},
            account=account,
            config_file=loader.config_file,
            env_file=loader.env_file,
            user_config_dir=loader.user_config_dir(),
            paths_resolved=paths,
        )
    if require_credentials:
        for dotted in ("telegram.api_id", "telegram.api_hash"):
            key = tuple(dotted.split("."))
            troubled = any(p.path is not None and _touches(dotted, p.path) for p in loader.problems)
            if key not in merged and not troubled:
                loader.problem(dotted, missing_message(dotted), "missing")

    shown = dict(merged)
    for key, entry in loader.dropped.items():
        kept = shown.get(key)
        if kept is None or _RANK[kept.origin.source] <= _RANK[entry.origin.source]:
            shown[key] = entry
    secrets = _secrets(shown)
    rows = [
        FieldRow(
            path=r.path,
            value=_scrub(r.value, secrets),
            source=r.source,
            status=r.status,
            message=_scrub(r.message, secrets),
            origin=r.origin,
        )
        for r in _build_rows(shown, loader.problems)
    ]
    return ConfigInspection(
        account=account,
        rows=tuple(rows),
        problems=tuple(_scrub(p.message, secrets) for p in loader.problems),
        config=config,
        config_file=loader.config_file,
        env_file=loader.env_file,
        home=home,
        paths=paths,
    )


def inspect_config(
    options: ConfigOptions,
    environ: Mapping[str, str] | None = None,
    *,
    require_credentials: bool = True,
) -> ConfigInspection:
    """Every field's value, source and status, and every problem; never raises.

    ``environ`` defaults to ``os.environ``. With ``require_credentials`` (the default,
    as ``config check`` wants) a missing ``telegram.api_id``/``api_hash`` is a problem
    with status ``missing``; ``config`` is set whenever the values themselves are valid.
    """
    return _run(options, environ, require_credentials)


def load_config(options: ConfigOptions, environ: Mapping[str, str] | None = None) -> Config:
    """The valid configuration, or one ConfigError listing every problem (one per line).

    Credentials are not required here (offline commands need none); online commands
    call :meth:`Config.require_api_credentials`.
    """
    inspection = _run(options, environ, require_credentials=False)
    if inspection.problems or inspection.config is None:
        raise ConfigError(
            "\n".join(inspection.problems) or "invalid configuration",
            hint="tgpilot config check shows every field, its value and its source",
        )
    return inspection.config


# --------------------------------------------------------------------------- LLM helpers


LLM_RESOLVED_FIELDS = ("provider", "model", "temperature", "max_tokens")
"""The ``llm`` fields whose precedence puts ``llm.commands.<cmd>`` below the environment."""


def _environment_layers(
    config: Config, environ: Mapping[str, str] | None
) -> list[Mapping[str, str]]:
    """The process env, then the ``.env`` file the configuration was loaded with."""
    layers: list[Mapping[str, str]] = [os.environ if environ is None else environ]
    if config.env_file is not None:
        try:
            values = dotenv_values(config.env_file, interpolate=False, encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            values = {}
        layers.append({k: v for k, v in values.items() if v is not None})
    return layers


def llm_fields_set_by_environment(
    config: Config, environ: Mapping[str, str] | None = None
) -> frozenset[str]:
    """Which of ``llm.provider|model|temperature|max_tokens`` the environment (process
    env or ``.env``) set, so that ``llm.commands.<cmd>`` ranks below them (ai.md §1.1)."""
    layers = _environment_layers(config, environ)
    return frozenset(
        name
        for name in LLM_RESOLVED_FIELDS
        if any(env_name(f"llm.{name}") in layer for layer in layers)
    )


def llm_api_key_from_env(
    config: Config, environ: Mapping[str, str] | None = None
) -> SecretStr | None:
    """The key held by the variable ``llm.api_key_env`` names (process env, then
    ``.env``); None when that field is not set or the variable is empty or unset."""
    name = config.llm.api_key_env
    if not name:
        return None
    for layer in _environment_layers(config, environ):
        value = layer.get(name)
        if value:
            return SecretStr(value)
    return None
