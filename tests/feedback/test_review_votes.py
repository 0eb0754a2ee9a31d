"""Helpful votes on moto: one standing vote per member per review, counts on the review and
on every listed copy, the MOST_HELPFUL listing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.auth import Principal, Role
from api.clock import ManualClock
from api.errors import ErrorCode, Forbidden, InvalidInput, MemberNotFound, NotFound
from api.feedback import reviews, reviews_store
from api.feedback.reviews_model import (
    Decision,
    RejectReason,
    Review,
    ReviewInput,
    ReviewSort,
    ReviewStatus,
    review_id,
)
from api.ids import member_id_for
from api.services import Services
from api.store.base import TableItem
from tests.support import ADMIN, SERVICE, count_requests, enroll, member

AUTHOR, OTHER = member("cust-0"), member("cust-9")
VOTERS = [member(f"cust-{i}") for i in range(1, 6)]


@pytest.fixture(autouse=True)
def members(services: Services) -> None:
    for i in (*range(6), 9):
        enroll(services, f"cust-{i}")


def approved(services: Services, who: Principal, sku: str = "sku-1", rating: int = 4) -> Review:
    r = services.reviews.submit(who, ReviewInput(sku, rating, "Title", "Body"), f"k-{sku}")
    return services.reviews.moderate(ADMIN, r.id, Decision.APPROVE, None)


def items() -> list[dict[str, object]]:
    found: list[dict[str, object]] = TableItem._get_connection().scan()["Items"]
    return found


def listing(services: Services, sort: ReviewSort, sku: str = "sku-1") -> list[Review]:
    return list(services.reviews.product_reviews(SERVICE, sku, sort, 50, None).reviews)


def counts(r: Review) -> tuple[int, int]:
    return (r.helpful_votes, r.unhelpful_votes)


def assert_copies_current(services: Services, sku: str = "sku-1") -> None:
    """Every listed copy of the product's reviews is the review as stored, at the keys its
    present state gives: no stale copy, none missing, none twice."""
    scanned = [
        i
        for i in TableItem.scan()
        if isinstance(i, reviews_store.ListedItem) and i.review["sku"] == sku
    ]
    stored = [
        reviews_store.review_from_item(i)
        for i in TableItem.scan()
        if isinstance(i, reviews_store.ReviewItem) and i.sku == sku
    ]
    expected = {
        key: reviews_store.to_json(r) for r in stored for key in reviews_store.listed_keys(r)
    }
    assert {i.key: i.review for i in scanned} == expected
    assert services.reviews.rating(SERVICE, sku).count == sum(
        r.status is ReviewStatus.APPROVED for r in stored
    )


def test_votes_count_flip_replay_and_withdraw(services: Services) -> None:
    r = approved(services, AUTHOR)
    first = services.reviews.vote(VOTERS[0], r.id, True)
    assert (counts(first.review), first.helpful) == ((1, 0), True)
    assert (r.version, first.review.version) == (2, 3)
    before = items()
    again = services.reviews.vote(VOTERS[0], r.id, True)  # the same vote: nothing written
    assert again == first
    assert items() == before
    services.reviews.vote(VOTERS[1], r.id, False)
    flipped = services.reviews.vote(VOTERS[0], r.id, False)
    assert (counts(flipped.review), flipped.helpful) == ((0, 2), False)
    withdrawn = services.reviews.withdraw_vote(VOTERS[0], r.id)
    assert (counts(withdrawn.review), withdrawn.helpful) == ((0, 1), None)
    before = items()
    assert services.reviews.withdraw_vote(VOTERS[0], r.id).helpful is None  # none standing
    assert items() == before
    for sort in ReviewSort:
        assert [counts(x) for x in listing(services, sort)] == [(0, 1)], sort
    assert counts(services.reviews.mine(AUTHOR, 5, None).reviews[0]) == (0, 1)
    assert_copies_current(services)


def test_a_vote_is_one_batched_read_and_one_transaction(services: Services) -> None:
    r = approved(services, AUTHOR)
    # GetItem: the program settings for the test clock's day, in stages that have one.
    with count_requests() as calls:
        services.reviews.vote(VOTERS[0], r.id, True)
    assert calls == {"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1}
    with count_requests() as calls:
        services.reviews.vote(VOTERS[0], r.id, True)
    assert calls == {"GetItem": 1, "BatchGetItem": 1}


def test_most_helpful_orders_by_votes_then_newest(services: Services, clock: ManualClock) -> None:
    authors = [member(f"cust-{i}") for i in range(4)]
    ids = []
    for who in authors:
        ids.append(approved(services, who).id)
        clock.advance(timedelta(seconds=1))
    # Helpful votes: review 1 gets 2, reviews 0 and 3 one each, review 2 none (one unhelpful).
    services.reviews.vote(VOTERS[3], ids[1], True)
    services.reviews.vote(VOTERS[4], ids[1], True)
    services.reviews.vote(VOTERS[4], ids[0], True)
    services.reviews.vote(VOTERS[4], ids[3], True)
    services.reviews.vote(VOTERS[4], ids[2], False)
    order = [(r.id, r.helpful_votes) for r in listing(services, ReviewSort.MOST_HELPFUL)]
    assert order == [(ids[1], 2), (ids[3], 1), (ids[0], 1), (ids[2], 0)]  # ties: newest first
    page = services.reviews.product_reviews(SERVICE, "sku-1", ReviewSort.MOST_HELPFUL, 3, None)
    assert page.has_next
    rest = services.reviews.product_reviews(
        SERVICE, "sku-1", ReviewSort.MOST_HELPFUL, 3, page.cursors[-1]
    )
    assert [r.id for r in rest.reviews] == [ids[2]]
    assert not rest.has_next
    with pytest.raises(InvalidInput):  # a cursor of another listing
        services.reviews.product_reviews(SERVICE, "sku-1", ReviewSort.NEWEST, 2, page.cursors[0])
    newest = services.reviews.product_reviews(SERVICE, "sku-1", ReviewSort.NEWEST, 2, None)
    with pytest.raises(InvalidInput):
        services.reviews.product_reviews(
            SERVICE, "sku-1", ReviewSort.MOST_HELPFUL, 2, newest.cursors[0]
        )
    assert [counts(r) for r in listing(services, ReviewSort.NEWEST)] == [
        (1, 0),
        (0, 1),
        (2, 0),
        (1, 0),
    ]
    assert_copies_current(services)


def test_more_than_nine_votes_sort_as_numbers(services: Services) -> None:
    many, few = approved(services, AUTHOR), approved(services, OTHER)
    services.reviews.vote(AUTHOR, few.id, True)
    for i in range(10, 21):  # 11 votes: "11" must sort above "1"
        enroll(services, f"cust-{i}")
        services.reviews.vote(member(f"cust-{i}"), many.id, True)
    order = [(r.id, r.helpful_votes) for r in listing(services, ReviewSort.MOST_HELPFUL)]
    assert order == [(many.id, 11), (few.id, 1)]


@pytest.mark.parametrize("helpful", [True, None])
def test_refusals_write_nothing(services: Services, helpful: bool | None) -> None:
    def vote(who: Principal, review_id: str) -> object:
        if helpful is None:
            return services.reviews.withdraw_vote(who, review_id)
        return services.reviews.vote(who, review_id, helpful)

    mine = approved(services, AUTHOR)
    pending = services.reviews.submit(OTHER, ReviewInput("sku-1", 2, "T", "B"), "k")
    before = items()
    with pytest.raises(InvalidInput) as own:
        vote(AUTHOR, mine.id)
    assert (own.value.code, own.value.field) == (ErrorCode.OWN_REVIEW, "reviewId")
    with pytest.raises(NotFound):  # pending: not public, so not there to a voter
        vote(AUTHOR, pending.id)
    with pytest.raises(NotFound):
        vote(AUTHOR, review_id(OTHER.member_id or "", "sku-2"))
    for bad in ("rev_x", "", "rev_" + "0" * 26 + "_bad sku", mine.id + "\x00", "r" * 10_000):
        with pytest.raises(InvalidInput) as exc:
            vote(AUTHOR, bad)
        assert exc.value.field == "reviewId"
    stranger = Principal(Role.MEMBER, member_id_for("nobody"), member_id_for("nobody"))
    with pytest.raises(MemberNotFound):
        vote(stranger, mine.id)
    for role in (SERVICE, ADMIN):
        with pytest.raises(Forbidden):
            vote(role, mine.id)
    assert items() == before


def test_rejected_reviews_take_no_votes(services: Services) -> None:
    r = approved(services, AUTHOR)
    services.reviews.vote(VOTERS[0], r.id, True)
    services.reviews.moderate(ADMIN, r.id, Decision.REJECT, RejectReason.SPAM)
    assert_copies_current(services)
    with pytest.raises(NotFound):
        services.reviews.vote(VOTERS[1], r.id, True)
    with pytest.raises(NotFound):
        services.reviews.withdraw_vote(VOTERS[0], r.id)
    back = services.reviews.moderate(ADMIN, r.id, Decision.APPROVE, None)
    assert counts(back) == (1, 0)  # removal and reinstatement keep the votes
    assert_copies_current(services)


def test_votes_survive_an_edit_and_die_with_a_delete(services: Services) -> None:
    r = approved(services, AUTHOR)
    for voter in VOTERS[:3]:
        services.reviews.vote(voter, r.id, True)
    services.reviews.vote(VOTERS[3], r.id, False)
    edited = services.reviews.update(AUTHOR, ReviewInput("sku-1", 2, "Edited", "Body"))
    assert (edited.status, counts(edited)) == (ReviewStatus.PENDING, (3, 1))
    assert listing(services, ReviewSort.MOST_HELPFUL) == []
    assert_copies_current(services)
    with pytest.raises(NotFound):
        services.reviews.vote(VOTERS[4], r.id, True)
    again = services.reviews.moderate(ADMIN, r.id, Decision.APPROVE, None)
    assert counts(again) == (3, 1)
    assert [counts(x) for x in listing(services, ReviewSort.MOST_HELPFUL)] == [(3, 1)]
    assert_copies_current(services)
    # Deleted and written again: the same id, no votes; the old vote items count for nothing.
    services.reviews.delete(AUTHOR, "sku-1")
    assert_copies_current(services)
    fresh = services.reviews.submit(AUTHOR, ReviewInput("sku-1", 5, "New", "Body"), "k2")
    fresh = services.reviews.moderate(ADMIN, fresh.id, Decision.APPROVE, None)
    assert (fresh.id, counts(fresh)) == (r.id, (0, 0))
    assert services.reviews.withdraw_vote(VOTERS[0], r.id).helpful is None
    voted = services.reviews.vote(VOTERS[0], r.id, True)
    assert counts(voted.review) == (1, 0)
    assert counts(services.reviews.vote(VOTERS[3], r.id, True).review) == (2, 0)
    assert_copies_current(services)


def test_daily_vote_limit(
    services: Services, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reviews, "MAX_VOTES_PER_DAY", 2)
    ids = [approved(services, member(f"cust-{i}")).id for i in range(1, 4)]
    services.reviews.vote(AUTHOR, ids[0], True)
    services.reviews.vote(AUTHOR, ids[0], False)  # a change counts too
    services.reviews.vote(AUTHOR, ids[0], False)  # the same vote again does not
    services.reviews.withdraw_vote(AUTHOR, ids[0])  # nor does taking one back
    before = items()
    with pytest.raises(InvalidInput) as exc:
        services.reviews.vote(AUTHOR, ids[1], True)
    assert exc.value.field == "reviewId"
    assert items() == before
    clock.advance(timedelta(days=1))
    assert services.reviews.vote(AUTHOR, ids[1], True).helpful is True
