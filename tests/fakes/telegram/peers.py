"""Resolving the ``Input*`` peers a client sends, checking access hashes like Telegram.

A wrong or zero access hash fails as on the real server: ``PEER_ID_INVALID`` for
users and basic groups in ``messages.*``, ``USER_ID_INVALID`` in ``users.*``,
``CHANNEL_INVALID`` for channels (``CHANNEL_PRIVATE`` for a private channel the
account has left).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telethon.tl import types

from .errors import RpcFail
from .model import ChatRec, UserRec, marked_channel, marked_group

if TYPE_CHECKING:
    from .handlers.registry import Context


def _user_ok(ctx: Context, user_id: int, access_hash: int) -> bool:
    return user_id in ctx.world.users and access_hash == ctx.world.access_hash("user", user_id)


def channel_rec(ctx: Context, channel_id: int, access_hash: int) -> ChatRec:
    """The channel/supergroup, if the hash is right and the account may see it."""
    rec = ctx.world.channels.get(channel_id)
    if rec is None or access_hash != ctx.world.access_hash("channel", channel_id):
        raise RpcFail("CHANNEL_INVALID")
    if rec.left and rec.username is None:
        raise RpcFail("CHANNEL_PRIVATE")
    return rec


def input_peer(ctx: Context, peer: Any) -> int:
    """The marked id of an ``InputPeer``."""
    if isinstance(peer, types.InputPeerSelf):
        return ctx.me()
    if isinstance(peer, types.InputPeerUser):
        if not _user_ok(ctx, peer.user_id, peer.access_hash):
            raise RpcFail("PEER_ID_INVALID")
        return peer.user_id
    if isinstance(peer, types.InputPeerChat):
        if peer.chat_id not in ctx.world.groups:
            raise RpcFail("PEER_ID_INVALID")
        return marked_group(peer.chat_id)
    if isinstance(peer, types.InputPeerChannel):
        return channel_rec(ctx, peer.channel_id, peer.access_hash).marked_id
    if isinstance(peer, types.InputPeerUserFromMessage):
        input_peer(ctx, peer.peer)
        if peer.user_id not in ctx.world.users:
            raise RpcFail("PEER_ID_INVALID")
        return peer.user_id
    if isinstance(peer, types.InputPeerChannelFromMessage):
        input_peer(ctx, peer.peer)
        if peer.channel_id not in ctx.world.channels:
            raise RpcFail("CHANNEL_INVALID")
        return marked_channel(peer.channel_id)
    raise RpcFail("PEER_ID_INVALID")


def input_user(ctx: Context, user: Any) -> UserRec:
    """The user of an ``InputUser`` (``USER_ID_INVALID`` when wrong)."""
    if isinstance(user, types.InputUserSelf | types.InputPeerSelf):
        return ctx.world.users[ctx.me()]
    if isinstance(user, types.InputUser | types.InputPeerUser):
        if not _user_ok(ctx, user.user_id, user.access_hash):
            raise RpcFail("USER_ID_INVALID")
        return ctx.world.users[user.user_id]
    if isinstance(user, types.InputUserFromMessage | types.InputPeerUserFromMessage):
        input_peer(ctx, user.peer)
        if user.user_id not in ctx.world.users:
            raise RpcFail("USER_ID_INVALID")
        return ctx.world.users[user.user_id]
    raise RpcFail("USER_ID_INVALID")


def input_channel(ctx: Context, channel: Any) -> ChatRec:
    """The channel/supergroup of an ``InputChannel`` (``CHANNEL_INVALID`` when wrong)."""
    if isinstance(channel, types.InputChannel | types.InputPeerChannel):
        return channel_rec(ctx, channel.channel_id, channel.access_hash)
    if isinstance(channel, types.InputChannelFromMessage | types.InputPeerChannelFromMessage):
        input_peer(ctx, channel.peer)
        rec = ctx.world.channels.get(channel.channel_id)
        if rec is None:
            raise RpcFail("CHANNEL_INVALID")
        return rec
    raise RpcFail("CHANNEL_INVALID")
