"""refundOrder: exactly the order's share, never more, under both negative-balance policies."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from api.errors import (
    ErrorCode,
    IdempotencyConflict,
    InvalidInput,
    OrderNotFound,
    RefundExceedsOrder,
)
from api.points.lots import Funding
from api.points.model import Entry, EntryKind, Order, RefundInput
from api.program.model import NegativeBalancePolicy, SettingsChange
from api.services import Services
from tests.support import (
    ADMIN,
    SERVICE,
    assert_ledger_consistent,
    enroll,
    ledger_entries,
    order,
    redeem,
    stored_member,
)

DAY = timedelta(days=1)


def refund(
    services: Services, refund_id: str, order_id: str, amount: str, currency: str = "EUR"
) -> tuple[Order, Entry]:
    return services.refunds.refund_order(
        SERVICE, RefundInput(refund_id, order_id, Decimal(amount), currency)
    )


@pytest.fixture
def member_id(services: Services) -> str:
    return enroll(services)


def test_partial_refunds_take_back_exactly_what_the_order_earned(
    services: Services, member_id: str
) -> None:
    order(services, "o-1", "100.00")  # 100 points
    taken = []
    for i, amount in enumerate(["33.33", "33.33", "33.34"]):
        _, entry = services.refunds.refund_order(
            SERVICE, RefundInput(f"r-{i}", "o-1", Decimal(amount), "EUR")
        )
        assert entry.kind is EntryKind.REFUND
        taken.append(-entry.points)
    assert taken == [33, 33, 34]
    assert stored_member(member_id).balance == 0
    with pytest.raises(RefundExceedsOrder) as error:
        refund(services, "r-9", "o-1", "0.01")
    assert error.value.refundable == "0.00"
    assert_ledger_consistent(member_id)


def test_refunds_never_exceed_the_order(services: Services, member_id: str) -> None:
    order(services, "o-1", "50.00")
    refund(services, "r-1", "o-1", "30.00")
    with pytest.raises(RefundExceedsOrder) as error:
        refund(services, "r-2", "o-1", "20.01")
    assert error.value.refundable == "20.00"
    order_now = services.orders.get_order(ADMIN, "o-1")
    assert order_now is not None
    assert order_now.refunded.amount == Decimal("30.00")
    assert order_now.points_reversed == 30
    assert len(ledger_entries(member_id)) == 2


def test_a_refund_of_spent_points_goes_negative_then_is_repaid(
    services: Services, member_id: str
) -> None:
    services.program.update(ADMIN, SettingsChange(return_window_days=0))
    order(services, "o-1", "100")
    redeem(services, 80, "spend")
    _, entry = refund(services, "r-1", "o-1", "100")
    assert entry.points == -100
    assert entry.balance_after == -80
    assert entry.funding == (Funding(f"{member_id}-2", 20),)
    assert stored_member(member_id).points.debt == 80
    # The next earnings repay the debt before they can be spent.
    earn = order(services, "o-2", "50").entry
    assert earn.balance_after == -30
    assert stored_member(member_id).points.lots == ()
    earn = order(services, "o-3", "100").entry
    assert earn.balance_after == 70
    view = services.member_views.view(ADMIN, member_id, None)
    assert view is not None
    assert view.member.points.available(view.now) == 70
    assert_ledger_consistent(member_id)


def test_stop_at_zero_records_the_shortfall(services: Services, member_id: str) -> None:
    services.program.update(
        ADMIN,
        SettingsChange(
            return_window_days=0, negative_balance_policy=NegativeBalancePolicy.STOP_AT_ZERO
        ),
    )
    order(services, "o-1", "100")
    redeem(services, 80, "spend")
    _, entry = refund(services, "r-1", "o-1", "100")
    assert (entry.points, entry.shortfall, entry.balance_after) == (-20, 80, 0)
    order_now = services.orders.get_order(ADMIN, "o-1")
    assert order_now is not None
    assert order_now.points_reversed == 100
    assert stored_member(member_id).balance == 0
    assert_ledger_consistent(member_id)


def test_the_refund_takes_its_own_lot_before_others(services: Services, member_id: str) -> None:
    old = order(services, "o-old", "30", placed_at=services.clock.now() - 300 * DAY).entry.lot
    new = order(services, "o-new", "40").entry.lot
    assert old is not None
    assert new is not None
    _, entry = refund(services, "r-1", "o-new", "40")
    assert entry.funding == (Funding(new.id, 40),)


def test_refund_replay_and_conflict(services: Services, member_id: str) -> None:
    order(services, "o-1", "100")
    first = refund(services, "r-1", "o-1", "10")
    assert refund(services, "r-1", "o-1", "10")[1] == first[1]
    with pytest.raises(IdempotencyConflict):
        refund(services, "r-1", "o-1", "11")
    assert len(ledger_entries(member_id)) == 2


def test_refund_refusals_write_nothing(services: Services, member_id: str) -> None:
    order(services, "o-1", "100")
    with pytest.raises(OrderNotFound):
        refund(services, "r-1", "o-missing", "10")
    with pytest.raises(InvalidInput) as error:
        refund(services, "r-1", "o-1", "10", currency="USD")
    assert error.value.code is ErrorCode.CURRENCY_MISMATCH
    for amount in ("0", "-5", "10.555"):
        with pytest.raises(InvalidInput):
            refund(services, "r-1", "o-1", amount)
    assert len(ledger_entries(member_id)) == 1
    assert stored_member(member_id).balance == 100
