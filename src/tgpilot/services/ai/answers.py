"""Reading a model's JSON answer into a validated value (spec ai.md §1.4), for every AI command.

Every answer goes through the same steps:

1. strip the BOM and surrounding whitespace;
2. take the first fenced block anywhere, else the first balanced ``{…}`` or ``[…]``
   (an opening bracket never closed — an answer cut by ``finish_reason=length`` —
   runs to the end of the text);
3. parse it; on failure repair it with ``json-repair`` (trailing commas, single
   quotes, strings and brackets left open);
4. validate it with a lenient pydantic model built from the helpers below: missing or
   null lists become ``[]``, non-object items are dropped, ``"~15"`` reads as 15, enums
   are case-folded and mapped through synonyms, else ``unknown``.

:func:`ask_json` makes the call (native JSON mode where the catalogue supports it) and,
when the answer is still unusable, retries **once** with the ``json_retry`` prompt; a
second failure raises :class:`~tgpilot.core.errors.AnswerParseError` carrying the raw
answers. Neither unusable answer enters the response cache (:func:`usable_as`), so a
re-run asks the model again instead of replaying the garbage. A repaired answer that
the model cut short (``finish_reason`` ``length``) is returned with status
``truncated``, which commands report and exit 3 on.

A command's schema is a few lines::

    class Contact(LenientModel):
        name: Annotated[str, BeforeValidator(text_or("Unknown"))] = "Unknown"
        deals: LenientInt = 0
        stage: Annotated[str, BeforeValidator(lenient_enum(STAGES, SYNONYMS))] = "unknown"

    class CrmAnswer(LenientModel):
        contacts: ObjectList[Contact] = Field(default_factory=list)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from json_repair import repair_json
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator
from pydantic_core import PydanticUseDefault

from tgpilot.core.errors import AnswerParseError
from tgpilot.gateways.llm.client import LLMClient
from tgpilot.gateways.llm.types import ChatMessage, Completion, PromptRef
from tgpilot.services.prompts import Prompt, PromptDefaults, RenderedPrompt

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

AnswerStatus = Literal["ok", "truncated"]
"""``truncated``: the model hit its output limit and the JSON was closed by repair."""

UNKNOWN = "unknown"
"""What an enum value outside the allowed set (and its synonyms) becomes."""
LENGTH = "length"
"""The finish reason of an answer cut by the output limit."""
RAW_SEPARATOR = "\n\n----- answer to the JSON retry -----\n\n"
"""Between the first answer and the retry's answer in :attr:`AnswerParseError.raw`."""

_BOM = "\ufeff"
_FENCE = re.compile(r"```[^\n`]*\n?(.*?)(?:```|\Z)", re.DOTALL)
_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?")
_GROUPED = re.compile(r"\d{1,3}(?:[, \u00a0\u202f]\d{3})+(?!\d)")
_DAY_FIRST = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


class AnswerProblem(ValueError):
    """Why an answer text could not be read as the JSON asked for (one short line)."""


# --------------------------------------------------------------------------- extraction


def _balanced_spans(text: str) -> Iterator[str]:
    """Each top-level ``{…}``/``[…]`` of ``text`` in order; an unclosed one runs to the end."""
    index = 0
    while index < len(text):
        start = min(
            (pos for pos in (text.find("{", index), text.find("[", index)) if pos >= 0),
            default=-1,
        )
        if start < 0:
            return
        depth, in_string, escaped = 0, False, False
        end = len(text)
        for pos in range(start, len(text)):
            char = text[pos]
            if in_string:
                if escaped:
                    escaped = False
                elif char == "\\":
                    escaped = True
                elif char == '"':
                    in_string = False
            elif char == '"':
                in_string = True
            elif char in "{[":
                depth += 1
            elif char in "}]":
                depth -= 1
                if depth == 0:
                    end = pos + 1
                    break
        yield text[start:end]
        index = end


def _holds_objects(value: Any) -> bool:
    return isinstance(value, dict) or (
        isinstance(value, list) and any(isinstance(item, dict) for item in value)
    )


def extract_json(text: str) -> str | None:
    """The JSON part of an answer: the first fenced block, else the first balanced
    ``{…}``/``[…]`` that parses to an object or a list of objects (so a citation such
    as ``[1]`` is passed over), else the first ``{…}`` (for repair), else the first
    ``[…]``; None when the answer holds no bracket at all."""
    stripped = text.replace(_BOM, "").strip()
    fenced = _FENCE.search(stripped)
    if fenced is not None and fenced.group(1).strip():
        stripped = fenced.group(1).strip()
    spans = list(_balanced_spans(stripped))
    for span in spans:
        try:
            value = json.loads(span)
        except ValueError:
            continue
        if _holds_objects(value):
            return span
    objects = [span for span in spans if span.startswith("{")]
    candidates = objects or spans
    return candidates[0] if candidates else None


