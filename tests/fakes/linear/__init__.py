"""A fake Linear: a GraphQL server on loopback executing documents against Linear's
published schema over an in-memory workspace, for tests, benchmarks and demos.

Use it as a context manager, or through the fixtures in
:mod:`tests.fakes.linear.fixtures`::

    with FakeLinear(clock=fake_clock) as linear:
        eng = linear.workspace.add_team("ENG", "Engineering")
        for name, value in linear.env().items():
            monkeypatch.setenv(name, value)
        ...  # run tgpilot; assert on linear.requests / linear.workspace
"""

from tests.fakes.linear.server import FakeLinear, Fault, LinearRequest
from tests.fakes.linear.workspace import Workspace

__all__ = ["FakeLinear", "Fault", "LinearRequest", "Workspace"]
