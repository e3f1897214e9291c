"""``tgpilot moderate watch|stats|check``: profanity and spam, live or over history."""

from __future__ import annotations

import asyncio
import signal
from typing import TYPE_CHECKING, Annotated

import typer

from tgpilot.cli.context import AppContext, run_async
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
    from tgpilot.services.moderation.verdict import Moderator
    from tgpilot.services.moderation.watch import ModerationWatch, WatchOptions

app = typer.Typer(no_args_is_help=True, help="Profanity and spam: watch a chat, count, check.")

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
    out = app_ctx.output
    holder: list[ModerationWatch] = []
    try:
        run_async(_watch(app_ctx, chat_argument(chat) or "", judge, options, holder))
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
    options: WatchOptions,
    holder: list[ModerationWatch],
) -> None:
    from tgpilot.core.audit import AuditLog
    from tgpilot.services.moderation.watch import ModerationWatch

    config = app_ctx.config
    async with app_ctx.open_gateway(receive_updates=True) as gateway:
        chat = await gateway.resolve_chat(chat_text)
        watcher = ModerationWatch(
            gateway=gateway,
            chat=chat,
            moderator=judge,
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
    json_flag: JsonFlag = False,
) -> None:
    """Judge one text: profanity matches, spam score and the rules that fired."""
    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    verdict = moderator(app_ctx, spam_threshold).judge(text)
    out = app_ctx.output
    if json_mode:
        out.emit_json(verdict.to_json())
        return
    out.line(f"profanity: {', '.join(verdict.profanity) if verdict.profanity else 'none'}")
    spam = verdict.spam
    label = "spam" if spam.is_spam else "not spam"
    out.line(f"spam score: {spam.score} (threshold {spam.threshold}: {label})")
    for rule in spam.rules:
        out.line(f"  {rule.describe()}")
