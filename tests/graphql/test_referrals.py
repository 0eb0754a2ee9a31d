"""Referrals through the API: an admin turns them on, a member shares their code, the shop
enrols a friend with it, the friend's first order outlives its window (the test clock), the
member sees the referral rewarded and the points; refusals and bad input are typed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from api.clock import ManualClock
from api.ids import member_id_for
from api.services import Services
from api.stream import change_from_record
from local.stream import TableStream
from tests.graphql.conftest import ADMIN, MEMBER, RECORD_ORDER, SERVICE, Invoke, order_input
from tests.support import enroll, ledger_entries

PROGRAM = """mutation($input: UpdateProgramInput!) {
  updateProgram(input: $input) {
    __typename
    ... on ProgramUpdated { program { referrals { enabled referrerPoints monthlyCap
        welcomePromotionId welcomeValidityDays linkFormat } } }
    ... on InvalidInput { code field message }
  }
}"""

ENROLL = """mutation($input: EnrollMemberInput!) {
  enrollMember(input: $input) {
    __typename
    ... on MemberEnrolled { member { id referral { code } }
        referral { status reason welcomeCode welcomeExpiresAt } }
    ... on InvalidInput { code field message }
  }
}"""

CARD = """{ me { referral { enabled code link summary { pending rewarded refused pointsEarned }
  invitation { status reason welcomeCode } } } }"""

LIST = """query($first: Int, $after: String) { me { referrals(first: $first, after: $after) {
  edges { cursor node { status reason refereeName points createdAt firstOrderAt rewardDueAt
    decidedAt } }
  pageInfo { hasNextPage endCursor } } } }"""

ADVANCE = """mutation { advanceTestClock(input: {days: 15}) {
  ... on TestClockAdvanced { referrals { rewarded refused points } } } }"""

WELCOME = """mutation { createPromotion(input: {id: "welcome", name: "10% welcome",
  activation: CODE, effect: {kind: PERCENT_OFF, percent: "10"}}) { __typename } }"""

BOB = {"sub": "bob", "token_use": "access"}
MINUTE = timedelta(minutes=1)


def referrals_on(invoke: Invoke, **extra: Any) -> dict[str, Any]:
    assert invoke(WELCOME, None, ADMIN).data["createPromotion"]["__typename"] == "PromotionSaved"
    settings = {
        "enabled": True,
        "referrerPoints": 300,
        "monthlyCap": 5,
        "welcomePromotionId": "welcome",
        "welcomeValidityDays": 20,
        "linkFormat": "https://shop.example/invite/{code}",
        **extra,
    }
    updated = invoke(PROGRAM, {"input": {"referrals": settings}}, ADMIN).data["updateProgram"]
    assert updated["__typename"] == "ProgramUpdated", updated
    result: dict[str, Any] = updated["program"]["referrals"]
    return result


def enrol(invoke: Invoke, customer_id: str, code: str | None, **extra: Any) -> dict[str, Any]:
    variables = {
        "input": {
            "customerId": customer_id,
            "timeZone": "UTC",
            "locale": "en",
            "referralCode": code,
            **extra,
        }
    }
    result: dict[str, Any] = invoke(ENROLL, variables, SERVICE).data["enrollMember"]
    return result


def deliver(services: Services, stream: TableStream) -> None:
    for record in stream.read():
        services.reactions.dispatch(change_from_record(record))


@pytest.fixture
def stream(services: Services, dynamodb_client: Any) -> TableStream:
    return TableStream(dynamodb_client, services.config.table_name)


def test_a_referral_from_code_to_points(
    services: Services, invoke: Invoke, stream: TableStream
) -> None:
    settings = referrals_on(invoke)
    assert settings["linkFormat"] == "https://shop.example/invite/{code}"
    enroll(services, "cust-1")
    card = invoke(CARD).data["me"]["referral"]
    code = card["code"]
    assert card["enabled"] is True
    assert card["link"] == f"https://shop.example/invite/{code}"
    assert card["invitation"] is None

    joined = enrol(invoke, "bob", code.lower(), name="Bob Smith")
    assert joined["__typename"] == "MemberEnrolled", joined
    assert joined["referral"]["status"] == "PENDING"
    assert joined["referral"]["welcomeCode"]
    assert joined["member"]["referral"]["code"] != code  # Bob's own
    assert enrol(invoke, "bob", code, name="Bob Smith") == joined  # a replay
    bob = invoke(CARD, None, BOB).data["me"]["referral"]
    assert bob["invitation"] == {
        "status": "PENDING",
        "reason": None,
        "welcomeCode": joined["referral"]["welcomeCode"],
    }

    recorded = invoke(RECORD_ORDER, order_input("o-bob", "80.00", customer_id="bob"), SERVICE)
    assert recorded.data["recordOrder"]["__typename"] == "OrderRecorded", recorded.raw
    deliver(services, stream)
    [edge] = invoke(LIST).data["me"]["referrals"]["edges"]
    assert edge["node"]["status"] == "PENDING"
    assert edge["node"]["firstOrderAt"] == "2026-03-01T12:00:00+00:00"
    assert edge["node"]["rewardDueAt"] == "2026-03-15T12:00:00+00:00"  # the 14-day window

    advanced = invoke(ADVANCE, None, ADMIN).data["advanceTestClock"]
    assert advanced["referrals"] == {"rewarded": 1, "refused": 0, "points": 300}

    [edge] = invoke(LIST).data["me"]["referrals"]["edges"]
    assert edge["node"]["status"] == "REWARDED"
    assert edge["node"]["refereeName"] == "Bob S."
    assert edge["node"]["points"] == 300
    assert edge["node"]["rewardDueAt"] is None
    assert edge["node"]["decidedAt"]
    summary = invoke(CARD).data["me"]["referral"]["summary"]
    assert summary == {"pending": 0, "rewarded": 1, "refused": 0, "pointsEarned": 300}
    history = invoke(
        "{ me { points { available history(first: 1) { edges { node { kind points reason } } } } }"
        " }"
    ).data["me"]["points"]
    assert history["available"] == 300
    assert history["history"]["edges"][0]["node"] == {
        "kind": "REFERRAL",
        "points": 300,
        "reason": "Referral: Bob S.",
    }
    assert [e.kind.value for e in ledger_entries(member_id_for("cust-1"))] == ["REFERRAL"]
    # An admin sees the same list for the member; the member sees no one else's.
    listed = invoke(
        '{ member(customerId: "cust-1") { referrals { edges { node { status } } } } }',
        None,
        ADMIN,
    )
    assert listed.data["member"]["referrals"]["edges"] == [{"node": {"status": "REWARDED"}}]
    other = invoke('{ member(customerId: "bob") { referrals { edges { cursor } } } }')
    assert other.error_codes == ["FORBIDDEN"]


def test_refusals_are_answered_with_their_reason(
    services: Services, invoke: Invoke, clock: ManualClock
) -> None:
    referrals_on(invoke, monthlyCap=1)
    enroll(services, "cust-1")
    invoke('mutation { updateMyProfile(input: {email: "me@example.com"}) { __typename } }')
    code = invoke(CARD).data["me"]["referral"]["code"]
    same = enrol(invoke, "cust-9", code, email="ME+x@example.com")
    clock.advance(MINUTE)
    assert same["referral"] == {
        "status": "REFUSED",
        "reason": "SELF_REFERRAL",
        "welcomeCode": None,
        "welcomeExpiresAt": None,
    }
    assert enrol(invoke, "friend-1", code)["referral"]["status"] == "PENDING"
    clock.advance(MINUTE)
    assert enrol(invoke, "friend-2", code)["referral"]["reason"] == "REFERRER_CAP_REACHED"
    clock.advance(MINUTE)
    assert enrol(invoke, "old", None)["referral"] is None
    assert enrol(invoke, "old", code)["referral"]["reason"] == "NOT_NEW_CUSTOMER"
    nodes = [e["node"] for e in invoke(LIST).data["me"]["referrals"]["edges"]]
    assert [(n["status"], n["reason"]) for n in nodes] == [
        ("REFUSED", "NOT_NEW_CUSTOMER"),
        ("REFUSED", "REFERRER_CAP_REACHED"),
        ("PENDING", None),
        ("REFUSED", "SELF_REFERRAL"),
    ]
    summary = invoke(CARD).data["me"]["referral"]["summary"]
    assert summary == {"pending": 1, "rewarded": 0, "refused": 3, "pointsEarned": 0}
    # Pages of two, through the cursors.
    first = invoke(LIST, {"first": 2}).data["me"]["referrals"]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = invoke(LIST, {"first": 2, "after": first["pageInfo"]["endCursor"]})
    assert [e["node"]["reason"] for e in rest.data["me"]["referrals"]["edges"]] == [
        None,
        "SELF_REFERRAL",
    ]


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("not a code", "INVALID_INPUT"),
        ("x" * 10_000, "INVALID_INPUT"),
        ("ACDEFGHJ", "REFERRAL_CODE_UNKNOWN"),
    ],
)
def test_a_bad_code_is_a_typed_error_and_enrols_no_one(
    services: Services, invoke: Invoke, code: str, error: str
) -> None:
    referrals_on(invoke)
    enroll(services, "cust-1")
    refused = enrol(invoke, "bob", code)
    assert (refused["__typename"], refused["code"], refused["field"]) == (
        "InvalidInput",
        error,
        "referralCode",
    )
    assert invoke('{ member(customerId: "bob") { id } }', None, SERVICE).data["member"] is None
    summary = invoke(CARD).data["me"]["referral"]["summary"]
    assert summary == {"pending": 0, "rewarded": 0, "refused": 0, "pointsEarned": 0}


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"welcomePromotionId": "nope"}, "referrals.welcomePromotionId"),
        ({"linkFormat": "https://shop.example/no-code"}, "referrals.linkFormat"),
        ({"referrerPoints": -5}, "referrals.referrerPoints"),
        ({"monthlyCap": 0}, "referrals.monthlyCap"),
        ({"welcomeValidityDays": 99999}, "referrals.welcomeValidityDays"),
    ],
)
def test_bad_referral_settings_are_typed_errors(
    invoke: Invoke, settings: dict[str, Any], field: str
) -> None:
    before = invoke("{ program { referrals { enabled linkFormat } } }", None, ADMIN).data
    updated = invoke(PROGRAM, {"input": {"referrals": settings}}, ADMIN).data["updateProgram"]
    assert (updated["__typename"], updated["field"]) == ("InvalidInput", field)
    assert invoke("{ program { referrals { enabled linkFormat } } }", None, ADMIN).data == before


def test_the_welcome_promotion_can_be_cleared(invoke: Invoke) -> None:
    referrals_on(invoke)
    cleared = invoke(PROGRAM, {"input": {"referrals": {"welcomePromotionId": None}}}, ADMIN)
    settings = cleared.data["updateProgram"]["program"]["referrals"]
    assert settings["welcomePromotionId"] is None
    assert settings["enabled"] is True


def test_the_shop_checks_a_code_before_enrolment(services: Services, invoke: Invoke) -> None:
    referrals_on(invoke)
    enroll(services, "cust-1")
    invoke('mutation { updateMyProfile(input: {name: "Alice Martin"}) { __typename } }')
    code = invoke(CARD).data["me"]["referral"]["code"]
    query = "query($c: String!) { referralCode(code: $c) { code referrerName enabled } }"
    found = invoke(query, {"c": f" {code.lower()} "}, SERVICE).data["referralCode"]
    assert found == {"code": code, "referrerName": "Alice M.", "enabled": True}
    assert invoke(query, {"c": "ACDEFGHJ"}, SERVICE).data["referralCode"] is None
    malformed = invoke(query, {"c": "?"}, SERVICE)
    assert malformed.error_codes == ["INVALID_INPUT"]
    assert malformed.body["errors"][0]["extensions"]["field"] == "referralCode"


def test_a_bad_cursor_is_refused(services: Services, invoke: Invoke) -> None:
    enroll(services, "cust-1")
    response = invoke(LIST, {"after": "bm9wZQ"}, MEMBER)
    assert response.error_codes == ["INVALID_INPUT"]
    assert response.body["errors"][0]["extensions"]["field"] == "after"
