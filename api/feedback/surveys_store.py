"""Survey items and their mapping both ways.

| item    | pk                 | sk                              |
| ------- | ------------------ | ------------------------------- |
| answer  | MSURVEY#<member>   | ANS#<answered at>#<answer id>   | immutable, written once
| invite  | MSURVEY#<member>   | INV#<token>                     | answered once, versioned
| NPS due | MSURVEY#<member>   | ASKED#NPS                       | last considered; versioned
| CSAT    | MSURVEY#<member>   | ASKED#CSAT#<subject>#<reference> | considered once, ever
| scores  | SURVEYSTATS#<kind> | DAY#<UTC date>#<shard>#<tier or -> | ADD counters s0..s10
| listed  | SURVEYANSWERS#<kind> | <answered at>#<answer id>     | a copy, for admins

An answer item is the one the closed loop reacts to (a stream INSERT of an unhappy answer
opens its follow-up), so its type and `answer_from_item` are the contract with followups.

Score items change only by ADD in the answer's own transaction, so scores are exact and
never need a scan; a day's answers of one tier spread over STATS_SHARDS items (by answer id)
so that concurrent answers rarely touch the same item.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

from pynamodb.attributes import UTCDateTimeAttribute, VersionAttribute

from api.feedback.surveys_model import (
    CSAT_MAX,
    CSAT_MIN,
    NPS_MAX,
    NPS_MIN,
    Answer,
    CsatSubject,
    Invitation,
    Scores,
    SurveyChannel,
    SurveyKind,
)
from api.store.base import IntegerAttribute, JSONAttribute, Key, TableItem

STATS_SHARDS = 4
NO_TIER = "-"  # no tier ladder then, in a score item's key


def answers_pk(member_id: str) -> str:
    return f"MSURVEY#{member_id}"


def answer_key(a: Answer) -> Key:
    return (answers_pk(a.member_id), f"ANS#{a.answered_at.isoformat()}#{a.answer_id}")


class SurveyAnswerItem(TableItem, discriminator="survey_answer"):
    answer = JSONAttribute()


def answer_to_json(a: Answer) -> dict[str, Any]:
    return {
        "answer_id": a.answer_id,
        "member_id": a.member_id,
        "kind": a.kind.value,
        "score": a.score,
        "comment": a.comment,
        "channel": a.channel.value,
        "answered_at": a.answered_at.isoformat(),
        "tier_id": a.tier_id,
        "subject": None if a.subject is None else a.subject.value,
        "reference": a.reference,
    }


def answer_from_json(d: dict[str, Any]) -> Answer:
    return Answer(
        answer_id=d["answer_id"],
        member_id=d["member_id"],
        kind=SurveyKind(d["kind"]),
        score=d["score"],
        comment=d["comment"],
        channel=SurveyChannel(d["channel"]),
        answered_at=datetime.fromisoformat(d["answered_at"]),
        tier_id=d["tier_id"],
        subject=None if d["subject"] is None else CsatSubject(d["subject"]),
        reference=d["reference"],
    )


class ListedAnswerItem(TableItem, discriminator="survey_answer_listed"):
    """A copy of an answer in its kind's list, newest first, for admins reading comments."""

    answer = JSONAttribute()


def listed_pk(kind: SurveyKind) -> str:
    return f"SURVEYANSWERS#{kind.value}"


def listed_answer_item(a: Answer) -> ListedAnswerItem:
    sk = f"{a.answered_at.isoformat()}#{a.answer_id}"
    return ListedAnswerItem(listed_pk(a.kind), sk, answer=answer_to_json(a))


def answer_to_item(a: Answer) -> SurveyAnswerItem:
    return SurveyAnswerItem(*answer_key(a), answer=answer_to_json(a))


def answer_from_item(item: SurveyAnswerItem) -> Answer:
    return answer_from_json(item.answer)


def invitation_key(member_id: str, token: str) -> Key:
    return (answers_pk(member_id), f"INV#{token}")


def nps_due_key(member_id: str) -> Key:
    return (answers_pk(member_id), "ASKED#NPS")


