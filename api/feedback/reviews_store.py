"""Review items and their mapping both ways.

| item            | pk                       | sk                                   |
| --------------- | ------------------------ | ------------------------------------ |
| review          | PRODUCT#<sku>            | REVIEW#<member id>                   | one per member
| rating          | PRODUCT#<sku>            | RATING                               | ADD counters
| listed (newest) | REVIEWS#<sku>#NEWEST     | T#<approved at>#<member id>          | approved
| listed (rating) | REVIEWS#<sku>#RATING     | R#<rating>#<approved at>#<member id> | approved
| listed (votes)  | REVIEWS#<sku>#HELPFUL    | H#<helpful>#<approved at>#<member id> | approved
| listed (queue)  | REVIEWS#PENDING          | P#<submitted at>#<sku>#<member id>   | pending
| my review       | MREVIEWS#<member id>     | P#<sku>                              | "my reviews"
| daily count     | MREVIEWS#<member id>     | DAY#<UTC date>                       | submissions
| purchase        | MREVIEWS#<member id>     | BOUGHT#<sku>#<order id>              | by the stream
| reward marker   | MREVIEWS#<member id>     | REWARD#<sku>                         | rewarded once
| vote            | MREVIEWS#<voter id>      | VOTE#<sku>#<reviewer id>             | one per review
| daily votes     | MREVIEWS#<voter id>      | VDAY#<UTC date>                      | votes cast

The rating item changes only with ADD, in the same transaction as the review's move into or
out of APPROVED (under the review's version), so it is exact under any concurrency and
never needs a scan. Listed items are copies of the review as it is now: every write of the
review (approval, edit, vote) rewrites or moves all of its copies in the same transaction,
under the review's version, and their keys derive from the review alone (`listed_keys`).
So each listing shows current vote counts, and the HELPFUL copy's key always holds the
review's helpful count (zero-padded to COUNT_DIGITS, so text order is number order).

A vote item remembers which review it counts in (the review's incarnation, random per
submission): a review deleted and written again starts with no votes, and the old vote
items count for nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)

from api.feedback.reviews_model import Rating, RejectReason, Review, ReviewStatus
from api.store.base import IntegerAttribute, JSONAttribute, Key, TableItem

PENDING_PK = "REVIEWS#PENDING"
NEWEST, BY_RATING, BY_HELPFUL, QUEUED, MINE = "T#", "R#", "H#", "P#", "P#"
COUNT_DIGITS = 10  # helpful counts sort as text: zero-padded


def review_key(sku: str, member_id: str) -> Key:
    return (f"PRODUCT#{sku}", f"REVIEW#{member_id}")


def rating_key(sku: str) -> Key:
    return (f"PRODUCT#{sku}", "RATING")


def newest_pk(sku: str) -> str:
    return f"REVIEWS#{sku}#NEWEST"


def rating_pk(sku: str) -> str:
    return f"REVIEWS#{sku}#RATING"


def helpful_pk(sku: str) -> str:
    return f"REVIEWS#{sku}#HELPFUL"


def mine_pk(member_id: str) -> str:
    return f"MREVIEWS#{member_id}"


def mine_key(member_id: str, sku: str) -> Key:
    return (mine_pk(member_id), f"{MINE}{sku}")


def reward_key(member_id: str, sku: str) -> Key:
    return (mine_pk(member_id), f"REWARD#{sku}")


def purchases_prefix(sku: str) -> str:
    return f"BOUGHT#{sku}#"


def purchase_key(member_id: str, sku: str, order_id: str) -> Key:
    return (mine_pk(member_id), f"{purchases_prefix(sku)}{order_id}")


def daily_key(member_id: str, day: str) -> Key:
    return (mine_pk(member_id), f"DAY#{day}")


def vote_key(voter_id: str, sku: str, reviewer_id: str) -> Key:
    return (mine_pk(voter_id), f"VOTE#{sku}#{reviewer_id}")


def daily_votes_key(voter_id: str, day: str) -> Key:
    return (mine_pk(voter_id), f"VDAY#{day}")


class ReviewItem(TableItem, discriminator="review"):
    sku = UnicodeAttribute()
    member_id = UnicodeAttribute()
    rating = IntegerAttribute()
    status = UnicodeAttribute()
    content = JSONAttribute()  # title, body, photo URLs, reason, times: read together
    version = VersionAttribute()


class RatingItem(TableItem, discriminator="review_rating"):
    reviews = IntegerAttribute(default=0)
    total = IntegerAttribute(default=0)
    r1 = IntegerAttribute(default=0)
    r2 = IntegerAttribute(default=0)
    r3 = IntegerAttribute(default=0)
    r4 = IntegerAttribute(default=0)
    r5 = IntegerAttribute(default=0)


class ListedItem(TableItem, discriminator="review_listed"):
    review = JSONAttribute()  # the review as listed


class MineItem(TableItem, discriminator="review_mine"):
    sku = UnicodeAttribute()


class RewardMarkerItem(TableItem, discriminator="review_reward"):
    """A member was rewarded for reviewing this product: never again, even after a delete."""

    points = IntegerAttribute()
    seq = IntegerAttribute()  # the REVIEW entry
    clawed_seq = IntegerAttribute(null=True)  # the REVIEW_CLAWBACK entry, once taken back
    version = VersionAttribute()


class PurchaseItem(TableItem, discriminator="review_purchase"):
    """The member ordered this SKU in this order (written by a stream reaction)."""

    order_id = UnicodeAttribute()


class DailyItem(TableItem, discriminator="review_daily"):
    submitted = IntegerAttribute(default=0)
    created_at = UTCDateTimeAttribute(null=True)


class VoteItem(TableItem, discriminator="review_vote"):
    """A member's vote on a review; it counts only while `incarnation` is that review's."""

    sku = UnicodeAttribute()
    reviewer_id = UnicodeAttribute()
    helpful = BooleanAttribute()
    incarnation = UnicodeAttribute()
    voted_at = UTCDateTimeAttribute()
    version = VersionAttribute()


class DailyVotesItem(TableItem, discriminator="review_daily_votes"):
    votes = IntegerAttribute(default=0)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def to_json(r: Review) -> dict[str, Any]:
    return {
        "sku": r.sku,
        "member_id": r.member_id,
        "rating": r.rating,
        "status": r.status.value,
        "title": r.title,
        "body": r.body,
        "photo_urls": list(r.photo_urls),
        "created_at": r.created_at.isoformat(),
        "updated_at": r.updated_at.isoformat(),
        "submitted_at": r.submitted_at.isoformat(),
        "approved_at": _iso(r.approved_at),
        "reject_reason": None if r.reject_reason is None else r.reject_reason.value,
        "incentivized": r.incentivized,
        "verified": r.verified,
        "helpful_votes": r.helpful_votes,
        "unhelpful_votes": r.unhelpful_votes,
        "incarnation": r.incarnation,
    }


def from_json(d: dict[str, Any], version: int | None = None) -> Review:
    created = datetime.fromisoformat(d["created_at"])
    return Review(
        sku=d["sku"],
        member_id=d["member_id"],
        rating=d["rating"],
        title=d["title"],
        body=d["body"],
        photo_urls=tuple(d["photo_urls"]),
        status=ReviewStatus(d["status"]),
        created_at=created,
        updated_at=datetime.fromisoformat(d["updated_at"]),
        submitted_at=_when(d["submitted_at"]) or created,
        approved_at=_when(d["approved_at"]),
        reject_reason=None if d["reject_reason"] is None else RejectReason(d["reject_reason"]),
        incentivized=d.get("incentivized", False),
        verified=d.get("verified", False),
        helpful_votes=d.get("helpful_votes", 0),
        unhelpful_votes=d.get("unhelpful_votes", 0),
        incarnation=d.get("incarnation", ""),
        version=version,
    )


def review_to_item(r: Review) -> ReviewItem:
    content = to_json(r)
    item = ReviewItem(
        *review_key(r.sku, r.member_id),
        sku=r.sku,
        member_id=r.member_id,
        rating=r.rating,
        status=r.status.value,
        content=content,
    )
    if r.version is not None:
        item.version = r.version
    return item


def review_from_item(item: ReviewItem) -> Review:
    return from_json(item.content, item.version)


def listed_keys(r: Review) -> list[Key]:
    """Where this review is listed in its present status."""
    if r.status is ReviewStatus.PENDING:
        return [(PENDING_PK, f"{QUEUED}{r.submitted_at.isoformat()}#{r.sku}#{r.member_id}")]
    if r.status is ReviewStatus.APPROVED:
        assert r.approved_at is not None
        at = r.approved_at.isoformat()
        return [
            (newest_pk(r.sku), f"{NEWEST}{at}#{r.member_id}"),
            (rating_pk(r.sku), f"{BY_RATING}{r.rating}#{at}#{r.member_id}"),
            (
                helpful_pk(r.sku),
                f"{BY_HELPFUL}{r.helpful_votes:0{COUNT_DIGITS}d}#{at}#{r.member_id}",
            ),
        ]
    return []


def listed_items(r: Review) -> list[ListedItem]:
    body = to_json(r)
    return [ListedItem(pk, sk, review=body) for pk, sk in listed_keys(r)]


def listed_from_item(item: ListedItem) -> Review:
    return from_json(item.review)


def rating_from_item(item: TableItem | None) -> Rating:
    if not isinstance(item, RatingItem):
        return Rating()
    return Rating(item.reviews, item.total, (item.r1, item.r2, item.r3, item.r4, item.r5))


def rating_deltas(rating: int, sign: int) -> dict[str, int]:
    """What one approved review adds to (sign 1) or takes from (sign -1) its product."""
    return {"reviews": sign, "total": sign * rating, f"r{rating}": sign}


def submitted_today(item: TableItem | None) -> int:
    return item.submitted if isinstance(item, DailyItem) else 0


def votes_today(item: TableItem | None) -> int:
    return item.votes if isinstance(item, DailyVotesItem) else 0


def vote_from_item(item: VoteItem | None, review: Review) -> bool | None:
    """The voter's standing vote on this review (None: none, or one on a deleted review that
    had the same id)."""
    if item is None or item.incarnation != review.incarnation:
        return None
    return item.helpful
