"""The tier rules, pure: windows, qualification, upgrades on orders, refunds, reviews and
progress, on hand-computed fixtures (no table, no clock)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from api.money import Money
from api.program.model import EarningRule
from api.tiers import credit, rules
from api.tiers.model import (
    ChangeReason,
    Credit,
    DowngradePolicy,
    Manual,
    Metric,
    Occasion,
    Progress,
    Tier,
    TierConfig,
    TierState,
    Window,
)

DAY = timedelta(days=1)
MEMBER = "m-1"
LADDER = (
    Tier("BRONZE", "Bronze", Decimal(0)),
    Tier("SILVER", "Silver", Decimal(100), Decimal("1.25"), ("Free shipping",), 50),
    Tier("GOLD", "Gold", Decimal(500), Decimal("1.5"), ("Early access",), 200),
    Tier("PLATINUM", "Platinum", Decimal(2000), Decimal(2), (), 1000),
)
ROLLING = TierConfig(
    tiers=LADDER,
    metric=Metric.QUALIFYING_POINTS,
    window=Window.ROLLING_12_MONTHS,
    downgrade=DowngradePolicy.ONE_TIER,
    grace_days=30,
    version=1,
)
CALENDAR = replace(ROLLING, window=Window.CALENDAR_YEAR)
LIFETIME = replace(ROLLING, window=Window.LIFETIME)


def with_gold(threshold: int) -> TierConfig:
    """The rolling ladder with Gold's threshold changed (an admin's edit)."""
    gold = replace(LADDER[2], threshold=Decimal(threshold))
    return replace(ROLLING, tiers=(*LADDER[:2], gold, LADDER[3]), version=2)


def t(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def at(now: datetime, order_id: str | None = None) -> Occasion:
    return Occasion(MEMBER, now, "test", order_id)


def pts(points: int, spend: int | None = None) -> Credit:
    """An order's credit: `points` base points, one order, `spend` euros (default: points)."""
    return Credit(
        points=points, orders=1, spend={"EUR": 100 * (points if spend is None else spend)}
    )


def buy(
    state: TierState,
    config: TierConfig,
    now: datetime,
    points: int,
    day: date | None = None,
    order_id: str = "o",
) -> TierState:
    """An order of `points` base points placed on `day` (today by default)."""
    state, _ = rules.on_order(state, config, at(now, order_id), day or now.date(), pts(points))
    return state


def refund(
    state: TierState, config: TierConfig, now: datetime, points: int, day: date, *, full: bool
) -> TierState:
    reversal = Credit(points=points, orders=int(full), spend={"EUR": 100 * points})
    return rules.on_refund(state, config, day, reversal, now)


def credits(**days: int) -> TierState:
    """A state whose credit is `points` on each ISO day given as d2025_03_01=points."""
    return TierState(
        credits={date.fromisoformat(k[1:].replace("_", "-")): pts(v) for k, v in days.items()},
        lifetime=Credit(points=sum(days.values()), orders=len(days)),
    )


# ---- windows ---------------------------------------------------------------------------------


def test_the_rolling_window_is_the_last_12_months_to_the_day() -> None:
    state = credits(d2025_03_01=1, d2025_03_02=10, d2026_03_01=100)
    assert credit.value(state, ROLLING, t(2026, 2, 27)) == 11  # both of last year's days
    # Tomorrow's credit is clock skew (an order placed minutes ahead): it counts today.
    assert credit.value(state, ROLLING, t(2026, 2, 28)) == 111
    assert credit.value(state, ROLLING, t(2026, 3, 1, 0, 0)) == 110  # 2025-03-01 has left
    assert credit.value(state, ROLLING, t(2026, 3, 1, 23, 59)) == 110
    assert credit.value(state, ROLLING, t(2026, 3, 2)) == 100
    assert credit.value(state, ROLLING, t(2027, 2, 28)) == 100
    assert credit.value(state, ROLLING, t(2027, 3, 1)) == 0


