"""Helpers shared by the tests and the benchmark."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode

from api.auth import Principal, Role
from api.feedback.followups_store import follow_up_id
from api.feedback.surveys_model import Answer, SurveyChannel, SurveyKind
from api.feedback.surveys_store import answer_to_item
from api.ids import member_id_for
from api.members import store as members
from api.members.model import EnrollInput, Member
from api.points.model import Entry, OrderInput, OrderResult, RedeemInput
from api.points.store import ENTRY_PREFIX, EntryItem, entry_from_item
from api.services import Services
from api.store import reads
from api.store.base import TableItem
from api.store.reads import Snapshot
from api.stream import Change

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SERVICE = Principal(Role.SERVICE, "shop-backend")
ADMIN = Principal(Role.ADMIN, "admin-1")


def member(customer_id: str) -> Principal:
    member_id = member_id_for(customer_id)
    return Principal(Role.MEMBER, member_id, member_id)


@contextmanager
def count_requests() -> Iterator[Counter[str]]:
    """Count DynamoDB API calls made through the models' client, by operation name."""
    calls: Counter[str] = Counter()
    events = TableItem._get_connection().connection.client.meta.events

    def before_call(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    # Every handler of this event runs (a Stubber answers on before-call, ending that one).
    events.register("before-parameter-build.dynamodb", before_call)
    try:
        yield calls
    finally:
        events.unregister("before-parameter-build.dynamodb", before_call)


@dataclass
class FakeLambdaContext:
    aws_request_id: str = "test-request-1"
    function_name: str = "loyalty-api-graphql"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:loyalty-api"


def http_api_event(
    query: str,
    variables: Mapping[str, Any] | None = None,
    claims: Mapping[str, Any] | None = None,
    *,
    method: str = "POST",
    path: str = "/graphql",
    headers: Mapping[str, str] | None = None,
    raw_body: str | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event, as the JWT authorizer passes it on."""
    body = None
    query_string = ""
    if method == "GET" and query:
        params = {"query": query}
        if variables:
            params["variables"] = json.dumps(variables)
        query_string = urlencode(params)
    else:
        body = (
            raw_body
            if raw_body is not None
            else json.dumps({"query": query, "variables": dict(variables or {})})
        )
    request_context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "api1",
        "domainName": "api1.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "api1",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "203.0.113.7",
            "userAgent": "pytest",
        },
        "requestId": "gw-request-1",
        "routeKey": f"{method} {path}",
        "stage": "$default",
        "time": "01/Mar/2026:12:00:00 +0000",
        "timeEpoch": 1772366400000,
    }
    if claims is not None:
        request_context["authorizer"] = {"jwt": {"claims": dict(claims), "scopes": None}}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": query_string,
        "headers": {
            "content-type": "application/json",
            "accept": "application/json",
            **(headers or {}),
        },
        "requestContext": request_context,
        "isBase64Encoded": False,
    }
    if query_string:
        event["queryStringParameters"] = dict(parse_qsl(query_string))
    if body is not None:
        event["body"] = body
    return event


def enroll(services: Services, customer_id: str = "cust-1") -> str:
    return services.members.enroll(
        SERVICE, EnrollInput(customer_id=customer_id, time_zone="Europe/Paris", locale="fr-FR")
    ).id


def order(
    services: Services,
    order_id: str,
    amount: str,
    *,
    customer_id: str = "cust-1",
    placed_at: datetime | None = None,
    currency: str = "EUR",
) -> OrderResult:
    return services.orders.record_order(
        SERVICE,
        OrderInput(
            order_id=order_id,
            customer_id=customer_id,
            total_amount=Decimal(amount),
            currency=currency,
            placed_at=placed_at or services.clock.now(),
        ),
    )


def redeem(services: Services, points: int, key: str, customer_id: str = "cust-1") -> Entry:
    return services.spending.redeem(
        SERVICE,
        RedeemInput(
            points=points, reference=f"ref-{key}", idempotency_key=key, customer_id=customer_id
        ),
    )


def ledger_entries(member_id: str) -> list[Entry]:
    """Every entry of a member, oldest first."""
    items = EntryItem.query(
        members.member_pk(member_id), EntryItem.sk.startswith(ENTRY_PREFIX), consistent_read=True
    )
    return [entry_from_item(item) for item in items]


def stored_member(member_id: str) -> Member:
    member = members.load(Snapshot([members.member_key(member_id)]), member_id)
    assert member is not None, member_id
    return member


def stored_due_at(member_id: str) -> datetime | None:
    """When the member is next due for the scheduled job, as the due index sees it."""
    raw = TableItem._get_connection().get_item(*members.member_key(member_id), consistent_read=True)
    due = raw["Item"].get("due_at")
    return None if due is None else TableItem.due_at.deserialize(due["S"])


def assert_ledger_consistent(member_id: str) -> None:
    """The ledger's invariants for one member, read back from the table: the stored balance
    and the lots equal the sum of the entries."""
    key = members.member_key(member_id)
    stored = TableItem._get_connection().get_item(*key, consistent_read=True)["Item"]
    member = members.member_in(reads.load(stored))
    assert member is not None
    state = member.points
    entries = ledger_entries(member_id)
    assert int(stored["balance"]["N"]) == sum(e.points for e in entries)
    assert int(stored["balance"]["N"]) == state.balance
    running = 0
    for entry in entries:
        running += entry.points
        assert entry.balance_after == running, entry
    assert all(0 < lot.remaining <= lot.points for lot in state.lots)
    assert state.debt >= 0


def import_time(code: str, env: Mapping[str, str]) -> float:
    """Milliseconds `code` (imports) takes in a fresh interpreter."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    )
    return float(result.stdout.strip().splitlines()[-1]) * 1000


def third_party_modules(module: str, env: Mapping[str, str]) -> list[str]:
    """The non-stdlib, non-project modules importing `module` loads, in load order."""
    ours = ("api", "schema", "handlers", "local", "bench", "tests", "infra")
    code = (
        f"import sys; before = set(sys.modules); import {module}; "
        "std = sys.stdlib_module_names; "
        "print('\\n'.join(m for m in sys.modules if m not in before "
        f"and m.split('.')[0] not in std and m.split('.')[0] not in {ours!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    )
    return [m for m in result.stdout.split() if not m.startswith("_")]


TRANSACTION_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


@contextmanager
def iam_actions() -> Iterator[set[tuple[str, str]]]:
    """The DynamoDB IAM actions the code performs, as (action, "table" or "index").
    TransactWriteItems is authorised per item, so it counts as the items' actions."""
    seen: set[tuple[str, str]] = set()
    events = TableItem._get_connection().connection.client.meta.events

    def before(model: Any, params: dict[str, Any], **_: Any) -> None:
        if model.name == "TransactWriteItems":
            seen.update(
                (TRANSACTION_ACTIONS[kind], "table")
                for item in params["TransactItems"]
                for kind in item
            )
        else:
            seen.add((model.name, "index" if params.get("IndexName") else "table"))

    events.register("before-parameter-build.dynamodb", before)
    try:
        yield seen
    finally:
        events.unregister("before-parameter-build.dynamodb", before)


def unhappy_answer(
    services: Services, answer_id: str = "ans_1", customer_id: str = "cust-1"
) -> str:
    """An NPS detractor's answer as the surveys write it, delivered by the table's stream:
    the id of the follow-up it opened."""
    answer = Answer(
        answer_id=answer_id,
        member_id=member_id_for(customer_id),
        kind=SurveyKind.NPS,
        score=3,
        comment="Too slow.",
        channel=SurveyChannel.APP,
        answered_at=services.program.current_time(),
    )
    item = answer_to_item(answer)
    item.save()
    services.reactions.dispatch(Change(f"ev-{answer_id}", None, item))
    return follow_up_id(answer_id)


@contextmanager
def client_actions(client: Any, kind: str) -> Iterator[set[tuple[str, str]]]:
    """The IAM actions a botocore client of another service performs, as ("events:PutEvents",
    kind): its service's prefix, and the kind of resource its role grants them on."""
    seen: set[tuple[str, str]] = set()
    prefix = client.meta.service_model.signing_name

    def before(model: Any, **_: Any) -> None:
        seen.add((f"{prefix}:{model.name}", kind))

    client.meta.events.register("before-parameter-build", before)
    try:
        yield seen
    finally:
        client.meta.events.unregister("before-parameter-build", before)
