"""`make run`: the API on http://127.0.0.1:8000/graphql with GraphiQL, on an embedded DynamoDB
(moto's server, in this process, which is also the EventBridge bus new follow-ups are
announced on, and the SQS, SES and SNS nudges go through: local/messaging.py) seeded with demo
data, or on DYNAMODB_ENDPOINT if set.

    python -m local                        the server (make run; STAGE, PORT)
    python -m local token [--customer ID] [--role member|admin|service]
                                                    one token on stdout (make token)

The same ASGI app as Lambda, with the rules of STAGE (local by default; dev; prod: no
introspection, GraphiQL or test clock). Only identity differs: with no API Gateway in front,
this server verifies the tokens it issues itself (HS256, LOCAL_JWT_SECRET), whatever the
stage, and never inside Lambda. In front of the app, this server alone adds, in the local and
dev stages, GraphiQL served from node_modules (no CDN: it works offline), and prints one line
per GraphQL request. Nothing in local/ is in the Lambda artifact (infra/build.py).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import boto3
import uvicorn
from graphql import FieldNode, GraphQLError, OperationDefinitionNode, parse
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.clock import SystemClock
from api.config import Config, Stage
from api.nudges.delivery import process as send_nudges
from api.services import Services, build_services
from local.demo import DEMO_MEMBER, seed
from local.messaging import (
    MAIL_PATH,
    Outbox,
    QueuePoller,
    is_mail_path,
    mail_routes,
    prepare_messaging,
)
from local.stream import Progress, TableStream, pump
from local.table import create_table
from local.tokens import TOKEN_LIFETIME, demo_tokens, local_authenticator, token
from schema.app import GRAPHQL_PATH, create_app

ROOT = Path(__file__).resolve().parents[1]
LOCAL_BUS = "loyalty-local"  # the embedded EventBridge bus of new follow-ups


# --- GraphiQL, from node_modules ---------------------------------------------------------------

GRAPHIQL_PAGE = Path(__file__).with_name("graphiql.html")
ASSETS_PATH = "/graphiql/"
# What the page loads, by name under /graphiql/: the UMD builds of the pinned npm packages
# (package.json), and GraphiQL's source maps for the browser's developer tools.
GRAPHIQL_ASSETS = {
    "graphiql.min.css": "graphiql/graphiql.min.css",
    "graphiql.min.js": "graphiql/graphiql.min.js",
    "graphiql.min.css.map": "graphiql/graphiql.min.css.map",
    "graphiql.min.js.map": "graphiql/graphiql.min.js.map",
    "react.production.min.js": "react/umd/react.production.min.js",
    "react-dom.production.min.js": "react-dom/umd/react-dom.production.min.js",
}
MEDIA_TYPES = {".css": "text/css", ".js": "text/javascript", ".map": "application/json"}
GRAPHIQL_MISSING = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>GraphiQL unavailable</title></head>
<body style="font: 16px system-ui, sans-serif; max-width: 40em; margin: 2em auto">
<h1>GraphiQL is unavailable</h1>
<p>Its files are not installed: <code>{missing}</code> is missing. They come from npm
(<code>package.json</code>): install Node.js and npm, then run <code>make run</code> again.</p>
<p>The API itself works: POST GraphQL requests to <code>/graphql</code>, as the
<code>curl</code> command <code>make run</code> printed does.</p>
</body></html>
"""


def graphiql_files(node_modules: Path) -> dict[str, Path]:
    return {name: node_modules / relative for name, relative in GRAPHIQL_ASSETS.items()}


def graphiql_missing(node_modules: Path) -> Path | None:
    """The first file GraphiQL needs that is not installed, if any."""
    for path in graphiql_files(node_modules).values():
        if not path.name.endswith(".map") and not path.is_file():
            return path
    return None


