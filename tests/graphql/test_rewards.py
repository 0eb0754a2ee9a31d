"""Rewards through the API: an admin sets up the catalog and a pool, members page through it,
redeem each kind (idempotently), see what they got as it stands, use a code at checkout and
cancel; the shop fulfils a perk. Bad input is a typed error that writes nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from api.rewards import store as rewards_store
from api.services import Services
from api.store import reads
from api.store.base import TableItem
from api.stream import Change
from tests.graphql.conftest import ADMIN, MEMBER, OTHER_MEMBER, SERVICE, Invoke
from tests.rewards.conftest import credit
from tests.support import ADMIN as ADMIN_PRINCIPAL
from tests.support import enroll
from tests.tiers.test_tiers import config_input

PROMOTION = """mutation($input: PromotionInput!) {
  createPromotion(input: $input) { __typename ... on UserError { code message } }
}"""

SAVED = """
    __typename
    ... on RewardSaved { reward {
      reward { id name pointsCost type minTier imageUrl memberLimit { count period } }
      active archived stock claimed pooled remaining lowStock isLow promotionId validityDays
    } }
    ... on UserError { code message }
    ... on InvalidInput { field }
"""
CREATE = "mutation($input: RewardInput!) { createReward(input: $input) {" + SAVED + "} }"
UPDATE = "mutation($input: RewardInput!) { updateReward(input: $input) {" + SAVED + "} }"
DETAILS = """query($id: ID!) { reward(id: $id) { stock claimed pooled remaining isLow } }"""

REDEEM = """mutation($input: RedeemRewardInput!) {
  redeemReward(input: $input) {
    __typename
    ... on RewardRedeemed { redemption {
      id rewardId rewardName type points status code expiresAt } }
    ... on RewardUnavailable { reason }
    ... on InsufficientPoints { requested available }
    ... on UserError { code message }
    ... on InvalidInput { field }
  }
}"""
CANCEL = """mutation($id: ID!) {
  cancelRedemption(id: $id) {
    __typename
    ... on RedemptionCancelled { redemption { id status } }
    ... on UserError { code message }
    ... on InvalidInput { field }
  }
}"""
FULFIL = """mutation($id: ID!) {
  fulfilRedemption(id: $id) {
    __typename
    ... on RedemptionFulfilled { redemption { id status } }
    ... on UserError { code message }
    ... on InvalidInput { field }
  }
}"""
UPLOAD = """mutation($input: UploadRewardCodesInput!) {
  uploadRewardCodes(input: $input) {
    __typename
    ... on RewardCodesUploaded { upload { id status received repeated } }
    ... on UserError { code message }
    ... on InvalidInput { field }
  }
}"""
UPLOADS = """query($id: ID!) {
  rewardUploads(rewardId: $id) { status received repeated processed added duplicates }
}"""
OFFERS = """query($first: Int!, $after: String) {
  rewards(first: $first, after: $after) {
    edges { cursor node {
      reward { id } remaining unlocked affordable pointsShort redeemable unavailable } }
    pageInfo { hasNextPage endCursor }
  }
}"""
MINE = """query($first: Int!, $after: String) {
  myRewards(first: $first, after: $after) {
    edges { cursor node { id rewardId status code expiresAt points } }
    pageInfo { hasNextPage endCursor }
  }
}"""
EVALUATE = """query($cart: CartInput!) {
  evaluateCart(cart: $cart) { applied { promotionId } notApplied { promotionId reason } }
}"""
RESERVE = """mutation($input: ReserveCartInput!) {
  reserveCart(input: $input) { __typename ... on UserError { code message } }
}"""
BALANCE = "{ me { points { balance } } }"
CLOCK = "mutation($days: Int!) { advanceTestClock(input: {days: $days}) { __typename } }"

VOUCHER = {
    "id": "voucher-5",
    "name": "5 EUR off",
    "currency": "EUR",
    "activation": "CODE",
    "effect": {"kind": "AMOUNT_OFF", "amount": "5.00"},
}
DISCOUNT = {
    "id": "five-off",
    "name": "5 EUR voucher",
    "pointsCost": 500,
    "type": "DISCOUNT_CODE",
    "promotionId": "voucher-5",
    "validityDays": 30,
    "stock": 100,
    "memberLimit": {"count": 2, "period": "MONTH"},
}
PERK = {"id": "tote", "name": "Tote bag", "pointsCost": 300, "type": "PERK", "stock": 3}
GIFT = {
    "id": "gift-10",
    "name": "10 EUR gift card",
    "pointsCost": 1000,
    "type": "IMPORTED_CODE",
    "lowStock": 1,
}
GOLD = {"id": "lounge", "name": "Lounge", "pointsCost": 50, "type": "PERK", "minTier": "GOLD"}


def result(response: Any) -> Any:
    """The only root field's value."""
    assert "errors" not in response.body, response.raw
    return next(iter(response.data.values()))


