"""Topics and sentiment of an archive chunk, from the local lexicons (spec ai.md §4.9, §5).

``rag index`` stores them in each point's payload (``topics``, ``sentiment``). They come
from the same :class:`~tgpilot.services.ai.analyze.scan.TextScanner` the local analysis
uses, so a chunk is labelled exactly as ``analyze --provider local`` would label it.
"""

from __future__ import annotations

from pathlib import Path

from tgpilot.core.config.settings import ModerationSettings
from tgpilot.services.ai.analyze.lexicon import Lexicons, sentiment_label
from tgpilot.services.ai.analyze.scan import TextScanner
from tgpilot.services.rag.index import Annotator


def chunk_annotator(
    moderation: ModerationSettings | None = None, *, override_dir: Path | None = None
) -> Annotator:
    """The topics and sentiment label of a chunk's text (lexicons from ``override_dir``
    when the user replaced them)."""
    scanner = TextScanner(Lexicons.load(moderation, override_dir=override_dir))

    def annotate(text: str) -> tuple[tuple[str, ...], str]:
        topics, score, _ = scanner.scan(text)
        return tuple(topics), sentiment_label(score)

    return annotate
