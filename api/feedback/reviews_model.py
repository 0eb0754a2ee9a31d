"""Product reviews: one per member per product, moderated before anyone else sees them.

A review is PENDING when submitted or edited, then APPROVED or REJECTED by an admin; a
rejection names a policy reason, never the rating (FTC 16 CFR 465: no suppression by
sentiment). Only approved reviews are listed and counted in the product's rating.

Other members vote an approved review helpful or not, once each: the review carries the
counts of the votes standing now, whatever its status since (an edit keeps them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

MIN_RATING, MAX_RATING = 1, 5


class ReviewStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class RejectReason(StrEnum):
    """The content policy: the only grounds to reject or remove a review."""

    SPAM = "SPAM"
    OFF_TOPIC = "OFF_TOPIC"
    ABUSIVE = "ABUSIVE"
    PERSONAL_DATA = "PERSONAL_DATA"
    NOT_A_CUSTOMER = "NOT_A_CUSTOMER"
    CONFLICT_OF_INTEREST = "CONFLICT_OF_INTEREST"
    ILLEGAL_CONTENT = "ILLEGAL_CONTENT"


class Decision(StrEnum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"


class ReviewSort(StrEnum):
    NEWEST = "NEWEST"  # by approval time
    HIGHEST = "HIGHEST"  # by rating, then newest approved first
    LOWEST = "LOWEST"  # by rating, then oldest approved first
    MOST_HELPFUL = "MOST_HELPFUL"  # by helpful votes, then newest approved first


@dataclass(frozen=True)
class Review:
    sku: str
    member_id: str
    rating: int
    title: str
    body: str
    photo_urls: tuple[str, ...]
    status: ReviewStatus
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime  # when it last entered moderation: its place in the queue
    approved_at: datetime | None = None
    reject_reason: RejectReason | None = None
    incentivized: bool = False  # its approval earned the member a review reward
    verified: bool = False  # at submission and approval: an order of it not fully refunded
    helpful_votes: int = 0
    unhelpful_votes: int = 0
    # Random per submission: a review deleted and written again has the same id, and the
    # vote items left from the first must not count in the second.
    incarnation: str = ""
    version: int | None = None

    @property
    def id(self) -> str:
        return review_id(self.member_id, self.sku)


def review_id(member_id: str, sku: str) -> str:
    return f"rev_{member_id.removeprefix('mbr_')}_{sku}"


@dataclass(frozen=True)
class ReviewVote:
    """A member's vote on a review as it stands: helpful, unhelpful, or none (withdrawn)."""

    review: Review
    helpful: bool | None


@dataclass(frozen=True)
class ReviewInput:
    sku: str
    rating: int
    title: str
    body: str
    photo_urls: Sequence[str] = ()


@dataclass(frozen=True)
class Rating:
    """Approved reviews of a product: count, sum of ratings and how many gave each rating."""

    count: int = 0
    total: int = 0
    histogram: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)

    @property
    def average(self) -> float | None:
        return None if self.count == 0 else round(self.total / self.count, 2)


@dataclass(frozen=True)
class ReviewPage:
    reviews: Sequence[Review]
    cursors: Sequence[str]
    has_next: bool