def redeem(invoke: Invoke, reward: str, key: str, claims: Mapping[str, Any] = MEMBER) -> Any:
    return result(invoke(REDEEM, {"input": {"rewardId": reward, "idempotencyKey": key}}, claims))


def fill_pool(services: Services, reward_id: str, upload_id: str) -> None:
    """What the table's stream does with a new upload (handlers/stream.py)."""
    item = reads.get(rewards_store.upload_key(reward_id, upload_id), rewards_store.UploadItem)
    assert item is not None
    services.reactions.dispatch(Change(f"e-{upload_id}", None, item))


def cart(code: str) -> dict[str, Any]:
    return {"currency": "EUR", "lines": [{"sku": "A", "quantity": 1, "unitPrice": "20"}]} | {
        "codes": [code]
    }


def balance(invoke: Invoke, claims: Mapping[str, Any] = MEMBER) -> int:
    points: int = result(invoke(BALANCE, None, claims))["points"]["balance"]
    return points


def table() -> list[dict[str, Any]]:
    """Every item of the table: what a refusal must leave as it was."""
    items: list[dict[str, Any]] = TableItem._get_connection().scan()["Items"]
    return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


@pytest.fixture
def shop(invoke: Invoke, services: Services) -> Services:
    services.tiers.update(ADMIN_PRINCIPAL, config_input())
    assert result(invoke(PROMOTION, {"input": VOUCHER}, ADMIN))["__typename"] == "PromotionSaved"
    for reward in (DISCOUNT, PERK, GIFT, GOLD):
        saved = result(invoke(CREATE, {"input": reward}, ADMIN))
        assert saved["__typename"] == "RewardSaved", saved
    enroll(services, "cust-1")
    enroll(services, "cust-2")
    credit(services, "cust-1", 3000)
    return services


