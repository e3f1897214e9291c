"""Moderation: profanity and spam detection shared by ``moderate watch|stats|check``.

- :mod:`.wordlists` reads the bundled (or overridden) profanity and spam lists;
- :mod:`.scoring` builds :class:`ProfanityChecker` and :class:`SpamScorer` from them
  plus ``moderation.*`` settings (spec telegram-cli §4.6, ai.md §4.7).

Everything here is pure and offline; the Telegram-facing handler lives elsewhere.
"""

from tgpilot.services.moderation.scoring import (
    FiredRule,
    ProfanityChecker,
    SpamCategoryHit,
    SpamRule,
    SpamScore,
    SpamScorer,
)

__all__ = [
    "FiredRule",
    "ProfanityChecker",
    "SpamCategoryHit",
    "SpamRule",
    "SpamScore",
    "SpamScorer",
]
