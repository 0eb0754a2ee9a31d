"""Lambda entry point for the GraphQL API (API Gateway HTTP API, payload 2.0).

Built once per container at import; each invocation only runs the request.
"""

from __future__ import annotations

from typing import Any

from api.config import Config
from api.observability import logger, metrics, traced
from api.services import build_services
from schema.app import create_app, gateway_authenticator, lambda_adapter

config = Config.from_env()
services = build_services(config)
asgi = lambda_adapter(create_app(services, gateway_authenticator(config)))


@traced
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response: dict[str, Any] = asgi(event, context)
    return response
