"""Scheduled every hour (EventBridge): find the nudges due, decide each (consent, quiet
hours, caps, holdout) and record it once; enqueue those to send (api/nudges/scheduler.py)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from api.config import Config
from api.observability import logger, metrics, traced
from api.services import build_services

services = build_services(Config.from_env())
STOP_BEFORE_TIMEOUT_MS = 20_000


@traced
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:  # noqa: ARG001
    # Stop short of Lambda's timeout: what is left stays due for the next run.
    report = services.nudge_scheduler.run(
        should_stop=lambda: context.get_remaining_time_in_millis() < STOP_BEFORE_TIMEOUT_MS
    )
    result = asdict(report)
    logger.info("Nudges decided", extra=result)
    return result
