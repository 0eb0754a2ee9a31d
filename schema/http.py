"""GraphQL over HTTP (https://graphql.github.io/graphql-over-http/draft/): what a request may
be, and what each answer is, in one place, in front of the schema.

Requests: `POST` with `Content-Type: application/json` and a JSON object body (`query`,
`operationName`, `variables`, `extensions`; no batches), or `GET` with the same parameters in
the query string (`variables` and `extensions` as JSON), for queries only. A body is at most
MAX_BODY_BYTES, counted as it is read (whatever Content-Length says), valid UTF-8, and JSON
nested at most MAX_JSON_DEPTH levels.

Responses: the media type the client's Accept prefers among `application/graphql-response+json`
and `application/json`; `application/json` without Accept, with `*/*` or on a tie (legacy
clients expect it, and so does graphql-http's audit, though the spec's watershed of 2025 says
a request without Accept SHOULD get application/graphql-response+json). With
`application/json`, every well-formed request gets 200, its errors in the body. With
`application/graphql-response+json`, a request that never ran (parse, validation, operation
or variable errors) gets 400, without `data`.
Whatever the media type, a request that is not a GraphQL request at all gets its 4xx. Every
error body is a GraphQL response: {"errors": [{"message", "extensions": {"code"}}]}.

Status and `extensions.code` of each refusal:
- 400 BAD_REQUEST: a body that is not UTF-8, not JSON, not an object (batches included) or
  nested too deeply; a missing or mistyped parameter;
- 404 NOT_FOUND: another path than /graphql;
- 405 METHOD_NOT_ALLOWED: a method other than GET and POST (Allow: GET, POST), a mutation
  over GET (Allow: POST);
- 406 NOT_ACCEPTABLE: Accept names neither JSON media type;
- 413 PAYLOAD_TOO_LARGE: a body over MAX_BODY_BYTES;
- 415 UNSUPPORTED_MEDIA_TYPE: a POST without Content-Type: application/json (UTF-8);
- 200 (application/json) or 400 (application/graphql-response+json): the request never ran:
  GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, OPERATION_RESOLUTION_FAILURE (no
  operationName for several operations, or one naming none), BAD_USER_INPUT (variables);
- 200: it ran: data, and the resolvers' errors with their own codes;
- 500 INTERNAL_SERVER_ERROR: a bug, logged with the request id the error carries.

Refusing other content types also refuses the ones a browser may send cross-origin without a
CORS preflight (text/plain, forms).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from graphql import GraphQLError
from starlette.types import Receive, Scope, Send
from strawberry.exceptions import MissingQueryError
from strawberry.http.ides import get_graphql_ide_html
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from api.observability import count, logger
from schema.context import Context
from schema.schema import INTERNAL_SERVER_ERROR, LoyaltySchema, OperationNotFound, is_expected

# A 200-line order's variables are about 20 KB; an upload of 100 000 reward codes of up to
# 38 characters about 4 MB (Lambda takes 6 MB, API Gateway 10 MB).
MAX_BODY_BYTES = 4 * 1024 * 1024
_DIGITS = re.compile(r"[0-9]+")
DRAIN_BYTES = 2 * MAX_BODY_BYTES  # read past the limit to answer 413 cleanly, no further
MAX_JSON_DEPTH = 32  # the deepest real request (an order's lines) nests 6 levels

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
HTML = "text/html"

BAD_REQUEST = "BAD_REQUEST"
NOT_FOUND = "NOT_FOUND"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
NOT_ACCEPTABLE = "NOT_ACCEPTABLE"
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
OPERATION_RESOLUTION_FAILURE = "OPERATION_RESOLUTION_FAILURE"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"

ContextFactory = Callable[[Scope], Context]


class RequestRefused(Exception):
    """A request answered with an error before (or instead of) running it."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class GraphQLRequest:
    query: str
    operation_name: str | None
    variables: dict[str, Any] | None
    extensions: dict[str, Any] | None


# --- Content negotiation ---------------------------------------------------------------------


def _media_ranges(accept: str) -> list[tuple[str, float]]:
    """Accept's media ranges, lower-cased, with their q (ranges with a malformed q are
    ignored, as RFC 9110 lets a server do)."""
    ranges = []
    for item in accept.split(","):
        media_type, *params = (part.strip() for part in item.split(";"))
        if not media_type:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = -1.0
        if 0.0 <= q <= 1.0:
            ranges.append((media_type.lower(), q))
    return ranges


