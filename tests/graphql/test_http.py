"""GraphQL over HTTP through the Lambda handler's path: API Gateway v2 events, Mangum, the ASGI
app. Every refusal is a GraphQL error body with a code, never a text/plain body or a 500."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from graphql import GraphQLError
from strawberry.types import ExecutionResult
from strawberry.types.scalar import ScalarDefinition

from api.auth import Principal
from api.clock import ManualClock
from api.config import Config, Stage
from api.ids import member_id_for
from api.services import Services, build_services
from schema.app import create_app, gateway_authenticator, lambda_adapter
from schema.http import (
    GRAPHQL_RESPONSE_JSON,
    JSON,
    MAX_BODY_BYTES,
    MAX_JSON_DEPTH,
    RequestRefused,
    negotiate,
    read_body,
    result_answer,
)
from schema.schema import clean_parse_errors
from tests.graphql.conftest import ENROLL, MEMBER, SERVICE, enroll_input
from tests.support import SERVICE as SERVICE_PRINCIPAL
from tests.support import FakeLambdaContext, http_api_event

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
GRAPHQL_RESPONSE = "application/graphql-response+json"
TYPENAME = json.dumps({"query": "{ __typename }"})


@dataclass
class Reply:
    status: int
    headers: Mapping[str, str]
    raw: str

    @property
    def body(self) -> Any:
        return json.loads(self.raw)

    @property
    def codes(self) -> list[str | None]:
        return [(e.get("extensions") or {}).get("code") for e in self.body.get("errors") or []]

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0]


def call(
    handler: Handler,
    body: str | bytes | None = TYPENAME,
    *,
    method: str = "POST",
    path: str = "/graphql",
    headers: Mapping[str, str | None] | None = None,
    query: Mapping[str, str] | str | None = None,
    claims: Mapping[str, Any] | None = SERVICE,
    base64_body: bool = False,
) -> Reply:
    """One API Gateway event: `headers` override the defaults (JSON in, JSON accepted); a
    None value removes that header. Bytes bodies and base64_body arrive base64-encoded, as
    API Gateway passes bodies it deems binary."""
    event = http_api_event("", None, claims, method=method, path=path, raw_body="")
    for name, value in (headers or {}).items():
        if value is None:
            event["headers"].pop(name, None)
        else:
            event["headers"][name] = value
    event.pop("body", None)
    if body is not None:
        if isinstance(body, bytes) or base64_body:
            data = body if isinstance(body, bytes) else body.encode()
            event["body"] = base64.b64encode(data).decode()
            event["isBase64Encoded"] = True
        else:
            event["body"] = body
    if query is not None:
        event["rawQueryString"] = query if isinstance(query, str) else urlencode(query)
    out = handler(event, FakeLambdaContext())
    raw = out["body"]
    if out.get("isBase64Encoded"):  # Mangum encodes media types it does not know as text
        raw = base64.b64decode(raw).decode("utf-8")
    return Reply(out["statusCode"], out["headers"] or {}, raw)


def lambda_app(services: Services, config: Config) -> Handler:
    app = create_app(services, gateway_authenticator(config))
    handler: Handler = lambda_adapter(app)
    return handler


@pytest.fixture
def handler(services: Services, config: Config) -> Handler:
    return lambda_app(services, config)


@pytest.fixture
def prod(aws: None, clock: ManualClock) -> Handler:
    config = Config(stage=Stage.PROD, table_name="loyalty-test", maintenance_workers=1)
    return lambda_app(build_services(config, clock), config)


def assert_refused(reply: Reply, status: int, code: str) -> None:
    assert reply.status == status, reply.raw
    assert reply.media_type in (JSON, GRAPHQL_RESPONSE)
    assert reply.headers["content-type"].endswith("charset=utf-8")
    errors = reply.body["errors"]
    assert "data" not in reply.body
    assert [e["extensions"]["code"] for e in errors] == [code]
    assert errors[0]["message"]
    assert "Traceback" not in reply.raw


def enrolled(services: Services, customer_id: str) -> bool:
    return (
        services.member_views.view(SERVICE_PRINCIPAL, member_id_for(customer_id), None) is not None
    )


# --- Bodies that are not a GraphQL request -------------------------------------------------------

NOT_AN_OBJECT = {
    "a string": '"x"',
    "a number": "42",
    "null": "null",
    "true": "true",
    "an empty batch": "[]",
    "a batch": json.dumps([{"query": "{ __typename }"}]),
}


@pytest.mark.parametrize("case", NOT_AN_OBJECT)
def test_a_json_body_that_is_not_an_object_is_a_400(handler: Handler, case: str) -> None:
    assert_refused(call(handler, NOT_AN_OBJECT[case]), 400, "BAD_REQUEST")


def test_batches_stay_refused_and_run_nothing(handler: Handler, services: Services) -> None:
    batch = json.dumps([{"query": ENROLL, "variables": enroll_input("cust-9")}])
    reply = call(handler, batch)
    assert_refused(reply, 400, "BAD_REQUEST")
    assert "Batch" in reply.body["errors"][0]["message"]
    assert not enrolled(services, "cust-9")


MALFORMED = {
    "not JSON": b"{query: me}",
    "truncated JSON": b'{ "not a JSON',
    "empty": b"",
    "not UTF-8": b'{"query": "{ __typename \xff\xfe }"}',
    "latin-1": '{"query": "{ __typename }", "variables": {"name": "Zoé"}}'.encode("latin-1"),
    "a UTF-8 BOM": b'\xef\xbb\xbf{"query": "{ __typename }"}',
    "NaN": b'{"query": "{ __typename }", "variables": {"a": NaN}}',
    "Infinity": b'{"query": "{ __typename }", "variables": {"a": -Infinity}}',
    "an integer of 5000 digits": b'{"query": "{ __typename }", "variables": {"a": '
    + b"1" * 5000
    + b"}}",
    "nested 5000 levels (10 KB)": b'{"query": "{ __typename }", "variables": {"a": '
    + b"[" * 5000
    + b"]" * 5000
    + b"}}",
    "nested 5000 levels in extensions": b'{"query": "{ __typename }", "extensions": {"a": '
    + b'{"a": ' * 5000
    + b"1"
    + b"}" * 5000
    + b"}}",
    "nested just too deep": b'{"query": "{ __typename }", "variables": {"a": '
    + b"[" * MAX_JSON_DEPTH
    + b"]" * MAX_JSON_DEPTH
    + b"}}",
}


@pytest.mark.parametrize("case", MALFORMED)
@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
def test_a_body_that_cannot_be_read_is_a_400(handler: Handler, case: str, accept: str) -> None:
    """Through base64-encoded event bodies (API Gateway's for binary content), as sent."""
    reply = call(handler, MALFORMED[case], headers={"accept": accept})
    assert_refused(reply, 400, "BAD_REQUEST")
    assert reply.media_type == accept


def test_nesting_up_to_the_limit_is_fine(handler: Handler) -> None:
    depth = MAX_JSON_DEPTH - 2  # the body object and variables are two levels
    body = json.dumps(
        {"query": "{ __typename }", "variables": {"a": json.loads("[" * depth + "]" * depth)}}
    )
    reply = call(handler, body)
    assert reply.status == 200
    assert reply.body == {"data": {"__typename": "Query"}}


def test_base64_encoded_bodies_are_read(handler: Handler) -> None:
    reply = call(handler, TYPENAME, base64_body=True)
    assert (reply.status, reply.body) == (200, {"data": {"__typename": "Query"}})


PARAMETERS = {
    "no query": {"notquery": "{ __typename }"},
    "a typo": {"qeury": "{ __typename }"},
    "null query": {"query": None},
    "empty query": {"query": ""},
    "query an object": {"query": {"obj": "ect"}},
    "query a number": {"query": 0},
    "query false": {"query": False},
    "query a list": {"query": ["array"]},
    "operationName an object": {"query": "{ __typename }", "operationName": {"obj": "ect"}},
    "operationName a number": {"query": "{ __typename }", "operationName": 0},
    **{
        f"{name} {label}": {"query": "{ __typename }", name: value}
        for name in ("variables", "extensions")
        for label, value in (("a string", "x"), ("a number", 0), ("false", False), ("a list", [7]))
    },
}


@pytest.mark.parametrize("case", PARAMETERS)
def test_invalid_parameters_are_a_400(handler: Handler, case: str) -> None:
    assert_refused(call(handler, json.dumps(PARAMETERS[case])), 400, "BAD_REQUEST")


def test_null_parameters_are_absent_ones(handler: Handler) -> None:
    body = {"query": "{ __typename }", "variables": None, "operationName": None, "extensions": None}
    reply = call(handler, json.dumps(body))
    assert (reply.status, reply.body) == (200, {"data": {"__typename": "Query"}})


# --- Size ------------------------------------------------------------------------------------


def padded(size: int) -> str:
    """A valid request body of exactly `size` bytes."""
    empty = json.dumps({"query": "{ __typename }", "extensions": {"pad": ""}})
    return json.dumps({"query": "{ __typename }", "extensions": {"pad": "x" * (size - len(empty))}})


def test_a_body_at_the_limit_is_read(handler: Handler) -> None:
    body = padded(MAX_BODY_BYTES)
    assert len(body) == MAX_BODY_BYTES
    assert call(handler, body).status == 200


@pytest.mark.parametrize(
    "content_length",
    [None, str(MAX_BODY_BYTES + 1), "10", "0"],
    ids=["missing", "true", "lying small", "lying zero"],
)
def test_a_body_over_the_limit_is_a_413_whatever_content_length_says(
    handler: Handler, content_length: str | None
) -> None:
    reply = call(handler, padded(MAX_BODY_BYTES + 1), headers={"content-length": content_length})
    assert_refused(reply, 413, "PAYLOAD_TOO_LARGE")


def test_a_content_length_over_the_limit_is_a_413_at_once(handler: Handler) -> None:
    reply = call(handler, TYPENAME, headers={"content-length": str(10 * MAX_BODY_BYTES)})
    assert_refused(reply, 413, "PAYLOAD_TOO_LARGE")


def test_a_content_length_that_is_not_a_number_is_a_400(handler: Handler) -> None:
    assert_refused(call(handler, TYPENAME, headers={"content-length": "ten"}), 400, "BAD_REQUEST")


@pytest.mark.parametrize("declared", ["\u00b2", "1\u00b9", "\u0663", " 12 3"])
def test_only_ascii_digits_make_a_content_length(declared: str) -> None:
    """str.isdigit() takes superscripts and other scripts' digits, which int() may refuse;
    a server that passes such a header through must get a 400, not a 500."""

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    with pytest.raises(RequestRefused) as refused:
        asyncio.run(read_body(declared, receive))
    assert refused.value.status == 400


# --- Content types and methods ---------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/graphql",
        "application/jsonx",
        "application/json; charset=latin-1",
    ],
)
def test_a_post_that_is_not_json_is_a_415(
    handler: Handler, services: Services, content_type: str | None
) -> None:
    body = json.dumps({"query": ENROLL, "variables": enroll_input("cust-9")})
    reply = call(handler, body, headers={"content-type": content_type})
    assert_refused(reply, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert not enrolled(services, "cust-9")


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "Application/JSON; charset=UTF-8"]
)
def test_json_with_a_utf8_charset_is_accepted(handler: Handler, content_type: str) -> None:
    assert call(handler, headers={"content-type": content_type}).status == 200


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])
def test_other_methods_are_a_405_with_allow(handler: Handler, method: str) -> None:
    reply = call(handler, method=method)
    assert_refused(reply, 405, "METHOD_NOT_ALLOWED")
    assert reply.headers["allow"] == "GET, POST"