def wants_graphiql(scope: Scope) -> bool:
    """A browser opening /graphql: a GET whose Accept names text/html (API clients never do),
    with or without a query: the pre-filled link (?query=...) opens GraphiQL too."""
    if scope["method"] not in ("GET", "HEAD"):
        return False
    for name, value in scope["headers"]:
        if name != b"accept":
            continue
        for media_range in value.decode("latin-1").lower().split(","):
            media_type, *params = (part.strip() for part in media_range.split(";"))
            if media_type == "text/html" and not any(_is_q0(param) for param in params):
                return True
    return False


def _is_q0(param: str) -> bool:
    name, _, value = param.replace(" ", "").partition("=")
    try:
        return name == "q" and float(value) == 0
    except ValueError:
        return False


def graphiql_link(url: str, query: str, token: str | None = None) -> str:
    """The GraphiQL page, opened with `query` in the editor and `token` in its headers."""
    params = {"query": query}
    if token:
        params["headers"] = json.dumps({"Authorization": f"Bearer {token}"})
    return f"{url}?{urlencode(params)}"


# --- One line per request ------------------------------------------------------------------


def operation_label(params: Mapping[str, Any]) -> str:
    """`query Home { me }`, `mutation { recordOrder }`: what a request asked for."""
    query = params.get("query")
    if not isinstance(query, str) or not query.strip():
        return "(no query)"
    try:
        document = parse(query)
    except GraphQLError:
        return "(syntax error)"
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    wanted = params.get("operationName")
    if wanted:
        operations = [o for o in operations if o.name and o.name.value == wanted]
    if len(operations) != 1:
        return f"({len(operations)} operations)"
    operation = operations[0]
    fields = [s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode)]
    name = f" {operation.name.value}" if operation.name else ""
    return f"{operation.operation.value}{name} {{ {' '.join(fields) or '...'} }}"


def request_params(scope: Scope, body: bytes) -> Mapping[str, Any]:
    if scope["method"] == "GET":
        query_string = scope.get("query_string", b"").decode("latin-1")
        return {name: values[-1] for name, values in parse_qs(query_string).items()}
    try:
        params = json.loads(body)
    except ValueError:
        return {}
    if isinstance(params, list):
        return {"query": None} if not params else params[0]
    return params if isinstance(params, dict) else {}


def outcome(status: int, body: bytes) -> str:
    """What came back: each mutation's result type (or code), else the errors' codes."""
    try:
        result = json.loads(body)
    except ValueError:
        return f"HTTP {status}"
    if not isinstance(result, dict):
        return f"HTTP {status}"
    parts = []
    data = result.get("data")
    for field, value in (data or {}).items() if isinstance(data, dict) else ():
        if isinstance(value, dict) and isinstance(value.get("__typename"), str):
            parts.append(f"{field}: {value['__typename']}")
        elif isinstance(value, dict) and isinstance(value.get("code"), str):
            parts.append(f"{field}: {value['code']}")
    errors = result.get("errors")
    for error in errors if isinstance(errors, list) else ():
        if not isinstance(error, dict):
            continue
        code = (error.get("extensions") or {}).get("code")
        text = code if isinstance(code, str) else f"error: {str(error.get('message'))[:80]}"
        if text not in parts:
            parts.append(text)
    if status >= 400 and not parts:
        parts.append(f"HTTP {status}")
    return ", ".join(parts) or "ok"


