"""The closed loop on moto: unhappy answers open follow-ups from the stream, announced on
EventBridge once; admins list them (open, overdue by the test clock, resolved), assign,
annotate and resolve them, with goodwill points through the ledger."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest

from api.auth import Principal, Role
from api.clock import ManualClock
from api.config import Config
from api.errors import (
    ErrorCode,
    Forbidden,
    IdempotencyConflict,
    InvalidInput,
    MemberNotFound,
    NotFound,
)
from api.events import EventNotSent
from api.feedback import followups, followups_reactions
from api.feedback import followups_store as store
from api.feedback.followups_model import FollowUp, FollowUpListing, FollowUpStatus
from api.feedback.followups_reactions import EventInFlight
from api.feedback.surveys_model import Answer, CsatSubject, SurveyChannel, SurveyKind
from api.feedback.surveys_store import answer_to_item
from api.ids import member_id_for
from api.points.model import EntryKind
from api.program.model import SettingsChange, SurveyChange
from api.services import Services
from api.store import reads
from api.store.base import TableItem
from api.stream import Change
from tests.support import (
    ADMIN,
    SERVICE,
    START,
    assert_ledger_consistent,
    enroll,
    ledger_entries,
    member,
    stored_member,
)

BUS = "loyalty-test-followups"
M1 = member_id_for("cust-1")


@pytest.fixture
def config(config: Config) -> Config:
    return Config(
        stage=config.stage,
        table_name=config.table_name,
        maintenance_workers=1,
        event_bus_name=BUS,
    )


@pytest.fixture
def queue(services: Services) -> str:
    """The bus, and a rule on it sending every FollowUpOpened to a queue: a helpdesk's."""
    events = boto3.client("events", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    events.create_event_bus(Name=BUS)
    url: str = sqs.create_queue(QueueName="helpdesk")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    pattern = {"source": ["loyalty-api"], "detail-type": ["FollowUpOpened"]}
    events.put_rule(Name="helpdesk", EventBusName=BUS, EventPattern=json.dumps(pattern))
    events.put_targets(
        Rule="helpdesk", EventBusName=BUS, Targets=[{"Id": "q", "Arn": arn["QueueArn"]}]
    )
    return url


def received(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    found = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in found]


def answer(
    n: int,
    score: int = 3,
    *,
    kind: SurveyKind = SurveyKind.NPS,
    at: datetime | None = None,
    customer: str = "cust-1",
) -> Answer:
    csat = kind is SurveyKind.CSAT
    return Answer(
        answer_id=f"ans_{n:026d}",
        member_id=member_id_for(customer),
        kind=kind,
        score=score,
        comment="Delivery was late.",
        channel=SurveyChannel.EMAIL,
        answered_at=at or START,
        tier_id="SILVER",
        subject=CsatSubject.ORDER if csat else None,
        reference="o-1" if csat else None,
    )


def answered(services: Services, a: Answer, times: int = 1) -> FollowUp | None:
    """The survey's write, and the stream delivering it (`times` times): the follow-up."""
    item = answer_to_item(a)
    item.save()
    for _ in range(times):
        services.reactions.dispatch(Change(f"ev-{a.answer_id}", None, item))
    found = services.follow_ups.get(ADMIN, store.follow_up_id(a.answer_id))
    return None if found is None else found.follow_up


def announced(services: Services, f: FollowUp, event_id: str = "ev-fu") -> None:
    """The stream delivering the follow-up's own INSERT."""
    item = reads.get(store.follow_up_key(f.id), store.FollowUpItem)
    services.reactions.dispatch(Change(event_id, None, item))


def items() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = TableItem._get_connection().scan()["Items"]
    return found


def listed(services: Services, listing: FollowUpListing, first: int = 50) -> list[str]:
    return [f.id for f in services.follow_ups.list(ADMIN, listing, first, None).follow_ups]


@pytest.fixture(autouse=True)
def members(services: Services) -> None:
    enroll(services, "cust-1")
    enroll(services, "cust-2")


# ---- opening --------------------------------------------------------------------------------


def test_an_unhappy_answer_opens_one_follow_up_however_often_delivered(
    services: Services,
) -> None:
    a = answer(1, 6)
    f = answered(services, a, times=3)
    assert f is not None
    assert (f.member_id, f.kind, f.score, f.comment, f.channel, f.tier_id) == (
        M1,
        SurveyKind.NPS,
        6,
        "Delivery was late.",
        SurveyChannel.EMAIL,
        "SILVER",
    )
    assert f == FollowUp(
        id=f"fu_{a.answer_id}",
        answer=a,
        opened_at=services.clock.now(),
        due_at=a.answered_at + timedelta(hours=48),
        version=1,
    )
    before = items()
    services.reactions.dispatch(Change("another-delivery", None, answer_to_item(a)))
    assert items() == before
    assert listed(services, FollowUpListing.OPEN) == [f.id]


@pytest.mark.parametrize(
    ("kind", "score", "opens"),
    [
        (SurveyKind.NPS, 0, True),
        (SurveyKind.NPS, 6, True),
        (SurveyKind.NPS, 7, False),
        (SurveyKind.NPS, 10, False),
        (SurveyKind.CSAT, 1, True),
        (SurveyKind.CSAT, 2, True),
        (SurveyKind.CSAT, 3, False),
        (SurveyKind.CSAT, 5, False),
    ],
)
def test_only_detractors_and_unhappy_csat_open_one(
    services: Services, kind: SurveyKind, score: int, opens: bool
) -> None:
    f = answered(services, answer(1, score, kind=kind))
    assert (f is not None) is opens
    if f is not None and kind is SurveyKind.CSAT:
        assert (f.subject, f.reference) == (CsatSubject.ORDER, "o-1")


def test_the_due_time_follows_the_setting_when_the_answer_arrives(services: Services) -> None:
    services.program.update(ADMIN, SettingsChange(surveys=SurveyChange(follow_up_hours=4)))
    f = answered(services, answer(1))
    assert f is not None
    assert f.due_at == f.answered_at + timedelta(hours=4)


def test_other_changes_open_nothing(services: Services) -> None:
    a = answer(1)
    item = answer_to_item(a)
    item.save()
    services.reactions.dispatch(Change("modified", item, item))  # not an insert
    services.reactions.dispatch(Change("removed", item, None))
    assert services.follow_ups.get(ADMIN, store.follow_up_id(a.answer_id)) is None


# ---- the event out ---------------------------------------------------------------------


def test_a_new_follow_up_is_one_event_with_its_detail(services: Services, queue: str) -> None:
    f = answered(services, answer(1, 2, kind=SurveyKind.CSAT))
    assert f is not None
    announced(services, f)
    announced(services, f)  # redelivered
    announced(services, f, "another-record")  # whatever the record
    [event] = received(queue)
    assert (event["source"], event["detail-type"]) == ("loyalty-api", "FollowUpOpened")
    assert event["detail"] == {
        "followUpId": f.id,
        "answerId": f.answer_id,
        "memberId": M1,
        "kind": "CSAT",
        "score": 2,
        "comment": "Delivery was late.",
        "channel": "EMAIL",
        "subject": "ORDER",
        "reference": "o-1",
        "tierId": "SILVER",
        "answeredAt": "2026-03-01T12:00:00+00:00",
        "openedAt": f.opened_at.isoformat(),
        "dueAt": "2026-03-03T12:00:00+00:00",
    }
    marker = reads.get(store.event_key(f.id), store.FollowUpEventItem)
    assert marker is not None
    assert marker.sent_at == services.clock.now()


def test_a_failed_send_raises_and_the_redelivery_sends(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = answered(services, answer(1))
    assert f is not None
    with pytest.raises(Exception, match="does not exist"):  # no bus yet
        announced(services, f)
    marker = reads.get(store.event_key(f.id), store.FollowUpEventItem)
    assert marker is not None
    assert marker.claimed_at is None  # given back
    assert marker.sent_at is None
    boto3.client("events", region_name="us-east-1").create_event_bus(Name=BUS)
    sent: list[dict[str, Any]] = []

    def refused(**kw: Any) -> dict[str, Any]:
        sent.extend(kw["Entries"])
        return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "Throttled"}]}

    assert services.events is not None
    monkeypatch.setattr(services.events.client, "put_events", refused)
    with pytest.raises(EventNotSent, match="Throttled"):
        announced(services, f)
    monkeypatch.undo()
    announced(services, f)
    marker = reads.get(store.event_key(f.id), store.FollowUpEventItem)
    assert marker is not None
    assert marker.sent_at is not None
    assert len(sent) == 1


