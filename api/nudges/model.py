"""Nudges, the data the scheduler, the sender and admins share: the program's nudge
configuration (one trigger per kind, the rules' settings, attribution), the record of every
nudge decided (sent, held, dropped, failed...), and what a template is rendered from.
Dataclasses only; settings check their ranges when built (InvalidInput, naming the field).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from api.errors import InvalidInput
from api.members.model import Channel
from api.nudges.rules_model import Holdout, NudgeKind, NudgeSettings
from api.validation import MAX_POINTS

# A trigger's `days`: what they count and their range, per kind (None: the kind has none).
DAYS: dict[NudgeKind, tuple[str, int, int, int] | None] = {
    # kind: (what, default, min, max)
    NudgeKind.POINTS_EXPIRING: ("days before the expiry date", 14, 1, 90),
    NudgeKind.TIER_AT_RISK: ("days before the tier review", 14, 1, 90),
    NudgeKind.REWARD_AFFORDABLE: None,
    NudgeKind.CLOSE_TO_NEXT_TIER: None,
    NudgeKind.BIRTHDAY: None,
    NudgeKind.WIN_BACK: ("days without an order", 60, 7, 730),
    NudgeKind.REVIEW_REQUEST: ("days after the order", 10, 1, 90),
    NudgeKind.NPS_SURVEY: ("days after an order", 14, 0, 90),
}
CLOSE_PERCENT_DEFAULT = Decimal(10)  # CLOSE_TO_NEXT_TIER: within 10 % of the next tier
CLOSE_PERCENT_MAX = Decimal(50)
MAX_TEMPLATE_NAME = 64


def _template_name(value: str) -> bool:
    return (
        0 < len(value) <= MAX_TEMPLATE_NAME
        and value.isascii()
        and all(c.isalnum() or c in "-_" for c in value)
    )


@dataclass(frozen=True)
class Trigger:
    """When one kind of nudge is due, on which channels (in order of preference) and with
    which template. `days` and `percent` are the kind's thresholds (see DAYS); the birthday
    may give `bonus_points` once a year, as a ledger entry, whether or not a message goes."""

    kind: NudgeKind
    enabled: bool = True
    channels: tuple[Channel, ...] = (Channel.EMAIL, Channel.PUSH)
    days: int | None = None  # None: the kind's default (or the kind has none)
    percent: Decimal | None = None  # CLOSE_TO_NEXT_TIER only
    bonus_points: int = 0  # BIRTHDAY only
    template: str = ""  # "": the kind's default template (its name in lower case)

    def __post_init__(self) -> None:
        at = f"triggers.{self.kind}"
        if not self.channels or len(set(self.channels)) != len(self.channels):
            raise InvalidInput(f"{at}.channels", "One to three distinct channels.")
        spec = DAYS[self.kind]
        if self.days is not None:
            if spec is None:
                raise InvalidInput(f"{at}.days", f"{self.kind} has no days threshold.")
            _, _, low, high = spec
            if not low <= self.days <= high:
                raise InvalidInput(f"{at}.days", f"Must be {low} to {high}.")
        if self.percent is not None:
            if self.kind is not NudgeKind.CLOSE_TO_NEXT_TIER:
                raise InvalidInput(f"{at}.percent", "Only CLOSE_TO_NEXT_TIER has a percent.")
            if (
                not self.percent.is_finite()
                or not 0 < self.percent <= CLOSE_PERCENT_MAX
                # Compared, not multiplied: a product is rounded to 28 digits.
                or self.percent != self.percent.quantize(Decimal("0.1"))
            ):
                raise InvalidInput(
                    f"{at}.percent", f"Must be above 0 and at most {CLOSE_PERCENT_MAX}, 1 decimal."
                )
        if self.bonus_points:
            if self.kind is not NudgeKind.BIRTHDAY:
                raise InvalidInput(f"{at}.bonusPoints", "Only BIRTHDAY gives bonus points.")
            if not 0 < self.bonus_points <= MAX_POINTS:
                raise InvalidInput(f"{at}.bonusPoints", f"Must be 0 to {MAX_POINTS}.")
        if self.template and not _template_name(self.template):
            raise InvalidInput(
                f"{at}.template", f"Letters, digits, - and _, 1 to {MAX_TEMPLATE_NAME}."
            )

    @property
    def lead(self) -> timedelta:
        """The kind's days threshold (its default when unset; 0 for kinds without one)."""
        spec = DAYS[self.kind]
        if spec is None:
            return timedelta(0)
        return timedelta(days=spec[1] if self.days is None else self.days)

    @property
    def close_percent(self) -> Decimal:
        return CLOSE_PERCENT_DEFAULT if self.percent is None else self.percent

    @property
    def template_name(self) -> str:
        return self.template or self.kind.lower().replace("_", "-")


DEFAULT_HOLDOUT_SALT = "nudges-1"  # change it to draw a new control group
ATTRIBUTION_DEFAULT = timedelta(days=7)
ATTRIBUTION_MAX = timedelta(days=90)


