"""Logs, metrics and traces with AWS Lambda Powertools, the conventions Lambda users expect.

- Logs: structured JSON; the entry points append the request id and member id. Never log
  tokens, emails or phone numbers.
- Metrics: CloudWatch EMF, flushed once per invocation by the Lambda handlers
  (`@metrics.log_metrics`): points earned, redeemed, clawed back, adjusted, expired;
  expected errors by code; unexpected errors. Off means off: with
  POWERTOOLS_METRICS_DISABLED (the local server sets it) nothing is recorded or printed,
  including the per-error records Powertools' `single_metric` would print regardless.
- Traces: X-Ray through Powertools' Tracer, only where the stage enables tracing: the X-Ray
  SDK alone takes about half a second to import.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

SERVICE = "loyalty-api"
NAMESPACE = "LoyaltyAPI"
logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
# Queries emit no metrics; Powertools would warn about that on every one of them.
warnings.filterwarnings("ignore", message="No application metrics to publish")

F = TypeVar("F", bound=Callable[..., Any])


def count(name: str, value: int = 1) -> None:
    """Add to a count metric of this invocation (e.g. PointsEarned)."""
    # Disabled, Powertools would still buffer it (and print the buffer at 100 values).
    if value and not is_metrics_disabled():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def count_error(code: str) -> None:
    """One expected failure, with its code as a dimension (its own EMF record)."""
    if is_metrics_disabled():  # single_metric prints even then
        return
    with single_metric(
        name="Errors", unit=MetricUnit.Count, value=1, namespace=NAMESPACE
    ) as metric:
        metric.add_dimension(name="code", value=code)


def traced(handler: F) -> F:
    """Capture the handler in X-Ray when POWERTOOLS_TRACE_DISABLED is false (serverless.yml
    sets it from the stage's `tracing` parameter); otherwise leave it as it is."""
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "true").lower() in ("true", "1"):
        return handler
    from aws_lambda_powertools import Tracer  # noqa: PLC0415 - imports the X-Ray SDK

    tracer: Any = Tracer(service=SERVICE)
    wrapped: F = tracer.capture_lambda_handler(handler)
    return wrapped
