"""The keyword score shared by archive search and the knowledge base (spec ai.md §4.9,
§4.10).

A question's *query words* are its distinct words, folded like ``core/textmatch.py``
(case-folded, ``ё`` read as ``е``), of at least two characters and not stop-words
(``stopwords.yml``). With ``stem`` a word longer than :data:`STEM_MIN` characters is
cut by up to :data:`STEM_CUT` characters, never below :data:`STEM_MIN` — a light
prefix stem so "встреча" also finds "встречаемся" and "reviews" finds "review".

The keyword score of a text is the share of the query words found as a prefix at a
word start in the folded text ("backup" matches "backups", not "makebackups").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from tgpilot.services.rag.extract import StopWords, fold

STEM_MIN = 5
STEM_CUT = 2

_WORD = re.compile(r"\w+", re.UNICODE)


def stem(word: str) -> str:
    """``word`` without its last :data:`STEM_CUT` characters, kept at least
    :data:`STEM_MIN` long (a shorter word is returned as it is)."""
    if len(word) <= STEM_MIN:
        return word
    return word[: max(STEM_MIN, len(word) - STEM_CUT)]


def query_words(
    question: str, stopwords: StopWords, *, stem_words: bool = False
) -> tuple[str, ...]:
    """The question's distinct words that count for the keyword score (stemmed with
    ``stem_words``)."""
    words = [fold(w) for w in _WORD.findall(question)]
    kept = (w for w in words if len(w) > 1 and w not in stopwords)
    if stem_words:
        kept = (stem(w) for w in kept)
    return tuple(dict.fromkeys(kept))


def keyword_score(words: Sequence[str], text: str) -> float:
    """The share of ``words`` found at a word start in ``text`` (0.0 without words)."""
    if not words:
        return 0.0
    folded = fold(text)
    found = sum(1 for w in words if _at_word_start(w).search(folded))
    return found / len(words)


@lru_cache(maxsize=1024)
def _at_word_start(word: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(word)}")