def test_rewards_end_to_end(invoke: Invoke, shop: Services) -> None:
    # The admin's view of a new reward.
    created = result(invoke(CREATE, {"input": DISCOUNT}, ADMIN))  # a replay of the create
    assert created["reward"]["reward"]["memberLimit"] == {"count": 2, "period": "MONTH"}
    assert (created["reward"]["promotionId"], created["reward"]["remaining"]) == ("voucher-5", 100)

    # A pool: uploaded whole (a repeat left out), replayed, filled by the stream.
    codes = ["GIFT-0001", "GIFT-0002", "GIFT-0003", "GIFT-0001"]
    upload = {"input": {"rewardId": "gift-10", "idempotencyKey": "up-1", "codes": codes}}
    uploaded = result(invoke(UPLOAD, upload, ADMIN))
    assert uploaded["__typename"] == "RewardCodesUploaded", uploaded
    assert uploaded["upload"]["status"] == "PENDING"
    assert (uploaded["upload"]["received"], uploaded["upload"]["repeated"]) == (3, 1)
    assert result(invoke(UPLOAD, upload, ADMIN)) == uploaded
    other = {"input": {**upload["input"], "codes": ["GIFT-0009"]}}
    assert result(invoke(UPLOAD, other, ADMIN))["code"] == "IDEMPOTENCY_CONFLICT"
    fill_pool(shop, "gift-10", uploaded["upload"]["id"])
    [done] = result(invoke(UPLOADS, {"id": "gift-10"}, ADMIN))
    assert done == {
        "status": "DONE",
        "received": 3,
        "repeated": 1,
        "processed": 3,
        "added": 3,
        "duplicates": 0,
    }
    again = {"input": {"rewardId": "gift-10", "idempotencyKey": "up-2", "codes": ["GIFT-0003"]}}
    second = result(invoke(UPLOAD, again, ADMIN))
    fill_pool(shop, "gift-10", second["upload"]["id"])
    uploads = result(invoke(UPLOADS, {"id": "gift-10"}, ADMIN))
    # (the test clock stands still: both were made at the same instant)
    assert sorted((u["added"], u["duplicates"]) for u in uploads) == [(0, 1), (3, 0)]
    gift = result(invoke(DETAILS, {"id": "gift-10"}, ADMIN))
    assert gift == {"stock": None, "claimed": 0, "pooled": 3, "remaining": 3, "isLow": False}

    # The member pages through the catalog, cheapest first, two at a time.
    seen: list[dict[str, Any]] = []
    after = None
    while True:
        page = result(invoke(OFFERS, {"first": 2, "after": after}, MEMBER))
        seen += [e["node"] for e in page["edges"]]
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    by_id = {o["reward"]["id"]: o for o in seen}
    assert list(by_id) == ["lounge", "tote", "five-off", "gift-10"]
    assert by_id["lounge"] | {"reward": None} == {
        "reward": None,
        "remaining": None,
        "unlocked": False,
        "affordable": True,
        "pointsShort": 0,
        "redeemable": False,
        "unavailable": "TIER_TOO_LOW",
    }
    assert (by_id["tote"]["remaining"], by_id["tote"]["redeemable"]) == (3, True)
    assert (by_id["gift-10"]["remaining"], by_id["gift-10"]["affordable"]) == (3, True)

    # Redeeming each kind; the same key again is a replay, another reward under it a conflict.
    perk = redeem(invoke, "tote", "k-perk")
    voucher = redeem(invoke, "five-off", "k-voucher")
    card = redeem(invoke, "gift-10", "k-card")
    for got in (perk, voucher, card):
        assert got["__typename"] == "RewardRedeemed", got
    perk, voucher, card = perk["redemption"], voucher["redemption"], card["redemption"]
    assert (perk["status"], perk["code"], perk["points"]) == ("REQUESTED", None, 300)
    assert (voucher["status"], voucher["expiresAt"]) == ("ISSUED", "2026-03-31T12:00:00+00:00")
    assert voucher["code"]
    assert (card["status"], card["code"], card["expiresAt"]) == ("ISSUED", "GIFT-0001", None)
    assert redeem(invoke, "five-off", "k-voucher")["redemption"] == voucher
    conflict = redeem(invoke, "tote", "k-voucher")
    assert (conflict["__typename"], conflict["code"]) == (
        "IdempotencyConflict",
        "IDEMPOTENCY_CONFLICT",
    )
    assert balance(invoke) == 3000 - 300 - 500 - 1000
    offers = result(invoke(OFFERS, {"first": 10}, MEMBER))["edges"]
    stock = {e["node"]["reward"]["id"]: e["node"]["remaining"] for e in offers}
    assert (stock["tote"], stock["gift-10"], stock["five-off"]) == (2, 2, 99)
    # Another member, without points, sees the same catalog as it stands for them.
    theirs = result(invoke(OFFERS, {"first": 10}, OTHER_MEMBER))["edges"]
    tote = next(e["node"] for e in theirs if e["node"]["reward"]["id"] == "tote")
    assert (tote["affordable"], tote["pointsShort"]) == (False, 300)
    assert (tote["remaining"], tote["unavailable"]) == (2, "INSUFFICIENT_POINTS")

    # What the member got, newest first, paged; another member sees none of it.
    first = result(invoke(MINE, {"first": 2}, MEMBER))
    assert [e["node"]["id"] for e in first["edges"]] == [card["id"], voucher["id"]]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = result(invoke(MINE, {"first": 2, "after": first["pageInfo"]["endCursor"]}, MEMBER))
    assert [e["node"]["id"] for e in rest["edges"]] == [perk["id"]]
    assert rest["pageInfo"]["hasNextPage"] is False
    assert result(invoke(MINE, {"first": 10}, OTHER_MEMBER))["edges"] == []
    not_theirs = result(invoke(CANCEL, {"id": voucher["id"]}, OTHER_MEMBER))
    assert not_theirs["__typename"] == "NotFound", not_theirs

    # The code at checkout: evaluated, then held, so it shows USED and cannot be cancelled.
    evaluated = result(invoke(EVALUATE, {"cart": cart(voucher["code"])}, MEMBER))
    assert evaluated["applied"] == [{"promotionId": "voucher-5"}]
    stranger = result(invoke(EVALUATE, {"cart": cart(voucher["code"])}, OTHER_MEMBER))
    assert stranger["applied"] == []
    reserve = {"input": {"idempotencyKey": "cart-1", "cart": cart(voucher["code"])}}
    assert result(invoke(RESERVE, reserve, MEMBER))["__typename"] == "CartReserved"
    mine = {
        e["node"]["id"]: e["node"] for e in result(invoke(MINE, {"first": 10}, MEMBER))["edges"]
    }
    assert mine[voucher["id"]]["status"] == "USED"
    used = result(invoke(CANCEL, {"id": voucher["id"]}, ADMIN))
    assert (used["__typename"], used["field"]) == ("InvalidInput", "id")

    # Cancelling an unused reward: the points come back, a voided code no longer works.
    before = balance(invoke)
    cancelled = result(invoke(CANCEL, {"id": card["id"]}, MEMBER))
    assert cancelled["redemption"] == {"id": card["id"], "status": "CANCELLED"}
    assert result(invoke(CANCEL, {"id": card["id"]}, MEMBER)) == cancelled  # harmless twice
    assert balance(invoke) == before + 1000
    spare = redeem(invoke, "five-off", "k-spare")["redemption"]
    assert result(invoke(CANCEL, {"id": spare["id"]}, ADMIN))["__typename"] == "RedemptionCancelled"
    voided = result(invoke(EVALUATE, {"cart": cart(spare["code"])}, MEMBER))
    assert [n["reason"] for n in voided["notApplied"]] == ["CODE_CANCELLED"]
    assert result(invoke(DETAILS, {"id": "five-off"}, ADMIN))["claimed"] == 1

    # The shop fulfils the perk (again: the same answer); a fulfilled perk stays.
    fulfilled = result(invoke(FULFIL, {"id": perk["id"]}, SERVICE))
    assert fulfilled["redemption"] == {"id": perk["id"], "status": "FULFILLED"}
    assert result(invoke(FULFIL, {"id": perk["id"]}, ADMIN)) == fulfilled
    refused = result(invoke(CANCEL, {"id": perk["id"]}, ADMIN))
    assert (refused["__typename"], refused["field"]) == ("InvalidInput", "id")
    not_a_perk = result(invoke(FULFIL, {"id": spare["id"]}, SERVICE))
    assert (not_a_perk["__typename"], not_a_perk["field"]) == ("InvalidInput", "id")
    forbidden = invoke(FULFIL, {"id": perk["id"]}, MEMBER)
    assert forbidden.error_codes == ["FORBIDDEN"]
    statuses = {
        e["node"]["id"]: e["node"]["status"]
        for e in result(invoke(MINE, {"first": 10}, MEMBER))["edges"]
    }
    assert statuses == {
        spare["id"]: "CANCELLED",
        card["id"]: "CANCELLED",
        voucher["id"]: "USED",
        perk["id"]: "FULFILLED",
    }


