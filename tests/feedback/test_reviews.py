"""Reviews on moto: one per member per product, moderation, the product's rating."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from api.auth import Principal, Role, principal_from_claims
from api.clock import ManualClock
from api.config import Config
from api.errors import Forbidden, IdempotencyConflict, InvalidInput, MemberNotFound, NotFound
from api.feedback.reviews import MAX_PER_DAY
from api.feedback.reviews_model import (
    Decision,
    Rating,
    RejectReason,
    ReviewInput,
    ReviewSort,
    ReviewStatus,
)
from api.ids import member_id_for
from api.points.model import EntryKind, OrderInput, OrderLine, RefundInput
from api.points.store import order_key
from api.program.model import SettingsChange
from api.services import Services
from api.store import reads
from api.store.base import TableItem
from api.stream import Change
from tests.support import ADMIN, SERVICE, enroll, ledger_entries, member, redeem, stored_member

M1, M2, M3 = member("cust-1"), member("cust-2"), member("cust-3")


def review(sku: str = "sku-1", rating: int = 4, **kw: object) -> ReviewInput:
    return ReviewInput(
        sku=sku,
        rating=rating,
        title=str(kw.get("title", "Good")),
        body=str(kw.get("body", "Fits well.\nWould buy again.")),
        photo_urls=tuple(kw.get("photos", ())),  # type: ignore[arg-type]
    )


@pytest.fixture(autouse=True)
def members(services: Services) -> None:
    for c in ("cust-1", "cust-2", "cust-3"):
        enroll(services, c)


def items() -> list[dict[str, object]]:
    found: list[dict[str, object]] = TableItem._get_connection().scan()["Items"]
    return found


def test_submit_is_pending_and_not_counted(services: Services) -> None:
    r = services.reviews.submit(M1, review(), "k1")
    assert r.status is ReviewStatus.PENDING
    assert r.version == 1
    assert r.body == "Fits well.\nWould buy again."
    assert services.reviews.rating(SERVICE, "sku-1") == Rating()
    assert services.reviews.product_reviews(M2, "sku-1", ReviewSort.NEWEST, 10, None).reviews == []
    assert [p.id for p in services.reviews.pending(ADMIN, 10, None).reviews] == [r.id]
    assert [p.id for p in services.reviews.mine(M1, 10, None).reviews] == [r.id]


def test_one_review_per_member_per_product_and_replay(services: Services) -> None:
    first = services.reviews.submit(M1, review(), "k1")
    assert services.reviews.submit(M1, review(), "k1") == first  # replay
    with pytest.raises(IdempotencyConflict):
        services.reviews.submit(M1, review(rating=2), "k1")
    before = items()
    with pytest.raises(InvalidInput) as exc:
        services.reviews.submit(M1, review(rating=2), "k2")
    assert exc.value.field == "sku"
    assert items() == before
    services.reviews.submit(M2, review(), "k1")  # another member, the same key
    # A replay answers what the first request did, whatever happened to the review since.
    services.reviews.update(M1, review(rating=2))
    assert services.reviews.submit(M1, review(), "k1") == first
    services.reviews.delete(M1, first.sku)
    assert services.reviews.submit(M1, review(), "k1") == first


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (review(rating=0), "rating"),
        (review(rating=6), "rating"),
        (review(rating=True), "rating"),
        (review(body="x" * 10_000), "body"),
        (review(body="   "), "body"),
        (review(body="bad\x00byte"), "body"),
        (review(body="bidi\u202etrick"), "body"),
        (review(title="x" * 151), "title"),
        (review(title="line\nbreak"), "title"),
        (review(sku="bad sku"), "sku"),
        (review(photos=["http://x.example/a.jpg"]), "photoUrls.0"),
        (review(photos=["https://x.example/a b.jpg"]), "photoUrls.0"),
        (review(photos=["javascript:alert(1)"]), "photoUrls.0"),
        (review(photos=["https://[::1"]), "photoUrls.0"),  # urlsplit raises on these
        (review(photos=["https://[zz]/x.jpg"]), "photoUrls.0"),
        (review(photos=["https://x.example:99999/a.jpg"]), "photoUrls.0"),
        (review(photos=[f"https://x.example/{i}.jpg" for i in range(6)]), "photoUrls"),
    ],
)
def test_bad_input_writes_nothing(services: Services, data: ReviewInput, field: str) -> None:
    before = items()
    with pytest.raises(InvalidInput) as exc:
        services.reviews.submit(M1, data, "k")
    assert exc.value.field == field
    assert items() == before


def test_who_may_write(services: Services) -> None:
    with pytest.raises(Forbidden):
        services.reviews.submit(SERVICE, review(), "k")
    with pytest.raises(Forbidden):
        services.reviews.submit(ADMIN, review(), "k")
    stranger = Principal(Role.MEMBER, member_id_for("nobody"), member_id_for("nobody"))
    with pytest.raises(MemberNotFound):
        services.reviews.submit(stranger, review(), "k")
    r = services.reviews.submit(M1, review(), "k")
    with pytest.raises(NotFound):  # a member edits only their own: M2 has none
        services.reviews.update(M2, review(rating=1))
    with pytest.raises(Forbidden):
        services.reviews.moderate(M2, r.id, Decision.APPROVE, None)


def test_daily_limit(services: Services, clock: ManualClock) -> None:
    for i in range(MAX_PER_DAY):
        services.reviews.submit(M1, review(f"sku-{i}"), f"k{i}")
    with pytest.raises(InvalidInput):
        services.reviews.submit(M1, review("sku-x"), "kx")
    clock.advance(timedelta(days=1))
    services.reviews.submit(M1, review("sku-x"), "kx")


def test_approval_counts_and_lists(services: Services, clock: ManualClock) -> None:
    ids = []
    for who, rating in ((M1, 5), (M2, 2), (M3, 4)):
        ids.append(services.reviews.submit(who, review(rating=rating), "k").id)
        clock.advance(timedelta(seconds=1))
    for rid in ids:
        approved = services.reviews.moderate(ADMIN, rid, Decision.APPROVE, None)
        assert approved.status is ReviewStatus.APPROVED
        clock.advance(timedelta(seconds=1))
    assert services.reviews.moderate(ADMIN, ids[0], Decision.APPROVE, None).version == 2  # again
    summary = services.reviews.rating(M1, "sku-1")
    assert (summary.count, summary.total, summary.histogram) == (3, 11, (0, 1, 0, 1, 1))
    assert summary.average == 3.67
    assert services.reviews.pending(ADMIN, 10, None).reviews == []

    def order(sort: ReviewSort) -> list[int]:
        page = services.reviews.product_reviews(SERVICE, "sku-1", sort, 10, None)
        return [r.rating for r in page.reviews]

    assert order(ReviewSort.NEWEST) == [4, 2, 5]
    assert order(ReviewSort.HIGHEST) == [5, 4, 2]
    assert order(ReviewSort.LOWEST) == [2, 4, 5]
    first = services.reviews.product_reviews(SERVICE, "sku-1", ReviewSort.HIGHEST, 2, None)
    assert first.has_next
    rest = services.reviews.product_reviews(
        SERVICE, "sku-1", ReviewSort.HIGHEST, 2, first.cursors[-1]
    )
    assert [r.rating for r in rest.reviews] == [2]
    assert not rest.has_next
    with pytest.raises(InvalidInput):  # a cursor of another listing
        services.reviews.product_reviews(SERVICE, "sku-1", ReviewSort.NEWEST, 2, first.cursors[-1])
    with pytest.raises(InvalidInput):
        services.reviews.product_reviews(SERVICE, "sku-1", ReviewSort.NEWEST, 2, "garbage")


def test_edit_and_delete_keep_the_rating_exact(services: Services, clock: ManualClock) -> None:
    r1 = services.reviews.submit(M1, review(rating=5), "k")
    r2 = services.reviews.submit(M2, review(rating=3), "k")
    for r in (r1, r2):
        services.reviews.moderate(ADMIN, r.id, Decision.APPROVE, None)
    clock.advance(timedelta(seconds=5))
    edited = services.reviews.update(M1, review(rating=1, title="Changed my mind"))
    assert edited.status is ReviewStatus.PENDING
    assert edited.approved_at is None
    assert services.reviews.rating(M1, "sku-1") == Rating(1, 3, (0, 0, 1, 0, 0))
    assert services.reviews.update(M1, review(rating=1, title="Changed my mind")) == edited
    services.reviews.update(M1, review(rating=2, title="Pending edit"))  # still pending
    assert len(services.reviews.pending(ADMIN, 10, None).reviews) == 1
    services.reviews.moderate(ADMIN, r1.id, Decision.APPROVE, None)
    assert services.reviews.rating(M1, "sku-1") == Rating(2, 5, (0, 1, 1, 0, 0))
    services.reviews.delete(M2, "sku-1")
    assert services.reviews.rating(M1, "sku-1") == Rating(1, 2, (0, 1, 0, 0, 0))
    with pytest.raises(NotFound):
        services.reviews.delete(M2, "sku-1")
    assert services.reviews.mine(M2, 10, None).reviews == []
    # Deleted: the member may review the product again.
    services.reviews.submit(M2, review(rating=3), "k2")
    page = services.reviews.product_reviews(M1, "sku-1", ReviewSort.NEWEST, 10, None)
    assert [(r.member_id, r.rating, r.title) for r in page.reviews] == [
        (M1.member_id, 2, "Pending edit")
    ]


def test_rejection_and_removal_name_a_policy_reason(services: Services) -> None:
    r = services.reviews.submit(M1, review(rating=1), "k")
    with pytest.raises(InvalidInput) as exc:
        services.reviews.moderate(ADMIN, r.id, Decision.REJECT, None)
    assert exc.value.field == "reason"
    with pytest.raises(InvalidInput):
        services.reviews.moderate(ADMIN, r.id, Decision.APPROVE, RejectReason.SPAM)
    services.reviews.moderate(ADMIN, r.id, Decision.APPROVE, None)
    removed = services.reviews.moderate(ADMIN, r.id, Decision.REJECT, RejectReason.ABUSIVE)
    assert removed.status is ReviewStatus.REJECTED
    assert removed.reject_reason is RejectReason.ABUSIVE
    assert services.reviews.rating(M1, "sku-1") == Rating(0, 0, (0, 0, 0, 0, 0))
    assert services.reviews.product_reviews(M1, "sku-1", ReviewSort.LOWEST, 5, None).reviews == []
    assert services.reviews.pending(ADMIN, 5, None).reviews == []
    assert [x.status for x in services.reviews.mine(M1, 5, None).reviews] == [ReviewStatus.REJECTED]


def test_an_admin_cannot_moderate_their_own_review(services: Services, config: Config) -> None:
    r = services.reviews.submit(M1, review(), "k")
    me = Principal(Role.ADMIN, M1.member_id or "")
    with pytest.raises(InvalidInput):
        services.reviews.moderate(me, r.id, Decision.APPROVE, None)
    # As tokens make them: the admin's own customer id in the member claim.
    claims = {"sub": "cust-1", config.groups_claim: f"[{config.admin_group}]"}
    token_admin = principal_from_claims(claims, config)
    assert token_admin.role is Role.ADMIN
    assert token_admin.member_id is None  # no member's access
    with pytest.raises(InvalidInput):
        services.reviews.moderate(token_admin, r.id, Decision.APPROVE, None)
    for bad in ("rev_x", "mbr_1", r.id + " ", "rev_" + "0" * 26 + "_bad sku"):
        with pytest.raises(InvalidInput):
            services.reviews.moderate(ADMIN, bad, Decision.APPROVE, None)


def balance(customer: str) -> int:
    return stored_member(member_id_for(customer)).points.balance


def kinds(customer: str) -> list[tuple[EntryKind, int]]:
    return [(e.kind, e.points) for e in ledger_entries(member_id_for(customer))]


def test_review_rewards_ignore_the_rating_and_come_once(services: Services) -> None:
    services.program.update(ADMIN, SettingsChange(review_reward_points=50))
    low = services.reviews.submit(M1, review(rating=1), "k")
    high = services.reviews.submit(M2, review(rating=5), "k")
    assert not low.incentivized
    for r in (low, high):
        approved = services.reviews.moderate(ADMIN, r.id, Decision.APPROVE, None)
        assert approved.incentivized
    assert balance("cust-1") == balance("cust-2") == 50
    assert kinds("cust-1") == [(EntryKind.REVIEW, 50)]
    # Edited, approved again; deleted, written again and approved: no second reward.
    services.reviews.update(M1, review(rating=2))
    services.reviews.moderate(ADMIN, low.id, Decision.APPROVE, None)
    services.reviews.delete(M1, "sku-1")
    again = services.reviews.submit(M1, review(rating=5), "k2")
    again = services.reviews.moderate(ADMIN, again.id, Decision.APPROVE, None)
    assert not again.incentivized
    assert kinds("cust-1") == [(EntryKind.REVIEW, 50)]
    # Removing the new, unrewarded review takes nothing back.
    services.reviews.moderate(ADMIN, again.id, Decision.REJECT, RejectReason.SPAM)
    assert balance("cust-1") == 50
    # Another product rewards again.
    other = services.reviews.submit(M1, review("sku-2"), "k3")
    services.reviews.moderate(ADMIN, other.id, Decision.APPROVE, None)
    assert balance("cust-1") == 100


def test_removal_for_a_policy_violation_claws_the_reward_back(services: Services) -> None:
    services.program.update(ADMIN, SettingsChange(review_reward_points=50))
    r = services.reviews.submit(M1, review(rating=5), "k")
    services.reviews.moderate(ADMIN, r.id, Decision.APPROVE, None)
    redeem(services, 30, "spend")  # spent part of it
    removed = services.reviews.moderate(ADMIN, r.id, Decision.REJECT, RejectReason.NOT_A_CUSTOMER)
    assert removed.incentivized
    assert kinds("cust-1") == [
        (EntryKind.REVIEW, 50),
        (EntryKind.REDEEM, -30),
        (EntryKind.REVIEW_CLAWBACK, -50),
    ]
    assert balance("cust-1") == -30  # a debt (the default negative-balance policy)
    assert balance("cust-1") == sum(p for _, p in kinds("cust-1"))
    # Approved again and removed again: neither rewarded nor taken back twice.
    services.reviews.moderate(ADMIN, r.id, Decision.APPROVE, None)
    services.reviews.moderate(ADMIN, r.id, Decision.REJECT, RejectReason.SPAM)
    assert len(kinds("cust-1")) == 3


def test_no_reward_when_off(services: Services) -> None:
    r = services.reviews.submit(M1, review(), "k")
    assert not services.reviews.moderate(ADMIN, r.id, Decision.APPROVE, None).incentivized
    assert kinds("cust-1") == []


def bought(services: Services, order_id: str, customer: str, *skus: str) -> None:
    """An order of these SKUs, and the stream's reaction to it (delivered twice)."""
    lines = [OrderLine(sku, 1, Decimal(10)) for sku in skus]
    result = services.orders.record_order(
        SERVICE,
        OrderInput(
            order_id,
            Decimal(10 * len(skus)),
            "EUR",
            services.clock.now(),
            customer_id=customer,
            lines=lines,
        ),
    )
    item = reads.get(order_key(result.order.order_id), TableItem)
    for _ in range(2):
        services.reactions.dispatch(Change(f"ev-{order_id}", None, item))


