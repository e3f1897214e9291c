"""What every LLM-using command shares: its model flags, its model job, its client,
its usage line.

``--provider/--model/--temperature/--max-tokens`` (and ``--anonymize``) are declared
once here. :func:`model_job` decides, before anything is read, whether a command with
a local mode (ai.md §5) uses a model — not with ``--provider local`` (or ``local`` by
configuration), nor without a key (a notice saying what happens instead) — and loads
its prompts. :func:`open_llm_client` settles the flags against the configuration
(ai.md §1.1 precedence) and yields an :class:`~tgpilot.gateways.llm.client.LLMClient`
that records usage in the store and answers repeated requests from its cache. A bad
provider or prompt fails before anything is sent (exit 2). SDKs load only when a
client is built.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from tgpilot.cli.context import AppContext

if TYPE_CHECKING:
    from tgpilot.gateways.llm.client import LLMClient
    from tgpilot.gateways.llm.types import UsageTotals
    from tgpilot.services.ai.anonymize import Anonymizer
    from tgpilot.services.ai.budget import PromptSet
    from tgpilot.services.prompts import Prompt

LOCAL = "local"
RETRY_PROMPT = "json_retry"

ProviderOpt = Annotated[
    str | None,
    typer.Option("--provider", help="openai, anthropic, gemini or local (default: llm.provider)."),
]
ModelOpt = Annotated[str | None, typer.Option("--model", help="Model (default: llm.model).")]
TemperatureOpt = Annotated[
    float | None, typer.Option("--temperature", min=0, max=2, help="Sampling temperature.")
]
MaxTokensOpt = Annotated[
    int | None, typer.Option("--max-tokens", min=1, help="Longest answer, in tokens.")
]

AnonymizeFlag = Annotated[
    bool,
    typer.Option(
        "--anonymize",
        help="The model reads pseudonyms (P1, P2, …) and masked phones and e-mails; "
        "reports show the real names.",
    ),
]


@dataclass(frozen=True)
class LLMFlags:
    """The model flags of one command (None: not given)."""

    provider: str | None = None
    model: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None


@dataclass(frozen=True)
class ModelJob:
    """What a model-backed run needs: its flags, prompts, the JSON retry prompt, and
    whether the model reads pseudonyms (``--anonymize``)."""

    flags: LLMFlags
    prompts: PromptSet
    retry_prompt: Prompt
    anonymize: bool = False

    def anonymizer(self) -> Anonymizer | None:
        """A fresh anonymizer for one run with ``--anonymize``, else None."""
        from tgpilot.services.ai.anonymize import Anonymizer

        return Anonymizer() if self.anonymize else None


def model_job(
    app_ctx: AppContext,
    command: str,
    flags: LLMFlags,
    prompt: str | None = None,
    *,
    instead: str,
    anonymize: bool = False,
) -> ModelJob | None:
    """The model side of ``command`` with ``prompt`` (default: the command's own), or
    None for its local mode: ``--provider local`` (or ``local`` by configuration), or
    no key for the provider (a notice saying what happens ``instead``, ai.md §5). Bad
    providers and prompts fail here, before anything is read (exit 2)."""
    from tgpilot.gateways.llm.factory import load_config_catalogue
    from tgpilot.gateways.llm.resolve import MissingProviderKey, resolve_llm
    from tgpilot.services.ai.budget import PromptSet
    from tgpilot.services.prompts import PromptLibrary

    if flags.provider == LOCAL:
        return None
    config = app_ctx.config
    try:
        target = resolve_llm(
            config,
            command,
            load_config_catalogue(config),
            provider=flags.provider,
            model=flags.model,
            temperature=flags.temperature,
            max_tokens=flags.max_tokens,
        )
    except MissingProviderKey as exc:
        app_ctx.output.info(f"notice: {exc.message}; {instead}")
        return None
    if target.provider == LOCAL:
        return None
    library = PromptLibrary.from_config(config, clock=app_ctx.runtime.clock)
    prompts = PromptSet.load(library, prompt or command)
    return ModelJob(flags, prompts, library.load(RETRY_PROMPT), anonymize)


@asynccontextmanager
async def open_llm_client(
    app_ctx: AppContext,
    command: str,
    flags: LLMFlags,
    *,
    cache: bool = True,
    report_usage: bool = False,
) -> AsyncIterator[LLMClient]:
    """A client for ``command``'s calls, recording usage (and caching answers, unless
    ``cache`` is False or ``llm.cache`` is off) in the configured store; with
    ``report_usage`` the usage line goes to stderr when the block ends, however it
    ends, if any call was made."""
    from tgpilot.gateways.llm.factory import create_llm_client, load_config_catalogue
    from tgpilot.gateways.llm.resolve import resolve_llm
    from tgpilot.store.llm import LLMRepository

    config = app_ctx.config
    catalogue = load_config_catalogue(config)
    target = resolve_llm(
        config,
        command,
        catalogue,
        provider=flags.provider,
        model=flags.model,
        temperature=flags.temperature,
        max_tokens=flags.max_tokens,
    )
    async with app_ctx.open_store() as store:
        repository = LLMRepository(store)
        client = create_llm_client(
            target,
            catalogue,
            clock=app_ctx.runtime.clock,
            recorder=repository,
            cache=repository if cache else None,
        )
        async with client:
            try:
                yield client
            finally:
                if report_usage and client.records:
                    app_ctx.output.info(usage_line(client.usage_summary()))


def usage_line(totals: UsageTotals) -> str:
    """The one-line usage summary a command prints on stderr."""
    calls = f"{totals.calls} call" + ("" if totals.calls == 1 else "s")
    tokens = f"{totals.input_tokens} in / {totals.output_tokens} out tokens"
    cost = "cost unknown" if totals.cost_usd is None else f"≈ ${totals.cost_usd:.6f}"
    extra = f", {totals.failures} failed" if totals.failures else ""
    return f"LLM usage: {calls}, {tokens}, {cost}{extra}"


def usage_json(totals: UsageTotals) -> dict[str, object]:
    """The ``usage`` member of a command's ``--json`` output."""
    return {
        "calls": totals.calls,
        "input_tokens": totals.input_tokens,
        "output_tokens": totals.output_tokens,
        "cached_tokens": totals.cached_tokens,
        "cost_usd": totals.cost_usd,
        "failures": totals.failures,
        "cache_hits": totals.cache_hits,
    }
