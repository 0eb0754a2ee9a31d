"""The table's stream, read from moto's server (or DynamoDB Local) by the local server, so
that `make run` reacts to changes as AWS's stream and handlers/stream.py do: members per tier,
code batches. Tests read it the same way."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import boto3

from api.observability import logger
from api.stream import change_from_record

Record = dict[str, Any]
# botocore sends stream calls that name a stream ARN to an account endpoint
# (<account>.streams-ddb...) that moto does not serve; its classic endpoint works.
STREAMS_ENDPOINT = "https://streams.dynamodb.us-east-1.amazonaws.com"
POLL_SECONDS = 0.5


class TableStream:
    """The table's stream in moto: each read returns the records written since the last,
    oldest first, as Lambda puts them in its events."""

    def __init__(
        self, dynamodb_client: Any, table_name: str, endpoint: str = STREAMS_ENDPOINT
    ) -> None:
        table = dynamodb_client.describe_table(TableName=table_name)["Table"]
        self.arn: str = table["LatestStreamArn"]
        self._client = boto3.client(
            "dynamodbstreams",
            region_name=dynamodb_client.meta.region_name,
            endpoint_url=endpoint,
        )
        self._last = -1

    def read(self) -> list[Record]:
        # A fresh iterator each time: moto replaces the table (and its shard) when it rolls
        # back a cancelled transaction, which an older iterator would not see. It starts
        # after the last record read, so a poll costs what is new, not the whole stream.
        [shard] = self._client.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        position: dict[str, str] = {"ShardIteratorType": "TRIM_HORIZON"}
        if self._last >= 0:
            position = {
                "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                "SequenceNumber": str(self._last),
            }
        iterator = self._client.get_shard_iterator(
            StreamArn=self.arn, ShardId=shard["ShardId"], **position
        )["ShardIterator"]
        found: list[Record] = []
        while True:
            page = self._client.get_records(ShardIterator=iterator, Limit=1000)
            if not page["Records"]:
                break
            found += page["Records"]
            iterator = page["NextShardIterator"]
        fresh = [r for r in found if int(r["dynamodb"]["SequenceNumber"]) > self._last]
        if fresh:
            self._last = int(fresh[-1]["dynamodb"]["SequenceNumber"])
        return [_as_lambda_json({**r, "eventSourceARN": self.arn}) for r in _one_per_write(fresh)]


def _one_per_write(records: list[Record]) -> list[Record]:
    """Without moto's extra record for an UpdateItem that creates its item: an INSERT of the
    bare keys just before the INSERT of the whole item. DynamoDB records one change."""
    kept = []
    for n, record in enumerate(records):
        changes = record["dynamodb"]
        bare = record["eventName"] == "INSERT" and changes.get("NewImage") == changes["Keys"]
        following = records[n + 1]["dynamodb"]["Keys"] if n + 1 < len(records) else None
        if not (bare and following == changes["Keys"]):
            kept.append(record)
    return kept


def _as_lambda_json(value: Any) -> Any:
    """What Lambda's JSON event holds where boto3 parsed types: epoch seconds, base64."""
    if isinstance(value, dict):
        return {k: _as_lambda_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_lambda_json(v) for v in value]
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def stream_event(records: list[Record]) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(json.dumps({"Records": records}))
    return event


class Progress:
    """Counts the pump's reads that found nothing new: two after a moment mean that every
    record written before it has been reacted to."""

    def __init__(self) -> None:
        self._idle = 0
        self._changed = threading.Condition()

    def idle(self) -> None:
        with self._changed:
            self._idle += 1
            self._changed.notify_all()

    def wait_caught_up(self, timeout: float) -> bool:
        with self._changed:
            start = self._idle
            return self._changed.wait_for(lambda: self._idle >= start + 2, timeout)


def pump(
    stream: TableStream,
    react: Callable[[Any], None],
    stop: threading.Event,
    progress: Progress | None = None,
) -> None:
    """Dispatch every new record, twice a second, until `stop` is set. A record whose
    reaction fails is logged and skipped: locally there is no retry queue."""
    while not stop.wait(POLL_SECONDS):
        try:
            records = stream.read()
        except Exception:  # the server is stopping, or moto is busy: try again
            logger.exception("Reading the local stream failed")
            continue
        if not records and progress is not None:
            progress.idle()
        for record in records:
            try:
                react(change_from_record(record))
            except Exception:
                logger.exception("A reaction failed", extra={"eventID": record.get("eventID")})