def request_log(app: ASGIApp, write: Callable[[str], None]) -> ASGIApp:
    """Answer with `app`, then write one line: time, status, operation, outcome, duration."""

    async def logged(scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request_body: list[bytes] = []
        response_body: list[bytes] = []
        status = 0

        async def receive_and_keep() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                request_body.append(message.get("body", b""))
            return message

        async def send_and_keep(message: Message) -> None:
            nonlocal status
            await send(message)
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                response_body.append(message.get("body", b""))
                if not message.get("more_body"):
                    elapsed = (time.perf_counter() - started) * 1000
                    try:
                        label = operation_label(request_params(scope, b"".join(request_body)))
                        result = outcome(status, b"".join(response_body))
                    except Exception as exc:  # a log line never fails a request
                        label, result = "(unreadable request)", repr(exc)
                    write(
                        f"{time.strftime('%H:%M:%S')}  {status}  {label}  ->  {result}  "
                        f"({elapsed:.0f} ms)"
                    )

        await app(scope, receive_and_keep, send_and_keep)

    return logged


def print_line(line: str) -> None:
    print(line, flush=True)


def local_server(
    app: ASGIApp,
    config: Config,
    *,
    node_modules: Path = ROOT / "node_modules",
    write: Callable[[str], None] = print_line,
    outbox: Outbox | None = None,
) -> ASGIApp:
    """The app as `make run` serves it: GraphiQL and its assets in the stages that have
    GraphiQL (Lambda never serves them), a log line per GraphQL request, and with the
    embedded SES and SNS, /local/mail: what they were given (no token: this machine only)."""
    graphql = request_log(app, write)
    files = graphiql_files(node_modules)
    mail = None if outbox is None else mail_routes(outbox)

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        path = scope["path"]
        if mail is not None and is_mail_path(path):
            await mail(scope, receive, send)
            return
        is_graphql = path.rstrip("/") == GRAPHQL_PATH
        if config.introspection and scope["method"] in ("GET", "HEAD"):
            if is_graphql and wants_graphiql(scope):
                missing = graphiql_missing(node_modules)
                page: Response
                if missing is None:
                    page = FileResponse(GRAPHIQL_PAGE, media_type="text/html")
                else:
                    page = HTMLResponse(GRAPHIQL_MISSING.format(missing=missing), 503)
                await page(scope, receive, send)
                return
            name = path.removeprefix(ASSETS_PATH) if path.startswith(ASSETS_PATH) else None
            if name in files and files[name].is_file():
                media_type = MEDIA_TYPES[files[name].suffix]
                await FileResponse(files[name], media_type=media_type)(scope, receive, send)
                return
        await (graphql if is_graphql else app)(scope, receive, send)

    return serve


# --- The server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def listen(port: int) -> socket.socket | None:
    """The server's socket, bound before anything else happens; None if the port is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            return None
        raise
    return sock


def start_embedded_dynamodb() -> str:
    # Slow imports, unused with an endpoint.
    from moto.moto_server.werkzeug_app import (  # noqa: PLC0415
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server  # noqa: PLC0415

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per DynamoDB call
    moto = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def one_at_a_time(environ: Any, start_response: Any) -> list[bytes]:
        # moto copies a whole table around each transaction, unguarded: a write landing
        # meanwhile (the stream poller's reactions beside the seed or a request) breaks it.
        # DynamoDB serves them concurrently; this stand-in serves one at a time. Except the
        # nudge poller's long polls: they would hold everything else up for a second.
        if environ.get("HTTP_X_AMZ_TARGET") == "AmazonSQS.ReceiveMessage":
            return list(moto(environ, start_response))
        with lock:
            return list(moto(environ, start_response))

    server = make_server(
        "127.0.0.1", free_port(), one_at_a_time, threaded=True, request_handler=MotoRequestHandler
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def dynamodb_client(config: Config) -> Any:
    return boto3.client(
        "dynamodb", endpoint_url=config.dynamodb_endpoint, region_name=config.region
    )


def prepare(config: Config) -> None:
    """Create the table (from infra/table.yml) and the event bus, unless they exist."""
    client = dynamodb_client(config)
    if config.table_name not in client.list_tables()["TableNames"]:
        create_table(client, config.table_name)
    if config.event_bus_name and config.events_endpoint:
        events = boto3.client(
            "events", endpoint_url=config.events_endpoint, region_name=config.region
        )
        buses = {b["Name"] for b in events.list_event_buses()["EventBuses"]}
        if config.event_bus_name not in buses:
            events.create_event_bus(Name=config.event_bus_name)


EXAMPLE_QUERY = """query Home {
  me {
    name
    points {
      balance available pending
      expiring(withinDays: 30) { points: remaining expiresAt }
      history(first: 5) {
        edges { node { kind points balanceAfter createdAt orderId } }
      }
    }
  }
}
"""

STAGE_RULES = {
    Stage.LOCAL: "introspection, GraphiQL and the admin test clock (advanceTestClock) are on",
    Stage.DEV: "as AWS's dev stage: introspection, GraphiQL and the admin test clock are on",
    Stage.PROD: (
        "production rules: no introspection, no GraphiQL, no test clock (advanceTestClock "
        "answers TestClockDisabled).\n  Tokens are still this server's own (below); in AWS, "
        "API Gateway verifies your identity provider's"
    ),
}


def fail(message: str) -> None:
    print(f"make run: {message}", file=sys.stderr, flush=True)
    raise SystemExit(1)


def banner(
    config: Config,
    url: str,
    endpoint: str,
    embedded: bool,
    tokens: Mapping[str, str],
    *,
    node_modules: Path = ROOT / "node_modules",
    mail_url: str | None = None,
) -> str:
    if not config.introspection:
        graphiql = "GraphiQL: off in this stage (STAGE=local make run has it)."
    elif (missing := graphiql_missing(node_modules)) is not None:
        graphiql = (
            f"GraphiQL: unavailable, its files are not installed ({missing} is missing;\n"
            "  make run installs them with npm: install Node.js and npm, then make run again).\n"
            "  The API works without it: see Try below."
        )
    else:
        graphiql = (
            "GraphiQL, pre-filled with an example query and the member token (open in a "
            f"browser):\n  {graphiql_link(url, EXAMPLE_QUERY, tokens['member'])}"
        )
    where = "embedded (moto's server, in memory)" if embedded else "DYNAMODB_ENDPOINT"
    bus = (
        f"EventBridge: bus {config.event_bus_name} at {config.events_endpoint or 'AWS'}"
        " (new follow-ups are announced there)"
        if config.event_bus_name
        else "EventBridge: none (set EVENT_BUS_NAME and EVENTS_ENDPOINT to announce follow-ups)"
    )
    if config.nudge_queue_url:
        nudges = (
            f"Nudges: queue {config.nudge_queue_url.rsplit('/', 1)[-1]} (SQS), SES and SNS at "
            f"{config.messaging_endpoint or 'AWS'}; sent by a local poller"
        )
    else:
        nudges = (
            "Nudges: no queue (set NUDGE_QUEUE_URL and MESSAGING_ENDPOINT): decided and "
            "recorded, never sent"
        )
    if mail_url:
        nudges += f"\n  Emails, SMS and push sent, newest first: {mail_url}"
    hours = f"{TOKEN_LIFETIME.total_seconds() / 3600:.0f}"
    return f"""
Loyalty API, stage {config.stage.value}, on {url}
  {config.stage.value}: {STAGE_RULES[config.stage]}.
DynamoDB: {where} at {endpoint}, table {config.table_name} (demo data seeded)
{bus}
{nudges}

{graphiql}

Tokens (valid {hours} h; send as  Authorization: Bearer <token>):
  member  ({DEMO_MEMBER}): {tokens["member"]}
  admin:   {tokens["admin"]}
  service: {tokens["service"]}
  Any other: make -s token CUSTOMER=demo-bob ROLE=member (or admin, service)

Try:
  curl -s {url} -H 'Content-Type: application/json' \\
    -H 'Authorization: Bearer {tokens["member"]}' \\
    -d '{{"query": "{" ".join(EXAMPLE_QUERY.split())}"}}'

Requests (Ctrl-C stops the server; the data is in memory):"""


def every_minute(services: Services, stop: threading.Event) -> None:
    """What EventBridge runs every few minutes (or hour) in AWS: expired reservations
    released, due referrals decided."""
    while not stop.wait(60):
        try:
            services.reservations.expire_due()
        except Exception:
            logging.getLogger(__name__).exception("Releasing expired reservations failed")
        try:
            services.referral_rewards.run()
        except Exception:
            logging.getLogger(__name__).exception("Deciding due referrals failed")


def hourly(services: Services, stop: threading.Event) -> None:
    """What EventBridge runs every hour in AWS: the nudge scheduler."""
    while not stop.wait(3600):
        try:
            services.nudge_scheduler.run()
        except Exception:
            logging.getLogger(__name__).exception("The nudge scheduler failed")


def start_background(
    services: Services, config: Config, endpoint: str, stop: threading.Event
) -> tuple[Progress, threading.Thread | None]:
    """The table's stream and the schedules, as AWS runs them: reactions (members per tier,
    code batches, referees' first orders, nudge watches), the release of expired
    reservations, the referral rewards, the nudge scheduler; and the nudge queue's consumer
    (Lambda's SQS event source, played by a poller), if there is a queue."""
    stream = TableStream(dynamodb_client(config), config.table_name, endpoint)
    progress = Progress()
    threading.Thread(
        target=pump, args=(stream, services.reactions.dispatch, stop, progress), daemon=True
    ).start()
    threading.Thread(target=every_minute, args=(services, stop), daemon=True).start()
    threading.Thread(target=hourly, args=(services, stop), daemon=True).start()
    sender = None
    if config.nudge_queue_url:
        poller = QueuePoller(config, lambda event: send_nudges(event, services))
        sender = threading.Thread(target=poller.run, args=(stop,), daemon=True)
        sender.start()
    return progress, sender


def serve() -> None:
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # no CloudWatch here
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    try:
        config = Config.from_env()
    except ValueError as exc:
        fail(str(exc))
        return
    if not (port := os.environ.get("PORT", "8000")).isdigit():
        fail(f"PORT must be a port number, not {port!r}")
        return
    sock = listen(int(port))
    if sock is None:
        fail(
            f"port {port} is already in use (another make run?). Stop that server, or use "
            f"another port: PORT={int(port) + 1} make run"
        )
        return
    embedded = not config.dynamodb_endpoint
    endpoint = config.dynamodb_endpoint or start_embedded_dynamodb()
    # Unsubscribe links point at this server, whatever its port.
    base_url = os.environ.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{port}"
    local_aws = {"DYNAMODB_ENDPOINT": endpoint, "PUBLIC_BASE_URL": base_url}
    if embedded:  # moto's server is EventBridge too: new follow-ups are announced there
        bus = os.environ.get("EVENT_BUS_NAME") or LOCAL_BUS
        local_aws |= {"EVENTS_ENDPOINT": endpoint, "EVENT_BUS_NAME": bus}
    config = Config.from_env({**os.environ, **local_aws})
    prepare(config)
    if embedded:  # and SQS, SES and SNS: nudges are queued, sent and kept there
        config = Config.from_env({**os.environ, **local_aws, **prepare_messaging(config, endpoint)})
    clock = SystemClock()
    services = build_services(config, clock)
    stop = threading.Event()
    progress, sender = start_background(services, config, endpoint, stop)
    outbox = Outbox(config.region, clock) if embedded else None
    seed(services)
    # The demo's nudge watches are the stream's work: done before anyone moves the clock.
    if not progress.wait_caught_up(timeout=60):
        print("make run: the stream has not caught up with the demo data yet", flush=True)
    app = local_server(create_app(services, local_authenticator(config)), config, outbox=outbox)
    url = f"http://127.0.0.1:{port}{GRAPHQL_PATH}"
    mail_url = f"http://127.0.0.1:{port}{MAIL_PATH}" if outbox else None
    tokens = demo_tokens(config, clock)
    print(banner(config, url, endpoint, embedded, tokens, mail_url=mail_url), flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    try:
        server.run(sockets=[sock])
    finally:
        stop.set()
        if sender is not None:
            sender.join(timeout=5)  # within a long poll


def main(argv: Sequence[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == ["token"]:
        token(args[1:])
    else:
        serve()
