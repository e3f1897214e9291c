"""``tgpilot llm models|pull|ping|image|run|usage``: the provider layer by hand (ai.md §1).

``models`` lists the catalogue and what the server offers at ``/models``; ``pull``
pulls a model into an Ollama server (its native ``/api/pull``, host = ``llm.base_url``
without ``/v1``) with a progress bar; ``ping`` times one tiny call; ``image`` generates
an image through the OpenAI images API and writes it atomically; ``run`` sends one
prompt (``--stream`` prints the answer as it arrives); ``usage`` sums the
``llm_usage`` rows. Each model call is recorded in the store.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from tgpilot.cli.ai_reports import write_out_file
from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.llm_support import (
    LLMFlags,
    MaxTokensOpt,
    ModelOpt,
    ProviderOpt,
    TemperatureOpt,
    open_llm_client,
    usage_json,
    usage_line,
)
from tgpilot.cli.options import JsonFlag
from tgpilot.core.errors import ConfigError, ProviderError, UsageError

if TYPE_CHECKING:
    from tgpilot.gateways.llm.catalogue import ModelInfo
    from tgpilot.gateways.llm.types import Completion, GeneratedImage, ServerModel, UsageTotals

app = typer.Typer(help="Check and use the LLM provider: models, pull, ping, image, run, usage.")

PING_TEXT = "ping"
GROUPS = ("command", "model", "day")
DEFAULT_IMAGE_MODEL = "gpt-image-1"
IMAGE_SIZE = re.compile(r"^(\d{2,5}x\d{2,5}|auto)$")


def _price(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


@app.command()
def models(
    ctx: typer.Context,
    provider: ProviderOpt = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Only the catalogue: do not ask the server.")
    ] = False,
    json_flag: JsonFlag = False,
) -> None:
    """List the model catalogue and the models the server offers at /models."""
    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    from tgpilot.gateways.llm.factory import load_config_catalogue
    from tgpilot.gateways.llm.resolve import check_provider

    if provider is not None:
        check_provider(provider)
    catalogue = list(load_config_catalogue(app_ctx.config))
    if provider is not None:
        catalogue = [m for m in catalogue if m.provider == provider]
    server: list[ServerModel] | None = None
    problem: str | None = None
    endpoint: str | None = None
    if not offline and (provider or app_ctx.config.llm.provider) != "local":
        try:
            server, endpoint = run_async(_server_models(app_ctx, provider))
        except (ProviderError, ConfigError) as exc:
            problem = exc.message
    out = app_ctx.output
    if json_mode:
        out.emit_json(
            {
                "catalogue": [m.to_json() for m in catalogue],
                "server": {
                    "endpoint": endpoint,
                    "models": [{"id": m.id, "owned_by": m.owned_by} for m in server or ()],
                    "error": problem,
                },
            }
        )
        return
    out.print(_catalogue_table(catalogue))
    if server is not None:
        out.info(f"{endpoint} offers {len(server)} model(s):")
        for model in server:
            out.line(model.id)
    if problem is not None:
        out.warn(f"server models not listed: {problem}")


def _catalogue_table(entries: list[ModelInfo]) -> Table:
    table = Table(
        "Model", "Provider", "Window", "Max out", "$/M in", "$/M out", "Abilities",
        header_style="bold",
    )  # fmt: skip
    for m in entries:
        abilities = [name for name, on in (("json", m.json_mode), ("vision", m.vision)) if on]
        if m.embedding_dimension:
            abilities.append(f"embeddings {m.embedding_dimension}d")
        if m.fixed_temperature:
            abilities.append("fixed temperature")
        table.add_row(
            m.name,
            m.provider or "",
            str(m.window),
            str(m.max_output or "—"),
            _price(m.input_price),
            _price(m.output_price),
            ", ".join(abilities),
        )
    return table


async def _server_models(
    app_ctx: AppContext, provider: str | None
) -> tuple[list[ServerModel], str]:
    async with open_llm_client(app_ctx, "llm models", LLMFlags(provider=provider)) as client:
        return await client.list_models(), client.base_url


@dataclass(frozen=True)
class PullResult:
    """What a finished pull brought: its layers and their bytes."""

    model: str
    host: str
    layers: int
    size: int


@app.command()
def pull(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="The model to pull, e.g. llama3.1:8b.")],
    host: Annotated[
        str | None,
        typer.Option("--host", help="The Ollama server (default: llm.base_url without /v1)."),
    ] = None,
    json_flag: JsonFlag = False,
) -> None:
    """Pull a model into the Ollama server behind llm.base_url, with a progress bar."""
    from tgpilot.gateways.llm.ollama import ollama_host

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    if not model.strip():
        raise UsageError("MODEL is empty")
    base = host or app_ctx.config.llm.base_url
    if not base:
        raise UsageError(
            "llm pull talks to an Ollama server, and llm.base_url is not set",
            hint="set llm.base_url (e.g. http://localhost:11434/v1) or give --host",
        )
    result = run_async(_pull(app_ctx, ollama_host(base), model.strip()))
    out = app_ctx.output
    if json_mode:
        out.emit_json(
            {
                "model": result.model,
                "host": result.host,
                "status": "success",
                "layers": result.layers,
                "bytes": result.size,
            }
        )
        return
    out.line(
        f"pulled {result.model} into {result.host}: {result.layers} layer(s), {result.size} bytes"
    )


async def _pull(app_ctx: AppContext, host: str, model: str) -> PullResult:
    """Follow the pull: one bar per layer on a terminal, each other step on stderr. Only
    a key of ``llm.api_key_env`` is sent: a provider's own key never goes to Ollama."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn

    from tgpilot.core.config.loader import llm_api_key_from_env
    from tgpilot.gateways.llm.ollama import OllamaClient

    config = app_ctx.config
    out = app_ctx.output
    key = llm_api_key_from_env(config)
    layers: dict[str, int] = {}
    tasks: dict[str, TaskID] = {}
    seen: set[str] = set()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        console=out.err,
        transient=True,
        disable=not out.err.is_terminal or out.json_mode,
    ) as progress:
        async with OllamaClient(
            host,
            timeout_s=config.llm.timeout_s,
            now=app_ctx.runtime.clock.now,
            secret=key.get_secret_value() if key is not None else None,
        ) as client:
            async for step in client.pull(model):
                if step.digest is not None and step.total:
                    layers[step.digest] = step.total
                    if step.digest not in tasks:
                        label = f"{model} {step.digest.removeprefix('sha256:')[:12]}"
                        tasks[step.digest] = progress.add_task(label, total=step.total)
                    progress.update(tasks[step.digest], completed=step.completed or 0)
                elif step.status and step.status not in seen:
                    seen.add(step.status)
                    out.info(step.status)
    return PullResult(model, host, len(layers), sum(layers.values()))