@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
def test_a_mutation_over_get_is_a_405_and_runs_nothing(
    handler: Handler, services: Services, accept: str
) -> None:
    params = {"query": ENROLL, "variables": json.dumps(enroll_input("cust-9"))}
    reply = call(handler, None, method="GET", query=params, headers={"accept": accept})
    assert_refused(reply, 405, "METHOD_NOT_ALLOWED")
    assert reply.headers["allow"] == "POST"
    assert not enrolled(services, "cust-9")
    # The same over POST runs.
    post = call(handler, json.dumps({"query": ENROLL, "variables": enroll_input("cust-9")}))
    assert post.body["data"]["enrollMember"]["__typename"] == "MemberEnrolled"
    assert enrolled(services, "cust-9")


def test_other_paths_are_a_404_in_the_graphql_shape(handler: Handler) -> None:
    for path in ("/", "/graphiql", "/graphql/x"):
        assert_refused(call(handler, path=path), 404, "NOT_FOUND")


# --- GET -------------------------------------------------------------------------------------


def test_queries_over_get_with_variables(handler: Handler) -> None:
    params = {
        "query": "query Q($name: String!) { __type(name: $name) { name } }",
        "variables": json.dumps({"name": "Member"}),
        "operationName": "Q",
        "extensions": json.dumps({"some": "value"}),
    }
    reply = call(handler, None, method="GET", query=params)
    assert (reply.status, reply.body) == (200, {"data": {"__type": {"name": "Member"}}})