def test_verified_when_an_order_of_it_was_not_fully_refunded(services: Services) -> None:
    bought(services, "o-1", "cust-1", "sku-1", "sku-2")
    bought(services, "o-2", "cust-2", "sku-1")
    services.refunds.refund_order(SERVICE, RefundInput("r-1", "o-2", Decimal(10), "EUR"))
    bought(services, "o-3", "cust-3", "sku-9")
    assert services.reviews.submit(M1, review("sku-1"), "k").verified
    assert not services.reviews.submit(M2, review("sku-1"), "k").verified  # refunded
    assert not services.reviews.submit(M3, review("sku-1"), "k").verified  # another SKU
    # A partial refund leaves it verified.
    bought(services, "o-4", "cust-2", "sku-2", "sku-3")
    services.refunds.refund_order(SERVICE, RefundInput("r-2", "o-4", Decimal(10), "EUR"))
    assert services.reviews.submit(M2, review("sku-2"), "k2").verified


def test_a_sku_with_a_hash_does_not_verify_its_prefix(services: Services) -> None:
    bought(services, "o-1", "cust-1", "MUG#BLUE")
    assert not services.reviews.submit(M1, review("MUG"), "k").verified
    assert services.reviews.submit(M1, review("MUG#BLUE"), "k2").verified


