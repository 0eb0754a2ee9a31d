"""Tokens for the local server: it verifies the tokens it issues itself (HS256,
LOCAL_JWT_SECRET), since no API Gateway stands in front of it. Never used in Lambda."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import jwt
from starlette.types import Scope

from api.auth import ANONYMOUS, Principal, principal_from_claims
from api.clock import Clock, SystemClock
from api.config import Config, Stage
from local.demo import DEMO_MEMBER
from schema.app import Authenticate

ISSUER = AUDIENCE = "loyalty-local"
TOKEN_LIFETIME = timedelta(hours=12)
# A token without any of these is refused: no token is valid forever.
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]
ROLES = ("member", "admin", "service")
# The subject of each role's demo token: a customer id, an admin's name, a client id.
DEFAULT_SUBJECTS = {"member": DEMO_MEMBER, "admin": "demo-admin", "service": "demo-shop"}


def issue_token(config: Config, clock: Clock, claims: Mapping[str, Any]) -> str:
    now = clock.now()
    payload = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + TOKEN_LIFETIME, **claims}
    return jwt.encode(payload, config.local_jwt_secret, algorithm="HS256")


def role_claims(config: Config, role: str, subject: str | None = None) -> dict[str, Any]:
    """The claims that make a token `role` (as Cognito would issue them), for `subject`."""
    if role not in ROLES:
        raise ValueError(f"ROLE must be one of {', '.join(ROLES)}, not {role!r}")
    sub = subject or DEFAULT_SUBJECTS[role]
    if role == "admin":
        return {"sub": sub, config.groups_claim: [config.admin_group]}
    if role == "service":
        return {"sub": sub, "client_id": sub, "scope": config.service_scope}
    return {"sub": sub}


def demo_tokens(config: Config, clock: Clock) -> dict[str, str]:
    return {role: issue_token(config, clock, role_claims(config, role)) for role in ROLES}


def local_authenticator(config: Config) -> Authenticate:
    """This server's own token check, in any stage, never inside Lambda (where API Gateway's
    JWT authorizer verifies tokens and handlers/graphql.py reads its claims)."""
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        raise RuntimeError(
            "Local tokens are never verified inside AWS Lambda: API Gateway's JWT authorizer "
            "verifies tokens there (schema.app.gateway_authenticator)."
        )

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
                        options={"require": REQUIRED_CLAIMS},
                    )
                except jwt.InvalidTokenError:
                    return ANONYMOUS
                return principal_from_claims(claims, config)
        return ANONYMOUS

    return authenticate


def token(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="make token", description="Print a token this local server accepts (12 h)."
    )
    parser.add_argument(
        "--customer",
        help=(
            "the token's subject: a member's customer id (demo-alice, demo-bob, demo-carol), "
            "an admin's name or the shop backend's client id"
        ),
    )
    parser.add_argument("--role", default="member", choices=ROLES)
    args = parser.parse_args(argv)
    config = Config.from_env({**os.environ, "STAGE": Stage.LOCAL.value})
    print(issue_token(config, SystemClock(), role_claims(config, args.role, args.customer)))