def test_the_rolling_window_across_29_february() -> None:
    state = credits(d2023_03_01=1, d2024_02_28=10, d2024_02_29=100, d2024_03_02=1000)
    # On a leap day, the window reaches back to 1 March of the year before.
    assert credit.value(state, ROLLING, t(2024, 2, 29)) == 111
    assert credit.value(state, ROLLING, t(2024, 3, 1)) == 1110
    # A year after a leap day: 28 February still counts it, 1 March no longer.
    assert credit.value(state, ROLLING, t(2025, 2, 27)) == 1110
    assert credit.value(state, ROLLING, t(2025, 2, 28)) == 1100
    assert credit.value(state, ROLLING, t(2025, 3, 1)) == 1000
    assert credit.value(state, ROLLING, t(2025, 3, 2)) == 0
    assert credit.year_before(date(2024, 2, 29)) == date(2023, 2, 28)
    assert credit.year_before(date(2025, 3, 1)) == date(2024, 3, 1)
    assert credit.year_after(t(2024, 2, 29, 8)) == t(2025, 2, 28, 8)
    assert credit.year_after(t(2023, 2, 28, 8)) == t(2024, 2, 28, 8)


def test_the_year_boundary_in_each_window() -> None:
    state = credits(d2025_12_31=10, d2026_01_01=100)
    assert credit.value(state, ROLLING, t(2026, 12, 30, 23, 59)) == 110
    assert credit.value(state, ROLLING, t(2026, 12, 31, 0, 0)) == 100  # a year on: gone
    assert credit.value(state, ROLLING, t(2027, 1, 1, 0, 0)) == 0
    assert credit.value(state, CALENDAR, t(2025, 12, 31, 23, 59)) == 10
    assert credit.value(state, CALENDAR, t(2026, 1, 1, 0, 0)) == 100
    assert credit.value(state, CALENDAR, t(2026, 12, 31, 23, 59)) == 100
    assert credit.value(state, CALENDAR, t(2027, 1, 1, 0, 0)) == 0
    assert credit.value_in_year(state, CALENDAR, 2025) == 10
    assert credit.value(state, LIFETIME, t(2040, 1, 1)) == 110


def test_lifetime_counts_credit_no_window_keeps() -> None:
    now = t(2026, 3, 1)
    state = buy(TierState(), LIFETIME, now, 60, day=date(2020, 1, 1))  # older than KEEP_DAYS
    assert state.credits == {}
    assert credit.value(state, LIFETIME, now) == 60
    assert credit.value(state, ROLLING, now) == 0
    state = rules.on_refund(state, LIFETIME, date(2020, 1, 1), pts(60), now)
    assert credit.value(state, LIFETIME, now) == 0


def test_each_metric_measures_its_own_unit() -> None:
    now = t(2026, 3, 1)
    state = TierState()
    for day, earned in (
        (date(2026, 2, 1), Credit(points=40, orders=1, spend={"EUR": 4999})),
        (date(2026, 2, 2), Credit(points=7, orders=1, spend={"USD": 700})),
    ):
        state = credit.credit_of(state, day, earned, now)
    assert credit.value(state, ROLLING, now) == 47
    assert credit.value(state, replace(ROLLING, metric=Metric.ORDERS), now) == 2
    spend = replace(ROLLING, metric=Metric.SPEND)
    assert credit.value(state, spend, now) == Decimal("49.99")
    assert credit.value(state, replace(spend, spend_currency="USD"), now) == Decimal("7.00")


def test_qualified_is_the_highest_tier_reached() -> None:
    assert [credit.qualified(ROLLING, Decimal(v)) for v in (0, 99, 100, 499, 500, 10**9)] == [
        0,
        0,
        1,
        1,
        2,
        3,
    ]
    assert credit.qualified(TierConfig(), Decimal(1000)) == 0
    spend = replace(ROLLING, metric=Metric.SPEND)
    assert credit.qualified(spend, Decimal("99.99")) == 0


