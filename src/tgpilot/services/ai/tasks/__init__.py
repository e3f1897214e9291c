"""What people ask of me, ``tasks`` (spec ai.md §4.5, §5).

- :mod:`.local` — who "me" is, and the tasks, questions and problems of each chat;
- :mod:`.answer` — the ``tasks`` prompt's answer schema;
- :mod:`.llm` — the task candidates through the model (due date, priority);
- :mod:`.report` — the Markdown and JSON report.
"""

from tgpilot.services.ai.tasks.local import (
    ChatTasks,
    Me,
    TaskLexicon,
    TaskScan,
    is_person_chat,
    is_readable,
    me_of,
    my_message_ids,
    outgoing_senders,
)
from tgpilot.services.ai.tasks.report import TasksReport, render_markdown

__all__ = [
    "ChatTasks",
    "Me",
    "TaskLexicon",
    "TaskScan",
    "TasksReport",
    "is_person_chat",
    "is_readable",
    "me_of",
    "my_message_ids",
    "outgoing_senders",
    "render_markdown",
]
