"""The nudge queue (SQS), in batches: each message is one nudge to send. The batch path
(partial failures, backoff) is api/nudges/delivery.py, which `make run`'s poller shares."""

from __future__ import annotations

from typing import Any

from api.config import Config
from api.nudges.delivery import process
from api.observability import logger, metrics, traced
from api.services import build_services

services = build_services(Config.from_env())


@traced
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process(event, services, context)