@dataclass(frozen=True)
class ParsedJson:
    """The decoded JSON of an answer, and whether ``json-repair`` had to fix it."""

    value: Any
    repaired: bool


def parse_json(text: str) -> ParsedJson:
    """Steps 1–3: extract and decode the answer's JSON (an object or an array)."""
    snippet = extract_json(text)
    if snippet is None:
        raise AnswerProblem("the answer holds no JSON object")
    try:
        return ParsedJson(json.loads(snippet), repaired=False)
    except ValueError:
        pass
    value = repair_json(snippet, return_objects=True)
    if not isinstance(value, dict | list) or not value:
        raise AnswerProblem("the answer is not valid JSON and could not be repaired")
    return ParsedJson(value, repaired=True)


def validate_answer(value: Any, schema: type[M]) -> M:
    """Step 4: ``value`` through the lenient ``schema``; AnswerProblem when it cannot be."""
    try:
        return schema.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the answer"
        raise AnswerProblem(f"{where}: {first['msg']}") from None


def read_answer(
    text: str, schema: type[M], *, finish_reason: str | None = None
) -> tuple[M, AnswerStatus]:
    """An answer text as a validated ``schema`` value, and its status (``truncated``
    when repair closed an answer the output limit cut). AnswerProblem if unusable."""
    parsed = parse_json(text)
    value = validate_answer(parsed.value, schema)
    truncated = parsed.repaired and finish_reason == LENGTH
    return value, "truncated" if truncated else "ok"


# --------------------------------------------------------------------------- the call


@dataclass(frozen=True)
class JsonAnswer(Generic[M]):
    """A validated answer: its value, status, the text it was read from, and the call."""

    value: M
    status: AnswerStatus
    raw: str
    completion: Completion
    retried: bool = False
    """True when the value comes from the ``json_retry`` answer."""


def prompt_ref(rendered: RenderedPrompt, defaults: PromptDefaults | None = None) -> PromptRef:
    """The :class:`PromptRef` of a rendered prompt (its name, hash and request defaults)."""
    defaults = defaults or PromptDefaults()
    return PromptRef(rendered.name, rendered.hash, defaults.temperature, defaults.max_tokens)


def chat_messages(rendered: RenderedPrompt) -> list[ChatMessage]:
    """The system and user turns of a rendered prompt (an empty system message left out)."""
    turns = [ChatMessage("system", rendered.system)] if rendered.system.strip() else []
    return [*turns, ChatMessage("user", rendered.user)]


def _no_check() -> None:
    return None


def usable_as(schema: type[M]) -> Callable[[str], bool]:
    """True for an answer text :func:`read_answer` can read as ``schema`` (the response
    cache keeps only those, so an unusable answer is asked again on a re-run)."""

    def usable(text: str) -> bool:
        try:
            read_answer(text, schema)
        except AnswerProblem:
            return False
        return True

    return usable


async def ask_json(
    client: LLMClient,
    rendered: RenderedPrompt,
    schema: type[M],
    *,
    retry_prompt: Prompt,
    defaults: PromptDefaults | None = None,
    before_call: Callable[[], None] = _no_check,
) -> JsonAnswer[M]:
    """Ask ``rendered`` and read the answer as ``schema`` (see the module docstring).

    ``defaults`` are the prompt's front-matter defaults (temperature, max_tokens);
    ``before_call`` runs before each request (a spending guard raises there). Provider
    errors propagate; an answer unusable twice raises AnswerParseError with both raw
    answers in ``raw``.
    """
    ref = prompt_ref(rendered, defaults)
    before_call()
    usable = usable_as(schema)
    first = await client.complete(
        chat_messages(rendered), prompt=ref, json_mode=True, usable=usable
    )
    try:
        value, status = read_answer(first.text, schema, finish_reason=first.finish_reason)
        return JsonAnswer(value, status, first.text, first)
    except AnswerProblem as problem:
        error = str(problem)
    retry = retry_prompt.render(error=error, answer=first.text)
    retry_ref = PromptRef(
        retry.name,
        retry.hash,
        retry_prompt.defaults.temperature,
        retry_prompt.defaults.max_tokens or ref.max_tokens,
    )
    before_call()
    second = await client.complete(
        chat_messages(retry), prompt=retry_ref, json_mode=True, usable=usable
    )
    try:
        value, status = read_answer(second.text, schema, finish_reason=second.finish_reason)
    except AnswerProblem as again:
        raise AnswerParseError(
            client.provider,
            f"the answer to prompt {rendered.name} is not the JSON asked for, "
            f"even after one retry ({again})",
            raw=first.text + RAW_SEPARATOR + second.text,
            hint="run it again, or try another --model",
        ) from None
    return JsonAnswer(value, status, second.text, second, retried=True)


# --------------------------------------------------------------------------- lenient fields


