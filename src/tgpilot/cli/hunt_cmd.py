"""``tgpilot hunt --chats a,b``: find people who talk about what you look for (spec ai.md
§4.4, §5).

Scans each chat of ``--chats`` in ``--source`` (live Telegram, the store or a Telegram
Desktop export) for person texts matching ``-k`` keywords, ``-r`` required terms or
``--regex`` patterns and free of ``-e`` exclude terms, merges them per user, scores and
sorts the users, and prints the ``--top`` ones with a sample (``--csv FILE`` also
writes them as CSV). ``--bio-keywords`` reads the profile "about" texts of qualifying
users — from the live account only (paced and cached); other sources say it is
unavailable. Terms use the shared syntax: ``word`` (prefix), ``=word``, ``re:PATTERN``;
an invalid pattern exits 2 before anything is read. A chat that cannot be read is
reported and skipped (exit 3; exit 1 when every chat failed).
``--with-transcripts`` reads voice, audio and round-video messages with a stored
transcript (``transcribe``) as texts, ``[voice message] …`` (spec ai.md §4.11).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tgpilot.cli.ai_reports import DaysOpt
from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.options import JsonFlag
from tgpilot.cli.sources import SourceOpt, WithTranscriptsFlag, split_chats
from tgpilot.core.errors import EXIT_ERROR, EXIT_PARTIAL, TgpilotError

if TYPE_CHECKING:
    from datetime import datetime, tzinfo

    from tgpilot.gateways.telegram.gateway import TelegramGateway
    from tgpilot.services.ai.hunt import HuntQuery, HuntUser
    from tgpilot.services.sources import MessageWindow, SourceSpec

TermsOpt = list[str] | None
DEFAULT_DAYS = 30
BIO_UNAVAILABLE = (
    "--bio-keywords: profile texts come from the live account only (--source telegram); "
    "they are not used with this source"
)


@dataclass(frozen=True)
class ChatScan:
    """One chat of ``--chats``: its name, and its title and messages read, or the error."""

    name: str
    title: str | None = None
    chat_id: int | None = None
    messages: int = 0
    error: str | None = None


@dataclass(frozen=True)
class HuntOutcome:
    """The scored users (all qualifying), every chat's scan, and notices."""

    users: list[HuntUser]
    chats: list[ChatScan]
    bio_used: bool


def split_terms(values: TermsOpt) -> tuple[str, ...]:
    """Comma-separated, repeatable option values → the terms, each once, in order."""
    terms = [part.strip() for value in values or () for part in value.split(",")]
    return tuple(dict.fromkeys(term for term in terms if term))


def hunt(
    ctx: typer.Context,
    chats: Annotated[
        str, typer.Option("--chats", help="Chats to scan, comma-separated (alias, @name, id…).")
    ],
    keywords: Annotated[
        TermsOpt, typer.Option("--keywords", "-k", help="Terms to look for (comma-separated).")
    ] = None,
    required: Annotated[
        TermsOpt, typer.Option("--required", "-r", help="Terms every user must have used.")
    ] = None,
    exclude: Annotated[
        TermsOpt, typer.Option("--exclude", "-e", help="A message with one of these is ignored.")
    ] = None,
    regexes: Annotated[
        list[str] | None, typer.Option("--regex", help="A regular expression (repeatable).")
    ] = None,
    bio_keywords: Annotated[
        TermsOpt,
        typer.Option("--bio-keywords", help="Terms in the profile text: +5 each (live only)."),
    ] = None,
    min_messages: Annotated[
        int, typer.Option("--min-messages", min=1, help="Fewest counted messages per user.")
    ] = 1,
    days: DaysOpt = DEFAULT_DAYS,
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="Newest N person texts per chat (0 = all).")
    ] = 1000,
    top: Annotated[int, typer.Option("--top", min=1, help="Users to show and write.")] = 50,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="Also write the users to this CSV file.")
    ] = None,
    source: SourceOpt = "telegram",
    with_transcripts: WithTranscriptsFlag = False,
    json_flag: JsonFlag = False,
) -> None:
    """Find people in chats by what they write, scored by activity, terms and recency."""
    from tgpilot.services.ai.hunt import HuntQuery
    from tgpilot.services.sources import message_window, parse_source

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    names = split_chats(chats)
    query = HuntQuery(
        keywords=split_terms(keywords),
        required=split_terms(required),
        exclude=split_terms(exclude),
        regexes=tuple(r for r in regexes or () if r.strip()),
        bio_keywords=split_terms(bio_keywords),
        min_messages=min_messages,
    )
    spec = parse_source(source)
    now = app_ctx.runtime.clock.now()
    window = message_window(now, days=days, limit=limit, tz=app_ctx.config.output.tz)
    outcome = run_async(_hunt(app_ctx, names, spec, query, window, now, with_transcripts))
    _finish(app_ctx, outcome, top, csv_file, json_mode)