def test_verification_is_checked_again_at_approval(services: Services) -> None:
    services.program.update(
        ADMIN, SettingsChange(review_reward_points=20, review_reward_verified_only=True)
    )
    bought(services, "o-1", "cust-1", "sku-1")
    r1 = services.reviews.submit(M1, review("sku-1"), "k")
    assert r1.verified
    services.refunds.refund_order(SERVICE, RefundInput("r-1", "o-1", Decimal(10), "EUR"))
    approved = services.reviews.moderate(ADMIN, r1.id, Decision.APPROVE, None)
    assert (approved.verified, approved.incentivized) == (False, False)
    assert balance("cust-1") == 0  # the order's points refunded, no reward
    # Submitted before the stream recorded the order: verified when approved.
    r2 = services.reviews.submit(M2, review("sku-1"), "k")
    assert not r2.verified
    bought(services, "o-2", "cust-2", "sku-1")
    approved = services.reviews.moderate(ADMIN, r2.id, Decision.APPROVE, None)
    assert (approved.verified, approved.incentivized) == (True, True)
    assert balance("cust-2") == 10 + 20
    listed = services.reviews.product_reviews(M1, "sku-1", ReviewSort.NEWEST, 5, None).reviews
    assert {(r.member_id, r.verified) for r in listed} == {
        (r1.member_id, False),
        (r2.member_id, True),
    }


def test_verified_only_rewards(services: Services) -> None:
    services.program.update(
        ADMIN, SettingsChange(review_reward_points=20, review_reward_verified_only=True)
    )
    bought(services, "o-1", "cust-1", "sku-1")
    for who in (M1, M2):
        r = services.reviews.submit(who, review("sku-1"), "k")
        services.reviews.moderate(ADMIN, r.id, Decision.APPROVE, None)
    assert (balance("cust-1"), balance("cust-2")) == (10 + 20, 0)  # the order's 10, the reward