BAD_QUERY_STRINGS = {
    "no query": "",
    "variables not JSON": urlencode({"query": "{ __typename }", "variables": "{x"}),
    "variables not an object": urlencode({"query": "{ __typename }", "variables": "[1]"}),
    "variables nested 5000 levels": urlencode(
        {"query": "{ __typename }", "variables": "[" * 5000 + "]" * 5000}
    ),
    "extensions nested 5000 levels": urlencode(
        {"query": "{ __typename }", "extensions": '{"a":' * 5000 + "1" + "}" * 5000}
    ),
    "extensions not an object": urlencode({"query": "{ __typename }", "extensions": '"x"'}),
    "variables NaN": urlencode({"query": "{ __typename }", "variables": '{"a": NaN}'}),
    "not UTF-8": "query=%7B__typename%7D&variables=%FF",
    "the query twice": "query=%7B__typename%7D&query=%7B__typename%7D",
}


@pytest.mark.parametrize("case", BAD_QUERY_STRINGS)
def test_bad_get_parameters_are_a_400(handler: Handler, case: str) -> None:
    reply = call(handler, None, method="GET", query=BAD_QUERY_STRINGS[case])
    assert_refused(reply, 400, "BAD_REQUEST")


# --- Media types and status codes ------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        (JSON, JSON),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, {JSON}", GRAPHQL_RESPONSE),
        (f"{JSON}, {GRAPHQL_RESPONSE}", JSON),
        (f"{JSON};q=0.9, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0.5, */*;q=0.8", JSON),
        (f"{GRAPHQL_RESPONSE}, */*;q=0.8", GRAPHQL_RESPONSE),
        (f"{JSON};q=0, */*", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}; charset=utf-8", GRAPHQL_RESPONSE),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", JSON),
        ("text/html", None),
        ("application/xml", None),
        (f"{JSON};q=0", None),
        (f"{JSON};q=oops", None),
    ],
)
def test_content_negotiation(accept: str | None, expected: str | None) -> None:
    assert negotiate(accept) == expected


