"""Chat analysis, ``analyze CHAT…`` (spec ai.md §4.1): local metrics and reports, and
the model's half.

- :mod:`.selection` — which messages are read (length, bots, media) and names;
- :mod:`.lexicon` — topics, sentiment and profanity from the word lists;
- :mod:`.metrics` — the local figures, always computed here, in one pass;
- :mod:`.scan` — topics, sentiment and profanity of a text at once, fast;
- :mod:`.prompt_input` — the ``messages`` and ``metadata`` a model receives;
- :mod:`.report` — the answer schema with its local defaults, and its JSON form;
- :mod:`.markdown`, :mod:`.html` (with :mod:`.charts`) — the other report forms;
- :mod:`.files` — report names, folders and the index of several chats;
- :mod:`.service` — one chat end to end without a model;
- :mod:`.answer` — the model's answer schema and how it merges into the report;
- :mod:`.llm` — one chat through a model (one call or map-reduce), with fallbacks.
"""

from tgpilot.services.ai.analyze.lexicon import Lexicons
from tgpilot.services.ai.analyze.metrics import ActivityMetrics, compute_metrics
from tgpilot.services.ai.analyze.prompt_input import (
    format_messages,
    message_line,
    metadata_json,
    prompt_metadata,
)
from tgpilot.services.ai.analyze.report import AnalysisReport, LLMInfo, Scope, local_report
from tgpilot.services.ai.analyze.selection import Selection, display_name
from tgpilot.services.ai.analyze.service import ChatAnalysis, analyze_locally

__all__ = [
    "ActivityMetrics",
    "AnalysisReport",
    "ChatAnalysis",
    "LLMInfo",
    "Lexicons",
    "Scope",
    "Selection",
    "analyze_locally",
    "compute_metrics",
    "display_name",
    "format_messages",
    "local_report",
    "message_line",
    "metadata_json",
    "prompt_metadata",
]
