"""Program settings (earning rule, currencies, windows, policies) and the test clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from api.auth import Permission, Principal
from api.clock import Clock
from api.config import Config
from api.errors import InvalidInput, TestClockDisabled
from api.money import ISO_CURRENCIES, Money
from api.store.models import ProgramItem
from api.store.tx import Cancelled, Retry, Transaction, with_retries
from api.validation import MAX_POINTS

PROGRAM_KEY = ("PROGRAM", "SETTINGS")


class Rounding(StrEnum):
    DOWN = "DOWN"
    UP = "UP"
    NEAREST = "NEAREST"  # halves round up


_DECIMAL_ROUNDING = {
    Rounding.DOWN: ROUND_FLOOR,
    Rounding.UP: ROUND_CEILING,
    Rounding.NEAREST: ROUND_HALF_UP,
}


class NegativeBalancePolicy(StrEnum):
    ALLOW_NEGATIVE = "ALLOW_NEGATIVE"  # a clawback of spent points leaves a debt
    STOP_AT_ZERO = "STOP_AT_ZERO"  # the clawback stops at zero; the shortfall is recorded


@dataclass(frozen=True)
class EarningRule:
    points_per_unit: Decimal = Decimal(1)
    rounding: Rounding = Rounding.DOWN
    min_points_per_order: int = 0  # orders that would earn fewer points earn none
    max_points_per_order: int | None = None

    def points_for(self, total: Money) -> int:
        raw = (total.amount * self.points_per_unit).to_integral_value(
            _DECIMAL_ROUNDING[self.rounding]
        )
        points = int(raw)
        if points < self.min_points_per_order:
            return 0
        if self.max_points_per_order is not None:
            points = min(points, self.max_points_per_order)
        if points > MAX_POINTS:
            raise InvalidInput(
                "total.amount",
                f"This order would earn more than {MAX_POINTS} points; check the amount.",
            )
        return points


@dataclass(frozen=True)
class ProgramSettings:
    earning_rule: EarningRule = field(default_factory=EarningRule)
    accepted_currencies: tuple[str, ...] = ("EUR", "USD")
    return_window_days: int = 14
    lot_validity_days: int | None = 365
    negative_balance_policy: NegativeBalancePolicy = NegativeBalancePolicy.ALLOW_NEGATIVE
    clock_offset: timedelta = timedelta(0)
    updated_at: datetime | None = None
    version: int | None = None  # None: never saved, the defaults apply

    @property
    def return_window(self) -> timedelta:
        return timedelta(days=self.return_window_days)

    @property
    def lot_validity(self) -> timedelta | None:
        return None if self.lot_validity_days is None else timedelta(days=self.lot_validity_days)


@dataclass(frozen=True)
class SettingsChange:
    """A partial update: None leaves a setting as it is."""

    points_per_unit: Decimal | None = None
    rounding: Rounding | None = None
    min_points_per_order: int | None = None
    max_points_per_order: int | None = None
    clear_max_points_per_order: bool = False
    accepted_currencies: list[str] | None = None
    return_window_days: int | None = None
    lot_validity_days: int | None = None
    lots_never_expire: bool = False
    negative_balance_policy: NegativeBalancePolicy | None = None


def settings_from_item(item: ProgramItem | None) -> ProgramSettings:
    if item is None:
        return ProgramSettings()
    return ProgramSettings(
        earning_rule=EarningRule(
            points_per_unit=Decimal(item.points_per_unit),
            rounding=Rounding(item.rounding),
            min_points_per_order=item.min_points,
            max_points_per_order=None if item.max_points is None else item.max_points,
        ),
        accepted_currencies=tuple(sorted(item.currencies)),
        return_window_days=item.return_window_days,
        lot_validity_days=None if item.lot_validity_days is None else item.lot_validity_days,
        negative_balance_policy=NegativeBalancePolicy(item.negative_balance),
        clock_offset=timedelta(seconds=item.clock_offset_seconds),
        updated_at=item.updated_at,
        version=item.version,
    )


def settings_to_item(settings: ProgramSettings, now: datetime) -> ProgramItem:
    rule = settings.earning_rule
    item = ProgramItem(
        *PROGRAM_KEY,
        points_per_unit=str(rule.points_per_unit),
        rounding=rule.rounding.value,
        min_points=rule.min_points_per_order,
        max_points=rule.max_points_per_order,
        currencies=set(settings.accepted_currencies),
        return_window_days=settings.return_window_days,
        lot_validity_days=settings.lot_validity_days,
        negative_balance=settings.negative_balance_policy.value,
        clock_offset_seconds=int(settings.clock_offset.total_seconds()),
        updated_at=now,
    )
    if settings.version is not None:  # a first save: PynamoDB then expects no item yet
        item.version = settings.version
    return item


def _bounded(field_name: str, value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise InvalidInput(field_name, f"Must be between {low} and {high}.")
    return value


def apply_change(settings: ProgramSettings, change: SettingsChange) -> ProgramSettings:
    rule = settings.earning_rule
    if change.points_per_unit is not None:
        rate = change.points_per_unit
        try:
            ok = rate.is_finite() and Decimal(0) < rate <= Decimal(10000)
            ok = ok and -int(rate.normalize().as_tuple().exponent) <= 4
        except (InvalidOperation, TypeError):
            ok = False
        if not ok:
            raise InvalidInput(
                "earningRule.pointsPerUnit",
                "Must be more than 0 and at most 10000, with up to 4 decimals.",
            )
        rule = replace(rule, points_per_unit=rate)
    if change.rounding is not None:
        rule = replace(rule, rounding=change.rounding)
    if change.min_points_per_order is not None:
        rule = replace(
            rule,
            min_points_per_order=_bounded(
                "earningRule.minPointsPerOrder", change.min_points_per_order, 0, MAX_POINTS
            ),
        )
    if change.clear_max_points_per_order:
        rule = replace(rule, max_points_per_order=None)
    elif change.max_points_per_order is not None:
        rule = replace(
            rule,
            max_points_per_order=_bounded(
                "earningRule.maxPointsPerOrder", change.max_points_per_order, 1, MAX_POINTS
            ),
        )
    if (
        rule.max_points_per_order is not None
        and rule.max_points_per_order < rule.min_points_per_order
    ):
        raise InvalidInput("earningRule.maxPointsPerOrder", "Must not be below minPointsPerOrder.")
    new = replace(settings, earning_rule=rule)
    if change.accepted_currencies is not None:
        codes = [c.strip().upper() for c in change.accepted_currencies]
        unknown = [c for c in codes if c not in ISO_CURRENCIES]
        if unknown or not codes or len(codes) > 50:
            raise InvalidInput(
                "acceptedCurrencies",
                "Give 1 to 50 ISO 4217 currency codes"
                + (f"; unknown: {', '.join(c[:8] for c in unknown[:5])}." if unknown else "."),
            )
        new = replace(new, accepted_currencies=tuple(sorted(set(codes))))
    if change.return_window_days is not None:
        new = replace(
            new, return_window_days=_bounded("returnWindowDays", change.return_window_days, 0, 365)
        )
    if change.lots_never_expire:
        new = replace(new, lot_validity_days=None)
    elif change.lot_validity_days is not None:
        new = replace(
            new, lot_validity_days=_bounded("lotValidityDays", change.lot_validity_days, 1, 3650)
        )
    if change.negative_balance_policy is not None:
        new = replace(new, negative_balance_policy=change.negative_balance_policy)
    return new


MAX_CLOCK_STEP_SECONDS = 3660 * 86400
# The test clock never runs further ahead than this in total: program time stays far from
# year 9999, and the offset fits GraphQL's 32-bit Int. resetClock starts again from zero.
MAX_CLOCK_OFFSET = timedelta(days=20 * 366)


class ProgramService:
    def __init__(self, config: Config, clock: Clock) -> None:
        self._config = config
        self._clock = clock

    def now(self, settings: ProgramSettings) -> datetime:
        """The program's time: the clock, moved forward by the test clock outside production."""
        if self._config.test_clock:
            # Clamped: a stage whose offset was stored before the bound existed still works
            # (and can be reset).
            return self._clock.now() + min(settings.clock_offset, MAX_CLOCK_OFFSET)
        return self._clock.now()

    def load(self) -> ProgramSettings:
        try:
            item = ProgramItem.get(*PROGRAM_KEY, consistent_read=True)
        except ProgramItem.DoesNotExist:
            return ProgramSettings()
        return settings_from_item(item)

    def current_time(self) -> datetime:
        """Program time for reads; costs a read only where a test clock may be set."""
        return self.now(self.load()) if self._config.test_clock else self._clock.now()

    def get(self, actor: Principal) -> ProgramSettings:
        actor.require(Permission.READ_PROGRAM)
        return self.load()

    def update(self, actor: Principal, change: SettingsChange) -> ProgramSettings:
        actor.require(Permission.UPDATE_PROGRAM)
        return self._save(lambda settings: apply_change(settings, change))

    def advance_clock(
        self, actor: Principal, seconds: int = 0, *, days: int = 0, hours: int = 0
    ) -> ProgramSettings:
        """Move the program's time forward (never back: the ledger's order follows it)."""
        actor.require(Permission.USE_TEST_CLOCK)
        if not self._config.test_clock:
            raise TestClockDisabled()
        for name, value in (("days", days), ("hours", hours), ("seconds", seconds)):
            if value < 0:
                raise InvalidInput(name, "Cannot be negative: the clock only moves forward.")
        seconds += days * 86400 + hours * 3600
        if not 0 < seconds <= MAX_CLOCK_STEP_SECONDS:
            raise InvalidInput("seconds", "Move the clock forward by up to 10 years.")
        by = timedelta(seconds=seconds)

        def advance(settings: ProgramSettings) -> ProgramSettings:
            offset = settings.clock_offset + by
            if offset > MAX_CLOCK_OFFSET:
                raise InvalidInput(
                    "seconds",
                    f"The test clock runs at most {MAX_CLOCK_OFFSET.days} days ahead; it is "
                    f"{settings.clock_offset.days} days ahead now. Reset it (resetTestClock) "
                    "to start again.",
                )
            return replace(settings, clock_offset=offset)

        return self._save(advance)

    def reset_clock(self, actor: Principal) -> ProgramSettings:
        """Back to real time. What was recorded in program time stays as it was: lots dated
        ahead wait until real time reaches them (pending lots look pending again)."""
        actor.require(Permission.USE_TEST_CLOCK)
        if not self._config.test_clock:
            raise TestClockDisabled()
        return self._save(lambda settings: replace(settings, clock_offset=timedelta(0)))

    def _save(self, change: Callable[[ProgramSettings], ProgramSettings]) -> ProgramSettings:
        def attempt() -> ProgramSettings:
            current = self.load()
            new = change(current)
            item = settings_to_item(new, self._clock.now())
            tx = Transaction()
            tx.put(item)
            try:
                tx.commit()
            except Cancelled as exc:
                raise Retry() from exc  # someone else saved first: apply to theirs
            return settings_from_item(item)

        return with_retries(self._clock, attempt)
