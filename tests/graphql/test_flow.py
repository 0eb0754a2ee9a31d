"""The ledger end to end through API Gateway events: the shop backend, the member, the admin."""

from __future__ import annotations

import importlib
import json

import pytest

from api.observability import metrics
from api.services import Services
from tests.graphql.conftest import (
    ADJUST,
    ADMIN,
    ENROLL,
    HOME,
    MEMBER,
    RECORD_ORDER,
    REDEEM,
    REFUND,
    SERVICE,
    Invoke,
    enroll_input,
    invoker,
    order_input,
)
from tests.support import FakeLambdaContext, http_api_event

ADVANCE = """mutation($days: Int!) { advanceTestClock(input: {days: $days}) {
  __typename ... on TestClockAdvanced { testClock { now offsetSeconds }
    maintenance { membersDue lotsActivated lotsExpired pointsExpired } }
  ... on UserError { code } } }"""


def test_a_members_points_life(invoke: Invoke) -> None:
    enrolled = invoke(
        ENROLL,
        enroll_input(consents=[{"channel": "EMAIL", "granted": True, "source": "checkout"}]),
        SERVICE,
    )
    assert enrolled.data["enrollMember"]["__typename"] == "MemberEnrolled"
    member_id = enrolled.data["enrollMember"]["member"]["id"]

    recorded = invoke(RECORD_ORDER, order_input("o-1", "120.50"), SERVICE).data["recordOrder"]
    assert recorded["__typename"] == "OrderRecorded"
    assert recorded["entry"]["points"] == 120
    assert recorded["entry"]["lot"]["activatesAt"] == "2026-03-15T12:00:00+00:00"
    replay = invoke(RECORD_ORDER, order_input("o-1", "120.50"), SERVICE).data["recordOrder"]
    assert replay == recorded

    home = invoke(HOME).data["me"]
    assert home["id"] == member_id
    assert home["consents"][0]["source"] == "checkout"
    assert home["points"] | {"history": None, "expiring": None} == {
        "balance": 120,
        "available": 0,
        "pending": 120,
        "history": None,
        "expiring": None,
    }

    # Pending points cannot be spent...
    refused = invoke(
        REDEEM, {"input": {"points": 10, "reference": "cart-1", "idempotencyKey": "k-1"}}
    ).data["redeemPoints"]
    assert refused == {
        "__typename": "InsufficientPoints",
        "requested": 10,
        "available": 0,
        "code": "INSUFFICIENT_POINTS",
        "message": refused["message"],
    }
    # ...until the return window has passed.
    moved = invoke(ADVANCE, {"days": 15}, ADMIN).data["advanceTestClock"]
    assert moved["maintenance"]["lotsActivated"] == 1
    assert invoke(HOME).data["me"]["points"]["available"] == 120

    spent = invoke(
        REDEEM, {"input": {"points": 100, "reference": "cart-1", "idempotencyKey": "k-1"}}
    ).data["redeemPoints"]
    assert spent["entry"]["balanceAfter"] == 20
    assert spent["entry"]["funding"] == [{"lotId": recorded["entry"]["lot"]["id"], "points": 100}]

    refund = invoke(
        REFUND,
        {
            "input": {
                "refundId": "r-1",
                "orderId": "o-1",
                "amount": {"amount": "60.25", "currency": "EUR"},
            }
        },
        SERVICE,
    ).data["refundOrder"]
    assert refund["entry"]["points"] == -60  # 20 left in the lot, 40 owed
    assert refund["entry"]["balanceAfter"] == -40

    adjusted = invoke(
        ADJUST,
        {
            "input": {
                "customerId": "cust-1",
                "points": 100,
                "reason": "Apology",
                "idempotencyKey": "a-1",
            }
        },
        ADMIN,
    ).data["adjustPoints"]
    assert adjusted["entry"]["balanceAfter"] == 60

    expired = invoke(ADVANCE, {"days": 400}, ADMIN).data["advanceTestClock"]
    assert expired["maintenance"]["pointsExpired"] == 60
    history = invoke(HOME).data["me"]["points"]["history"]["edges"]
    assert [e["node"]["kind"] for e in history] == ["EXPIRE", "ADJUST", "REFUND", "REDEEM", "EARN"]
    assert [e["node"]["balanceAfter"] for e in history] == [0, 60, -40, 20, 120]

    order = invoke(
        '{ order(id: "o-1") { pointsEarned pointsReversed refunded { amount } } }', None, SERVICE
    ).data["order"]
    assert order == {"pointsEarned": 120, "pointsReversed": 60, "refunded": {"amount": "60.25"}}
    admin_view = invoke(
        "query($c: String!) { member(customerId: $c) { id points { balance } } }",
        {"c": "cust-1"},
        ADMIN,
    ).data["member"]
    assert admin_view == {"id": member_id, "points": {"balance": 0}}