def test_what_a_member_cannot_redeem_is_refused_with_its_reason(
    invoke: Invoke, shop: Services
) -> None:
    refused = redeem(invoke, "lounge", "k-1")
    assert (refused["__typename"], refused["reason"]) == ("RewardUnavailable", "TIER_TOO_LOW")
    assert redeem(invoke, "gift-10", "k-2")["reason"] == "OUT_OF_STOCK"  # an empty pool
    for key in ("k-3", "k-4"):
        assert redeem(invoke, "five-off", key)["__typename"] == "RewardRedeemed"
    assert redeem(invoke, "five-off", "k-5")["reason"] == "LIMIT_REACHED"  # 2 a month
    poor = redeem(invoke, "tote", "k-6", OTHER_MEMBER)
    assert (poor["__typename"], poor["requested"], poor["available"]) == (
        "InsufficientPoints",
        300,
        0,
    )
    ended = {**PERK, "endsAt": "2026-03-01T00:00:00Z", "startsAt": "2026-02-01T00:00:00Z"}
    assert result(invoke(UPDATE, {"input": ended}, ADMIN))["__typename"] == "RewardSaved"
    assert redeem(invoke, "tote", "k-7")["reason"] == "NOT_AVAILABLE"
    assert balance(invoke) == 2000


def test_a_voucher_of_an_ended_promotion_is_not_available(invoke: Invoke, shop: Services) -> None:
    ending = {**VOUCHER, "id": "ending", "schedule": {"endsAt": "2026-03-05T00:00:00Z"}}
    assert result(invoke(PROMOTION, {"input": ending}, ADMIN))["__typename"] == "PromotionSaved"
    late = {**DISCOUNT, "id": "late", "promotionId": "ending", "memberLimit": None}
    assert result(invoke(CREATE, {"input": late}, ADMIN))["__typename"] == "RewardSaved"
    assert result(invoke(CLOCK, {"days": 10}, ADMIN))["__typename"] == "TestClockAdvanced"
    offer = result(invoke(OFFERS, {"first": 10}, MEMBER))["edges"]
    assert {e["node"]["reward"]["id"]: e["node"]["redeemable"] for e in offer}["late"] is False
    refused = redeem(invoke, "late", "k-1")
    assert (refused["__typename"], refused.get("reason")) == ("RewardUnavailable", "NOT_AVAILABLE")
    assert balance(invoke) == 3000


# ---- bad input: a typed error naming the field, and nothing written ----------------------