@app.command()
def image(
    ctx: typer.Context,
    prompt_text: Annotated[str, typer.Argument(metavar="PROMPT", help="What to draw.")],
    out_file: Annotated[Path, typer.Option("--out", help="The image file to write.")],
    size: Annotated[
        str | None, typer.Option("--size", help="e.g. 1024x1024, 1536x1024 or auto.")
    ] = None,
    provider: ProviderOpt = None,
    model: Annotated[
        str | None,
        typer.Option("--model", help=f"Image model (default {DEFAULT_IMAGE_MODEL})."),
    ] = None,
    json_flag: JsonFlag = False,
) -> None:
    """Generate an image through the OpenAI images API and write it to --out."""
    from tgpilot.gateways.llm.provider import IMAGE_PROVIDERS, no_image_support

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    if not prompt_text.strip():
        raise UsageError("PROMPT is empty")
    if size is not None and not IMAGE_SIZE.match(size):
        raise UsageError(f"--size: {size!r} is not WIDTHxHEIGHT or auto", hint="e.g. 1024x1024")
    if out_file.is_dir():
        raise UsageError(f"--out: {out_file} is a folder", hint="give a file name, e.g. cat.png")
    chosen = provider or app_ctx.config.llm.provider
    if provider is not None:
        from tgpilot.gateways.llm.resolve import check_provider

        check_provider(provider)
    if chosen not in IMAGE_PROVIDERS:
        raise no_image_support(chosen)
    flags = LLMFlags(provider=provider)
    picture, totals = run_async(
        _image(app_ctx, flags, prompt_text, model or DEFAULT_IMAGE_MODEL, size)
    )
    write_out_file(out_file, picture.data)
    out = app_ctx.output
    if json_mode:
        out.emit_json(
            {
                "file": str(out_file),
                "bytes": len(picture.data),
                "model": picture.model,
                "revised_prompt": picture.revised_prompt,
                "usage": usage_json(totals),
            }
        )
        return
    out.line(f"wrote {out_file} ({len(picture.data)} bytes, {picture.model})")
    out.info(usage_line(totals))


async def _image(
    app_ctx: AppContext, flags: LLMFlags, prompt_text: str, model: str, size: str | None
) -> tuple[GeneratedImage, UsageTotals]:
    async with open_llm_client(app_ctx, "llm image", flags, cache=False) as client:
        picture = await client.generate_image(prompt_text, model=model, size=size)
        return picture, client.usage_summary()


