"""``tgpilot search CHAT PATTERN``: a regex over a chat's recent messages (spec §3.4).

Hits print oldest first as ``--- #<n> [YYYY-MM-DD HH:MM] <sender> (msg <id>) ---`` and
the text, matches in bold yellow on a terminal only (Rich drops styles when piped);
user text is never parsed as markup. ``Found X matches in Y messages`` goes to stderr
(X = matching messages, Y = messages read). ``--json``: ``[{chat_id, message_id, date,
sender_id, sender, text, spans}]`` with ``spans`` as code-point ``[start, end]`` pairs.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.options import JsonFlag, SinceOpt, TitleContainsOpt, UntilOpt, chosen_chat
from tgpilot.core.errors import UsageError
from tgpilot.core.output import human_time, iso_time

if TYPE_CHECKING:
    from tgpilot.services.search import SearchHit, SearchQuery, SearchResult

MATCH_STYLE = "bold yellow"


def search(
    ctx: typer.Context,
    chat: Annotated[str | None, typer.Argument(help="Alias, link, @username or id.")] = None,
    pattern: Annotated[
        str | None, typer.Argument(help="Python regular expression.", show_default=False)
    ] = None,
    title_contains: TitleContainsOpt = None,
    ignore_case: Annotated[
        bool, typer.Option("--ignore-case", "-i", help="Case-insensitive match.")
    ] = False,
    sender: Annotated[
        str | None,
        typer.Option("--from", help="Only this sender: @username, id, or part of the name."),
    ] = None,
    outgoing: Annotated[bool, typer.Option("--outgoing", help="Only my own messages.")] = False,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit", help="Newest N messages to read (0 = all; default limits.default)."
        ),
    ] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    archive: Annotated[
        bool,
        typer.Option(
            "--archive",
            help='Full-text search of the archive: QUERY words ANDed, "phrase", -word.',
        ),
    ] = False,
    in_chats: Annotated[
        list[str] | None,
        typer.Option("--chat", help="With --archive: only this chat (repeatable)."),
    ] = None,
    json_flag: JsonFlag = False,
) -> None:
    """Search a chat's recent messages for a regular expression (hits oldest first), or
    with --archive the whole archive by full text (best matches first)."""
    from tgpilot.core.dates import parse_when
    from tgpilot.services.matching import SenderMatcher
    from tgpilot.services.search import SearchQuery, Window, compile_pattern

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    if archive:
        if pattern is not None or title_contains is not None or chat is None:
            raise UsageError(
                "with --archive give one QUERY (and --chat to narrow it)",
                hint='e.g. tgpilot search --archive "release -draft" --chat team',
            )
        _archive_search(app_ctx, chat, in_chats or [], sender, since, until, limit, json_mode)
        return
    if in_chats:
        raise UsageError("--chat goes with --archive")
    if title_contains is not None and pattern is None:
        chat, pattern = None, chat
    chat = chosen_chat(chat, title_contains)
    if pattern is None:
        raise UsageError("missing PATTERN", hint='e.g. tgpilot search team "deadl(ine|ock)" -i')
    config = app_ctx.config
    tz = config.output.tz
    query = SearchQuery(
        pattern=compile_pattern(pattern, ignore_case=ignore_case),
        window=Window(
            limit=config.limits.default if limit is None else limit,
            since=parse_when(since, tz, option="--since") if since else None,
            until=parse_when(until, tz, option="--until") if until else None,
        ),
        sender=SenderMatcher.parse(sender) if sender is not None else None,
        outgoing=outgoing,
    )
    result = run_async(_run(app_ctx, chat, title_contains, query))
    if json_mode:
        app_ctx.output.emit_json([hit_row(hit, tz) for hit in result.hits])
    else:
        for n, hit in enumerate(result.hits, 1):
            if n > 1:
                app_ctx.output.print(Text(""))
            for line in hit_lines(n, hit, tz):
                app_ctx.output.print(line)
    app_ctx.output.info(result.describe())


async def _run(
    app_ctx: AppContext, chat: str | None, title_contains: str | None, query: SearchQuery
) -> SearchResult:
    from tgpilot.core.output import progress_bar
    from tgpilot.services.search import search_chat

    async with app_ctx.open_gateway() as gateway:
        resolved = await gateway.resolve_chat(chat, title_contains=title_contains)
        with progress_bar(app_ctx.output, f"searching {resolved.title}") as progress:
            return await search_chat(resolved, gateway, query, progress=progress)


def hit_lines(n: int, hit: SearchHit, tz: tzinfo) -> list[Text]:
    """The header and the highlighted text of hit number ``n``, as Rich texts."""
    from tgpilot.services.export.text_forms import sender_label

    m = hit.message
    header = Text(f"--- #{n} [{human_time(m.date, tz)}] {sender_label(m)} (msg {m.id}) ---")
    return [header, highlighted(m.text, hit.spans)]


def highlighted(text: str, spans: tuple[tuple[int, int], ...]) -> Text:
    """``text`` with each span styled; built piece by piece so offsets stay exact."""
    out = Text()
    at = 0
    for start, end in spans:
        out.append(text[at:start])
        out.append(text[start:end], style=MATCH_STYLE)
        at = end
    out.append(text[at:])
    return out


def hit_row(hit: SearchHit, tz: tzinfo) -> dict[str, Any]:
    """One hit as its JSON object."""
    from tgpilot.services.export.text_forms import sender_label

    m = hit.message
    return {
        "chat_id": m.chat_id,
        "message_id": m.id,
        "date": iso_time(m.date, tz),
        "sender_id": m.sender.id if m.sender else None,
        "sender": sender_label(m),
        "text": m.text,
        "spans": [[start, end] for start, end in hit.spans],
    }


def _archive_search(
    app_ctx: AppContext,
    query: str,
    chats: list[str],
    sender: str | None,
    since: str | None,
    until: str | None,
    limit: int | None,
    json_mode: bool,
) -> None:
    """``search --archive``: the store's full-text index, no session, no lock."""
    from tgpilot.core.dates import parse_when
    from tgpilot.services.archive.chats import ArchiveChatResolver

    config = app_ctx.config
    tz = config.output.tz
    start = parse_when(since, tz, option="--since") if since else None
    end = parse_when(until, tz, option="--until") if until else None
    sender_filter: int | str | None = sender
    if sender is not None and sender.lstrip("-").isdigit():
        sender_filter = int(sender)

    async def go() -> tuple[list[Any], dict[int, str]]:
        async with app_ctx.open_store() as store:
            known = await store.known_chats()
            resolver = ArchiveChatResolver(known, config.chats)
            chat_ids = [resolver.resolve(c).id for c in chats] or None
            hits = await store.search(
                query,
                chat_ids=chat_ids,
                sender=sender_filter,
                since=start,
                until=end,
                limit=50 if limit is None else limit,
            )
            return hits, {c.id: c.title for c in known}

    hits, titles = run_async(go())
    out = app_ctx.output
    if json_mode:
        out.emit_json(
            [
                {
                    "chat_id": h.chat_id,
                    "chat": titles.get(h.chat_id, ""),
                    "message_id": h.message_id,
                    "date": iso_time(h.date, tz),
                    "sender": h.sender_name,
                    "text": h.text,
                    "rank": h.rank,
                }
                for h in hits
            ]
        )
    else:
        for n, h in enumerate(hits, 1):
            if n > 1:
                out.print(Text(""))
            title = titles.get(h.chat_id, str(h.chat_id))
            out.print(
                Text(
                    f"--- #{n} [{human_time(h.date, tz)}] {h.sender_name or 'Unknown sender'}"
                    f" ({title}, msg {h.message_id}) ---"
                )
            )
            out.print(Text(h.text))
    out.info(f"Found {len(hits)} matches in the archive")