REWARD_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "id upper case": ({"id": "Tote-2"}, "id"),
    "id empty": ({"id": ""}, "id"),
    "id too long": ({"id": "a" * 65}, "id"),
    "id with a space": ({"id": "tote 2"}, "id"),
    "name empty": ({"name": ""}, "name"),
    "name blank": ({"name": "   "}, "name"),
    "name huge": ({"name": "x" * 100_000}, "name"),
    "name with NUL": ({"name": "Tote\x00bag"}, "name"),
    "name with bidi override": ({"name": "Tote\u202ebag"}, "name"),
    "name with a lone surrogate": ({"name": "Tote\ud800"}, "name"),
    "description empty": ({"description": ""}, "description"),
    "description huge": ({"description": "x" * 2001}, "description"),
    "description with ESC": ({"description": "a\x1bb"}, "description"),
    "image not https": ({"imageUrl": "http://example.com/a.png"}, "imageUrl"),
    "image javascript": ({"imageUrl": "javascript:alert(1)"}, "imageUrl"),
    "image relative": ({"imageUrl": "/a.png"}, "imageUrl"),
    "image non-ASCII": ({"imageUrl": "https://exämple.com/a.png"}, "imageUrl"),
    "image with a space": ({"imageUrl": "https://example.com/a b.png"}, "imageUrl"),
    "image huge": ({"imageUrl": "https://example.com/" + "x" * 2000}, "imageUrl"),
    "image with a control character": ({"imageUrl": "https://example.com/\x00"}, "imageUrl"),
    "points zero": ({"pointsCost": 0}, "pointsCost"),
    "points negative": ({"pointsCost": -300}, "pointsCost"),
    "points beyond the maximum": ({"pointsCost": 2_000_000_000}, "pointsCost"),
    "starts in year 1": ({"startsAt": "0001-01-01T00:00:00+01:00"}, "startsAt"),
    "ends in year 9999": ({"endsAt": "9999-12-31T23:59:59-01:00"}, "endsAt"),
    "ends before it starts": (
        {"startsAt": "2026-05-02T00:00:00Z", "endsAt": "2026-05-01T00:00:00Z"},
        "endsAt",
    ),
    "ends as it starts (other offsets)": (
        {"startsAt": "2026-05-02T02:00:00+02:00", "endsAt": "2026-05-02T00:00:00Z"},
        "endsAt",
    ),
    "unknown tier": ({"minTier": "DIAMOND"}, "minTier"),
    "tier in lower case": ({"minTier": "gold"}, "minTier"),
    "stock negative": ({"stock": -1}, "stock"),
    "stock beyond the maximum": ({"stock": 2_000_000_000}, "stock"),
    "limit zero": ({"memberLimit": {"count": 0, "period": "DAY"}}, "memberLimit.count"),
    "limit negative": ({"memberLimit": {"count": -1, "period": "EVER"}}, "memberLimit.count"),
    "limit huge": ({"memberLimit": {"count": 1001, "period": "WEEK"}}, "memberLimit.count"),
    "low stock negative": ({"lowStock": -1}, "lowStock"),
    "perk with a promotion": ({"promotionId": "voucher-5"}, "promotionId"),
    "perk with a validity": ({"validityDays": 30}, "validityDays"),
    "voucher without a promotion": ({"type": "DISCOUNT_CODE", "validityDays": 3}, "promotionId"),
    "voucher of an unknown promotion": (
        {"type": "DISCOUNT_CODE", "promotionId": "nope", "validityDays": 3},
        "promotionId",
    ),
    "voucher of a huge promotion id": (
        {"type": "DISCOUNT_CODE", "promotionId": "\x00" * 5000, "validityDays": 3},
        "promotionId",
    ),
    "voucher without a validity": (
        {"type": "DISCOUNT_CODE", "promotionId": "voucher-5"},
        "validityDays",
    ),
    "voucher valid 0 days": (
        {"type": "DISCOUNT_CODE", "promotionId": "voucher-5", "validityDays": 0},
        "validityDays",
    ),
    "voucher valid too long": (
        {"type": "DISCOUNT_CODE", "promotionId": "voucher-5", "validityDays": 3661},
        "validityDays",
    ),
    "image with a broken IPv6 host": ({"imageUrl": "https://[abc/a.png"}, "imageUrl"),
    "image with an impossible port": ({"imageUrl": "https://example.com:99999/a.png"}, "imageUrl"),
    "image with credentials": ({"imageUrl": "https://user:pw@example.com/a.png"}, "imageUrl"),
}


Case = tuple[str, str, Any, Mapping[str, Any], Any]  # name, document, variables, claims, check


def failures(invoke: Invoke, cases: Sequence[Case]) -> Any:
    """Each case whose answer is not the one expected; whether any of them wrote something
    (the table is read once around them all: a scan per case would be slow)."""
    before = table()
    bad = {}
    for case, document, variables, claims, check in cases:
        response = invoke(document, variables, claims)
        if "Traceback" in response.raw or not check(response):
            bad[case] = response.raw[:300]
    if table() != before:
        bad["(something was written)"] = ""
    return bad