# ---- orders ----------------------------------------------------------------------------------


def test_an_order_that_skips_tiers_passes_through_each_with_its_bonus() -> None:
    now = t(2026, 3, 1)
    state = buy(TierState(), ROLLING, now, 40)
    state, steps = rules.on_order(state, ROLLING, at(now, "o-2"), now.date(), pts(2460))
    assert [(s.change.from_code, s.change.to_code, s.bonus, s.change.seq) for s in steps] == [
        ("BRONZE", "SILVER", 50, 1),
        ("SILVER", "GOLD", 200, 2),
        ("GOLD", "PLATINUM", 1000, 3),
    ]
    assert {(s.change.reason, s.change.order_id, s.change.value, s.change.at) for s in steps} == {
        (ChangeReason.QUALIFIED, "o-2", Decimal(2500), now)
    }
    assert (state.code, state.since, state.changes) == ("PLATINUM", now, 3)
    assert state.bonuses == {"SILVER", "GOLD", "PLATINUM"}
    assert state.valid_until == t(2027, 3, 1)
    assert state.review_at == t(2027, 3, 31)
    assert credit.multiplier(state, ROLLING) == 2


def test_an_order_below_the_next_threshold_changes_no_tier() -> None:
    now = t(2026, 3, 1)
    state, steps = rules.on_order(TierState(), ROLLING, at(now), now.date(), pts(99))
    assert (state.code, steps, state.review_at) == (None, [], None)
    assert credit.value(state, ROLLING, now) == 99
    # Without tiers the credit is still kept: tiers configured later count it.
    state, steps = rules.on_order(TierState(), TierConfig(), at(now), now.date(), pts(600))
    assert (state.code, steps) == (None, [])
    assert credit.value(state, ROLLING, now) == 600


def test_an_entry_bonus_is_granted_once_per_tier_ever() -> None:
    now = t(2026, 3, 1)
    state, first = rules.on_order(TierState(), ROLLING, at(now, "o-1"), now.date(), pts(150))
    assert [s.bonus for s in first] == [50]
    later = now + 400 * DAY  # nothing in the last 12 months: back to Bronze at review
    state, down = rules.review(state, ROLLING, at(later))
    assert state.code == "BRONZE"
    assert [(s.change.reason, s.bonus) for s in down] == [(ChangeReason.REVIEW, 0)]
    state, again = rules.on_order(state, ROLLING, at(later, "o-2"), later.date(), pts(600))
    assert [(s.change.to_code, s.bonus) for s in again] == [("SILVER", 0), ("GOLD", 200)]
    assert [s.change.seq for s in first + down + again] == [1, 2, 3, 4]


def test_the_multiplier_is_the_held_tiers() -> None:
    now = t(2026, 3, 1)
    assert credit.multiplier(TierState(), ROLLING) == 1
    assert credit.multiplier(TierState(), TierConfig()) == 1
    state = buy(TierState(), ROLLING, now, 600)
    assert credit.multiplier(state, ROLLING) == Decimal("1.5")
    gold = credit.earning(EarningRule(), Money(Decimal("101.99"), "EUR"), Decimal("1.25"))
    assert (gold.base, gold.multiplier, gold.points) == (101, Decimal("1.25"), 126)


def test_an_order_a_few_minutes_ahead_of_the_clock_upgrades_at_once() -> None:
    now = t(2026, 3, 1, 23, 58)  # placed at 00:02 the next day, within the clock tolerance
    state, steps = rules.on_order(TierState(), ROLLING, at(now), date(2026, 3, 2), pts(600))
    assert state.code == "GOLD"
    assert len(steps) == 2
    assert credit.value(state, ROLLING, now) == 600


# ---- refunds ---------------------------------------------------------------------------------