@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
def test_the_response_has_the_negotiated_type(handler: Handler, accept: str) -> None:
    reply = call(handler, headers={"accept": accept})
    assert reply.status == 200
    assert reply.headers["content-type"] == f"{accept}; charset=utf-8"
    assert "accept" in reply.headers["vary"].lower()
    assert reply.body == {"data": {"__typename": "Query"}}


def test_no_acceptable_type_is_a_406(prod: Handler) -> None:
    reply = call(prod, headers={"accept": "application/xml"})
    assert_refused(reply, 406, "NOT_ACCEPTABLE")
    assert reply.media_type == JSON


TYPE_QUERY = "query Type($name: String!) { __type(name: $name) { name } }"
ENROLL_VARIABLES = "mutation($i: EnrollMemberInput!) { enrollMember(input: $i) { __typename } }"
# (request body, the code of its error): none of them runs.
REQUEST_ERRORS = {
    "parse": ({"query": "{"}, "GRAPHQL_PARSE_FAILED"),
    "token limit": (
        {"query": "{ me { " + " ".join(["id"] * 3000) + " } }"},
        "GRAPHQL_PARSE_FAILED",
    ),
    "validation": ({"query": "{ unknownField }"}, "GRAPHQL_VALIDATION_FAILED"),
    "unused variable": (
        {"query": "query CoerceFailure($id: ID!){ __typename }", "variables": {"id": None}},
        "GRAPHQL_VALIDATION_FAILED",
    ),
    "depth": (
        {"query": "{ " + "a { " * 11 + "b" + " }" * 11 + " }"},
        "GRAPHQL_VALIDATION_FAILED",
    ),
    "literal of the wrong type": (
        {"query": '{ me { points { history(first: "x") { pageInfo { hasNextPage } } } } }'},
        "GRAPHQL_VALIDATION_FAILED",
    ),
    "subscription": ({"query": "subscription { __typename }"}, "GRAPHQL_VALIDATION_FAILED"),
    "variable null": ({"query": TYPE_QUERY, "variables": {"name": None}}, "BAD_USER_INPUT"),
    "variable missing": ({"query": ENROLL_VARIABLES}, "BAD_USER_INPUT"),
    "variable of the wrong type": (
        {"query": TYPE_QUERY, "variables": {"name": 5}},
        "BAD_USER_INPUT",
    ),
    "several operations, no operationName": (
        {"query": "query A { __typename } query B { __typename }"},
        "OPERATION_RESOLUTION_FAILURE",
    ),
    "operationName naming none": (
        {"query": "query A { __typename }", "operationName": "B"},
        "OPERATION_RESOLUTION_FAILURE",
    ),
    "operationName for an anonymous operation": (
        {"query": "{ __typename }", "operationName": "A"},
        "OPERATION_RESOLUTION_FAILURE",
    ),
    "no operation": (
        {"query": "fragment F on Query { __typename }"},
        "OPERATION_RESOLUTION_FAILURE",
    ),
}


