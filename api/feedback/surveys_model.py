"""Survey answers: NPS (0-10 and a comment) and CSAT (1-5 about an order or a support contact).

An answer is immutable once given. It records the member's tier when they answered, so scores
by tier stay what they were. An unhappy answer (NPS detractor 0-6, CSAT 1-2) opens a
follow-up for the shop's team (api/feedback/followups*.py, from the table's stream).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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
