"""Qualifying credit, pure: what an order earns and counts, per day; the value of a window.

Credit is kept per day for all three metrics at once, on the member item, for KEEP_DAYS:
no window looks further back, so the member item stays bounded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from api import validation as v
from api.errors import InvalidInput
from api.money import Money, minor_units
from api.program.model import EarningRule
from api.tiers.model import Credit, Metric, TierConfig, TierState, Window

KEEP_DAYS = 731  # credit older than this counts in no window
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Earning:
    """What an order would earn: the program's base points times the tier's multiplier."""

    base: int
    multiplier: Decimal
    points: int


def earning(rule: EarningRule, total: Money, multiplier: Decimal) -> Earning:
    base = rule.points_for(total)
    points = int((Decimal(base) * multiplier).to_integral_value(ROUND_FLOOR))
    if points > v.MAX_POINTS:
        raise InvalidInput("total.amount", f"This order would earn more than {v.MAX_POINTS}.")
    return Earning(base, multiplier, points)


def order_credit(base_points: int, total: Money) -> Credit:
    """What an order counts towards tiers."""
    return Credit(points=base_points, orders=1, spend={total.currency: minor(total)})


def minor(amount: Money) -> int:
    return int(amount.amount.scaleb(minor_units(amount.currency)))


def year_before(day: date) -> date:
    """The same calendar date a year earlier (29 February becomes the 28th)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def year_after(moment: datetime) -> datetime:
    try:
        return moment.replace(year=moment.year + 1)
    except ValueError:
        return moment.replace(year=moment.year + 1, day=28)


def measure(credit: Credit, config: TierConfig) -> Decimal:
    """A credit in the configured metric's unit."""
    if config.metric is Metric.QUALIFYING_POINTS:
        return Decimal(credit.points)
    if config.metric is Metric.ORDERS:
        return Decimal(credit.orders)
    minor = credit.spend.get(config.spend_currency, 0)
    return Decimal(minor).scaleb(-minor_units(config.spend_currency))


def sum_days(credits: Mapping[date, Credit], first: date, last: date) -> Credit:
    """The credit of the days from `first` to `last`. Summed in place: every order and the
    home query's progress run this over up to two years of days."""
    points = orders = 0
    spend: dict[str, int] = {}
    for day, credit in credits.items():
        if first <= day <= last:
            points += credit.points
            orders += credit.orders
            for currency, amount in credit.spend.items():
                spend[currency] = spend.get(currency, 0) + amount
    return Credit(points, orders, spend)


def value_in_year(state: TierState, config: TierConfig, year: int) -> Decimal:
    return measure(sum_days(state.credits, date(year, 1, 1), date(year, 12, 31)), config)


def value(state: TierState, config: TierConfig, now: datetime) -> Decimal:
    """The qualifying value now, over the configured window. In a rolling window, credit
    dated tomorrow (an order placed a few minutes ahead of our clock, across midnight)
    counts today: its upgrade is at once."""
    today = now.date()
    if config.window is Window.LIFETIME:
        return measure(state.lifetime, config)
    if config.window is Window.CALENDAR_YEAR:
        return value_in_year(state, config, today.year)
    return measure(sum_days(state.credits, year_before(today) + DAY, today + DAY), config)


def qualified(config: TierConfig, amount: Decimal) -> int:
    """The rank of the highest tier whose threshold the amount reaches."""
    return max((i for i, tier in enumerate(config.tiers) if amount >= tier.threshold), default=0)


def credit_of(state: TierState, day: date, credit: Credit, now: datetime) -> TierState:
    """The state with a credit (or, negated, a reversal) added on `day`; old days dropped."""
    horizon = now.date() - timedelta(days=KEEP_DAYS)
    credits = {d: c for d, c in state.credits.items() if d >= horizon}
    if day >= horizon:
        merged = credits.get(day, Credit()) + credit
        if merged.empty:
            credits.pop(day, None)
        else:
            credits[day] = merged
    return replace(state, credits=credits, lifetime=state.lifetime + credit)


def multiplier(state: TierState, config: TierConfig) -> Decimal:
    tier = config.tier(state.code)
    return Decimal(1) if tier is None else tier.multiplier
