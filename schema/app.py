"""The ASGI app served by Lambda (through Mangum) and by the local server (uvicorn).

Identity comes from an `authenticate` function: in AWS, the claims API Gateway's JWT
authorizer verified (in the event Mangum puts in the ASGI scope); locally, the dev server's
own token check. The app never trusts an Authorization header by itself.

/graphql speaks GraphQL over HTTP (schema/http.py); /unsubscribe is the public one-click
unsubscribe page (schema/nudges/unsubscribe_page.py: no identity, never GraphQL); any other
path is a 404, in the GraphQL error shape.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES
from starlette.types import Receive, Scope, Send

from api.auth import ANONYMOUS, Principal, principal_from_claims
from api.config import Config
from api.nudges.unsubscribe import PATH as UNSUBSCRIBE_PATH
from api.observability import logger
from api.services import Services
from schema.context import Context
from schema.http import GraphQLHTTP, not_found
from schema.nudges.unsubscribe_page import UnsubscribePage
from schema.schema import build_schema

Authenticate = Callable[[Scope], Principal]
GRAPHQL_PATH = "/graphql"
_REQUEST_ID = re.compile(r"[A-Za-z0-9\-]{1,64}")


def gateway_claims(scope: Scope) -> Mapping[str, Any] | None:
    """Claims verified by API Gateway's JWT authorizer (HTTP API payload 2.0)."""
    event = scope.get("aws.event") or {}
    claims = (((event.get("requestContext") or {}).get("authorizer") or {}).get("jwt") or {}).get(
        "claims"
    )
    return claims if isinstance(claims, Mapping) else None


def gateway_authenticator(config: Config) -> Authenticate:
    def authenticate(scope: Scope) -> Principal:
        claims = gateway_claims(scope)
        return ANONYMOUS if claims is None else principal_from_claims(claims, config)

    return authenticate


def request_id(scope: Scope) -> str:
    context = scope.get("aws.context")
    if context is not None and getattr(context, "aws_request_id", None):
        return str(context.aws_request_id)
    for name, value in scope.get("headers", ()):
        header: str = value.decode("latin-1")
        if name == b"x-request-id" and _REQUEST_ID.fullmatch(header):
            return header
    return str(uuid.uuid4())


def create_app(services: Services, authenticate: Authenticate) -> Callable[..., Any]:
    introspection = services.config.introspection

    def context(scope: Scope) -> Context:
        principal = authenticate(scope)
        rid = request_id(scope)
        logger.append_keys(request_id=rid, member_id=principal.member_id, role=principal.role)
        return Context(services=services, principal=principal, request_id=rid)

    graphql = GraphQLHTTP(
        build_schema(introspection=introspection),
        context,
        graphiql=introspection,
        request_id=request_id,
    )
    unsubscribe = UnsubscribePage(services.unsubscribe, request_id)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"].rstrip("/")
            if path == GRAPHQL_PATH:
                await graphql(scope, receive, send)
            elif path == UNSUBSCRIBE_PATH:
                await unsubscribe(scope, receive, send)
            else:
                await not_found().send(send)
        elif scope["type"] == "lifespan":  # uvicorn; Mangum runs with lifespan="off"
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
        elif scope["type"] == "websocket":  # no subscriptions: refuse the handshake (403)
            await send({"type": "websocket.close", "code": 1008})

    return app


def lambda_adapter(app: Callable[..., Any]) -> Mangum:
    """The app behind API Gateway: no lifespan (it would run on every invocation), and
    GraphQL's own response type sent as text, not base64."""
    return Mangum(
        app,
        lifespan="off",
        text_mime_types=[*DEFAULT_TEXT_MIME_TYPES, "application/graphql-response+json"],
    )
