"""Members: who they are, how to reach them, what they agreed to. Dataclasses only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum, StrEnum

from api.points.lots import PointsState


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
    """The member item as a whole: the profile, and the points state other domains keep on
    it so that one read and one transaction serve every change (written under `version`)."""

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
    version: int | None = None  # None: not written yet

    @property
    def balance(self) -> int:
        return self.points.balance

    @property
    def next_seq(self) -> int:
        """The sequence number of the ledger entry the next change writes: the version that
        change gives the member, so entries are strictly ordered and never collide."""
        return (self.version or 0) + 1


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
