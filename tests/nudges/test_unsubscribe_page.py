"""The public /unsubscribe route through the Lambda handler's path (API Gateway payload 2.0
events without an authorizer, Mangum, the ASGI app): GET confirms and changes nothing, POST
unsubscribes, bad links are 400 pages, nothing rendered unescaped, never a 500."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from api.clock import ManualClock
from api.config import Config, Stage
from api.members.model import Channel
from api.nudges.unsubscribe import TokenSigner, UnsubscribeToken, parse_keys
from api.services import Services, build_services
from tests.graphql.conftest import SERVICE, Invoke, invoker
from tests.graphql.test_http import Handler, Reply, call, lambda_app
from tests.nudges.test_unsubscribe import MEMBER_ID, enroll_with_consents
from tests.support import START, stored_member

ONE_CLICK = "List-Unsubscribe=One-Click"
FORM = {"content-type": "application/x-www-form-urlencoded", "accept": "text/html"}
LINK = """query($c: Channel!) { unsubscribeLink(customerId: "cust-1", channel: $c) {
  url expiresAt headers { listUnsubscribe listUnsubscribePost } } }"""


@pytest.fixture
def handler(services: Services, config: Config) -> Handler:
    return lambda_app(services, config)


@pytest.fixture
def invoke(handler: Handler) -> Invoke:
    return invoker(handler)


def mint(invoke: Invoke, channel: str = "EMAIL") -> str:
    """A link as the shop mints it, through GraphQL; its token."""
    link = invoke(LINK, {"c": channel}, SERVICE).data["unsubscribeLink"]
    assert link["headers"] == {
        "listUnsubscribe": f"<{link['url']}>",
        "listUnsubscribePost": ONE_CLICK,
    }
    assert link["expiresAt"] == "2026-04-30T12:00:00+00:00"
    url: str = link["url"]
    assert url.startswith("http://127.0.0.1:8000/unsubscribe?token=v1.")
    return url.partition("token=")[2]


def get(handler: Handler, query: str | dict[str, str]) -> Reply:
    return call(
        handler,
        None,
        method="GET",
        path="/unsubscribe",
        query=query,
        claims=None,
        headers={"accept": "text/html", "content-type": None},
    )


def post(
    handler: Handler,
    query: str | dict[str, str],
    body: str | bytes = ONE_CLICK,
    headers: dict[str, str | None] | None = None,
) -> Reply:
    return call(
        handler,
        body,
        path="/unsubscribe",
        query=query,
        claims=None,
        headers={**FORM, **(headers or {})},
    )


def assert_page(reply: Reply, status: int, text: str) -> None:
    assert reply.status == status, reply.raw
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert reply.headers["cache-control"] == "no-store"
    assert reply.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in reply.headers["content-security-policy"]
    assert "location" not in reply.headers  # RFC 8058: never a redirect
    assert text in reply.raw, reply.raw
    assert "Traceback" not in reply.raw


def email_granted(member_id: str) -> bool:
    return next(c.granted for c in stored_member(member_id).consents if c.channel is Channel.EMAIL)


def test_get_confirms_and_changes_nothing(
    handler: Handler, invoke: Invoke, services: Services
) -> None:
    member_id = enroll_with_consents(services)
    token = mint(invoke)
    before = stored_member(member_id)
    for _ in range(2):  # a mail scanner, then the member
        reply = get(handler, {"token": token})
        assert_page(reply, 200, "Stop receiving emails from us?")
    form = re.search(r'<form method="post" action="\?token=([^"]+)">', reply.raw)
    assert form is not None
    assert form.group(1) == token
    assert '<input type="hidden" name="List-Unsubscribe" value="One-Click">' in reply.raw
    assert "cust-1" not in reply.raw
    assert member_id not in reply.raw
    assert "a@example.com" not in reply.raw
    assert stored_member(member_id) == before


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", ONE_CLICK),
        (
            "multipart/form-data; boundary=b",
            '--b\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
            "One-Click\r\n--b--\r\n",
        ),
    ],
)
def test_a_one_click_post_unsubscribes_once(
    handler: Handler, invoke: Invoke, services: Services, content_type: str, body: str
) -> None:
    member_id = enroll_with_consents(services)
    token = mint(invoke)
    reply = post(handler, {"token": token}, body, {"content-type": content_type})
    assert_page(reply, 200, "You will no longer receive emails.")
    assert not email_granted(member_id)
    after = stored_member(member_id)
    again = post(handler, {"token": token}, body, {"content-type": content_type})
    assert_page(again, 200, "You will no longer receive emails.")
    assert stored_member(member_id) == after


def test_a_base64_encoded_post_from_the_gateway(
    handler: Handler, invoke: Invoke, services: Services
) -> None:
    member_id = enroll_with_consents(services)
    token = mint(invoke)
    reply = call(
        handler,
        ONE_CLICK.encode(),
        path="/unsubscribe",
        query={"token": token},
        claims=None,
        headers=FORM,
    )
    assert_page(reply, 200, "You will no longer receive emails.")
    assert not email_granted(member_id)


def test_an_unknown_member_gets_the_same_page(handler: Handler, invoke: Invoke) -> None:
    token = mint(invoke, "SMS")  # cust-1 never enrolled
    assert_page(get(handler, {"token": token}), 200, "Stop receiving text messages from us?")
    assert_page(post(handler, {"token": token}), 200, "You will no longer receive text messages.")


def _tampered(token: str) -> str:
    head, payload, tag = token.split(".")
    return ".".join([head, payload, ("B" if tag[0] == "A" else "A") + tag[1:]])


@pytest.mark.parametrize(
    ("case", "query", "text"),
    [
        ("no token", "", "This link has no unsubscribe token."),
        ("empty token", "token=", "This is not an unsubscribe link"),
        ("two tokens", "token=a&token=b", "This link has no unsubscribe token."),
        ("garbage", "token=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "This is not an unsubscribe"),
        ("not UTF-8", "token=%ff", "This is not an unsubscribe link"),
        ("tampered", "TAMPERED", "not valid (it was altered)"),
        ("expired", "EXPIRED", "This unsubscribe link has expired."),
        ("retired key", "RETIRED", "This unsubscribe link is no longer valid."),
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_bad_links_are_400_pages_and_write_nothing(
    handler: Handler,
    invoke: Invoke,
    services: Services,
    clock: ManualClock,
    method: str,
    case: str,
    query: str,
    text: str,
) -> None:
    member_id = enroll_with_consents(services)
    token = mint(invoke)
    retired = TokenSigner(parse_keys("7:" + "r" * 32))
    special = {
        "TAMPERED": f"token={_tampered(token)}",
        "EXPIRED": f"token={token}",
        "RETIRED": "token="
        + retired.sign(UnsubscribeToken(member_id, Channel.EMAIL, START + timedelta(days=1))),
    }
    if case == "expired":
        clock.advance(timedelta(days=61))
    before = stored_member(member_id)
    reply = (get if method == "GET" else post)(handler, special.get(query, query))
    assert_page(reply, 400, text)
    assert "<script>" not in reply.raw
    assert "<form" not in reply.raw
    assert stored_member(member_id) == before


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_405(handler: Handler, method: str) -> None:
    reply = call(handler, None, method=method, path="/unsubscribe", query="token=x", claims=None)
    assert_page(reply, 405, "Open the link from your message.")
    assert reply.headers["allow"] == "GET, POST"


def test_a_body_over_the_limit_is_a_413_page(handler: Handler, invoke: Invoke) -> None:
    token = mint(invoke)
    reply = post(handler, {"token": token}, "x" * (4 * 1024 * 1024 + 1))
    assert_page(reply, 413, "larger than")


def test_production_without_a_key_is_a_503_page(aws: None, clock: ManualClock) -> None:
    config = Config(stage=Stage.PROD, table_name="loyalty-test")
    handler = lambda_app(build_services(config, clock), config)
    local = TokenSigner(parse_keys("0:loyalty-local-unsubscribe-secret-not-for-production"))
    token = local.sign(UnsubscribeToken(MEMBER_ID, Channel.EMAIL, START + timedelta(days=1)))
    for method in (get, post):
        assert_page(method(handler, {"token": token}), 503, "Unsubscribing is unavailable")


def test_a_bug_is_a_500_page_with_the_request_id(
    handler: Handler, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_: str) -> UnsubscribeToken:
        raise RuntimeError("bug")

    monkeypatch.setattr(services.unsubscribe, "check", broken)
    assert_page(get(handler, "token=x"), 500, "test-request-1")


def test_the_page_ignores_any_authorization(handler: Handler, invoke: Invoke) -> None:
    """A token in the link is the only proof; a JWT changes nothing either way."""
    token = mint(invoke)
    reply = call(
        handler,
        None,
        method="GET",
        path="/unsubscribe/",
        query={"token": token},
        claims=SERVICE,
        headers={"accept": "text/html", "authorization": "Bearer x"},
    )
    assert_page(reply, 200, "Stop receiving emails from us?")


def test_minting_in_production_unconfigured_is_a_masked_error(
    aws: None, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A deployment bug: the shop sees an unexpected error with a request id to quote, the
    log says what is missing."""
    config = Config(stage=Stage.PROD, table_name="loyalty-test")
    invoke = invoker(lambda_app(build_services(config, clock), config))
    response = invoke(LINK, {"c": "EMAIL"}, SERVICE)
    assert response.error_codes == ["INTERNAL_SERVER_ERROR"]
    assert "not set" not in response.raw
    assert "UnsubscribeNotConfigured: PUBLIC_BASE_URL is not set." in caplog.text
