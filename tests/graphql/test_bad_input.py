"""Bad input gets a typed error, never a 500 or a stack trace, and writes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from api.auth import Principal, Role
from api.feedback.reviews_model import Decision, ReviewInput
from api.ids import member_id_for
from api.services import Services
from api.store.base import TableItem
from tests.graphql.conftest import (
    ADMIN,
    ENROLL,
    MEMBER,
    RECORD_ORDER,
    REDEEM,
    SERVICE,
    Invoke,
    enroll_input,
    order_input,
)
from tests.support import ADMIN as ADMIN_PRINCIPAL
from tests.support import SERVICE as SERVICE_PRINCIPAL
from tests.support import enroll, ledger_entries, order, stored_member

BIG = "x" * 100_000
FAILURE = "__typename ... on UserError { code message } ... on InvalidInput { field }"
ASK_SURVEY = "mutation($input: AskSurveyInput!) { askSurvey(input: $input) { " + FAILURE + " } }"
ANSWER_SURVEY = (
    "mutation($input: SubmitSurveyAnswerInput!) { submitSurveyAnswer(input: $input) { "
    + FAILURE
    + " } }"
)
INVITATION = f"svy_{'0' * 26}_{'0' * 16}"


def ask_with(**changes: Any) -> dict[str, Any]:
    base = {"kind": "CSAT", "channel": "EMAIL", "subject": "ORDER", "reference": "o-1"}
    return {"input": {**base, "customerId": "cust-1", "idempotencyKey": "k", **changes}}


def answer_with(**changes: Any) -> dict[str, Any]:
    return {"input": {"invitationId": INVITATION, "score": 9, "idempotencyKey": "k", **changes}}


UPDATE_NUDGE_SETTINGS = (
    "mutation($input: NudgeSettingsInput!) { updateNudgeSettings(input: $input) { "
    + FAILURE
    + " } }"
)

RESOLVE_FOLLOW_UP = """mutation($input: ResolveFollowUpInput!) {
  resolveFollowUp(input: $input) { __typename } }"""


def order_with(**changes: Any) -> dict[str, Any]:
    variables = order_input("o-new", "10.00")
    variables["input"].update(changes)
    return variables


# (mutation, variables, the union member's typename and code, or None for a GraphQL error)
UNION_CASES = {
    "negative amount": (
        RECORD_ORDER,
        order_with(total={"amount": "-5", "currency": "EUR"}),
        ("InvalidInput", "INVALID_INPUT", "total.amount"),
    ),
    "absurd amount": (
        RECORD_ORDER,
        order_with(total={"amount": "1" + "0" * 20, "currency": "EUR"}),
        ("InvalidInput", "INVALID_INPUT", "total.amount"),
    ),
    "too many decimals": (
        RECORD_ORDER,
        order_with(total={"amount": "1.999", "currency": "EUR"}),
        ("InvalidInput", "INVALID_INPUT", "total.amount"),
    ),
    "unknown currency": (
        RECORD_ORDER,
        order_with(total={"amount": "1", "currency": "ZZZ"}),
        ("InvalidInput", "UNSUPPORTED_CURRENCY", "total.currency"),
    ),
    "unknown member": (
        RECORD_ORDER,
        order_with(customerId="nobody"),
        ("MemberNotFound", "MEMBER_NOT_FOUND", None),
    ),
    "malformed member id": (
        RECORD_ORDER,
        order_with(customerId=None, memberId="mbr_x"),
        ("InvalidInput", "INVALID_INPUT", "memberId"),
    ),
    "both member and customer": (
        RECORD_ORDER,
        order_with(memberId=member_id_for("cust-1")),
        ("InvalidInput", "INVALID_INPUT", "memberId"),
    ),
    "malformed order id": (
        RECORD_ORDER,
        order_with(orderId="o 1; DROP TABLE"),
        ("InvalidInput", "INVALID_INPUT", "orderId"),
    ),
    "oversized order id": (
        RECORD_ORDER,
        order_with(orderId=BIG),
        ("InvalidInput", "INVALID_INPUT", "orderId"),
    ),
    **{
        f"placedAt {value}": (
            RECORD_ORDER,
            order_with(placedAt=value),
            ("InvalidInput", "INVALID_INPUT", "placedAt"),
        )
        for value in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00")
    },
    **{
        f"time zone {zone!r}": (
            ENROLL,
            enroll_input("cust-3", timeZone=zone),
            ("InvalidInput", "INVALID_INPUT", "timeZone"),
        )
        for zone in ("America", "Etc", "America/", "posix/Europe/Paris", "localtime", "zone.tab")
    },
    **{
        f"email {email!r}": (
            ENROLL,
            enroll_input("cust-3", email=email),
            ("InvalidInput", "INVALID_INPUT", "email"),
        )
        for email in (
            "a\x00b@example.com",
            "a\x1bb@example.com",
            "evil\u202emoc.elgoog@example.com",
            "\ud800@example.com",
            " alice@example.com ",
            "alice@exämple.com",
            "al..ice@example.com",
        )
    },
    "name with a lone surrogate": (
        ENROLL,
        enroll_input("cust-3", name="Al\udcffce"),
        ("InvalidInput", "INVALID_INPUT", "name"),
    ),
    "consent given in year 1": (
        ENROLL,
        enroll_input(
            "cust-3",
            consents=[
                {
                    "channel": "EMAIL",
                    "granted": True,
                    "source": "x",
                    "givenAt": "0001-01-01T00:00:00Z",
                }
            ],
        ),
        ("InvalidInput", "INVALID_INPUT", "consents[0].givenAt"),
    ),
    "oversized line sku": (
        RECORD_ORDER,
        order_with(lines=[{"sku": BIG, "quantity": 1, "unitPrice": "1"}]),
        ("InvalidInput", "INVALID_INPUT", "lines[0].sku"),
    ),
    "zero quantity": (
        RECORD_ORDER,
        order_with(lines=[{"sku": "A", "quantity": 0, "unitPrice": "1"}]),
        ("InvalidInput", "INVALID_INPUT", "lines[0].quantity"),
    ),
    "invalid time zone": (
        ENROLL,
        enroll_input("cust-3", timeZone="Nowhere/Land"),
        ("InvalidInput", "INVALID_INPUT", "timeZone"),
    ),
    "oversized name": (
        ENROLL,
        enroll_input("cust-3", name=BIG),
        ("InvalidInput", "INVALID_INPUT", "name"),
    ),
    "zero points": (
        REDEEM,
        {"input": {"customerId": "cust-1", "points": 0, "reference": "r", "idempotencyKey": "k"}},
        ("InvalidInput", "INVALID_INPUT", "points"),
    ),
    "oversized reason": (
        REDEEM,
        {
            "input": {
                "customerId": "cust-1",
                "points": 1,
                "reference": "r",
                "idempotencyKey": "k",
                "reason": BIG,
            }
        },
        ("InvalidInput", "INVALID_INPUT", "reason"),
    ),
    "more points than available": (
        REDEEM,
        {
            "input": {
                "customerId": "cust-1",
                "points": 10**9,
                "reference": "r",
                "idempotencyKey": "k",
            }
        },
        ("InsufficientPoints", "INSUFFICIENT_POINTS", None),
    ),
    "survey: NPS about an order": (
        ASK_SURVEY,
        ask_with(kind="NPS"),
        ("InvalidInput", "INVALID_INPUT", "subject"),
    ),
    "survey: CSAT about nothing": (
        ASK_SURVEY,
        ask_with(subject=None, reference=None),
        ("InvalidInput", "INVALID_INPUT", "subject"),
    ),
    **{
        f"survey reference {value[:12]!r}": (
            ASK_SURVEY,
            ask_with(reference=value),
            ("InvalidInput", "INVALID_INPUT", "reference"),
        )
        for value in ("", " o-1", "o\x00", "o\u202e1", "\ud800", BIG)
    },
    "survey: unknown member": (
        ASK_SURVEY,
        ask_with(customerId="nobody"),
        ("MemberNotFound", "MEMBER_NOT_FOUND", None),
    ),
    "survey: both member and customer": (
        ASK_SURVEY,
        ask_with(memberId=member_id_for("cust-1")),
        ("InvalidInput", "INVALID_INPUT", "memberId"),
    ),
    "survey: unknown order": (
        ASK_SURVEY,
        ask_with(reference="o-404"),
        ("OrderNotFound", "ORDER_NOT_FOUND", None),
    ),
    **{
        f"survey answer score {score}": (
            ANSWER_SURVEY,
            answer_with(score=score),
            ("InvalidInput", "INVALID_INPUT", "score"),
        )
        for score in (-1, 11, -(2**31), 2**31 - 1)
    },
    **{
        f"survey comment {value[:12]!r}": (
            ANSWER_SURVEY,
            answer_with(comment=value),
            ("InvalidInput", "INVALID_INPUT", "comment"),
        )
        for value in ("a\x1bb", "\u200b", "\udcff", BIG)
    },
    **{
        f"survey invitation {value[:12]!r}": (
            ANSWER_SURVEY,
            answer_with(invitationId=value),
            ("InvalidInput", "INVALID_INPUT", "invitationId"),
        )
        for value in ("", "svy_", INVITATION + "\n", INVITATION.upper(), BIG)
    },
    "survey: unknown invitation": (
        ANSWER_SURVEY,
        answer_with(),
        ("NotFound", "NOT_FOUND", None),
    ),
}

GRAPHQL_ERROR_CASES = {
    "amount not a number": (RECORD_ORDER, order_with(total={"amount": "ten", "currency": "EUR"})),
    **{
        f"amount {amount!r}": (
            RECORD_ORDER,
            order_with(total={"amount": amount, "currency": "EUR"}),
        )
        for amount in (
            "1_000",
            "  12.5  ",
            "\u0661\u0662",
            "\uff11\uff12",
            "1e3",
            "NaN",
            "Infinity",
            "012",
            ".5",
            12.5,
        )
    },
    "placedAt not a date": (RECORD_ORDER, order_with(placedAt="yesterday")),
    **{
        f"placedAt {value!r}": (RECORD_ORDER, order_with(placedAt=value))
        for value in (
            "2026-03-01T12:00:00",
            "2026-03-01",
            "20260301T120000Z",
            "2026-W09",
            "2026-03-01T1x:00:00Z",
            "2026-02-30T12:00:00Z",
            "2026-03-01T12:00:00+24:00",
            "\u0662\u0660\u0662\u0666-03-01T12:00:00Z",
        )
    },
    "points beyond Int": (
        REDEEM,
        {
            "input": {
                "customerId": "cust-1",
                "points": 2**31,
                "reference": "r",
                "idempotencyKey": "k",
            }
        },
    ),
    "points as a string": (
        REDEEM,
        {"input": {"customerId": "cust-1", "points": "5", "reference": "r", "idempotencyKey": "k"}},
    ),
    "survey score beyond Int": (ANSWER_SURVEY, answer_with(score=2**31)),
    "survey score with a fraction": (ANSWER_SURVEY, answer_with(score=9.5)),
    "survey score as a string": (ANSWER_SURVEY, answer_with(score="9")),
    "survey of an unknown kind": (ASK_SURVEY, ask_with(kind="CES")),
    "survey scores on 30 February": (
        '{ surveyScores(kind: NPS, from: "2026-02-30", to: "2026-03-01") { total { nps } } }',
        None,
    ),
    "survey scores in year 0": (
        '{ surveyScores(kind: NPS, from: "0000-01-01", to: "2026-03-01") { total { nps } } }',
        None,
    ),
    "goodwill points beyond Int": (
        RESOLVE_FOLLOW_UP,
        {"input": {"id": "fu_ans_1", "note": "n", "goodwillPoints": 2**31, "idempotencyKey": "k"}},
    ),
    "goodwill points as a string": (
        RESOLVE_FOLLOW_UP,
        {"input": {"id": "fu_ans_1", "note": "n", "goodwillPoints": "5", "idempotencyKey": "k"}},
    ),
    "unknown follow-up listing": ("{ followUps(status: LATE) { edges { cursor } } }", None),
    **{
        f"unsubscribeLink {case}": (f"{{ unsubscribeLink({args}) {{ url }} }}", None)
        for case, args in (
            ("without a member", "channel: EMAIL"),
            ("with two members", 'channel: SMS, customerId: "cust-1", memberId: "mbr_1"'),
            ("for a malformed member id", 'channel: PUSH, memberId: "cust-1"'),
            ("for a malformed customer id", f'channel: EMAIL, customerId: "{"x" * 300}"'),
            ("for an unknown channel", 'channel: FAX, customerId: "cust-1"'),
            ("without a channel", 'customerId: "cust-1"'),
        )
    },
    **{
        f"updateNudgeSettings {case}": (UPDATE_NUDGE_SETTINGS, {"input": value})
        for case, value in (
            ("with an unknown kind", {"triggers": [{"kind": "GHOSTING"}]}),
            ("with an unknown channel", {"triggers": [{"kind": "BIRTHDAY", "channels": ["FAX"]}]}),
            ("with half the quiet hours", {"quietHours": {"start": "21:00"}}),
            ("with a float percent", {"holdout": {"percent": 2.5}}),
            ("with a count beyond Int", {"caps": [{"maxCount": 2**31, "windowHours": 1}]}),
        )
    },
    "registerDevice on an unknown platform": (
        'mutation { registerDevice(platform: WINDOWS, token: "t") { __typename } }',
        None,
    ),
    "registerDevice without a token": (
        "mutation { registerDevice(platform: IOS) { __typename } }",
        None,
    ),
    "registerDevice with a numeric token": (
        "mutation($t: String!) { registerDevice(platform: IOS, token: $t) { __typename } }",
        {"t": 42},
    ),
    "missing required field": (RECORD_ORDER, {"input": {"orderId": "o-new"}}),
    "missing variables": (RECORD_ORDER, None),
    "syntax error": ("mutation { recordOrder(input: {", None),
    "unknown field": ("{ me { password } }", None),
    "helpful not a Boolean": (
        'mutation($h: Boolean!) { voteReview(reviewId: "rev_x", helpful: $h) { __typename } }',
        {"h": "yes"},
    ),
    "unknown enum value": (
        ENROLL,
        enroll_input(
            "cust-3", consents=[{"channel": "CARRIER_PIGEON", "granted": True, "source": "x"}]
        ),
    ),
}

RAW_BODIES = {
    "not JSON": "{query: me}",
    "empty body": "",
    "JSON array": "[1, 2, 3]",
    "query not a string": json.dumps({"query": 42}),
    "null query": json.dumps({"query": None}),
    "variables not an object": json.dumps({"query": "{ me { id } }", "variables": "x"}),
}


@pytest.fixture
def seeded(services: Services) -> Any:
    enroll(services, "cust-1")
    order(services, "o-1", "100")

    def snapshot() -> Any:
        member_id = member_id_for("cust-1")
        return (
            stored_member(member_id).version,
            len(ledger_entries(member_id)),
            services.orders.get_order(ADMIN_PRINCIPAL, "o-new"),
            services.member_views.view(SERVICE_PRINCIPAL, member_id_for("cust-3"), None),
        )

    return snapshot


@pytest.mark.parametrize("case", UNION_CASES)
def test_expected_failures_are_union_members_with_codes(
    invoke: Invoke, seeded: Any, case: str
) -> None:
    document, variables, (typename, code, field) = UNION_CASES[case]
    before = seeded()
    response = invoke(document, variables, SERVICE)
    assert response.status == 200
    result = next(iter(response.data.values()))
    assert result["__typename"] == typename, response.raw
    assert result["code"] == code
    assert result["message"]
    assert result.get("field") == field
    assert seeded() == before


@pytest.mark.parametrize("case", GRAPHQL_ERROR_CASES)
def test_malformed_requests_are_graphql_errors(invoke: Invoke, seeded: Any, case: str) -> None:
    document, variables = GRAPHQL_ERROR_CASES[case]
    before = seeded()
    response = invoke(document, variables, SERVICE)
    assert response.status in (200, 400)
    errors = response.body["errors"]
    assert errors
    assert all(e["message"] and "Unexpected" not in e["message"] for e in errors)
    assert all(e.get("extensions", {}).get("code") for e in errors), errors
    assert "Traceback" not in response.raw
    assert "invalid literal" not in response.raw
    assert seeded() == before


@pytest.mark.parametrize("case", RAW_BODIES)
def test_malformed_bodies_are_client_errors(invoke: Invoke, seeded: Any, case: str) -> None:
    before = seeded()
    response = invoke("", None, SERVICE, raw_body=RAW_BODIES[case])
    assert 400 <= response.status < 500, response.raw
    assert "Traceback" not in response.raw
    assert seeded() == before


VOTE = """mutation($id: ID!) { voteReview(reviewId: $id, helpful: true) {
  __typename ... on UserError { code message } ... on InvalidInput { field } } }"""
WITHDRAW_VOTE = """mutation($id: ID!) { withdrawReviewVote(reviewId: $id) {
  __typename ... on UserError { code message } ... on InvalidInput { field } } }"""
REGISTER_DEVICE = """mutation($token: String!) { registerDevice(platform: ANDROID, token: $token) {
  __typename ... on UserError { code message } ... on InvalidInput { field } } }"""
UNREGISTER_DEVICE = """mutation($token: String!) { unregisterDevice(token: $token) {
  __typename ... on UserError { code message } ... on InvalidInput { field } } }"""
OWN, PENDING = (f"rev_{member_id_for(c).removeprefix('mbr_')}_sku-1" for c in ("cust-1", "cust-2"))

# Member operations (as cust-1, whose review of sku-1 is approved; cust-2's is pending).
MEMBER_UNION_CASES = {
    **{
        f"{name}: review id {rid!r}": (
            doc,
            {"id": rid},
            ("InvalidInput", "INVALID_INPUT", "reviewId"),
        )
        for name, doc in (("vote", VOTE), ("withdraw", WITHDRAW_VOTE))
        for rid in ("", "rev_x", OWN + "\x00", OWN + "\u202e", f"rev_{'0' * 26}_bad sku", BIG)
    },
    **{
        f"{name}: token {token[:12]!r}": (
            doc,
            {"token": token},
            ("InvalidInput", "INVALID_INPUT", "token"),
        )
        for name, doc in (
            ("register device", REGISTER_DEVICE),
            ("unregister device", UNREGISTER_DEVICE),
        )
        for token in ("", "a b", "tok\x00", "t\u00f6k", "\u200b", BIG)
    },
    "register device: push not set up": (
        REGISTER_DEVICE,
        {"token": "a1b2c3"},
        ("PushNotConfigured", "PUSH_NOT_CONFIGURED", None),
    ),
    "vote: own review": (VOTE, {"id": OWN}, ("InvalidInput", "OWN_REVIEW", "reviewId")),
    "vote: a pending review": (VOTE, {"id": PENDING}, ("NotFound", "NOT_FOUND", None)),
    "withdraw: a pending review": (WITHDRAW_VOTE, {"id": PENDING}, ("NotFound", "NOT_FOUND", None)),
    "vote: no such review": (
        VOTE,
        {"id": f"rev_{'0' * 26}_sku-1"},
        ("NotFound", "NOT_FOUND", None),
    ),
}


@pytest.mark.parametrize("case", MEMBER_UNION_CASES)
def test_member_failures_are_union_members_with_codes(
    invoke: Invoke, services: Services, case: str
) -> None:
    for customer in ("cust-1", "cust-2"):
        enroll(services, customer)
        who = Principal(Role.MEMBER, member_id_for(customer), member_id_for(customer))
        services.reviews.submit(who, ReviewInput("sku-1", 4, "T", "B"), "k")
    services.reviews.moderate(ADMIN_PRINCIPAL, OWN, Decision.APPROVE, None)
    document, variables, (typename, code, field) = MEMBER_UNION_CASES[case]
    before = TableItem._get_connection().scan()["Items"]
    response = invoke(document, variables, MEMBER)
    assert response.status == 200
    result = next(iter(response.data.values()))
    assert result["__typename"] == typename, response.raw
    assert (result["code"], result.get("field")) == (code, field)
    assert result["message"]
    assert TableItem._get_connection().scan()["Items"] == before


SAVE_TEMPLATE = (
    "mutation($input: NudgeTemplateInput!) { saveNudgeTemplate(input: $input) { " + FAILURE + " } }"
)
DELETE_TEMPLATE = (
    "mutation($kind: NudgeKind!, $name: String!, $locale: String!) { "
    "deleteNudgeTemplate(kind: $kind, name: $name, locale: $locale) { " + FAILURE + " } }"
)
PREVIEW = (
    "query($id: ID!, $kind: NudgeKind!, $channel: Channel!, $name: String, $locale: String) { "
    "nudgePreview(memberId: $id, kind: $kind, channel: $channel, name: $name, "
    "locale: $locale) { text } }"
)


def template_with(**changes: Any) -> dict[str, Any]:
    base = {
        "kind": "POINTS_EXPIRING",
        "name": "points-expiring",
        "locale": "en",
        "emailSubject": "{{ points|number }} points",
        "emailHtml": '<p>{{ points|number }} <a href="{{ links.unsubscribe }}">Stop</a></p>',
        "emailText": "{{ points|number }} {{ links.unsubscribe }}",
        "smsText": "{{ points|number }} {{ links.unsubscribe }}",
        "pushTitle": "Points",
        "pushBody": "{{ points|number }} points",
    }
    return {"input": {**base, **changes}}


def preview_with(**changes: Any) -> dict[str, Any]:
    return {"id": member_id_for("cust-1"), "kind": "BIRTHDAY", "channel": "EMAIL", **changes}


# Admin operations: (mutation, variables, the union member's typename, code and field).
ADMIN_UNION_CASES: dict[str, tuple[str, dict[str, Any], tuple[str, str, str | None]]] = {
    **{
        f"nudge settings: {case}": (
            UPDATE_NUDGE_SETTINGS,
            {"input": value},
            ("InvalidInput", "INVALID_INPUT", field),
        )
        for case, value, field in (
            (
                "days out of range",
                {"triggers": [{"kind": "WIN_BACK", "days": 2}]},
                "triggers.WIN_BACK.days",
            ),
            (
                "percent on the wrong kind",
                {"triggers": [{"kind": "BIRTHDAY", "percent": "5"}]},
                "triggers.BIRTHDAY.percent",
            ),
            (
                "a template path",
                {"triggers": [{"kind": "BIRTHDAY", "template": "../x"}]},
                "triggers.BIRTHDAY.template",
            ),
            (
                "no channels",
                {"triggers": [{"kind": "BIRTHDAY", "channels": []}]},
                "triggers.BIRTHDAY.channels",
            ),
            (
                "quiet hours 9:00",
                {"quietHours": {"start": "9:00", "end": "08:00"}},
                "quietHours.start",
            ),
            (
                "quiet hours start == end",
                {"quietHours": {"start": "08:00", "end": "08:00"}},
                "quietHours.end",
            ),
            (
                "cap window over 365 days",
                {"caps": [{"maxCount": 1, "windowHours": 2**31 - 1}]},
                "caps[0].windowHours",
            ),
            ("holdout 51 %", {"holdout": {"percent": "51"}}, "holdout.percent"),
            ("attribution 91 days", {"attributionDays": 91}, "attributionDays"),
            (
                "staleness 0 hours",
                {"staleness": [{"kind": "BIRTHDAY", "hours": 0}]},
                "staleness.BIRTHDAY",
            ),
        )
    },
    "nudge settings: a stale version": (
        UPDATE_NUDGE_SETTINGS,
        {"input": {"expectedVersion": 7, "attributionDays": 3}},
        ("VersionConflict", "VERSION_CONFLICT", None),
    ),
    "template: syntax error": (
        SAVE_TEMPLATE,
        template_with(emailHtml="<p>\n{{ points|number }\n</p>"),
        ("InvalidInput", "INVALID_INPUT", "emailHtml"),
    ),
    **{
        f"template: {what}": (
            SAVE_TEMPLATE,
            template_with(emailText=source),
            ("InvalidInput", "INVALID_INPUT", "emailText"),
        )
        for what, source in (
            ("include", "{% include 'x' %}"),
            ("import", "{% import 'x' as y %}"),
            ("set", "{% set x = 1 %}"),
            ("call", "{{ shop_name.upper() }}"),
            ("dunder", "{{ links.__class__ }}"),
            ("attr filter", "{{ links|attr('x') }}"),
            ("text times a billion", "{{ shop_name * 1000000000 }}"),
            ("power", "{{ 9 ** 999999 }}"),
            ("unknown variable", "{{ secret }}"),
            ("a value of another kind", "{{ reward }}"),
            ("empty", ""),
            ("oversized", BIG),
        )
    },
    "template: script": (
        SAVE_TEMPLATE,
        template_with(emailHtml="<script>alert(1)</script>"),
        ("InvalidInput", "INVALID_INPUT", "emailHtml"),
    ),
    "template: tracking pixel": (
        SAVE_TEMPLATE,
        template_with(emailHtml='<img src="https://t.example/p.gif">'),
        ("InvalidInput", "INVALID_INPUT", "emailHtml"),
    ),
    "template: SMS too long once rendered": (
        SAVE_TEMPLATE,
        template_with(smsText="{{ links.unsubscribe }}" * 6),
        ("InvalidInput", "INVALID_INPUT", "smsText"),
    ),
    **{
        f"template name {value[:12]!r}": (
            SAVE_TEMPLATE,
            template_with(name=value),
            ("InvalidInput", "INVALID_INPUT", "name"),
        )
        for value in ("", "a b", "a#b", "\u00e9t\u00e9", BIG)
    },
    **{
        f"template locale {value[:12]!r}": (
            SAVE_TEMPLATE,
            template_with(locale=value),
            ("InvalidInput", "INVALID_INPUT", "locale"),
        )
        for value in ("", "english", "fr_FR", "fr-ca", BIG)
    },
    "template: a version never saved": (
        SAVE_TEMPLATE,
        template_with(version=3),
        ("InvalidInput", "INVALID_INPUT", "version"),
    ),
    "template: a negative version": (
        SAVE_TEMPLATE,
        template_with(version=-1),
        ("InvalidInput", "INVALID_INPUT", "version"),
    ),
    "delete: nothing saved": (
        DELETE_TEMPLATE,
        {"kind": "BIRTHDAY", "name": "birthday", "locale": "en"},
        ("NotFound", "NOT_FOUND", None),
    ),
    "delete: bad name": (
        DELETE_TEMPLATE,
        {"kind": "BIRTHDAY", "name": BIG, "locale": "en"},
        ("InvalidInput", "INVALID_INPUT", "name"),
    ),
    "delete: bad locale": (
        DELETE_TEMPLATE,
        {"kind": "BIRTHDAY", "name": "birthday", "locale": "x"},
        ("InvalidInput", "INVALID_INPUT", "locale"),
    ),
}


@pytest.mark.parametrize("case", ADMIN_UNION_CASES)
def test_admin_failures_are_union_members_with_codes(
    invoke: Invoke, seeded: Any, case: str
) -> None:
    document, variables, (typename, code, field) = ADMIN_UNION_CASES[case]
    before = TableItem._get_connection().scan()["Items"]
    response = invoke(document, variables, ADMIN)
    assert response.status == 200
    result = next(iter(response.data.values()))
    assert result["__typename"] == typename, response.raw
    assert (result["code"], result.get("field")) == (code, field)
    assert result["message"]
    assert TableItem._get_connection().scan()["Items"] == before


# Admins' reads and malformed arguments: (document, variables, the error's code and field).
ADMIN_ERROR_CASES = {
    "preview: unknown member": (
        PREVIEW,
        preview_with(id=member_id_for("cust-404")),
        ("MEMBER_NOT_FOUND", None),
    ),
    "preview: malformed member id": (
        PREVIEW,
        preview_with(id="cust-1"),
        ("INVALID_INPUT", "memberId"),
    ),
    "preview: bad template name": (PREVIEW, preview_with(name="a b"), ("INVALID_INPUT", "name")),
    "preview: bad locale": (PREVIEW, preview_with(locale=BIG), ("INVALID_INPUT", "locale")),
    "preview: unknown kind": (PREVIEW, preview_with(kind="JACKPOT"), ("BAD_USER_INPUT", None)),
    "preview: unknown channel": (PREVIEW, preview_with(channel="FAX"), ("BAD_USER_INPUT", None)),
    "templates: unknown kind": (
        "{ nudgeTemplates(kind: JACKPOT) { name } }",
        None,
        ("GRAPHQL_VALIDATION_FAILED", None),
    ),
    "template: version beyond Int": (
        SAVE_TEMPLATE,
        template_with(version=2**31),
        ("BAD_USER_INPUT", None),
    ),
    "memberNudges: malformed member id": (
        '{ memberNudges(memberId: "cust-1") { edges { cursor } } }',
        None,
        ("INVALID_INPUT", "memberId"),
    ),
    "memberNudges: a cursor of nothing": (
        f'{{ memberNudges(memberId: "{member_id_for("cust-1")}", after: "bm9wZQ") '
        "{ edges { cursor } } }",
        None,
        ("INVALID_INPUT", "after"),
    ),
    "memberNudges: first 0": (
        f'{{ memberNudges(memberId: "{member_id_for("cust-1")}", first: 0) '
        "{ edges { cursor } } }",
        None,
        ("INVALID_INPUT", "first"),
    ),
    "nudges: a huge cursor": (
        '{ nudges(kind: BIRTHDAY, after: "%s") { edges { cursor } } }' % ("A" * 5000),
        None,
        ("INVALID_INPUT", "after"),
    ),
    "nudgeLift: to before from": (
        '{ nudgeLift(kind: BIRTHDAY, from: "2026-03-02", to: "2026-03-01") { treated } }',
        None,
        ("INVALID_INPUT", "to"),
    ),
    "nudgeLift: over a year": (
        '{ nudgeLift(kind: BIRTHDAY, from: "2020-01-01", to: "2026-03-01") { treated } }',
        None,
        ("INVALID_INPUT", "to"),
    ),
    "nudgeLift: not a date": (
        '{ nudgeLift(kind: BIRTHDAY, from: "2026-02-30", to: "2026-03-01") { treated } }',
        None,
        ("GRAPHQL_VALIDATION_FAILED", None),
    ),
    "explainNudges: first 1000": (
        "{ explainNudges(kind: BIRTHDAY, first: 1000) { outcome } }",
        None,
        ("INVALID_INPUT", "first"),
    ),
    "template: a part missing": (
        SAVE_TEMPLATE,
        {"input": {k: v for k, v in template_with()["input"].items() if k != "smsText"}},
        ("BAD_USER_INPUT", None),
    ),
}


@pytest.mark.parametrize("case", ADMIN_ERROR_CASES)
def test_admin_reads_refuse_bad_input_with_codes(
    invoke: Invoke, services: Services, case: str
) -> None:
    enroll(services, "cust-1")
    document, variables, (code, field) = ADMIN_ERROR_CASES[case]
    before = TableItem._get_connection().scan()["Items"]
    response = invoke(document, variables, ADMIN)
    assert response.status in (200, 400)
    (error,) = response.body["errors"]
    assert error["message"]
    assert "Unexpected" not in error["message"]
    assert (error["extensions"].get("code"), error["extensions"].get("field")) == (code, field)
    assert TableItem._get_connection().scan()["Items"] == before
