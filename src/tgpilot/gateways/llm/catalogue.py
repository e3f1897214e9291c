"""The model catalogue: window, output limit, prices and abilities of each model.

Packaged as ``tgpilot/data/models.yml`` (the file documents its fields); a user's
``models.yml`` is laid over it model by model, each entry replacing the fields it
names. :meth:`Catalogue.model` never fails: an unknown model gets an 8,192-token
window and no prices, so its cost is ``None`` (ai.md §1.1).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tgpilot.core.errors import ConfigError
from tgpilot.gateways.llm.types import Usage

PACKAGED_FILE = "models.yml"
UNKNOWN_WINDOW = 8192
PER_MILLION = 1_000_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Price(_Strict):
    input: float | None = Field(default=None, ge=0)
    output: float | None = Field(default=None, ge=0)
    cached: float | None = Field(default=None, ge=0)


class _ModelEntry(_Strict):
    provider: str | None = None
    window: int = Field(default=UNKNOWN_WINDOW, ge=1)
    max_output: int | None = Field(default=None, ge=1)
    price: _Price = Field(default_factory=_Price)
    embedding_dimension: int | None = Field(default=None, ge=1)
    json_mode: bool = Field(default=False, alias="json")
    vision: bool = False
    streaming: bool = True
    fixed_temperature: bool = False


class _ProviderEntry(_Strict):
    model: str
    embedding_model: str | None = None
    max_tokens: int | None = Field(default=None, ge=1)


class _CatalogueFile(_Strict):
    providers: dict[str, _ProviderEntry] = Field(default_factory=dict)
    models: dict[str, _ModelEntry] = Field(default_factory=dict)


@dataclass(frozen=True)
class ModelInfo:
    """What the catalogue says about one model (prices in USD per million tokens)."""

    name: str
    provider: str | None
    window: int
    max_output: int | None
    input_price: float | None
    output_price: float | None
    cached_price: float | None
    embedding_dimension: int | None
    json_mode: bool
    vision: bool
    streaming: bool
    fixed_temperature: bool
    known: bool

    def cost(self, usage: Usage) -> float | None:
        """USD for ``usage``; None when a price is unknown. Cached input is billed at
        the cached price (the input price when none is listed)."""
        if self.input_price is None or self.output_price is None:
            return None
        cached_price = self.cached_price if self.cached_price is not None else self.input_price
        cached = min(usage.cached_tokens, usage.input_tokens)
        total = (
            (usage.input_tokens - cached) * self.input_price
            + cached * cached_price
            + usage.output_tokens * self.output_price
        )
        return round(total / PER_MILLION, 12)

    def to_json(self) -> dict[str, object]:
        return {
            "model": self.name,
            "provider": self.provider,
            "window": self.window,
            "max_output": self.max_output,
            "price": {
                "input": self.input_price,
                "output": self.output_price,
                "cached": self.cached_price,
            },
            "embedding_dimension": self.embedding_dimension,
            "json": self.json_mode,
            "vision": self.vision,
            "streaming": self.streaming,
            "fixed_temperature": self.fixed_temperature,
            "known": self.known,
        }


@dataclass(frozen=True)
class ProviderDefaults:
    """A provider's default chat model, embedding model and answer length."""

    model: str
    embedding_model: str | None
    max_tokens: int | None


def _info(name: str, entry: _ModelEntry, known: bool) -> ModelInfo:
    return ModelInfo(
        name=name,
        provider=entry.provider,
        window=entry.window,
        max_output=entry.max_output,
        input_price=entry.price.input,
        output_price=entry.price.output,
        cached_price=entry.price.cached,
        embedding_dimension=entry.embedding_dimension,
        json_mode=entry.json_mode,
        vision=entry.vision,
        streaming=entry.streaming,
        fixed_temperature=entry.fixed_temperature,
        known=known,
    )


class Catalogue:
    """Every model tgpilot knows, and each provider's defaults."""

    def __init__(
        self, models: Mapping[str, ModelInfo], providers: Mapping[str, ProviderDefaults]
    ) -> None:
        self._models = dict(models)
        self._providers = dict(providers)

    def model(self, name: str) -> ModelInfo:
        """The model's entry; an unknown one gets an 8,192-token window and no prices."""
        found = self._models.get(name)
        if found is not None:
            return found
        return _info(name, _ModelEntry(), known=False)

    def provider_defaults(self, provider: str) -> ProviderDefaults | None:
        """The provider's defaults, or None for one the catalogue does not list."""
        return self._providers.get(provider)

    def __iter__(self) -> Iterator[ModelInfo]:
        return iter(self._models.values())


def _read(text: str, where: str) -> dict[str, Any]:
    try:
        tree = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: invalid YAML: {exc}") from None
    if tree is None:
        return {}
    if not isinstance(tree, dict):
        raise ConfigError(f"{where}: must be a mapping with providers: and models:")
    return tree


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` laid over ``base``: sections and entries merged field by field."""
    merged = dict(base)
    for key, value in override.items():
        old = merged.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            merged[key] = _merge(old, value)
        else:
            merged[key] = value
    return merged


def load_catalogue(override: Path | None = None) -> Catalogue:
    """The packaged catalogue, with ``override`` (a user's models.yml) laid over it if
    the file exists; a ConfigError names the file and the field that is wrong."""
    packaged = resources.files("tgpilot.data").joinpath(PACKAGED_FILE).read_text("utf-8")
    tree = _read(packaged, PACKAGED_FILE)
    where = PACKAGED_FILE
    if override is not None and override.is_file():
        where = str(override)
        try:
            text = override.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{override}: cannot read: {exc}") from None
        tree = _merge(tree, _read(text, where))
    try:
        parsed = _CatalogueFile.model_validate(tree)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigError(f"{where}: {problems}") from None
    return Catalogue(
        {name: _info(name, entry, known=True) for name, entry in parsed.models.items()},
        {
            name: ProviderDefaults(entry.model, entry.embedding_model, entry.max_tokens)
            for name, entry in parsed.providers.items()
        },
    )
