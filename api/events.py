"""Events out, to an Amazon EventBridge bus, for the tools that act on them (helpdesks...).

EventBridge has no idempotency key: a caller that retries may send an event twice, so each
event's detail carries an id its consumers dedupe on (at least once). A put that EventBridge
does not accept, whole or in part, raises: the caller's stream record is then redelivered.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

import botocore.session
from botocore.config import Config as BotoConfig

from api.config import Config

SOURCE = "loyalty-api"


class EventNotSent(Exception):
    """EventBridge refused the event (FailedEntryCount > 0)."""


class EventBus:
    def __init__(self, config: Config, name: str) -> None:
        self._config = config
        self.name = name

    @cached_property
    def client(self) -> Any:
        # Built at the first event, not at import: most invocations send none (~50 ms).
        # Bounded (3 attempts of at most 2 + 5 s) so that a claim's lease outlasts any send.
        bounded = BotoConfig(
            connect_timeout=2, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"}
        )
        return botocore.session.get_session().create_client(
            "events",
            region_name=self._config.region,
            endpoint_url=self._config.events_endpoint,
            config=bounded,
        )

    def put(self, detail_type: str, detail: dict[str, Any]) -> None:
        entry = {
            "Source": SOURCE,
            "DetailType": detail_type,
            "Detail": json.dumps(detail, separators=(",", ":")),
            "EventBusName": self.name,
        }
        response = self.client.put_events(Entries=[entry])
        if response.get("FailedEntryCount", 0):
            failed = response["Entries"][0]
            raise EventNotSent(f"{failed.get('ErrorCode')}: {failed.get('ErrorMessage')}")
