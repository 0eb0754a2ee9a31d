"""Triggers, the pure part: from a member's state, what each trigger would nudge about now
(its subject and the fact it counts from), and, when the scheduler looks, whether it still
applies and with which values.

Subjects make "once" precise: POINTS_EXPIRING once per expiry date (UTC), TIER_AT_RISK
once per review, CLOSE_TO_NEXT_TIER once per next tier and tier stint, REWARD_AFFORDABLE
once per reward, BIRTHDAY once a year, WIN_BACK once per inactive spell
(its last order), REVIEW_REQUEST once per order, NPS_SURVEY once per recontact window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from api.members.model import Member
from api.nudges.model import Trigger, Value, Watch
from api.nudges.rules import zone
from api.nudges.rules_model import NudgeKind
from api.rewards.model import Reward
from api.tiers import rules as tier_rules
from api.tiers.model import TierConfig

# Read from the member item alone (the stream recomputes them on every change of it).
MEMBER_KINDS = (
    NudgeKind.POINTS_EXPIRING,
    NudgeKind.TIER_AT_RISK,
    NudgeKind.REWARD_AFFORDABLE,
    NudgeKind.CLOSE_TO_NEXT_TIER,
    NudgeKind.BIRTHDAY,
)
# Counted from orders: the stream moves them when an order is recorded.
ORDER_KINDS = (NudgeKind.WIN_BACK, NudgeKind.REVIEW_REQUEST, NudgeKind.NPS_SURVEY)
# Due `lead` before their fact (an expiry, a review); the others `lead` after it.
AHEAD = frozenset({NudgeKind.POINTS_EXPIRING, NudgeKind.TIER_AT_RISK})


@dataclass(frozen=True)
class Facts:
    """What the member-read kinds decide on, at the program's time."""

    member: Member
    now: datetime
    tiers: TierConfig
    rewards: Sequence[Reward]  # the live catalog


def query_bound(trigger: Trigger, now: datetime) -> datetime:
    """The due index holds watches at their fact: those due now have facts up to this."""
    if trigger.kind in AHEAD:
        return now + trigger.lead
    return now - trigger.lead


def due_since(trigger: Trigger, watch: Watch) -> datetime:
    """When the watch's nudge became due: its threshold reached, or, later, the subject
    appeared (a lot earned a week before it expires is due when it was earned)."""
    assert watch.fact_at is not None
    reached = (
        watch.fact_at - trigger.lead if trigger.kind in AHEAD else watch.fact_at + trigger.lead
    )
    return max(reached, watch.armed_at or reached)


def local_day(at: datetime, tz: str) -> date:
    return at.astimezone(zone(tz)).date()


def expiry_day(at: datetime) -> str:
    """An expiry's subject: its UTC date. Not the member's local date: a member who moves
    across the date line would otherwise see one expiry under two dates (warned twice) or
    the next one under a date already handled (never warned)."""
    return at.astimezone(UTC).date().isoformat()


def _expiring(member: Member, now: datetime, after: str | None) -> tuple[str, datetime] | None:
    days: dict[str, datetime] = {}
    for lot in member.points.lots:
        if lot.remaining > 0 and lot.expires_at is not None and lot.expires_at > now:
            day = expiry_day(lot.expires_at)
            if after is None or day > after:
                days[day] = min(days.get(day, lot.expires_at), lot.expires_at)
    if not days:
        return None
    first = min(days)
    return first, days[first]


def expiring_points(member: Member, now: datetime, day: str) -> int:
    return sum(
        lot.remaining
        for lot in member.points.lots
        if lot.expires_at is not None and lot.expires_at > now and expiry_day(lot.expires_at) == day
    )


def _birthday_on(birthday: date, year: int) -> date:
    try:
        return birthday.replace(year=year)
    except ValueError:  # 29 February in a common year: the 28th
        return date(year, 2, 28)


def _birthday(member: Member, now: datetime, after: str | None) -> tuple[str, datetime] | None:
    if member.birthday is None:
        return None
    local = zone(member.time_zone)
    today = now.astimezone(local).date()
    for year in (today.year, today.year + 1):
        day = _birthday_on(member.birthday, year)
        if day < today or (after is not None and str(year) <= after):
            continue
        return str(year), datetime.combine(day, time(0), local).astimezone(now.tzinfo)
    return None


def _at_risk(member: Member, config: TierConfig, now: datetime) -> tuple[str, datetime] | None:
    state = member.tier
    if config.rank(state.code) == 0 or state.review_at is None or state.review_at <= now:
        return None
    return state.review_at.date().isoformat(), state.review_at


def _close(facts: Facts, trigger: Trigger) -> str | None:
    progress = tier_rules.progress(facts.member.tier, facts.tiers, facts.now)
    if progress is None or progress.next_tier is None or progress.to_next is None:
        return None
    limit = progress.next_tier.threshold * trigger.close_percent / 100
    if not 0 < progress.to_next <= limit:
        return None
    since = facts.member.tier.since
    return f"{progress.next_tier.code}@{'base' if since is None else since.date().isoformat()}"


