"""``tgpilot moderate watch|stats|check``: profanity and spam, live or over history.

With ``moderation.llm_verdict: true``, ``watch`` and ``check`` let a model decide on a
text whose spam score is within 15 points of the threshold (the ``moderator`` prompt);
when no model is configured, or it fails, the score decides and the output says so.
``stats`` counts over history with the word lists and the score only.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.llm_support import LLMFlags, ModelOpt, ProviderOpt, open_llm_client, usage_line
from tgpilot.cli.options import (
    CHAT_ARGUMENT_SETTINGS,
    ArchiveFlag,
    JsonFlag,
    TitleContainsOpt,
    YesFlag,
    chat_argument,
    chosen_chat,
)
from tgpilot.core.output import progress_bar

if TYPE_CHECKING:
    from tgpilot.services.moderation.stats import ModerationStats
    from tgpilot.services.moderation.verdict import LLMJudge, Moderator, Verdict
    from tgpilot.services.moderation.watch import ModerationWatch, WatchOptions

app = typer.Typer(no_args_is_help=True, help="Profanity and spam: watch a chat, count, check.")

COMMAND = "moderate"
LOCAL = "local"
RETRY_PROMPT = "json_retry"

ThresholdOpt = Annotated[
    int | None,
    typer.Option(
        "--spam-threshold", min=1, max=100, help="Spam at this score (moderation.spam_threshold)."
    ),
]


def moderator(app_ctx: AppContext, threshold: int | None) -> Moderator:
    """The checkers of ``moderation:`` (word lists overridable in $TGPILOT_HOME/wordlists)."""
    from tgpilot.services.moderation.verdict import Moderator

    config = app_ctx.config
    return Moderator.from_settings(
        config.moderation, threshold=threshold, override_dir=config.home / "wordlists"
    )


def _verdict_flags(app_ctx: AppContext, flags: LLMFlags) -> LLMFlags | None:
    """The model flags of the LLM verdict, or None when no model is to be asked:
    ``moderation.llm_verdict`` off, ``local``, or no key (a notice: the score decides).
    A bad ``--provider`` fails here (exit 2)."""
    from tgpilot.gateways.llm.factory import load_config_catalogue
    from tgpilot.gateways.llm.resolve import MissingProviderKey, resolve_llm

    config = app_ctx.config
    if not config.moderation.llm_verdict or flags.provider == LOCAL:
        return None
    try:
        target = resolve_llm(
            config,
            COMMAND,
            load_config_catalogue(config),
            provider=flags.provider,
            model=flags.model,
        )
    except MissingProviderKey as exc:
        app_ctx.output.info(f"{exc.message}; no LLM verdict: the spam score decides")
        return None
    return None if target.provider == LOCAL else flags


@asynccontextmanager
async def _llm_judge(app_ctx: AppContext, flags: LLMFlags | None) -> AsyncIterator[LLMJudge | None]:
    """The model that decides near the threshold (None: the score always decides); the
    usage line goes to stderr when it made calls."""
    from tgpilot.services.moderation.verdict import VERDICT_PROMPT, LLMJudge
    from tgpilot.services.prompts import PromptLibrary

    if flags is None:
        yield None
        return
    library = PromptLibrary.from_config(app_ctx.config, clock=app_ctx.runtime.clock)
    prompt, retry = library.load(VERDICT_PROMPT), library.load(RETRY_PROMPT)
    async with open_llm_client(app_ctx, COMMAND, flags) as client:
        try:
            yield LLMJudge(client, prompt, retry)
        finally:
            if client.records:
                app_ctx.output.info(usage_line(client.usage_summary()))


@app.command("watch", context_settings=CHAT_ARGUMENT_SETTINGS)
def watch(
    ctx: typer.Context,
    chat: Annotated[str, typer.Argument(help="Alias, link, @username or id.")],
    warn: Annotated[
        bool, typer.Option("--warn", help="Reply with moderation.warn_template.")
    ] = False,
    delete: Annotated[
        bool, typer.Option("--delete", help="Delete flagged messages (admin right needed).")
    ] = False,
    spam_threshold: ThresholdOpt = None,
    yes: YesFlag = False,
    provider: ProviderOpt = None,
    model: ModelOpt = None,
    json_flag: JsonFlag = False,
) -> None:
    """Judge every new message as it arrives; without --yes only log what it would do."""
    from tgpilot.services.moderation.watch import WatchOptions

    app_ctx: AppContext = ctx.obj
    app_ctx.use_json(json_flag)
    settings = app_ctx.config.moderation
    options = WatchOptions(
        warn=warn, delete=delete, apply=yes, warn_template=settings.warn_template
    )
    judge = moderator(app_ctx, spam_threshold)
    llm_flags = _verdict_flags(app_ctx, LLMFlags(provider=provider, model=model))
    out = app_ctx.output
    holder: list[ModerationWatch] = []
    try:
        run_async(_watch(app_ctx, chat_argument(chat) or "", judge, llm_flags, options, holder))
    except (KeyboardInterrupt, asyncio.CancelledError):
        out.info("stopped watching")
    if holder:
        counts = holder[0].counts
        if out.json_mode:
            out.emit_json(vars(counts))
        else:
            out.line(
                f"judged {counts.judged}, flagged {counts.flagged}, warned {counts.warned},"
                f" deleted {counts.deleted}, failed {counts.failed}"
            )


async def _watch(
    app_ctx: AppContext,
    chat_text: str,
    judge: Moderator,
    llm_flags: LLMFlags | None,
    options: WatchOptions,
    holder: list[ModerationWatch],
) -> None:
    from tgpilot.core.audit import AuditLog
    from tgpilot.services.moderation.watch import ModerationWatch

    config = app_ctx.config
    async with (
        _llm_judge(app_ctx, llm_flags) as llm,
        app_ctx.open_gateway(receive_updates=True) as gateway,
    ):
        chat = await gateway.resolve_chat(chat_text)
        watcher = ModerationWatch(
            gateway=gateway,
            chat=chat,
            moderator=judge.with_llm(llm),
            options=options,
            audit=AuditLog(config.paths_resolved.audit_log, config.account),
            clock=app_ctx.runtime.clock,
            log=app_ctx.output.info,
            command=app_ctx.command_line,
        )
        holder.append(watcher)
        mode = "acting" if options.apply else "dry run: logging what it would do"
        after_id = await watcher.start()
        app_ctx.output.info(f"watching {chat.title} ({mode}); Ctrl-C stops")
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        await watcher.follow(after_id)


@app.command("stats", context_settings=CHAT_ARGUMENT_SETTINGS)
def stats(
    ctx: typer.Context,
    chat: Annotated[str | None, typer.Argument(help="Alias, link, @username or id.")] = None,
    title_contains: TitleContainsOpt = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Newest N messages.")] = 1000,
    spam: Annotated[bool, typer.Option("--spam", help="Count spam per category too.")] = False,
    spam_threshold: ThresholdOpt = None,
    archive: ArchiveFlag = False,
    json_flag: JsonFlag = False,
) -> None:
    """Profanity (and spam) in a chat's recent history: share, offenders, words."""
    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    wanted = chosen_chat(chat, title_contains)
    judge = moderator(app_ctx, spam_threshold)
    result = run_async(_stats(app_ctx, wanted, title_contains, judge, limit, spam, archive))
    out = app_ctx.output
    if json_mode:
        out.emit_json(result.to_json())
        return
    out.line(f"{result.chat.title}: scanned {result.scanned} messages")
    out.line(f"Messages with profanity: {result.profane} ({result.profane_share:.1f}%)")
    if result.offenders:
        out.line("Top offenders:")
        for sender, n in result.offenders.most_common(10):
            out.line(f"  {sender} — {n} violations")
    if result.words:
        out.line("Top words:")
        for word, n in result.words.most_common(10):
            out.line(f"  {word} — {n}")
    if spam:
        out.line(f"Spam messages: {result.spam} ({result.spam_share:.1f}%)")
        for category, n in result.categories.most_common():
            out.line(f"  {category} — {n}")


