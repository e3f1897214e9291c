"""The Linear GraphQL client on the fake server: auth, response classification,
retries, rate limits, pagination, safe create and caches (spec §1.1)."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from pydantic import SecretStr

from tests.fakes.clock import FakeClock
from tests.fakes.linear import FakeLinear, Fault
from tgpilot.core.config.settings import LinearSettings
from tgpilot.core.errors import ConfigError
from tgpilot.gateways.linear import (
    LinearAuthError,
    LinearClient,
    LinearError,
    LinearUnavailable,
    RateLimited,
)
from tgpilot.gateways.linear.client import authorization
from tgpilot.services.linear.issues import IssueDraft, IssueService

KEY = "lin_api_client_test_key"


@pytest.fixture
def fake(fake_clock: FakeClock) -> Iterator[FakeLinear]:
    with FakeLinear(clock=fake_clock) as server:
        server.workspace.add_team("ENG", "Engineering")
        yield server


@pytest.fixture
async def client(fake: FakeLinear, fake_clock: FakeClock) -> AsyncIterator[LinearClient]:
    async with LinearClient(api_url=fake.url, authorization=KEY, clock=fake_clock) as c:
        yield c


def settings(**values: object) -> LinearSettings:
    return LinearSettings.model_validate(values)


# ----------------------------------------------------------------- auth


def test_authorization_is_the_raw_key_or_a_bearer_token() -> None:
    assert authorization(settings(api_key=SecretStr(" k1 "))) == "k1"
    assert authorization(settings(oauth_token=SecretStr("t1"))) == "Bearer t1"
    both = settings(api_key=SecretStr("k1"), oauth_token=SecretStr("t1"))
    assert authorization(both) == "k1"


@pytest.mark.parametrize("key", [None, "", "  "])
def test_missing_or_blank_key_is_a_config_error_naming_it(key: str | None) -> None:
    values = {} if key is None else {"api_key": SecretStr(key)}
    with pytest.raises(ConfigError, match="LINEAR_API_KEY") as caught:
        LinearClient.from_settings(settings(**values), clock=FakeClock())
    assert caught.value.exit_code == 2


# ----------------------------------------------------------------- classification


async def test_several_errors_are_joined_and_not_retried(
    fake: FakeLinear, client: LinearClient
) -> None:
    body = '{"errors": [{"message": "first"}, {"message": "second"}]}'
    fake.fail(Fault.http(400, body))
    with pytest.raises(LinearError, match=r"^first; second$") as caught:
        await client.execute("Viewer")
    assert caught.value.status == 400 and caught.value.exit_code == 1
    assert client.requests == 1


async def test_authentication_errors_and_401_are_auth_errors(
    fake: FakeLinear, client: LinearClient
) -> None:
    fake.fail(Fault.error("Authentication required", code="AUTHENTICATION_ERROR"))
    with pytest.raises(LinearAuthError) as caught:
        await client.execute("Viewer")
    assert caught.value.hint is not None and "LINEAR_API_KEY" in caught.value.hint
    fake.fail(Fault.http(401, "{}"))
    with pytest.raises(LinearAuthError, match="401"):
        await client.execute("Viewer")
    assert client.requests == 2


async def test_non_2xx_without_errors_shows_the_status_and_the_body_start(
    fake: FakeLinear, client: LinearClient
) -> None:
    fake.fail(Fault.http(404, '{"detail": "' + "x" * 600 + '"}'))
    with pytest.raises(LinearError) as caught:
        await client.execute("Viewer")
    assert caught.value.message.startswith('Linear answered 404: {"detail": "xxx')
    assert len(caught.value.message) < 540


async def test_missing_data_is_an_empty_response(fake: FakeLinear, client: LinearClient) -> None:
    fake.fail(Fault.http(200, '{"data": null}'))
    with pytest.raises(LinearError, match="empty response"):
        await client.execute("Viewer")


async def test_messages_never_carry_the_key_or_the_variables(
    fake: FakeLinear, client: LinearClient
) -> None:
    team = fake.workspace.team("ENG")
    fake.fail(Fault.http(500, "internal"), times=None)
    with pytest.raises(LinearUnavailable) as caught:
        await client.create_issue({"teamId": team.id, "title": "secret-title-42"})
    text = f"{caught.value.message} {caught.value.hint} {caught.value!r}"
    assert KEY not in text and "secret-title-42" not in text


# ----------------------------------------------------------------- retries and limits


async def test_transport_failures_are_retried_four_times(fake_clock: FakeClock) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/graphql"
    async with LinearClient(api_url=url, authorization=KEY, clock=fake_clock) as client:
        with pytest.raises(LinearUnavailable, match="cannot reach Linear"):
            await client.execute("Viewer")
        assert client.requests == 5
    assert len(fake_clock.sleeps) == 4
    assert all(0 <= s <= 2 ** (n - 1) for n, s in enumerate(fake_clock.sleeps, 1))


async def test_a_5xx_then_success_is_one_retry(
    fake: FakeLinear, client: LinearClient, fake_clock: FakeClock
) -> None:
    fake.fail(Fault.http(502, "bad gateway"))
    data = await client.execute("Viewer")
    assert data["viewer"]["email"] == "owner@example.com"
    assert client.requests == 2 and len(fake_clock.sleeps) == 1


async def test_retry_after_takes_precedence_over_the_reset(
    fake: FakeLinear, client: LinearClient, fake_clock: FakeClock
) -> None:
    fake.fail(Fault.rate_limited(600.0, retry_after=3))
    await client.execute("Viewer")
    assert fake_clock.sleeps == [3.0]


async def test_rate_limited_every_time_ends_as_rate_limited(
    fake: FakeLinear, client: LinearClient
) -> None:
    fake.fail(Fault.rate_limited(1.0), times=None)
    with pytest.raises(RateLimited, match="still reached after the retries"):
        await client.execute("Viewer")
    assert client.requests == 5


async def test_under_ten_percent_left_requests_are_paced_until_the_reset(
    fake: FakeLinear, client: LinearClient
) -> None:
    fake.rate_limit, fake.remaining, fake.reset_in = 100, 4, 0.6
    await client.execute("Viewer")
    assert client.budget is not None and client.budget.remaining == 3
    started = time.monotonic()
    for _ in range(3):
        await client.execute("Viewer")
    assert time.monotonic() - started >= 0.3


async def test_plenty_left_means_no_pacing(fake: FakeLinear, client: LinearClient) -> None:
    started = time.monotonic()
    for _ in range(5):
        await client.execute("Viewer")
    assert client.budget is not None and client.budget.limit == 1500
    assert client.budget.remaining == 1495
    assert time.monotonic() - started < 5


# ----------------------------------------------------------------- pagination


async def test_pagination_follows_cursors_of_nested_connections(
    fake: FakeLinear, fake_clock: FakeClock
) -> None:
    ws = fake.workspace
    eng = ws.team("ENG")
    for n in range(6):
        ws.add_user(f"User {n}", f"u{n}", f"u{n}@example.com", teams=(eng,))
    async with LinearClient(
        api_url=fake.url, authorization=KEY, clock=fake_clock, page_size=3
    ) as client:
        nodes = [
            n
            async for n in client.paginate(
                "TeamMembers", {"teamId": eng.id}, connection="team.members"
            )
        ]
        assert len(nodes) == 7 and client.requests == 3
        cursors = [r.variables["after"] for r in fake.requests]
        assert cursors[0] is None and cursors[1] == nodes[2]["id"] and cursors[2] == nodes[5]["id"]
        limited = [n async for n in client.paginate("Users", connection="users", limit=4)]
        assert len(limited) == 4
        assert [r.variables["first"] for r in fake.requests[3:]] == [3, 1]


# ----------------------------------------------------------------- safe create


async def test_create_with_a_taken_id_returns_the_stored_issue(
    fake: FakeLinear, client: LinearClient
) -> None:
    eng = fake.workspace.team("ENG")
    first = await client.create_issue({"teamId": eng.id, "title": "Once", "id": "c1" * 18})
    again = await client.create_issue({"teamId": eng.id, "title": "Once", "id": "c1" * 18})
    assert again["identifier"] == first["identifier"] == "ENG-1"
    assert len(fake.workspace.issues) == 1


async def test_create_generates_a_uuid4_id(fake: FakeLinear, client: LinearClient) -> None:
    import uuid

    eng = fake.workspace.team("ENG")
    await client.create_issue({"teamId": eng.id, "title": "T"})
    sent = fake.requests_of("IssueCreate")[0].variables["input"]["id"]
    assert uuid.UUID(sent).version == 4


# ----------------------------------------------------------------- caches (scenario 4)


async def test_two_creates_in_one_process_make_one_team_lookup(
    fake: FakeLinear, client: LinearClient, fake_clock: FakeClock
) -> None:
    fake.workspace.add_label("backlog")
    service = IssueService(client, settings(team="ENG"), clock=fake_clock)
    one = await service.create(IssueDraft(title="One", labels=["backlog"]))
    two = await service.create(IssueDraft(title="Two", labels=["backlog"]))
    assert (one.identifier, two.identifier) == ("ENG-1", "ENG-2")
    assert fake.operations().count("TeamByKey") == 1
    assert fake.operations().count("Labels") == 1


async def test_a_precomputed_client_id_becomes_the_issue_id(
    fake: FakeLinear, client: LinearClient, fake_clock: FakeClock
) -> None:
    service = IssueService(client, settings(team="ENG"), clock=fake_clock)
    reserved = "0b0e3f52-1c1f-4a5e-9c3e-0d6f0a7b9e11"
    issue = await service.create(IssueDraft(title="From chat"), client_id=reserved)
    assert issue.id == reserved
    redelivered = await service.create(IssueDraft(title="From chat"), client_id=reserved)
    assert redelivered.identifier == issue.identifier
    assert len(fake.workspace.issues) == 1
