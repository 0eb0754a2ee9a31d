"""Property: whatever the sequence of operations, a member's qualifying credit is exactly
the non-refunded share of their orders inside the window, and their tier never falls below
what that credit qualifies for.

For random sequences of orders (placed up to 400 days ago), partial and full refunds,
redemptions, clock moves and runs of the daily job, in each window and a sampled metric,
downgrade policy and grace period, checked after every step against a model the test
keeps itself (not the rules' own window arithmetic):
- the value `credit.value` reads from the member item equals the sum, over the orders
  whose day is inside the window, of what each still counts (base points less the share
  refunds took back; spend net of refunds; one order unless fully refunded);
- the member's tier ranks at least as high as that value qualifies for;
- a tier goes down only in a run of the daily job, at or after its review date; it goes up
  only with an order or at a review;
- every order earns the multiplier of the tier held before it, and each entry bonus is
  granted exactly once for every tier the member ever reached, and for no other;
- a second run of the job at the same time changes nothing;
- the ledger's invariants still hold with TIER_BONUS entries.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from api.clock import ManualClock
from api.config import Config, Stage
from api.errors import DomainError
from api.ids import member_id_for
from api.points.model import EntryKind, RefundInput
from api.program.model import SettingsChange
from api.services import Services, build_services
from api.tiers import credit
from api.tiers.model import (
    ConfigInput,
    DowngradePolicy,
    Metric,
    TierConfig,
    TierInput,
    TierState,
    Window,
)
from local.table import create_table
from tests.support import (
    ADMIN,
    SERVICE,
    START,
    assert_ledger_consistent,
    enroll,
    ledger_entries,
    order,
    redeem,
    stored_member,
)

CUSTOMERS = ("cust-a", "cust-b")
# Thresholds reachable in a few orders of up to 500 EUR (one base point per euro).
THRESHOLDS = {
    Metric.QUALIFYING_POINTS: (0, 150, 500, 1200),
    Metric.SPEND: (0, 150, 500, 1200),
    Metric.ORDERS: (0, 2, 4, 6),
}


def ladder(metric: Metric) -> list[TierInput]:
    low, silver, gold, platinum = THRESHOLDS[metric]
    return [
        TierInput("BRONZE", "Bronze", Decimal(low)),
        TierInput("SILVER", "Silver", Decimal(silver), Decimal("1.25"), ["Free shipping"], 50),
        TierInput("GOLD", "Gold", Decimal(gold), Decimal("1.5"), [], 0),  # no bonus
        TierInput("PLATINUM", "Platinum", Decimal(platinum), Decimal(2), [], 300),
    ]


customer = st.sampled_from(CUSTOMERS)
cents = st.integers(0, 50_000)  # up to 500 EUR
days = st.integers(1, 200) | st.sampled_from([1, 30, 200])
ordered_now = st.tuples(st.just("order"), customer, cents, st.just(0))
# Long moves then the job: reviews fall due (a year and the grace period after a tier).
advance_and_job = st.tuples(st.just("advance"), days | st.integers(150, 200), st.just("job"))
operation = st.one_of(
    ordered_now,
    ordered_now,
    st.tuples(st.just("order"), customer, cents, st.integers(0, 400)),  # placed days ago
    st.tuples(st.just("refund"), st.integers(0, 30), st.sampled_from([10, 50, 100, 100])),
    st.tuples(st.just("redeem"), customer, st.integers(1, 300)),
    st.tuples(st.just("advance"), days),
    advance_and_job,
    advance_and_job,
    st.tuples(st.just("job")),
)
# Every sequence starts with an order big enough to reach a tier (with ORDERS, the first
# of the two that reach Silver).
sequences = st.tuples(
    st.tuples(st.just("order"), customer, st.integers(15_000, 50_000), st.just(0)),
    st.lists(operation, min_size=3, max_size=10),
).map(lambda first_and_rest: [first_and_rest[0], *first_and_rest[1]])


@dataclass
class Placed:
    """An order as the test placed it: what it should count towards tiers."""

    order_id: str
    customer: str
    day: date
    total: Decimal  # EUR
    base: int  # base points, as its EARN entry says
    refunded: Decimal = Decimal(0)

    def counts(self, metric: Metric) -> Decimal:
        full = self.total > 0 and self.refunded == self.total
        if metric is Metric.ORDERS:
            return Decimal(0 if full else 1)
        if metric is Metric.SPEND:
            return self.total - self.refunded
        if full:
            return Decimal(0)
        if not self.total:  # a free order: nothing to refund, nothing taken back
            return Decimal(self.base)
        share = (self.base * self.refunded / self.total).to_integral_value(ROUND_FLOOR)
        return Decimal(self.base) - share


def anniversary(day: date) -> date:
    """The day an order stops counting in a rolling window: a year on (29 February's is
    1 March)."""
    if (day.month, day.day) == (2, 29):
        return date(day.year + 1, 3, 1)
    return day.replace(year=day.year + 1)


def inside(day: date, window: Window, now: datetime) -> bool:
    today = now.date()
    if window is Window.LIFETIME:
        return True
    if window is Window.CALENDAR_YEAR:
        return day.year == today.year
    return day <= today < anniversary(day)


def expected(placed: list[Placed], cust: str, config: TierConfig, now: datetime) -> Decimal:
    return sum(
        (
            p.counts(config.metric)
            for p in placed
            if p.customer == cust and inside(p.day, config.window, now)
        ),
        Decimal(0),
    )


@pytest.mark.parametrize("window", list(Window))
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    metric=st.sampled_from(Metric),
    policy=st.sampled_from(DowngradePolicy),
    grace=st.sampled_from([0, 30]),
    ops=sequences,
)
def test_qualifying_credit_and_tiers_hold_for_any_sequence(
    dynamodb_client: Any,
    window: Window,
    metric: Metric,
    policy: DowngradePolicy,
    grace: int,
    ops: list[tuple[Any, ...]],
) -> None:
    with mock_aws():
        create_table(dynamodb_client, "loyalty-test")
        clock = ManualClock(START)  # the program's own clock offset stays 0: its time
        services = build_services(
            Config(stage=Stage.DEV, table_name="loyalty-test", maintenance_workers=1), clock
        )
        services.program.update(ADMIN, SettingsChange(return_window_days=7, lot_validity_days=90))
        config = services.tiers.update(
            ADMIN, ConfigInput(ladder(metric), metric, window, policy, grace_days=grace)
        )
        tiers = {c: stored_member(enroll(services, c)).tier for c in CUSTOMERS}
        placed: list[Placed] = []
        for n, op in enumerate(ops):
            with suppress(DomainError):  # refusals are fine if they wrote nothing
                apply(services, clock, config, tiers, placed, n, op)
            now = clock.now()
            touched = touches(op, placed)
            for cust in CUSTOMERS:
                was, state = tiers[cust], stored_member(member_id_for(cust)).tier
                tiers[cust] = state
                value = credit.value(state, config, now)
                assert value == expected(placed, cust, config, now), (cust, op)
                rank = config.rank(state.code)
                assert rank >= credit.qualified(config, value), (cust, op, state)
                if op[0] == "refund" and state.review_at != was.review_at:
                    event("review brought forward by a refund")
                    assert state.review_at is not None
                    assert was.review_at is None or state.review_at < was.review_at
                if rank < config.rank(was.code):  # down: only by the job, at the review
                    event("downgraded")
                    assert op[-1] == "job", (cust, op)
                    assert was.review_at is not None
                    assert now >= was.review_at
                if rank > config.rank(was.code):  # up: with an order, or at a review
                    event(f"upgraded by {op[0]}")
                    assert op[0] == "order" or op[-1] == "job", (cust, op)
                if cust in touched:
                    assert_ledger_consistent(member_id_for(cust))
        for cust in CUSTOMERS:  # entries are immutable: once is enough
            assert_bonuses_once(member_id_for(cust), config, tiers[cust].bonuses)


def apply(
    services: Services,
    clock: ManualClock,
    config: TierConfig,
    tiers: dict[str, TierState],
    placed: list[Placed],
    n: int,
    op: tuple[Any, ...],
) -> None:
    match op:
        case ("order", cust, cents, days_ago):
            total = Decimal(cents) / 100
            result = order(
                services,
                f"o-{n}",
                str(total),
                customer_id=cust,
                placed_at=clock.now() - timedelta(days=days_ago),
            )
            held = config.tier(tiers[cust].code)
            assert held is not None
            assert result.entry.multiplier == held.multiplier  # the tier held at the order
            assert result.entry.base_points is not None
            day = result.order.placed_at.date()
            placed.append(Placed(f"o-{n}", cust, day, total, result.entry.base_points))
        case ("refund", index, percent) if placed:
            target = placed[index % len(placed)]
            amount = ((target.total - target.refunded) * percent / 100).quantize(Decimal("0.01"))
            if amount <= 0:
                return
            services.refunds.refund_order(
                SERVICE, RefundInput(f"r-{n}", target.order_id, amount, "EUR")
            )
            target.refunded += amount
        case ("redeem", cust, points):
            redeem(services, points, f"k-{n}", customer_id=cust)
        case ("advance", days):
            clock.advance(timedelta(days=days))
        case ("advance", days, "job"):
            clock.advance(timedelta(days=days))
            apply(services, clock, config, tiers, placed, n, ("job",))
        case ("job",):
            services.maintenance.run()
            again = services.maintenance.run()  # the same time: nothing left to do
            assert (again.members_changed, again.tiers_reviewed, again.tiers_lowered) == (0, 0, 0)


def touches(op: tuple[Any, ...], placed: list[Placed]) -> set[str]:
    """The customers whose ledger an operation may have written to."""
    match op:
        case ("order" | "redeem", cust, *_):
            return {cust}
        case ("refund", index, _) if placed:
            return {placed[index % len(placed)].customer}
        case (*_, "job"):
            return set(CUSTOMERS)
    return set()


def assert_bonuses_once(member_id: str, config: TierConfig, reached: frozenset[str]) -> None:
    """Exactly one TIER_BONUS entry, of its amount, for each tier with a bonus the member
    ever reached; none for any other."""
    by_reason = {f"Entry bonus: {t.name}": t for t in config.tiers}
    bonuses = [e for e in ledger_entries(member_id) if e.kind is EntryKind.TIER_BONUS]
    granted = [(by_reason[e.reason or ""].code, e.points) for e in bonuses]
    assert sorted(granted) == sorted(
        (t.code, t.entry_bonus) for t in config.tiers if t.entry_bonus and t.code in reached
    )
