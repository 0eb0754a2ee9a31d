"""Query limits, introspection and GraphiQL by stage, masked errors, the committed SDL."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from api.clock import ManualClock
from api.config import Config, Stage
from api.services import Services, build_services
from schema.app import create_app, gateway_authenticator, lambda_adapter
from schema.export import SDL_FILE, sdl
from tests.graphql.conftest import ADMIN, ENROLL, MEMBER, SERVICE, Invoke, enroll_input, invoker

INTROSPECTION = "{ __schema { queryType { name } } }"


@pytest.fixture
def prod(aws: None, clock: ManualClock) -> Invoke:
    config = Config(stage=Stage.PROD, table_name="loyalty-test", maintenance_workers=1)
    services = build_services(config, clock)
    return invoker(lambda_adapter(create_app(services, gateway_authenticator(config))))


def test_depth_limit(invoke: Invoke) -> None:
    # The deepest real path in the schema is well inside the limit.
    deepest = "{ me { points { history { edges { node { lot { id } amount { amount } } } } } } }"
    assert invoke(deepest).body.get("errors") is None
    # Nothing real nests 11 levels, so use made-up fields: the depth rule reports them too.
    inline = "{ " + "a { " * 11 + "b" + " }" * 11 + " }"
    through_fragments = (  # the bypass fixed in strawberry 0.315.7
        "{ a { a { a { ...F } } } } fragment F on Query { " + "a { " * 8 + "b" + " }" * 8 + " }"
    )
    for query in (inline, through_fragments):
        messages = [e["message"] for e in invoke(query).body["errors"]]
        assert any("exceeds maximum operation depth" in m for m in messages), messages


def test_alias_limit(invoke: Invoke) -> None:
    ok = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(30)) + " }"
    assert invoke(ok).body.get("errors") is None
    many = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(31)) + " }"
    errors = invoke(many).body["errors"]
    assert "aliases" in errors[0]["message"]


def test_token_limit(invoke: Invoke) -> None:
    huge = "{ me { " + " ".join(["id"] * 3000) + " } }"
    errors = invoke(huge).body["errors"]
    assert "token" in errors[0]["message"].lower()


def test_introspection_and_graphiql_in_dev(invoke: Invoke) -> None:
    assert invoke(INTROSPECTION).data == {"__schema": {"queryType": {"name": "Query"}}}
    page = invoke("", None, MEMBER, method="GET", headers={"accept": "text/html"})
    assert page.status == 200
    assert "GraphiQL" in page.raw


def test_no_introspection_or_graphiql_in_prod(prod: Invoke) -> None:
    response = prod(INTROSPECTION)
    assert response.data is None
    assert "introspection" in response.body["errors"][0]["message"].lower()
    page = prod("", None, MEMBER, method="GET", headers={"accept": "text/html"})
    assert "GraphiQL" not in page.raw
    assert page.status >= 400
    # The API itself works.
    assert prod(ENROLL, enroll_input(), SERVICE).data["enrollMember"]["__typename"] == (
        "MemberEnrolled"
    )


def test_unexpected_errors_are_masked_and_logged_with_the_request_id(
    invoke: Invoke,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def explode(*_: Any, **__: Any) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(services.member_views, "view", explode)
    with caplog.at_level(logging.ERROR):
        response = invoke("{ me { id } }")
    assert response.status == 200
    error = response.body["errors"][0]
    assert error["message"] == "Unexpected error."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "test-request-1"}
    assert "secret" not in response.raw
    assert any("secret internal detail" in str(r.exc_info) for r in caplog.records)


def test_expected_errors_are_not_masked(invoke: Invoke) -> None:
    response = invoke("{ program { acceptedCurrencies } }", None, MEMBER)
    assert response.body["errors"][0]["extensions"] == {"code": "FORBIDDEN"}
    assert invoke("{ program { acceptedCurrencies } }", None, ADMIN).data["program"] == {
        "acceptedCurrencies": ["EUR", "USD"]
    }


def test_the_committed_sdl_matches_the_code() -> None:
    assert SDL_FILE.read_text() == sdl(), "schema/schema.graphql drifted: python -m schema.export"
