"""The nudge queue's consumer, in batches: each SQS message names one nudge to send
(api/nudges/sender.py). Shared by the Lambda (handlers/nudge_sender.py) and `make run`'s
local poller (local/messaging.py), so both send through the same path.

A message that fails is reported back alone (ReportBatchItemFailures) and comes back after a
growing visibility timeout (backoff); after the queue's maxReceiveCount it goes to the
dead-letter queue. Sending is at most once per record, so a redelivery sends nothing twice.
Imported only by the sender: Powertools' batch utility costs ~75 ms to import.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from api.nudges.queue import parse
from api.nudges.sender import RetryLater
from api.observability import count, logger
from api.services import Services

BACKOFF_SECONDS = 30  # doubled per receive: 30 s, 1 min, 2 min, 4 min...
MAX_BACKOFF_SECONDS = 900


def record_handler(services: Services) -> Callable[[SQSRecord], None]:
    """Send the nudge one SQS record names; raise to report the record failed."""

    def send(record: SQSRecord) -> None:
        try:
            message = parse(record.body)
        except ValueError:
            # Not ours: retrying cannot help, and the DLQ keeps it for a look.
            logger.error("Not a nudge message", extra={"message_id": record.message_id})
            raise
        try:
            outcome = services.nudge_sender.send(message)
        except RetryLater:
            receives = int(record.attributes.approximate_receive_count or 1)
            delay = min(MAX_BACKOFF_SECONDS, BACKOFF_SECONDS * 2 ** (receives - 1))
            if services.nudge_queue is not None:
                services.nudge_queue.backoff(record.receipt_handle, delay)
            raise
        logger.info("Nudge handled", extra={"outcome": outcome.value, "kind": message.kind.value})

    return send


def process(event: dict[str, Any], services: Services, context: Any = None) -> dict[str, Any]:
    """One SQS event (Lambda's shape): {"batchItemFailures": [{"itemIdentifier": id}...]}."""
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = process_partial_response(
        event=event, record_handler=record_handler(services), processor=processor, context=context
    )
    count("NudgeMessagesFailed", len(response.get("batchItemFailures", [])))
    return dict(response)
