"""The nudge queue (SQS), in batches: each message is one nudge to send (api/nudges/sender.py).
A message that fails is reported back alone (ReportBatchItemFailures) and comes back after a
growing visibility timeout (backoff); after the queue's maxReceiveCount it goes to the
dead-letter queue. Sending is at most once per record, so a redelivery sends nothing twice."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from api.config import Config
from api.nudges.queue import parse
from api.nudges.sender import RetryLater
from api.observability import count, logger, metrics, traced
from api.services import build_services

services = build_services(Config.from_env())
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
BACKOFF_SECONDS = 30  # doubled per receive: 30 s, 1 min, 2 min, 4 min...
MAX_BACKOFF_SECONDS = 900


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


@traced
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=send, processor=processor, context=context
    )
    count("NudgeMessagesFailed", len(response.get("batchItemFailures", [])))
    return dict(response)
