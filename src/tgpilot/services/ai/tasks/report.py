"""The ``tasks`` report as Markdown and JSON (spec ai.md §4.5): my tasks per chat
(chats with the most first, the 5 newest of each), the questions of chats with at
least 3, and the 5 newest problems."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from tgpilot.core.output import human_time, iso_time
from tgpilot.services.ai.analyze.markdown import md_escape
from tgpilot.services.ai.digest.activity import plural
from tgpilot.services.ai.review import RunInfo
from tgpilot.services.ai.tasks.local import ChatTasks, Me, Signal, newest

REPORT_KIND = "tasks"
TASKS_PER_CHAT = 5
QUESTION_CHAT_MIN = 3
"""Questions are listed for chats with at least this many."""
QUESTIONS_PER_CHAT = 5
NEWEST_PROBLEMS = 5


@dataclass(frozen=True)
class TasksReport:
    """What ``tasks`` found for ``me``, and how."""

    chats: tuple[ChatTasks, ...]
    me: Me
    run: RunInfo

    @property
    def by_tasks(self) -> list[ChatTasks]:
        """Chats with tasks, the most first (then by title)."""
        found = [chat for chat in self.chats if chat.tasks]
        return sorted(found, key=lambda c: (-len(c.tasks), c.chat.title.casefold()))

    @property
    def by_questions(self) -> list[ChatTasks]:
        """Chats with at least 3 questions, the most first (then by title)."""
        found = [chat for chat in self.chats if len(chat.questions) >= QUESTION_CHAT_MIN]
        return sorted(found, key=lambda c: (-len(c.questions), c.chat.title.casefold()))

    @property
    def newest_problems(self) -> tuple[Signal, ...]:
        return newest([p for chat in self.chats for p in chat.problems], NEWEST_PROBLEMS)

    @property
    def messages(self) -> int:
        return sum(chat.messages for chat in self.chats)

    @property
    def tasks(self) -> int:
        return sum(len(chat.tasks) for chat in self.chats)

    @property
    def questions(self) -> int:
        return sum(len(chat.questions) for chat in self.chats)

    @property
    def problems(self) -> int:
        return sum(len(chat.problems) for chat in self.chats)


def _signal_json(signal: Signal, tz: tzinfo) -> dict[str, Any]:
    return {
        "chat_id": signal.chat_id,
        "chat_name": signal.chat_title,
        "message_id": signal.message_id,
        "date": iso_time(signal.date, tz),
        "sender": signal.sender,
        "quote": signal.quote,
    }


def _task_json(task: Signal, tz: tzinfo) -> dict[str, Any]:
    return {
        **_signal_json(task, tz),
        "reasons": [reason.value for reason in task.reasons],
        "task": task.task or None,
        "requested_by": task.requested_by or None,
        "due_date": task.due_date.isoformat() if task.due_date else None,
        "priority": task.priority,
    }


def report_object(report: TasksReport, tz: tzinfo, usage: Any = None) -> dict[str, Any]:
    """The report as a JSON document (ISO 8601 dates)."""
    me = report.me
    return {
        **report.run.to_json(tz),
        "me": {"ids": sorted(me.ids), "usernames": list(me.usernames), "names": list(me.names)},
        "statistics": {
            "chats": len(report.chats),
            "messages": report.messages,
            "tasks": report.tasks,
            "questions": report.questions,
            "problems": report.problems,
        },
        "tasks": [
            {
                "chat_id": chat.chat.id,
                "chat_name": chat.chat.title,
                "count": len(chat.tasks),
                "newest": [_task_json(t, tz) for t in newest(chat.tasks, TASKS_PER_CHAT)],
            }
            for chat in report.by_tasks
        ],
        "questions": [
            {
                "chat_id": chat.chat.id,
                "chat_name": chat.chat.title,
                "count": len(chat.questions),
                "newest": [_signal_json(q, tz) for q in newest(chat.questions, QUESTIONS_PER_CHAT)],
            }
            for chat in report.by_questions
        ],
        "problems": [_signal_json(p, tz) for p in report.newest_problems],
        "chats": [
            {"chat_id": chat.chat.id, "chat_name": chat.chat.title, "messages": chat.messages}
            for chat in report.chats
        ],
        "usage": usage,
    }


def _line(signal: Signal, tz: tzinfo, *, chat: bool = False) -> str:
    where = f"[{md_escape(signal.chat_title)}] " if chat else ""
    return (
        f"- {where}{human_time(signal.date, tz)} — {md_escape(signal.sender)}: "
        f"“{md_escape(signal.quote)}”"
    )


def _task_line(task: Signal, tz: tzinfo) -> str:
    details = [reason.value for reason in task.reasons]
    if task.priority:
        details.append(f"priority {task.priority}")
    if task.due_date:
        details.append(f"due {task.due_date.isoformat()}")
    line = _line(task, tz)
    if task.task:
        line += f" → **{md_escape(task.task)}**"
    return f"{line} ({', '.join(details)})" if details else line


def _tasks_markdown(report: TasksReport, tz: tzinfo) -> list[str]:
    lines = ["", "## Tasks"]
    for chat in report.by_tasks:
        lines += ["", f"### {md_escape(chat.chat.title)} — {plural(len(chat.tasks), 'task')}", ""]
        lines += [_task_line(task, tz) for task in newest(chat.tasks, TASKS_PER_CHAT)]
    return lines if report.by_tasks else [*lines, "", "None."]


def _questions_markdown(report: TasksReport, tz: tzinfo) -> list[str]:
    lines = ["", f"## Questions (chats with {QUESTION_CHAT_MIN} or more)"]
    for chat in report.by_questions:
        count = plural(len(chat.questions), "question")
        lines += ["", f"### {md_escape(chat.chat.title)} — {count}", ""]
        lines += [_line(question, tz) for question in newest(chat.questions, QUESTIONS_PER_CHAT)]
    return lines if report.by_questions else [*lines, "", "None."]


def render_markdown(report: TasksReport, tz: tzinfo) -> str:
    """The report as Markdown."""
    run = report.run
    lines = [
        "# Tasks for me",
        "",
        f"Period: {run.period} · source: {md_escape(run.source)} · "
        f"generated {human_time(run.generated_at, tz)}",
        "",
        f"Me: {md_escape(report.me.describe())}",
        "",
        f"_{run.how}_",
        *run.skipped_markdown(),
        "",
        f"{plural(len(report.chats), 'chat')}, {plural(report.messages, 'message')} read: "
        f"{plural(report.tasks, 'task')}, {plural(report.questions, 'question')}, "
        f"{plural(report.problems, 'problem')}",
    ]
    lines += _tasks_markdown(report, tz)
    lines += _questions_markdown(report, tz)
    lines += ["", "## Problems (newest)", ""]
    problems = report.newest_problems
    lines += [_line(p, tz, chat=True) for p in problems] if problems else ["None."]
    return "\n".join(lines) + "\n"