def _quality(ranges: list[tuple[str, float]], media_type: str) -> tuple[float, int, int]:
    """(q, specificity, -position) of the most specific range matching `media_type`;
    q is -1 when none does. Specificity: 2 exact, 1 type/*, 0 */*."""
    best = (-1.0, -1, 0)
    main = media_type.split("/", maxsplit=1)[0]
    for position, (candidate, q) in enumerate(ranges):
        specificity = (
            2
            if candidate == media_type
            else 1
            if candidate == f"{main}/*"
            else 0
            if candidate == "*/*"
            else -1
        )
        if specificity > best[1]:
            best = (q, specificity, -position)
    return best


def negotiate(accept: str | None) -> str | None:
    """The response's media type, or None when Accept allows neither JSON type: the highest
    q; then the type named over one a wildcard matched; then the one named first. A wildcard
    matching both ("*/*") and no Accept at all choose application/json, for legacy clients."""
    if accept is None or not accept.strip():
        return JSON
    ranges = _media_ranges(accept)
    scores = {
        media_type: _quality(ranges, media_type) for media_type in (JSON, GRAPHQL_RESPONSE_JSON)
    }
    best = max(scores.values())
    if best[0] <= 0:
        return None
    return next(media_type for media_type, score in scores.items() if score == best)


def wants_html(accept: str | None) -> bool:
    """A browser: Accept names text/html (not merely */*)."""
    q, specificity, _ = _quality(_media_ranges(accept or ""), HTML)
    return q > 0 and specificity == 2


# --- Reading a request -----------------------------------------------------------------------


def _headers(scope: Scope) -> dict[str, str]:
    """Headers by lower-case name; repeated ones joined with commas (RFC 9110)."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers") or ():
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return headers


def _check_content_type(content_type: str | None) -> None:
    media_type, *params = (part.strip() for part in (content_type or "").split(";"))
    if media_type.lower() != JSON:
        raise RequestRefused(
            415,
            UNSUPPORTED_MEDIA_TYPE,
            "POST requests must have Content-Type: application/json"
            + (f", not {media_type[:100]!r}." if media_type else "."),
        )
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in (
            "utf-8",
            "utf8",
        ):
            raise RequestRefused(
                415, UNSUPPORTED_MEDIA_TYPE, "The request body must be encoded in UTF-8."
            )


def _too_large() -> RequestRefused:
    return RequestRefused(
        413,
        PAYLOAD_TOO_LARGE,
        f"The request body is larger than {MAX_BODY_BYTES // 1024 // 1024} MiB.",
    )


async def read_body(declared_length: str | None, receive: Receive) -> bytes:
    """The body, at most MAX_BODY_BYTES: refused on Content-Length when it says more (before
    reading: a client that waits for 100 Continue sends nothing), else counted as it arrives,
    whatever Content-Length said, or when there is none."""
    if declared_length is not None:
        # ASCII digits only: str.isdigit() also takes "²", which int() refuses.
        if not _DIGITS.fullmatch(declared_length.strip()):
            raise RequestRefused(400, BAD_REQUEST, "Content-Length must be a number of bytes.")
        if int(declared_length) > MAX_BODY_BYTES:
            raise _too_large()
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            break
        chunk = message.get("body", b"")
        more = message.get("more_body", False)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            await _drain(receive, more)
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


async def _drain(receive: Receive, more: bool) -> None:
    """Read (and drop) what a client is still sending, up to DRAIN_BYTES: closing on unread
    data resets the connection, and the client may never see the 413."""
    drained = 0
    while more and drained < DRAIN_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            return
        drained += len(message.get("body", b""))
        more = message.get("more_body", False)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth(value: Any) -> int:
    """How deep lists and objects nest in a decoded JSON value (without recursion)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth <= MAX_JSON_DEPTH:
                children = item.values() if isinstance(item, dict) else item
                stack.extend((child, depth + 1) for child in children)
    return deepest


def load_json(text: str, what: str) -> Any:
    """Standard JSON (no NaN or Infinity), nested at most MAX_JSON_DEPTH levels."""
    too_deep = RequestRefused(
        400, BAD_REQUEST, f"The {what} nests deeper than {MAX_JSON_DEPTH} levels."
    )
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:  # thousands of levels: the decoder gives up first
        raise too_deep from None
    except ValueError:  # JSONDecodeError, NaN, integers of over 4300 digits
        raise RequestRefused(400, BAD_REQUEST, f"The {what} is not valid JSON.") from None
    # Counting brackets first spares the walk to almost every request.
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH and _depth(value) > MAX_JSON_DEPTH:
        raise too_deep
    return value