def _affordable(facts: Facts, seen: frozenset[str]) -> list[Reward]:
    """Rewards the member can redeem now with the points they have, priciest first."""
    member, now, config = facts.member, facts.now, facts.tiers
    available = member.points.available(now)
    rank = config.rank(member.tier.code)
    fits = [
        r
        for r in facts.rewards
        if r.active
        and not r.archived
        and r.id not in seen
        and (r.starts_at is None or r.starts_at <= now)
        and (r.ends_at is None or r.ends_at > now)
        and (r.min_tier is None or rank >= config.rank(r.min_tier))
        and 0 < r.points_cost <= available
    ]
    return sorted(fits, key=lambda r: (-r.points_cost, r.id))


def member_subject(
    kind: NudgeKind, watch: Watch, facts: Facts, trigger: Trigger
) -> tuple[str, datetime] | None:
    """What a member-read trigger would nudge about now, and its fact; None: nothing."""
    member, now = facts.member, facts.now
    if kind is NudgeKind.POINTS_EXPIRING:
        return _expiring(member, now, watch.handled)
    if kind is NudgeKind.BIRTHDAY:
        return _birthday(member, now, watch.handled)
    if kind is NudgeKind.TIER_AT_RISK:
        return _at_risk(member, facts.tiers, now)
    # Facts of these two are the moment they became true: kept while the subject is.
    if kind is NudgeKind.CLOSE_TO_NEXT_TIER:
        subject = _close(facts, trigger)
    else:
        fits = _affordable(facts, watch.seen)
        subject = fits[0].id if fits else None
    if subject is None:
        return None
    return subject, (watch.fact_at if subject == watch.subject and watch.fact_at else now)


def rearm(watch: Watch, found: tuple[str, datetime] | None, now: datetime) -> Watch:
    """The watch pointing at what was found: armed unless nothing is due or it was handled."""
    if found is None:
        return replace(watch, subject=None, fact_at=None, armed=False, armed_at=None)
    subject, fact_at = found
    same = subject == watch.subject
    return replace(
        watch,
        subject=subject,
        fact_at=fact_at,
        armed=subject != watch.handled,
        armed_at=watch.armed_at if same and watch.armed_at else now,
    )


def after_order(watch: Watch, placed_at: datetime, now: datetime) -> Watch:
    """WIN_BACK and NPS_SURVEY count from the newest order: a new one starts a new spell."""
    if watch.fact_at is not None and watch.fact_at >= placed_at:
        return watch
    return rearm(watch, (placed_at.isoformat(), placed_at), now)


@dataclass(frozen=True)
class Due:
    """The scheduler's look at an armed watch: a candidate with its subject and values, or
    `None` values: nothing to send for it now (`final`: never for this subject)."""

    subject: str | None
    values: dict[str, Value]
    final: bool = True


def values_for(kind: NudgeKind, watch: Watch, facts: Facts, trigger: Trigger) -> Due:
    """For member-read kinds: whether the watch's subject still applies now, and its values."""
    member, now, config = facts.member, facts.now, facts.tiers
    subject = watch.subject
    if subject is None:
        return Due(None, {})
    balance = member.points.available(now)
    if kind is NudgeKind.POINTS_EXPIRING:
        points = expiring_points(member, now, subject)
        if points == 0:  # spent (or expired) meanwhile: nothing to warn of for that day
            return Due(None, {})
        assert watch.fact_at is not None  # the day's first expiry, as the member reads it
        expires_on = local_day(watch.fact_at, member.time_zone)
        return Due(subject, {"points": points, "expires_on": expires_on, "balance": balance})
    if kind is NudgeKind.BIRTHDAY:
        return Due(subject, {"bonus_points": trigger.bonus_points, "balance": balance})
    if kind is NudgeKind.TIER_AT_RISK:
        progress = tier_rules.progress(member.tier, config, now)
        tier = config.tier(member.tier.code)
        if (
            progress is None
            or tier is None
            or progress.to_keep is None
            or progress.to_keep <= 0
            or member.tier.review_at is None
        ):
            # Safe for now; a change of the member's points or tier arms it again.
            return Due(None, {}, final=False)
        return Due(
            subject,
            {
                "tier": tier.name,
                "review_on": local_day(member.tier.review_at, member.time_zone),
                "points_needed": _whole(progress.to_keep),
            },
        )
    if kind is NudgeKind.CLOSE_TO_NEXT_TIER:
        if _close(facts, trigger) != subject:
            return Due(None, {}, final=False)
        progress = tier_rules.progress(member.tier, config, now)
        assert progress is not None
        assert progress.next_tier is not None
        assert progress.to_next is not None
        return Due(
            subject,
            {"tier": progress.next_tier.name, "points_needed": _whole(progress.to_next)},
        )
    if kind is NudgeKind.REWARD_AFFORDABLE:
        fits = {r.id: r for r in _affordable(facts, frozenset())}
        reward = fits.get(subject)
        if reward is None:
            return Due(None, {}, final=False)
        return Due(subject, {"reward": reward.name, "cost": reward.points_cost, "balance": balance})
    raise ValueError(f"{kind} is not read from the member")


def affordable_ids(facts: Facts) -> frozenset[str]:
    """Rewards covered by one REWARD_AFFORDABLE nudge: every one affordable at that moment
    (a member who can suddenly afford ten rewards hears about the best, not ten times)."""
    return frozenset(r.id for r in _affordable(facts, frozenset()))


def _whole(amount: Decimal) -> int:
    return math.ceil(amount)


def inactive_days(since: datetime, now: datetime) -> int:
    return max(0, (now - since) // timedelta(days=1))
