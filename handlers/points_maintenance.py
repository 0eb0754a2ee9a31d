"""Scheduled daily (EventBridge): activate due pending lots, record expiries."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from api.config import Config
from api.observability import logger
from api.services import build_services

services = build_services(Config.from_env())


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:  # noqa: ARG001
    report = services.maintenance.run()
    result = {**asdict(report), "now": report.now.isoformat()}
    logger.info("Points maintenance done", extra=result)
    return result
