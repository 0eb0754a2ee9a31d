"""Members: who they are, how to reach them, what they agreed to. Dataclasses only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum, StrEnum

from api.points.lots import PointsState
from api.referrals.model import Referral
from api.tiers.model import TierState


class Channel(StrEnum):
    EMAIL = "EMAIL"
    SMS = "SMS"
    PUSH = "PUSH"


@dataclass(frozen=True)
class Consent:
    """Consent to be contacted on one channel: whether, when and where it was given."""

    channel: Channel
    granted: bool
    updated_at: datetime  # when it was given or withdrawn
    source: str  # where: "checkout", "signup-form", "app-settings"...


@dataclass(frozen=True)
class Member:
    """The member item as a whole: the profile, and the points and tier state other domains
    keep on it so that one read and one transaction serve every change (written under
    `version`)."""

    id: str
    customer_id: str
    email: str | None
    name: str | None
    phone: str | None
    birthday: date | None
    time_zone: str
    locale: str
    consents: tuple[Consent, ...]
    points: PointsState
    created_at: datetime
    updated_at: datetime
    enrollment: str  # fingerprint of the enrolment request, for its replays
    tier: TierState = field(default_factory=TierState)
    last_seq: int = 0  # of the member's newest ledger entry
    version: int | None = None  # None: not written yet

    @property
    def balance(self) -> int:
        return self.points.balance

    @property
    def next_seq(self) -> int:
        """The sequence number of the next ledger entry: entries are strictly ordered, and
        two writers that read the same member collide on its version, never on an entry."""
        return self.last_seq + 1

    def due_at(self) -> datetime | None:
        """When the daily job next has work here: a lot to activate or expire, a tier review.
        None keeps the member out of the sparse due index."""
        times = [t for t in (self.points.due_at(), self.tier.review_at) if t is not None]
        return min(times) if times else None


@dataclass(frozen=True)
class ConsentInput:
    channel: Channel
    granted: bool
    source: str
    given_at: datetime | None = None  # defaults to now


@dataclass(frozen=True)
class EnrollInput:
    customer_id: str
    time_zone: str
    locale: str
    email: str | None = None
    name: str | None = None
    phone: str | None = None
    birthday: date | None = None
    consents: Sequence[ConsentInput] = ()
    referral_code: str | None = None  # another member's: the customer was referred


@dataclass(frozen=True)
class Enrolment:
    member: Member
    referral: Referral | None  # the referral they joined with (api/referrals/joining.py)


class Unchanged(Enum):
    UNCHANGED = "UNCHANGED"


UNCHANGED = Unchanged.UNCHANGED


@dataclass(frozen=True)
class ProfileChange:
    """Fields left UNCHANGED stay as they are; None clears an optional field."""

    email: str | Unchanged | None = UNCHANGED
    name: str | Unchanged | None = UNCHANGED
    phone: str | Unchanged | None = UNCHANGED
    birthday: date | Unchanged | None = UNCHANGED
    time_zone: str | Unchanged = UNCHANGED
    locale: str | Unchanged = UNCHANGED
    consents: Sequence[ConsentInput] = ()