def test_a_refund_takes_the_credit_back_on_the_orders_day() -> None:
    now = t(2026, 3, 1)
    placed = date(2026, 2, 10)
    state = buy(TierState(), ROLLING, now, 80, day=placed)
    later = now + 5 * DAY
    state = refund(state, ROLLING, later, 30, placed, full=False)
    assert state.credits == {placed: Credit(50, 1, {"EUR": 5000})}
    state = refund(state, ROLLING, later, 50, placed, full=True)
    assert state.credits == {}  # nothing left that day: the day is gone
    assert state.lifetime.empty


def test_a_refund_below_the_threshold_brings_the_review_forward_to_the_end_of_grace() -> None:
    now = t(2026, 3, 1)
    state = buy(TierState(), ROLLING, now, 100, order_id="o-1")
    state = buy(state, ROLLING, now, 500, order_id="o-2")  # 600: Gold
    assert state.review_at == t(2027, 3, 31)
    later = now + 10 * DAY
    still = refund(state, ROLLING, later, 90, now.date(), full=False)  # 510: still Gold
    assert still.review_at == t(2027, 3, 31)
    below = refund(still, ROLLING, later, 500, now.date(), full=True)  # 10: below Gold
    assert below.review_at == later + 30 * DAY
    assert (below.code, below.valid_until) == ("GOLD", t(2027, 3, 1))  # the tier waits


def test_a_refund_never_puts_the_review_later_than_it_was() -> None:
    now = t(2026, 3, 1)
    state = buy(TierState(), ROLLING, now, 600)
    in_grace = t(2027, 3, 20)  # validity over, review on 31 March
    state = refund(state, ROLLING, in_grace, 600, now.date(), full=True)
    assert state.review_at == t(2027, 3, 31)


def test_no_refund_brings_a_tier_set_by_hand_forward() -> None:
    now = t(2026, 3, 1)
    state = buy(TierState(), ROLLING, now, 600)
    manual = Manual("VIP", now + 90 * DAY, "admin")
    state, _ = rules.set_by_hand(state, ROLLING, at(now), LADDER[2], manual)
    state = refund(state, ROLLING, now + DAY, 600, now.date(), full=True)
    assert (state.review_at, state.manual) == (manual.until, manual)


def test_a_refund_of_an_order_that_did_not_earn_the_tier_leaves_the_review() -> None:
    # Gold on day 300 from 300 + 300 points; by day 400 the first order has left the
    # window (value 300, below Gold), but Gold was earned and is valid until day 665.
    start = t(2025, 1, 1)
    state = buy(TierState(), ROLLING, start, 300, order_id="o-1")
    reached = start + 300 * DAY
    state = buy(state, ROLLING, reached, 300, order_id="o-2")
    assert state.code == "GOLD"
    normal = state.review_at
    now = start + 400 * DAY
    state = buy(state, ROLLING, now, 40, order_id="o-3")
    kept = refund(state, ROLLING, now, 40, now.date(), full=True)
    assert kept.review_at == normal
    # The first order did earn it: refunding it brings the review forward.
    early = refund(state, ROLLING, now, 300, start.date(), full=True)
    assert early.review_at == now + 30 * DAY


def test_a_calendar_year_refund_looks_at_the_year_that_earned_the_tier() -> None:
    june = t(2026, 6, 15)
    state = buy(TierState(), CALENDAR, june, 400, order_id="o-1")
    state = buy(state, CALENDAR, t(2026, 12, 20), 200, order_id="o-2")  # 600 in 2026: Gold
    assert (state.code, state.valid_until) == ("GOLD", t(2028, 1, 1, 0))
    normal = state.review_at
    # A small order of 2027 returned: Gold was earned in 2026 and holds through 2027.
    feb = t(2027, 2, 1)
    state = buy(state, CALENDAR, feb, 30, order_id="o-3")
    kept = refund(state, CALENDAR, feb, 30, feb.date(), full=True)
    assert kept.review_at == normal
    # A Christmas order returned in January: 2026 no longer reaches Gold.
    returned = refund(state, CALENDAR, t(2027, 1, 10), 200, date(2026, 12, 20), full=True)
    assert returned.review_at == t(2027, 1, 10) + 30 * DAY


