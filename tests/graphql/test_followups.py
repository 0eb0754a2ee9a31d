"""Follow-ups through the API, as an admin: listed by status (overdue by the test clock),
read with their notes, assigned, annotated and resolved with goodwill points (idempotent,
once). Bad input is a typed error that writes nothing; other roles are refused."""

from __future__ import annotations

from typing import Any

import pytest

from api.ids import member_id_for
from api.services import Services
from api.store.base import TableItem
from tests.graphql.conftest import ADMIN, MEMBER, SERVICE, Invoke
from tests.support import enroll, unhappy_answer

FOLLOW_UP = """
    id status overdue memberId answerId kind score comment channel subject reference
    dueAt assignee noteCount resolvedBy resolution goodwillPoints
"""
LIST = (
    "query($status: FollowUpListing!, $after: String) { followUps(status: $status, first: 1, "
    "after: $after) { edges { node { id overdue status } cursor } "
    "pageInfo { hasNextPage endCursor } } }"
)
GET = (
    "query($id: ID!) { followUp(id: $id) { "
    + FOLLOW_UP
    + " notes { seq text author createdAt } } }"
)
RESULT = """
    __typename
    ... on UserError { code message }
    ... on InvalidInput { field }
"""
ASSIGN = (
    "mutation($input: AssignFollowUpInput!) { assignFollowUp(input: $input) {"
    + RESULT
    + "... on FollowUpSaved { followUp { assignee } } } }"
)
NOTE = (
    "mutation($input: AddFollowUpNoteInput!) { addFollowUpNote(input: $input) {"
    + RESULT
    + "... on FollowUpNoteAdded { followUp { noteCount } note { seq text author } } } }"
)
RESOLVE = (
    "mutation($input: ResolveFollowUpInput!) { resolveFollowUp(input: $input) {"
    + RESULT
    + "... on FollowUpResolved { followUp { status overdue resolution goodwillPoints } "
    "entry { kind points reference balanceAfter } } } }"
)
BALANCE = '{ member(customerId: "cust-1") { points { balance } } }'


@pytest.fixture
def fid(services: Services) -> str:
    enroll(services, "cust-1")
    return unhappy_answer(services)


def data(invoke: Invoke, query: str, variables: dict[str, Any], claims: Any = ADMIN) -> Any:
    response = invoke(query, variables, claims)
    assert response.body.get("errors") is None, response.raw
    return next(iter(response.data.values()))


def snapshot() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = TableItem._get_connection().scan()["Items"]
    return found


def test_overdue_by_the_test_clock_then_resolved_with_goodwill(invoke: Invoke, fid: str) -> None:
    [edge] = data(invoke, LIST, {"status": "OPEN"})["edges"]
    assert edge["node"] == {"id": fid, "overdue": False, "status": "OPEN"}
    assert data(invoke, LIST, {"status": "OVERDUE"})["edges"] == []
    advanced = data(invoke, "mutation { advanceTestClock(input: {hours: 49}) { __typename } }", {})
    assert advanced["__typename"] == "TestClockAdvanced"
    [edge] = data(invoke, LIST, {"status": "OVERDUE"})["edges"]
    assert edge["node"] == {"id": fid, "overdue": True, "status": "OPEN"}
    assert data(invoke, LIST, {"status": "OPEN"})["edges"] == []

    assigned = data(invoke, ASSIGN, {"input": {"id": fid, "assignee": "ana@shop.example"}})
    assert assigned["followUp"] == {"assignee": "ana@shop.example"}
    hers = data(
        invoke,
        '{ followUps(status: OVERDUE, assignee: "ana@shop.example") { edges { node { id } } } }',
        {},
    )
    assert hers["edges"] == [{"node": {"id": fid}}]
    note = {"id": fid, "text": "Called.\nNo answer.", "idempotencyKey": "n1"}
    added = data(invoke, NOTE, {"input": note})
    assert added["note"] == {"seq": 1, "text": "Called.\nNo answer.", "author": "admin-1"}
    assert data(invoke, NOTE, {"input": note}) == added  # a replay
    conflict = data(invoke, NOTE, {"input": {**note, "text": "Other."}})
    assert conflict["code"] == "IDEMPOTENCY_CONFLICT"

    balance = data(invoke, BALANCE, {}, SERVICE)["points"]["balance"]
    resolve = {"id": fid, "note": "Voucher sent.", "goodwillPoints": 75, "idempotencyKey": "r1"}
    resolved = data(invoke, RESOLVE, {"input": resolve})
    assert resolved["followUp"] == {
        "status": "RESOLVED",
        "overdue": False,
        "resolution": "Voucher sent.",
        "goodwillPoints": 75,
    }
    assert resolved["entry"] == {
        "kind": "GOODWILL",
        "points": 75,
        "reference": fid,
        "balanceAfter": balance + 75,
    }
    assert data(invoke, RESOLVE, {"input": resolve}) == resolved  # a replay
    again = data(invoke, RESOLVE, {"input": {**resolve, "idempotencyKey": "r2"}})
    assert (again["code"], again["field"]) == ("ALREADY_RESOLVED", "id")
    assert data(invoke, BALANCE, {}, SERVICE)["points"]["balance"] == balance + 75

    shown = data(invoke, GET, {"id": fid})
    assert {k: shown[k] for k in ("status", "overdue", "memberId", "kind", "score")} == {
        "status": "RESOLVED",
        "overdue": False,
        "memberId": member_id_for("cust-1"),
        "kind": "NPS",
        "score": 3,
    }
    assert [n["text"] for n in shown["notes"]] == ["Called.\nNo answer."]
    [edge] = data(invoke, LIST, {"status": "RESOLVED"})["edges"]
    assert edge["node"]["id"] == fid
    assert data(invoke, GET, {"id": "fu_ans_unknown"}) is None


