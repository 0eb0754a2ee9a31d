"""Tiers through the API: an admin sets the ladder, orders move a member up, the member sees
tier, progress and history, the preview, a tier set by hand, and the test clock's reviews."""

from __future__ import annotations

from typing import Any

import pytest

from api.services import Services
from tests.graphql.conftest import ADMIN, MEMBER, RECORD_ORDER, SERVICE, Invoke, order_input
from tests.support import enroll

UPDATE_TIERS = """mutation Tiers($input: UpdateTiersInput!) {
  updateTiers(input: $input) {
    __typename
    ... on TiersUpdated { tiers { tiers { code name threshold multiplier perks entryBonus }
                                  metric window downgradePolicy graceDays } }
    ... on UserError { code message }
    ... on InvalidInput { field }
  }
}"""

LADDER: dict[str, Any] = {
    "input": {
        "tiers": [
            {"code": "BRONZE", "name": "Bronze", "threshold": "0"},
            {
                "code": "SILVER",
                "name": "Silver",
                "threshold": "100",
                "multiplier": "1.25",
                "perks": ["Free shipping"],
                "entryBonus": 50,
            },
            {"code": "GOLD", "name": "Gold", "threshold": "500", "multiplier": "1.5"},
        ],
        "window": "ROLLING_12_MONTHS",
        "downgradePolicy": "ONE_TIER",
        "graceDays": 14,
    }
}

MY_TIER = """{
  me {
    tier {
      tier { code name perks }
      since validUntil multiplier heldUntil
      progress { metric window value nextTier { code } toNext reviewAt valueAtReview toKeep }
      history(first: 5) { edges { cursor node { fromCode toCode reason orderId at } }
                          pageInfo { hasNextPage endCursor } }
    }
  }
}"""

PREVIEW = """query Preview($total: MoneyInput!) {
  earnPreview(total: $total) { points basePoints multiplier tierNow { code } tierAfter { code }
                               upgrade }
}"""

SET_TIER = """mutation Set($input: SetMemberTierInput!) {
  setMemberTier(input: $input) {
    __typename
    ... on MemberTierSet { member { tier { tier { code } heldUntil } }
                           change { fromCode toCode reason note actor } }
    ... on UserError { code message }
    ... on InvalidInput { field }
  }
}"""


@pytest.fixture
def ladder(invoke: Invoke, services: Services) -> None:
    result = invoke(UPDATE_TIERS, LADDER, ADMIN).data["updateTiers"]
    assert result["__typename"] == "TiersUpdated", result
    enroll(services, "cust-1")


def test_an_order_moves_the_member_up_and_the_member_sees_why(invoke: Invoke, ladder: None) -> None:
    preview = invoke(PREVIEW, {"total": {"amount": "120.00", "currency": "EUR"}}, MEMBER).data
    assert preview["earnPreview"] == {
        "points": 120,
        "basePoints": 120,
        "multiplier": "1",
        "tierNow": {"code": "BRONZE"},
        "tierAfter": {"code": "SILVER"},
        "upgrade": True,
    }
    recorded = invoke(RECORD_ORDER, order_input("o-1", "120.00"), SERVICE).data["recordOrder"]
    assert recorded["__typename"] == "OrderRecorded"
    tier = invoke(MY_TIER, None, MEMBER).data["me"]["tier"]
    assert tier["tier"] == {"code": "SILVER", "name": "Silver", "perks": ["Free shipping"]}
    assert tier["multiplier"] == "1.25"
    assert tier["heldUntil"] is None
    progress = tier["progress"]
    assert progress["value"] == "120"
    assert progress["nextTier"] == {"code": "GOLD"}
    assert progress["toNext"] == "380"
    assert progress["toKeep"] == "100"  # today's order leaves the window before the review
    edges = tier["history"]["edges"]
    assert [(e["node"]["fromCode"], e["node"]["toCode"], e["node"]["reason"]) for e in edges] == [
        ("BRONZE", "SILVER", "QUALIFIED")
    ]
    # Silver's multiplier on the next order.
    second = invoke(RECORD_ORDER, order_input("o-2", "100.00"), SERVICE).data["recordOrder"]
    assert second["entry"]["points"] == 125


def test_an_admin_sets_a_tier_by_hand_and_the_test_clock_reviews_it(
    invoke: Invoke, ladder: None
) -> None:
    variables = {
        "input": {
            "customerId": "cust-1",
            "tier": "GOLD",
            "reason": "Press partner",
            "until": "2026-04-01T00:00:00Z",
            "idempotencyKey": "set-gold",
        }
    }
    result = invoke(SET_TIER, variables, ADMIN).data["setMemberTier"]
    assert result["__typename"] == "MemberTierSet", result
    assert result["member"]["tier"] == {
        "tier": {"code": "GOLD"},
        "heldUntil": "2026-04-01T00:00:00+00:00",
    }
    assert result["change"]["reason"] == "MANUAL"
    assert result["change"]["note"] == "Press partner"
    assert invoke(SET_TIER, variables, ADMIN).data["setMemberTier"] == result  # a replay
    moved = invoke(
        "mutation { advanceTestClock(input: {days: 32}) { __typename "
        "... on TestClockAdvanced { maintenance { tiersReviewed tiersLowered } } } }",
        None,
        ADMIN,
    ).data["advanceTestClock"]
    assert moved["maintenance"] == {"tiersReviewed": 1, "tiersLowered": 1}
    tier = invoke(MY_TIER, None, MEMBER).data["me"]["tier"]
    assert tier["tier"]["code"] == "SILVER"
    assert tier["heldUntil"] is None
    counts = invoke("{ tierDistribution { tier { code } members } }", None, ADMIN).data
    assert [c["tier"]["code"] for c in counts["tierDistribution"]] == ["BRONZE", "SILVER", "GOLD"]


@pytest.mark.parametrize(
    ("tiers", "field"),
    [
        ([{"code": "B", "name": "B", "threshold": "10"}], "tiers[0].threshold"),
        (
            [
                {"code": "B", "name": "B", "threshold": "0"},
                {"code": "S", "name": "S", "threshold": "0"},
            ],
            "tiers[1].threshold",
        ),
        (
            [
                {"code": "B", "name": "B", "threshold": "0"},
                {"code": "S", "name": "b", "threshold": "5"},
            ],
            "tiers[1].name",
        ),
        (
            [
                {"code": "B", "name": "B", "threshold": "0"},
                {"code": "S", "name": "S", "threshold": "5", "multiplier": "10.5"},
            ],
            "tiers[1].multiplier",
        ),
        ([{"code": "b!", "name": "B", "threshold": "0"}], "tiers[0].code"),
    ],
)
def test_invalid_ladders_are_typed_errors(
    invoke: Invoke, tiers: list[dict[str, Any]], field: str
) -> None:
    result = invoke(UPDATE_TIERS, {"input": {"tiers": tiers}}, ADMIN).data["updateTiers"]
    assert (result["__typename"], result["code"], result["field"]) == (
        "InvalidInput",
        "INVALID_INPUT",
        field,
    )
    assert invoke("{ tiers { tiers { code } } }", None, ADMIN).data["tiers"]["tiers"] == []