def test_a_raised_threshold_never_brings_a_review_forward() -> None:
    now = t(2026, 3, 1)
    state = buy(TierState(), ROLLING, now, 600)
    raised = with_gold(1000)
    later = now + 30 * DAY
    state = buy(state, raised, later, 10)
    assert state.code == "GOLD"
    state = refund(state, raised, later, 10, later.date(), full=True)
    assert state.review_at == t(2027, 3, 31)


# ---- reviews ---------------------------------------------------------------------------------


def test_nothing_happens_before_the_review_grace_included() -> None:
    now = t(2026, 3, 1)
    state = buy(TierState(), ROLLING, now, 600)
    assert (state.valid_until, state.review_at) == (t(2027, 3, 1), t(2027, 3, 31))
    before = t(2027, 3, 31) - timedelta(seconds=1)
    assert rules.review(state, ROLLING, at(before)) == (state, [])
    assert rules.review(state, TierConfig(), at(now + 1000 * DAY)) == (state, [])


def test_a_tier_kept_at_review_is_valid_for_another_year_from_then() -> None:
    now = t(2026, 3, 1)
    state = buy(TierState(), ROLLING, now, 600)
    state = buy(state, ROLLING, t(2027, 2, 1), 500)
    assert state.review_at == t(2027, 3, 31)
    reviewed, steps = rules.review(state, ROLLING, at(t(2027, 3, 31)))
    assert steps == []
    assert (reviewed.code, reviewed.since) == ("GOLD", now)
    assert reviewed.valid_until == t(2028, 3, 31)
    assert reviewed.review_at == t(2028, 4, 30)
    assert rules.review(reviewed, ROLLING, at(t(2027, 3, 31))) == (reviewed, [])


@pytest.mark.parametrize(
    ("policy", "expected"),
    [(DowngradePolicy.ONE_TIER, "GOLD"), (DowngradePolicy.TO_QUALIFIED, "SILVER")],
)
def test_a_lapsed_tier_goes_down_by_the_policy(policy: DowngradePolicy, expected: str) -> None:
    config = replace(ROLLING, downgrade=policy)
    now = t(2026, 3, 1)
    state = buy(TierState(), config, now, 2500)
    state = buy(state, config, t(2027, 1, 10), 150)  # at the review: 150, Silver's
    review_at = t(2027, 3, 31)
    reviewed, steps = rules.review(state, config, at(review_at))
    assert reviewed.code == expected
    assert [(s.change.from_code, s.change.to_code, s.change.reason) for s in steps] == [
        ("PLATINUM", expected, ChangeReason.REVIEW)
    ]
    assert (steps[0].change.value, steps[0].change.seq, steps[0].bonus) == (Decimal(150), 4, 0)
    assert (reviewed.since, reviewed.valid_until) == (review_at, t(2028, 3, 31))
    assert rules.review(reviewed, config, at(review_at)) == (reviewed, [])
    # Never below what the credit qualifies for, and the base tier is never reviewed.
    empty = replace(reviewed, credits={})
    for _ in range(3):
        if empty.review_at is not None:
            empty, _ = rules.review(empty, config, at(empty.review_at))
    assert (empty.code, empty.valid_until, empty.review_at) == ("BRONZE", None, None)


def test_an_early_review_that_new_orders_made_good_returns_to_the_normal_date() -> None:
    now = t(2026, 3, 1)
    state = buy(TierState(), ROLLING, now, 600, order_id="o-1")
    refunded_at = now + 10 * DAY
    state = refund(state, ROLLING, refunded_at, 600, now.date(), full=True)
    assert state.review_at == refunded_at + 30 * DAY
    state = buy(state, ROLLING, refunded_at + 5 * DAY, 550, order_id="o-2")
    reviewed, steps = rules.review(state, ROLLING, at(refunded_at + 30 * DAY))
    assert steps == []
    assert (reviewed.code, reviewed.valid_until, reviewed.review_at) == (
        "GOLD",
        t(2027, 3, 1),
        t(2027, 3, 31),
    )
    assert rules.review(reviewed, ROLLING, at(refunded_at + 30 * DAY)) == (reviewed, [])