def test_history_is_a_relay_connection(invoke: Invoke) -> None:
    invoke(ENROLL, enroll_input(), SERVICE)
    for i in range(5):
        invoke(RECORD_ORDER, order_input(f"o-{i}", "10"), SERVICE)
    query = """query($after: String) { me { points { history(first: 2, after: $after) {
      edges { cursor node { orderId } } pageInfo { hasNextPage endCursor } } } } }"""
    seen: list[str] = []
    after = None
    while True:
        page = invoke(query, {"after": after}).data["me"]["points"]["history"]
        seen += [e["node"]["orderId"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["o-4", "o-3", "o-2", "o-1", "o-0"]
    bad = invoke(query, {"after": "not-a-cursor"})
    assert bad.error_codes == ["INVALID_INPUT"]


def test_queries_over_get(invoke: Invoke) -> None:
    invoke(ENROLL, enroll_input(), SERVICE)
    response = invoke("query { me { points { balance } } }", method="GET")
    assert response.status == 200
    assert response.data == {"me": {"points": {"balance": 0}}}
    mutation = invoke(ENROLL, enroll_input("cust-9"), SERVICE, method="GET")
    assert mutation.status == 405  # refused, not run (GraphQL over HTTP)
    assert mutation.headers["allow"] == "POST"
    assert mutation.error_codes == ["METHOD_NOT_ALLOWED"]
    member = invoke('{ member(customerId: "cust-9") { id } }', None, SERVICE)
    assert member.data == {"member": None}


def test_the_lambda_entry_point(
    services: Services, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """handlers/graphql.py itself: configured from the environment, JSON logs, EMF metrics."""
    monkeypatch.setenv("STAGE", "dev")
    monkeypatch.setenv("TABLE_NAME", services.config.table_name)
    module = importlib.import_module("handlers.graphql")
    metrics.clear_metrics()  # what other tests' domain calls left in the buffer
    invoke = invoker(module.handler)
    enrolled = invoke(ENROLL, enroll_input(), SERVICE).data["enrollMember"]
    assert enrolled["__typename"] == "MemberEnrolled"
    assert (
        invoke(RECORD_ORDER, order_input("o-1", "42"), SERVICE).data["recordOrder"]["entry"][
            "points"
        ]
        == 42
    )
    refused = invoke(REDEEM, {"input": {"points": 500, "reference": "r", "idempotencyKey": "k"}})
    assert refused.data["redeemPoints"]["code"] == "INSUFFICIENT_POINTS"
    raw = module.handler(http_api_event("{ me { id } }", None, MEMBER), FakeLambdaContext())
    assert json.loads(raw["body"])["data"]["me"]["id"] == enrolled["member"]["id"]

    records = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("{") and '"_aws"' in line
    ]
    emitted: dict[tuple[str, tuple[str, ...]], float] = {}
    for record in records:
        emf = record["_aws"]["CloudWatchMetrics"][0]
        dimensions = tuple(d for ds in emf["Dimensions"] for d in ds if d != "service")
        for metric in emf["Metrics"]:
            values = record[metric["Name"]]
            key = (metric["Name"], dimensions)
            emitted[key] = emitted.get(key, 0) + sum(
                values if isinstance(values, list) else [values]
            )
    assert emitted[("PointsEarned", ())] == 42
    assert emitted[("OrdersRecorded", ())] == 1
    assert emitted[("Errors", ("code",))] == 1
    assert any(r.get("code") == "INSUFFICIENT_POINTS" for r in records)
