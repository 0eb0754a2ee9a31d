"""Surveys through the API: the app asks its member NPS, the shop asks by email and about a
support contact, members answer once, admins read the scores. Refusals write nothing."""

from __future__ import annotations

from typing import Any

import pytest

from api.services import Services
from api.store.base import TableItem
from tests.graphql.conftest import ADMIN, MEMBER, OTHER_MEMBER, SERVICE, Invoke
from tests.support import enroll, order

ASKED = """
    __typename
    ... on SurveyAsked { nextAskAt invitation { id memberId kind channel subject reference
                                                askedAt expiresAt } }
    ... on SurveyNotDue { reason nextAskAt }
    ... on UserError { code message }
    ... on InvalidInput { field }
"""
ASK = "mutation($input: AskSurveyInput!) { askSurvey(input: $input) {" + ASKED + "} }"
ANSWERED = """
    __typename
    ... on SurveyAnswered { answer { id memberId kind score comment channel answeredAt tierId
                                     subject reference } }
    ... on UserError { code message }
    ... on InvalidInput { field }
"""
ANSWER = (
    "mutation($input: SubmitSurveyAnswerInput!) { submitSurveyAnswer(input: $input) {"
    + ANSWERED
    + "} }"
)
SCORES = """query($kind: SurveyKind!, $from: Date!, $to: Date!, $tier: String) {
  surveyScores(kind: $kind, from: $from, to: $to, tierId: $tier) {
    kind
    total { count histogram average promoters passives detractors satisfied nps csatPercent }
    byTier { tierId scores { count nps } } } }"""
ADVANCE = "mutation($days: Int!) { advanceTestClock(input: {days: $days}) { __typename } }"
TODAY = "2026-03-01"  # the test clock's start


@pytest.fixture(autouse=True)
def members(services: Services) -> None:
    enroll(services, "cust-1")
    enroll(services, "cust-2")
    order(services, "o-1", "20")


def snapshot() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = TableItem._get_connection().scan()["Items"]
    return found


def ask(invoke: Invoke, claims: Any = MEMBER, key: str = "k", **fields: Any) -> Any:
    data = {"kind": "NPS", "channel": "APP", "idempotencyKey": key, **fields}
    response = invoke(ASK, {"input": data}, claims)
    assert response.body.get("errors") is None, response.raw
    return response.data["askSurvey"]


def answer(invoke: Invoke, invitation: str, score: int, claims: Any = MEMBER, **more: Any) -> Any:
    data = {"invitationId": invitation, "score": score, "idempotencyKey": "k", **more}
    response = invoke(ANSWER, {"input": data}, claims)
    assert response.body.get("errors") is None, response.raw
    return response.data["submitSurveyAnswer"]


def scores(invoke: Invoke, kind: str = "NPS", **more: Any) -> Any:
    variables = {"kind": kind, "from": TODAY, "to": TODAY, **more}
    return invoke(SCORES, variables, ADMIN)


