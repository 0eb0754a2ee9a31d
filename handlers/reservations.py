"""Scheduled every 5 minutes (EventBridge): release the checkout reservations past their
time, giving back the uses, budget, codes and points they held."""

from __future__ import annotations

from typing import Any

from api.config import Config
from api.observability import count, logger, metrics, traced
from api.services import build_services

services = build_services(Config.from_env())


@traced
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:  # noqa: ARG001
    released = services.reservations.expire_due()
    count("ReservationsExpired", released)
    result = {"released": released}
    logger.info("Expired reservations released", extra=result)
    return result