async def _hunt(
    app_ctx: AppContext,
    names: list[str],
    spec: SourceSpec,
    query: HuntQuery,
    window: MessageWindow,
    now: datetime,
    with_transcripts: bool,
) -> HuntOutcome:
    from tgpilot.cli.sources import open_source
    from tgpilot.core.output import progress_bar
    from tgpilot.gateways.telegram.gateway import TelegramGateway
    from tgpilot.services.ai.hunt import HuntScan, scan_chat

    out = app_ctx.output
    scan = HuntScan(query)
    scans: list[ChatScan] = []
    async with open_source(app_ctx, spec, with_transcripts=with_transcripts) as opened:
        seen: set[int] = set()
        for name in names:
            try:
                chat = await opened.resolve(name)
                if chat.id in seen:
                    continue
                seen.add(chat.id)
                with progress_bar(out, f"scanning {chat.title}") as progress:
                    read = await scan_chat(scan, opened.messages, chat, window, progress=progress)
            except TgpilotError as exc:
                out.warn(f"{name}: skipped: {exc.message}")
                scans.append(ChatScan(name, error=exc.message))
                continue
            scans.append(ChatScan(name, chat.title, chat.id, read))
        users = scan.users(now)
        bio_used = False
        if query.bio_keywords and users:
            if isinstance(opened.underlying, TelegramGateway):
                users = await _with_bios(app_ctx, opened.underlying, users, query)
                bio_used = True
            else:
                out.warn(BIO_UNAVAILABLE)
    return HuntOutcome(users, scans, bio_used)


async def _with_bios(
    app_ctx: AppContext, gateway: TelegramGateway, users: list[HuntUser], query: HuntQuery
) -> list[HuntUser]:
    """Users with bio points, "about" texts fetched through the live gateway."""
    from tgpilot.services.ai.hunt import AboutCache, add_bio_points

    config = app_ctx.config
    clock = app_ctx.runtime.clock
    cache_file = config.paths_resolved.cache_dir / f"about-{config.account}.json"
    cache = AboutCache(cache_file, clock)
    return await add_bio_points(users, query.bio_keywords, gateway.user_about, cache, clock)


def _user_object(user: HuntUser, tz: tzinfo) -> dict[str, Any]:
    from tgpilot.core.output import iso_time

    return {
        "user_id": user.user_id,
        "username": user.username,
        "full_name": user.full_name,
        "message_count": user.message_count,
        "score": round(user.score, 1),
        "last_active": iso_time(user.last_active, tz),
        "keywords": list(user.terms),
        "bio_keywords": list(user.bio_terms),
        "chats": list(user.chats),
        "samples": [
            {"chat": s.chat, "date": iso_time(s.date, tz), "text": s.text} for s in user.samples
        ],
    }


def _finish(
    app_ctx: AppContext,
    outcome: HuntOutcome,
    top: int,
    csv_file: Path | None,
    json_mode: bool,
) -> None:
    from tgpilot.core.output import human_time
    from tgpilot.services.ai.hunt import write_csv

    out = app_ctx.output
    tz = app_ctx.config.output.tz
    shown = outcome.users[:top]
    failed = [scan for scan in outcome.chats if scan.error is not None]
    written = write_csv(shown, csv_file, tz) if csv_file is not None else None
    if json_mode:
        out.emit_json(
            {
                "users": [_user_object(user, tz) for user in shown],
                "qualifying": len(outcome.users),
                "chats": [
                    {
                        "name": s.name,
                        "title": s.title,
                        "chat_id": s.chat_id,
                        "messages": s.messages,
                        "error": s.error,
                    }
                    for s in outcome.chats
                ],
                "bio_keywords_used": outcome.bio_used,
                "csv": str(written) if written is not None else None,
            }
        )
    else:
        from tgpilot.services.ai.digest.activity import plural

        read = sum(s.messages for s in outcome.chats)
        scanned = len(outcome.chats) - len(failed)
        out.info(
            f"{plural(len(outcome.users), 'user')} found in {plural(read, 'message')} "
            f"of {plural(scanned, 'chat')}"
        )
        for rank, user in enumerate(shown, start=1):
            handle = f"@{user.username}, " if user.username else ""
            out.line(
                f"{rank}. {user.full_name} ({handle}{user.user_id}) — score {user.score:.1f}, "
                f"{user.message_count} messages, last {human_time(user.last_active, tz)}"
            )
            terms = "; ".join(user.terms) or "—"
            bio = f" · bio: {'; '.join(user.bio_terms)}" if user.bio_terms else ""
            out.line(f"   terms: {terms}{bio} · chats: {'; '.join(user.chats)}")
            if user.samples:
                out.line(f"   “{' '.join(user.samples[0].text.split())}”")
        if written is not None:
            out.info(f"csv  {written}")
    if failed:
        raise typer.Exit(EXIT_PARTIAL if len(failed) < len(outcome.chats) else EXIT_ERROR)
