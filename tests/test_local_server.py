"""`make run`: the local server, its tokens, its demo data, GraphiQL, as a newcomer meets them."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import jwt
import pytest
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import ANONYMOUS, Role
from api.clock import ManualClock, SystemClock
from api.config import Config, Stage
from api.feedback.surveys_model import SurveyKind
from api.ids import member_id_for
from api.observability import count, count_error, metrics
from api.services import Services
from local import server as local
from local.demo import DEMO_MEMBER, seed
from local.server import EXAMPLE_QUERY, free_port
from local.tokens import AUDIENCE, ISSUER, demo_tokens, issue_token, local_authenticator
from tests.local_run import ROOT, LocalServer, local_server, newcomer_env
from tests.support import ADMIN, assert_ledger_consistent, ledger_entries

LOCAL = Config(stage=Stage.LOCAL)
ME = "{ me { name points { balance available } } }"
REDEEM = """mutation Redeem($input: RedeemPointsInput!) { redeemPoints(input: $input) {
  __typename ... on UserError { code } } }"""


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    """One `make run` (local stage) for this module's tests: they only read, or fail."""
    with local_server() as running:
        yield running


@pytest.fixture(scope="module")
def prod_server() -> Iterator[LocalServer]:
    with local_server(STAGE="prod") as running:
        yield running


def scope(token: str | None, scheme: str = "Bearer") -> dict[str, object]:
    headers = [] if token is None else [(b"authorization", f"{scheme} {token}".encode())]
    return {"type": "http", "headers": headers}


# --- Tokens ----------------------------------------------------------------------------------


def test_the_local_server_verifies_its_own_tokens() -> None:
    clock = SystemClock()  # PyJWT checks expiry against the wall clock
    authenticate = local_authenticator(LOCAL)
    tokens = demo_tokens(LOCAL, clock)
    member = authenticate(scope(tokens["member"]))
    assert (member.role, member.member_id) == (Role.MEMBER, member_id_for(DEMO_MEMBER))
    assert authenticate(scope(tokens["admin"])).role is Role.ADMIN
    assert authenticate(scope(tokens["service"])).role is Role.SERVICE
    assert authenticate(scope(None)) is ANONYMOUS
    assert authenticate(scope(tokens["admin"], "Basic")) is ANONYMOUS
    forged = jwt.encode(
        {"sub": "x", "cognito:groups": ["admin"], "iss": "loyalty-local", "aud": "loyalty-local"},
        "another-secret-of-32-bytes-or-more!!",
        "HS256",
    )
    assert authenticate(scope(forged)) is ANONYMOUS
    expired = issue_token(LOCAL, ManualClock(clock.now() - timedelta(days=1)), {"sub": "x"})
    assert authenticate(scope(expired)) is ANONYMOUS


@pytest.mark.parametrize("missing", ["exp", "iat", "sub", "iss", "aud"])
def test_a_token_missing_a_required_claim_is_refused(missing: str) -> None:
    """Above all `exp`: a signed token without it would be accepted forever."""
    now = SystemClock().now()
    claims = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + timedelta(hours=1)}
    claims |= {"sub": DEMO_MEMBER, "cognito:groups": ["admin"]}
    authenticate = local_authenticator(LOCAL)
    assert authenticate(scope(jwt.encode(claims, LOCAL.local_jwt_secret, "HS256"))).role
    del claims[missing]
    assert authenticate(scope(jwt.encode(claims, LOCAL.local_jwt_secret, "HS256"))) is ANONYMOUS


def test_local_tokens_work_in_every_stage_but_never_inside_lambda(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`STAGE=prod make run` keeps this server's tokens; Lambda (handlers/graphql.py) only
    ever trusts API Gateway's verified claims."""
    prod = Config(stage=Stage.PROD)
    token = demo_tokens(prod, SystemClock())["member"]
    assert local_authenticator(prod)(scope(token)).role is Role.MEMBER
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "loyalty-api-prod-graphql")
    with pytest.raises(RuntimeError, match="never verified inside AWS Lambda"):
        local_authenticator(prod)