def union_member(typename: str, code: str, field: str | None) -> Any:
    def check(response: Any) -> bool:
        if response.status != 200 or "errors" in response.body:
            return False
        got = next(iter(response.data.values()))
        return bool(
            (got["__typename"], got["code"], got.get("field")) == (typename, code, field)
            and got["message"]
        )

    return check


@pytest.mark.parametrize("mutation", ["createReward", "updateReward"])
def test_bad_rewards_are_typed_errors_and_nothing_is_written(
    invoke: Invoke, shop: Services, mutation: str
) -> None:
    document, base = (
        (CREATE, {**PERK, "id": "tote-2"}) if mutation == "createReward" else (UPDATE, PERK)
    )
    cases = [
        (case, document, {"input": {**base, **change}}, ADMIN, union_member(*INVALID, field))
        for case, (change, field) in REWARD_CASES.items()
        if mutation == "createReward" or field != "id"  # another id is another reward
    ]
    assert failures(invoke, cases) == {}


INVALID = ("InvalidInput", "INVALID_INPUT")


UNKNOWN_RDM = "rdm_" + "0" * 26 + "_5"

# (document, variables, claims, (typename, code, field)) for result-union members
UNION_CASES: dict[str, tuple[str, dict[str, Any], Mapping[str, Any], tuple[str, str, Any]]] = {
    "redeem an unknown reward": (
        REDEEM,
        {"input": {"rewardId": "nope", "idempotencyKey": "k"}},
        MEMBER,
        ("NotFound", "NOT_FOUND", None),
    ),
    "redeem a malformed reward id": (
        REDEEM,
        {"input": {"rewardId": "Tote\u202e", "idempotencyKey": "k"}},
        MEMBER,
        ("InvalidInput", "INVALID_INPUT", "rewardId"),
    ),
    "redeem a huge reward id": (
        REDEEM,
        {"input": {"rewardId": "x" * 100_000, "idempotencyKey": "k"}},
        MEMBER,
        ("InvalidInput", "INVALID_INPUT", "rewardId"),
    ),
    **{
        f"redeem with key {key!r:.20}": (
            REDEEM,
            {"input": {"rewardId": "tote", "idempotencyKey": key}},
            MEMBER,
            ("InvalidInput", "INVALID_INPUT", "idempotencyKey"),
        )
        for key in ("", " k", "k\x00", "k\ud800", "x" * 129, "ké")
    },
    "redeem out of stock": (
        REDEEM,
        {"input": {"rewardId": "gift-10", "idempotencyKey": "k"}},
        MEMBER,
        ("RewardUnavailable", "REWARD_UNAVAILABLE", None),
    ),
    "redeem with a tier too low": (
        REDEEM,
        {"input": {"rewardId": "lounge", "idempotencyKey": "k"}},
        MEMBER,
        ("RewardUnavailable", "REWARD_UNAVAILABLE", None),
    ),
    "redeem without the points": (
        REDEEM,
        {"input": {"rewardId": "tote", "idempotencyKey": "k"}},
        OTHER_MEMBER,
        ("InsufficientPoints", "INSUFFICIENT_POINTS", None),
    ),
    "redeem for an unknown customer": (
        REDEEM,
        {"input": {"rewardId": "tote", "idempotencyKey": "k", "customerId": "nobody"}},
        SERVICE,
        ("MemberNotFound", "MEMBER_NOT_FOUND", None),
    ),
    "redeem for a malformed member id": (
        REDEEM,
        {"input": {"rewardId": "tote", "idempotencyKey": "k", "memberId": "mbr_x"}},
        SERVICE,
        ("InvalidInput", "INVALID_INPUT", "memberId"),
    ),
    "redeem for both member and customer": (
        REDEEM,
        {
            "input": {
                "rewardId": "tote",
                "idempotencyKey": "k",
                "customerId": "cust-1",
                "memberId": "mbr_" + "0" * 26,
            }
        },
        SERVICE,
        ("InvalidInput", "INVALID_INPUT", "memberId"),
    ),
    **{
        f"upload {case}": (
            UPLOAD,
            {"input": {"rewardId": "gift-10", "idempotencyKey": "u", "codes": codes}},
            ADMIN,
            ("InvalidInput", "INVALID_INPUT", field),
        )
        for case, codes, field in (
            ("no codes", [], "codes"),
            ("a code with a space", ["GOOD-1", "BAD 2"], "codes[1]"),
            ("a short code", ["abc"], "codes[0]"),
            ("a long code", ["x" * 65], "codes[0]"),
            ("an empty code", ["GOOD-1", ""], "codes[1]"),
            ("a non-ASCII code", ["GOOD-1", "ÉTÉ-2026"], "codes[1]"),
            ("fullwidth digits", ["\uff11\uff12\uff13\uff14"], "codes[0]"),
            ("a NUL", ["GOOD\x00-1"], "codes[0]"),
            ("a lone surrogate", ["GOOD-\ud800"], "codes[0]"),
            ("a code starting with -", ["-GOOD"], "codes[0]"),
            (
                "a bad code among many",
                [f"C-{i:05d}" for i in range(5000)] + ["bad!"],
                "codes[5000]",
            ),
        )
    },
    "upload with a bad key": (
        UPLOAD,
        {"input": {"rewardId": "gift-10", "idempotencyKey": "", "codes": ["GOOD-1"]}},
        ADMIN,
        ("InvalidInput", "INVALID_INPUT", "idempotencyKey"),
    ),
    "upload to a perk": (
        UPLOAD,
        {"input": {"rewardId": "tote", "idempotencyKey": "u", "codes": ["GOOD-1"]}},
        ADMIN,
        ("InvalidInput", "INVALID_INPUT", "rewardId"),
    ),
    "upload to an unknown reward": (
        UPLOAD,
        {"input": {"rewardId": "nope", "idempotencyKey": "u", "codes": ["GOOD-1"]}},
        ADMIN,
        ("NotFound", "NOT_FOUND", None),
    ),
    "upload to a malformed reward id": (
        UPLOAD,
        {"input": {"rewardId": "GIFT 10", "idempotencyKey": "u", "codes": ["GOOD-1"]}},
        ADMIN,
        ("InvalidInput", "INVALID_INPUT", "rewardId"),
    ),
    **{
        f"{name} {case}": (
            document,
            {"id": value},
            claims,
            expected,
        )
        for name, document, claims in (
            ("cancel", CANCEL, ADMIN),
            ("fulfil", FULFIL, SERVICE),
        )
        for case, value, expected in (
            ("an empty id", "", ("InvalidInput", "INVALID_INPUT", "id")),
            ("a malformed id", "rdm_xyz_1", ("InvalidInput", "INVALID_INPUT", "id")),
            ("a negative seq", "rdm_" + "0" * 26 + "_-1", ("InvalidInput", "INVALID_INPUT", "id")),
            (
                "a huge seq",
                "rdm_" + "0" * 26 + "_" + "9" * 13,
                ("InvalidInput", "INVALID_INPUT", "id"),
            ),
            ("an id with NUL", UNKNOWN_RDM + "\x00", ("InvalidInput", "INVALID_INPUT", "id")),
            ("a huge id", "rdm_" * 30_000, ("InvalidInput", "INVALID_INPUT", "id")),
            ("an unknown id", UNKNOWN_RDM, ("NotFound", "NOT_FOUND", None)),
        )
    },
}


