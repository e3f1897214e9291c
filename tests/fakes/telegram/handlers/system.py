"""Connection-level requests: config, nearest DC, pings and the updates state."""

from __future__ import annotations

from datetime import timedelta

from telethon.tl import functions, types

from tests.fakes.telegram.edits import EditRec, edit_update
from tests.fakes.telegram.model import ChatRec, DeletionRec, MessageRec
from tests.fakes.telegram.peers import input_channel

from .registry import Context, handles

#: Telegram's production DC addresses (IPv4), as help.getConfig lists them.
PRODUCTION_DCS: dict[int, tuple[str, int]] = {
    1: ("149.154.175.53", 443),
    2: ("149.154.167.51", 443),
    3: ("149.154.175.100", 443),
    4: ("149.154.167.91", 443),
    5: ("91.108.56.130", 443),
}


@handles(functions.help.GetConfigRequest, auth=False)
def get_config(ctx: Context, req: functions.help.GetConfigRequest) -> types.Config:
    dcs = dict(PRODUCTION_DCS)
    if ctx.server is not None:
        dcs[ctx.dc_id] = ctx.server
    return types.Config(
        date=ctx.now,
        expires=ctx.now + timedelta(hours=1),
        test_mode=ctx.world.test_mode,
        this_dc=ctx.dc_id,
        dc_options=[
            types.DcOption(id=dc, ip_address=ip, port=port)
            for dc, (ip, port) in sorted(dcs.items())
        ],
        dc_txt_domain_name="apv3.stel.com",
        chat_size_max=200,
        megagroup_size_max=200000,
        forwarded_count_max=100,
        online_update_period_ms=210000,
        offline_blur_timeout_ms=5000,
        offline_idle_timeout_ms=30000,
        online_cloud_timeout_ms=300000,
        notify_cloud_delay_ms=30000,
        notify_default_delay_ms=1500,
        push_chat_period_ms=60000,
        push_chat_limit=2,
        edit_time_limit=172800,
        revoke_time_limit=2147483647,
        revoke_pm_time_limit=2147483647,
        rating_e_decay=2419200,
        stickers_recent_limit=200,
        channels_read_media_period=604800,
        call_receive_timeout_ms=20000,
        call_ring_timeout_ms=90000,
        call_connect_timeout_ms=30000,
        call_packet_timeout_ms=10000,
        me_url_prefix="https://t.me/",
        caption_length_max=1024,
        message_length_max=4096,
        webfile_dc_id=4,
        reactions_default=types.ReactionEmoji("👍"),
    )


@handles(functions.help.GetNearestDcRequest, auth=False)
def get_nearest_dc(ctx: Context, req: functions.help.GetNearestDcRequest) -> types.NearestDc:
    return types.NearestDc(country="NL", this_dc=ctx.dc_id, nearest_dc=ctx.dc_id)


@handles(functions.PingRequest, functions.PingDelayDisconnectRequest, auth=False)
def ping(
    ctx: Context, req: functions.PingRequest | functions.PingDelayDisconnectRequest
) -> types.Pong:
    return types.Pong(msg_id=0, ping_id=req.ping_id)


def state(ctx: Context) -> types.updates.State:
    """The account's current updates state."""
    unread = sum(d.unread_count for d in ctx.world.dialogs.values())
    return types.updates.State(pts=ctx.world.pts, qts=0, date=ctx.now, seq=0, unread_count=unread)


@handles(functions.updates.GetStateRequest)
def get_state(ctx: Context, req: functions.updates.GetStateRequest) -> types.updates.State:
    return state(ctx)


@handles(functions.updates.GetDifferenceRequest)
def get_difference(
    ctx: Context, req: functions.updates.GetDifferenceRequest
) -> types.updates.DifferenceEmpty | types.updates.Difference:
    """Private and basic-group messages added, deletions and edits made, after the
    client's pts."""
    missed = ctx.world.messages_since_pts(req.pts)
    deleted = ctx.world.deletions_since_pts(req.pts)
    edited = ctx.world.edits_since_pts(req.pts)
    if not missed and not deleted and not edited:
        return types.updates.DifferenceEmpty(date=ctx.now, seq=0)
    renderer = ctx.renderer()
    return types.updates.Difference(
        new_messages=renderer.messages(missed),
        new_encrypted_messages=[],
        other_updates=[
            *(
                types.UpdateDeleteMessages(messages=list(d.ids), pts=d.pts, pts_count=d.pts_count)
                for d in deleted
            ),
            *edit_updates(ctx, edited),
        ],
        chats=renderer.chats(),
        users=renderer.users(),
        state=state(ctx),
    )


def edit_updates(ctx: Context, edits: list[EditRec]) -> list[types.TypeUpdate]:
    """The ``updateEdit(Channel)Message`` of each edit a client missed (of messages that
    still exist)."""
    renderer = ctx.renderer()
    out: list[types.TypeUpdate] = []
    for edit in edits:
        rec = ctx.world.messages.get(edit.chat, {}).get(edit.id)
        if rec is not None and not rec.deleted:
            out.append(edit_update(renderer, rec, ctx.world.peer(edit.chat), edit.pts))
    return out


@handles(functions.updates.GetChannelDifferenceRequest)
def get_channel_difference(
    ctx: Context, req: functions.updates.GetChannelDifferenceRequest
) -> types.updates.ChannelDifferenceEmpty | types.updates.ChannelDifference:
    """The channel's messages added and deletions made after the client's pts, in pts
    order (up to ``limit`` of them)."""
    rec: ChatRec = input_channel(ctx, req.channel)
    events: list[MessageRec | DeletionRec | EditRec] = [
        *ctx.world.messages_since_pts(req.pts, rec.marked_id),
        *ctx.world.deletions_since_pts(req.pts, rec.marked_id),
        *ctx.world.edits_since_pts(req.pts, rec.marked_id),
    ]
    events = sorted(events, key=lambda e: e.pts)[: max(1, req.limit)]
    if not events:
        return types.updates.ChannelDifferenceEmpty(pts=rec.pts, final=True, timeout=30)
    renderer = ctx.renderer()
    return types.updates.ChannelDifference(
        final=events[-1].pts >= rec.pts,
        pts=events[-1].pts,
        new_messages=renderer.messages(e for e in events if isinstance(e, MessageRec)),
        other_updates=[
            *(
                types.UpdateDeleteChannelMessages(
                    channel_id=rec.id, messages=list(e.ids), pts=e.pts, pts_count=e.pts_count
                )
                for e in events
                if isinstance(e, DeletionRec)
            ),
            *edit_updates(ctx, [e for e in events if isinstance(e, EditRec)]),
        ],
        chats=renderer.chats(),
        users=renderer.users(),
        timeout=30,
    )
