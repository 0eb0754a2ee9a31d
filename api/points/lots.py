"""Points lots: the arithmetic of earning, spending, clawing back and expiring. Pure functions.

A member's state is the list of open lots (remaining > 0) plus a debt. The invariant that the
tests hold every operation to:  balance == sum(lot.remaining) - debt == sum(ledger entries).
Availability is decided from timestamps and the caller's `now`, never from the stored status,
so a lot is unspendable the instant it expires even if the daily job has not recorded it yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum


class LotStatus(StrEnum):
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True)
class Lot:
    id: str
    points: int  # as earned
    remaining: int
    activates_at: datetime
    expires_at: datetime | None  # None: never expires
    status: LotStatus  # as last recorded; see status_at for the truth at a given time
    order_id: str | None = None

    def status_at(self, now: datetime) -> LotStatus:
        if self.expires_at is not None and now >= self.expires_at:
            return LotStatus.EXPIRED
        return LotStatus.PENDING if now < self.activates_at else LotStatus.ACTIVE

    def spend_order(self) -> tuple[bool, datetime, datetime]:
        """Earliest expiry first, never-expiring lots last; ties go to the older lot."""
        return (self.expires_at is None, self.expires_at or self.activates_at, self.activates_at)


@dataclass(frozen=True)
class Funding:
    """Part of a debit, taken from one lot."""

    lot_id: str
    points: int


@dataclass(frozen=True)
class PointsState:
    lots: tuple[Lot, ...] = ()
    debt: int = 0

    @property
    def balance(self) -> int:
        return sum(lot.remaining for lot in self.lots) - self.debt

    def available(self, now: datetime) -> int:
        return sum(lot.remaining for lot in self.lots if lot.status_at(now) is LotStatus.ACTIVE)

    def pending(self, now: datetime) -> int:
        return sum(lot.remaining for lot in self.lots if lot.status_at(now) is LotStatus.PENDING)

    def expiring(self, now: datetime, until: datetime) -> list[Lot]:
        """Open lots that expire in [now, until), soonest first."""
        return sorted(
            (
                lot
                for lot in self.lots
                if lot.expires_at is not None and now <= lot.expires_at < until
            ),
            key=Lot.spend_order,
        )

    def due_at(self) -> datetime | None:
        """When the scheduled job next has work here: a recorded-pending lot activating, or
        a lot expiring. None keeps the member out of the sparse due index."""
        times = [
            lot.activates_at if lot.status is LotStatus.PENDING else lot.expires_at
            for lot in self.lots
        ]
        present = [t for t in times if t is not None]
        return min(present) if present else None


def credit(state: PointsState, lot: Lot) -> PointsState:
    """Add an earned lot. An outstanding debt is repaid from it first."""
    repaid = min(state.debt, lot.remaining)
    new_lot = replace(lot, remaining=lot.remaining - repaid)
    lots = state.lots + ((new_lot,) if new_lot.remaining > 0 else ())
    return PointsState(lots=lots, debt=state.debt - repaid)


def _take(
    state: PointsState, points: int, order: Iterable[Lot]
) -> tuple[PointsState, list[Funding], int]:
    """Take up to `points` from lots in the given order. Returns (state, funding, untaken)."""
    taken: dict[str, int] = {}
    left = points
    for lot in order:
        if left == 0:
            break
        share = min(lot.remaining, left)
        if share > 0:
            taken[lot.id] = share
            left -= share
    lots = tuple(
        replace(lot, remaining=lot.remaining - taken.get(lot.id, 0))
        for lot in state.lots
        if lot.remaining - taken.get(lot.id, 0) > 0
    )
    funding = [Funding(lot_id, share) for lot_id, share in taken.items()]
    return PointsState(lots=lots, debt=state.debt), funding, left


def spendable(state: PointsState, now: datetime, *, include_pending: bool) -> list[Lot]:
    wanted = {LotStatus.ACTIVE, LotStatus.PENDING} if include_pending else {LotStatus.ACTIVE}
    lots = [lot for lot in state.lots if lot.status_at(now) in wanted]
    # Active before pending, each earliest-expiry first.
    return sorted(
        lots, key=lambda lot: (lot.status_at(now) is LotStatus.PENDING, lot.spend_order())
    )


def debit(
    state: PointsState, points: int, now: datetime, *, include_pending: bool
) -> tuple[PointsState, list[Funding]] | None:
    """Spend exactly `points`, or None when not enough are spendable now."""
    new_state, funding, left = _take(
        state, points, spendable(state, now, include_pending=include_pending)
    )
    return None if left else (new_state, funding)


@dataclass(frozen=True)
class Clawback:
    state: PointsState
    funding: list[Funding]
    debited: int  # points the entry removes: taken from lots plus new debt
    shortfall: int  # points that could not be taken back (stop-at-zero policy)


def claw_back(
    state: PointsState,
    points: int,
    now: datetime,
    order_id: str,
    *,
    allow_negative: bool,
) -> Clawback:
    """Take back an order's points: from its own lots (those it earned, its EARN lot and its
    promotions' lot: every lot carrying its order id), then any unexpired lot earliest-expiry
    first; what is left becomes debt, or a recorded shortfall under the stop-at-zero policy."""
    candidates = spendable(state, now, include_pending=True)
    candidates.sort(key=lambda lot: lot.order_id != order_id)  # stable: own lots first
    new_state, funding, left = _take(state, points, candidates)
    if allow_negative:
        return Clawback(replace(new_state, debt=new_state.debt + left), funding, points, 0)
    return Clawback(new_state, funding, points - left, left)


def expire_and_activate(
    state: PointsState, now: datetime
) -> tuple[PointsState, list[Funding], list[Lot]]:
    """What the scheduled job records at `now`: expiries (funding of the expiry entry) and
    pending lots that became active."""
    lots: list[Lot] = []
    expired: list[Funding] = []
    activated: list[Lot] = []
    for lot in state.lots:
        status = lot.status_at(now)
        if status is LotStatus.EXPIRED:
            expired.append(Funding(lot.id, lot.remaining))
            continue
        if status is LotStatus.ACTIVE and lot.status is LotStatus.PENDING:
            activated.append(replace(lot, status=LotStatus.ACTIVE))
            lots.append(activated[-1])
        else:
            lots.append(lot)
    return PointsState(lots=tuple(lots), debt=state.debt), expired, activated


def total(funding: Sequence[Funding]) -> int:
    return sum(f.points for f in funding)
