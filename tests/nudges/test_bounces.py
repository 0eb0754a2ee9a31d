"""Bounces and complaints, as SES publishes them to SNS and SNS invokes Lambda with them
(built by hand: moto has no SES feedback worth the name), through handlers/nudge_events.py."""

from __future__ import annotations

import importlib
import json
from datetime import timedelta
from types import ModuleType
from typing import Any

import pytest

from api.clock import ManualClock
from api.ids import member_id_for
from api.members.model import Channel, ConsentInput, EnrollInput
from api.nudges.channels import encode_tag
from api.nudges.suppressions_model import Suppression, SuppressionReason
from api.nudges.suppressions_store import suppression_key
from api.services import Services
from api.store.base import TableItem
from tests.support import SERVICE, START, FakeLambdaContext, count_requests, stored_member

ADDRESS = "Ann.Example@Example.org"
MEMBER_ID = member_id_for("cust-1")


def ses_event(kind: str, body: dict[str, Any], tags: dict[str, list[str]] | None = None) -> Any:
    """What a configuration set's SNS event destination publishes (AWS's "Examples of event
    data that Amazon SES publishes to Amazon SNS")."""
    mail = {
        "timestamp": "2026-03-01T12:00:00.000Z",
        "source": "Demo Shop <no-reply@shop.example>",
        "messageId": "0100018e-aaaa-bbbb-cccc-000000000001",
        "destination": [ADDRESS],
        "tags": {
            "ses:configuration-set": ["loyalty-nudges"],
            **({"member": [MEMBER_ID], "kind": ["WIN_BACK"]} if tags is None else tags),
        },
    }
    return {"eventType": kind, "mail": mail, kind.lower(): body}


def bounce(bounce_type: str, *addresses: str) -> Any:
    return ses_event(
        "Bounce",
        {
            "bounceType": bounce_type,
            "bounceSubType": "General",
            "bouncedRecipients": [
                {"emailAddress": a, "action": "failed", "status": "5.1.1"}
                for a in addresses or (ADDRESS,)
            ],
            "timestamp": "2026-03-01T12:00:01.000Z",
            "feedbackId": "fb-1",
        },
    )


def complaint(tags: dict[str, list[str]] | None = None, feedback: str = "abuse") -> Any:
    return ses_event(
        "Complaint",
        {
            "complainedRecipients": [{"emailAddress": ADDRESS}],
            "complaintFeedbackType": feedback,
            "timestamp": "2026-03-01T12:05:00.000Z",
            "feedbackId": "fb-2",
        },
        tags,
    )


def sns_event(*messages: Any) -> dict[str, Any]:
    """SNS invoking Lambda: one record per message (SNS sends one; the handler takes any)."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:mail-feedback:1",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": f"sns-{n}",
                    "TopicArn": "arn:aws:sns:us-east-1:123456789012:mail-feedback",
                    "Subject": None,
                    "Message": m if isinstance(m, str) else json.dumps(m),
                    "Timestamp": "2026-03-01T12:00:02.000Z",
                    "MessageAttributes": {},
                },
            }
            for n, m in enumerate(messages)
        ]
    }


@pytest.fixture
def handler(services: Services, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """handlers/nudge_events.py as Lambda loads it, then with the test's clock."""
    monkeypatch.setenv("STAGE", "dev")
    monkeypatch.setenv("TABLE_NAME", services.config.table_name)
    module = importlib.reload(importlib.import_module("handlers.nudge_events"))
    monkeypatch.setattr(module, "services", services)
    return module


@pytest.fixture
def member_id(services: Services) -> str:
    consents = [ConsentInput(c, True, "checkout") for c in (Channel.EMAIL, Channel.SMS)]
    data = EnrollInput("cust-1", "UTC", "en", email=ADDRESS, consents=consents)
    return services.members.enroll(SERVICE, data).id


def deliver(handler: ModuleType, *messages: Any) -> None:
    assert handler.handler(sns_event(*messages), FakeLambdaContext()) is None


def table() -> list[dict[str, Any]]:
    items = TableItem._get_connection().scan()["Items"]
    return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


def test_a_hard_bounce_suppresses_the_address(
    services: Services, handler: ModuleType, member_id: str, clock: ManualClock
) -> None:
    clock.advance(timedelta(hours=1))
    deliver(handler, bounce("Permanent", ADDRESS, "second@example.org"))

    assert services.suppressions.get(ADDRESS) == Suppression(
        "ann.example@example.org", SuppressionReason.HARD_BOUNCE, START + timedelta(hours=1)
    )
    assert services.suppressions.is_suppressed("ANN.EXAMPLE@example.ORG")  # any case
    assert services.suppressions.is_suppressed("second@example.org")
    assert not services.suppressions.is_suppressed("other@example.org")
    consents = {c.channel: c.granted for c in stored_member(member_id).consents}
    assert consents[Channel.EMAIL] is True  # a bounce is no withdrawal


def test_the_suppression_key_carries_no_address(services: Services) -> None:
    services.suppressions.suppress(ADDRESS, SuppressionReason.HARD_BOUNCE)
    pk, sk = suppression_key(ADDRESS)
    assert "example" not in pk.lower()
    assert "ann" not in pk.lower()
    assert [(i["pk"]["S"], i["sk"]["S"]) for i in table()] == [(pk, sk)]


def test_is_suppressed_is_one_read(services: Services) -> None:
    with count_requests() as calls:
        services.suppressions.is_suppressed(ADDRESS)
    assert dict(calls) == {"GetItem": 1}