def test_ask_answer_and_score(invoke: Invoke) -> None:
    asked = ask(invoke)
    assert asked["__typename"] == "SurveyAsked"
    invitation = asked["invitation"]
    assert (invitation["kind"], invitation["channel"], invitation["subject"]) == (
        "NPS",
        "APP",
        None,
    )
    assert asked["nextAskAt"] == "2026-05-30T12:00:00+00:00"  # 90 days on
    assert ask(invoke) == asked  # a double tap: the same invitation
    # Keys are the member's, whoever asks: the shop uses its own.
    by_email = ask(invoke, SERVICE, "shop-1", channel="EMAIL", customerId="cust-1")
    assert by_email == {
        "__typename": "SurveyNotDue",
        "reason": "RECENTLY_ASKED",
        "nextAskAt": "2026-05-30T12:00:00+00:00",
    }
    given = answer(invoke, invitation["id"], 6, comment="Late twice.")
    assert given["__typename"] == "SurveyAnswered"
    assert {k: given["answer"][k] for k in ("kind", "score", "comment", "channel", "tierId")} == {
        "kind": "NPS",
        "score": 6,
        "comment": "Late twice.",
        "channel": "APP",
        "tierId": None,
    }
    assert answer(invoke, invitation["id"], 6, comment="Late twice.") == given  # a replay
    assert answer(invoke, invitation["id"], 7)["code"] == "IDEMPOTENCY_CONFLICT"
    twice = answer(invoke, invitation["id"], 7, idempotencyKey="k2")
    assert (twice["code"], twice["field"]) == ("INVALID_INPUT", "invitationId")

    support = ask(
        invoke,
        SERVICE,
        kind="CSAT",
        channel="EMAIL",
        subject="SUPPORT",
        reference="ticket-42",
        customerId="cust-2",
    )
    relayed = answer(invoke, support["invitation"]["id"], 5, SERVICE, idempotencyKey="shop-1")
    assert (relayed["answer"]["subject"], relayed["answer"]["reference"]) == (
        "SUPPORT",
        "ticket-42",
    )
    own_order = ask(invoke, key="k3", kind="CSAT", channel="WEB", subject="ORDER", reference="o-1")
    unhappy = answer(invoke, own_order["invitation"]["id"], 2, idempotencyKey="k3")
    assert unhappy["answer"]["score"] == 2

    nps = scores(invoke).data["surveyScores"]
    assert nps["total"] == {
        "count": 1,
        "histogram": [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0],
        "average": 6.0,
        "promoters": 0,
        "passives": 0,
        "detractors": 1,
        "satisfied": 0,
        "nps": -100.0,
        "csatPercent": None,
    }
    assert nps["byTier"] == [{"tierId": None, "scores": {"count": 1, "nps": -100.0}}]
    csat = scores(invoke, "CSAT").data["surveyScores"]["total"]
    assert (csat["count"], csat["histogram"], csat["csatPercent"]) == (2, [0, 1, 0, 0, 1], 50.0)
    assert csat["satisfied"] == 1


def test_the_test_clock_drives_recontact_and_expiry(invoke: Invoke) -> None:
    invitation = ask(invoke)["invitation"]["id"]
    assert invoke(ADVANCE, {"days": 30}, ADMIN).data["advanceTestClock"]["__typename"] == (
        "TestClockAdvanced"
    )
    closed = answer(invoke, invitation, 9)
    assert (closed["code"], closed["field"]) == ("INVALID_INPUT", "invitationId")
    assert ask(invoke, key="k2")["reason"] == "RECENTLY_ASKED"
    invoke(ADVANCE, {"days": 60}, ADMIN)
    assert ask(invoke, key="k3")["__typename"] == "SurveyAsked"


def test_settings_through_the_api(invoke: Invoke) -> None:
    update = """mutation { updateProgram(input: {surveys: {recontactDays: 7, npsSamplePercent: 0}})
      { __typename ... on ProgramUpdated { program { surveys { recontactDays npsSamplePercent
        csatSamplePercent followUpHours } } } } }"""
    updated = invoke(update, None, ADMIN).data["updateProgram"]
    assert updated["program"]["surveys"] == {
        "recontactDays": 7,
        "npsSamplePercent": 0,
        "csatSamplePercent": 100,
        "followUpHours": 48,
    }
    assert ask(invoke) == {
        "__typename": "SurveyNotDue",
        "reason": "NOT_SAMPLED",
        "nextAskAt": "2026-03-08T12:00:00+00:00",
    }


