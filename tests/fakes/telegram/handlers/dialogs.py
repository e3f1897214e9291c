"""The dialog list: ``messages.getDialogs`` paged as Telegram pages it, ``getPeerDialogs``.

Order: pinned dialogs first (only on a first page without offsets, unless
``exclude_pinned``), then the rest by top-message date, newest first. A page starts
after ``offset_peer``'s dialog when it is in the list, else after
``(offset_date, offset_id)``; ``limit`` is capped at 100. A page that reaches the end of
the list is answered as ``messages.Dialogs``, others as ``messages.DialogsSlice`` with
the total ``count`` — so Telethon's ``iter_dialogs`` needs exactly ceil(N/100)
requests for N dialogs (``world.dialogs_final_page_as_slice = True`` answers every page
as a slice instead, costing one more, empty request).
"""

from __future__ import annotations

from telethon.tl import functions, types

from tests.fakes.telegram.errors import RpcFail
from tests.fakes.telegram.peers import input_peer
from tests.fakes.telegram.render import Renderer
from tests.fakes.telegram.world import DialogEntry

from .registry import Context, handles
from .system import state

MAX_LIMIT = 100


def _offset_empty(req: functions.messages.GetDialogsRequest) -> bool:
    return (
        not req.offset_date
        and not req.offset_id
        and isinstance(req.offset_peer, types.InputPeerEmpty | type(None))
    )


def _page(
    ctx: Context, req: functions.messages.GetDialogsRequest
) -> tuple[list[DialogEntry], int, bool]:
    """The dialogs of this page, the total count, and whether more follow."""
    entries = ctx.world.dialog_entries(req.folder_id)
    total = len(entries)
    pin_folder = req.folder_id or 0
    pinned = sorted(
        (e for e in entries if e.dialog.pinned and e.dialog.folder_id == pin_folder),
        key=lambda e: e.dialog.pinned_order,
    )
    pinned_ids = {id(e) for e in pinned}
    rest = sorted(
        (e for e in entries if id(e) not in pinned_ids), key=lambda e: e.key, reverse=True
    )

    if not _offset_empty(req):
        rest = _after_offset(ctx, req, rest)
        lead: list[DialogEntry] = []
    else:
        lead = [] if req.exclude_pinned else pinned
    limit = max(0, min(req.limit, MAX_LIMIT))
    lead = lead[:limit]
    body = rest[: limit - len(lead)]
    return lead + body, total, len(rest) > len(body)


def _after_offset(
    ctx: Context, req: functions.messages.GetDialogsRequest, rest: list[DialogEntry]
) -> list[DialogEntry]:
    if not isinstance(req.offset_peer, types.InputPeerEmpty | type(None)):
        try:
            peer = input_peer(ctx, req.offset_peer)
        except RpcFail:
            peer = None
        for i, entry in enumerate(rest):
            if entry.dialog.peer == peer:
                return rest[i + 1 :]
    date = req.offset_date.timestamp() if req.offset_date else float("inf")
    offset_id = req.offset_id or 2**31
    return [e for e in rest if (e.key[0], e.key[1]) < (date, offset_id)]


def _answer_parts(
    ctx: Context, page: list[DialogEntry]
) -> tuple[Renderer, list[types.Dialog], list[types.TypeMessage]]:
    renderer = ctx.renderer()
    dialogs = []
    messages = []
    for entry in page:
        dialogs.append(renderer.dialog(entry.dialog, entry.top))
        if entry.top is not None and not entry.dialog.hide_top_message:
            messages.append(renderer.message(entry.top))
    return renderer, dialogs, messages


@handles(functions.messages.GetDialogsRequest)
def get_dialogs(
    ctx: Context, req: functions.messages.GetDialogsRequest
) -> types.messages.Dialogs | types.messages.DialogsSlice:
    page, total, more = _page(ctx, req)
    renderer, dialogs, messages = _answer_parts(ctx, page)
    if more or ctx.world.dialogs_final_page_as_slice:
        return types.messages.DialogsSlice(
            count=total,
            dialogs=dialogs,
            messages=messages,
            chats=renderer.chats(),
            users=renderer.users(),
        )
    return types.messages.Dialogs(
        dialogs=dialogs, messages=messages, chats=renderer.chats(), users=renderer.users()
    )


@handles(functions.messages.GetPeerDialogsRequest)
def get_peer_dialogs(
    ctx: Context, req: functions.messages.GetPeerDialogsRequest
) -> types.messages.PeerDialogs:
    entries = {e.dialog.peer: e for e in ctx.world.dialog_entries(None)}
    page: list[DialogEntry] = []
    for item in req.peers:
        if isinstance(item, types.InputDialogPeerFolder):
            page.extend(e for e in entries.values() if e.dialog.folder_id == item.folder_id)
            continue
        entry = entries.get(input_peer(ctx, item.peer))
        if entry is not None:
            page.append(entry)
    renderer, dialogs, messages = _answer_parts(ctx, page)
    return types.messages.PeerDialogs(
        dialogs=dialogs,
        messages=messages,
        chats=renderer.chats(),
        users=renderer.users(),
        state=state(ctx),
    )


@handles(functions.messages.GetPinnedDialogsRequest)
def get_pinned_dialogs(
    ctx: Context, req: functions.messages.GetPinnedDialogsRequest
) -> types.messages.PeerDialogs:
    page = sorted(
        (e for e in ctx.world.dialog_entries(req.folder_id) if e.dialog.pinned),
        key=lambda e: e.dialog.pinned_order,
    )
    renderer, dialogs, messages = _answer_parts(ctx, page)
    return types.messages.PeerDialogs(
        dialogs=dialogs,
        messages=messages,
        chats=renderer.chats(),
        users=renderer.users(),
        state=state(ctx),
    )
