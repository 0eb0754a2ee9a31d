"""Scheduled daily (EventBridge): activate due pending lots, record expiries."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from api.config import Config
from api.observability import logger, metrics, traced
from api.services import build_services

services = build_services(Config.from_env())
STOP_BEFORE_TIMEOUT_MS = 60_000


@traced
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:  # noqa: ARG001
    # Stop a minute before Lambda's timeout: what is left stays due for the next run.
    report = services.maintenance.run(
        should_stop=lambda: context.get_remaining_time_in_millis() < STOP_BEFORE_TIMEOUT_MS
    )
    result = {**asdict(report), "now": report.now.isoformat()}
    logger.info("Points maintenance done", extra=result)
    return result
