"""GraphQL-over-HTTP compliance: graphql-http's server audit (the GraphQL foundation's own
test suite for the spec, from npm) against the ASGI app served by uvicorn, as `make run`
serves it. Every audit must pass: no error (a MUST), no warning (a SHOULD), no notice (a MAY).

The counts by hand, against `make run` (from the repository's root):
    node --input-type=module -e "
      import {auditServer} from './node_modules/graphql-http/lib/index.mjs'; const c = {};
      for (const r of await auditServer({url: process.argv[1]})) c[r.status] = (c[r.status]||0)+1;
      console.log(c)" http://127.0.0.1:8000/graphql
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from api.clock import ManualClock
from api.config import Config, Stage
from api.services import build_services
from schema.app import create_app, gateway_authenticator
from schema.http import MAX_BODY_BYTES

ROOT = Path(__file__).resolve().parents[2]
GRAPHQL_HTTP = ROOT / "node_modules" / "graphql-http" / "lib" / "index.mjs"

# Prints {"counts": {"ok": n, "warn": n, "error": n, "notice": n}, "failed": [...]}.
AUDIT = """
import { auditServer } from %s;
const results = await auditServer({ url: process.argv[2] });
const counts = { ok: 0, warn: 0, error: 0, notice: 0 };
const failed = [];
for (const result of results) {
  counts[result.status] += 1;
  if (result.status !== 'ok') {
    failed.push({ id: result.id, name: result.name, status: result.status,
                  reason: result.reason, httpStatus: result.response && result.response.status });
  }
}
console.log(JSON.stringify({ counts, failed }));
"""


def node_or_skip() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the GraphQL-over-HTTP audit (graphql-http) needs it")
    if not GRAPHQL_HTTP.is_file():
        pytest.skip(f"{GRAPHQL_HTTP} is missing: run `npm ci` (make test does) for the audit")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
    if int(version.stdout.strip().lstrip("v").split(".")[0]) < 18:
        pytest.skip(f"node {version.stdout.strip()} has no fetch: the audit needs node 18+")
    return node


@pytest.fixture
def server(aws: None, clock: ManualClock) -> Iterator[str]:
    """The app on uvicorn, in the local stage as `make run` serves it, on a free port of
    127.0.0.1. In this process, so moto's mock answers its DynamoDB calls. The audit sends no
    token: it asks only for what anyone may ({ __typename }, __type)."""
    config = Config(stage=Stage.LOCAL, table_name="loyalty-test", maintenance_workers=1)
    app = create_app(build_services(config, clock), gateway_authenticator(config))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    uvicorn_server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=uvicorn_server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uvicorn_server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert uvicorn_server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def run_audit(node: str, url: str, script: Path) -> Any:
    script.write_text(AUDIT % json.dumps(GRAPHQL_HTTP.as_uri()))
    result = subprocess.run(
        [node, str(script), url], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_graphql_over_http_audit_passes_whole(server: str, tmp_path: Path) -> None:
    node = node_or_skip()
    report = run_audit(node, server, tmp_path / "audit.mjs")
    assert report["failed"] == [], json.dumps(report["failed"], indent=2)
    counts = report["counts"]
    assert counts["warn"] == counts["error"] == counts["notice"] == 0
    assert counts["ok"] >= 61  # graphql-http 1.23.1's count: fewer would mean audits skipped


def raw_request(url: str, method: str, target: str, headers: dict[str, str], body: bytes) -> Any:
    """One request as sent (http.client would fix what these get wrong on purpose)."""
    host, port = url.removeprefix("http://").split("/")[0].split(":")
    head = f"{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(head.encode("latin-1") + b"\r\n" + body)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    status_line, _, rest = received.partition(b"\r\n")
    header_block, _, payload = rest.partition(b"\r\n\r\n")
    response_headers = dict(
        line.decode("latin-1").lower().split(": ", 1) for line in header_block.split(b"\r\n")
    )
    return int(status_line.split()[1]), response_headers, payload


def chunked(data: bytes, size: int = 65536) -> bytes:
    parts = [data[i : i + size] for i in range(0, len(data), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


JSON_POST = {"Content-Type": "application/json"}
DEEP = b'{"query": "{ __typename }", "variables": {"a": ' + b"[" * 5000 + b"]" * 5000 + b"}}"
HUGE = b'{"query": "{ __typename }", "extensions": {"pad": "' + b"x" * MAX_BODY_BYTES + b'"}}'
# (method, target, headers, body, status, code): what uvicorn itself passes on.
EDGE_CASES = {
    "a string body": ("POST", "/graphql", JSON_POST, b'"x"', 400, "BAD_REQUEST"),
    "a null body": ("POST", "/graphql", JSON_POST, b"null", 400, "BAD_REQUEST"),
    "a batch": ("POST", "/graphql", JSON_POST, b"[]", 400, "BAD_REQUEST"),
    "not UTF-8": ("POST", "/graphql", JSON_POST, b'{"query": "\xff"}', 400, "BAD_REQUEST"),
    "nested 5000 levels": ("POST", "/graphql", JSON_POST, DEEP, 400, "BAD_REQUEST"),
    "GET variables nested 5000 levels": (
        "GET",
        "/graphql?query=%7B__typename%7D&variables=" + "%5B" * 5000 + "%5D" * 5000,
        {},
        b"",
        400,
        "BAD_REQUEST",
    ),
    "too large, chunked without Content-Length": (
        "POST",
        "/graphql",
        {**JSON_POST, "Transfer-Encoding": "chunked"},
        chunked(HUGE),
        413,
        "PAYLOAD_TOO_LARGE",
    ),
    # Refused on its headers, before the body is sent (as a client expecting 100 Continue).
    "too large, by Content-Length": (
        "POST",
        "/graphql",
        {**JSON_POST, "Content-Length": str(len(HUGE))},
        b"",
        413,
        "PAYLOAD_TOO_LARGE",
    ),
    "Content-Length shorter than the body": (
        "POST",
        "/graphql",
        {**JSON_POST, "Content-Length": "10"},
        b'{"query": "{ __typename }"}',
        400,
        "BAD_REQUEST",
    ),
    "no Content-Type": (
        "POST",
        "/graphql",
        {},
        b'{"query": "{ __typename }"}',
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    ),
    "text/plain": (
        "POST",
        "/graphql",
        {"Content-Type": "text/plain"},
        b'{"query": "{ __typename }"}',
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    ),
    "PUT": ("PUT", "/graphql", JSON_POST, b"{}", 405, "METHOD_NOT_ALLOWED"),
    "a mutation over GET": (
        "GET",
        "/graphql?query=mutation%7B__typename%7D",
        {},
        b"",
        405,
        "METHOD_NOT_ALLOWED",
    ),
    "another path": ("GET", "/nothing-here", {}, b"", 404, "NOT_FOUND"),
}


@pytest.mark.parametrize("case", EDGE_CASES)
def test_edge_cases_on_the_local_server(server: str, case: str) -> None:
    method, target, headers, body, status, code = EDGE_CASES[case]
    if "Content-Length" not in headers and "Transfer-Encoding" not in headers and body:
        headers = {**headers, "Content-Length": str(len(body))}
    got, response_headers, payload = raw_request(server, method, target, headers, body)
    assert got == status, payload[:300]
    assert response_headers["content-type"] == "application/json; charset=utf-8"
    answer = json.loads(payload)
    assert "data" not in answer
    assert [e["extensions"]["code"] for e in answer["errors"]] == [code]
