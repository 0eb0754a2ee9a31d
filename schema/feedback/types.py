"""Reviews and a product's rating as clients see them."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.feedback import reviews_model as model
from schema.common import PageInfo

strawberry.enum(model.ReviewStatus, name="ReviewStatus")
strawberry.enum(model.RejectReason, name="ReviewRejectReason", description="Content policy.")
strawberry.enum(model.Decision, name="ReviewDecision")
strawberry.enum(
    model.ReviewSort,
    name="ReviewSort",
    description=(
        "NEWEST: by approval; HIGHEST/LOWEST: by rating, then by approval; MOST_HELPFUL: by "
        "helpful votes, then newest approved first."
    ),
)


@strawberry.type(description="A member's review of a product.")
class Review:
    id: strawberry.ID
    sku: str
    member_id: strawberry.ID
    rating: int
    title: str
    body: str
    photo_urls: list[str]
    status: model.ReviewStatus
    reject_reason: model.RejectReason | None = strawberry.field(
        description="Why it was rejected or removed: a content policy, never the rating."
    )
    incentivized: bool = strawberry.field(
        description="Its approval earned the member points (a review reward): disclose it."
    )
    verified: bool = strawberry.field(
        description="When submitted, the member had an order of it that was not fully refunded."
    )
    helpful_votes: int = strawberry.field(description="Members who found it helpful, now.")
    unhelpful_votes: int = strawberry.field(description="Members who did not, now.")
    created_at: datetime
    updated_at: datetime
    approved_at: datetime | None

    @classmethod
    def from_domain(cls, r: model.Review) -> Review:
        return cls(
            id=strawberry.ID(r.id),
            sku=r.sku,
            member_id=strawberry.ID(r.member_id),
            rating=r.rating,
            title=r.title,
            body=r.body,
            photo_urls=list(r.photo_urls),
            status=r.status,
            reject_reason=r.reject_reason,
            incentivized=r.incentivized,
            verified=r.verified,
            helpful_votes=r.helpful_votes,
            unhelpful_votes=r.unhelpful_votes,
            created_at=r.created_at,
            updated_at=r.updated_at,
            approved_at=r.approved_at,
        )


@strawberry.type
class ReviewEdge:
    node: Review
    cursor: str


@strawberry.type
class ReviewConnection:
    edges: list[ReviewEdge]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: model.ReviewPage) -> ReviewConnection:
        edges = [
            ReviewEdge(node=Review.from_domain(r), cursor=c)
            for r, c in zip(page.reviews, page.cursors, strict=True)
        ]
        return cls(edges=edges, page_info=PageInfo.forward(list(page.cursors), page.has_next))


@strawberry.type(description="A product's approved reviews, exact.")
class ProductRating:
    sku: str
    count: int
    average: float | None = strawberry.field(description="Two decimals; null: no reviews.")
    histogram: list[int] = strawberry.field(description="How many gave 1, 2, 3, 4, 5 stars.")

    @classmethod
    def from_domain(cls, sku: str, r: model.Rating) -> ProductRating:
        return cls(sku=sku, count=r.count, average=r.average, histogram=list(r.histogram))
