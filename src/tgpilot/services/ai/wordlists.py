"""Matchers built from word lists, for ``ideas``, ``tasks`` and ``contacts analyze``
(spec ai.md §3, §4.5, §4.6).

Each list is a data file under ``tgpilot/data/wordlists/``, replaceable as a whole by
a file of the same name in ``<data dir>/wordlists/`` (:mod:`tgpilot.core.wordlists`
finds and reads them); here they become matchers, and every match goes through
:class:`~tgpilot.core.textmatch.TermMatcher`:

- ``ideas.yml``, ``problems.yml``, ``imperatives.yml``, ``question_words.yml`` — a
  :class:`PhraseList`: ``terms`` and optional ``exceptions`` (a match inside an
  exception does not count: "без проблем" is no problem);
- ``tools.yml`` — a :class:`ToolLexicon`: ``tools`` maps each tool's name to its terms,
  whole words, so the Go language is never "good";
- any other list's terms — :func:`compile_terms` (a bad term is a ConfigError naming
  the file), with :func:`~tgpilot.core.wordlists.check_keys` refusing keys a list does
  not know. The analyze lexicons (:mod:`tgpilot.services.ai.analyze.lexicon`) are built
  with both too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from tgpilot.core.errors import ConfigError, UsageError
from tgpilot.core.textmatch import FoldedText, TermMatcher, parse_term
from tgpilot.core.wordlists import (
    check_keys,
    load_wordlist,
    term_groups,
    term_list,
    wordlist_source,
)

IDEAS = "ideas"
PROBLEMS = "problems"
IMPERATIVES = "imperatives"
QUESTION_WORDS = "question_words"
TOOLS = "tools"


def compile_terms(terms: Iterable[str], origin: str, exceptions: Iterable[str] = ()) -> TermMatcher:
    """A matcher of a word list's terms; a bad term is a ConfigError naming the file."""
    try:
        return TermMatcher(terms, exceptions)
    except UsageError as error:
        raise ConfigError(f"{origin}: {error.message}", hint=error.hint) from error


@dataclass(frozen=True)
class PhraseList:
    """One list of phrases (its name, as the file is called) and its matcher."""

    name: str
    matcher: TermMatcher

    def matches(self, text: str | FoldedText) -> bool:
        """True if a phrase of the list is in ``text``."""
        return self.matcher.contains(text)

    def found(self, text: str | FoldedText) -> list[str]:
        """The distinct phrases (terms as written) found in ``text``, in order."""
        return list(dict.fromkeys(match.term for match in self.matcher.find(text)))


def load_phrases(name: str, override_dir: Path | None = None) -> PhraseList:
    """``<name>.yml``: its ``terms`` and ``exceptions``."""
    data = load_wordlist(name, override_dir)
    origin = wordlist_source(name, override_dir)
    check_keys(data, {"terms", "exceptions"}, origin)
    terms = term_list(data, "terms", origin=origin)
    exceptions = term_list(data, "exceptions", origin=origin)
    return PhraseList(name, compile_terms(terms, origin, exceptions))


@dataclass(frozen=True)
class ToolLexicon:
    """Tool names and the terms naming each (one matcher for them all)."""

    matcher: TermMatcher
    tool_of: Mapping[str, str]
    """Term as written → the tool's name."""

    def tools_in(self, text: str | FoldedText) -> list[str]:
        """The tools ``text`` names, each once, in order of first mention."""
        return list(dict.fromkeys(self.tool_of[match.term] for match in self.matcher.find(text)))


def load_tools(override_dir: Path | None = None) -> ToolLexicon:
    """``tools.yml``: ``tools`` maps each tool's name to its terms (each term under one
    tool only)."""
    data = load_wordlist(TOOLS, override_dir)
    origin = wordlist_source(TOOLS, override_dir)
    check_keys(data, {TOOLS}, origin)
    tool_of: dict[str, str] = {}
    owner: dict[tuple[str, str], str] = {}
    for tool, terms in term_groups(data, TOOLS, origin=origin).items():
        for raw in terms:
            try:
                term = parse_term(raw)
            except UsageError as error:
                raise ConfigError(f"{origin}: tool {tool}: {error.message}") from error
            key = (term.kind.value, term.key)
            if owner.setdefault(key, tool) != tool:
                raise ConfigError(f"{origin}: term {raw!r} is listed under {owner[key]} and {tool}")
            tool_of.setdefault(term.raw, tool)
    return ToolLexicon(compile_terms(tool_of, origin), tool_of)
