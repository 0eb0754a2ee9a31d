"""The closed loop's reactions to the table's stream.

- `open_follow_ups`: a new survey answer that needs one (NPS 0-6, CSAT 1-2) opens its
  follow-up, due `surveys.followUpHours` (read now) after the answer. The follow-up's id is
  the answer's, and it and its listed copy are written only if absent: a redelivered or
  concurrently delivered record finds it there and changes nothing.
- `announce`: a new follow-up is a FollowUpOpened event on the EventBridge bus. The event's
  marker is claimed (a conditional write) before PutEvents and marked sent after it, so a
  redelivery after the send, or a delivery racing it, sends nothing. A failed send releases
  the claim and raises, and the record is redelivered. A claim older than CLAIM_LEASE
  belongs to an invocation that died (between the send and the mark, maybe): it is taken
  over and the event sent again. Consumers therefore dedupe on `followUpId` (at least once).
- A delivery that finds a younger claim waits it out in place (polling the marker) rather
  than failing at once: Lambda hands a shard's record to one invocation at a time, so such
  a claim is mostly one that died mid-send, and failing fast would spend the record's
  retries within the lease and lose the event to the dead-letter queue.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from api.clock import Clock
from api.events import EventBus
from api.feedback import followups_store as store
from api.feedback.followups_model import FollowUp
from api.feedback.surveys_store import SurveyAnswerItem, answer_from_item
from api.idempotency import Plan, versioned_write
from api.program import store as program
from api.program.service import ProgramService
from api.store.base import Key
from api.store.reads import Snapshot
from api.stream import Change, Reaction

DETAIL_TYPE = "FollowUpOpened"
# Longer than a put can take (api/events.py bounds it to about 20 s): a younger claim may
# still be sending.
CLAIM_LEASE = timedelta(seconds=25)
POLL_SECONDS = 0.5  # between looks at a claim in flight


Step = Literal["claim", "release", "sent"]


class EventInFlight(Exception):
    """Another delivery of this record is sending its event: try again later."""


def open_follow_ups(clock: Clock, program_service: ProgramService) -> Reaction:
    def react(change: Change) -> None:
        if not (change.inserted and isinstance(change.new, SurveyAnswerItem)):
            return
        answer = answer_from_item(change.new)
        if not answer.needs_follow_up:
            return
        key = store.follow_up_key(store.follow_up_id(answer.answer_id))

        def decide(snapshot: Snapshot) -> Plan[None]:
            if snapshot.get(key, store.FollowUpItem) is not None:
                return Plan(None)  # opened by an earlier delivery
            settings = program.settings(snapshot)
            due = answer.answered_at + timedelta(hours=settings.surveys.follow_up_hours)
            opened = store.opened(answer, program_service.now(settings), due)
            return Plan(None, new=[store.to_item(opened), *store.listed_items(opened)])

        versioned_write(clock, [key, program.SETTINGS_KEY], decide)

    return react


def event_detail(f: FollowUp) -> dict[str, Any]:
    return {
        "followUpId": f.id,
        "answerId": f.answer_id,
        "memberId": f.member_id,
        "kind": f.kind.value,
        "score": f.score,
        "comment": f.comment,
        "channel": f.channel.value,
        "subject": None if f.subject is None else f.subject.value,
        "reference": f.reference,
        "tierId": f.tier_id,
        "answeredAt": f.answered_at.isoformat(),
        "openedAt": f.opened_at.isoformat(),
        "dueAt": f.due_at.isoformat(),
    }


def announce(clock: Clock, bus: EventBus) -> Reaction:
    def mark(key: Key, step: Step) -> bool:
        """Move the event's marker a step; False if the event was sent already."""

        def decide(snapshot: Snapshot) -> Plan[bool]:
            marker = snapshot.get(key, store.FollowUpEventItem)
            now = clock.now()
            if marker is None:
                marker = store.FollowUpEventItem(*key)
            elif marker.sent_at is not None:
                return Plan(False)
            claimed = marker.claimed_at
            if step == "claim" and claimed is not None and now - claimed < CLAIM_LEASE:
                raise EventInFlight(key[0])
            if step == "sent":
                marker.sent_at = now
            else:
                marker.claimed_at = now if step == "claim" else None
            first = marker.version is None
            return Plan(True, new=[marker] if first else [], changed=[] if first else [marker])

        return versioned_write(clock, [key], decide)

    def react(change: Change) -> None:
        if not (change.inserted and isinstance(change.new, store.FollowUpItem)):
            return
        follow_up = store.from_item(change.new)
        key = store.event_key(follow_up.id)
        for _ in range(int(CLAIM_LEASE.total_seconds() / POLL_SECONDS) + 1):
            try:
                claimed = mark(key, "claim")
                break
            except EventInFlight:
                clock.sleep(POLL_SECONDS)  # until it is sent, or its lease runs out
        else:
            raise EventInFlight(key[0])  # still claimed: a live sender; redelivered later
        if not claimed:
            return  # sent by an earlier delivery
        try:
            bus.put(DETAIL_TYPE, event_detail(follow_up))
        except Exception:
            mark(key, "release")  # the redelivery sends at once
            raise
        mark(key, "sent")

    return react