def test_an_early_review_not_made_good_goes_down_at_once() -> None:
    now = t(2026, 3, 1)
    state = buy(TierState(), ROLLING, now, 150, order_id="o-1")
    state = buy(state, ROLLING, now, 450, order_id="o-2")
    state = refund(state, ROLLING, now + DAY, 450, now.date(), full=True)
    due = now + 31 * DAY
    reviewed, steps = rules.review(state, ROLLING, at(due))
    assert [s.change.to_code for s in steps] == ["SILVER"]
    assert (reviewed.valid_until, reviewed.review_at) == (credit.year_after(due), t(2027, 5, 1))


def test_a_tier_set_by_hand_holds_until_its_end_then_is_reviewed() -> None:
    now = t(2026, 3, 1)
    state = buy(TierState(), ROLLING, now, 150)  # Silver
    manual = Manual("Influencer", now + 90 * DAY, "admin-1")
    state, change = rules.set_by_hand(state, ROLLING, at(now), LADDER[3], manual)
    assert (change.from_code, change.to_code, change.reason, change.note, change.seq) == (
        "SILVER",
        "PLATINUM",
        ChangeReason.MANUAL,
        "Influencer",
        2,
    )
    assert (state.valid_until, state.review_at) == (manual.until, manual.until)
    assert state.manual == manual
    assert credit.multiplier(state, ROLLING) == 2
    # A review due before the end (an older review date) waits for the end.
    early = replace(state, review_at=now + 10 * DAY)
    assert rules.review(early, ROLLING, at(now + 20 * DAY)) == (state, [])
    assert rules.review(state, ROLLING, at(manual.until - DAY)) == (state, [])
    reviewed, steps = rules.review(state, ROLLING, at(manual.until))
    assert [(s.change.from_code, s.change.to_code) for s in steps] == [("PLATINUM", "GOLD")]
    assert reviewed.manual is None
    assert reviewed.review_at == credit.year_after(manual.until) + 30 * DAY


def test_a_lowered_threshold_upgrades_at_the_next_order_or_review() -> None:
    now = t(2026, 3, 1)
    state = buy(TierState(), ROLLING, now, 110)  # Silver
    state = buy(state, ROLLING, t(2026, 4, 15), 260)  # 370: still Silver
    lowered = with_gold(250)
    later = t(2026, 5, 1)
    ordered, steps = rules.on_order(state, lowered, at(later, "o-3"), later.date(), pts(1))
    assert [(s.change.to_code, s.bonus) for s in steps] == [("GOLD", 200)]
    assert ordered.code == "GOLD"
    assert state.review_at == t(2027, 3, 31)  # 260 still in the window then
    reviewed, steps = rules.review(state, lowered, at(state.review_at))
    assert [(s.change.from_code, s.change.to_code, s.change.reason) for s in steps] == [
        ("SILVER", "GOLD", ChangeReason.QUALIFIED)
    ]
    assert (reviewed.code, reviewed.valid_until) == ("GOLD", credit.year_after(state.review_at))


def test_a_raised_threshold_never_downgrades_before_the_review() -> None:
    now = t(2026, 3, 1)
    state = buy(TierState(), ROLLING, now, 600)  # Gold
    raised = with_gold(1000)
    state = buy(state, raised, now + DAY, 1)
    assert state.code == "GOLD"
    assert state.review_at == t(2027, 3, 31)
    assert rules.review(state, raised, at(t(2027, 3, 30))) == (state, [])
    state = buy(state, raised, t(2027, 2, 1), 700)  # 700 at the review: Silver under 1000
    reviewed, steps = rules.review(state, raised, at(t(2027, 3, 31)))
    assert [s.change.to_code for s in steps] == ["SILVER"]
    assert reviewed.code == "SILVER"


