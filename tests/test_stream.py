"""The table's stream through handlers/stream.py itself: Lambda DynamoDB stream events made
of the records moto's stream really holds for what each test wrote (NEW_AND_OLD_IMAGES), as
the event source mapping delivers them, redeliveries and retries included."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest

from api.observability import metrics
from api.program.model import SettingsChange
from api.services import Services
from api.store.base import TableItem
from api.stream import Change, Reactions
from api.tiers.model import ConfigInput, DowngradePolicy, Metric, TierInput, Window
from local.stream import Record, TableStream, stream_event
from tests.support import ADMIN, FakeLambdaContext, count_requests, enroll, order, redeem

CONTEXT = FakeLambdaContext(
    function_name="loyalty-api-dev-stream",
    memory_limit_in_mb=512,
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:loyalty-api-dev-stream",
)
LADDER = [
    TierInput(code="BRONZE", name="Bronze", threshold=Decimal(0)),
    TierInput(code="SILVER", name="Silver", threshold=Decimal(100)),
    TierInput(code="GOLD", name="Gold", threshold=Decimal(500)),
]


# ---- the stream as Lambda delivers it ---------------------------------------------------


def item_type(record: Record) -> str | None:
    image = record["dynamodb"].get("NewImage") or record["dynamodb"].get("OldImage") or {}
    kind = image.get("type", {}).get("S")
    return None if kind is None else str(kind)


def sequence_number(record: Record) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


def load_stream_handler(monkeypatch: pytest.MonkeyPatch, stage: str, table: str) -> ModuleType:
    """handlers/stream.py as Lambda loads it: configured from the environment."""
    monkeypatch.setenv("STAGE", stage)
    monkeypatch.setenv("TABLE_NAME", table)
    return importlib.reload(importlib.import_module("handlers.stream"))


@pytest.fixture
def stream(services: Services, dynamodb_client: Any) -> TableStream:
    return TableStream(dynamodb_client, services.config.table_name)


@pytest.fixture
def stream_handler(services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    metrics.clear_metrics()
    yield load_stream_handler(monkeypatch, "dev", services.config.table_name)
    metrics.clear_metrics()


def configure_tiers(services: Services) -> None:
    services.program.update(ADMIN, SettingsChange(return_window_days=0))
    services.tiers.update(
        ADMIN,
        ConfigInput(
            tiers=LADDER,
            metric=Metric.QUALIFYING_POINTS,
            window=Window.ROLLING_12_MONTHS,
            downgrade=DowngradePolicy.ONE_TIER,
        ),
    )


def distribution(services: Services) -> dict[str, int]:
    return {c.tier.code: c.members for c in services.tiers.distribution(ADMIN)}


def stored_counters() -> dict[str, int]:
    response = TableItem._get_connection().query(
        "TIERS", range_key_condition=TableItem.sk.startswith("COUNT#"), consistent_read=True
    )
    return {i["sk"]["S"]: int(i["total"]["N"]) for i in response["Items"]}


# ---- counting -----------------------------------------------------------------------------


def test_enrolments_and_tier_changes_are_counted_once_however_often_delivered(
    services: Services, stream: TableStream, stream_handler: ModuleType
) -> None:
    configure_tiers(services)
    enroll(services, "cust-1")
    enroll(services, "cust-2")
    order(services, "o-1", "600", customer_id="cust-1")  # Bronze -> Silver -> Gold
    records = stream.read()
    assert [item_type(r) for r in records if r["eventName"] == "INSERT"].count("tier_change") == 2
    event = stream_event(records)

    assert stream_handler.handler(event, CONTEXT) == {"batchItemFailures": []}
    expected = {"BRONZE": 1, "SILVER": 0, "GOLD": 1}
    assert distribution(services) == expected
    counters = stored_counters()
    # The base tier's own counter is not read: it is the enrolments' count less the others.
    assert counters == {"COUNT#*members": 2, "COUNT#BRONZE": -1, "COUNT#SILVER": 0, "COUNT#GOLD": 1}
    written = stream.read()  # the reactions' own writes: a marker per record, the counters
    # Tier counts, their markers, and each enrolment's win-back watch (api/nudges/reactions.py).
    assert {item_type(r) for r in written} == {"stream_seen", "tier_count", "nudge_watch"}
    assert sum(item_type(r) == "stream_seen" for r in written) == 4  # 2 enrolments, 2 changes

    # Delivered again (a retry, or the stream's at-least-once): nothing is written at all.
    assert stream_handler.handler(event, CONTEXT) == {"batchItemFailures": []}
    assert distribution(services) == expected
    assert stored_counters() == counters
    assert stream.read() == []

    # The reactions' own writes, were they delivered (the deployed filter drops them), end
    # there: nothing reacts to markers or counters.
    assert stream_handler.handler(stream_event(written), CONTEXT) == {"batchItemFailures": []}
    assert stream.read() == []


def test_a_record_whose_reaction_fails_is_reported_and_the_others_are_applied(
    services: Services,
    stream: TableStream,
    stream_handler: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    configure_tiers(services)
    enroll(services, "cust-1")
    enroll(services, "cust-2")
    order(services, "o-1", "600", customer_id="cust-1")
    records = stream.read()
    failing = [r for r in records if item_type(r) == "tier_change"][-1]  # Silver -> Gold
    working = stream_handler.services

    def flaky(change: Change) -> None:
        if change.event_id == failing["eventID"]:
            raise RuntimeError("DynamoDB is having a bad day")
        working.reactions.dispatch(change)

    monkeypatch.setattr(stream_handler, "services", replace(working, reactions=Reactions([flaky])))
    capsys.readouterr()
    metrics.clear_metrics()  # what the domain calls above left in the buffer
    response = stream_handler.handler(stream_event(records), CONTEXT)
    assert response == {"batchItemFailures": [{"itemIdentifier": sequence_number(failing)}]}
    # Both enrolments and the first upgrade counted; Gold waits for the retry.
    assert distribution(services) == {"BRONZE": 1, "SILVER": 1, "GOLD": 0}
    [logged] = [r for r in caplog.records if r.getMessage() == "Stream record failed"]
    assert logged.event_id == failing["eventID"]  # type: ignore[attr-defined]
    assert logged.sequence_number == sequence_number(failing)  # type: ignore[attr-defined]
    assert logged.exc_info is not None
    assert "bad day" in str(logged.exc_info[1])
    output = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    [emf] = [line for line in output if "_aws" in line]
    assert emf["StreamRecordsFailed"] == [1.0]

    # Lambda retries from the failed record: it and every record after it, done or not.
    monkeypatch.setattr(stream_handler, "services", working)
    retried = records[records.index(failing) :]
    assert stream_handler.handler(stream_event(retried), CONTEXT) == {"batchItemFailures": []}
    assert distribution(services) == {"BRONZE": 1, "SILVER": 0, "GOLD": 1}
    assert stored_counters()["COUNT#GOLD"] == 1


# ---- what the stream ignores --------------------------------------------------------------


def test_changes_without_a_reaction_and_removals_are_ignored(
    services: Services, stream: TableStream, stream_handler: ModuleType
) -> None:
    configure_tiers(services)
    member_id = enroll(services, "cust-1")
    setup = [r for r in stream.read() if item_type(r) != "member"]  # not the enrolment
    order(services, "o-1", "10", customer_id="cust-1")  # no tier change
    redeem(services, 5, "k")
    connection = TableItem._get_connection()
    connection.delete_item(f"MEMBER#{member_id}", "PROFILE")  # a removal, of a member even
    records = stream.read()
    removal = records[-1]
    assert (removal["eventName"], item_type(removal)) == ("REMOVE", "member")
    # A TTL deletion as DynamoDB's own service principal records it.
    expired = {
        **removal,
        "eventID": "ttl-expiry-1",
        "dynamodb": {**removal["dynamodb"], "SequenceNumber": "9" * 21},
        "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"},
    }
    # New orders and changes of a member have reactions (a referee's first order, nudge
    # watches: tests/nudges); the rest of what these writes record has none.
    reacted = {("INSERT", "order"), ("MODIFY", "member")}
    batch = [
        r for r in [*setup, *records, expired] if (r["eventName"], item_type(r)) not in reacted
    ]
    assert {(r["eventName"], item_type(r)) for r in batch} >= {
        ("INSERT", "tier_config"),
        ("INSERT", "entry"),
        ("INSERT", "idempotency"),
        ("REMOVE", "member"),
    }

    with count_requests() as calls:
        response = stream_handler.handler(stream_event(batch), CONTEXT)
    assert response == {"batchItemFailures": []}
    assert dict(calls) == {}  # nothing read, nothing written
    assert stream.read() == []


def test_malformed_records_fail_alone_and_never_stop_the_batch(
    services: Services, stream: TableStream, stream_handler: ModuleType
) -> None:
    configure_tiers(services)
    enroll(services, "cust-1")
    enroll(services, "cust-2")
    enrolments = [r for r in stream.read() if item_type(r) == "member"]
    template = enrolments[0]
    numbers = iter(range(1, 100))

    def variant(**dynamodb: Any) -> Record:
        seq = f"{next(numbers):021d}"
        return {
            **template,
            "eventID": f"bad-{seq}",
            "dynamodb": {**template["dynamodb"], **dynamodb, "SequenceNumber": seq},
        }

    no_event_id = variant()
    del no_event_id["eventID"]
    undecodable = variant(
        NewImage={**template["dynamodb"]["NewImage"], "type": {"S": "tier_change"}}
    )
    undecodable["dynamodb"]["NewImage"]["seq"] = {"N": "not-a-number"}
    not_an_item = variant(NewImage="garbage")
    unknown_type = variant(NewImage={"pk": {"S": "X"}, "sk": {"S": "Y"}, "type": {"S": "later"}})
    no_data = {"eventID": "no-data", "eventName": "INSERT", "eventSource": "aws:dynamodb"}
    batch = [no_event_id, undecodable, not_an_item, unknown_type, no_data, *enrolments]

    response = stream_handler.handler(stream_event(batch), CONTEXT)
    assert response == {
        "batchItemFailures": [
            {"itemIdentifier": sequence_number(r)} for r in (no_event_id, undecodable, not_an_item)
        ]
    }
    assert distribution(services) == {"BRONZE": 2, "SILVER": 0, "GOLD": 0}

    # A batch that fails entirely is answered all the same, not raised.
    everything_fails = stream_handler.handler(stream_event([undecodable]), CONTEXT)
    assert everything_fails == {
        "batchItemFailures": [{"itemIdentifier": sequence_number(undecodable)}]
    }
