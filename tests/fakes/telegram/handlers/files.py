"""Downloading media stubs: ``upload.getFile`` serves deterministic bytes of the stub's size.

A photo's ``y`` size (or a document) has exactly the size declared in the world; the
small ``m`` photo thumbnail a tenth of it. The content is a repeatable pattern derived
from the media id, so a test can compare downloaded files.
"""

from __future__ import annotations

import hashlib

from telethon.tl import functions, types

from tests.fakes.telegram.errors import RpcFail
from tests.fakes.telegram.model import MediaRec
from tests.fakes.telegram.render import photo_thumb_size

from .registry import Context, handles

MAX_PART = 1024 * 1024


def media_bytes(media: MediaRec, thumb_size: str = "") -> bytes:
    """The full content of a media stub (or of its ``m`` thumbnail)."""
    size = photo_thumb_size(media) if media.kind == "photo" and thumb_size == "m" else media.size
    seed = hashlib.sha256(f"{media.id}:{thumb_size}".encode()).digest()
    return (seed * (size // len(seed) + 1))[:size]


@handles(functions.upload.GetFileRequest)
def get_file(ctx: Context, req: functions.upload.GetFileRequest) -> types.upload.File:
    loc = req.location
    if isinstance(loc, types.InputPhotoFileLocation):
        kind, thumb = "photo", loc.thumb_size
    elif isinstance(loc, types.InputDocumentFileLocation):
        kind, thumb = "document", loc.thumb_size
    else:
        raise RpcFail("LOCATION_INVALID")
    msg = ctx.world.media_location(loc.id)
    if (
        msg is None
        or msg.media is None
        or (msg.media.kind == "photo") != (kind == "photo")
        or loc.access_hash != ctx.world.access_hash(kind, loc.id)
    ):
        raise RpcFail("FILE_ID_INVALID")
    if req.limit <= 0 or req.limit > MAX_PART or req.offset < 0:
        raise RpcFail("LIMIT_INVALID")
    data = media_bytes(msg.media, thumb if kind == "photo" else "")
    file_type = types.storage.FileJpeg() if kind == "photo" else types.storage.FilePartial()
    return types.upload.File(
        type=file_type,
        mtime=int(msg.date.timestamp()),
        bytes=data[req.offset : req.offset + req.limit],
    )
