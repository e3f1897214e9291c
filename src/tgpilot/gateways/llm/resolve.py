"""Which provider, model, temperature and output limit a command's LLM calls use.

Precedence (ai.md §1.1): flag > environment > ``llm.commands.<cmd>`` > ``llm`` >
prompt front matter > provider default. The first four are settled here into an
:class:`LLMTarget`; the prompt's defaults are applied per call by the client (a
:class:`~tgpilot.gateways.llm.types.PromptRef`), and the provider's default model comes
from the catalogue. An unknown provider is a usage error (exit 2), never replaced.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar, get_args
from urllib.parse import urlsplit

from pydantic import SecretStr

from tgpilot.core.config import Config, env_names
from tgpilot.core.config.loader import llm_api_key_from_env, llm_fields_set_by_environment
from tgpilot.core.config.settings import LLMCommandSettings, LLMProvider
from tgpilot.core.errors import ConfigError, UsageError
from tgpilot.gateways.llm.catalogue import Catalogue

T = TypeVar("T")

PROVIDERS: tuple[str, ...] = get_args(LLMProvider)
MODEL_PROVIDERS = ("openai", "anthropic", "gemini")
"""The providers that call a model (``local`` works without one, ai.md §5)."""


@dataclass(frozen=True)
class LLMTarget:
    """Everything settled about where one command's calls go and how they are made."""

    command: str
    provider: str
    model: str
    base_url: str | None
    """None: the provider's official endpoint."""
    api_key: SecretStr | None
    key_env: str
    """The variable a user sets for the key (named in hints)."""
    temperature: float | None
    """None: the prompt's default, else the provider's (nothing sent)."""
    max_tokens: int | None
    timeout_s: float
    max_retries: int
    requests_per_minute: int
    cache: bool


class MissingProviderKey(ConfigError):
    """A provider off this machine has no key: commands with a local mode fall back to
    it (ai.md §5) instead of failing."""


def check_provider(name: str) -> str:
    """``name`` if it is a provider, else a UsageError suggesting the closest one."""
    if name in PROVIDERS:
        return name
    close = difflib.get_close_matches(name, PROVIDERS, n=1)
    hint = f"did you mean {close[0]}?" if close else None
    raise UsageError(f"unknown provider {name!r}: use {', '.join(PROVIDERS)}", hint=hint)


def is_loopback(base_url: str | None) -> bool:
    """True for a server on this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    if base_url is None:
        return False
    host = (urlsplit(base_url).hostname or "").lower()
    return host == "localhost" or host.startswith("127.") or host == "::1"


def _pick(field: str, flag: T | None, from_env: frozenset[str], llm: T, command: T | None) -> T:
    """The value of ``field`` by precedence: flag, env-set ``llm``, command, ``llm``."""
    if flag is not None:
        return flag
    if field in from_env or command is None:
        return llm
    return command


def _api_key(
    config: Config, provider: str, environ: Mapping[str, str] | None
) -> tuple[SecretStr | None, str]:
    if config.llm.api_key_env:
        return llm_api_key_from_env(config, environ), config.llm.api_key_env
    keys = config.keys
    key = {"openai": keys.openai, "anthropic": keys.anthropic, "gemini": keys.gemini}.get(provider)
    names = env_names(f"keys.{provider}")
    return key, names[-1]


def _require_key(provider: str, key: SecretStr | None, key_env: str, base_url: str | None) -> None:
    """A ConfigError (exit 2, nothing sent) when a provider off this machine has no key."""
    if provider in MODEL_PROVIDERS and key is None and not is_loopback(base_url):
        raise MissingProviderKey(
            f"no API key for {provider}: set {key_env}",
            hint="a server on this machine (llm.base_url on localhost) needs none",
        )


def resolve_llm(
    config: Config,
    command: str,
    catalogue: Catalogue,
    *,
    provider: str | None = None,
    model: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    environ: Mapping[str, str] | None = None,
    require_key: bool = True,
) -> LLMTarget:
    """The settled target of ``command``'s calls, given its flag values (None = not
    given). A bad ``--provider`` or a missing key raise before anything is sent (the
    key check is skipped with ``require_key=False``, for reports such as ``config
    check``: the target's ``api_key`` is then None)."""
    if provider is not None:
        check_provider(provider)
    llm = config.llm
    command_llm = llm.commands.get(command) or LLMCommandSettings()
    from_env = llm_fields_set_by_environment(config, environ)
    chosen_provider = _pick("provider", provider, from_env, llm.provider, command_llm.provider)
    chosen_model = _pick("model", model, from_env, llm.model, command_llm.model)
    model_set = (
        "model" in from_env or "model" in llm.model_fields_set or command_llm.model is not None
    )
    defaults = catalogue.provider_defaults(chosen_provider)
    belongs_elsewhere = catalogue.model(chosen_model).provider not in (None, chosen_provider)
    if defaults is not None and model is None and (not model_set or belongs_elsewhere):
        # No model was chosen for this provider: a model set for another one (llm.model
        # of OpenAI with --provider anthropic) is not sent to it.
        chosen_model = defaults.model
    chosen_temperature = _pick(
        "temperature", temperature, from_env, llm.temperature, command_llm.temperature
    )
    chosen_max_tokens = _pick(
        "max_tokens", max_tokens, from_env, llm.max_tokens, command_llm.max_tokens
    )
    key, key_env = _api_key(config, chosen_provider, environ)
    if require_key:
        _require_key(chosen_provider, key, key_env, llm.base_url)
    return LLMTarget(
        command=command,
        provider=chosen_provider,
        model=str(chosen_model),
        base_url=llm.base_url,
        api_key=key,
        key_env=key_env,
        temperature=chosen_temperature,
        max_tokens=chosen_max_tokens,
        timeout_s=llm.timeout_s,
        max_retries=llm.max_retries,
        requests_per_minute=llm.requests_per_minute,
        cache=llm.cache,
    )


def resolve_embeddings(
    config: Config, command: str, *, environ: Mapping[str, str] | None = None
) -> LLMTarget:
    """The target of ``command``'s embedding calls (``embeddings:`` section): its model
    is ``embeddings.model``; ``local``/``hash`` embed without a provider and have no
    target (the factory refuses them). Endpoint, key and limits are those of ``llm``."""
    settings = config.embeddings
    llm = config.llm
    key, key_env = _api_key(config, settings.provider, environ)
    _require_key(settings.provider, key, key_env, llm.base_url)
    return LLMTarget(
        command=command,
        provider=settings.provider,
        model=settings.model,
        base_url=llm.base_url,
        api_key=key,
        key_env=key_env,
        temperature=None,
        max_tokens=None,
        timeout_s=llm.timeout_s,
        max_retries=llm.max_retries,
        requests_per_minute=llm.requests_per_minute,
        cache=False,
    )
