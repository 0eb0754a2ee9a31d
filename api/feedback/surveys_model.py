"""Survey answers: NPS (0-10 and a comment) and CSAT (1-5 about an order or a support contact).

An answer is immutable once given. It records the member's tier when they answered, so scores
by tier stay what they were. An unhappy answer (NPS detractor 0-6, CSAT 1-2) opens a
follow-up for the shop's team (api/feedback/followups*.py, from the table's stream).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

NPS_MIN, NPS_MAX = 0, 10
CSAT_MIN, CSAT_MAX = 1, 5
DETRACTOR_MAX = 6  # NPS 0-6: detractor; 7-8 passive; 9-10 promoter
PROMOTER_MIN = 9
CSAT_UNHAPPY_MAX = 2  # CSAT 1-2 opens a follow-up
CSAT_SATISFIED_MIN = 4  # CSAT % is the share of 4s and 5s


class SurveyKind(StrEnum):
    NPS = "NPS"
    CSAT = "CSAT"


class CsatSubject(StrEnum):
    """What a CSAT answer is about; its reference names which one."""

    ORDER = "ORDER"
    SUPPORT = "SUPPORT"


class SurveyChannel(StrEnum):
    """Where the member answered: throttling counts every channel together."""

    APP = "APP"
    WEB = "WEB"
    EMAIL = "EMAIL"
    SMS = "SMS"
    PUSH = "PUSH"


@dataclass(frozen=True)
class Answer:
    answer_id: str  # ans_<ulid-ish>: unique, sortable by time
    member_id: str
    kind: SurveyKind
    score: int
    comment: str | None
    channel: SurveyChannel
    answered_at: datetime
    tier_id: str | None = None  # the member's tier when they answered
    subject: CsatSubject | None = None  # CSAT only
    reference: str | None = None  # CSAT only: the order id or support contact id

    @property
    def needs_follow_up(self) -> bool:
        if self.kind is SurveyKind.NPS:
            return self.score <= DETRACTOR_MAX
        return self.score <= CSAT_UNHAPPY_MAX


MAX_COMMENT = 2000
INVITATION_DAYS = 30  # an invitation may be answered this long after it was asked


class NotDueReason(StrEnum):
    """Why a member is not asked now: nothing was written but the throttle."""

    RECENTLY_ASKED = "RECENTLY_ASKED"  # NPS: considered within recontactDays
    NOT_SAMPLED = "NOT_SAMPLED"  # outside the sample this time
    ALREADY_ASKED = "ALREADY_ASKED"  # CSAT: this order or support contact was considered


@dataclass(frozen=True)
class AskInput:
    kind: SurveyKind
    channel: SurveyChannel
    subject: CsatSubject | None = None  # CSAT only
    reference: str | None = None  # CSAT only


@dataclass(frozen=True)
class Invitation:
    """A member asked one survey: answered at most once, within INVITATION_DAYS."""

    id: str  # svy_<member hex>_<token>
    member_id: str
    kind: SurveyKind
    channel: SurveyChannel
    asked_at: datetime
    expires_at: datetime
    subject: CsatSubject | None = None
    reference: str | None = None
    answer_id: str | None = None
    answered_at: datetime | None = None
    version: int | None = None


@dataclass(frozen=True)
class Asked:
    """askSurvey's outcome: an invitation, or why not and when the member is next due."""

    invitation: Invitation | None
    reason: NotDueReason | None = None
    next_ask_at: datetime | None = None  # NPS only


@dataclass(frozen=True)
class NpsDue:
    """Whether askSurvey(NPS) would invite the member now, told without asking."""

    due: bool
    reason: NotDueReason | None = None
    next_ask_at: datetime | None = None  # when they are next due, where that is known


@dataclass(frozen=True)
class AnswerPage:
    answers: Sequence[Answer]
    cursors: Sequence[str]
    has_next: bool


def _percent(part: int, whole: int) -> float:
    """100 * part / whole to one decimal, half away from zero, computed exactly (a float's
    round() goes half to even on an inexact value: 1/16 would be 6.2)."""
    exact = Decimal(100 * part) / Decimal(whole)
    return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Scores:
    """Answers counted by score: histogram[i] answers scored (lowest score + i)."""

    kind: SurveyKind
    histogram: tuple[int, ...]

    @property
    def low(self) -> int:
        return NPS_MIN if self.kind is SurveyKind.NPS else CSAT_MIN

    @property
    def count(self) -> int:
        return sum(self.histogram)

    def _share(self, lowest: int, highest: int) -> int:
        return sum(n for s, n in enumerate(self.histogram, self.low) if lowest <= s <= highest)

    @property
    def promoters(self) -> int:
        return self._share(PROMOTER_MIN, NPS_MAX) if self.kind is SurveyKind.NPS else 0

    @property
    def detractors(self) -> int:
        return self._share(NPS_MIN, DETRACTOR_MAX) if self.kind is SurveyKind.NPS else 0

    @property
    def passives(self) -> int:
        return self.count - self.promoters - self.detractors if self.kind is SurveyKind.NPS else 0

    @property
    def satisfied(self) -> int:
        """CSAT 4-5."""
        return self._share(CSAT_SATISFIED_MIN, CSAT_MAX) if self.kind is SurveyKind.CSAT else 0

    @property
    def nps(self) -> float | None:
        """% promoters - % detractors, -100 to 100, one decimal (half up, as by hand); None:
        not NPS, or no answers."""
        if self.kind is not SurveyKind.NPS or not self.count:
            return None
        return _percent(self.promoters - self.detractors, self.count)

    @property
    def csat_percent(self) -> float | None:
        """The share of 4s and 5s, one decimal (half up); None: not CSAT, or no answers."""
        if self.kind is not SurveyKind.CSAT or not self.count:
            return None
        return _percent(self.satisfied, self.count)

    @property
    def average(self) -> float | None:
        if not self.count:
            return None
        total = sum(s * n for s, n in enumerate(self.histogram, self.low))
        return round(total / self.count, 2)


@dataclass(frozen=True)
class ScoreReport:
    total: Scores
    by_tier: tuple[tuple[str | None, Scores], ...]  # None: no tier ladder then