def test_a_calendar_year_tier_is_valid_to_the_end_of_the_next_year() -> None:
    reached = t(2026, 6, 15)
    state = buy(TierState(), CALENDAR, reached, 600)
    assert (state.valid_until, state.review_at) == (t(2028, 1, 1, 0), t(2028, 1, 31, 0))


def test_a_calendar_year_review_counts_the_year_the_tier_had_to_be_kept_in() -> None:
    state = buy(TierState(), CALENDAR, t(2026, 6, 15), 600)
    review_at = t(2028, 1, 31, 0)
    # Kept on 2027's credit: valid through 2028, reviewed on 2028's.
    kept, steps = rules.review(buy(state, CALENDAR, t(2027, 5, 1), 520), CALENDAR, at(review_at))
    assert (kept.code, steps) == ("GOLD", [])
    assert (kept.valid_until, kept.review_at) == (t(2029, 1, 1, 0), t(2029, 1, 31, 0))
    assert rules.review(kept, CALENDAR, at(review_at)) == (kept, [])
    # 2026's credit earned 2027 only: with nothing in 2027, down at the review.
    lapsed, steps = rules.review(state, CALENDAR, at(review_at))
    assert [(s.change.to_code, s.change.value) for s in steps] == [("SILVER", Decimal(0))]
    assert lapsed.valid_until == t(2029, 1, 1, 0)
    # Orders of the grace period, in the new year, count for the new year.
    grace = buy(state, CALENDAR, t(2028, 1, 20), 500)
    kept, steps = rules.review(grace, CALENDAR, at(review_at))
    assert (kept.code, steps) == ("GOLD", [])
    assert kept.valid_until == t(2030, 1, 1, 0)


def test_a_late_calendar_year_review_is_still_idempotent() -> None:
    config = replace(CALENDAR, grace_days=0)
    state = buy(TierState(), config, t(2026, 6, 15), 600)
    state = buy(state, config, t(2026, 7, 1), 10)
    late = t(2028, 7, 1)  # the job did not run for half a year after the review date
    reviewed, steps = rules.review(state, config, at(late))
    assert [s.change.to_code for s in steps] == ["SILVER"]
    assert reviewed.review_at is not None
    assert reviewed.review_at > late
    assert rules.review(reviewed, config, at(late)) == (reviewed, [])


def test_a_lifetime_tier_is_never_reviewed_unless_a_refund_takes_it_below() -> None:
    now = t(2026, 3, 1)
    state = buy(TierState(), LIFETIME, now, 600)
    assert (state.code, state.valid_until, state.review_at) == ("GOLD", None, None)
    state = refund(state, LIFETIME, now + DAY, 200, now.date(), full=False)
    assert state.review_at == now + 31 * DAY
    reviewed, steps = rules.review(state, LIFETIME, at(now + 31 * DAY))
    assert [s.change.to_code for s in steps] == ["SILVER"]
    assert (reviewed.valid_until, reviewed.review_at) == (None, None)


def test_a_tier_held_for_life_gets_a_review_date_once_the_window_changes() -> None:
    now = t(2026, 3, 1)
    state = buy(TierState(), LIFETIME, now, 600)
    later = now + 100 * DAY
    state = buy(state, ROLLING, later, 10)
    assert state.code == "GOLD"  # never downgraded by the change itself
    assert (state.valid_until, state.review_at) == (
        credit.year_after(later),
        credit.year_after(later) + 30 * DAY,
    )


# ---- progress --------------------------------------------------------------------------------


def progress(
    config: TierConfig,
    value: int,
    next_tier: Tier | None,
    to_next: int | None,
    review_at: datetime | None,
    at_review: int | None,
    to_keep: int | None,
) -> Progress:
    def dec(amount: int | None) -> Decimal | None:
        return None if amount is None else Decimal(amount)

    return Progress(
        config.metric,
        config.window,
        Decimal(value),
        next_tier,
        dec(to_next),
        review_at,
        dec(at_review),
        dec(to_keep),
    )


