"""Review inputs; each converts itself to the domain's input."""

from __future__ import annotations

import strawberry

from api.feedback import reviews_model as model


@strawberry.input(description="A review of a product (submitReview, updateReview).")
class ReviewInput:
    sku: str
    rating: int = strawberry.field(description="1 to 5.")
    title: str = strawberry.field(description="At most 150 characters, one line.")
    body: str = strawberry.field(description="At most 5000 characters.")
    photo_urls: list[str] = strawberry.field(
        default_factory=list, description="At most 5 https URLs."
    )

    def to_domain(self) -> model.ReviewInput:
        return model.ReviewInput(
            self.sku, self.rating, self.title, self.body, tuple(self.photo_urls)
        )


@strawberry.input
class SubmitReviewInput:
    review: ReviewInput
    idempotency_key: str


@strawberry.input(description="APPROVE, or REJECT with a policy reason (never the rating).")
class ModerateReviewInput:
    id: strawberry.ID
    decision: model.Decision
    reason: model.RejectReason | None = None
