"""The heuristic entity extractor: a knowledge graph without a model (spec ai.md §4.9).

An entity is a token of at least 3 characters that is capitalised or contains ``@``,
``#`` or a digit, unless it is a stop-word or a label of the rendered documents (both
in the ``stopwords.yml`` word list). Consecutive distinct entities are linked by a
``co_occurs`` relation of weight 1. "Alice met Bob in Paris with @carol in 2024" gives
Alice, Bob, Paris, @carol and 2024.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tgpilot.core.errors import ConfigError
from tgpilot.core.wordlists import load_wordlist, wordlist_source

STOPWORDS = "stopwords"
MIN_ENTITY_LENGTH = 3
CO_OCCURS = "co_occurs"

_TOKEN = re.compile(r"[@#]?\w+(?:[-.']\w+)*", re.UNICODE)


def fold(word: str) -> str:
    """How stop-words are compared: case-folded, ``ё`` read as ``е``."""
    return word.casefold().replace("ё", "е")


def _words(data: Mapping[str, Any], key: str, origin: str) -> frozenset[str]:
    items = data.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ConfigError(f"{origin}: {key} must be a list of words")
    return frozenset(fold(item) for item in items)


@dataclass(frozen=True)
class StopWords:
    """Words that are never entities nor query words, and document labels."""

    words: frozenset[str]
    labels: frozenset[str]

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and (fold(word) in self.words or fold(word) in self.labels)


def load_stopwords(override_dir: Path | None = None) -> StopWords:
    """``stopwords.yml``: ``words`` (English and Russian) and ``labels``."""
    return _load(override_dir)


@cache
def _load(override_dir: Path | None) -> StopWords:
    data = load_wordlist(STOPWORDS, override_dir)
    origin = wordlist_source(STOPWORDS, override_dir)
    return StopWords(_words(data, "words", origin), _words(data, "labels", origin))


@dataclass(frozen=True)
class Relation:
    """A link between two entities."""

    source: str
    target: str
    kind: str = CO_OCCURS
    weight: float = 1.0


@dataclass(frozen=True)
class ExtractedGraph:
    """The entities of a text, in order of first appearance, and their relations."""

    entities: tuple[str, ...]
    relations: tuple[Relation, ...]


def is_entity(token: str, stopwords: StopWords) -> bool:
    """Whether ``token`` is an entity (see the module docstring)."""
    if len(token) < MIN_ENTITY_LENGTH or token in stopwords:
        return False
    marked = token[0] in "@#" or any(ch.isdigit() for ch in token)
    return marked or token[0].isupper()


def extract_graph(text: str, stopwords: StopWords | None = None) -> ExtractedGraph:
    """The entities of ``text`` and ``co_occurs`` relations between consecutive ones."""
    words = stopwords if stopwords is not None else load_stopwords()
    sequence = [t for t in _TOKEN.findall(text) if is_entity(t, words)]
    entities = tuple(dict.fromkeys(sequence))
    pairs: dict[tuple[str, str], Relation] = {}
    for left, right in itertools.pairwise(sequence):
        if left != right and (left, right) not in pairs and (right, left) not in pairs:
            pairs[(left, right)] = Relation(left, right)
    return ExtractedGraph(entities, tuple(pairs.values()))
