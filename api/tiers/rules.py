"""Tier rules, pure: upgrades on orders, refunds, reviews, tiers set by hand, progress.
(The arithmetic of qualifying credit is in credit.py.)

- Upgrade at once: the order that brings the value to a threshold moves the member up, in
  its own transaction, through every tier it passes (each entry bonus once per tier, ever).
- Downgrade only at review: when the tier's validity ends, after the grace period. A refund
  that takes the value the tier stands on below its threshold brings the review forward to
  the end of the grace period (never later than it was): a refunded order cannot buy a tier.
  The value a tier stands on is the credit that earned it (the 12 months to the day it was
  reached or kept; the calendar year that reached it), refunds taken back, or today's value
  if more. A refund of an order that did not earn the tier, or a value already below the
  threshold (the window moved on, the threshold was raised), brings nothing forward.
- An early review that new orders made good returns to the normal review date; one that
  they did not goes down by the policy, never below what the credit qualifies for.
- A tier set by hand holds until its end date, then is reviewed like any other.
- Validity: ROLLING_12_MONTHS, 12 months from when the tier was reached or kept;
  CALENDAR_YEAR, to the end of the year after the one whose credit reached or kept it (to
  the end of this year when none did: a ONE_TIER step down); LIFETIME, no review. A member
  who holds a tier without a review date under a window that has one (the window was
  LIFETIME) gets one at their next order.
- Every review leaves the next one in the future: a second run at the same time changes
  nothing, however late the job ran.
"""

from __future__ import annotations

import calendar
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from api.tiers.credit import (
    DAY,
    credit_of,
    measure,
    qualified,
    sum_days,
    value,
    value_in_year,
    year_after,
    year_before,
)
from api.tiers.model import (
    ChangeReason,
    Credit,
    DowngradePolicy,
    Manual,
    Occasion,
    Progress,
    Step,
    Tier,
    TierChange,
    TierConfig,
    TierState,
    Window,
)


def valid_until(config: TierConfig, now: datetime) -> datetime | None:
    """The validity of a tier reached at `now` on the credit of `now`'s window."""
    if config.window is Window.LIFETIME:
        return None
    if config.window is Window.CALENDAR_YEAR:
        return datetime(now.year + 2, 1, 1, tzinfo=UTC)
    return year_after(now)


def _held(state: TierState, config: TierConfig, rank: int, now: datetime) -> TierState:
    """The state of a member who reached or kept the tier of `rank` at `now`."""
    until = valid_until(config, now) if rank > 0 else None
    if (
        until is not None
        and config.window is Window.CALENDAR_YEAR
        and value_in_year(state, config, now.year) < config.tiers[rank].threshold
    ):
        # Kept on last year's credit (or not earned at all: a ONE_TIER step down): through
        # the end of this year, not of the next.
        until = datetime(now.year + 1, 1, 1, tzinfo=UTC)
    review = None if until is None else until + timedelta(days=config.grace_days)
    return replace(state, valid_until=until, review_at=review, manual=None)


def _climb(
    state: TierState, config: TierConfig, at: Occasion, target: int, amount: Decimal
) -> tuple[TierState, list[Step]]:
    """Up to the tier of rank `target`, through each tier on the way."""
    steps: list[Step] = []
    current = config.rank(state.code)
    bonuses = set(state.bonuses)
    for rank in range(current + 1, target + 1):
        tier = config.tiers[rank]
        bonus = 0 if tier.code in bonuses else tier.entry_bonus
        bonuses.add(tier.code)
        steps.append(
            Step(
                TierChange(
                    member_id=at.member_id,
                    seq=state.changes + len(steps) + 1,
                    from_code=config.tiers[rank - 1].code if steps else _code(state, config),
                    to_code=tier.code,
                    reason=ChangeReason.QUALIFIED,
                    at=at.now,
                    actor=at.actor,
                    order_id=at.order_id,
                    value=amount,
                ),
                bonus,
            )
        )
    climbed = replace(
        state,
        code=config.tiers[target].code,
        since=at.now,
        bonuses=frozenset(bonuses),
        changes=state.changes + len(steps),
    )
    return _held(climbed, config, target, at.now), steps


def _code(state: TierState, config: TierConfig) -> str:
    tier = config.tier(state.code)
    assert tier is not None
    return tier.code


def on_order(
    state: TierState, config: TierConfig, at: Occasion, day: date, credit: Credit
) -> tuple[TierState, list[Step]]:
    """An order's credit; an upgrade at once if the value now reaches a higher tier."""
    state = credit_of(state, day, credit, at.now)
    if not config.enabled:
        return state, []
    amount = value(state, config, at.now)
    target = qualified(config, amount)
    rank = config.rank(state.code)
    if target > rank:
        return _climb(state, config, at, target, amount)
    if (
        rank > 0
        and state.valid_until is None
        and state.review_at is None
        and state.manual is None
        and config.window is not Window.LIFETIME
    ):
        # Held for life when the window was LIFETIME: reviewed from now on, like any other.
        return _held(state, config, rank, at.now), []
    return state, []


