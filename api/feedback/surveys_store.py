"""Survey items and their mapping both ways.

| item    | pk                 | sk                              |
| ------- | ------------------ | ------------------------------- |
| answer  | MSURVEY#<member>   | ANS#<answered at>#<answer id>   | immutable, written once

An answer item is the one the closed loop reacts to (a stream INSERT of an unhappy answer
opens its follow-up), so its type and `answer_from_item` are the contract with followups.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from api.feedback.surveys_model import Answer, CsatSubject, SurveyChannel, SurveyKind
from api.store.base import JSONAttribute, Key, TableItem


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


def answer_to_item(a: Answer) -> SurveyAnswerItem:
    return SurveyAnswerItem(*answer_key(a), answer=answer_to_json(a))


def answer_from_item(item: SurveyAnswerItem) -> Answer:
    return answer_from_json(item.answer)
