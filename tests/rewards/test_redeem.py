"""Redeeming rewards: points, stock, limits and codes move together or not at all."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from api.errors import (
    Forbidden,
    IdempotencyConflict,
    InsufficientPoints,
    InvalidInput,
    NotFound,
    RewardUnavailable,
)
from api.ids import member_id_for
from api.points.model import EntryKind
from api.program.model import SettingsChange
from api.promotions.model import CartInput, Reason, Status
from api.rewards.model import RedeemInput, RedemptionStatus
from api.services import Services
from tests.rewards.conftest import PERK, credit
from tests.support import (
    ADMIN,
    SERVICE,
    assert_ledger_consistent,
    count_requests,
    enroll,
    ledger_entries,
    member,
    stored_member,
)

ME = member("cust-1")


def redeem(shop: Services, reward: str, key: str, actor: object = ME) -> object:
    return shop.redemptions.redeem(actor, RedeemInput(reward, key))  # type: ignore[arg-type]


def test_a_discount_code_reward_issues_a_code_the_member_uses_at_checkout(shop: Services) -> None:
    mid = member_id_for("cust-1")
    r = shop.redemptions.redeem(ME, RedeemInput("five-off", "k-1"))
    assert (r.status, r.points, r.reward_name) == (RedemptionStatus.ISSUED, 500, "5 EUR voucher")
    assert r.code is not None
    assert r.expires_at == shop.program.current_time() + timedelta(days=30)
    assert stored_member(mid).balance == 1500
    assert shop.redemptions.redeem(ME, RedeemInput("five-off", "k-1")) == r  # a replay
    with pytest.raises(IdempotencyConflict):
        shop.redemptions.redeem(ME, RedeemInput("tote", "k-1"))
    kinds = [(e.kind, e.points, e.reference) for e in ledger_entries(mid)]
    assert kinds[-1] == (EntryKind.REDEEM, -500, r.id)
    cart = CartInput("EUR", [("SKU", 1, Decimal(20), None)], codes=(r.code,), customer_id="cust-1")
    evaluated = shop.checkout.evaluate(SERVICE, cart)
    assert [a.promotion_id for a in evaluated.evaluation.applied] == ["voucher-5"]
    other = replace(cart, customer_id="cust-2")
    enroll(shop, "cust-2")
    refused = shop.checkout.evaluate(SERVICE, other).evaluation.not_applied
    assert [n.reason for n in refused] == [Reason.CODE_BOUND_TO_ANOTHER_MEMBER]
    held = shop.reservations.reserve(SERVICE, cart, "cart-1")
    page = shop.reward_views.redemptions(ME, mid, 10, None)
    assert [x.status for x in page.redemptions] == [RedemptionStatus.USED]  # in a checkout
    shop.reservations.release(SERVICE, held.id)
    shop.program.advance_clock(ADMIN, 31 * 24 * 3600)
    page = shop.reward_views.redemptions(ME, mid, 10, None)
    assert [x.status for x in page.redemptions] == [RedemptionStatus.EXPIRED]
    assert_ledger_consistent(mid)


def test_redeeming_is_one_read_and_one_transaction(shop: Services) -> None:
    shop.redemptions.redeem(ME, RedeemInput("tote", "warm"))  # the catalog cached
    for reward in ("five-off", "tote"):
        with count_requests() as calls:
            shop.redemptions.redeem(ME, RedeemInput(reward, f"k-{reward}"))
        assert dict(calls) == {"BatchGetItem": 1, "TransactWriteItems": 1}


def test_what_a_member_cannot_redeem_is_refused_with_its_reason(shop: Services) -> None:
    mid = member_id_for("cust-1")
    with pytest.raises(NotFound):
        redeem(shop, "nope", "k-0")
    for i in range(2):
        redeem(shop, "five-off", f"k-{i}")
    with pytest.raises(RewardUnavailable) as refused:  # 2 a month
        redeem(shop, "five-off", "k-2")
    assert refused.value.reason == "LIMIT_REACHED"
    for i in range(3):
        credit(shop, "cust-1", 300, f"more-{i}")
        redeem(shop, "tote", f"t-{i}")
    with pytest.raises(RewardUnavailable) as refused:
        redeem(shop, "tote", "t-3")
    assert refused.value.reason == "OUT_OF_STOCK"
    before = stored_member(mid).balance
    shop.rewards.update(ADMIN, replace(PERK, id="tote", stock=10, min_tier="GOLD"))
    with pytest.raises(RewardUnavailable) as refused:
        redeem(shop, "tote", "t-4")
    assert refused.value.reason == "TIER_TOO_LOW"
    shop.rewards.update(ADMIN, replace(PERK, stock=10, active=False))
    with pytest.raises(RewardUnavailable) as refused:
        redeem(shop, "tote", "t-5")
    assert refused.value.reason == "NOT_AVAILABLE"
    shop.rewards.update(ADMIN, replace(PERK, stock=10, points_cost=10**6))
    with pytest.raises(InsufficientPoints):
        redeem(shop, "tote", "t-6")
    assert stored_member(mid).balance == before  # nothing written on a refusal
    with pytest.raises(Forbidden):  # a member redeems only for themselves
        shop.redemptions.redeem(ME, RedeemInput("tote", "t-7", customer_id="cust-2"))
    assert_ledger_consistent(mid)


def test_the_month_limit_follows_the_member_s_calendar(shop: Services) -> None:
    for i in range(2):
        redeem(shop, "five-off", f"k-{i}")
    shop.program.advance_clock(ADMIN, 32 * 24 * 3600)  # next month (by the test clock)
    redeem(shop, "five-off", "k-2")
    redeem(shop, "five-off", "k-3")
    with pytest.raises(RewardUnavailable) as refused:
        redeem(shop, "five-off", "k-4")
    assert refused.value.reason == "LIMIT_REACHED"
    mid = member_id_for("cust-1")
    [five_off] = [
        o for o in shop.reward_views.offers(ME, mid, 10, None).offers if o.reward.id == "five-off"
    ]
    assert five_off.unavailable is not None
    assert five_off.unavailable.value == "LIMIT_REACHED"


def test_a_voucher_is_not_available_while_its_promotion_is_paused(shop: Services) -> None:
    shop.promotions.set_status(ADMIN, "voucher-5", Status.PAUSED)
    with pytest.raises(RewardUnavailable) as refused:
        redeem(shop, "five-off", "k-1")
    assert refused.value.reason == "NOT_AVAILABLE"
    shop.promotions.set_status(ADMIN, "voucher-5", Status.ACTIVE)
    redeem(shop, "five-off", "k-1")


def test_a_cancelled_reward_gives_back_points_stock_and_limit(shop: Services) -> None:
    mid = member_id_for("cust-1")
    r = shop.redemptions.redeem(ME, RedeemInput("five-off", "k-1"))
    cancelled = shop.redemptions.cancel(ME, r.id)
    assert cancelled.status is RedemptionStatus.CANCELLED
    assert shop.redemptions.cancel(ME, r.id) == cancelled  # harmless twice
    assert stored_member(mid).balance == 2000
    kinds = [(e.kind, e.points) for e in ledger_entries(mid)][-2:]
    assert kinds == [(EntryKind.REDEEM, -500), (EntryKind.RETURN, 500)]
    assert shop.rewards.get(ADMIN, "five-off").stock.claimed == 0
    cart = CartInput(
        "EUR", [("SKU", 1, Decimal(20), None)], codes=(r.code or "",), customer_id="cust-1"
    )
    refused = shop.checkout.evaluate(SERVICE, cart).evaluation.not_applied
    assert [n.reason for n in refused] == [Reason.CODE_CANCELLED]
    for i in range(2):  # the limit came back too
        redeem(shop, "five-off", f"again-{i}")
    assert_ledger_consistent(mid)


def test_a_used_code_cannot_be_cancelled_and_members_have_a_window(shop: Services) -> None:
    r = shop.redemptions.redeem(ME, RedeemInput("five-off", "k-1"))
    cart = CartInput(
        "EUR", [("SKU", 1, Decimal(20), None)], codes=(r.code or "",), customer_id="cust-1"
    )
    shop.reservations.reserve(SERVICE, cart, "cart-1")
    with pytest.raises(InvalidInput):
        shop.redemptions.cancel(ADMIN, r.id)
    later = shop.redemptions.redeem(ME, RedeemInput("tote", "k-2"))
    shop.program.advance_clock(ADMIN, 25 * 3600)  # past the 24 hours members have
    with pytest.raises(InvalidInput):
        shop.redemptions.cancel(ME, later.id)
    assert shop.redemptions.cancel(SERVICE, later.id).status is RedemptionStatus.CANCELLED
    shop.program.update(ADMIN, SettingsChange(reward_cancel_hours=0))
    with pytest.raises(NotFound):  # another member's: as if absent
        shop.redemptions.cancel(member("cust-2"), r.id)


def test_a_perk_is_requested_then_fulfilled(shop: Services) -> None:
    r = shop.redemptions.redeem(ME, RedeemInput("tote", "k-1"))
    assert r.status is RedemptionStatus.REQUESTED
    with pytest.raises(Forbidden):
        shop.redemptions.fulfil(ME, r.id)
    done = shop.redemptions.fulfil(SERVICE, r.id)
    assert done.status is RedemptionStatus.FULFILLED
    assert shop.redemptions.fulfil(ADMIN, r.id) == done
    with pytest.raises(InvalidInput):
        shop.redemptions.cancel(ADMIN, r.id)
    with pytest.raises(InvalidInput):
        shop.redemptions.fulfil(ADMIN, "not-an-id")


def test_members_see_the_catalog_as_it_stands_for_them(shop: Services) -> None:
    mid = member_id_for("cust-1")
    shop.rewards.update(ADMIN, replace(PERK, min_tier="GOLD"))
    page = shop.reward_views.offers(ME, mid, 10, None)
    by_id = {o.reward.id: o for o in page.offers}
    assert list(by_id) == ["tote", "five-off", "gift-10"]  # cheapest first
    assert (by_id["five-off"].affordable, by_id["five-off"].remaining) == (True, 100)
    assert by_id["tote"].unlocked is False
    reasons = {k: None if o.unavailable is None else o.unavailable.value for k, o in by_id.items()}
    assert reasons == {"tote": "TIER_TOO_LOW", "five-off": None, "gift-10": "OUT_OF_STOCK"}
    first = shop.reward_views.offers(ME, mid, 2, None)
    assert first.has_next
    rest = shop.reward_views.offers(ME, mid, 2, "cmV3YXJkOjE")  # the cursor of the 2nd
    assert [o.reward.id for o in rest.offers] == ["gift-10"]
    credit(shop, "cust-1", -1800, "spent")
    cheap = {o.reward.id: o for o in shop.reward_views.offers(ME, mid, 10, None).offers}
    assert (cheap["five-off"].affordable, cheap["five-off"].points_short) == (False, 300)
    with pytest.raises(Forbidden):
        shop.reward_views.offers(member("cust-2"), mid, 10, None)
