"""Linear features over the gateway (spec linear-and-bots.md §1).

- :mod:`~tgpilot.services.linear.resolve` — names typed by users (team, project,
  labels, state, assignee, priority) turned into Linear ids;
- :mod:`~tgpilot.services.linear.issues` — :class:`IssueService`: create, update, get,
  list and search issues, audit-logged; used by the CLI, the listener and the sync;
- :mod:`~tgpilot.services.linear.listener` — the Telegram → Linear handler of
  ``tgpilot run`` (§1.4);
- :mod:`~tgpilot.services.linear.commands` — parsing ``!linear`` chat commands (§1.4);
- :mod:`~tgpilot.services.linear.mirror` — copying the workspace into the store (§1.7).

The backlog sync (§1.5) and tasks-from-chats (§1.6) build on the issue service too.
"""