@pytest.mark.parametrize("case", REQUEST_ERRORS)
def test_request_errors_by_media_type(handler: Handler, case: str) -> None:
    """application/json: 200 (the spec's legacy rule); application/graphql-response+json:
    400. Either way without `data` (nothing ran), with the step's code."""
    body, code = REQUEST_ERRORS[case]
    legacy = call(handler, json.dumps(body), headers={"accept": JSON})
    assert (legacy.status, legacy.media_type) == (200, JSON), legacy.raw
    modern = call(handler, json.dumps(body), headers={"accept": GRAPHQL_RESPONSE})
    assert (modern.status, modern.media_type) == (400, GRAPHQL_RESPONSE), modern.raw
    for reply in (legacy, modern):
        assert "data" not in reply.body
        assert set(reply.codes) == {code}, reply.raw


@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
def test_field_errors_are_200_with_data(handler: Handler, accept: str) -> None:
    reply = call(
        handler,
        json.dumps({"query": "{ program { acceptedCurrencies } }"}),
        claims=MEMBER,
        headers={"accept": accept},
    )
    assert reply.status == 200  # it ran: data is null (program is non-null), not absent
    assert reply.body["data"] is None
    assert reply.codes == ["FORBIDDEN"]


def test_several_operations_run_only_the_one_named(handler: Handler, services: Services) -> None:
    document = f"{ENROLL}\nquery Typename {{ __typename }}"
    unnamed = call(handler, json.dumps({"query": document, "variables": enroll_input("cust-9")}))
    assert unnamed.codes == ["OPERATION_RESOLUTION_FAILURE"]
    assert not enrolled(services, "cust-9")
    named = {"query": document, "variables": enroll_input("cust-9"), "operationName": "Typename"}
    assert call(handler, json.dumps(named)).body == {"data": {"__typename": "Query"}}
    assert not enrolled(services, "cust-9")
    named["operationName"] = "Enroll"
    assert call(handler, json.dumps(named)).body["data"]["enrollMember"]["__typename"] == (
        "MemberEnrolled"
    )


