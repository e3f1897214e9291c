"""Building an :class:`LLMClient` from a settled :class:`LLMTarget`.

The provider SDK is imported here, lazily, only when a client for it is built — so
``tgpilot --help`` and offline commands never load ``openai``/``anthropic``/``google``.
:class:`RateLimiters` keeps one aiolimiter per provider for ``requests_per_minute``;
share one instance between the clients of a process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from aiolimiter import AsyncLimiter

from tgpilot.core.clock import Clock
from tgpilot.core.config import Config
from tgpilot.core.errors import UsageError
from tgpilot.gateways.llm.catalogue import Catalogue, load_catalogue
from tgpilot.gateways.llm.client import STREAM_IDLE_S, LLMClient, ResponseCache, UsageRecorder
from tgpilot.gateways.llm.failures import Endpoint
from tgpilot.gateways.llm.provider import ProviderAdapter
from tgpilot.gateways.llm.resolve import MODEL_PROVIDERS, LLMTarget, is_loopback, resolve_llm

if TYPE_CHECKING:
    import httpx2

OFFICIAL_BASE_URLS = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
    "gemini": "https://generativelanguage.googleapis.com",
}
MODELS_FILE = "models.yml"
RATE_PERIOD_S = 60.0


class RateLimiters:
    """One limiter per provider: at most ``requests_per_minute`` calls a minute."""

    def __init__(self) -> None:
        self._limiters: dict[str, AsyncLimiter] = {}

    def for_provider(self, provider: str, requests_per_minute: int) -> AsyncLimiter:
        """The provider's limiter (created with the first rate asked for)."""
        limiter = self._limiters.get(provider)
        if limiter is None:
            limiter = AsyncLimiter(requests_per_minute, RATE_PERIOD_S)
            self._limiters[provider] = limiter
        return limiter


def models_file(config: Config) -> Path:
    """Where a user's catalogue override lives: beside config.yml, else in the data dir."""
    folder = config.config_file.parent if config.config_file is not None else config.home
    return folder / MODELS_FILE


def load_config_catalogue(config: Config) -> Catalogue:
    """The packaged catalogue with the user's ``models.yml`` (if any) laid over it."""
    return load_catalogue(models_file(config))


def endpoint_for(target: LLMTarget) -> Endpoint:
    """The endpoint of ``target``: its ``base_url``, else the provider's official one."""
    base_url = target.base_url or OFFICIAL_BASE_URLS.get(target.provider, "")
    secret = target.api_key.get_secret_value() if target.api_key is not None else None
    return Endpoint(target.provider, base_url, target.model, target.key_env, secret)


@dataclass(frozen=True)
class EndpointReport:
    """Where one command's chat content goes (``config check``, ai.md §1.1)."""

    command: str
    provider: str
    model: str
    base_url: str
    """The resolved URL: ``llm.base_url``, else the provider's official endpoint."""
    official: bool
    """True when ``llm.base_url`` is unset and the official endpoint is used."""
    loopback: bool
    """True for a server on this machine (it needs no key)."""
    key_env: str
    key_set: bool

    @property
    def key_missing(self) -> bool:
        """True when the endpoint needs a key and none is set."""
        return self.provider in MODEL_PROVIDERS and not self.key_set and not self.loopback

    def describe(self) -> str:
        """``openai gpt-4o-mini → https://api.openai.com/v1 (official endpoint)``."""
        if self.provider not in MODEL_PROVIDERS:
            return f"{self.provider}: no model, chat content stays on this machine"
        note = (
            "local, no key needed"
            if self.loopback
            else "official endpoint"
            if self.official
            else "custom endpoint"
        )
        return f"{self.provider} {self.model} → {self.base_url} ({note})"


def endpoint_report(
    config: Config, command: str = "", environ: Mapping[str, str] | None = None
) -> EndpointReport:
    """Where ``command``'s calls would go with no flags given (``""``: the ``llm``
    section itself); a missing key is reported, not raised."""
    target = resolve_llm(
        config, command, load_config_catalogue(config), environ=environ, require_key=False
    )
    return EndpointReport(
        command=command,
        provider=target.provider,
        model=target.model,
        base_url=target.base_url or OFFICIAL_BASE_URLS.get(target.provider, ""),
        official=target.base_url is None,
        loopback=is_loopback(target.base_url),
        key_env=target.key_env,
        key_set=target.api_key is not None,
    )


def create_adapter(
    target: LLMTarget, clock: Clock, transport: httpx2.AsyncBaseTransport | None = None
) -> ProviderAdapter:
    """The SDK-backed adapter of ``target.provider``."""
    endpoint = endpoint_for(target)
    if target.provider == "openai":
        from tgpilot.gateways.llm.openai_adapter import OpenAIAdapter

        return OpenAIAdapter(
            endpoint, timeout_s=target.timeout_s, now=clock.now, transport=transport
        )
    if target.provider == "anthropic":
        from tgpilot.gateways.llm.anthropic_adapter import AnthropicAdapter

        return AnthropicAdapter(
            endpoint, timeout_s=target.timeout_s, now=clock.now, transport=transport
        )
    if target.provider == "gemini":
        from tgpilot.gateways.llm.gemini_adapter import GeminiAdapter

        return GeminiAdapter(endpoint, timeout_s=target.timeout_s, now=clock.now)
    raise UsageError(
        f"provider {target.provider!r} calls no model",
        hint="choose --provider openai, anthropic or gemini for this command",
    )


def create_llm_client(
    target: LLMTarget,
    catalogue: Catalogue,
    *,
    clock: Clock,
    recorder: UsageRecorder | None = None,
    cache: ResponseCache | None = None,
    limiters: RateLimiters | None = None,
    transport: httpx2.AsyncBaseTransport | None = None,
    stream_idle_s: float = STREAM_IDLE_S,
) -> LLMClient:
    """A client for ``target``. ``transport`` replaces the network under the SDK
    (openai and anthropic only; tests use it to reach the fake server)."""
    adapter = create_adapter(target, clock, transport)
    defaults = catalogue.provider_defaults(target.provider)
    limiter = (limiters or RateLimiters()).for_provider(target.provider, target.requests_per_minute)
    return LLMClient(
        target,
        adapter,
        catalogue.model(target.model),
        clock=clock,
        limiter=limiter,
        default_max_tokens=defaults.max_tokens if defaults is not None else None,
        recorder=recorder,
        cache=cache,
        models=catalogue.model,
        stream_idle_s=stream_idle_s,
    )
