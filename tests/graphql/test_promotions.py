"""Promotions through the API: an admin sets them up, checkout evaluates, reserves, the order
commits, a refund gives back; members see what is open to them; bad input is typed."""

from __future__ import annotations

from typing import Any

import pytest

from api.services import Services
from tests.graphql.conftest import ADMIN, MEMBER, SERVICE, Invoke, order_input
from tests.support import ADMIN as ADMIN_PRINCIPAL
from tests.support import enroll

CREATE = """mutation Create($input: PromotionInput!) {
  createPromotion(input: $input) {
    __typename
    ... on PromotionSaved { promotion { id status code effect { kind percent } } }
    ... on UserError { code message }
    ... on InvalidInput { field }
  }
}"""

EVALUATE = """query Evaluate($cart: CartInput!) {
  evaluateCart(cart: $cart) {
    subtotal { amount } discount { amount } shipping { amount } shippingDiscount { amount }
    total { amount currency }
    lines { sku discount { amount } total { amount } }
    applied { promotionId kind discount { amount } lines { line sku amount { amount } } points }
    notApplied { promotionId reason detail code }
    hints { promotionId missing { amount currency } message }
    points { base tierMultiplier promotions total }
  }
}"""

RESERVE = """mutation Reserve($input: ReserveCartInput!) {
  reserveCart(input: $input) {
    __typename
    ... on CartReserved { reservation { id status expiresAt
        evaluation { total { amount } notApplied { promotionId reason } } } }
    ... on UserError { code message }
    ... on InvalidInput { field }
  }
}"""

COMMIT = """mutation Commit($id: ID!, $order: RecordOrderInput!) {
  commitReservation(reservationId: $id, order: $order) {
    __typename ... on OrderRecorded { order { id } } ... on UserError { code message }
  }
}"""

PROMOTIONS: list[dict[str, Any]] = [
    {
        "id": "spring-15",
        "name": "15% off shoes",
        "effect": {"kind": "PERCENT_OFF", "target": "LINES", "percent": "15"},
        "conditions": {"categories": ["shoes"]},
        "priority": 10,
    },
    {
        "id": "ship-free",
        "name": "Free shipping from 50 EUR",
        "currency": "EUR",
        "effect": {"kind": "FREE_SHIPPING", "target": "SHIPPING"},
        "conditions": {"minSubtotal": "50.00"},
        "stacking": "UNIVERSAL",
    },
    {
        "id": "welcome",
        "name": "Welcome 5 EUR",
        "currency": "EUR",
        "activation": "CODE",
        "code": "welcome5",
        "effect": {"kind": "AMOUNT_OFF", "amount": "5.00"},
        "limits": {"perCode": 1},
    },
]


def cart(**extra: Any) -> dict[str, Any]:
    return {
        "cart": {
            "currency": "EUR",
            "shipping": "4.90",
            "lines": [
                {"sku": "SHOE-1", "quantity": 1, "unitPrice": "39.99", "category": "shoes"},
                {"sku": "SOCK-1", "quantity": 3, "unitPrice": "3.33", "category": "socks"},
            ],
            **extra,
        }
    }


@pytest.fixture
def promotions(invoke: Invoke, services: Services) -> None:
    enroll(services, "cust-1")
    for p in PROMOTIONS:
        result = invoke(CREATE, {"input": p}, ADMIN).data["createPromotion"]
        assert result["__typename"] == "PromotionSaved", result


def test_a_cart_is_evaluated_allocated_and_explained(invoke: Invoke, promotions: None) -> None:
    body = invoke(EVALUATE, cart(codes=["WELCOME5", "nope-1"]), SERVICE).data["evaluateCart"]
    assert body["subtotal"]["amount"] == "49.98"
    applied = {a["promotionId"]: a for a in body["applied"]}
    assert set(applied) == {"spring-15", "welcome"}
    assert applied["spring-15"]["discount"]["amount"] == "6.00"  # 15% of 39.99, rounded
    assert [(x["sku"], x["amount"]["amount"]) for x in applied["spring-15"]["lines"]] == [
        ("SHOE-1", "6.00")
    ]
    # 5 EUR off what was left (43.98), allocated to both lines; the allocations sum exactly.
    welcome = applied["welcome"]
    assert sum(float(x["amount"]["amount"]) for x in welcome["lines"]) == pytest.approx(5.00)
    assert body["discount"]["amount"] == "11.00"
    reasons = {n["promotionId"]: n["reason"] for n in body["notApplied"]}
    assert reasons == {"ship-free": "MIN_SUBTOTAL", "code:NOPE-1": "CODE_UNKNOWN"}
    assert body["hints"][0]["missing"] == {"amount": "11.02", "currency": "EUR"}
    assert body["hints"][0]["message"] == "11.02 EUR more for Free shipping from 50 EUR"
    assert body["total"] == {"amount": "43.88", "currency": "EUR"}  # 49.98 - 11.00 + 4.90


