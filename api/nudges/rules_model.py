"""Nudge rules, the data: kinds and their priority, candidates, the settings the rules read
(quiet hours, frequency caps, holdout, staleness) and the decisions they make. Pure
dataclasses; every setting checks its ranges when built (InvalidInput, naming the field).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum

from api.errors import InvalidInput
from api.members.model import Channel  # consent is per channel: the same channels


class NudgeKind(StrEnum):
    """What a nudge is about. **Declaration order is priority** (first = most valuable): when
    caps leave room for fewer nudges than are due, earlier kinds win.

    1. POINTS_EXPIRING: a loss that cannot be undone (the points are gone at the expiry date)
       and the member can act on it today; forgetting it costs the most goodwill.
    2. TIER_AT_RISK: a loss too (status, multipliers, perks) with a deadline (the review),
       but recoverable later by qualifying again.
    3. REWARD_AFFORDABLE: an immediate, concrete gain the member can take now (redemption
       drives return visits and is what points are for).
    4. CLOSE_TO_NEXT_TIER: a gain that needs spending first: motivating, less urgent.
    5. BIRTHDAY: goodwill bound to one day a year; after the commercial ones since it asks
       nothing and a capped greeting loses less than a missed expiry.
    6. WIN_BACK: the member is inactive, so little else competes; an inactive spell lasts, so
       it can wait for room under the caps.
    7. REVIEW_REQUEST: asks the member for something, gives nothing back directly.
    8. NPS_SURVEY: measurement only; a sample tolerates a skipped member.
    """

    POINTS_EXPIRING = "POINTS_EXPIRING"
    TIER_AT_RISK = "TIER_AT_RISK"
    REWARD_AFFORDABLE = "REWARD_AFFORDABLE"
    CLOSE_TO_NEXT_TIER = "CLOSE_TO_NEXT_TIER"
    BIRTHDAY = "BIRTHDAY"
    WIN_BACK = "WIN_BACK"
    REVIEW_REQUEST = "REVIEW_REQUEST"
    NPS_SURVEY = "NPS_SURVEY"

    @property
    def priority(self) -> int:
        """0 is the most valuable."""
        return _PRIORITY[self]


_PRIORITY = {kind: rank for rank, kind in enumerate(NudgeKind)}


def _aware(field: str, value: datetime) -> None:
    # Naive times would compare wrongly (or not at all) with the UTC clock.
    if value.utcoffset() is None:
        raise InvalidInput(field, "Needs a time zone offset.")


@dataclass(frozen=True)
class Candidate:
    """A nudge that is due. (member_id, kind, subject) is its identity: one per member, kind
    and subject ever (subject: the lot's expiry date, the reward id, the order id...)."""

    member_id: str
    kind: NudgeKind
    subject: str
    due_at: datetime  # aware: when it became due; staleness counts from here
    channels: tuple[Channel, ...]  # in order of preference

    def __post_init__(self) -> None:
        _aware("dueAt", self.due_at)

    @property
    def key(self) -> tuple[NudgeKind, str]:
        return (self.kind, self.subject)


@dataclass(frozen=True)
class SentNudge:
    """One nudge the member was sent (their history: dedupe and caps read it)."""

    kind: NudgeKind
    subject: str
    channel: Channel
    sent_at: datetime  # aware

    def __post_init__(self) -> None:
        _aware("sentAt", self.sent_at)

    @property
    def key(self) -> tuple[NudgeKind, str]:
        return (self.kind, self.subject)


@dataclass(frozen=True)
class QuietHours:
    """Quiet iff the member's local wall time is in [start, end); start > end wraps midnight
    (the default, 21:00-08:00). start == end is refused: it would mean all day or never."""

    start: time = time(21, 0)
    end: time = time(8, 0)

    def __post_init__(self) -> None:
        for name, value in (("start", self.start), ("end", self.end)):
            if value.tzinfo is not None:
                raise InvalidInput(f"quietHours.{name}", "A local wall time, without an offset.")
        if self.start == self.end:
            raise InvalidInput("quietHours.end", "Must differ from the start.")

    def covers(self, wall: time) -> bool:
        if self.start < self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end


MAX_CAP_COUNT = 100
MIN_CAP_WINDOW = timedelta(hours=1)
MAX_CAP_WINDOW = timedelta(days=365)


@dataclass(frozen=True)
class FrequencyCap:
    """At most `max_count` nudges in any rolling `window` (sends in (t - window, t]), on one
    channel, or on all together when `channel` is None."""

    max_count: int
    window: timedelta
    channel: Channel | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.max_count <= MAX_CAP_COUNT:
            raise InvalidInput("caps.maxCount", f"Must be 1 to {MAX_CAP_COUNT}.")
        if not MIN_CAP_WINDOW <= self.window <= MAX_CAP_WINDOW:
            raise InvalidInput("caps.window", "Must be 1 hour to 365 days.")

    def applies_to(self, channel: Channel) -> bool:
        return self.channel is None or self.channel is channel


DEFAULT_CAPS = (FrequencyCap(2, timedelta(days=7)),)  # the example


MAX_HOLDOUT_PERCENT = Decimal(50)  # a control group larger than the treated one is a slip
MAX_SALT_LENGTH = 128


@dataclass(frozen=True)
class Holdout:
    """The global control group: `percent` of members (0.01 steps), chosen by a hash of the
    member id and `salt` (a new salt draws a new group)."""

    salt: str
    percent: Decimal = Decimal(5)

    def __post_init__(self) -> None:
        if not self.salt or len(self.salt) > MAX_SALT_LENGTH:
            raise InvalidInput("holdout.salt", f"Must be 1 to {MAX_SALT_LENGTH} characters.")
        if not self.percent.is_finite() or not 0 <= self.percent <= MAX_HOLDOUT_PERCENT:
            raise InvalidInput("holdout.percent", f"Must be 0 to {MAX_HOLDOUT_PERCENT}.")
        # Compared, not multiplied: a product is rounded to 28 digits and could hide a third.
        if self.percent != self.percent.quantize(Decimal("0.01")):
            raise InvalidInput("holdout.percent", "At most two decimals (e.g. 2.5).")


MIN_STALENESS = timedelta(hours=1)  # less than the hourly scheduler's period: never sent
MAX_STALENESS = timedelta(days=30)
# How long after becoming due a nudge is still worth sending. The shortest must outlast one
# night of quiet hours plus an hourly run, or a nudge due in the evening could never go out.
DEFAULT_STALENESS: dict[NudgeKind, timedelta] = {
    NudgeKind.POINTS_EXPIRING: timedelta(days=2),  # it warns days ahead: late is useless
    NudgeKind.TIER_AT_RISK: timedelta(days=3),
    NudgeKind.REWARD_AFFORDABLE: timedelta(days=3),  # the balance may be spent meanwhile
    NudgeKind.CLOSE_TO_NEXT_TIER: timedelta(days=3),
    NudgeKind.BIRTHDAY: timedelta(hours=16),  # due at local midnight: by 16:00 that day
    NudgeKind.WIN_BACK: timedelta(days=7),
    NudgeKind.REVIEW_REQUEST: timedelta(days=5),
    NudgeKind.NPS_SURVEY: timedelta(days=7),
}


@dataclass(frozen=True)
class Staleness:
    """Per kind, how long after `due_at` a delayed nudge still goes out; kinds not in
    `overrides` keep DEFAULT_STALENESS."""

    overrides: tuple[tuple[NudgeKind, timedelta], ...] = ()

    def __post_init__(self) -> None:
        kinds = [kind for kind, _ in self.overrides]
        if len(set(kinds)) != len(kinds):
            raise InvalidInput("staleness", "Each kind at most once.")
        for kind, limit in self.overrides:
            if not MIN_STALENESS <= limit <= MAX_STALENESS:
                raise InvalidInput(f"staleness.{kind}", "Must be 1 hour to 30 days.")

    def deadline(self, candidate: Candidate) -> datetime:
        """The last instant the candidate may be sent."""
        limit = dict(self.overrides).get(candidate.kind, DEFAULT_STALENESS[candidate.kind])
        return candidate.due_at + limit


MAX_CAPS = 10


@dataclass(frozen=True)
class NudgeSettings:
    """What the rules read besides the member: one set per program (the scheduler loads it)."""

    holdout: Holdout
    quiet: QuietHours = QuietHours()
    caps: tuple[FrequencyCap, ...] = DEFAULT_CAPS
    staleness: Staleness = Staleness()

    def __post_init__(self) -> None:
        if len(self.caps) > MAX_CAPS:
            raise InvalidInput("caps", f"At most {MAX_CAPS} caps.")


class DropReason(StrEnum):
    NO_CONSENT = "NO_CONSENT"  # no consented channel among the candidate's
    HELD_OUT = "HELD_OUT"  # the member is in the control group: recorded, never sent
    CAPPED = "CAPPED"  # every consented channel is at a frequency cap
    STALE = "STALE"  # already past its deadline
    ALREADY_SENT = "ALREADY_SENT"  # this member, kind and subject was sent (or is being now)
    QUIET_HOURS_STALE = "QUIET_HOURS_STALE"  # quiet hours end after its deadline
    NO_ADDRESS = "NO_ADDRESS"  # no email address or phone number for the trigger's channels


@dataclass(frozen=True)
class Send:
    candidate: Candidate
    channel: Channel
    at: datetime


@dataclass(frozen=True)
class Hold:
    """Quiet hours now: decide again at `until` (the first allowed instant)."""

    candidate: Candidate
    until: datetime


@dataclass(frozen=True)
class Drop:
    candidate: Candidate
    reason: DropReason


Decision = Send | Hold | Drop


@dataclass(frozen=True)
class Lift:
    """Conversion of treated vs held-out members: None where a group is empty (its rate), or
    either is (the difference and its 95 % interval)."""

    rate_treated: float | None
    rate_control: float | None
    difference: float | None  # rate_treated - rate_control
    interval: tuple[float, float] | None