@pytest.mark.parametrize(
    ("query", "changes", "code", "field"),
    [
        (ASSIGN, {"assignee": ""}, "INVALID_INPUT", "assignee"),
        (ASSIGN, {"assignee": "x" * 10_000}, "INVALID_INPUT", "assignee"),
        (ASSIGN, {"id": "fu_ans_nope"}, "NOT_FOUND", None),
        (ASSIGN, {"id": "rev_123"}, "INVALID_INPUT", "id"),
        (ASSIGN, {"id": "fu_\u0000"}, "INVALID_INPUT", "id"),
        (NOTE, {"text": ""}, "INVALID_INPUT", "text"),
        (NOTE, {"text": "x" * 10_000}, "INVALID_INPUT", "text"),
        (NOTE, {"text": "a\u0000b"}, "INVALID_INPUT", "text"),
        (NOTE, {"text": "zero\u200bwidth"}, "INVALID_INPUT", "text"),
        (NOTE, {"idempotencyKey": " "}, "INVALID_INPUT", "idempotencyKey"),
        (RESOLVE, {"goodwillPoints": 0}, "INVALID_INPUT", "goodwillPoints"),
        (RESOLVE, {"goodwillPoints": -10}, "INVALID_INPUT", "goodwillPoints"),
        (RESOLVE, {"goodwillPoints": 1_000_000}, "INVALID_INPUT", "goodwillPoints"),
        (RESOLVE, {"note": "\t\n"}, "INVALID_INPUT", "note"),
        (RESOLVE, {"id": "fu_ans_nope"}, "NOT_FOUND", None),
    ],
)
def test_bad_input_is_typed_and_writes_nothing(
    invoke: Invoke, fid: str, query: str, changes: dict[str, Any], code: str, field: str | None
) -> None:
    bases: dict[str, dict[str, Any]] = {
        ASSIGN: {"id": fid, "assignee": "ana@shop.example"},
        NOTE: {"id": fid, "text": "Called.", "idempotencyKey": "k"},
        RESOLVE: {"id": fid, "note": "Done.", "goodwillPoints": 5, "idempotencyKey": "k"},
    }
    base = bases[query]
    before = snapshot()
    result = data(invoke, query, {"input": {**base, **changes}})
    assert (result["code"], result.get("field")) == (code, field), result
    assert result["message"]
    assert snapshot() == before


def test_goodwill_for_an_unknown_member_is_refused(invoke: Invoke, services: Services) -> None:
    fid = unhappy_answer(services, "ans_2", "cust-never-enrolled")
    before = snapshot()
    resolve = {"id": fid, "note": "Sorry.", "goodwillPoints": 5, "idempotencyKey": "k"}
    assert data(invoke, RESOLVE, {"input": resolve})["code"] == "MEMBER_NOT_FOUND"
    assert snapshot() == before


def test_cursors_are_checked(invoke: Invoke, fid: str, services: Services) -> None:
    unhappy_answer(services, "ans_2")
    page = data(invoke, LIST, {"status": "OPEN"})
    assert page["pageInfo"]["hasNextPage"] is True
    after = page["pageInfo"]["endCursor"]
    rest = data(invoke, LIST, {"status": "OPEN", "after": after})
    assert [e["node"]["id"] for e in rest["edges"]] == ["fu_ans_2"]
    for bad in ("nope", "", "\ud800", after[:10], "x" * 5000):
        response = invoke(LIST, {"status": "OPEN", "after": bad}, ADMIN)
        assert response.error_codes == ["INVALID_INPUT"], response.raw
    elsewhere = invoke(LIST, {"status": "RESOLVED", "after": after}, ADMIN)
    assert elsewhere.error_codes == ["INVALID_INPUT"]


def test_members_and_the_shop_see_none(invoke: Invoke, fid: str) -> None:
    for claims in (MEMBER, SERVICE):
        response = invoke(GET, {"id": fid}, claims)
        assert response.error_codes == ["FORBIDDEN"]
        assert response.data == {"followUp": None}
