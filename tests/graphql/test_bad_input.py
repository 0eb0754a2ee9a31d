"""Bad input gets a typed error, never a 500 or a stack trace, and writes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from api.ids import member_id_for
from api.services import Services
from tests.graphql.conftest import (
    ENROLL,
    RECORD_ORDER,
    REDEEM,
    SERVICE,
    Invoke,
    enroll_input,
    order_input,
)
from tests.support import ADMIN as ADMIN_PRINCIPAL
from tests.support import SERVICE as SERVICE_PRINCIPAL
from tests.support import enroll, ledger_entries, order, stored_member

BIG = "x" * 100_000
RESOLVE_FOLLOW_UP = """mutation($input: ResolveFollowUpInput!) {
  resolveFollowUp(input: $input) { __typename } }"""


def order_with(**changes: Any) -> dict[str, Any]:
    variables = order_input("o-new", "10.00")
    variables["input"].update(changes)
    return variables


# (mutation, variables, the union member's typename and code, or None for a GraphQL error)
UNION_CASES = {
    "negative amount": (
        RECORD_ORDER,
        order_with(total={"amount": "-5", "currency": "EUR"}),
        ("InvalidInput", "INVALID_INPUT", "total.amount"),
    ),
    "absurd amount": (
        RECORD_ORDER,
        order_with(total={"amount": "1" + "0" * 20, "currency": "EUR"}),
        ("InvalidInput", "INVALID_INPUT", "total.amount"),
    ),
    "too many decimals": (
        RECORD_ORDER,
        order_with(total={"amount": "1.999", "currency": "EUR"}),
        ("InvalidInput", "INVALID_INPUT", "total.amount"),
    ),
    "unknown currency": (
        RECORD_ORDER,
        order_with(total={"amount": "1", "currency": "ZZZ"}),
        ("InvalidInput", "UNSUPPORTED_CURRENCY", "total.currency"),
    ),
    "unknown member": (
        RECORD_ORDER,
        order_with(customerId="nobody"),
        ("MemberNotFound", "MEMBER_NOT_FOUND", None),
    ),
    "malformed member id": (
        RECORD_ORDER,
        order_with(customerId=None, memberId="mbr_x"),
        ("InvalidInput", "INVALID_INPUT", "memberId"),
    ),
    "both member and customer": (
        RECORD_ORDER,
        order_with(memberId=member_id_for("cust-1")),
        ("InvalidInput", "INVALID_INPUT", "memberId"),
    ),
    "malformed order id": (
        RECORD_ORDER,
        order_with(orderId="o 1; DROP TABLE"),
        ("InvalidInput", "INVALID_INPUT", "orderId"),
    ),
    "oversized order id": (
        RECORD_ORDER,
        order_with(orderId=BIG),
        ("InvalidInput", "INVALID_INPUT", "orderId"),
    ),
    **{
        f"placedAt {value}": (
            RECORD_ORDER,
            order_with(placedAt=value),
            ("InvalidInput", "INVALID_INPUT", "placedAt"),
        )
        for value in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00")
    },
    **{
        f"time zone {zone!r}": (
            ENROLL,
            enroll_input("cust-3", timeZone=zone),
            ("InvalidInput", "INVALID_INPUT", "timeZone"),
        )
        for zone in ("America", "Etc", "America/", "posix/Europe/Paris", "localtime", "zone.tab")
    },
    **{
        f"email {email!r}": (
            ENROLL,
            enroll_input("cust-3", email=email),
            ("InvalidInput", "INVALID_INPUT", "email"),
        )
        for email in (
            "a\x00b@example.com",
            "a\x1bb@example.com",
            "evil\u202emoc.elgoog@example.com",
            "\ud800@example.com",
            " alice@example.com ",
            "alice@exämple.com",
            "al..ice@example.com",
        )
    },
    "name with a lone surrogate": (
        ENROLL,
        enroll_input("cust-3", name="Al\udcffce"),
        ("InvalidInput", "INVALID_INPUT", "name"),
    ),
    "consent given in year 1": (
        ENROLL,
        enroll_input(
            "cust-3",
            consents=[
                {
                    "channel": "EMAIL",
                    "granted": True,
                    "source": "x",
                    "givenAt": "0001-01-01T00:00:00Z",
                }
            ],
        ),
        ("InvalidInput", "INVALID_INPUT", "consents[0].givenAt"),
    ),
    "oversized line sku": (
        RECORD_ORDER,
        order_with(lines=[{"sku": BIG, "quantity": 1, "unitPrice": "1"}]),
        ("InvalidInput", "INVALID_INPUT", "lines[0].sku"),
    ),
    "zero quantity": (
        RECORD_ORDER,
        order_with(lines=[{"sku": "A", "quantity": 0, "unitPrice": "1"}]),
        ("InvalidInput", "INVALID_INPUT", "lines[0].quantity"),
    ),
    "invalid time zone": (
        ENROLL,
        enroll_input("cust-3", timeZone="Nowhere/Land"),
        ("InvalidInput", "INVALID_INPUT", "timeZone"),
    ),
    "oversized name": (
        ENROLL,
        enroll_input("cust-3", name=BIG),
        ("InvalidInput", "INVALID_INPUT", "name"),
    ),
    "zero points": (
        REDEEM,
        {"input": {"customerId": "cust-1", "points": 0, "reference": "r", "idempotencyKey": "k"}},
        ("InvalidInput", "INVALID_INPUT", "points"),
    ),
    "oversized reason": (
        REDEEM,
        {
            "input": {
                "customerId": "cust-1",
                "points": 1,
                "reference": "r",
                "idempotencyKey": "k",
                "reason": BIG,
            }
        },
        ("InvalidInput", "INVALID_INPUT", "reason"),
    ),
    "more points than available": (
        REDEEM,
        {
            "input": {
                "customerId": "cust-1",
                "points": 10**9,
                "reference": "r",
                "idempotencyKey": "k",
            }
        },
        ("InsufficientPoints", "INSUFFICIENT_POINTS", None),
    ),
}

GRAPHQL_ERROR_CASES = {
    "amount not a number": (RECORD_ORDER, order_with(total={"amount": "ten", "currency": "EUR"})),
    **{
        f"amount {amount!r}": (
            RECORD_ORDER,
            order_with(total={"amount": amount, "currency": "EUR"}),
        )
        for amount in (
            "1_000",
            "  12.5  ",
            "\u0661\u0662",
            "\uff11\uff12",
            "1e3",
            "NaN",
            "Infinity",
            "012",
            ".5",
            12.5,
        )
    },
    "placedAt not a date": (RECORD_ORDER, order_with(placedAt="yesterday")),
    **{
        f"placedAt {value!r}": (RECORD_ORDER, order_with(placedAt=value))
        for value in (
            "2026-03-01T12:00:00",
            "2026-03-01",
            "20260301T120000Z",
            "2026-W09",
            "2026-03-01T1x:00:00Z",
            "2026-02-30T12:00:00Z",
            "2026-03-01T12:00:00+24:00",
            "\u0662\u0660\u0662\u0666-03-01T12:00:00Z",
        )
    },
    "points beyond Int": (
        REDEEM,
        {
            "input": {
                "customerId": "cust-1",
                "points": 2**31,
                "reference": "r",
                "idempotencyKey": "k",
            }
        },
    ),
    "points as a string": (
        REDEEM,
        {"input": {"customerId": "cust-1", "points": "5", "reference": "r", "idempotencyKey": "k"}},
    ),
    "goodwill points beyond Int": (
        RESOLVE_FOLLOW_UP,
        {"input": {"id": "fu_ans_1", "note": "n", "goodwillPoints": 2**31, "idempotencyKey": "k"}},
    ),
    "goodwill points as a string": (
        RESOLVE_FOLLOW_UP,
        {"input": {"id": "fu_ans_1", "note": "n", "goodwillPoints": "5", "idempotencyKey": "k"}},
    ),
    "unknown follow-up listing": ("{ followUps(status: LATE) { edges { cursor } } }", None),
    "missing required field": (RECORD_ORDER, {"input": {"orderId": "o-new"}}),
    "missing variables": (RECORD_ORDER, None),
    "syntax error": ("mutation { recordOrder(input: {", None),
    "unknown field": ("{ me { password } }", None),
    "unknown enum value": (
        ENROLL,
        enroll_input(
            "cust-3", consents=[{"channel": "CARRIER_PIGEON", "granted": True, "source": "x"}]
        ),
    ),
}

RAW_BODIES = {
    "not JSON": "{query: me}",
    "empty body": "",
    "JSON array": "[1, 2, 3]",
    "query not a string": json.dumps({"query": 42}),
    "null query": json.dumps({"query": None}),
    "variables not an object": json.dumps({"query": "{ me { id } }", "variables": "x"}),
}


@pytest.fixture
def seeded(services: Services) -> Any:
    enroll(services, "cust-1")
    order(services, "o-1", "100")

    def snapshot() -> Any:
        member_id = member_id_for("cust-1")
        return (
            stored_member(member_id).version,
            len(ledger_entries(member_id)),
            services.orders.get_order(ADMIN_PRINCIPAL, "o-new"),
            services.member_views.view(SERVICE_PRINCIPAL, member_id_for("cust-3"), None),
        )

    return snapshot


@pytest.mark.parametrize("case", UNION_CASES)
def test_expected_failures_are_union_members_with_codes(
    invoke: Invoke, seeded: Any, case: str
) -> None:
    document, variables, (typename, code, field) = UNION_CASES[case]
    before = seeded()
    response = invoke(document, variables, SERVICE)
    assert response.status == 200
    result = next(iter(response.data.values()))
    assert result["__typename"] == typename, response.raw
    assert result["code"] == code
    assert result["message"]
    assert result.get("field") == field
    assert seeded() == before


@pytest.mark.parametrize("case", GRAPHQL_ERROR_CASES)
def test_malformed_requests_are_graphql_errors(invoke: Invoke, seeded: Any, case: str) -> None:
    document, variables = GRAPHQL_ERROR_CASES[case]
    before = seeded()
    response = invoke(document, variables, SERVICE)
    assert response.status in (200, 400)
    errors = response.body["errors"]
    assert errors
    assert all(e["message"] and "Unexpected" not in e["message"] for e in errors)
    assert all(e.get("extensions", {}).get("code") for e in errors), errors
    assert "Traceback" not in response.raw
    assert "invalid literal" not in response.raw
    assert seeded() == before


@pytest.mark.parametrize("case", RAW_BODIES)
def test_malformed_bodies_are_client_errors(invoke: Invoke, seeded: Any, case: str) -> None:
    before = seeded()
    response = invoke("", None, SERVICE, raw_body=RAW_BODIES[case])
    assert 400 <= response.status < 500, response.raw
    assert "Traceback" not in response.raw
    assert seeded() == before
