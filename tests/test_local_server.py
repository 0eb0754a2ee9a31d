"""`make run`: the local server, its tokens, its demo data, as a newcomer meets them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest

from api.auth import ANONYMOUS, Role
from api.clock import ManualClock, SystemClock
from api.config import Config, Stage
from api.demo import DEMO_MEMBER, seed
from api.ids import member_id_for
from api.services import Services
from handlers.local import (
    EXAMPLE_QUERY,
    demo_tokens,
    free_port,
    issue_token,
    local_authenticator,
)
from tests.support import assert_ledger_consistent, ledger_entries

ROOT = Path(__file__).resolve().parents[1]
LOCAL = Config(stage=Stage.LOCAL)


def scope(token: str | None, scheme: str = "Bearer") -> dict[str, object]:
    headers = [] if token is None else [(b"authorization", f"{scheme} {token}".encode())]
    return {"type": "http", "headers": headers}


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


def test_local_tokens_are_refused_outside_the_local_stage() -> None:
    with pytest.raises(RuntimeError):
        local_authenticator(Config(stage=Stage.DEV))


def test_the_demo_seed_is_consistent_and_idempotent(services: Services) -> None:
    seed(services)
    member_id = member_id_for(DEMO_MEMBER)
    entries = len(ledger_entries(member_id))
    seed(services)
    assert len(ledger_entries(member_id)) == entries
    for customer in (DEMO_MEMBER, "demo-bob"):
        assert_ledger_consistent(member_id_for(customer))


def test_make_run_serves_the_example_query_with_the_printed_token() -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(PORT=str(port), PYTHONUNBUFFERED="1")
    env.pop("DYNAMODB_ENDPOINT", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "handlers.local"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = ""
        deadline = time.monotonic() + 60
        assert server.stdout is not None
        while "Try:" not in banner and time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line:
                break
            banner += line
        token = re.search(r"member +\(demo-alice\): (\S+)", banner)
        assert token, banner
        url = f"http://127.0.0.1:{port}/graphql"
        assert url in banner
        for _ in range(50):  # uvicorn starts listening just after the banner
            try:
                body = _post(url, EXAMPLE_QUERY, token.group(1))
                break
            except OSError:
                time.sleep(0.1)
        me = body["data"]["me"]
        assert me["name"] == "Alice Martin"
        assert me["points"]["balance"] > 0
        assert me["points"]["history"]["edges"]
        assert _post(url, EXAMPLE_QUERY, None)["errors"][0]["extensions"]["code"] == (
            "UNAUTHENTICATED"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


def _post(url: str, query: str, token: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, json.dumps({"query": query}).encode(), headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)