def test_checkout_end_to_end_with_a_single_use_code(invoke: Invoke, promotions: None) -> None:
    reserve = {"input": {"idempotencyKey": "cart-1", **cart(codes=["welcome5"])}}
    reserved = invoke(RESERVE, reserve, MEMBER).data["reserveCart"]
    assert reserved["__typename"] == "CartReserved", reserved
    reservation = reserved["reservation"]
    assert reservation["status"] == "HELD"
    assert invoke(RESERVE, reserve, MEMBER).data["reserveCart"] == reserved  # a replay
    again = invoke(
        RESERVE, {"input": {"idempotencyKey": "cart-2", **cart(codes=["welcome5"])}}, MEMBER
    )
    refused = {n["promotionId"]: n["reason"] for n in _not_applied(again.data["reserveCart"])}
    assert refused.get("welcome") == "CODE_USED_UP"  # one use per code, held
    order = order_input("o-1", "38.98")["input"]
    commit = {"id": reservation["id"], "order": order}
    recorded = invoke(COMMIT, commit, SERVICE).data["commitReservation"]
    assert recorded == {"__typename": "OrderRecorded", "order": {"id": "o-1"}}, recorded
    assert invoke(COMMIT, commit, SERVICE).data["commitReservation"] == recorded  # a replay
    other = invoke(COMMIT, {**commit, "order": {**order, "orderId": "o-2"}}, SERVICE)
    assert other.data["commitReservation"]["code"] == "INVALID_INPUT"  # committed already
    # A full refund gives the code's use back: another cart can use it.
    refund = {"input": {"refundId": "r-1", "orderId": "o-1", "amount": order["total"]}}
    refunded = invoke(
        "mutation($input: RefundOrderInput!) { refundOrder(input: $input) { __typename } }",
        refund,
        SERVICE,
    )
    assert refunded.data["refundOrder"]["__typename"] == "OrderRefunded", refunded.raw
    again = invoke(
        RESERVE, {"input": {"idempotencyKey": "cart-3", **cart(codes=["welcome5"])}}, MEMBER
    )
    assert "welcome" not in {n["promotionId"] for n in _not_applied(again.data["reserveCart"])}


def _not_applied(result: dict[str, Any]) -> list[dict[str, Any]]:
    not_applied: list[dict[str, Any]] = result["reservation"]["evaluation"]["notApplied"]
    return not_applied


def test_members_see_the_promotions_open_to_them(invoke: Invoke, promotions: None) -> None:
    body = invoke(
        "{ me { promotions { promotion { id name } opensAt earlyAccess } } }", None, MEMBER
    )
    ids = [p["promotion"]["id"] for p in body.data["me"]["promotions"]]
    assert ids == ["spring-15", "ship-free"]  # automatic ones; codes stay private


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"effect": {"kind": "PERCENT_OFF", "percent": "150"}}, "effect.percent"),
        ({"effect": {"kind": "PERCENT_OFF", "percent": "0"}}, "effect.percent"),
        ({"effect": {"kind": "AMOUNT_OFF", "amount": "5"}}, "currency"),
        ({"currency": "EUR", "effect": {"kind": "AMOUNT_OFF", "amount": "5.001"}}, "effect.amount"),
        ({"id": "Bad Id"}, "id"),
        ({"name": "\u202eevil"}, "name"),
        ({"code": "X"}, "code"),
        ({"activation": "CODE", "code": "bad code!"}, "code"),
        (
            {"schedule": {"startsAt": "2026-05-02T00:00:00Z", "endsAt": "2026-05-01T00:00:00Z"}},
            "schedule.endsAt",
        ),
        ({"schedule": {"earlyAccess": [{"tier": "GOLD", "hours": 24}]}}, "schedule.earlyAccess"),
        ({"conditions": {"minTier": "DIAMOND"}}, "conditions.minTier"),
        ({"conditions": {"skus": ["A", "B"], "excludeSkus": ["B"]}}, "conditions.excludeSkus"),
        (
            {"conditions": {"categories": ["x"], "excludeCategories": ["x"]}},
            "conditions.excludeCategories",
        ),
        ({"schedule": {"startsAt": "0001-01-01T00:00:00+01:00"}}, "schedule.startsAt"),
        ({"limits": {"totalUses": 0}}, "limits.totalUses"),
        ({"limits": {"perCode": 1}}, "limits.perCode"),
        ({"currency": "ZZZ"}, "currency"),
        ({"priority": 5000}, "priority"),
        ({"effect": {"kind": "BUY_X_GET_Y", "buy": 2, "get": 0, "target": "LINES"}}, "effect.get"),
        (
            {"effect": {"kind": "POINTS_MULTIPLIER", "target": "LINES", "multiplier": "1.005"}},
            "effect.multiplier",
        ),
        ({"effect": {"kind": "PERCENT_OFF", "percent": "12.345"}}, "effect.percent"),
    ],
)
def test_bad_promotions_are_typed_errors_and_nothing_is_written(
    invoke: Invoke, change: dict[str, Any], field: str
) -> None:
    base = {"id": "p-1", "name": "P", "effect": {"kind": "PERCENT_OFF", "percent": "10"}}
    result = invoke(CREATE, {"input": {**base, **change}}, ADMIN).data["createPromotion"]
    assert (result["__typename"], result.get("field")) == ("InvalidInput", field), result
    assert invoke("{ promotions { id } }", None, ADMIN).data["promotions"] == []


