"""Telegram Desktop exports for the ``analyze`` tests, in the format ``import`` reads.

:func:`chat20_export` is fixture ``chat20`` of spec ai.md §6 "Setup": 20 messages from
2024-03-01 09:00 to 2024-03-03 18:00 UTC, the first and the last being kept texts —
12 human texts of 50 characters (Anna 6, Boris 4, Vera 2: 600 characters), 3 media
with 40-character captions (one each: 120), Boris's "ок", 2 bot texts (the bot's
messages carry their own inline keyboard, which is how a Desktop export shows a bot),
and 2 media-only messages (Anna, Vera). Boris's first text has 🔥×4 + custom×2 +
paid×1 reactions and Vera's second 👍×5.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

FROZEN_NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
"""The scenarios' frozen clock."""

NOT_INCLUDED = "(File not included. Change data exporting settings to download.)"
CHAT20_ID = 1_700_000_020
CHAT20_MARKED_ID = -1_001_700_000_020

ANNA = ("Anna", "user101")
BORIS = ("Boris", "user102")
VERA = ("Vera", "user103")
BOT = ("Standup Bot", "user900")

BUTTONS = [[{"type": "callback", "text": "Open tracker", "data": "b3Blbg=="}]]
FIRE_CUSTOM_PAID = [
    {"type": "emoji", "count": 4, "emoji": "🔥"},
    {"type": "custom_emoji", "count": 2, "document_id": "5368324170671202286"},
    {"type": "paid", "count": 1},
]
THUMBS_UP = [{"type": "emoji", "count": 5, "emoji": "👍"}]

PHOTO = {"photo": NOT_INCLUDED, "photo_file_size": 48_213, "width": 1280, "height": 960}
VIDEO = {
    "file": NOT_INCLUDED,
    "file_size": 1_204_113,
    "media_type": "video_file",
    "mime_type": "video/mp4",
    "duration_seconds": 12,
}
DOCUMENT = {
    "file": NOT_INCLUDED,
    "file_name": "invoice.pdf",
    "file_size": 81_220,
    "mime_type": "application/pdf",
}
STICKER = {
    "file": NOT_INCLUDED,
    "file_size": 23_011,
    "media_type": "sticker",
    "sticker_emoji": "👍",
    "mime_type": "image/webp",
}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A UTC time in March 2024."""
    return datetime(2024, 3, day, hour, minute, tzinfo=UTC)


def message(
    id: int, when: datetime, sender: tuple[str, str], text: str = "", **fields: Any
) -> dict[str, Any]:
    """A Desktop ``message`` object (UTC wall time plus unix time)."""
    obj: dict[str, Any] = {
        "id": id,
        "type": "message",
        "date": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "date_unixtime": str(int(when.timestamp())),
        "from": sender[0],
        "from_id": sender[1],
    }
    obj.update(fields)
    obj["text"] = text
    obj["text_entities"] = [{"type": "plain", "text": text}] if text else []
    return obj


def single_chat(
    messages: list[dict[str, Any]],
    *,
    name: str = "chat20",
    id: int = CHAT20_ID,
    type: str = "private_supergroup",
) -> dict[str, Any]:
    """A single-chat export document."""
    return {"name": name, "type": type, "id": id, "messages": messages}


def chat20_messages() -> list[dict[str, Any]]:
    """The 20 messages of ``chat20``, oldest first."""
    texts = [
        (at(1, 9), ANNA, "Доброе утро! Сегодня обсуждаем план работы на март", {}),
        (
            at(1, 9, 30),
            BORIS,
            "Спасибо, отличный план, я возьму задачи по бюджету",
            {"reactions": FIRE_CUSTOM_PAID},
        ),
        (
            at(1, 10),
            BOT,
            "Ежедневная сводка: 3 новых задачи в трекере",
            {"inline_bot_buttons": BUTTONS},
        ),
        (at(1, 10, 15), ANNA, "Надо проверить новые технологии для нашего сервера", {}),
        (at(1, 11), ANNA, "Фото доски с планом работы на весь март!", PHOTO),
        (at(1, 12), VERA, "Я могу посмотреть, какие нейросети подойдут для AI", {}),
        (at(1, 14), BORIS, "ок", {}),
        (at(1, 15), ANNA, "", PHOTO),
        (at(2, 9), BORIS, "Деньги на сервер уже выделены, можно заказать его.", {}),
        (at(2, 10), ANNA, "Отлично! Тогда в среду встретимся и решим по коду.", {}),
        (at(2, 10, 30), BORIS, "Скриншот счёта за сервер, оплатил вчера!", DOCUMENT),
        (at(2, 11), BORIS, "Код программы уже на github, посмотрите до встречи", {}),
        (
            at(2, 12),
            BOT,
            "Опрос: удобно ли встречаться по средам?",
            {"inline_bot_buttons": BUTTONS},
        ),
        (at(2, 15), ANNA, "Посмотрела код: есть пара проблем, надо их решить.", {}),
        (at(2, 16), VERA, "Схема архитектуры сервиса, смотрите все!", VIDEO),
        (
            at(3, 9),
            VERA,
            "Good morning! The new AI model works great for us!",
            {"reactions": THUMBS_UP},
        ),
        (at(3, 10), VERA, "", STICKER),
        (at(3, 11), ANNA, "Спасибо всем за работу, отчёт отправлю к пятнице 👍", {}),
        (at(3, 12), BORIS, "Отчёт посмотрю в выходные, сейчас занят переездом.", {}),
        (at(3, 18), ANNA, "Напоминаю: встреча в среду в 10:00, не опаздывайте", {}),
    ]
    return [
        message(index, when, sender, text, **fields)
        for index, (when, sender, text, fields) in enumerate(texts, start=1)
    ]


def chat20_export(**head: Any) -> dict[str, Any]:
    """Fixture ``chat20`` as a single-chat Desktop export."""
    return single_chat(chat20_messages(), **head)


def aged_messages(now: datetime, days_old: list[int]) -> list[dict[str, Any]]:
    """One kept text per age in ``days_old`` (days before ``now``), oldest first."""
    ordered = sorted(days_old, reverse=True)
    return [
        message(index, now - timedelta(days=age), ANNA, f"A message {age} days old, long enough")
        for index, age in enumerate(ordered, start=1)
    ]


def account_export(chats: list[dict[str, Any]]) -> dict[str, Any]:
    """A whole-account export holding ``chats`` (single-chat documents)."""
    return {
        "about": "Here is the data you requested.",
        "personal_information": {"user_id": 5000, "first_name": "Me"},
        "chats": {"about": "All chats.", "list": chats},
    }


def write_export(folder: Path, document: dict[str, Any]) -> Path:
    """Write ``document`` as ``folder/result.json``; returns the file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "result.json"
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    return path
