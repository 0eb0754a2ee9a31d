"""refundOrder: exactly the order's share, never more, under both negative-balance policies."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from api.clock import ManualClock
from api.errors import (
    ErrorCode,
    IdempotencyConflict,
    InvalidInput,
    OrderNotFound,
    RefundExceedsOrder,
)
from api.points.lots import Funding, Lot
from api.points.model import Entry, EntryKind, Order, OrderInput, RefundInput
from api.program.model import NegativeBalancePolicy, SettingsChange
from api.promotions.model import Activation, CartInput, Effect, EffectKind, PromotionInput
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


BONUS = PromotionInput(
    id="bonus",
    name="Bonus 100 points",
    effect=Effect(EffectKind.BONUS_POINTS, points=100),
    activation=Activation.CODE,
    code="bonus100",
)


def order_with_bonus(services: Services, order_id: str) -> tuple[Order, list[Lot]]:
    """A 60 EUR order committing a checkout reservation whose code gave 100 points: an EARN
    lot of 60 and a PROMOTION lot of 100, both pending through the return window."""
    services.promotions.create(ADMIN, BONUS)
    cart = CartInput(
        "EUR", [("SKU-1", 2, Decimal(30), None)], codes=("BONUS100",), customer_id="cust-1"
    )
    reservation = services.reservations.reserve(SERVICE, cart, "k-1")
    result = services.orders.record_order(
        SERVICE,
        OrderInput(
            order_id=order_id,
            customer_id="cust-1",
            total_amount=Decimal("60.00"),
            currency="EUR",
            placed_at=services.clock.now(),
            reservation_id=reservation.id,
        ),
    )
    lots = stored_member(result.order.member_id).points.lots
    own = [lot for lot in lots if lot.order_id == order_id]
    assert [(lot.points, lot.remaining) for lot in own] == [(60, 60), (100, 100)]
    assert result.order.points_earned == 160
    assert result.order.promotion_points == 100
    return result.order, own


def open_lots(member_id: str) -> dict[str, int]:
    return {lot.id: lot.remaining for lot in stored_member(member_id).points.lots}


def test_a_full_refund_takes_back_the_earn_and_promotion_lots_of_the_order(
    services: Services, member_id: str
) -> None:
    # An older order's lot, active now: spent before any pending lot by a plain clawback.
    old = order(services, "o-old", "100", placed_at=services.clock.now() - 30 * DAY).entry.lot
    assert old is not None
    _, (earn, promo) = order_with_bonus(services, "o-1")
    _, entry = refund(services, "r-1", "o-1", "60.00")
    assert entry.points == -160
    assert sorted(entry.funding, key=lambda f: f.lot_id) == sorted(
        [Funding(earn.id, 60), Funding(promo.id, 100)], key=lambda f: f.lot_id
    )
    assert open_lots(member_id) == {old.id: 100}  # untouched; nothing left to activate
    assert stored_member(member_id).balance == 100
    assert_ledger_consistent(member_id)


def test_a_partial_refund_takes_its_share_from_the_orders_own_lots_first(
    services: Services, member_id: str, clock: ManualClock
) -> None:
    old = order(services, "o-old", "100", placed_at=services.clock.now() - 30 * DAY).entry.lot
    assert old is not None
    _, (earn, promo) = order_with_bonus(services, "o-1")
    # Half the order: half of all it earned, promotion points included (160 / 2).
    changed, entry = refund(services, "r-1", "o-1", "30.00")
    assert (entry.points, changed.points_reversed) == (-80, 80)
    assert {f.lot_id for f in entry.funding} <= {earn.id, promo.id}
    assert open_lots(member_id)[old.id] == 100
    assert sum(open_lots(member_id).get(i, 0) for i in (earn.id, promo.id)) == 80
    # The rest of the order: the rest of its points, still from its own lots only.
    changed, entry = refund(services, "r-2", "o-1", "30.00")
    assert (entry.points, changed.points_reversed) == (-80, 160)
    assert open_lots(member_id) == {old.id: 100}
    assert_ledger_consistent(member_id)
    # The order's lots are gone: nothing of it activates later.
    clock.advance(20 * DAY)
    services.maintenance.run()
    assert open_lots(member_id) == {old.id: 100}
    assert stored_member(member_id).balance == 100
    assert_ledger_consistent(member_id)
