"""Roles from verified claims, in the exact shapes API Gateway's JWT authorizer passes them."""

from __future__ import annotations

from typing import Any

import pytest

from api.auth import Role, principal_from_claims
from api.config import Config

CASES: dict[str, tuple[dict[str, Any], Role | None]] = {
    # HTTP API payload 2.0 turns a JSON array claim into "[a b]": bracketed, space-separated.
    "gateway array, several groups": ({"sub": "u1", "cognito:groups": "[staff admin]"}, Role.ADMIN),
    "gateway array, one group": ({"sub": "u1", "cognito:groups": "[admin]"}, Role.ADMIN),
    "gateway array, other groups": ({"sub": "u1", "cognito:groups": "[staff admins]"}, Role.MEMBER),
    "a string claim is one group": ({"sub": "u1", "cognito:groups": "admin"}, Role.ADMIN),
    "a string with spaces is not a list": (
        {"sub": "u1", "cognito:groups": "staff admin"},
        Role.MEMBER,
    ),
    "commas are not separators": ({"sub": "u1", "cognito:groups": "[staff,admin]"}, Role.MEMBER),
    "a JSON array decoded locally": ({"sub": "u1", "cognito:groups": ["admin"]}, Role.ADMIN),
    "a number is no group": ({"sub": "u1", "cognito:groups": 1}, Role.MEMBER),
    "scope, space-separated": (
        {"sub": "c1", "client_id": "c1", "scope": "openid loyalty/service"},
        Role.SERVICE,
    ),
    "scope prefix is not the scope": (
        {"sub": "c1", "scope": "loyalty/service-extra"},
        Role.MEMBER,
    ),
    "scope as an array is not OAuth's shape": (
        {"sub": "c1", "scope": "[loyalty/service]"},
        Role.MEMBER,
    ),
    "no usable subject": ({"sub": "a b"}, None),
}


@pytest.mark.parametrize("case", CASES)
def test_roles_from_claims(case: str) -> None:
    claims, role = CASES[case]
    assert principal_from_claims(claims, Config()).role is role