@pytest.mark.parametrize("operation", ["redeem", "upload", "cancel", "fulfil"])
def test_bad_redemptions_uploads_and_ids_are_typed_errors_and_nothing_is_written(
    invoke: Invoke, shop: Services, operation: str
) -> None:
    cases = [
        (case, document, variables, claims, union_member(*expected))
        for case, (document, variables, claims, expected) in UNION_CASES.items()
        if case.startswith(operation)
    ]
    assert cases
    assert failures(invoke, cases) == {}


# (document, variables, claims, the error's extensions.code and field) for GraphQL errors
ERROR_CASES: dict[str, tuple[str, dict[str, Any], Mapping[str, Any], str, str | None]] = {
    **{
        f"{name} first={first}": (document, {"first": first}, MEMBER, "INVALID_INPUT", "first")
        for name, document in (("rewards", OFFERS), ("myRewards", MINE))
        for first in (0, -1, 101)
    },
    **{
        f"{name} after {case}": (
            document,
            {"first": 2, "after": after},
            MEMBER,
            "INVALID_INPUT",
            "after",
        )
        for name, document in (("rewards", OFFERS), ("myRewards", MINE))
        for case, after in (
            ("empty", ""),
            ("garbage", "zzz"),
            ("huge", "x" * 100_000),
            ("with NUL", "cmV3YXJkOjE\x00"),
            ("negative", "cmV3YXJkOi0x"),  # reward:-1
            ("non-canonical number", "cmV3YXJkOisx"),  # reward:+1
        )
    },
    "rewards after a myRewards cursor": (
        OFFERS,
        {"first": 2, "after": "cmVkZW1wdGlvbjox"},  # redemption:1
        MEMBER,
        "INVALID_INPUT",
        "after",
    ),
    "myRewards after a rewards cursor": (
        MINE,
        {"first": 2, "after": "cmV3YXJkOjE"},  # reward:1
        MEMBER,
        "INVALID_INPUT",
        "after",
    ),
    "rewards of another member": (
        'query { rewards(customerId: "cust-2") { edges { cursor } } }',
        {},
        MEMBER,
        "FORBIDDEN",
        None,
    ),
    "myRewards of another member": (
        'query { myRewards(customerId: "cust-2") { edges { cursor } } }',
        {},
        MEMBER,
        "FORBIDDEN",
        None,
    ),
    "redeem for another member": (
        REDEEM,
        {"input": {"rewardId": "tote", "idempotencyKey": "k", "customerId": "cust-2"}},
        MEMBER,
        "FORBIDDEN",
        None,
    ),
    "a member fulfils": (FULFIL, {"id": UNKNOWN_RDM}, MEMBER, "FORBIDDEN", None),
    "a member creates a reward": (CREATE, {"input": PERK}, MEMBER, "FORBIDDEN", None),
    "points cost beyond Int": (
        CREATE,
        {"input": {**PERK, "id": "tote-2", "pointsCost": 2**31}},
        ADMIN,
        "BAD_USER_INPUT",
        None,
    ),
    "points cost as a string": (
        CREATE,
        {"input": {**PERK, "id": "tote-2", "pointsCost": "300"}},
        ADMIN,
        "BAD_USER_INPUT",
        None,
    ),
    "points cost as a float": (
        CREATE,
        {"input": {**PERK, "id": "tote-2", "pointsCost": 300.5}},
        ADMIN,
        "BAD_USER_INPUT",
        None,
    ),
    "unknown type": (
        CREATE,
        {"input": {**PERK, "id": "tote-2", "type": "CASH"}},
        ADMIN,
        "BAD_USER_INPUT",
        None,
    ),
    "unknown period": (
        CREATE,
        {"input": {**PERK, "id": "tote-2", "memberLimit": {"count": 1, "period": "HOUR"}}},
        ADMIN,
        "BAD_USER_INPUT",
        None,
    ),
    **{
        f"startsAt {value!r}": (
            CREATE,
            {"input": {**PERK, "id": "tote-2", "startsAt": value}},
            ADMIN,
            "BAD_USER_INPUT",
            None,
        )
        for value in (
            "2026-03-01T12:00:00",
            "2026-03-01",
            "2026-02-30T12:00:00Z",
            "2026-03-01T12:00:00+24:00",
            "tomorrow",
        )
    },
    "codes not a list of strings": (
        UPLOAD,
        {"input": {"rewardId": "gift-10", "idempotencyKey": "u", "codes": [1234]}},
        ADMIN,
        "BAD_USER_INPUT",
        None,
    ),
}


