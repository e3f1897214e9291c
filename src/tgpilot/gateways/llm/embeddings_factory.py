"""Building the :class:`~tgpilot.gateways.llm.embeddings.TextEmbedder` the ``embeddings:``
section describes (``--embeddings PROVIDER`` may override the provider).

``hash`` and ``local`` need no key and no network; ``openai`` and ``gemini`` go through an
:class:`~tgpilot.gateways.llm.client.LLMClient` for ``embeddings.model`` on the ``llm``
endpoint, so retries, pacing and usage rows apply. A model left at its default is
replaced by the provider's own default (the catalogue's ``embedding_model`` for gemini,
a small multilingual sentence-transformers model for ``local``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, get_args

from tgpilot.core.clock import Clock
from tgpilot.core.config import Config
from tgpilot.core.config.settings import EmbeddingSettings
from tgpilot.core.errors import UsageError
from tgpilot.gateways.llm.embeddings import (
    LOCAL_DEFAULT_MODEL,
    EmbeddingBackend,
    HashBackend,
    LocalBackend,
    ProviderBackend,
    TextEmbedder,
)

if TYPE_CHECKING:
    import httpx2

    from tgpilot.gateways.llm.client import UsageRecorder

EMBEDDING_PROVIDERS: tuple[str, ...] = get_args(
    EmbeddingSettings.model_fields["provider"].annotation
)


def check_embedding_provider(name: str) -> str:
    """``name`` if it is an embedding provider, else a UsageError (exit 2)."""
    if name not in EMBEDDING_PROVIDERS:
        raise UsageError(
            f"unknown embeddings provider {name!r}: use {', '.join(EMBEDDING_PROVIDERS)}"
        )
    return name


def embedding_settings(config: Config, provider: str | None = None) -> EmbeddingSettings:
    """The ``embeddings:`` section with ``provider`` (a flag) laid over it and the
    model settled for the provider when it was left at its default."""
    settings = config.embeddings
    chosen = check_embedding_provider(provider) if provider is not None else settings.provider
    model_set = "model" in settings.model_fields_set and (
        provider is None or provider == settings.provider
    )
    model = settings.model
    if chosen == "hash":
        model = f"hash-{settings.dimension}"
    elif not model_set:
        if chosen == "local":
            model = LOCAL_DEFAULT_MODEL
        elif chosen == "gemini":
            from tgpilot.gateways.llm.factory import load_config_catalogue

            defaults = load_config_catalogue(config).provider_defaults("gemini")
            if defaults is not None and defaults.embedding_model:
                model = defaults.embedding_model
    return settings.model_copy(update={"provider": chosen, "model": model})


def create_embedder(
    config: Config,
    command: str,
    *,
    clock: Clock,
    provider: str | None = None,
    recorder: UsageRecorder | None = None,
    transport: httpx2.AsyncBaseTransport | None = None,
) -> TextEmbedder:
    """The embedder of ``command`` (see the module docstring). A provider off this
    machine without a key raises ConfigError before anything is sent."""
    settings = embedding_settings(config, provider)
    backend: EmbeddingBackend
    if settings.provider == "hash":
        backend = HashBackend(settings.dimension)
    elif settings.provider == "local":
        backend = LocalBackend(settings.model)
    else:
        from tgpilot.gateways.llm.factory import create_llm_client, load_config_catalogue
        from tgpilot.gateways.llm.resolve import resolve_embeddings

        target = resolve_embeddings(config.model_copy(update={"embeddings": settings}), command)
        target = replace(target, cache=False)
        catalogue = load_config_catalogue(config)
        client = create_llm_client(
            target, catalogue, clock=clock, recorder=recorder, transport=transport
        )
        backend = ProviderBackend(client, settings.model)
    return TextEmbedder(backend)