@pytest.mark.parametrize(
    ("lines", "extra"),
    [
        ([], {}),
        ([{"sku": "A", "quantity": 0, "unitPrice": "1"}], {}),
        ([{"sku": "A", "quantity": 10**6, "unitPrice": "1"}], {}),
        ([{"sku": "A", "quantity": 1, "unitPrice": "-1"}], {}),
        ([{"sku": "A", "quantity": 1, "unitPrice": "1.001"}], {}),
        ([{"sku": "A b", "quantity": 1, "unitPrice": "1"}], {}),
        ([{"sku": "A", "quantity": 1, "unitPrice": "1"}] * 201, {}),
        ([{"sku": "A", "quantity": 1, "unitPrice": "1"}], {"currency": "ZZZ"}),
        ([{"sku": "A", "quantity": 1, "unitPrice": "1"}], {"codes": ["x" * 100]}),
        ([{"sku": "A", "quantity": 1, "unitPrice": "1"}], {"codes": ["CÖDE"]}),
        ([{"sku": "A", "quantity": 1, "unitPrice": "1"}], {"shipping": "-1"}),
        ([{"sku": "A", "quantity": 1, "unitPrice": "1"}], {"shipping": "0.001"}),
        ([{"sku": "A", "quantity": 1, "unitPrice": "1" + "0" * 30}], {}),
        ([{"sku": "A", "quantity": 1, "unitPrice": "1"}], {"codes": ["SUMMER\u202e10"]}),
        ([{"sku": "A", "quantity": 1, "unitPrice": "1"}], {"codes": ["SUMMER\u000010"]}),
        ([{"sku": "A", "quantity": 1, "unitPrice": "1"}], {"codes": [""]}),
        ([{"sku": "A", "quantity": 1, "unitPrice": "1"}], {"codes": ["A"] * 6}),
        ([{"sku": "", "quantity": 1, "unitPrice": "1"}], {}),
        ([{"sku": "A", "quantity": 1, "unitPrice": "1", "category": "\ud800"}], {}),
        ([{"sku": "A", "quantity": 1, "unitPrice": "1"}], {"customerId": "nobody"}),
        ([{"sku": "A", "quantity": 1, "unitPrice": "1"}], {"currency": "JPY"}),
    ],
)
def test_bad_carts_are_typed_errors_and_nothing_is_held(
    invoke: Invoke, services: Services, lines: list[dict[str, Any]], extra: dict[str, Any]
) -> None:
    enroll(services, "cust-1")
    for p in PROMOTIONS:
        invoke(CREATE, {"input": p}, ADMIN)
    cart = {"currency": "EUR", "lines": lines, **extra}
    response = invoke(EVALUATE, {"cart": cart}, SERVICE)
    expected = {"INVALID_INPUT", "UNSUPPORTED_CURRENCY", "MEMBER_NOT_FOUND"}
    assert len(response.error_codes) == 1, response.raw
    assert set(response.error_codes) <= expected, response.raw
    reserve = {"input": {"idempotencyKey": "k", "cart": cart}}
    refused = invoke(RESERVE, reserve, SERVICE).data["reserveCart"]
    assert refused["code"] in expected, refused
    assert {services.promotions.get(ADMIN_PRINCIPAL, p["id"]).usage.uses for p in PROMOTIONS} == {0}
