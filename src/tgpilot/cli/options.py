"""Option declarations shared by several commands."""

from __future__ import annotations

from typing import Annotated

import typer

from tgpilot.core.errors import UsageError

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine output (JSON) on stdout.")]
YesFlag = Annotated[
    bool, typer.Option("--yes", "-y", help="Apply the plan instead of printing it.")
]

# Commands taking a CHAT argument accept negative (marked) ids such as -1001234567890,
# which the parser would otherwise read as unknown short options.
CHAT_ARGUMENT_SETTINGS = {"ignore_unknown_options": True}


def chosen_chat(chat: str | None, title_contains: str | None) -> str | None:
    """The CHAT argument, checked: exactly one of CHAT and ``--title-contains``."""
    chat = chat_argument(chat)
    if (chat is None) == (title_contains is None):
        raise UsageError("give either CHAT or --title-contains")
    return chat


def chat_argument(value: str | None) -> str | None:
    """A CHAT argument as typed; an option-looking word that is not a number is refused."""
    if value is not None and value.startswith("-") and not value.lstrip("-").isdigit():
        raise UsageError(f"no such option: {value}")
    return value


TitleContainsOpt = Annotated[
    str | None, typer.Option("--title-contains", help="Find the chat by a piece of its title.")
]
SinceOpt = Annotated[str | None, typer.Option("--since", help="From this date (inclusive, --tz).")]
UntilOpt = Annotated[
    str | None, typer.Option("--until", help="Before this date (exclusive, --tz).")
]
ArchiveFlag = Annotated[
    bool, typer.Option("--archive", help="Read the local archive: no session needed.")
]
