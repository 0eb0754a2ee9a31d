"""Follow-ups under real concurrency (DynamoDB Local): racing resolutions credit goodwill
once, and a stream record delivered many times at once opens one follow-up and sends one
event."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import pytest

from api.clock import SystemClock
from api.errors import ErrorCode, InvalidInput
from api.events import EventBus
from api.feedback import followups_store as store
from api.feedback.followups_model import FollowUpListing, FollowUpStatus, Resolution
from api.feedback.followups_reactions import EventInFlight, announce
from api.feedback.surveys_model import Answer, SurveyChannel, SurveyKind
from api.feedback.surveys_store import answer_to_item
from api.ids import member_id_for
from api.points.model import EntryKind
from api.services import Services
from api.store import reads
from api.stream import Change
from tests.ddb_local.test_concurrency import all_at_once
from tests.support import (
    ADMIN,
    START,
    assert_ledger_consistent,
    enroll,
    ledger_entries,
    stored_member,
    unhappy_answer,
)

pytestmark = pytest.mark.ddb_local


def test_ten_concurrent_resolutions_credit_goodwill_once(local_services: Services) -> None:
    s = local_services
    member_id = enroll(s)
    fid = unhappy_answer(s)
    before = stored_member(member_id).balance
    resolve: list[Callable[[], Resolution]] = [
        partial(s.follow_ups.resolve, ADMIN, fid, "Sorry.", 40, f"k{i}") for i in range(10)
    ]
    results = all_at_once(resolve)
    won = [r for r in results if isinstance(r, Resolution)]
    refused = [r for r in results if isinstance(r, InvalidInput)]
    assert len(won) == 1, results
    assert len(refused) == 9
    assert {r.code for r in refused} == {ErrorCode.ALREADY_RESOLVED}
    goodwill = [e for e in ledger_entries(member_id) if e.kind is EntryKind.GOODWILL]
    assert [(e.points, e.reference) for e in goodwill] == [(40, fid)]
    assert stored_member(member_id).balance == before + 40
    assert_ledger_consistent(member_id)
    detail = s.follow_ups.get(ADMIN, fid)
    assert detail is not None
    assert detail.follow_up.status is FollowUpStatus.RESOLVED
    assert detail.follow_up.goodwill_seq == goodwill[0].seq
    resolved = s.follow_ups.list(ADMIN, FollowUpListing.RESOLVED, 20, None).follow_ups
    assert [f.id for f in resolved] == [fid]
    assert s.follow_ups.list(ADMIN, FollowUpListing.OPEN, 20, None).follow_ups == []


def test_concurrent_notes_each_get_their_own_seq(local_services: Services) -> None:
    s = local_services
    fid = unhappy_answer(s)
    notes: list[Callable[[], object]] = [
        partial(s.follow_ups.add_note, ADMIN, fid, f"Note {i}", f"n{i}") for i in range(8)
    ]
    results = all_at_once(notes + notes)  # each twice: the second is a replay
    assert not [r for r in results if not hasattr(r, "notes")], results
    detail = s.follow_ups.get(ADMIN, fid)
    assert detail is not None
    assert [n.seq for n in detail.notes] == list(range(1, 9))
    assert sorted(n.text for n in detail.notes) == sorted(f"Note {i}" for i in range(8))
    assert detail.follow_up.notes == 8


class SlowBus(EventBus):
    """Records what it is asked to send, slowly enough for deliveries to overlap."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def put(self, detail_type: str, detail: dict[str, Any]) -> None:
        time.sleep(0.05)
        with self._lock:
            self.sent.append({"type": detail_type, **detail})


def test_one_record_delivered_at_once_opens_one_follow_up_and_sends_one_event(
    local_services: Services,
) -> None:
    s = local_services
    enroll(s)
    fid = unhappy_answer(s, "ans_race")
    opened = reads.get(store.follow_up_key(fid), store.FollowUpItem)  # its INSERT's image
    assert opened is not None
    bus = SlowBus()
    react = announce(SystemClock(), bus)
    change = Change("ev-race", None, opened)

    def deliver() -> str:
        try:
            react(change)
        except EventInFlight:
            return "in flight"  # Lambda redelivers it later
        return "done"

    barrier = threading.Barrier(10)

    def run() -> str:
        barrier.wait()
        return deliver()

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(lambda _: run(), range(10)))
    assert "done" in outcomes
    for _ in range(3):  # the redeliveries
        assert deliver() == "done"
    assert [e["followUpId"] for e in bus.sent] == [fid]


def test_the_answer_delivered_at_once_opens_one_follow_up(local_services: Services) -> None:
    s = local_services
    answer = Answer(
        "ans_once", member_id_for("cust-1"), SurveyKind.CSAT, 1, None, SurveyChannel.WEB, START
    )
    item = answer_to_item(answer)
    item.save()
    results = all_at_once(
        [partial(s.reactions.dispatch, Change(f"ev-{i % 2}", None, item)) for i in range(10)]
    )
    assert results == [None] * 10
    # Answered at START, long before the real clock's now: overdue.
    listed = s.follow_ups.list(ADMIN, FollowUpListing.OVERDUE, 20, None).follow_ups
    assert [(f.id, f.version) for f in listed] == [("fu_ans_once", None)]
    detail = s.follow_ups.get(ADMIN, "fu_ans_once")
    assert detail is not None
    assert detail.follow_up.version == 1
