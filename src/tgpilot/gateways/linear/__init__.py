"""The Linear gateway (spec linear-and-bots.md §1.1): the only code that talks to Linear.

- :mod:`~tgpilot.gateways.linear.client` — :class:`LinearClient`: ``execute``,
  ``paginate``, ``mutate``, ``create_issue`` (safe create), the request counter,
  retries, rate-limit pacing and response classification;
- :mod:`~tgpilot.gateways.linear.documents` — the named GraphQL operations in
  ``queries/*.graphql`` (fragments in ``queries/fragments/``);
- :mod:`~tgpilot.gateways.linear.catalog` — per-process caches of teams, labels,
  states, projects and members (``client.catalog``);
- :mod:`~tgpilot.gateways.linear.types` — plain values built from the answers;
- :mod:`~tgpilot.gateways.linear.errors` — the error tree under :class:`LinearError`.
"""

from tgpilot.gateways.linear.client import LinearClient, authorization
from tgpilot.gateways.linear.errors import (
    Ambiguous,
    IssueNotFound,
    LinearAuthError,
    LinearError,
    LinearUnavailable,
    NotFound,
    RateLimited,
)

__all__ = [
    "Ambiguous",
    "IssueNotFound",
    "LinearAuthError",
    "LinearClient",
    "LinearError",
    "LinearUnavailable",
    "NotFound",
    "RateLimited",
    "authorization",
]
