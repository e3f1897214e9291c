"""Private conversations with people, ``contacts analyze`` (spec ai.md §4.6, §5).

- :mod:`.local` — counts, topics, recent lines and the value suggestion of
  ``contact_values.yml``;
- :mod:`.answer` — the ``contacts`` prompt's answer schema;
- :mod:`.llm` — each conversation through the model (summary, interests, next step);
- :mod:`.report` — the Markdown and JSON report.
"""

from tgpilot.services.ai.contacts.local import (
    ContactAnalysis,
    ValueRules,
    analyse_contact,
    is_conversation_text,
    load_value_rules,
    recent_conversations,
)
from tgpilot.services.ai.contacts.report import ContactsReport, render_markdown

__all__ = [
    "ContactAnalysis",
    "ContactsReport",
    "ValueRules",
    "analyse_contact",
    "is_conversation_text",
    "load_value_rules",
    "recent_conversations",
    "render_markdown",
]
