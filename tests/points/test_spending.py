"""redeemPoints and adjustPoints."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.clock import ManualClock
from api.errors import Forbidden, IdempotencyConflict, InsufficientPoints, InvalidInput
from api.points.lots import Funding
from api.points.model import AdjustInput, EntryKind, RedeemInput
from api.services import Services
from tests.support import (
    ADMIN,
    SERVICE,
    assert_ledger_consistent,
    count_requests,
    enroll,
    ledger_entries,
    member,
    order,
    redeem,
    stored_member,
)

DAY = timedelta(days=1)


@pytest.fixture
def member_id(services: Services) -> str:
    member_id = enroll(services)
    now = services.clock.now()
    order(services, "old", "30", placed_at=now - 300 * DAY)  # expires in 79 days
    order(services, "new", "50", placed_at=now - 20 * DAY)  # expires in 359 days
    order(services, "pending", "100", placed_at=now - DAY)  # in its return window
    return member_id


def lot_of(services: Services, order_id: str) -> str:
    found = services.orders.get_order(ADMIN, order_id)
    assert found is not None
    assert found.lot_id is not None
    return found.lot_id


def test_redemption_spends_earliest_expiring_lots_and_records_them(
    services: Services, member_id: str
) -> None:
    entry = redeem(services, 40, "k-1")
    assert entry.kind is EntryKind.REDEEM
    assert (entry.points, entry.balance_after) == (-40, 140)
    assert entry.funding == (
        Funding(lot_of(services, "old"), 30),
        Funding(lot_of(services, "new"), 10),
    )
    assert entry.reference == "ref-k-1"
    assert_ledger_consistent(member_id)


def test_pending_points_cannot_be_spent(services: Services, member_id: str) -> None:
    with pytest.raises(InsufficientPoints) as error:
        redeem(services, 81, "k-1")
    assert (error.value.requested, error.value.available) == (81, 80)
    assert len(ledger_entries(member_id)) == 3


def test_expired_points_cannot_be_spent_before_the_job_records_them(
    services: Services, clock: ManualClock, member_id: str
) -> None:
    clock.advance(79 * DAY)  # "old" expires now; no job has run
    with pytest.raises(InsufficientPoints) as error:
        redeem(services, 151, "k-1")
    assert error.value.available == 150  # "new" 50 + "pending" (now active) 100
    entry = redeem(services, 150, "k-2")
    assert lot_of(services, "old") not in {f.lot_id for f in entry.funding}
    assert stored_member(member_id).balance == 30  # the expired 30, awaiting the job


def test_redemption_replay_and_conflict(services: Services, member_id: str) -> None:
    first = redeem(services, 10, "k-1")
    assert redeem(services, 10, "k-1") == first
    with pytest.raises(IdempotencyConflict):
        redeem(services, 11, "k-1")
    assert stored_member(member_id).balance == 170


def test_redemption_is_one_read_and_one_transaction(services: Services, member_id: str) -> None:
    with count_requests() as calls:
        redeem(services, 10, "k-1")
    assert calls == {"BatchGetItem": 1, "TransactWriteItems": 1}


def test_members_redeem_their_own_points_only(services: Services, member_id: str) -> None:
    me = member("cust-1")
    entry = services.spending.redeem(
        me, RedeemInput(points=5, reference="cart", idempotency_key="a")
    )
    assert entry.actor == f"member:{member_id}"
    enroll(services, "cust-2")
    with pytest.raises(Forbidden):
        services.spending.redeem(
            me, RedeemInput(points=5, reference="cart", idempotency_key="b", customer_id="cust-2")
        )
    with pytest.raises(Forbidden):
        services.spending.redeem(
            ADMIN,
            RedeemInput(points=5, reference="cart", idempotency_key="c", customer_id="cust-1"),
        )
    # Naming oneself explicitly is fine.
    services.spending.redeem(
        me, RedeemInput(points=5, reference="cart", idempotency_key="d", customer_id="cust-1")
    )


@pytest.mark.parametrize("points", [0, -5, 10**10])
def test_redemption_refuses_bad_amounts(services: Services, member_id: str, points: int) -> None:
    with pytest.raises(InvalidInput):
        redeem(services, points, "k")
    assert len(ledger_entries(member_id)) == 3


def test_adjust_credit_is_an_active_lot(services: Services, member_id: str) -> None:
    entry = services.spending.adjust(
        ADMIN,
        AdjustInput(points=25, reason="Goodwill", idempotency_key="adj-1", member_id=member_id),
    )
    assert entry.kind is EntryKind.ADJUST
    assert entry.reason == "Goodwill"
    assert entry.actor == "admin:admin-1"
    assert entry.lot is not None
    assert entry.lot.activates_at == services.clock.now()
    redeem(services, 105, "k-1")  # 30 + 50 + 25 available
    assert_ledger_consistent(member_id)


def test_adjust_debit_may_take_pending_points(services: Services, member_id: str) -> None:
    entry = services.spending.adjust(
        ADMIN,
        AdjustInput(points=-150, reason="Fraud", idempotency_key="adj-1", customer_id="cust-1"),
    )
    assert entry.balance_after == 30
    with pytest.raises(InsufficientPoints):
        services.spending.adjust(
            ADMIN,
            AdjustInput(points=-31, reason="Fraud", idempotency_key="adj-2", customer_id="cust-1"),
        )
    assert_ledger_consistent(member_id)


def test_adjust_needs_a_reason_and_an_admin(services: Services, member_id: str) -> None:
    with pytest.raises(InvalidInput):
        services.spending.adjust(
            ADMIN, AdjustInput(points=5, reason="  ", idempotency_key="a", member_id=member_id)
        )
    with pytest.raises(Forbidden):
        services.spending.adjust(
            SERVICE, AdjustInput(points=5, reason="x", idempotency_key="a", member_id=member_id)
        )
    assert len(ledger_entries(member_id)) == 3