@dataclass(frozen=True)
class NudgeConfig:
    """The program's nudges: one trigger per kind (missing kinds take their defaults), the
    rules (quiet hours, caps, holdout, staleness) and the attribution window for lift."""

    triggers: tuple[Trigger, ...] = ()
    rules: NudgeSettings = field(
        default_factory=lambda: NudgeSettings(holdout=Holdout(DEFAULT_HOLDOUT_SALT))
    )
    attribution: timedelta = ATTRIBUTION_DEFAULT
    version: int = 0  # 0: never saved (the defaults)
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        kinds = [t.kind for t in self.triggers]
        if len(set(kinds)) != len(kinds):
            raise InvalidInput("triggers", "Each kind at most once.")
        if not timedelta(days=1) <= self.attribution <= ATTRIBUTION_MAX:
            raise InvalidInput("attributionDays", "Must be 1 to 90.")

    def trigger(self, kind: NudgeKind) -> Trigger:
        for t in self.triggers:
            if t.kind is kind:
                return t
        return Trigger(kind)


class NudgeStatus(StrEnum):
    """Where a nudge is. QUEUED, SENDING and HELD move on; the others are final."""

    QUEUED = "QUEUED"  # decided to send: on its way to the sender
    SENDING = "SENDING"  # claimed by a sender until `claimed_until`
    HELD = "HELD"  # quiet hours: decided again when they end (`send_at`)
    SENT = "SENT"  # the provider accepted it (`message_id`)
    HELD_OUT = "HELD_OUT"  # control group: would have been sent, never is
    DROPPED = "DROPPED"  # not sent, for `reason` (a DropReason)
    SUPPRESSED = "SUPPRESSED"  # not sent: the address bounced, or consent went meanwhile
    FAILED = "FAILED"  # the provider refused it for good, or retries ran out (`reason`)


FINAL = frozenset(
    {
        NudgeStatus.SENT,
        NudgeStatus.HELD_OUT,
        NudgeStatus.DROPPED,
        NudgeStatus.SUPPRESSED,
        NudgeStatus.FAILED,
    }
)

# What a template may show: plain values, formatted for the member's locale at rendering.
Value = str | int | Decimal | date | datetime


@dataclass(frozen=True)
class NudgeRecord:
    """One nudge: a member, a kind and a subject (that expiry date, that reward, that order),
    decided once ever (the record's key is the dedupe). `values` are what the template shows,
    fixed when it was decided."""

    member_id: str
    kind: NudgeKind
    subject: str
    status: NudgeStatus
    created_at: datetime
    updated_at: datetime
    due_at: datetime  # when the nudge became due (staleness counts from here)
    channel: Channel | None = None  # the channel chosen (QUEUED and after)
    reason: str | None = None  # a DropReason, or why it was suppressed or failed
    send_at: datetime | None = None  # HELD: when quiet hours end
    queued_at: datetime | None = None  # first decided to send (caps and lift count from here)
    message_id: str | None = None  # SENT: the provider's id
    claimed_until: datetime | None = None  # SENDING: the sender's lease
    attempts: int = 0  # sends tried
    values: dict[str, Value] = field(default_factory=dict)
    converted_at: datetime | None = None  # an order within the attribution window
    version: int | None = None  # None: not written yet

    @property
    def key(self) -> tuple[NudgeKind, str]:
        return (self.kind, self.subject)

    @property
    def decided_at(self) -> datetime | None:
        """When it was decided to send, or to hold out: conversions count from then."""
        if self.status is NudgeStatus.HELD_OUT:
            return self.updated_at
        return self.queued_at

    @property
    def treated(self) -> bool:
        """Decided to send (intent to treat): lift compares these with the held out."""
        return self.channel is not None and self.status is not NudgeStatus.HELD_OUT


@dataclass(frozen=True)
class Watch:
    """Stream-maintained state of one trigger for one member (or, for REVIEW_REQUEST, one
    order): the fact the trigger counts from and the subject it would nudge about. Armed
    (`armed`) it sits in the sparse due index at `fact_at`, and the scheduler's query for its
    kind applies the trigger's threshold to that, so a threshold change applies at once."""

    member_id: str
    kind: NudgeKind
    order_id: str | None = None  # REVIEW_REQUEST: one watch per order
    subject: str | None = None  # what a nudge now would be about; None: nothing
    fact_at: datetime | None = None  # the expiry, the review, the last order, the birthday...
    armed: bool = False  # in the due index: the scheduler looks at it when due
    armed_at: datetime | None = None  # when the subject appeared (staleness counts from it)
    handled: str | None = None  # the last subject the scheduler decided (or found not due)
    seen: frozenset[str] = frozenset()  # REWARD_AFFORDABLE: rewards decided already
    version: int | None = None  # None: not written yet


@dataclass(frozen=True)
class MessageContext:
    """What a template is rendered from: who, in which locale and zone, and the nudge's
    values (points, dates, money, names). `links` are absolute URLs (unsubscribe, the shop)."""

    kind: NudgeKind
    channel: Channel
    locale: str  # BCP 47, e.g. "de-AT"
    time_zone: str  # IANA
    member_name: str | None
    shop_name: str
    currency: str  # ISO 4217, the program's
    values: dict[str, Value]
    links: dict[str, str]


@dataclass(frozen=True)
class Rendered:
    """A message ready to send. Email has a subject, HTML and text; SMS only text; push a
    title (subject) and text."""

    channel: Channel
    text: str
    subject: str | None = None
    html: str | None = None
    locale: str = "en"  # the template's locale actually used (after fallback)
