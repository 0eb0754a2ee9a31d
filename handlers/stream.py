"""The table's DynamoDB stream (NEW_AND_OLD_IMAGES), in batches: each record is dispatched to
the domains' reactions (api/stream.py). A record that fails is reported back alone
(ReportBatchItemFailures), so Lambda retries from it and not the whole batch; reactions are
idempotent, so a retried or redelivered record changes nothing twice.

Every record is tried, even after one has failed: those after it are done when Lambda
retries from the failed one (and do nothing the second time), so when a record keeps failing
it alone is left undone as its batch goes to the dead-letter queue. A batch that fails
entirely is answered with its records too, not an error; a record that cannot be read fails
like any other (retried, then dead-lettered), never dropped unseen."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
)

from api.config import Config
from api.observability import count, logger, metrics, traced
from api.services import build_services
from api.stream import change_from_record

services = build_services(Config.from_env())
processor = BatchProcessor(
    event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False
)


def react(record: DynamoDBRecord) -> None:
    raw = record.raw_event
    if not isinstance(raw.get("dynamodb"), dict):
        # No images and no sequence number: nothing to react to, nothing to report.
        logger.warning("Stream record without data ignored", extra={"record": str(raw)[:500]})
        return
    try:
        services.reactions.dispatch(change_from_record(raw))
    except Exception:
        logger.exception(
            "Stream record failed",
            extra={
                "event_id": raw.get("eventID"),
                "event_name": raw.get("eventName"),
                "sequence_number": raw["dynamodb"].get("SequenceNumber"),
            },
        )
        raise


@traced
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=react, processor=processor, context=context
    )
    count("StreamRecordsFailed", len(response.get("batchItemFailures", [])))
    return dict(response)
