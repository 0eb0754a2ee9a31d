"""Call the API as API Gateway does: payload 2.0 events through Mangum into the ASGI app."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import pytest

from api.config import Config
from api.services import Services
from schema.app import create_app, gateway_authenticator, lambda_adapter
from tests.support import FakeLambdaContext, http_api_event

MEMBER = {"sub": "cust-1", "token_use": "access"}
OTHER_MEMBER = {"sub": "cust-2", "token_use": "access"}
SERVICE = {"sub": "shop-client", "client_id": "shop-client", "scope": "loyalty/service"}
# API Gateway passes list claims as "[a b]" strings.
ADMIN = {"sub": "admin-1", "cognito:groups": "[staff admin]"}
ANONYMOUS: dict[str, str] = {}


@dataclass
class Response:
    status: int
    headers: Mapping[str, str]
    raw: str

    @property
    def body(self) -> Any:
        return json.loads(self.raw)

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def error_codes(self) -> list[str | None]:
        return [e.get("extensions", {}).get("code") for e in self.body.get("errors") or []]


class Invoke(Protocol):
    def __call__(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        claims: Mapping[str, Any] | None = ...,
        **event: Any,
    ) -> Response: ...


def invoker(handler: Callable[[dict[str, Any], Any], dict[str, Any]]) -> Invoke:
    def invoke(
        query: str,
        variables: Mapping[str, Any] | None = None,
        claims: Mapping[str, Any] | None = MEMBER,
        **event: Any,
    ) -> Response:
        raw = handler(http_api_event(query, variables, claims, **event), FakeLambdaContext())
        assert raw["statusCode"] < 500, raw
        return Response(raw["statusCode"], raw["headers"], raw["body"])

    return invoke


@pytest.fixture
def invoke(services: Services, config: Config) -> Invoke:
    """The app exactly as handlers/graphql.py serves it, with the test's clock."""
    asgi = lambda_adapter(create_app(services, gateway_authenticator(config)))
    return invoker(asgi)


ENROLL = """mutation Enroll($input: EnrollMemberInput!) {
  enrollMember(input: $input) {
    __typename
    ... on MemberEnrolled { member { id customerId points { balance } } }
    ... on UserError { code message }
    ... on InvalidInput { field }
  }
}"""

RECORD_ORDER = """mutation Order($input: RecordOrderInput!) {
  recordOrder(input: $input) {
    __typename
    ... on OrderRecorded {
      order { id pointsEarned total { amount currency } }
      entry { id kind points balanceAfter lot { id activatesAt expiresAt } }
    }
    ... on UserError { code message }
    ... on InvalidInput { field }
  }
}"""

REDEEM = """mutation Redeem($input: RedeemPointsInput!) {
  redeemPoints(input: $input) {
    __typename
    ... on PointsRedeemed { entry { id points balanceAfter funding { lotId points } } }
    ... on InsufficientPoints { requested available }
    ... on UserError { code message }
    ... on InvalidInput { field }
  }
}"""

REFUND = """mutation Refund($input: RefundOrderInput!) {
  refundOrder(input: $input) {
    __typename
    ... on OrderRefunded {
      order { pointsReversed refunded { amount } }
      entry { id points balanceAfter shortfall funding { lotId points } }
    }
    ... on RefundExceedsOrder { refundable { amount currency } }
    ... on UserError { code message }
    ... on InvalidInput { field }
  }
}"""

ADJUST = """mutation Adjust($input: AdjustPointsInput!) {
  adjustPoints(input: $input) {
    __typename
    ... on PointsAdjusted { entry { id points balanceAfter reason } }
    ... on UserError { code message }
  }
}"""

HOME = """query Home($first: Int = 10, $days: Int = 30) {
  me {
    id name timeZone consents { channel granted source updatedAt }
    points {
      balance available pending
      expiring(withinDays: $days) { id remaining expiresAt status }
      history(first: $first) {
        edges { cursor node { id kind points balanceAfter orderId refundId reference reason
          createdAt amount { amount currency } funding { lotId points } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}"""


def enroll_input(customer_id: str = "cust-1", **extra: Any) -> dict[str, Any]:
    return {
        "input": {"customerId": customer_id, "timeZone": "Europe/Paris", "locale": "fr-FR", **extra}
    }


def order_input(
    order_id: str,
    amount: str,
    customer_id: str = "cust-1",
    placed_at: str = "2026-03-01T12:00:00Z",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "input": {
            "orderId": order_id,
            "customerId": customer_id,
            "placedAt": placed_at,
            "total": {"amount": amount, "currency": "EUR"},
            **extra,
        }
    }
