"""Follow-ups: the shop's team closing the loop with a member who answered a survey unhappily
(an NPS detractor, a CSAT of 1-2). Opened from the table's stream (api/feedback/followups.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from api.feedback.surveys_model import Answer, CsatSubject, SurveyChannel, SurveyKind
from api.points.model import Entry


class FollowUpStatus(StrEnum):
    OPEN = "OPEN"
    RESOLVED = "RESOLVED"


class FollowUpListing(StrEnum):
    """Which follow-ups to list: OPEN ones not yet due, OVERDUE open ones, RESOLVED ones."""

    OPEN = "OPEN"
    OVERDUE = "OVERDUE"
    RESOLVED = "RESOLVED"


@dataclass(frozen=True)
class FollowUp:
    id: str  # fu_<answer id>: one per answer
    answer: Answer  # what the member said: a copy, as answers never change
    opened_at: datetime
    due_at: datetime
    status: FollowUpStatus = FollowUpStatus.OPEN
    assignee: str | None = None
    notes: int = 0  # how many notes it has: the next note's seq is notes + 1
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution: str | None = None  # the resolving admin's note
    goodwill_points: int | None = None
    goodwill_seq: int | None = None  # the GOODWILL entry, in the member's ledger
    version: int | None = None  # None: not written yet

    @property
    def answer_id(self) -> str:
        return self.answer.answer_id

    @property
    def member_id(self) -> str:
        return self.answer.member_id

    @property
    def kind(self) -> SurveyKind:
        return self.answer.kind

    @property
    def score(self) -> int:
        return self.answer.score

    @property
    def comment(self) -> str | None:
        return self.answer.comment

    @property
    def channel(self) -> SurveyChannel:
        return self.answer.channel

    @property
    def answered_at(self) -> datetime:
        return self.answer.answered_at

    @property
    def tier_id(self) -> str | None:
        return self.answer.tier_id

    @property
    def subject(self) -> CsatSubject | None:
        return self.answer.subject

    @property
    def reference(self) -> str | None:
        return self.answer.reference

    def overdue(self, now: datetime) -> bool:
        return self.status is FollowUpStatus.OPEN and self.due_at < now


@dataclass(frozen=True)
class Note:
    follow_up_id: str
    seq: int
    text: str
    author: str  # the admin's subject
    created_at: datetime


@dataclass(frozen=True)
class FollowUpDetail:
    follow_up: FollowUp
    notes: Sequence[Note]  # oldest first (after addFollowUpNote: the note it added)
    now: datetime  # program time, for `overdue`


@dataclass(frozen=True)
class FollowUpPage:
    follow_ups: Sequence[FollowUp]
    cursors: Sequence[str]
    has_next: bool
    now: datetime


@dataclass(frozen=True)
class Resolution:
    follow_up: FollowUp
    entry: Entry | None  # the GOODWILL entry, when points were given
