"""Scheduled every hour (EventBridge): decide the referrals whose referee's first order has
outlived its return window: the referrer rewarded, or the referral refused (refunded)."""

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
    report = services.referral_rewards.run(
        should_stop=lambda: context.get_remaining_time_in_millis() < STOP_BEFORE_TIMEOUT_MS
    )
    result = asdict(report)
    logger.info("Due referrals decided", extra=result)
    return result
