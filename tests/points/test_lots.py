"""Lot arithmetic, without storage."""

from __future__ import annotations

from datetime import timedelta

from api.points.lots import (
    Funding,
    Lot,
    LotStatus,
    PointsState,
    claw_back,
    credit,
    debit,
    expire_and_activate,
)
from tests.support import START

DAY = timedelta(days=1)


def lot(
    lot_id: str,
    remaining: int,
    *,
    activates: int = -1,
    expires: int | None = 100,
    order: str | None = None,
) -> Lot:
    return Lot(
        id=lot_id,
        points=remaining,
        remaining=remaining,
        activates_at=START + activates * DAY,
        expires_at=None if expires is None else START + expires * DAY,
        status=LotStatus.ACTIVE if activates <= 0 else LotStatus.PENDING,
        order_id=order,
    )


def test_debits_take_earliest_expiry_first_and_record_the_lots() -> None:
    state = PointsState(lots=(lot("late", 50, expires=200), lot("soon", 30, expires=10)))
    result = debit(state, 40, START, include_pending=False)
    assert result is not None
    new_state, funding = result
    assert funding == [Funding("soon", 30), Funding("late", 10)]
    assert [(x.id, x.remaining) for x in new_state.lots] == [("late", 40)]
    assert new_state.balance == 40


def test_never_expiring_lots_are_spent_last() -> None:
    state = PointsState(lots=(lot("forever", 10, expires=None), lot("dated", 10, expires=300)))
    result = debit(state, 15, START, include_pending=False)
    assert result is not None
    assert result[1] == [Funding("dated", 10), Funding("forever", 5)]


def test_pending_points_are_not_spendable() -> None:
    state = PointsState(lots=(lot("pending", 100, activates=5), lot("active", 10)))
    assert state.available(START) == 10
    assert state.pending(START) == 100
    assert debit(state, 11, START, include_pending=False) is None
    # ...until the return window ends, whether or not a job recorded it.
    assert state.available(START + 5 * DAY) == 110


def test_points_are_unspendable_from_the_instant_they_expire() -> None:
    state = PointsState(lots=(lot("a", 10, expires=3),))
    assert state.available(START + 3 * DAY - timedelta(microseconds=1)) == 10
    assert state.available(START + 3 * DAY) == 0
    assert debit(state, 1, START + 3 * DAY, include_pending=False) is None
    assert state.balance == 10  # still in the balance until the job records the expiry


def test_credit_repays_debt_first() -> None:
    state = PointsState(debt=30)
    new_state = credit(state, lot("new", 100))
    assert new_state.debt == 0
    assert new_state.lots[0].remaining == 70
    assert new_state.balance == 70
    small = credit(PointsState(debt=30), lot("small", 20))
    assert small.lots == ()
    assert small.debt == 10
    assert small.balance == -10


def test_clawback_takes_the_order_lot_first_then_others_then_debt() -> None:
    state = PointsState(lots=(lot("other", 20, expires=5), lot("own", 10, expires=50, order="o-1")))
    result = claw_back(state, 50, START, "o-1", allow_negative=True)
    assert result.funding == [Funding("own", 10), Funding("other", 20)]
    assert result.state.debt == 20
    assert result.debited == 50
    assert result.shortfall == 0
    assert result.state.balance == -20


def test_clawback_stops_at_zero_and_records_the_shortfall() -> None:
    state = PointsState(lots=(lot("own", 10, order="o-1"),))
    result = claw_back(state, 50, START, "o-1", allow_negative=False)
    assert result.debited == 10
    assert result.shortfall == 40
    assert result.state.balance == 0
    assert result.state.debt == 0


def test_clawback_takes_every_lot_of_the_order_first() -> None:
    """An order's EARN and PROMOTION lots (pending, like any new order's) go before an
    active lot of another order that would otherwise be taken first."""
    state = PointsState(
        lots=(
            lot("other", 40, expires=5, order="o-0"),
            lot("earn", 10, activates=14, order="o-1"),
            lot("promo", 20, activates=14, order="o-1"),
            lot("bonus", 7, expires=6),
        )
    )
    result = claw_back(state, 35, START, "o-1", allow_negative=False)
    assert result.funding == [Funding("earn", 10), Funding("promo", 20), Funding("other", 5)]
    assert [(x.id, x.remaining) for x in result.state.lots] == [("other", 35), ("bonus", 7)]


def test_clawback_ignores_expired_lots() -> None:
    state = PointsState(lots=(lot("expired", 10, expires=-1), lot("own", 5, order="o-1")))
    result = claw_back(state, 8, START, "o-1", allow_negative=False)
    assert result.funding == [Funding("own", 5)]
    assert result.shortfall == 3


def test_job_expires_and_activates_by_time() -> None:
    state = PointsState(
        lots=(
            lot("expired", 10, expires=-1),
            lot("later", 5, activates=3),
            lot("was-pending", 7, activates=1),
        ),
    )
    new_state, expired, activated = expire_and_activate(state, START + 2 * DAY)
    assert expired == [Funding("expired", 10)]
    assert [x.id for x in activated] == ["was-pending"]
    assert {x.id: x.status for x in new_state.lots} == {
        "later": LotStatus.PENDING,
        "was-pending": LotStatus.ACTIVE,
    }


def test_due_at_is_the_next_recorded_transition() -> None:
    assert PointsState().due_at() is None
    state = PointsState(lots=(lot("p", 1, activates=4, expires=10), lot("a", 1, expires=30)))
    assert state.due_at() == START + 4 * DAY
    assert PointsState(lots=(lot("forever", 1, expires=None),)).due_at() is None