# --- Suggestions -----------------------------------------------------------------------------

ENROLL_LITERAL = (
    'mutation {{ enrollMember(input: {{customerId: "c", timeZone: "Europe/Paris", '
    'locale: "fr-FR", {extra}}}) {{ __typename }} }}'
)
BASE = {"customerId": "c", "timeZone": "Europe/Paris", "locale": "fr-FR"}
# Each would suggest a name of the schema: (request body, the name suggested outside prod).
SUGGESTIONS = {
    "field": ({"query": "{ mee { id } }"}, "me"),
    "mutation": ({"query": "mutation { enrolMember { __typename } }"}, "enrollMember"),
    "argument": ({"query": '{ member(customerID: "x") { id } }'}, "customerId"),
    "type in a fragment": ({"query": "{ me { ... on Membr { id } } }"}, "Member"),
    "type of a variable": ({"query": "query($x: Strin) { me { name(x: $x) } }"}, "String"),
    "enum value, literal": (
        {
            "query": ENROLL_LITERAL.format(
                extra='consents: [{channel: EMAL, granted: true, source: "x"}]'
            )
        },
        "EMAIL",
    ),
    "input field, literal": ({"query": ENROLL_LITERAL.format(extra='emial: "x"')}, "email"),
    "enum value, variable": (
        {
            "query": ENROLL_VARIABLES,
            "variables": {
                "i": {**BASE, "consents": [{"channel": "EMAL", "granted": True, "source": "x"}]}
            },
        },
        "EMAIL",
    ),
    "input field, variable": (
        {"query": ENROLL_VARIABLES, "variables": {"i": {**BASE, "emial": "x"}}},
        "email",
    ),
}


@pytest.mark.parametrize("case", SUGGESTIONS)
def test_no_suggestions_in_prod(prod: Handler, handler: Handler, case: str) -> None:
    body, suggested = SUGGESTIONS[case]
    dev = call(handler, json.dumps(body))
    assert "Did you mean" in dev.raw, dev.raw
    assert f"'{suggested}'" in dev.raw, dev.raw
    reply = call(prod, json.dumps(body))
    assert reply.body["errors"], reply.raw
    assert "Did you mean" not in reply.raw, reply.raw
    assert f"'{suggested}'" not in reply.raw, reply.raw
    assert reply.codes == dev.codes
    assert reply.codes[0] in ("GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT")


# --- Clean messages --------------------------------------------------------------------------

RECORD_VARIABLES = "mutation($i: RecordOrderInput!) { recordOrder(input: $i) { __typename } }"
ORDER = {"orderId": "o-1", "customerId": "c", "total": {"amount": "1", "currency": "EUR"}}
PYTHON_TEXT = (
    "invalid literal",
    "base 10",
    "isoformat",
    "Traceback",
    "Error:",
    "decimal.",
    "<class",
)
SCALAR_CASES: dict[str, dict[str, Any]] = {
    **{
        f"placedAt {value!r}": {"placedAt": value}
        for value in ("2026-03-01T1x:00:00Z", "2026-03-01T12:00:00+0x:00", "yesterday", 12)
    },
    **{
        f"amount {value!r}": {
            "placedAt": "2026-03-01T12:00:00Z",
            "total": {"amount": value, "currency": "EUR"},
        }
        for value in ("ten", "1..2", "--1")
    },
}