def graphql_error(code: str, field: str | None) -> Any:
    def check(response: Any) -> bool:
        errors = response.body.get("errors") or []
        return bool(
            response.error_codes == [code]
            and errors[0].get("extensions", {}).get("field") == field
            and "Unexpected" not in errors[0]["message"]
        )

    return check


@pytest.mark.parametrize("operation", ["rewards", "myRewards", "other"])
def test_bad_requests_are_graphql_errors_with_codes(
    invoke: Invoke, shop: Services, operation: str
) -> None:
    cases = [
        (case, document, variables, claims, graphql_error(code, field))
        for case, (document, variables, claims, code, field) in ERROR_CASES.items()
        if case.split(" ")[0] == operation
        or (operation == "other" and case.split(" ")[0] not in ("rewards", "myRewards"))
    ]
    assert cases
    assert failures(invoke, cases) == {}


def test_an_upload_of_many_codes_is_accepted(invoke: Invoke, shop: Services) -> None:
    codes = [f"GIFT-{i:06d}" for i in range(100_000)]
    upload = {"input": {"rewardId": "gift-10", "idempotencyKey": "big", "codes": codes}}
    response = invoke(UPLOAD, upload, ADMIN)
    assert response.status == 200, response.raw
    assert result(response)["upload"]["received"] == 100_000


def test_an_oversized_upload_is_invalid_input(invoke: Invoke, shop: Services) -> None:
    upload = {
        "input": {"rewardId": "gift-10", "idempotencyKey": "big", "codes": ["AAAA"] * 100_001}
    }
    before = table()
    response = invoke(UPLOAD, upload, ADMIN)
    assert response.status == 200, response.raw
    got = result(response)
    assert (got["__typename"], got["field"]) == ("InvalidInput", "codes")
    assert table() == before
