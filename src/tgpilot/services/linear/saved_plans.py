"""Linear plans saved with ``--plan-out`` and applied later by ``tgpilot apply FILE``
(DESIGN rule 4: planning and applying split in two).

``linear sync`` and ``linear from-chats`` save their plan with the resolved inputs, the
account, and what each item was planned against. Applying re-checks every item before
sending anything:

- a create is skipped when its issue exists by now (its link is attached, its client
  id is taken, or — for the backlog — an issue carries its marker);
- an update or a close is skipped when the issue changed in Linear since it was
  planned (its ``updatedAt`` moved), so a stale plan never overwrites someone's edit,
  and fails when the issue is gone.

Each mutation goes through the issue service (audit log, safe creates) and the links
are recorded as the commands themselves record them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from tgpilot.core.errors import TgpilotError, UsageError
from tgpilot.gateways.linear.types import Issue, Team
from tgpilot.services.linear.backlog import LINK_PREFIX, marker
from tgpilot.services.linear.issues import PlannedCreate, PlannedUpdate
from tgpilot.services.linear.linked_create import create_once
from tgpilot.services.linear.listener import LINK_SOURCE

if TYPE_CHECKING:
    from tgpilot.services.linear.from_chats import FromChats
    from tgpilot.services.linear.issues import IssueService
    from tgpilot.store.linear import LinearLinkRepository

PLAN_FORMAT = 1
SYNC_KIND = "linear.sync"
FROM_CHATS_KIND = "linear.from_chats"
KINDS = (SYNC_KIND, FROM_CHATS_KIND)


def linear_kind(path: Path) -> str | None:
    """The plan kind of ``path`` when it is a Linear plan, else None (another kind, or
    a file ``tgpilot apply`` reports on itself)."""
    try:
        document = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    kind = document.get("kind") if isinstance(document, dict) else None
    return kind if kind in KINDS else None


def load(path: Path, account: str) -> dict[str, Any]:
    """A saved Linear plan of ``account`` (a usage error, exit 2, for anything else)."""
    try:
        document = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise UsageError(f"cannot read plan {path}: {exc.strerror}") from None
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"{path}: not a plan file ({exc})") from None
    if not isinstance(document, dict) or document.get("kind") not in KINDS:
        raise UsageError(f"{path}: not a Linear plan")
    if document.get("plan_format") != PLAN_FORMAT:
        raise UsageError(f"{path}: unknown plan format {document.get('plan_format')!r}")
    if document.get("account") != account:
        raise UsageError(
            f"{path} was planned for account {document.get('account')!r}, not {account!r}",
            hint=f"tgpilot --account {document.get('account')} apply {path}",
        )
    return document


def stamp(document: dict[str, Any], *, account: str, created_at: str) -> dict[str, Any]:
    """``document`` with what ``load`` checks: the format and the account."""
    return {**document, "plan_format": PLAN_FORMAT, "account": account, "created_at": created_at}


@dataclass
class SavedApplyReport:
    """What applying a saved plan did, item by item."""

    done: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "done": self.done,
            "skipped": [{"item": item, "reason": why} for item, why in self.skipped],
            "failed": [{"item": item, "reason": why} for item, why in self.failed],
        }


async def apply_sync(
    document: dict[str, Any], issues: IssueService, links: LinearLinkRepository
) -> SavedApplyReport:
    """Apply a saved ``linear sync`` plan, re-checking each mutation first."""
    source = str(document["source"])
    link_source = LINK_PREFIX + source
    team = Team(str(document["team_id"]), str(document.get("team") or ""), "")
    for key, issue_id in dict(document.get("adopted") or {}).items():
        await links.link(link_source, str(key), str(issue_id))
    report = SavedApplyReport()
    for action in document.get("actions") or ():
        kind, key = action.get("action"), str(action.get("key"))
        if kind not in ("create", "update", "close"):
            continue
        try:
            reason = await _apply_sync_item(action, team, source, link_source, issues, links)
        except TgpilotError as exc:
            report.failed.append((key, exc.message))
            continue
        if reason:
            report.skipped.append((key, reason))
        else:
            report.done.append(key)
    return report


async def _apply_sync_item(
    action: dict[str, Any],
    team: Team,
    source: str,
    link_source: str,
    issues: IssueService,
    links: LinearLinkRepository,
) -> str | None:
    """Apply one saved sync action; the reason it was skipped, or None when applied."""
    key = str(action["key"])
    data = dict(action.get("input") or {})
    if action["action"] == "create":
        link = await links.get(link_source, key)
        if link is not None and link.issue_id is not None:
            return "already created"
        if await issues.client.find_issue(str(data["id"])) is not None:
            return "already created"
        if await _marked(issues, team, source, key):
            return "an issue with its marker exists"
        made = await create_once(
            links, link_source, key, lambda: issues.apply_create(PlannedCreate(team, data))
        )
        return None if isinstance(made, Issue) else "already created"
    node = await issues.client.find_issue(str(action["issue_id"]))
    if node is None:
        raise UsageError(f"issue {action.get('issue')} no longer exists")
    issue = Issue.from_node(node)
    if issue.updated_at != action.get("issue_updated_at"):
        return f"{issue.identifier} changed in Linear since it was planned"
    await issues.apply_update(PlannedUpdate(issue, team, data))
    return None


async def _marked(issues: IssueService, team: Team, source: str, key: str) -> bool:
    wanted = marker(source, key)
    variables = {
        "filter": {"team": {"id": {"eq": team.id}}, "description": {"contains": wanted}},
        "includeArchived": True,
    }
    async for _ in issues.client.paginate("Issues", variables, connection="issues", limit=1):
        return True
    return False


async def apply_from_chats(document: dict[str, Any], service: FromChats) -> SavedApplyReport:
    """Apply a saved ``linear from-chats`` plan: its creates (re-checked by their
    links), then the links of its duplicates."""
    report = SavedApplyReport()
    wanted = {"create", "similar"} if document.get("include_similar") else {"create"}
    made: dict[str, str] = {}
    for item in document.get("candidates") or ():
        key = str(item.get("key"))
        if item.get("action") not in wanted or not item.get("input"):
            continue
        link = await service.links.get(LINK_SOURCE, key)
        if link is not None and link.issue_id is not None:
            made[key] = link.issue_id
            report.skipped.append((key, "already linked"))
            continue
        data = dict(item["input"])
        planned = PlannedCreate(Team(str(data["teamId"]), "", ""), data)
        fingerprint, text = str(item.get("fingerprint") or ""), str(item.get("text") or "")
        try:
            issue = await service.create_linked(key, fingerprint, text, planned)
        except TgpilotError as exc:
            report.failed.append((key, exc.message))
            continue
        made[key] = issue.id
        report.done.append(key)
    candidates = document.get("candidates") or ()
    await service.link_duplicates([c for c in candidates if c.get("action") == "duplicate"], made)
    return report
