"""recordOrder: the earning rule, lots, idempotency and refusals."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from api.errors import (
    ErrorCode,
    Forbidden,
    IdempotencyConflict,
    InvalidInput,
    MemberNotFound,
)
from api.ids import member_id_for
from api.points.lots import LotStatus
from api.points.model import EntryKind, OrderInput
from api.program.model import Rounding, SettingsChange
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
    stored_due_at,
    stored_member,
)

DAY = timedelta(days=1)


@pytest.fixture
def member_id(services: Services) -> str:
    return enroll(services)


def test_an_order_earns_a_pending_lot_that_activates_then_expires(
    services: Services, member_id: str
) -> None:
    placed = services.clock.now() - DAY
    result = order(services, "o-1", "120.50", placed_at=placed)
    entry = result.entry
    assert entry.kind is EntryKind.EARN
    assert (entry.points, entry.balance_after) == (120, 120)
    assert entry.amount is not None
    assert entry.amount.amount == Decimal("120.50")
    lot = entry.lot
    assert lot is not None
    assert lot.activates_at == placed + 14 * DAY
    assert lot.expires_at == placed + (14 + 365) * DAY
    assert lot.status is LotStatus.PENDING
    assert result.order.points_earned == 120
    assert result.order.lot_id == lot.id
    state = services.member_views.view(member("cust-1"), member_id, None)
    assert state is not None
    assert state.member.points.pending(state.now) == 120
    assert state.member.points.available(state.now) == 0
    assert_ledger_consistent(member_id)


@pytest.mark.parametrize(
    ("rounding", "rate", "amount", "expected"),
    [
        (Rounding.DOWN, "1", "120.99", 120),
        (Rounding.UP, "1", "120.01", 121),
        (Rounding.NEAREST, "1", "120.50", 121),
        (Rounding.NEAREST, "1", "120.49", 120),
        (Rounding.DOWN, "2.5", "10.00", 25),
        (Rounding.DOWN, "0.1", "99.99", 9),
    ],
)
def test_earning_rule(
    services: Services, member_id: str, rounding: Rounding, rate: str, amount: str, expected: int
) -> None:
    services.program.update(ADMIN, SettingsChange(points_per_unit=Decimal(rate), rounding=rounding))
    assert order(services, "o-1", amount).entry.points == expected


def test_min_and_max_points_per_order(services: Services, member_id: str) -> None:
    services.program.update(
        ADMIN, SettingsChange(min_points_per_order=10, max_points_per_order=500)
    )
    below = order(services, "small", "9.99")
    assert below.entry.points == 0
    assert below.entry.lot is None  # nothing to expire or spend
    assert order(services, "large", "1200").entry.points == 500
    assert order(services, "mid", "10").entry.points == 10
    assert_ledger_consistent(member_id)


def test_no_return_window_makes_points_active_at_once(services: Services, member_id: str) -> None:
    services.program.update(ADMIN, SettingsChange(return_window_days=0))
    lot = order(services, "o-1", "10").entry.lot
    assert lot is not None
    assert lot.status is LotStatus.ACTIVE


def test_lots_without_validity_never_expire(services: Services, member_id: str) -> None:
    services.program.update(ADMIN, SettingsChange(lots_never_expire=True))
    lot = order(services, "o-1", "10").entry.lot
    assert lot is not None
    assert lot.expires_at is None
    assert stored_due_at(member_id) == lot.activates_at  # still due to activate


def test_order_by_member_id_or_customer_id_is_the_same_order(
    services: Services, member_id: str
) -> None:
    assert member_id == member_id_for("cust-1")
    first = order(services, "o-1", "10")
    replay = services.orders.record_order(
        SERVICE,
        OrderInput(
            order_id="o-1",
            member_id=member_id,
            total_amount=Decimal("10.00"),
            currency="eur",
            placed_at=services.clock.now(),
        ),
    )
    assert replay == first


def test_a_replay_returns_the_first_result(services: Services, member_id: str) -> None:
    first = order(services, "o-1", "50")
    order(services, "o-2", "20")
    again = order(services, "o-1", "50")
    assert again.entry == first.entry  # same entry, same balance after
    assert len(ledger_entries(member_id)) == 2
    assert stored_member(member_id).balance == 70


def test_same_order_id_with_a_different_payload_is_a_conflict(
    services: Services, member_id: str
) -> None:
    order(services, "o-1", "50")
    with pytest.raises(IdempotencyConflict):
        order(services, "o-1", "51")
    enroll(services, "cust-2")
    with pytest.raises(IdempotencyConflict):
        order(services, "o-1", "50", customer_id="cust-2")
    assert len(ledger_entries(member_id)) == 1


def test_a_replay_still_answers_after_the_program_changes(
    services: Services, member_id: str
) -> None:
    first = order(services, "o-1", "50", currency="USD")
    services.program.update(ADMIN, SettingsChange(accepted_currencies=["EUR"]))
    assert order(services, "o-1", "50", currency="USD") == first


def test_recording_is_one_read_and_one_transaction(services: Services, member_id: str) -> None:
    with count_requests() as calls:
        order(services, "o-1", "50")
    assert calls == {"BatchGetItem": 1, "TransactWriteItems": 1}


def test_unknown_member(services: Services) -> None:
    with pytest.raises(MemberNotFound):
        order(services, "o-1", "50", customer_id="nobody")


@pytest.mark.parametrize(
    ("amount", "currency", "field", "code"),
    [
        ("-1", "EUR", "total.amount", ErrorCode.INVALID_INPUT),
        ("10.001", "EUR", "total.amount", ErrorCode.INVALID_INPUT),
        ("10.5", "JPY", "total.amount", ErrorCode.INVALID_INPUT),
        ("1e12", "EUR", "total.amount", ErrorCode.INVALID_INPUT),
        ("NaN", "EUR", "total.amount", ErrorCode.INVALID_INPUT),
        ("Infinity", "EUR", "total.amount", ErrorCode.INVALID_INPUT),
        ("10", "XYZ", "total.currency", ErrorCode.UNSUPPORTED_CURRENCY),
        ("10", "GBP", "total.currency", ErrorCode.UNSUPPORTED_CURRENCY),
        ("10", "E", "total.currency", ErrorCode.UNSUPPORTED_CURRENCY),
    ],
)
def test_bad_amounts_are_refused_and_write_nothing(
    services: Services, member_id: str, amount: str, currency: str, field: str, code: ErrorCode
) -> None:
    with pytest.raises(InvalidInput) as error:
        order(services, "o-1", amount, currency=currency)
    assert (error.value.field, error.value.code) == (field, code)
    assert ledger_entries(member_id) == []
    assert services.orders.get_order(ADMIN, "o-1") is None


def test_three_decimal_currencies_and_trailing_zeros(services: Services, member_id: str) -> None:
    services.program.update(ADMIN, SettingsChange(accepted_currencies=["KWD", "JPY"]))
    assert order(services, "o-1", "10.125", currency="KWD").order.total.amount == Decimal("10.125")
    assert order(services, "o-2", "1000.00", currency="JPY").order.total.amount == Decimal("1000")


@pytest.mark.parametrize(
    ("order_id", "customer_id", "field"),
    [
        ("", "cust-1", "orderId"),
        ("has space", "cust-1", "orderId"),
        ("x" * 129, "cust-1", "orderId"),
        ("o-1\n", "cust-1", "orderId"),
        ("o-é", "cust-1", "orderId"),
        ("o-1", "bad id", "customerId"),
    ],
)
def test_malformed_ids_are_refused(
    services: Services, member_id: str, order_id: str, customer_id: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        order(services, order_id, "10", customer_id=customer_id)
    assert error.value.field == field
    assert ledger_entries(member_id) == []


def test_placed_at_must_be_aware_and_not_in_the_future(services: Services, member_id: str) -> None:
    now = services.clock.now()
    with pytest.raises(InvalidInput, match="offset"):
        order(services, "o-1", "10", placed_at=now.replace(tzinfo=None))
    with pytest.raises(InvalidInput, match="future"):
        order(services, "o-1", "10", placed_at=now + timedelta(hours=1))
    with pytest.raises(InvalidInput, match="10 years"):
        order(services, "o-1", "10", placed_at=now.replace(year=2000))
    order(services, "o-1", "10", placed_at=now + timedelta(minutes=2))  # clock skew is fine
    assert len(ledger_entries(member_id)) == 1


def test_only_the_shop_backend_records_orders(services: Services, member_id: str) -> None:
    for actor in (ADMIN, member("cust-1")):
        with pytest.raises(Forbidden):
            services.orders.record_order(
                actor,
                OrderInput(
                    order_id="o-1",
                    customer_id="cust-1",
                    total_amount=Decimal(10),
                    currency="EUR",
                    placed_at=services.clock.now(),
                ),
            )
    assert ledger_entries(member_id) == []
