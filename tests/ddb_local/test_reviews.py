"""Reviews under real concurrency (DynamoDB Local): a product's rating stays exact however
many approvals, edits and deletions race, and a double tap submits one review."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import partial

import pytest

from api.errors import InvalidInput
from api.feedback.reviews_model import (
    Decision,
    Rating,
    RejectReason,
    Review,
    ReviewInput,
    ReviewSort,
)
from api.program.model import SettingsChange
from api.services import Services
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
