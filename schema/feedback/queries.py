"""A product's reviews and rating; a member's own reviews; the moderation queue."""

from __future__ import annotations

import strawberry

from api.feedback.reviews_model import ReviewSort
from schema.context import Info
from schema.feedback.types import ProductRating, ReviewConnection

DEFAULT_PAGE = 20


@strawberry.type
class FeedbackQuery:
    @strawberry.field(description="A product's approved reviews: members and the shop backend.")
    def product_reviews(
        self,
        info: Info,
        sku: str,
        sort: ReviewSort = ReviewSort.NEWEST,
        first: int = DEFAULT_PAGE,
        after: str | None = None,
    ) -> ReviewConnection:
        ctx = info.context
        page = ctx.services.reviews.product_reviews(ctx.principal, sku, sort, first, after)
        return ReviewConnection.from_page(page)

    @strawberry.field(description="A product's rating: approved reviews, exact.")
    def product_rating(self, info: Info, sku: str) -> ProductRating:
        ctx = info.context
        return ProductRating.from_domain(sku, ctx.services.reviews.rating(ctx.principal, sku))

    @strawberry.field(description="Members: their own reviews in any status, by SKU.")
    def my_reviews(
        self, info: Info, first: int = DEFAULT_PAGE, after: str | None = None
    ) -> ReviewConnection:
        ctx = info.context
        return ReviewConnection.from_page(ctx.services.reviews.mine(ctx.principal, first, after))

    @strawberry.field(description="Admin: reviews waiting for moderation, oldest first.")
    def pending_reviews(
        self, info: Info, first: int = DEFAULT_PAGE, after: str | None = None
    ) -> ReviewConnection:
        ctx = info.context
        return ReviewConnection.from_page(ctx.services.reviews.pending(ctx.principal, first, after))