SILVER, GOLD = LADDER[1], LADDER[2]


def test_progress_in_a_rolling_window() -> None:
    reached = t(2026, 3, 1)
    state = buy(TierState(), ROLLING, reached, 70, day=date(2025, 4, 10))
    state = buy(state, ROLLING, reached, 60)  # 130: Silver, reviewed on 2027-03-31
    # Both orders will have left the window by the review: all of Silver's 100 to earn.
    review = t(2027, 3, 31)
    expected = progress(ROLLING, 130, GOLD, 370, review, 0, 100)
    assert rules.progress(state, ROLLING, reached) == expected
    now = t(2026, 6, 1)
    state = buy(state, ROLLING, now, 45, day=date(2026, 5, 20))
    # 2025-04-10 has left the window; 2026-05-20 will still count on 2027-03-31.
    expected = progress(ROLLING, 105, GOLD, 395, review, 45, 55)
    assert rules.progress(state, ROLLING, now) == expected


def test_progress_in_a_calendar_year() -> None:
    reached = t(2026, 3, 1)
    state = buy(TierState(), CALENDAR, reached, 70, day=date(2025, 12, 20))
    state = buy(state, CALENDAR, reached, 110)  # 2026: 110, Silver through 2027
    # Reviewed on 2028-01-31 on 2027's credit (and January 2028's): none yet.
    review = t(2028, 1, 31, 0)
    expected = progress(CALENDAR, 110, GOLD, 390, review, 0, 100)
    assert rules.progress(state, CALENDAR, reached) == expected
    now = t(2027, 5, 1)
    state = buy(state, CALENDAR, now, 40)
    expected = progress(CALENDAR, 40, GOLD, 460, review, 40, 60)
    assert rules.progress(state, CALENDAR, now) == expected


def test_progress_for_a_lifetime() -> None:
    now = t(2026, 3, 1)
    state = buy(TierState(), LIFETIME, now, 130)
    assert rules.progress(state, LIFETIME, now) == progress(
        LIFETIME, 130, GOLD, 370, None, None, None
    )
    state = refund(state, LIFETIME, now, 50, now.date(), full=False)  # 80: below Silver
    assert rules.progress(state, LIFETIME, now) == progress(
        LIFETIME, 80, GOLD, 420, now + 30 * DAY, 80, 20
    )


def test_progress_at_both_ends_of_the_ladder() -> None:
    now = t(2026, 3, 1)
    base = progress(ROLLING, 0, SILVER, 100, None, None, None)
    assert rules.progress(TierState(), ROLLING, now) == base
    top = buy(TierState(), ROLLING, now, 2500)
    expected = progress(ROLLING, 2500, None, None, t(2027, 3, 31), 0, 2000)
    assert rules.progress(top, ROLLING, now) == expected
    assert rules.progress(TierState(), TierConfig(), now) is None


# ---- bounded state ---------------------------------------------------------------------------


def test_credit_older_than_keep_days_is_dropped() -> None:
    first = t(2026, 3, 1)
    state = buy(TierState(), ROLLING, first, 10)
    kept = buy(state, ROLLING, first + credit.KEEP_DAYS * DAY, 10)
    assert first.date() in kept.credits
    dropped = buy(state, ROLLING, first + (credit.KEEP_DAYS + 1) * DAY, 10)
    assert first.date() not in dropped.credits
    assert dropped.lifetime.points == 20


def test_the_member_items_tier_state_stays_bounded() -> None:
    now = t(2026, 1, 1)
    state = TierState()
    for _ in range(5 * 365):
        state = buy(state, ROLLING, now, 1)
        now += DAY
    assert len(state.credits) <= credit.KEEP_DAYS + 1
    assert state.lifetime == Credit(5 * 365, 5 * 365, {"EUR": 5 * 365 * 100})
    assert credit.value(state, ROLLING, now - DAY) == 365
