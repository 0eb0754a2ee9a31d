"""The sender on moto's SES and SNS: a queued nudge is rendered and sent once, with its
unsubscribe headers; redeliveries send nothing; everything is checked again at sending
(consent, quiet hours, staleness, suppressed addresses); transient failures go back to the
queue, permanent ones are recorded; a sender that died mid-send never sends twice."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from api.members.model import Channel, ConsentInput, ProfileChange
from api.nudges import store
from api.nudges.model import NudgeStatus, Trigger
from api.nudges.queue import Message
from api.nudges.rules_model import NudgeKind
from api.nudges.sender import Outcome, RetryLater
from api.nudges.suppressions_model import SuppressionReason
from api.store.tx import Transaction
from tests.nudges.support import Nudges, by_kind, enroll, ses_of
from tests.support import member

SUBJECT = "2026-03-31"


def queued(nudges: Nudges, **enrolment: Any) -> tuple[str, Message]:
    """A member with 120 points expiring on 31 March, their warning QUEUED (17 March)."""
    m = enroll(nudges.services, **enrolment)
    nudges.order("o-1", "120.00")
    nudges.run(timedelta(days=16))
    assert [msg.subject for msg in nudges.queue.sent] == [SUBJECT]
    return m, nudges.queue.sent[0]


def record(m: str) -> Any:
    return by_kind(m)[f"POINTS_EXPIRING#{SUBJECT}"]


def test_a_queued_nudge_is_sent_once_with_its_headers_and_values(
    nudges: Nudges, sent: list[dict[str, Any]]
) -> None:
    m, message = queued(nudges, locale="de-DE")
    sender = nudges.services.nudge_sender
    assert sender.send(message) is Outcome.SENT
    done = record(m)
    assert (done.status, done.attempts) == (NudgeStatus.SENT, 1)
    assert done.message_id
    [email] = sent
    assert email["Destination"] == {"ToAddresses": ["cust-1@example.com"]}
    headers = {h["Name"]: h["Value"] for h in email["Content"]["Simple"]["Headers"]}
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/unsubscribe?token=")
    body = email["Content"]["Simple"]["Body"]
    assert "120" in body["Text"]["Data"]
    assert "31. März 2026" in body["Html"]["Data"]  # the member's locale
    assert "Ann &lt;b&gt;" in body["Html"]["Data"]  # autoescaped
    tags = {t["Name"]: t["Value"] for t in email["EmailTags"]}
    assert tags["member"] == m
    # Redelivered, or enqueued again by the scheduler's redrive: nothing more is sent.
    assert sender.send(message) is Outcome.SKIPPED
    nudges.run(timedelta(hours=1))
    assert len(sent) == 1


def test_consent_withdrawn_while_queued_suppresses(
    nudges: Nudges, sent: list[dict[str, Any]]
) -> None:
    m, message = queued(nudges)
    nudges.services.members.update_profile(
        member("cust-1"), ProfileChange(consents=[ConsentInput(Channel.EMAIL, False, "app")])
    )
    assert nudges.services.nudge_sender.send(message) is Outcome.SUPPRESSED
    assert (record(m).status, record(m).reason) == (NudgeStatus.SUPPRESSED, "NO_CONSENT")
    assert sent == []


def test_a_message_late_into_quiet_hours_waits_for_them_to_end(
    nudges: Nudges, sent: list[dict[str, Any]]
) -> None:
    m, message = queued(nudges)
    nudges.clock.advance(timedelta(hours=9))  # 22:00 in Paris
    assert nudges.services.nudge_sender.send(message) is Outcome.HELD
    held = record(m)
    assert held.status is NudgeStatus.HELD
    assert held.send_at is not None
    assert held.send_at.isoformat() == "2026-03-18T07:00:00+00:00"  # 08:00 in Paris
    assert sent == []
    nudges.run(timedelta(hours=10))  # the scheduler decides it again after quiet hours
    assert record(m).status is NudgeStatus.QUEUED
    assert nudges.services.nudge_sender.send(message) is Outcome.SENT
    assert len(sent) == 1


def test_a_suppressed_address_is_not_sent_to(nudges: Nudges, sent: list[dict[str, Any]]) -> None:
    m, message = queued(nudges)
    nudges.services.suppressions.suppress("CUST-1@example.com", SuppressionReason.HARD_BOUNCE)
    assert nudges.services.nudge_sender.send(message) is Outcome.SUPPRESSED
    assert (record(m).status, record(m).reason) == (NudgeStatus.SUPPRESSED, "ADDRESS_SUPPRESSED")
    assert sent == []


def test_transient_failures_go_back_to_the_queue_then_fail_for_good(
    nudges: Nudges, sent: list[dict[str, Any]]
) -> None:
    m, message = queued(nudges)
    ses = ses_of(nudges)

    def throttled(**_: Any) -> None:
        raise ConnectionError("SES unreachable")

    ses.meta.events.register_first("before-send.sesv2.SendEmail", throttled)
    try:
        for attempt in range(1, 5):
            with pytest.raises(RetryLater):
                nudges.services.nudge_sender.send(message)
            assert (record(m).status, record(m).attempts) == (NudgeStatus.QUEUED, attempt)
        assert nudges.services.nudge_sender.send(message) is Outcome.FAILED
    finally:
        ses.meta.events.unregister("before-send.sesv2.SendEmail", throttled)
    assert (record(m).status, record(m).reason) == (NudgeStatus.FAILED, "RETRIES_EXHAUSTED")
    assert nudges.services.nudge_sender.send(message) is Outcome.SKIPPED


def test_a_transient_failure_then_success_sends_once(
    nudges: Nudges, sent: list[dict[str, Any]]
) -> None:
    m, message = queued(nudges)
    ses = ses_of(nudges)
    calls: list[int] = []

    def once_unreachable(**_: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("SES unreachable")

    ses.meta.events.register_first("before-send.sesv2.SendEmail", once_unreachable)
    try:
        with pytest.raises(RetryLater):
            nudges.services.nudge_sender.send(message)
        assert nudges.services.nudge_sender.send(message) is Outcome.SENT
    finally:
        ses.meta.events.unregister("before-send.sesv2.SendEmail", once_unreachable)
    assert (record(m).status, record(m).attempts) == (NudgeStatus.SENT, 2)


def test_a_sender_that_died_mid_send_never_sends_again(
    nudges: Nudges, sent: list[dict[str, Any]]
) -> None:
    m, message = queued(nudges)
    now = nudges.clock.now()
    claimed = replace(
        record(m), status=NudgeStatus.SENDING, claimed_until=now + timedelta(seconds=30)
    )
    tx = Transaction()
    tx.put(store.record_to_item(claimed))
    tx.commit()
    assert nudges.services.nudge_sender.send(message) is Outcome.SKIPPED  # still its lease
    nudges.clock.advance(timedelta(minutes=1))
    assert nudges.services.nudge_sender.send(message) is Outcome.FAILED
    assert (record(m).status, record(m).reason) == (NudgeStatus.FAILED, "INTERRUPTED")
    assert sent == []


def test_no_address_no_device_and_unknown_records(nudges: Nudges) -> None:
    nudges.configure(Trigger(NudgeKind.POINTS_EXPIRING, channels=(Channel.PUSH,)))
    m, message = queued(nudges, consents=(Channel.PUSH,))
    assert nudges.services.nudge_sender.send(message) is Outcome.FAILED
    assert record(m).reason == "NO_DEVICE"
    ghost = Message("mbr_00000000000000000000000000", NudgeKind.BIRTHDAY, "2026")
    assert nudges.services.nudge_sender.send(ghost) is Outcome.SKIPPED


def test_held_back_by_the_sender_it_is_counted_once_for_lift(
    nudges: Nudges, sent: list[dict[str, Any]]
) -> None:
    m, message = queued(nudges)
    first = record(m).queued_at
    nudges.clock.advance(timedelta(hours=9))  # 22:00 in Paris: the sender holds it back
    assert nudges.services.nudge_sender.send(message) is Outcome.HELD
    nudges.run(timedelta(hours=10))  # queued again after quiet hours
    assert nudges.services.nudge_sender.send(message) is Outcome.SENT
    assert record(m).queued_at == first
    stats = store.StatsItem.get(*store.stats_key(NudgeKind.POINTS_EXPIRING, first.date()))
    assert (stats.treated, stats.control) == (1, 0)
    assert len(sent) == 1