def test_members_act_only_for_themselves(invoke: Invoke) -> None:
    invitation = ask(invoke)["invitation"]["id"]
    before = snapshot()
    theirs = answer(invoke, invitation, 10, OTHER_MEMBER)
    assert theirs["code"] == "NOT_FOUND"
    for fields in (
        {"customerId": "cust-2"},
        {"kind": "CSAT", "subject": "SUPPORT", "reference": "t-1"},
    ):
        refused = ask(invoke, key="k9", **fields)
        assert refused["__typename"] == "InvalidInput", refused
    other_order = ask(invoke, OTHER_MEMBER, kind="CSAT", subject="ORDER", reference="o-1")
    assert other_order["code"] == "ORDER_NOT_FOUND"
    assert snapshot() == before


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
        ({"from": "0001-01-01", "to": "9999-12-31"}, "to"),
        ({"from": "2025-01-01", "to": "2026-01-02"}, "to"),
        ({"tier": "a b"}, "tierId"),
        ({"tier": "\u0000"}, "tierId"),
    ],
)
def test_bad_score_queries_are_coded(invoke: Invoke, variables: dict[str, Any], field: str) -> None:
    response = scores(invoke, **variables)
    assert response.error_codes == ["INVALID_INPUT"], response.raw
    assert response.body["errors"][0]["extensions"]["field"] == field


def test_the_calendars_ends_are_fine(invoke: Invoke) -> None:
    for first, last in (("0001-01-01", "0001-01-01"), ("9999-01-01", "9999-12-31")):
        response = scores(invoke, **{"from": first, "to": last})
        assert response.data["surveyScores"]["total"]["count"] == 0, response.raw


@pytest.mark.parametrize("score", ["NaN", 9.5, "9", None, 2**31])
def test_a_score_that_is_not_an_int_is_refused_by_the_schema(invoke: Invoke, score: Any) -> None:
    invitation = ask(invoke)["invitation"]["id"]
    before = snapshot()
    data = {"invitationId": invitation, "score": score, "idempotencyKey": "k"}
    assert invoke(ANSWER, {"input": data}).error_codes == ["BAD_USER_INPUT"]
    assert snapshot() == before


DUE = "{ me { surveysDue { nps { due reason nextAskAt } } } }"
ANSWERS = """query($kind: SurveyKind!, $from: Date!, $to: Date!, $first: Int!, $after: String) {
  surveyAnswers(kind: $kind, from: $from, to: $to, first: $first, after: $after) {
    edges { cursor node { id memberId score comment channel answeredAt } }
    pageInfo { hasNextPage endCursor } } }"""


def test_the_app_reads_whether_nps_is_due_then_asks(invoke: Invoke) -> None:
    due = invoke(DUE).data["me"]["surveysDue"]["nps"]
    assert due == {"due": True, "reason": None, "nextAskAt": None}
    invitation = ask(invoke)["invitation"]["id"]
    due = invoke(DUE).data["me"]["surveysDue"]["nps"]
    assert due["due"] is False
    assert due["reason"] == "RECENTLY_ASKED"
    assert due["nextAskAt"].startswith("2026-05-30")  # 90 days on
    answer(invoke, invitation, 4, comment="Too slow.")
    listed = invoke(ANSWERS, {"kind": "NPS", "from": TODAY, "to": TODAY, "first": 5}, ADMIN)
    [edge] = listed.data["surveyAnswers"]["edges"]
    assert (edge["node"]["score"], edge["node"]["comment"]) == (4, "Too slow.")
    shop = invoke('{ member(customerId: "cust-2") { surveysDue { nps { due } } } }', None, SERVICE)
    assert shop.data["member"]["surveysDue"]["nps"] == {"due": True}


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"from": TODAY, "to": "2026-02-28"}, "to"),
        ({"from": "2025-01-01", "to": TODAY}, "to"),  # over 366 days
        ({"from": TODAY, "to": TODAY, "first": 0}, "first"),
        ({"from": TODAY, "to": TODAY, "first": 101}, "first"),
        ({"from": TODAY, "to": TODAY, "after": "x" * 500}, "after"),
        ({"from": TODAY, "to": TODAY, "after": "c2E6"}, "after"),  # "sa:" of no answer
    ],
)
def test_bad_answer_lists_are_typed_errors(
    invoke: Invoke, variables: dict[str, Any], field: str
) -> None:
    response = invoke(ANSWERS, {"kind": "NPS", "first": 5, **variables}, ADMIN)
    [error] = response.body["errors"]
    assert error["extensions"]["code"] == "INVALID_INPUT", response.raw
    assert error["extensions"]["field"] == field