def _decode_utf8(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestRefused(400, BAD_REQUEST, f"The {what} is not valid UTF-8.") from None


def _query_params(query_string: bytes) -> dict[str, str]:
    text = _decode_utf8(query_string, "query string")
    try:
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise RequestRefused(400, BAD_REQUEST, "The query string is not valid UTF-8.") from None
    except ValueError:
        raise RequestRefused(400, BAD_REQUEST, "The query string is malformed.") from None
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise RequestRefused(400, BAD_REQUEST, f"The parameter {name!r} appears twice.")
        params[name] = value
    return params


def _get_params(params: Mapping[str, str]) -> dict[str, Any]:
    """GET's parameters as POST's: `variables` and `extensions` are JSON in the URL."""
    decoded: dict[str, Any] = {}
    for name in ("query", "operationName"):
        if name in params:
            decoded[name] = params[name]
    for name in ("variables", "extensions"):
        if params.get(name):  # empty: not given
            decoded[name] = load_json(params[name], f"{name} parameter")
    return decoded


def graphql_request(params: Any) -> GraphQLRequest:
    """The request's parameters, checked (the spec's "well-formed GraphQL-over-HTTP request")."""
    if isinstance(params, list):
        raise RequestRefused(
            400, BAD_REQUEST, "Batched requests are not supported: send one object per request."
        )
    if not isinstance(params, dict):
        raise RequestRefused(400, BAD_REQUEST, "The request body must be a JSON object.")
    query = params.get("query")
    if query is None:
        raise RequestRefused(400, BAD_REQUEST, "The request has no query.")
    if not isinstance(query, str):
        raise RequestRefused(400, BAD_REQUEST, "The query must be a string.")
    operation_name = params.get("operationName")
    if not isinstance(operation_name, str | None):
        raise RequestRefused(400, BAD_REQUEST, "operationName must be a string or null.")
    variables = params.get("variables")
    extensions = params.get("extensions")
    for name, value in (("variables", variables), ("extensions", extensions)):
        if not isinstance(value, dict | None):
            raise RequestRefused(400, BAD_REQUEST, f"{name} must be an object or null.")
    return GraphQLRequest(query, operation_name, variables, extensions)


# --- Answering -------------------------------------------------------------------------------


def error_body(code: str, message: str, **extensions: Any) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str
    headers: Mapping[str, str]

    async def send(self, send: Send) -> None:
        headers = [
            (b"content-type", self.content_type.encode()),
            (b"content-length", str(len(self.body)).encode()),
            (b"vary", b"Accept"),
            *((k.lower().encode(), v.encode()) for k, v in self.headers.items()),
        ]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


def json_answer(
    status: int,
    body: Mapping[str, Any],
    media_type: str = JSON,
    headers: Mapping[str, str] | None = None,
) -> Answer:
    # ASCII JSON: valid UTF-8 whatever the strings hold (lone surrogates included).
    encoded = json.dumps(body, separators=(",", ":")).encode("ascii")
    return Answer(status, encoded, f"{media_type}; charset=utf-8", headers or {})


def refusal(error: RequestRefused, media_type: str = JSON) -> Answer:
    return json_answer(
        error.status, error_body(error.code, error.message), media_type, error.headers
    )


def _formatted(error: GraphQLError, request_id: str) -> dict[str, Any]:
    if is_expected(error):
        return dict(error.formatted)
    # MaskUnexpectedErrors masks what execution raises; this masks what an extension raised
    # before it (Strawberry reports those past the extensions). Logged by process_errors.
    masked = {"message": "Unexpected error.", "path": error.path}
    return {
        **{k: v for k, v in masked.items() if v is not None},
        "extensions": {"code": INTERNAL_SERVER_ERROR, "requestId": request_id},
    }


def result_answer(result: ExecutionResult, media_type: str, request_id: str) -> Answer:
    """The GraphQL response. A request error (nothing ran: every error is without a path and
    there is no data) has no `data` entry; with application/graphql-response+json it is a 400
    (a 500 when it is a bug)."""
    errors = result.errors or []
    ran = result.data is not None or not errors or any(e.path is not None for e in errors)
    body: dict[str, Any] = {"data": result.data} if ran else {}
    if errors:
        body["errors"] = [_formatted(error, request_id) for error in errors]
    if result.extensions:
        body["extensions"] = result.extensions
    status = 200
    if not ran and media_type == GRAPHQL_RESPONSE_JSON:
        codes = {e["extensions"].get("code") for e in body["errors"] if "extensions" in e}
        status = 500 if INTERNAL_SERVER_ERROR in codes else 400
    return json_answer(status, body, media_type)


def request_error(code: str, message: str, media_type: str) -> Answer:
    """A GraphQL request error (the request is well-formed, but nothing can run)."""
    status = 400 if media_type == GRAPHQL_RESPONSE_JSON else 200
    return json_answer(status, error_body(code, message), media_type)


class GraphQLHTTP:
    """The /graphql endpoint, as an ASGI app."""

    def __init__(
        self,
        schema: LoyaltySchema,
        context: ContextFactory,
        *,
        graphiql: bool,
        request_id: Callable[[Scope], str],
    ) -> None:
        self.schema = schema
        self.context = context
        self.graphiql_page = get_graphql_ide_html(graphql_ide="graphiql") if graphiql else None
        self.request_id = request_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            answer = await self.answer(scope, receive)
        except Exception:  # a bug: answered as one, never as a bare 500
            count("UnexpectedErrors")
            rid = self.request_id(scope)
            logger.exception("Unexpected error in the HTTP layer (request %s)", rid)
            answer = json_answer(
                500, error_body(INTERNAL_SERVER_ERROR, "Unexpected error.", requestId=rid)
            )
        await answer.send(send)

    async def answer(self, scope: Scope, receive: Receive) -> Answer:
        headers = _headers(scope)
        method = scope["method"]
        if method not in ("GET", "POST"):
            return refusal(
                RequestRefused(
                    405,
                    METHOD_NOT_ALLOWED,
                    f"{method[:20]} is not supported: use POST (or GET for queries).",
                    {"Allow": "GET, POST"},
                )
            )
        accept = headers.get("accept")
        query_string = scope.get("query_string", b"")
        if method == "GET" and self.graphiql_page and wants_html(accept):
            names = {name for name, _ in parse_qsl(query_string.decode("latin-1"))}
            if "query" not in names:  # a browser opening the endpoint: GraphiQL
                return Answer(200, self.graphiql_page.encode(), "text/html; charset=utf-8", {})
        media_type = negotiate(accept)
        if media_type is None:
            return refusal(
                RequestRefused(
                    406,
                    NOT_ACCEPTABLE,
                    f"The response is {GRAPHQL_RESPONSE_JSON} or {JSON}: accept one of them.",
                )
            )
        try:
            if method == "GET":
                params = _get_params(_query_params(query_string))
            else:
                _check_content_type(headers.get("content-type"))
                body = await read_body(headers.get("content-length"), receive)
                params = load_json(_decode_utf8(body, "request body"), "request body")
            request = graphql_request(params)
        except RequestRefused as refused:
            return refusal(refused, media_type)
        return await self.execute(scope, method, request, media_type)

    async def execute(
        self, scope: Scope, method: str, request: GraphQLRequest, media_type: str
    ) -> Answer:
        allowed = (
            {OperationType.QUERY}
            if method == "GET"
            else {OperationType.QUERY, OperationType.MUTATION}
        )
        context = self.context(scope)
        try:
            result = await self.schema.execute(
                request.query,
                variable_values=request.variables,
                context_value=context,
                operation_name=request.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request.extensions,
            )
        except MissingQueryError:  # an empty string
            return refusal(RequestRefused(400, BAD_REQUEST, "The query is empty."), media_type)
        except CannotGetOperationTypeError as error:
            cause = error.__cause__
            message = (
                str(cause) if isinstance(cause, OperationNotFound) else error.as_http_error_reason()
            )
            return request_error(OPERATION_RESOLUTION_FAILURE, message, media_type)
        except InvalidOperationTypeError as error:
            if error.operation_type is OperationType.MUTATION:
                return refusal(
                    RequestRefused(
                        405,
                        METHOD_NOT_ALLOWED,
                        "Mutations are not allowed over GET: use POST.",
                        {"Allow": "POST"},
                    ),
                    media_type,
                )
            return request_error(
                VALIDATION_FAILED,
                f"The {error.operation_type.value} operation is not supported by the schema.",
                media_type,
            )
        return result_answer(result, media_type, context.request_id)


def not_found() -> Answer:
    return json_answer(404, error_body(NOT_FOUND, "Not found: the API is at /graphql."))


__all__ = [
    "MAX_BODY_BYTES",
    "MAX_JSON_DEPTH",
    "Answer",
    "GraphQLHTTP",
    "GraphQLRequest",
    "RequestRefused",
    "negotiate",
    "not_found",
]
