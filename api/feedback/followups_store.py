"""Follow-up items and their mapping both ways.

| item            | pk                  | sk                         |
| --------------- | ------------------- | -------------------------- |
| follow-up       | FOLLOWUP#<id>       | FOLLOWUP                   | versioned
| note            | FOLLOWUP#<id>       | NOTE#<seq, 4 digits>       | immutable
| event marker    | FOLLOWUP#<id>       | EVENT                      | the event out, claimed/sent
| listed (open)   | FOLLOWUPS#OPEN      | <due at>#<id>              | open: overdue once sk < now
| listed (done)   | FOLLOWUPS#RESOLVED  | <resolved at>#<id>         | resolved
| (by assignee)   | <either>#A#<admin>  | the same                   | a second copy, once assigned

A follow-up and its notes are one item collection: `followUp(id)` is one Query. Each listing
is one Query with a key condition on a copy of the follow-up; every change writes the copy
in the follow-up's own transaction (under its version), and resolving moves it from the
open listing to the resolved one (and assigning, between assignees' listings) in that
transaction too. Times in sort keys have one fixed
width, so they sort as they compare.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute

from api.feedback.followups_model import FollowUp, FollowUpStatus, Note
from api.feedback.surveys_model import Answer
from api.feedback.surveys_store import answer_from_json, answer_to_json
from api.store.base import JSONAttribute, Key, TableItem

OPEN_PK = "FOLLOWUPS#OPEN"
RESOLVED_PK = "FOLLOWUPS#RESOLVED"
HEAD = "FOLLOWUP"
NOTE = "NOTE#"


def sort_time(value: datetime) -> str:
    """UTC, microseconds always: strings of one width that sort in time order."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def follow_up_id(answer_id: str) -> str:
    return f"fu_{answer_id}"


def follow_up_pk(fid: str) -> str:
    return f"FOLLOWUP#{fid}"


def follow_up_key(fid: str) -> Key:
    return (follow_up_pk(fid), HEAD)


def note_key(fid: str, seq: int) -> Key:
    return (follow_up_pk(fid), f"{NOTE}{seq:04d}")


def event_key(fid: str) -> Key:
    return (follow_up_pk(fid), "EVENT")


def listing_pk(status: FollowUpStatus, assignee: str | None = None) -> str:
    pk = OPEN_PK if status is FollowUpStatus.OPEN else RESOLVED_PK
    return pk if assignee is None else f"{pk}#A#{assignee}"


def listed_keys(f: FollowUp) -> list[Key]:
    """Where the follow-up is listed in its present status: for all, and for its assignee."""
    when = f.due_at if f.status is FollowUpStatus.OPEN else f.resolved_at
    assert when is not None
    sk = f"{sort_time(when)}#{f.id}"
    keys = [(listing_pk(f.status), sk)]
    if f.assignee is not None:
        keys.append((listing_pk(f.status, f.assignee), sk))
    return keys


class FollowUpItem(TableItem, discriminator="followup"):
    status = UnicodeAttribute()
    follow_up = JSONAttribute()
    version = VersionAttribute()


class FollowUpNoteItem(TableItem, discriminator="followup_note"):
    note = JSONAttribute()


class FollowUpListedItem(TableItem, discriminator="followup_listed"):
    follow_up = JSONAttribute()  # the follow-up as it is now


class FollowUpEventItem(TableItem, discriminator="followup_event"):
    """The FollowUpOpened event: claimed by one delivery (claimed_at), then sent (sent_at)."""

    claimed_at = UTCDateTimeAttribute(null=True)
    sent_at = UTCDateTimeAttribute(null=True)
    version = VersionAttribute()


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def to_json(f: FollowUp) -> dict[str, Any]:
    return {
        "id": f.id,
        "answer": answer_to_json(f.answer),
        "opened_at": f.opened_at.isoformat(),
        "due_at": f.due_at.isoformat(),
        "status": f.status.value,
        "assignee": f.assignee,
        "notes": f.notes,
        "resolved_at": _iso(f.resolved_at),
        "resolved_by": f.resolved_by,
        "resolution": f.resolution,
        "goodwill_points": f.goodwill_points,
        "goodwill_seq": f.goodwill_seq,
    }


def from_json(d: dict[str, Any], version: int | None = None) -> FollowUp:
    return FollowUp(
        id=d["id"],
        answer=answer_from_json(d["answer"]),
        opened_at=datetime.fromisoformat(d["opened_at"]),
        due_at=datetime.fromisoformat(d["due_at"]),
        status=FollowUpStatus(d["status"]),
        assignee=d["assignee"],
        notes=d["notes"],
        resolved_at=_when(d["resolved_at"]),
        resolved_by=d["resolved_by"],
        resolution=d["resolution"],
        goodwill_points=d["goodwill_points"],
        goodwill_seq=d["goodwill_seq"],
        version=version,
    )


def opened(answer: Answer, now: datetime, due_at: datetime) -> FollowUp:
    return FollowUp(
        id=follow_up_id(answer.answer_id),
        answer=answer,
        opened_at=now,
        due_at=due_at,
    )


def to_item(f: FollowUp) -> FollowUpItem:
    item = FollowUpItem(*follow_up_key(f.id), status=f.status.value, follow_up=to_json(f))
    if f.version is not None:
        item.version = f.version
    return item


def from_item(item: FollowUpItem) -> FollowUp:
    return from_json(item.follow_up, item.version)


def listed_items(f: FollowUp) -> list[FollowUpListedItem]:
    body = to_json(f)
    return [FollowUpListedItem(pk, sk, follow_up=body) for pk, sk in listed_keys(f)]


def listed_from_item(item: FollowUpListedItem) -> FollowUp:
    return from_json(item.follow_up)


def note_to_item(n: Note) -> FollowUpNoteItem:
    return FollowUpNoteItem(
        *note_key(n.follow_up_id, n.seq),
        note={
            "follow_up_id": n.follow_up_id,
            "seq": n.seq,
            "text": n.text,
            "author": n.author,
            "created_at": n.created_at.isoformat(),
        },
    )


def note_from_item(item: FollowUpNoteItem) -> Note:
    d = item.note
    return Note(
        follow_up_id=d["follow_up_id"],
        seq=d["seq"],
        text=d["text"],
        author=d["author"],
        created_at=datetime.fromisoformat(d["created_at"]),
    )