def on_refund(
    state: TierState, config: TierConfig, day: date, reversal: Credit, now: datetime
) -> TierState:
    """A refund's share taken back; if it takes the value the tier stands on below the
    tier's threshold, an earlier review."""
    refunded = credit_of(state, day, -reversal, now)
    if not config.enabled or refunded.manual is not None:
        return refunded
    rank = config.rank(refunded.code)
    if rank == 0:
        return refunded
    threshold = config.tiers[rank].threshold
    if standing(refunded, config, now) >= threshold or standing(state, config, now) < threshold:
        return refunded
    early = now + timedelta(days=config.grace_days)
    review = early if refunded.review_at is None else min(refunded.review_at, early)
    return replace(refunded, review_at=review)


def _reached_on(until: datetime) -> date:
    """The day a rolling tier valid until `until` was reached or kept (of 28 and 29
    February, the later: its window holds both)."""
    day = year_before(until.date())
    if (day.month, day.day) == (2, 28) and calendar.isleap(day.year):
        return day + DAY
    return day


def _best_year(state: TierState, config: TierConfig, first: int, last: int) -> Decimal:
    return max(value_in_year(state, config, year) for year in range(first, last + 1))


def standing(state: TierState, config: TierConfig, now: datetime) -> Decimal:
    """The value the held tier stands on before its validity ends: the credit that earned
    it (refunds taken back), or today's value if more."""
    until = state.valid_until
    if config.window is Window.LIFETIME or until is None:
        return value(state, config, now)
    if config.window is Window.CALENDAR_YEAR:
        earned_in = (until - DAY).year - 1
        return _best_year(state, config, min(now.year, max(now.year - 1, earned_in)), now.year)
    reached = _reached_on(until)
    earned = measure(sum_days(state.credits, year_before(reached) + DAY, reached), config)
    return max(earned, value(state, config, now))


def _early(state: TierState, now: datetime) -> bool:
    """A review before the tier's validity ends: a refund brought it forward."""
    return state.manual is None and state.valid_until is not None and now < state.valid_until


def _review_value(state: TierState, config: TierConfig, now: datetime) -> Decimal:
    """The value a review at `now` decides on."""
    if _early(state, now):
        return standing(state, config, now)
    if config.window is Window.CALENDAR_YEAR:
        # The year the tier had to be kept in (or the last one, whichever is earlier), and
        # every year since: orders of the grace period count for the new year.
        last = now.year - 1
        until = state.valid_until
        kept_in = last if until is None else min((until - DAY).year, last)
        return _best_year(state, config, kept_in, now.year)
    return value(state, config, now)


def review(state: TierState, config: TierConfig, at: Occasion) -> tuple[TierState, list[Step]]:
    """What the daily job decides for a member whose review is due."""
    now = at.now
    if not config.enabled or state.review_at is None or now < state.review_at:
        return state, []
    if state.manual is not None and now < state.manual.until:
        return replace(state, review_at=state.manual.until), []
    amount = _review_value(state, config, now)
    target = qualified(config, amount)
    current = config.rank(state.code)
    if target > current:
        return _climb(state, config, at, target, amount)
    if target == current:
        if _early(state, now) and state.valid_until is not None:
            # An early review (after a refund) that new orders made good: back to normal.
            return replace(
                state, review_at=state.valid_until + timedelta(days=config.grace_days)
            ), []
        return _held(state, config, current, now), []
    down = current - 1 if config.downgrade is DowngradePolicy.ONE_TIER else target
    change = TierChange(
        member_id=at.member_id,
        seq=state.changes + 1,
        from_code=config.tiers[current].code,
        to_code=config.tiers[down].code,
        reason=ChangeReason.REVIEW,
        at=now,
        actor=at.actor,
        value=amount,
    )
    lowered = replace(state, code=config.tiers[down].code, since=now, changes=change.seq)
    return _held(lowered, config, down, now), [Step(change)]


def set_by_hand(
    state: TierState, config: TierConfig, at: Occasion, tier: Tier, manual: Manual
) -> tuple[TierState, TierChange]:
    """An admin's tier, held until `manual.until`, whatever the credit says."""
    change = TierChange(
        member_id=at.member_id,
        seq=state.changes + 1,
        from_code=_code(state, config),
        to_code=tier.code,
        reason=ChangeReason.MANUAL,
        at=at.now,
        actor=at.actor,
        note=manual.reason,
        value=value(state, config, at.now),
    )
    held = replace(
        state,
        code=tier.code,
        since=at.now,
        valid_until=manual.until,
        review_at=manual.until,
        manual=manual,
        changes=change.seq,
    )
    return held, change


def progress(state: TierState, config: TierConfig, now: datetime) -> Progress | None:
    if not config.enabled:
        return None
    amount = value(state, config, now)
    rank = config.rank(state.code)
    following = config.tiers[rank + 1] if rank + 1 < len(config.tiers) else None
    at_review: Decimal | None = None
    to_keep: Decimal | None = None
    if rank > 0 and state.review_at is not None:
        at_review = _value_at_review(state, config)
        to_keep = max(Decimal(0), config.tiers[rank].threshold - at_review)
    return Progress(
        metric=config.metric,
        window=config.window,
        value=amount,
        next_tier=following,
        to_next=None if following is None else max(Decimal(0), following.threshold - amount),
        review_at=state.review_at,
        value_at_review=at_review,
        to_keep=to_keep,
    )


def _value_at_review(state: TierState, config: TierConfig) -> Decimal:
    """Of the credit recorded so far, what the review will decide on."""
    assert state.review_at is not None
    return _review_value(state, config, state.review_at)