class LenientModel(BaseModel):
    """Base of answer schemas: unknown keys ignored, keys case- and space-folded
    (``"Key Participants"`` → ``key_participants``), a one-object list unwrapped."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _fold(cls, data: Any) -> Any:
        if isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict):
            data = data[0]
        if isinstance(data, dict):
            return {_key(name): value for name, value in data.items()}
        return data


def _key(name: object) -> str:
    return re.sub(r"[\s-]+", "_", str(name).strip()).lower()


def number(value: object) -> float | None:
    """A number read leniently: ``15``, ``"~15"``, ``"about 15 messages"``, ``"7,5"``,
    ``"1,234"``; None when there is none (booleans included)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        return None
    grouped = _GROUPED.search(value)
    if grouped is not None:
        return float(re.sub(r"\D", "", grouped.group(0)))
    found = _NUMBER.search(value)
    return float(found.group(0).replace(",", ".")) if found is not None else None


def _to_int(value: object) -> int:
    found = number(value)
    if found is None:
        raise PydanticUseDefault()
    return round(found)


def _to_float(value: object) -> float:
    found = number(value)
    if found is None:
        raise PydanticUseDefault()
    return found


def between(low: float, high: float) -> Callable[[object], float]:
    """A validator reading a number clamped to ``[low, high]`` (none: the default)."""

    def clamp(value: object) -> float:
        return min(high, max(low, _to_float(value)))

    return clamp


def _to_text(value: object) -> str:
    if value is None:
        raise PydanticUseDefault()
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise PydanticUseDefault()


def text_or(default: str) -> Callable[[object], str]:
    """A validator reading text; missing, null or blank → ``default``."""

    def read(value: object) -> str:
        try:
            text = _to_text(value)
        except PydanticUseDefault:
            return default
        return text or default

    return read


def lenient_enum(
    values: Sequence[str], synonyms: Mapping[str, str] | None = None, *, fallback: str = UNKNOWN
) -> Callable[[object], str]:
    """A validator for an enum: case-folded, mapped through ``synonyms``, else
    ``fallback``; missing or null keeps the field's default."""
    allowed = {value.casefold(): value for value in values}
    mapped = {key.casefold(): value for key, value in (synonyms or {}).items()}

    def read(value: object) -> str:
        if value is None:
            raise PydanticUseDefault()
        key = str(value).strip().casefold()
        if not key:
            raise PydanticUseDefault()
        return allowed.get(key) or mapped.get(key) or fallback

    return read


_TRUE = frozenset({"true", "yes", "y", "1", "да"})
_FALSE = frozenset({"false", "no", "n", "0", "нет"})


def _to_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    if isinstance(value, str):
        key = value.strip().casefold()
        if key in _TRUE:
            return True
        if key in _FALSE:
            return False
    raise PydanticUseDefault()


def _as_list(value: object) -> list[Any]:
    if value is None:
        raise PydanticUseDefault()
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _strings(value: object) -> list[str]:
    texts = []
    for item in _as_list(value):
        try:
            text = _to_text(item)
        except PydanticUseDefault:
            continue
        if text:
            texts.append(text)
    return texts


def _ints(value: object) -> list[int]:
    found = (number(item) for item in _as_list(value))
    return [round(item) for item in found if item is not None]


def _objects(value: object) -> list[Any]:
    return [item for item in _as_list(value) if isinstance(item, dict)]


def _to_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        pass
    day_first = _DAY_FIRST.search(text)
    if day_first is None:
        return None
    day, month, year = (int(part) for part in day_first.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


LenientInt = Annotated[int, BeforeValidator(_to_int)]
"""An integer: ``"~15"`` → 15, ``7.6`` → 8; missing, null or no number → the default."""
LenientFloat = Annotated[float, BeforeValidator(_to_float)]
"""A number: ``"7,5/10"`` → 7.5; missing, null or no number → the default."""
LenientBool = Annotated[bool, BeforeValidator(_to_bool)]
"""A yes/no: ``true``, ``"yes"``, ``"да"``, ``1`` → True; anything unreadable → the default."""
LenientStr = Annotated[str, BeforeValidator(_to_text)]
"""Text, stripped; a number becomes its text; null, a list or an object → the default."""
StrList = Annotated[list[str], BeforeValidator(_strings)]
"""A list of texts: null → the default, a lone text → ``[text]``, blanks and objects dropped."""
IntList = Annotated[list[int], BeforeValidator(_ints)]
"""A list of integers: items without a number dropped."""
LenientDate = Annotated[date | None, BeforeValidator(_to_date)]
"""A date (``2024-03-01``, an ISO time, ``01.03.2024``); anything else → None."""
ObjectList = Annotated[list[T], BeforeValidator(_objects)]
"""A list of objects validated as ``T`` (``ObjectList[Topic]``): non-object items dropped,
a lone object → ``[object]``, null → the default."""
