"""One message judged: which profanity it contains and how spammy it is.

:class:`Moderator` pairs the profanity checker and the spam scorer built from
``moderation:`` settings (and the user's word-list overrides) so ``moderate watch``,
``moderate stats`` and ``moderate check`` judge a text the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tgpilot.core.config.settings import ModerationSettings
from tgpilot.core.textmatch import prepare
from tgpilot.services.moderation.scoring import ProfanityChecker, SpamScore, SpamScorer


@dataclass(frozen=True)
class Verdict:
    """What a text was found to be."""

    profanity: tuple[str, ...]
    spam: SpamScore

    @property
    def is_profane(self) -> bool:
        return bool(self.profanity)

    @property
    def flagged(self) -> bool:
        return self.is_profane or self.spam.is_spam

    def reasons(self) -> list[str]:
        """``profanity`` and/or ``spam``."""
        return [r for r, on in (("profanity", self.is_profane), ("spam", self.spam.is_spam)) if on]

    def to_json(self) -> dict[str, Any]:
        return {"profanity": list(self.profanity), "spam": self.spam.as_dict()}


@dataclass(frozen=True)
class Moderator:
    """Judges texts with one profanity checker and one spam scorer."""

    profanity: ProfanityChecker
    spam: SpamScorer

    @classmethod
    def from_settings(
        cls,
        settings: ModerationSettings,
        *,
        threshold: int | None = None,
        override_dir: Path | None = None,
    ) -> Moderator:
        return cls(
            ProfanityChecker.from_settings(settings, override_dir=override_dir),
            SpamScorer.from_settings(settings, threshold=threshold, override_dir=override_dir),
        )

    def judge(self, text: str) -> Verdict:
        folded = prepare(text)
        words = tuple(match.folded for match in self.profanity.check(folded))
        return Verdict(words, self.spam.score(text))