@pytest.mark.parametrize("case", SCALAR_CASES)
def test_scalar_errors_never_show_python_exceptions(handler: Handler, case: str) -> None:
    variables = {"i": {**ORDER, **SCALAR_CASES[case]}}
    reply = call(handler, json.dumps({"query": RECORD_VARIABLES, "variables": variables}))
    assert reply.codes == ["BAD_USER_INPUT"], reply.raw
    message = reply.body["errors"][0]["message"]
    assert not any(text in message for text in PYTHON_TEXT), message


@pytest.mark.parametrize("value", ['"2026-03-01T1x:00:00Z"', '"yesterday"', "12"])
def test_scalar_literals_never_show_python_exceptions(handler: Handler, value: str) -> None:
    query = (
        f'mutation {{ recordOrder(input: {{orderId: "o-1", customerId: "c", placedAt: {value}, '
        'total: {amount: "1", currency: "EUR"}}) { __typename } }'
    )
    reply = call(handler, json.dumps({"query": query}))
    assert reply.codes == ["GRAPHQL_VALIDATION_FAILED"], reply.raw
    message = reply.body["errors"][0]["message"]
    assert not any(text in message for text in PYTHON_TEXT), message


def test_clean_parse_errors() -> None:
    def strict(value: object) -> object:
        if value == "ok":
            return value
        if value == "written":
            raise GraphQLError("Thing must be written so.")
        return int(str(value))  # ValueError: invalid literal for int() with base 10

    thing = clean_parse_errors(
        ScalarDefinition(
            name="DateTime",
            description=None,
            specified_by_url=None,
            serialize=str,
            parse_value=strict,
            parse_literal=None,
        )
    )
    assert thing.parse_value is not None
    assert thing.parse_value("ok") == "ok"
    with pytest.raises(GraphQLError, match=r"^Thing must be written so\.$"):
        thing.parse_value("written")
    with pytest.raises(GraphQLError) as raised:
        thing.parse_value("1x")
    assert raised.value.message == (
        "DateTime must be an ISO 8601 date-time with an offset, "
        "e.g. \"2026-03-01T12:00:00Z\"; got '1x'."
    )


# --- Bugs ------------------------------------------------------------------------------------


def test_a_bug_before_execution_is_a_500_in_the_graphql_shape(
    services: Services, config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    def authenticate(_: Any) -> Principal:
        raise RuntimeError("secret internal detail")

    handler: Handler = lambda_adapter(create_app(services, authenticate))
    with caplog.at_level(logging.ERROR):
        reply = call(handler)
    assert_refused(reply, 500, "INTERNAL_SERVER_ERROR")
    assert reply.body["errors"][0]["extensions"]["requestId"] == "test-request-1"
    assert "secret" not in reply.raw
    assert any("secret internal detail" in str(r.exc_info) for r in caplog.records)


@pytest.mark.parametrize(("accept", "status"), [(JSON, 200), (GRAPHQL_RESPONSE_JSON, 500)])
def test_an_unmasked_bug_is_masked_at_the_end(accept: str, status: int) -> None:
    """What an extension raises before execution skips MaskUnexpectedErrors: the HTTP layer
    masks it."""
    error = GraphQLError("secret internal detail", original_error=RuntimeError("secret"))
    answer = result_answer(ExecutionResult(data=None, errors=[error]), accept, "rid-1")
    body = json.loads(answer.body)
    assert answer.status == status
    assert body == {
        "errors": [
            {
                "message": "Unexpected error.",
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "rid-1"},
            }
        ]
    }
