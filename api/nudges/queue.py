"""The nudge queue (SQS) between the scheduler and the sender. A message names a record
(member, kind, subject); the record holds everything else, so a message read twice, late or
after the record moved on is harmless: the sender acts only on a QUEUED record it claims.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

import botocore.session
from botocore.config import Config as BotoConfig

from api.config import Config
from api.nudges.rules_model import NudgeKind
from api.observability import logger

BATCH = 10  # SendMessageBatch's most


@dataclass(frozen=True)
class Message:
    member_id: str
    kind: NudgeKind
    subject: str

    def body(self) -> str:
        return json.dumps(
            {"member": self.member_id, "kind": self.kind.value, "subject": self.subject},
            separators=(",", ":"),
        )


def parse(body: str) -> Message:
    """ValueError for anything that is not a message the scheduler wrote."""
    data = json.loads(body)
    if not isinstance(data, dict) or set(data) != {"member", "kind", "subject"}:
        raise ValueError("not a nudge message")
    member, kind, subject = data["member"], data["kind"], data["subject"]
    if not all(isinstance(x, str) and x for x in (member, kind, subject)):
        raise ValueError("not a nudge message")
    return Message(member, NudgeKind(kind), subject)


class Queue(Protocol):
    def send(self, messages: Sequence[Message]) -> None:
        """Enqueue all, or raise: a record whose message was not enqueued is sent again by
        the scheduler's redrive."""


class SqsQueue:
    def __init__(self, config: Config, url: str) -> None:
        self._config = config
        self._url = url

    @cached_property
    def client(self) -> Any:
        # Built at the first message, not at import.
        return botocore.session.get_session().create_client(
            "sqs",
            region_name=self._config.region,
            endpoint_url=self._config.messaging_endpoint,
            config=BotoConfig(
                connect_timeout=2, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"}
            ),
        )

    def send(self, messages: Sequence[Message]) -> None:
        for start in range(0, len(messages), BATCH):
            chunk = messages[start : start + BATCH]
            answer = self.client.send_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(i), "MessageBody": m.body()} for i, m in enumerate(chunk)],
            )
            if answer.get("Failed"):
                raise RuntimeError(f"SQS refused {len(answer['Failed'])} nudge messages")

    def backoff(self, receipt_handle: str, seconds: int) -> None:
        """Delay a failed message's next delivery (retries with backoff). Best effort: the
        queue's own visibility timeout applies if this call fails."""
        try:
            self.client.change_message_visibility(
                QueueUrl=self._url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
            )
        except Exception:
            logger.warning("Nudge message backoff not set", exc_info=True)
