"""Reviews under real concurrency (DynamoDB Local): a product's rating stays exact however
many approvals, edits and deletions race, a double tap submits one review, and racing votes
leave counts equal to the standing votes, on the review and on every listed copy."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import partial

import pytest

from api.errors import InvalidInput
from api.feedback import reviews_store
from api.feedback.reviews import parse_review_id
from api.feedback.reviews_model import (
    Decision,
    Rating,
    RejectReason,
    Review,
    ReviewInput,
    ReviewSort,
    ReviewVote,
)
from api.program.model import SettingsChange
from api.services import Services
from api.store import reads
from api.store.base import TableItem
from tests.ddb_local.test_concurrency import all_at_once
from tests.support import ADMIN, assert_ledger_consistent, enroll, member

pytestmark = pytest.mark.ddb_local


def submitted(s: Services, count: int) -> list[Review]:
    reviews = []
    for i in range(count):
        enroll(s, f"cust-{i}")
        data = ReviewInput("sku-1", i % 5 + 1, "Title", "Body")
        reviews.append(s.reviews.submit(member(f"cust-{i}"), data, "k"))
    return reviews


def test_twenty_concurrent_approvals_count_exactly(local_services: Services) -> None:
    s = local_services
    s.program.update(ADMIN, SettingsChange(review_reward_points=10))
    reviews = submitted(s, 20)
    approve: list[Callable[[], Review]] = [
        partial(s.reviews.moderate, ADMIN, r.id, Decision.APPROVE, None) for r in reviews
    ]
    results = all_at_once(approve + approve)  # each twice: the second changes nothing
    assert all(isinstance(r, Review) for r in results), results
    assert s.reviews.rating(ADMIN, "sku-1") == Rating(20, 60, (4, 4, 4, 4, 4))
    page = s.reviews.product_reviews(ADMIN, "sku-1", ReviewSort.HIGHEST, 50, None)
    assert len(page.reviews) == 20
    for r in reviews:  # rewarded once each
        assert_ledger_consistent(r.member_id)


def test_concurrent_edits_deletions_and_removals_keep_it_exact(local_services: Services) -> None:
    s = local_services
    reviews = submitted(s, 15)
    for r in reviews:
        s.reviews.moderate(ADMIN, r.id, Decision.APPROVE, None)
    edits = [
        partial(s.reviews.update, member(f"cust-{i}"), ReviewInput("sku-1", 5, "New", "Body"))
        for i in range(5)
    ]
    deletes = [partial(s.reviews.delete, member(f"cust-{i}"), "sku-1") for i in range(5, 10)]
    removals = [
        partial(s.reviews.moderate, ADMIN, reviews[i].id, Decision.REJECT, RejectReason.SPAM)
        for i in range(10, 15)
    ]
    # The same reviews edited and removed at once too: whichever wins, the count is right.
    races = [
        partial(s.reviews.moderate, ADMIN, reviews[i].id, Decision.REJECT, RejectReason.SPAM)
        for i in range(3)
    ]
    results = all_at_once([*edits, *deletes, *removals, *races])
    assert not [r for r in results if isinstance(r, Exception)], results
    rating = s.reviews.rating(ADMIN, "sku-1")
    assert rating.count == 0
    assert rating.histogram == (0, 0, 0, 0, 0)
    assert rating.total == 0


def test_a_double_tap_submits_one_review(local_services: Services) -> None:
    s = local_services
    enroll(s, "cust-1")
    data = ReviewInput("sku-1", 4, "Title", "Body")
    same_key = all_at_once([partial(s.reviews.submit, member("cust-1"), data, "k")] * 10)
    assert len({(r.id, r.created_at) for r in same_key if isinstance(r, Review)}) == 1
    assert all(isinstance(r, Review) for r in same_key), same_key
    other_keys = all_at_once(
        [partial(s.reviews.submit, member("cust-1"), data, f"k-{i}") for i in range(10)]
    )
    assert Counter(type(r).__name__ for r in other_keys) == {"InvalidInput": 10}
    assert all(isinstance(r, InvalidInput) and r.field == "sku" for r in other_keys)
    assert len(s.reviews.mine(member("cust-1"), 10, None).reviews) == 1


def listed_copies(sku: str) -> dict[tuple[str, str], dict[str, object]]:
    """Every listed copy of the product's approved reviews, by key (a strongly consistent
    Query per listing)."""
    found: dict[tuple[str, str], dict[str, object]] = {}
    for pk, prefix in (
        (reviews_store.newest_pk(sku), reviews_store.NEWEST),
        (reviews_store.rating_pk(sku), reviews_store.BY_RATING),
        (reviews_store.helpful_pk(sku), reviews_store.BY_HELPFUL),
    ):
        for item in reads.query(pk, TableItem.sk.startswith(prefix), limit=500, descending=False):
            assert isinstance(item, reviews_store.ListedItem)
            found[item.key] = item.review
    return found


def stored(review_id: str) -> Review:
    member_id, sku = parse_review_id(review_id)
    item = reads.get(reviews_store.review_key(sku, member_id), reviews_store.ReviewItem)
    assert item is not None
    return reviews_store.review_from_item(item)


def test_twenty_members_vote_on_one_review_at_once(local_services: Services) -> None:
    s = local_services
    target = submitted(s, 21)[0]
    s.reviews.moderate(ADMIN, target.id, Decision.APPROVE, None)
    voters = [member(f"cust-{i}") for i in range(1, 21)]
    # 14 helpful, 6 not; each sent twice at once (a double tap).
    votes: list[Callable[[], ReviewVote]] = [
        partial(s.reviews.vote, v, target.id, i % 10 < 7) for i, v in enumerate(voters)
    ]
    results = all_at_once(votes + votes)
    assert all(isinstance(r, ReviewVote) for r in results), results
    review = stored(target.id)
    assert (review.helpful_votes, review.unhelpful_votes) == (14, 6)
    copies = listed_copies("sku-1")
    assert copies == {
        key: reviews_store.to_json(review) for key in reviews_store.listed_keys(review)
    }
    page = s.reviews.product_reviews(ADMIN, "sku-1", ReviewSort.MOST_HELPFUL, 10, None)
    assert [(r.id, r.helpful_votes, r.unhelpful_votes) for r in page.reviews] == [
        (target.id, 14, 6)
    ]


def test_a_member_flipping_their_vote_at_once_ends_consistent(local_services: Services) -> None:
    s = local_services
    target = submitted(s, 3)[0]
    s.reviews.moderate(ADMIN, target.id, Decision.APPROVE, None)
    s.reviews.vote(member("cust-2"), target.id, True)  # another member's vote stands
    flipper = member("cust-1")
    calls: list[Callable[[], ReviewVote]] = [
        partial(s.reviews.vote, flipper, target.id, True),
        partial(s.reviews.vote, flipper, target.id, False),
        partial(s.reviews.withdraw_vote, flipper, target.id),
    ] * 4
    results = all_at_once(calls)
    assert all(isinstance(r, ReviewVote) for r in results), results
    review = stored(target.id)
    final = reads.get(
        reviews_store.vote_key(flipper.member_id or "", "sku-1", target.member_id),
        reviews_store.VoteItem,
    )
    standing = reviews_store.vote_from_item(final, review)
    assert (review.helpful_votes, review.unhelpful_votes) == (
        1 + (standing is True),
        int(standing is False),
    )
    assert listed_copies("sku-1") == {
        key: reviews_store.to_json(review) for key in reviews_store.listed_keys(review)
    }
