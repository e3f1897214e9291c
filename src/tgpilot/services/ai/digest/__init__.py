"""Chat digests, ``digest CHAT`` (spec ai.md §4.2, §5).

- :mod:`.activity` — the activity digest, always local;
- :mod:`.llm` — the lines a model reads, fitting them to its window, and the call;
- :mod:`.report` — the digest as Markdown, JSON and HTML, and its files.
"""

from tgpilot.services.ai.digest.activity import ActivityDigest, compute_activity
from tgpilot.services.ai.digest.llm import (
    LLMDigest,
    digest_line,
    digest_lines,
    digest_messages,
    write_llm_digest,
)
from tgpilot.services.ai.digest.report import (
    NO_MESSAGES,
    DigestReport,
    render_markdown,
    report_object,
    write_digest,
)

__all__ = [
    "NO_MESSAGES",
    "ActivityDigest",
    "DigestReport",
    "LLMDigest",
    "compute_activity",
    "digest_line",
    "digest_lines",
    "digest_messages",
    "render_markdown",
    "report_object",
    "write_digest",
    "write_llm_digest",
]