@pytest.mark.parametrize("bounce_type", ["Transient", "Undetermined"])
def test_soft_bounces_change_nothing(
    services: Services, handler: ModuleType, member_id: str, bounce_type: str
) -> None:
    before = table()
    deliver(handler, bounce(bounce_type))
    assert table() == before
    assert not services.suppressions.is_suppressed(ADDRESS)


def test_a_complaint_suppresses_and_withdraws_email_consent_once(
    services: Services, handler: ModuleType, member_id: str, clock: ManualClock
) -> None:
    clock.advance(timedelta(days=2))
    deliver(handler, complaint())

    assert services.suppressions.get(ADDRESS) == Suppression(
        "ann.example@example.org", SuppressionReason.COMPLAINT, START + timedelta(days=2)
    )
    member = stored_member(member_id)
    consents = {c.channel: c for c in member.consents}
    assert consents[Channel.EMAIL].granted is False
    assert consents[Channel.EMAIL].source == "complaint"
    assert consents[Channel.EMAIL].updated_at == START + timedelta(days=2)
    assert consents[Channel.SMS].granted is True

    # SNS redelivers: nothing changes, nothing is written.
    after = table()
    clock.advance(timedelta(hours=1))
    with count_requests() as calls:
        deliver(handler, complaint(), complaint())
    assert table() == after
    assert "TransactWriteItems" not in calls
    assert stored_member(member_id).version == member.version


def test_a_complaint_after_a_bounce_keeps_the_first_reason_and_withdraws_consent(
    services: Services, handler: ModuleType, member_id: str
) -> None:
    deliver(handler, bounce("Permanent"), complaint())
    suppression = services.suppressions.get(ADDRESS)
    assert suppression is not None
    assert suppression.reason is SuppressionReason.HARD_BOUNCE
    consents = {c.channel: c.granted for c in stored_member(member_id).consents}
    assert consents[Channel.EMAIL] is False


def test_a_hard_bounce_redelivered_writes_nothing(
    services: Services, handler: ModuleType, member_id: str
) -> None:
    deliver(handler, bounce("Permanent"))
    after = table()
    with count_requests() as calls:
        deliver(handler, bounce("Permanent"))
    assert table() == after
    assert "TransactWriteItems" not in calls


@pytest.mark.parametrize(
    "tags",
    [
        {"member": [member_id_for("cust-unknown")]},  # never enrolled, or erased
        {"member": [encode_tag("not a member id")]},
        {"member": ["sha." + "0" * 64]},
        {"member": [MEMBER_ID, MEMBER_ID]},
        {"member": "not-a-list"},
        {},  # an identity notification: no tags
    ],
)
def test_a_complaint_without_a_known_member_still_suppresses(
    services: Services, handler: ModuleType, member_id: str, tags: dict[str, Any]
) -> None:
    deliver(handler, complaint(tags))
    assert services.suppressions.is_suppressed(ADDRESS)
    consents = {c.channel: c.granted for c in stored_member(member_id).consents}
    assert consents[Channel.EMAIL] is True


def test_a_not_spam_report_is_no_complaint(
    services: Services, handler: ModuleType, member_id: str
) -> None:
    before = table()
    deliver(handler, complaint(feedback="not-spam"))
    assert table() == before


def test_identity_notifications_and_encoded_member_tags_are_understood(
    services: Services, handler: ModuleType, member_id: str
) -> None:
    notification = complaint({"member": [encode_tag(member_id)]})
    notification["notificationType"] = notification.pop("eventType")
    deliver(handler, notification)
    consents = {c.channel: c.granted for c in stored_member(member_id).consents}
    assert consents[Channel.EMAIL] is False


MALFORMED = {
    "not JSON": "{bounce",
    "a JSON list": "[1, 2]",
    "a JSON string": '"Bounce"',
    "no mail": {"eventType": "Bounce", "bounce": {"bounceType": "Permanent"}},
    "no bounce": {"eventType": "Bounce", "mail": {}},
    "no recipients": {"eventType": "Bounce", "mail": {}, "bounce": {"bounceType": "Permanent"}},
    "empty recipients": ses_event("Bounce", {"bounceType": "Permanent", "bouncedRecipients": []}),
    "recipient without an address": ses_event(
        "Bounce", {"bounceType": "Permanent", "bouncedRecipients": [{"status": "5.1.1"}]}
    ),
    "address not a string": ses_event(
        "Bounce", {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": 42}]}
    ),
    "recipients not a list": ses_event(
        "Complaint", {"complainedRecipients": {"emailAddress": ADDRESS}}
    ),
    "tags not an object": {**complaint(), "mail": {"tags": ["member"]}},
    "an unknown event type": ses_event("Delivery", {"recipients": [ADDRESS]}),
    "no type": {"mail": {}, "bounce": {}},
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_or_unknown_notifications_are_ignored(
    services: Services, handler: ModuleType, member_id: str, case: str
) -> None:
    before = table()
    deliver(handler, MALFORMED[case], bounce("Permanent", "good@example.org"))
    # Logged and skipped, without failing the event (a retry cannot help): the next one counts.
    assert services.suppressions.is_suppressed("good@example.org")
    assert [i for i in table() if i not in before and "good" not in json.dumps(i)] == []


def test_an_event_without_records_or_sns_is_ignored(handler: ModuleType) -> None:
    before = table()
    for event in ({}, {"Records": None}, {"Records": [{"Sns": None}, "x", {"Sns": {}}]}):
        assert handler.handler(event, FakeLambdaContext()) is None
    assert table() == before