def test_a_delivery_racing_a_send_in_flight_is_retried_later(
    services: Services, queue: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(followups_reactions, "CLAIM_LEASE", timedelta(seconds=1))
    monkeypatch.setattr(followups_reactions, "POLL_SECONDS", 0.1)
    f = answered(services, answer(1))
    assert f is not None
    claim = store.FollowUpEventItem(*store.event_key(f.id), claimed_at=clock.now())
    claim.save()  # another delivery is sending
    with pytest.raises(EventInFlight):  # the program's clock stands still: it waited the
        announced(services, f)  # lease's polls out
    assert received(queue) == []
    clock.advance(timedelta(minutes=2))  # that delivery died before marking it sent
    announced(services, f)
    assert [e["detail"]["followUpId"] for e in received(queue)] == [f.id]


# ---- listings ---------------------------------------------------------------------------


def test_open_overdue_and_resolved_listings_follow_program_time(
    services: Services, clock: ManualClock
) -> None:
    start = clock.now()
    # Due in 48 h, 12 h, 24 h (answered at different times), and one not unhappy.
    times = [start, start - timedelta(hours=36), start - timedelta(hours=24)]
    opened = [answered(services, answer(i, at=t)) for i, t in enumerate(times)]
    answered(services, answer(9, 9))
    ids = [f.id for f in opened if f is not None]
    assert listed(services, FollowUpListing.OPEN) == [ids[1], ids[2], ids[0]]  # soonest due
    assert listed(services, FollowUpListing.OVERDUE) == []
    services.program.advance_clock(ADMIN, hours=30)  # the test clock
    assert listed(services, FollowUpListing.OVERDUE) == [ids[1], ids[2]]  # most overdue
    assert listed(services, FollowUpListing.OPEN) == [ids[0]]
    detail = services.follow_ups.get(ADMIN, ids[1])
    assert detail is not None
    assert detail.follow_up.overdue(detail.now)
    services.follow_ups.resolve(ADMIN, ids[1], "Called back.", None, "r1")
    services.program.advance_clock(ADMIN, hours=1)
    services.follow_ups.resolve(ADMIN, ids[0], "Refunded shipping.", None, "r2")
    assert listed(services, FollowUpListing.OVERDUE) == [ids[2]]
    assert listed(services, FollowUpListing.RESOLVED) == [ids[0], ids[1]]  # newest first
    resolved = services.follow_ups.get(ADMIN, ids[1])
    assert resolved is not None
    assert not resolved.follow_up.overdue(resolved.now)


@pytest.mark.parametrize("listing", list(FollowUpListing))
def test_pages_and_cursors(
    services: Services, clock: ManualClock, listing: FollowUpListing
) -> None:
    # Open ones answered a minute apart (due in that order), or overdue ones (the later
    # answered, the less overdue), or those resolved a minute apart (newest first).
    hours = 0 if listing is FollowUpListing.OPEN else -60
    ids = []
    for i in range(5):
        f = answered(services, answer(i, at=START + timedelta(hours=hours, minutes=i)))
        assert f is not None
        ids.append(f.id)
    if listing is FollowUpListing.RESOLVED:
        for i, fid in enumerate(ids):
            clock.advance(timedelta(minutes=1))
            services.follow_ups.resolve(ADMIN, fid, "Done.", None, f"k{i}")
        ids.reverse()
    seen: list[str] = []
    after = None
    while True:
        page = services.follow_ups.list(ADMIN, listing, 2, after)
        seen.extend(f.id for f in page.follow_ups)
        if not page.has_next:
            break
        after = page.cursors[-1]
    assert seen == ids
    other = next(x for x in FollowUpListing if x is not listing)
    first = services.follow_ups.list(ADMIN, listing, 1, None).cursors[0]
    for bad in ["nope", "", "x" * 500, "\u0000", first + "x"]:
        with pytest.raises(InvalidInput) as exc:
            services.follow_ups.list(ADMIN, listing, 2, bad)
        assert exc.value.field == "after"
    with pytest.raises(InvalidInput):  # another listing's cursor
        services.follow_ups.list(ADMIN, other, 2, first)
    for size in (0, -1, 101):
        with pytest.raises(InvalidInput) as exc:
            services.follow_ups.list(ADMIN, listing, size, None)
        assert exc.value.field == "first"


# ---- assign, notes ---------------------------------------------------------------------


def test_assign_and_reassign_while_open(services: Services) -> None:
    f = answered(services, answer(1))
    assert f is not None
    assert services.follow_ups.assign(ADMIN, f.id, "ana@shop.example").follow_up.version == 2
    same = services.follow_ups.assign(ADMIN, f.id, "ana@shop.example")
    assert same.follow_up.version == 2  # nothing changed
    moved = services.follow_ups.assign(ADMIN, f.id, "bo@shop.example").follow_up
    assert (moved.assignee, moved.version) == ("bo@shop.example", 3)
    [copy] = services.follow_ups.list(ADMIN, FollowUpListing.OPEN, 5, None).follow_ups
    assert copy.assignee == "bo@shop.example"
    other = answered(services, answer(2))  # unassigned: in no one's listing

    def mine(listing: FollowUpListing, who: str) -> list[str]:
        found = services.follow_ups.list(ADMIN, listing, 5, None, assignee=who).follow_ups
        return [f.id for f in found]

    assert other is not None
    assert listed(services, FollowUpListing.OPEN) == [f.id, other.id]
    assert mine(FollowUpListing.OPEN, "bo@shop.example") == [f.id]  # moved with the assignee
    assert mine(FollowUpListing.OPEN, "ana@shop.example") == []
    with pytest.raises(InvalidInput) as exc:
        services.follow_ups.list(ADMIN, FollowUpListing.OPEN, 5, None, assignee="a b")
    assert exc.value.field == "assignee"
    for bad in ["", "two words", "x" * 200, "ana\u202e@shop"]:
        with pytest.raises(InvalidInput) as exc:
            services.follow_ups.assign(ADMIN, f.id, bad)
        assert exc.value.field == "assignee"
    with pytest.raises(NotFound):
        services.follow_ups.assign(ADMIN, "fu_ans_unknown", "ana@shop.example")
    for bad_id in ["", "rev_1", "fu_", "fu_a b", "fu_" + "a" * 200]:
        with pytest.raises(InvalidInput) as exc:
            services.follow_ups.assign(ADMIN, bad_id, "ana@shop.example")
        assert exc.value.field == "id"
    services.follow_ups.resolve(ADMIN, f.id, "Done.", None, "k")
    with pytest.raises(InvalidInput) as exc:
        services.follow_ups.assign(ADMIN, f.id, "ana@shop.example")
    assert exc.value.code is ErrorCode.ALREADY_RESOLVED
    assert mine(FollowUpListing.OPEN, "bo@shop.example") == []
    assert mine(FollowUpListing.RESOLVED, "bo@shop.example") == [f.id]
    assert listed(services, FollowUpListing.RESOLVED) == [f.id]


def test_notes_oldest_first_idempotent_and_bounded(
    services: Services, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = answered(services, answer(1))
    assert f is not None
    first = services.follow_ups.add_note(ADMIN, f.id, "  Called, no answer.\nRetry Monday.  ", "n1")
    assert services.follow_ups.add_note(ADMIN, f.id, "Called, no answer.\nRetry Monday.", "n1") == (
        first
    )  # a replay: the same answer
    with pytest.raises(IdempotencyConflict):
        services.follow_ups.add_note(ADMIN, f.id, "Something else.", "n1")
    clock.advance(timedelta(minutes=5))
    services.follow_ups.add_note(ADMIN, f.id, "Reached them.\tSent a voucher.", "n2")
    detail = services.follow_ups.get(ADMIN, f.id)
    assert detail is not None
    assert [(n.seq, n.text, n.author) for n in detail.notes] == [
        (1, "Called, no answer.\nRetry Monday.", "admin-1"),
        (2, "Reached them.\tSent a voucher.", "admin-1"),
    ]
    assert detail.notes[1].created_at - detail.notes[0].created_at == timedelta(minutes=5)
    assert detail.follow_up.notes == 2
    before = items()
    for bad in ["", "   ", "x" * 2001, "nul\x00byte", "bidi\u202etrick", "\ud800"]:
        with pytest.raises(InvalidInput) as exc:
            services.follow_ups.add_note(ADMIN, f.id, bad, "n3")
        assert exc.value.field == "text"
    with pytest.raises(InvalidInput) as exc:
        services.follow_ups.add_note(ADMIN, f.id, "ok", "bad key")
    assert exc.value.field == "idempotencyKey"
    with pytest.raises(NotFound):
        services.follow_ups.add_note(ADMIN, "fu_ans_unknown", "Hello.", "n3")
    monkeypatch.setattr(followups, "MAX_NOTES", 2)
    with pytest.raises(InvalidInput) as exc:
        services.follow_ups.add_note(ADMIN, f.id, "A third.", "n3")
    assert exc.value.field == "text"
    assert items() == before


# ---- resolving -------------------------------------------------------------------------


def test_resolve_with_goodwill_credits_once(services: Services) -> None:
    f = answered(services, answer(1))
    assert f is not None
    before = stored_member(M1).balance
    done = services.follow_ups.resolve(ADMIN, f.id, "Apologised.", 150, "r1")
    assert done.follow_up.status is FollowUpStatus.RESOLVED
    assert (done.follow_up.resolved_by, done.follow_up.resolution) == ("admin-1", "Apologised.")
    assert done.follow_up.resolved_at == services.clock.now()
    assert done.entry is not None
    assert (done.entry.kind, done.entry.points, done.entry.reference) == (
        EntryKind.GOODWILL,
        150,
        f.id,
    )
    assert done.entry.lot is not None
    assert done.entry.lot.remaining == 150
    assert services.follow_ups.resolve(ADMIN, f.id, "Apologised.", 150, "r1") == done  # replay
    with pytest.raises(IdempotencyConflict):
        services.follow_ups.resolve(ADMIN, f.id, "Apologised.", 200, "r1")
    with pytest.raises(InvalidInput) as exc:
        services.follow_ups.resolve(ADMIN, f.id, "Again.", 150, "r2")
    assert (exc.value.code, exc.value.field) == (ErrorCode.ALREADY_RESOLVED, "id")
    goodwill = [e for e in ledger_entries(M1) if e.kind is EntryKind.GOODWILL]
    assert [(e.points, e.reference, e.actor) for e in goodwill] == [(150, f.id, "admin:admin-1")]
    assert stored_member(M1).balance == before + 150
    assert_ledger_consistent(M1)
    assert listed(services, FollowUpListing.OPEN) == []
    [shown] = services.follow_ups.list(ADMIN, FollowUpListing.RESOLVED, 5, None).follow_ups
    assert (shown.goodwill_points, shown.goodwill_seq) == (150, done.entry.seq)


def test_resolve_without_points_writes_no_entry(services: Services) -> None:
    f = answered(services, answer(1))
    assert f is not None
    entries = ledger_entries(M1)
    done = services.follow_ups.resolve(ADMIN, f.id, "Nothing to add.", None, "r1")
    assert done.entry is None
    assert ledger_entries(M1) == entries


@pytest.mark.parametrize(
    ("note", "points", "key", "field"),
    [
        ("", None, "k", "note"),
        ("x" * 2001, None, "k", "note"),
        ("bad\x07bell", None, "k", "note"),
        ("ok", 0, "k", "goodwillPoints"),
        ("ok", -5, "k", "goodwillPoints"),
        ("ok", 10_001, "k", "goodwillPoints"),
        ("ok", True, "k", "goodwillPoints"),
        ("ok", 5, "", "idempotencyKey"),
        ("ok", 5, "k" * 129, "idempotencyKey"),
    ],
)
def test_bad_resolutions_write_nothing(
    services: Services, note: str, points: int | None, key: str, field: str
) -> None:
    f = answered(services, answer(1))
    assert f is not None
    before = items()
    with pytest.raises(InvalidInput) as exc:
        services.follow_ups.resolve(ADMIN, f.id, note, points, key)
    assert exc.value.field == field
    assert items() == before


def test_goodwill_needs_the_member(services: Services) -> None:
    f = answered(services, answer(1, customer="cust-gone"))  # never enrolled, or erased
    assert f is not None
    before = items()
    with pytest.raises(MemberNotFound):
        services.follow_ups.resolve(ADMIN, f.id, "Sorry.", 50, "r1")
    assert items() == before
    with pytest.raises(NotFound):
        services.follow_ups.resolve(ADMIN, "fu_ans_unknown", "Sorry.", 50, "r1")
    done = services.follow_ups.resolve(ADMIN, f.id, "Closed.", None, "r2")  # without points
    assert done.follow_up.status is FollowUpStatus.RESOLVED


def test_an_admin_cannot_grant_themselves_goodwill(services: Services) -> None:
    enroll(services, "cust-admin")
    f = answered(services, answer(1, customer="cust-admin"))
    assert f is not None
    me = Principal(Role.ADMIN, "cust-admin", own_member_id=member_id_for("cust-admin"))
    before = items()
    with pytest.raises(InvalidInput) as refused:
        services.follow_ups.resolve(me, f.id, "Sorry.", 50, "r1")
    assert refused.value.field == "goodwillPoints"
    assert items() == before
    done = services.follow_ups.resolve(ADMIN, f.id, "Sorry.", 50, "r1")  # another admin may
    assert done.entry is not None


def test_admins_only(services: Services) -> None:
    f = answered(services, answer(1))
    assert f is not None
    for who in (SERVICE, member("cust-1")):
        with pytest.raises(Forbidden):
            services.follow_ups.list(who, FollowUpListing.OPEN, 5, None)
        with pytest.raises(Forbidden):
            services.follow_ups.get(who, f.id)
        with pytest.raises(Forbidden):
            services.follow_ups.assign(who, f.id, "x")
        with pytest.raises(Forbidden):
            services.follow_ups.add_note(who, f.id, "x", "k")
        with pytest.raises(Forbidden):
            services.follow_ups.resolve(who, f.id, "x", 5, "k")
