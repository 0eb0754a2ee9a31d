"""The table's DynamoDB stream (NEW_AND_OLD_IMAGES), in batches: each record is dispatched to
the domains' reactions (api/stream.py). A record that fails is reported back alone
(ReportBatchItemFailures), so Lambda retries it and not the whole batch; reactions are
idempotent, so a retried or redelivered record changes nothing twice."""

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
from api.observability import logger, metrics, traced
from api.services import build_services
from api.stream import change_from_record

services = build_services(Config.from_env())
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def react(record: DynamoDBRecord) -> None:
    services.reactions.dispatch(change_from_record(record.raw_event))


@traced
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=react, processor=processor, context=context
    )
    return dict(response)
