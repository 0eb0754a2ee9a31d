"""SES bounces and complaints, published to an SNS topic that invokes this function. Each
record's message is SES's JSON notification (api/nudges/bounces.py). A message that is not
JSON is logged and skipped; a failure of the table raises, and Lambda retries the event
(handling it again changes nothing)."""

from __future__ import annotations

import json
from typing import Any

from api.config import Config
from api.observability import logger, metrics, traced
from api.services import build_services

services = build_services(Config.from_env())


@traced
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> None:  # noqa: ARG001
    for record in event.get("Records") or ():
        sns = record.get("Sns") if isinstance(record, dict) else None
        message = sns.get("Message") if isinstance(sns, dict) else None
        try:
            notification = json.loads(message) if isinstance(message, str) else None
        except ValueError:
            notification = None
        if notification is None:
            logger.warning("SNS record without a JSON message ignored")
            continue
        services.mail_feedback.handle(notification)