@app.command()
def ping(
    ctx: typer.Context,
    provider: ProviderOpt = None,
    model: ModelOpt = None,
    json_flag: JsonFlag = False,
) -> None:
    """Send one tiny request and report the latency."""
    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    flags = LLMFlags(provider=provider, model=model)
    completion, endpoint = run_async(_ping(app_ctx, flags))
    latency_ms = round(completion.latency_s * 1000)
    if json_mode:
        app_ctx.output.emit_json(
            {
                "provider": completion.provider,
                "model": completion.model,
                "endpoint": endpoint,
                "latency_ms": latency_ms,
                "retries": completion.retries,
            }
        )
        return
    app_ctx.output.line(
        f"{completion.provider} {completion.model} at {endpoint}: {latency_ms} ms"
        + (f" ({completion.retries} retries)" if completion.retries else "")
    )


async def _ping(app_ctx: AppContext, flags: LLMFlags) -> tuple[Completion, str]:
    from tgpilot.gateways.llm.types import ChatMessage

    async with open_llm_client(app_ctx, "llm ping", flags, cache=False) as client:
        completion = await client.complete([ChatMessage("user", PING_TEXT)])
        return completion, client.base_url


@app.command()
def run(
    ctx: typer.Context,
    prompt_text: Annotated[str, typer.Argument(metavar="PROMPT_TEXT", help="What to ask.")],
    system: Annotated[
        str | None, typer.Option("--system", help="A system message to send first.")
    ] = None,
    stream: Annotated[
        bool, typer.Option("--stream", help="Print the answer as it arrives.")
    ] = False,
    provider: ProviderOpt = None,
    model: ModelOpt = None,
    temperature: TemperatureOpt = None,
    max_tokens: MaxTokensOpt = None,
    json_flag: JsonFlag = False,
) -> None:
    """Send one prompt and print the answer (a usage line goes to stderr)."""
    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    if not prompt_text.strip():
        raise UsageError("PROMPT_TEXT is empty")
    flags = LLMFlags(provider, model, temperature, max_tokens)
    completion, totals = run_async(
        _run(app_ctx, flags, prompt_text, system, stream=stream, echo=not json_mode)
    )
    out = app_ctx.output
    if json_mode:
        out.emit_json({**completion.to_json(), "usage": usage_json(totals)})
        return
    if not stream:
        out.line(completion.text)
    out.info(usage_line(totals))


async def _run(
    app_ctx: AppContext,
    flags: LLMFlags,
    prompt_text: str,
    system: str | None,
    *,
    stream: bool,
    echo: bool,
) -> tuple[Completion, UsageTotals]:
    from tgpilot.gateways.llm.types import ChatMessage, StreamEnd, TextDelta

    messages = [ChatMessage("user", prompt_text)]
    if system is not None:
        messages.insert(0, ChatMessage("system", system))
    async with open_llm_client(app_ctx, "llm run", flags) as client:
        if not stream:
            return await client.complete(messages), client.usage_summary()
        completion: Completion | None = None
        async for event in client.stream(messages):
            if isinstance(event, TextDelta) and echo:
                sys.stdout.write(event.text)
                sys.stdout.flush()
            elif isinstance(event, StreamEnd):
                completion = event.completion
        if echo:
            sys.stdout.write("\n")
        assert completion is not None  # a stream ends with StreamEnd or raises
        return completion, client.usage_summary()


@app.command()
def usage(
    ctx: typer.Context,
    since: Annotated[
        str | None, typer.Option("--since", help="Only calls this recent (e.g. 7d, 12h).")
    ] = None,
    by: Annotated[str, typer.Option("--by", help="Group by command, model or day.")] = "command",
    json_flag: JsonFlag = False,
) -> None:
    """Sum the recorded LLM calls: calls, tokens and cost per command, model or day."""
    from tgpilot.core.dates import parse_duration

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    if by not in GROUPS:
        raise UsageError(f"--by: use {', '.join(GROUPS)}, not {by!r}")
    start = None
    if since is not None:
        start = app_ctx.runtime.clock.now() - parse_duration(since, option="--since")
    totals = run_async(_usage(app_ctx, by, start))
    out = app_ctx.output
    if json_mode:
        out.emit_json({"by": by, "groups": [{by: t.group, **usage_json(t)} for t in totals]})
        return
    table = Table(by.capitalize(), "Calls", "In", "Out", "Cached", "Cost $", "Failed")
    for t in totals:
        table.add_row(
            t.group,
            str(t.calls),
            str(t.input_tokens),
            str(t.output_tokens),
            str(t.cached_tokens),
            "unknown" if t.cost_usd is None else f"{t.cost_usd:.6f}",
            str(t.failures),
        )
    out.print(table)


async def _usage(app_ctx: AppContext, by: str, since: datetime | None) -> list[UsageTotals]:
    from tgpilot.store.llm import GroupBy, LLMRepository

    groups: dict[str, GroupBy] = {"command": "command", "model": "model", "day": "day"}
    async with app_ctx.open_store() as store:
        return await LLMRepository(store).usage_totals(groups[by], since)
