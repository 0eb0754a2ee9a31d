"""`make run`: the API on http://127.0.0.1:8000/graphql with GraphiQL, on an embedded DynamoDB
(moto's server, in this process) seeded with demo data, or on DYNAMODB_ENDPOINT if set.

The same ASGI app as Lambda; only identity differs: with no API Gateway in front, this server
verifies the tokens it prints itself (HS256, the local dev secret).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import boto3
import jwt
import uvicorn
from starlette.types import Scope

from api.auth import ANONYMOUS, Principal, principal_from_claims
from api.clock import Clock, SystemClock
from api.config import Config, Stage
from api.demo import DEMO_MEMBER, seed
from api.services import build_services
from api.store.table import create_table
from schema.app import Authenticate, create_app

ISSUER = AUDIENCE = "loyalty-local"
TOKEN_LIFETIME = timedelta(hours=12)


def issue_token(config: Config, clock: Clock, claims: Mapping[str, Any]) -> str:
    now = clock.now()
    payload = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + TOKEN_LIFETIME, **claims}
    return jwt.encode(payload, config.local_jwt_secret, algorithm="HS256")


def demo_tokens(config: Config, clock: Clock) -> dict[str, str]:
    return {
        "member": issue_token(config, clock, {"sub": DEMO_MEMBER}),
        "admin": issue_token(
            config, clock, {"sub": "demo-admin", config.groups_claim: [config.admin_group]}
        ),
        "service": issue_token(
            config,
            clock,
            {"sub": "demo-shop", "client_id": "demo-shop", "scope": config.service_scope},
        ),
    }


def local_authenticator(config: Config) -> Authenticate:
    if config.stage is not Stage.LOCAL:
        raise RuntimeError("Local token verification runs in the local stage only.")

    def authenticate(scope: Scope) -> Principal:
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() != "bearer":
                    return ANONYMOUS
                try:
                    claims = jwt.decode(
                        token,
                        config.local_jwt_secret,
                        algorithms=["HS256"],
                        audience=AUDIENCE,
                        issuer=ISSUER,
                    )
                except jwt.InvalidTokenError:
                    return ANONYMOUS
                return principal_from_claims(claims, config)
        return ANONYMOUS

    return authenticate


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_embedded_dynamodb() -> str:
    from moto.server import ThreadedMotoServer  # noqa: PLC0415 - slow; unused with an endpoint

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per DynamoDB call
    port = free_port()
    ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False).start()
    return f"http://127.0.0.1:{port}"


def prepare(config: Config) -> None:
    """Create the table (from infra/table.yml) unless it exists."""
    client = boto3.client(
        "dynamodb", endpoint_url=config.dynamodb_endpoint, region_name=config.region
    )
    if config.table_name not in client.list_tables()["TableNames"]:
        create_table(client, config.table_name)


EXAMPLE_QUERY = """{ me { name points { balance available pending
  expiring(withinDays: 30) { points: remaining expiresAt }
  history(first: 5) { edges { node { kind points balanceAfter createdAt orderId } } } } } }"""


def main() -> None:
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # no CloudWatch here
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    endpoint = os.environ.get("DYNAMODB_ENDPOINT") or start_embedded_dynamodb()
    config = Config.from_env({**os.environ, "STAGE": "local", "DYNAMODB_ENDPOINT": endpoint})
    prepare(config)
    clock = SystemClock()
    services = build_services(config, clock)
    seed(services)
    app = create_app(services, local_authenticator(config))
    port = int(os.environ.get("PORT", "8000"))
    tokens = demo_tokens(config, clock)
    url = f"http://127.0.0.1:{port}/graphql"
    print(
        f"""
Loyalty API (local stage) on {url}  (GraphiQL: open it in a browser)
DynamoDB: {endpoint}  table {config.table_name}  (demo data seeded)

Tokens (valid 12 h; send as  Authorization: Bearer <token>):
  member  ({DEMO_MEMBER}): {tokens["member"]}
  admin:   {tokens["admin"]}
  service: {tokens["service"]}

Try:
  curl -s {url} -H 'Content-Type: application/json' \\
    -H 'Authorization: Bearer {tokens["member"]}' \\
    -d '{{"query": "{" ".join(EXAMPLE_QUERY.split())}"}}'
""",
        flush=True,
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