def test_a_token_without_an_expiry_is_refused_by_the_server(server: LocalServer) -> None:
    forever = jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "iat": 0, "sub": DEMO_MEMBER},
        LOCAL.local_jwt_secret,
        "HS256",
    )
    refused = server.post(ME, forever)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_make_token_prints_a_bearer_token(server: LocalServer) -> None:
    """TOKEN=$(make -s token CUSTOMER=demo-bob), as the README says."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    # The venv is installed (make test did it): a touched pyproject.toml must not reinstall
    # it in the middle of a test run.
    installed = ["-o", ".venv/.installed", f"PY={sys.executable}"]
    printed = subprocess.run(
        ["make", "-s", *installed, "token", "CUSTOMER=demo-bob"],
        cwd=ROOT,
        env=newcomer_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+\n", printed), printed
    assert server.post(ME, printed.strip())["data"]["me"] == {
        "name": "Bob Smith",
        "points": {"balance": 145, "available": 145},
    }


def test_make_token_roles(server: LocalServer, capsys: pytest.CaptureFixture[str]) -> None:
    def token(*args: str) -> str:
        local.main(["token", *args])
        return capsys.readouterr().out.strip()

    admin = token("--role", "admin")
    carol = server.post('{ member(customerId: "demo-carol") { name } }', admin)
    assert carol["data"] == {"member": {"name": "Carol Jones"}}
    service = token("--role", "service", "--customer", "shop-backend")
    program = server.post("{ program { acceptedCurrencies } }", service)
    assert program["data"] == {"program": {"acceptedCurrencies": ["EUR", "GBP", "USD"]}}
    assert server.post(ME, token())["data"]["me"]["name"] == "Alice Martin"
    with pytest.raises(SystemExit):
        token("--role", "owner")


# --- make run --------------------------------------------------------------------------------


def test_the_demo_seed_is_consistent_and_idempotent(services: Services) -> None:
    seed(services)
    member_id = member_id_for(DEMO_MEMBER)
    entries = len(ledger_entries(member_id))
    seed(services)
    assert len(ledger_entries(member_id)) == entries
    for customer in (DEMO_MEMBER, "demo-bob", "demo-carol"):
        assert_ledger_consistent(member_id_for(customer))
    # Carol's referrals: one of each.
    carol = member_id_for("demo-carol")
    listed = services.referrals.referrals(ADMIN, carol, 10, None).referrals
    assert sorted((r.referee_name, r.status.value) for r in listed) == [
        ("Erin W.", "REWARDED"),
        ("Frank M.", "PENDING"),
        ("Grace K.", "REFUSED"),
    ]
    assert services.referrals.overview(ADMIN, carol).summary.points_earned == 200
    day = services.program.current_time().date()
    nps = services.surveys.scores(ADMIN, SurveyKind.NPS, day, day, None).total
    assert (nps.count, nps.nps) == (3, 33.3)  # seeded twice, answered once
    csat = services.surveys.scores(ADMIN, SurveyKind.CSAT, day, day, None).total
    assert (csat.count, csat.csat_percent) == (2, 50.0)


def test_make_run_serves_the_example_query_with_the_printed_token(server: LocalServer) -> None:
    assert f"stage local, on {server.url}" in server.banner
    me = server.post(EXAMPLE_QUERY, server.token("member"))["data"]["me"]
    assert me["name"] == "Alice Martin"
    assert me["points"]["balance"] > 0
    assert me["points"]["history"]["edges"]
    assert server.post(EXAMPLE_QUERY)["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert server.post(ME, server.token("admin"))["data"]["me"] is None  # not a member


def test_make_run_logs_one_line_per_request_and_no_metrics(server: LocalServer) -> None:
    """Metrics are off locally (no CloudWatch): no EMF record, even for a user error; a short
    line per request instead."""
    variables = {"input": {"points": 100000, "reference": "r", "idempotencyKey": "log-test"}}
    refused = server.post(REDEEM, server.token("member"), variables)
    assert refused["data"]["redeemPoints"]["code"] == "INSUFFICIENT_POINTS"
    line = server.wait_for_log("mutation Redeem { redeemPoints }")
    assert re.search(
        r"200  mutation Redeem \{ redeemPoints \}  ->  "
        r"redeemPoints: InsufficientPoints  \(\d+ ms\)$",
        line,
    ), line
    server.post("{ me { name } }")
    assert "UNAUTHENTICATED" in server.wait_for_log("query { me }")
    assert not [line for line in server.output if '"_aws"' in line or "CloudWatch" in line]


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, '{"data": {"me": {"name": "A"}}}', "ok"),
        (
            200,
            '{"data": {"a": {"__typename": "OrderRecorded"}, "b": {"code": "X"}}}',
            "a: OrderRecorded, b: X",
        ),
        (
            200,
            '{"data": null, "errors": [{"message": "No.", "extensions": {"code": "FORBIDDEN"}}]}',
            "FORBIDDEN",
        ),
        (
            400,
            '{"errors": [{"message": "Syntax Error: Unexpected"}]}',
            "error: Syntax Error: Unexpected",
        ),
        (400, '{"errors": ["odd"]}', "HTTP 400"),
        (404, "Not Found", "HTTP 404"),
    ],
)
def test_the_request_log_outcome(status: int, body: str, expected: str) -> None:
    assert local.outcome(status, body.encode()) == expected


def test_metrics_disabled_means_nothing_is_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    metrics.clear_metrics()
    count_error("INSUFFICIENT_POINTS")
    for _ in range(150):  # Powertools prints its buffer at 100 values, disabled or not
        count("PointsEarned", 5)
    assert capsys.readouterr().out == ""
    assert not metrics.metric_set
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    count_error("INSUFFICIENT_POINTS")
    assert '"code":"INSUFFICIENT_POINTS"' in capsys.readouterr().out


def test_a_busy_port_fails_at_once_without_banner_or_tokens() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free_port()))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "local"],
            check=False,
            cwd=ROOT,
            env=newcomer_env(PORT=str(port)),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode != 0
    assert f"port {port} is already in use" in result.stderr
    assert "eyJ" not in result.stdout + result.stderr  # no token
    assert "Loyalty API" not in result.stdout


# --- GraphiQL, offline -----------------------------------------------------------------------


class Links(HTMLParser):
    """Every URL an HTML page refers to (src, href...), and every absolute URL in its text."""

    def __init__(self) -> None:
        super().__init__()
        self.references: list[tuple[str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "action", "data", "poster", "srcset") and value:
                self.references.append((tag, value))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.text.append(data)


def get(url: str, accept: str = "*/*") -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers["content-type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["content-type"], error.read()


def test_graphiql_and_every_asset_it_loads_are_served_locally(server: LocalServer) -> None:
    if (missing := local.graphiql_missing(ROOT / "node_modules")) is not None:
        pytest.skip(f"{missing} not installed: npm installs it (make test does, with npm)")
    link = server.graphiql_link
    params = parse_qs(urlsplit(link).query)
    assert params["query"] == [EXAMPLE_QUERY]
    assert json.loads(params["headers"][0]) == {"Authorization": f"Bearer {server.token('member')}"}
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    pages = [get(link, browser), get(server.url, browser)]
    for status, content_type, body in pages:  # the pre-filled link, and /graphql alone
        assert (status, content_type.split(";")[0]) == (200, "text/html")
        assert b"GraphiQL.createFetcher" in body
    links = Links()
    links.feed(pages[0][2].decode())
    foreign = [
        url
        for url in re.findall(r"https?://[^\s\"'<>)]+", "".join(links.text))
        if not url.startswith(server.origin)
    ]
    assert not foreign, foreign
    assets = [urljoin(link, ref) for _, ref in links.references if not ref.startswith("data:")]
    # The stylesheet, then React, ReactDOM and GraphiQL.
    assert [tag for tag, _ in links.references] == ["link", "link", "script", "script", "script"]
    assert len(assets) == 4
    for asset in assets:
        assert asset.startswith(f"{server.origin}/"), asset
        status, content_type, body = get(asset)
        assert status == 200, asset
        assert content_type.split(";")[0] in ("text/css", "text/javascript"), content_type
        assert len(body) > 10_000, asset
        if asset.endswith(".css"):  # fonts and images inline, nothing fetched elsewhere
            urls = re.findall(rb"url\(\s*['\"]?([^'\")]+)", body)
            assert urls
            assert all(url.startswith(b"data:") for url in urls)
    # API clients (no text/html in Accept) still get the API on GET; nothing else is served
    # from node_modules.
    for accept in ("application/json", "*/*", "text/html;q=0, application/json"):
        status, _, body = get(f"{server.url}?query=%7B__typename%7D", accept)
        assert (status, json.loads(body)) == (200, {"data": {"__typename": "Query"}})
    assert get(f"{server.origin}/graphiql/package.json")[0] == 404
    assert get(f"{server.origin}/graphiql/../pyproject.toml")[0] == 404


def test_without_npm_the_api_runs_and_graphiql_says_why(tmp_path: Path) -> None:
    async def api(scope: Scope, receive: Receive, send: Send) -> None:
        found = scope["path"] == "/graphql"
        response = Response('{"data": {}}' if found else "", 200 if found else 404)
        await response(scope, receive, send)

    lines: list[str] = []
    app = local.local_server(api, LOCAL, node_modules=tmp_path, write=lines.append)
    status, body = asyncio.run(call(app, "/graphql", "text/html"))
    assert status == 503
    assert b"GraphiQL is unavailable" in body
    assert b"npm" in body
    assert asyncio.run(call(app, "/graphiql/graphiql.min.js"))[0] == 404
    assert asyncio.run(call(app, "/graphql", "application/json", "query={me{name}}")) == (
        200,
        b'{"data": {}}',
    )
    assert len(lines) == 1
    assert "query { me }  ->  ok" in lines[0]
    tokens = dict.fromkeys(("member", "admin", "service"), "t")
    banner = local.banner(
        LOCAL, "http://x/graphql", "http://y", True, tokens, node_modules=tmp_path
    )
    assert "GraphiQL: unavailable" in banner
    assert "?query=" not in banner


async def call(
    app: ASGIApp, path: str, accept: str = "*/*", query_string: str = ""
) -> tuple[int, bytes]:
    """One GET through an ASGI app: status and body."""
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": query_string.encode(),
        "headers": [(b"accept", accept.encode())],
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body


# --- STAGE=prod make run ---------------------------------------------------------------------


def test_stage_prod_runs_production_rules_with_local_tokens(prod_server: LocalServer) -> None:
    banner = prod_server.banner
    assert f"stage prod, on {prod_server.url}" in banner
    assert "no introspection, no GraphiQL, no test clock" in banner
    assert "?query=" not in banner  # no GraphiQL link
    me = prod_server.post(ME, prod_server.token("member"))
    assert me["data"]["me"]["name"] == "Alice Martin"
    introspection = prod_server.post("{ __schema { queryType { name } } }")
    assert introspection.get("data") is None
    assert "introspection" in introspection["errors"][0]["message"]
    clock = prod_server.post(
        "mutation { advanceTestClock(input: {days: 1}) { __typename } }",
        prod_server.token("admin"),
    )
    assert clock["data"]["advanceTestClock"]["__typename"] == "TestClockDisabled"
    status, _, body = get(prod_server.url, "text/html")
    assert status != 200 or b"GraphiQL" not in body
    assert get(f"{prod_server.origin}/graphiql/graphiql.min.js")[0] == 404