def csat_asked_key(member_id: str, subject: CsatSubject, reference: str) -> Key:
    return (answers_pk(member_id), f"ASKED#CSAT#{subject.value}#{reference}")


def stats_pk(kind: SurveyKind) -> str:
    return f"SURVEYSTATS#{kind.value}"


def stats_key(a: Answer) -> Key:
    shard = int.from_bytes(hashlib.sha256(a.answer_id.encode()).digest()[:2]) % STATS_SHARDS
    tier = a.tier_id or NO_TIER
    return (stats_pk(a.kind), f"DAY#{a.answered_at.date().isoformat()}#{shard}#{tier}")


def stats_range(start: date, end: date) -> tuple[str, str]:
    """The sort keys of every score item of these days, both included."""
    return f"DAY#{start.isoformat()}#", f"DAY#{end.isoformat()}#~"  # "~" sorts after shard digits


class InvitationItem(TableItem, discriminator="survey_invitation"):
    invitation = JSONAttribute()
    version = VersionAttribute()


class NpsDueItem(TableItem, discriminator="survey_nps_due"):
    """When the member was last considered for NPS (asked, or passed over by sampling)."""

    considered_at = UTCDateTimeAttribute()
    version = VersionAttribute()


class CsatAskedItem(TableItem, discriminator="survey_csat_asked"):
    """This order or support contact was considered for CSAT: never again."""

    considered_at = UTCDateTimeAttribute()


class StatsItem(TableItem, discriminator="survey_stats"):
    s0 = IntegerAttribute(default=0)
    s1 = IntegerAttribute(default=0)
    s2 = IntegerAttribute(default=0)
    s3 = IntegerAttribute(default=0)
    s4 = IntegerAttribute(default=0)
    s5 = IntegerAttribute(default=0)
    s6 = IntegerAttribute(default=0)
    s7 = IntegerAttribute(default=0)
    s8 = IntegerAttribute(default=0)
    s9 = IntegerAttribute(default=0)
    s10 = IntegerAttribute(default=0)


def _when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def invitation_to_item(i: Invitation) -> InvitationItem:
    item = InvitationItem(
        *invitation_key(i.member_id, i.id.rsplit("_", 1)[1]),
        invitation={
            "id": i.id,
            "member_id": i.member_id,
            "kind": i.kind.value,
            "channel": i.channel.value,
            "asked_at": i.asked_at.isoformat(),
            "expires_at": i.expires_at.isoformat(),
            "subject": None if i.subject is None else i.subject.value,
            "reference": i.reference,
            "answer_id": i.answer_id,
            "answered_at": None if i.answered_at is None else i.answered_at.isoformat(),
        },
    )
    if i.version is not None:
        item.version = i.version
    return item


def invitation_from_item(item: InvitationItem) -> Invitation:
    d = item.invitation
    return Invitation(
        id=d["id"],
        member_id=d["member_id"],
        kind=SurveyKind(d["kind"]),
        channel=SurveyChannel(d["channel"]),
        asked_at=datetime.fromisoformat(d["asked_at"]),
        expires_at=datetime.fromisoformat(d["expires_at"]),
        subject=None if d["subject"] is None else CsatSubject(d["subject"]),
        reference=d["reference"],
        answer_id=d["answer_id"],
        answered_at=_when(d["answered_at"]),
        version=item.version,
    )


def score_delta(a: Answer) -> dict[str, int]:
    return {f"s{a.score}": 1}


def tier_of(item: StatsItem) -> str | None:
    tier = item.sk.split("#", 3)[3]  # last: a tier code may hold "#"
    return None if tier == NO_TIER else tier


def scores_of(kind: SurveyKind, items: list[StatsItem]) -> Scores:
    low, high = (NPS_MIN, NPS_MAX) if kind is SurveyKind.NPS else (CSAT_MIN, CSAT_MAX)
    return Scores(
        kind, tuple(sum(getattr(i, f"s{s}") for i in items) for s in range(low, high + 1))
    )
