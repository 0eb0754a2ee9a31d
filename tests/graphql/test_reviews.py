"""Reviews through the API: a member submits (idempotently), edits and deletes; an admin
moderates; anyone signed in reads the product's reviews and rating. Bad input is a typed
error that writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from api.ids import member_id_for
from api.services import Services
from api.store.base import TableItem
from tests.graphql.conftest import ADMIN, MEMBER, OTHER_MEMBER, SERVICE, Invoke
from tests.support import enroll

RESULT = """
    __typename
    ... on ReviewSaved { review { id sku rating title body photoUrls status rejectReason } }
    ... on UserError { code message }
    ... on InvalidInput { field }
"""
SUBMIT = "mutation($input: SubmitReviewInput!) { submitReview(input: $input) {" + RESULT + "} }"
UPDATE = "mutation($input: ReviewInput!) { updateReview(input: $input) {" + RESULT + "} }"
MODERATE = (
    "mutation($input: ModerateReviewInput!) { moderateReview(input: $input) {" + RESULT + "} }"
)
RATING = "query($sku: String!) { productRating(sku: $sku) { sku count average histogram } }"
LIST = """query($sku: String!, $sort: ReviewSort, $after: String) {
  productReviews(sku: $sku, sort: $sort, first: 2, after: $after) {
    edges { node { rating title } cursor } pageInfo { hasNextPage endCursor } } }"""


def review(**changes: Any) -> dict[str, Any]:
    return {"sku": "sku-1", "rating": 4, "title": "Good", "body": "Fits.", **changes}


def submit(invoke: Invoke, key: str = "k", claims: Any = MEMBER, **changes: Any) -> Any:
    response = invoke(
        SUBMIT, {"input": {"review": review(**changes), "idempotencyKey": key}}, claims
    )
    assert response.body.get("errors") is None, response.raw
    return response.data["submitReview"]


@pytest.fixture(autouse=True)
def members(services: Services) -> None:
    enroll(services, "cust-1")
    enroll(services, "cust-2")


def snapshot() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = TableItem._get_connection().scan()["Items"]
    return found


def test_submit_moderate_read(invoke: Invoke) -> None:
    first = submit(invoke, photoUrls=["https://cdn.example/p.jpg"])
    assert first["review"]["status"] == "PENDING"
    assert submit(invoke, photoUrls=["https://cdn.example/p.jpg"]) == first  # replay
    assert submit(invoke, rating=1)["code"] == "IDEMPOTENCY_CONFLICT"
    again = submit(invoke, key="k2")
    assert (again["code"], again["field"]) == ("INVALID_INPUT", "sku")
    other = submit(invoke, claims=OTHER_MEMBER, rating=2)
    for saved in (first, other):
        moderated = invoke(
            MODERATE, {"input": {"id": saved["review"]["id"], "decision": "APPROVE"}}, ADMIN
        ).data["moderateReview"]
        assert moderated["review"]["status"] == "APPROVED"
    rating = invoke(RATING, {"sku": "sku-1"}, SERVICE).data["productRating"]
    assert rating == {"sku": "sku-1", "count": 2, "average": 3.0, "histogram": [0, 1, 0, 1, 0]}
    page = invoke(LIST, {"sku": "sku-1", "sort": "LOWEST"}).data["productReviews"]
    assert [e["node"]["rating"] for e in page["edges"]] == [2, 4]
    assert page["pageInfo"]["hasNextPage"] is False
    bad = invoke(LIST, {"sku": "sku-1", "sort": "NEWEST", "after": "nope"})
    assert bad.error_codes == ["INVALID_INPUT"]

    removed = invoke(
        MODERATE,
        {"input": {"id": other["review"]["id"], "decision": "REJECT", "reason": "OFF_TOPIC"}},
        ADMIN,
    ).data["moderateReview"]
    assert (removed["review"]["status"], removed["review"]["rejectReason"]) == (
        "REJECTED",
        "OFF_TOPIC",
    )
    edited = invoke(UPDATE, {"input": review(rating=5)}).data["updateReview"]
    assert edited["review"]["status"] == "PENDING"
    assert invoke(RATING, {"sku": "sku-1"}).data["productRating"]["count"] == 0
    mine = invoke("{ myReviews { edges { node { status rating } } } }").data["myReviews"]
    assert mine["edges"] == [{"node": {"status": "PENDING", "rating": 5}}]
    deleted = invoke('mutation { deleteReview(sku: "sku-1") { __typename } }')
    assert deleted.data["deleteReview"] == {"__typename": "ReviewDeleted"}
    assert invoke("{ pendingReviews { edges { cursor } } }", None, ADMIN).data == {
        "pendingReviews": {"edges": []}
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rating": 0}, "rating"),
        ({"rating": 6}, "rating"),
        ({"rating": -2147483648}, "rating"),
        ({"body": "x" * 10_000}, "body"),
        ({"body": "nul\u0000here"}, "body"),
        ({"body": "escape\u001b[31m"}, "body"),
        ({"title": "zero\u200bwidth"}, "title"),
        ({"title": ""}, "title"),
        ({"sku": ""}, "sku"),
        ({"photoUrls": ["https://x.example/1.jpg"] * 2}, "photoUrls"),
        ({"photoUrls": [f"https://x.example/{i}.jpg" for i in range(6)]}, "photoUrls"),
        ({"photoUrls": ["data:image/png;base64,AAAA"]}, "photoUrls.0"),
    ],
)
def test_bad_input_is_typed_and_writes_nothing(
    invoke: Invoke, changes: dict[str, Any], field: str
) -> None:
    before = snapshot()
    result = submit(invoke, **changes)
    assert (result["__typename"], result["field"]) == ("InvalidInput", field), result
    assert snapshot() == before


@pytest.mark.parametrize("rating", ["NaN", 4.5, "5", None])
def test_a_rating_that_is_not_an_int_is_refused_by_the_schema(invoke: Invoke, rating: Any) -> None:
    before = snapshot()
    response = invoke(SUBMIT, {"input": {"review": review(rating=rating), "idempotencyKey": "k"}})
    assert response.error_codes == ["BAD_USER_INPUT"]
    assert snapshot() == before


def test_no_reviewing_for_someone_else_nor_moderating_ones_own(invoke: Invoke) -> None:
    # The input has no member: a review is always the caller's own.
    response = invoke(
        SUBMIT,
        {"input": {"review": {**review(), "customerId": "cust-2"}, "idempotencyKey": "k"}},
    )
    assert response.error_codes == ["BAD_USER_INPUT"]
    saved = submit(invoke)
    assert invoke(UPDATE, {"input": review()}, OTHER_MEMBER).data["updateReview"]["code"] == (
        "NOT_FOUND"
    )
    own_admin = {"sub": member_id_for("cust-1"), "cognito:groups": "[admin]"}
    before = snapshot()
    refused = invoke(
        MODERATE, {"input": {"id": saved["review"]["id"], "decision": "APPROVE"}}, own_admin
    ).data["moderateReview"]
    assert (refused["code"], refused["field"]) == ("INVALID_INPUT", "id")
    rejected = invoke(
        MODERATE, {"input": {"id": saved["review"]["id"], "decision": "REJECT"}}, ADMIN
    ).data["moderateReview"]
    assert rejected["field"] == "reason"
    assert snapshot() == before


VOTE = """mutation($id: ID!, $helpful: Boolean!) { voteReview(reviewId: $id, helpful: $helpful) {
  __typename ... on ReviewVoted { helpful review { id helpfulVotes unhelpfulVotes } }
  ... on UserError { code message } ... on InvalidInput { field } } }"""
WITHDRAW = """mutation($id: ID!) { withdrawReviewVote(reviewId: $id) {
  __typename ... on ReviewVoted { helpful review { helpfulVotes unhelpfulVotes } }
  ... on UserError { code } } }"""
HELPFUL = """query($after: String) { productReviews(sku: "sku-1", sort: MOST_HELPFUL, first: 1,
  after: $after) { edges { node { id helpfulVotes unhelpfulVotes } cursor }
  pageInfo { hasNextPage endCursor } } }"""


def test_votes_and_the_most_helpful_listing(invoke: Invoke, services: Services) -> None:
    enroll(services, "cust-3")
    third = {"sub": "cust-3", "token_use": "access"}
    ids = []
    for claims in (MEMBER, OTHER_MEMBER):
        saved = submit(invoke, claims=claims)
        ids.append(saved["review"]["id"])
        invoke(MODERATE, {"input": {"id": ids[-1], "decision": "APPROVE"}}, ADMIN)

    def vote(claims: Any, rid: str, helpful: bool) -> Any:
        return invoke(VOTE, {"id": rid, "helpful": helpful}, claims).data["voteReview"]

    voted = vote(OTHER_MEMBER, ids[0], True)
    assert voted == {
        "__typename": "ReviewVoted",
        "helpful": True,
        "review": {"id": ids[0], "helpfulVotes": 1, "unhelpfulVotes": 0},
    }
    before = snapshot()
    assert vote(OTHER_MEMBER, ids[0], True) == voted  # the same vote: a replay
    assert snapshot() == before
    assert vote(third, ids[0], False)["review"]["unhelpfulVotes"] == 1
    assert vote(third, ids[0], True)["review"] == {
        "id": ids[0],
        "helpfulVotes": 2,
        "unhelpfulVotes": 0,
    }
    before = snapshot()
    own = vote(MEMBER, ids[0], True)
    assert (own["__typename"], own["code"], own["field"]) == (
        "InvalidInput",
        "OWN_REVIEW",
        "reviewId",
    )
    assert snapshot() == before
    first = invoke(HELPFUL).data["productReviews"]
    assert [e["node"]["helpfulVotes"] for e in first["edges"]] == [2]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = invoke(HELPFUL, {"after": first["pageInfo"]["endCursor"]}).data["productReviews"]
    assert [(e["node"]["id"], e["node"]["helpfulVotes"]) for e in rest["edges"]] == [(ids[1], 0)]
    assert invoke(HELPFUL, {"after": "bm9wZQ"}).error_codes == ["INVALID_INPUT"]

    withdrawn = invoke(WITHDRAW, {"id": ids[0]}, third).data["withdrawReviewVote"]
    assert withdrawn == {
        "__typename": "ReviewVoted",
        "helpful": None,
        "review": {"helpfulVotes": 1, "unhelpfulVotes": 0},
    }
    newest = invoke('{ productReviews(sku: "sku-1") { edges { node { helpfulVotes } } } }')
    assert [e["node"]["helpfulVotes"] for e in newest.data["productReviews"]["edges"]] == [0, 1]
    edited = invoke(UPDATE, {"input": review(rating=1)}).data["updateReview"]
    assert edited["review"]["status"] == "PENDING"
    gone = vote(OTHER_MEMBER, ids[0], False)
    assert gone["code"] == "NOT_FOUND"