async def _stats(
    app_ctx: AppContext,
    chat: str | None,
    title_contains: str | None,
    judge: Moderator,
    limit: int,
    spam: bool,
    archive: bool,
) -> ModerationStats:
    from tgpilot.services.moderation.stats import moderation_stats

    async with app_ctx.open_chat_source(chat, title_contains, archive=archive) as source:
        with progress_bar(app_ctx.output, f"judging {source.chat.title}") as progress:
            return await moderation_stats(
                source.chat, source.messages, judge, limit=limit, include_spam=spam,
                progress=progress,
            )  # fmt: skip


@app.command("check")
def check(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="The text to judge.")],
    spam_threshold: ThresholdOpt = None,
    provider: ProviderOpt = None,
    model: ModelOpt = None,
    json_flag: JsonFlag = False,
) -> None:
    """Judge one text: profanity matches, spam score, the rules that fired and, near the
    threshold with moderation.llm_verdict on, the model's verdict."""
    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    judge = moderator(app_ctx, spam_threshold)
    verdict = judge.judge(text)
    if verdict.spam.near_threshold():
        llm_flags = _verdict_flags(app_ctx, LLMFlags(provider=provider, model=model))
        if llm_flags is not None:
            verdict = run_async(_decide(app_ctx, judge, llm_flags, text))
    censored = judge.profanity.censor(text) if verdict.is_profane else None
    out = app_ctx.output
    if json_mode:
        out.emit_json({**verdict.to_json(), "censored": censored})
        return
    out.line(f"profanity: {', '.join(verdict.profanity) if verdict.profanity else 'none'}")
    if censored is not None:
        out.line(f"censored: {censored}")
    spam = verdict.spam
    label = "spam" if spam.is_spam else "not spam"
    out.line(f"spam score: {spam.score} (threshold {spam.threshold}: {label})")
    for rule in spam.rules:
        out.line(f"  {rule.describe()}")
    _print_decision(app_ctx, verdict)


async def _decide(app_ctx: AppContext, judge: Moderator, flags: LLMFlags, text: str) -> Verdict:
    async with _llm_judge(app_ctx, flags) as llm:
        return await judge.with_llm(llm).decide(text)


def _print_decision(app_ctx: AppContext, verdict: Verdict) -> None:
    """The model's verdict, or why the score decided although a model was asked."""
    out = app_ctx.output
    llm = verdict.llm
    if llm is not None:
        decision = "violation" if llm.violation else "no violation"
        reason = f" — {llm.reason}" if llm.reason else ""
        out.line(
            f"LLM verdict ({llm.provider} {llm.model}): {decision}, severity {llm.severity}{reason}"
        )
        out.line(f"decision: {'spam' if verdict.is_spam else 'not spam'} (by the LLM verdict)")
    elif verdict.llm_problem is not None:
        out.warn(f"no LLM verdict: {verdict.llm_problem}")
        out.line(f"decision: {'spam' if verdict.is_spam else 'not spam'} (the score decides)")
