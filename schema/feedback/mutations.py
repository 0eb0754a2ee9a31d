"""Members submit, edit and delete their reviews; admins moderate them."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.feedback.reviews_model import ReviewVote
from schema.context import Info
from schema.errors import (
    ConcurrentUpdate,
    IdempotencyConflict,
    InvalidInput,
    MemberNotFound,
    NotFound,
    mutation,
)
from schema.feedback.inputs import ModerateReviewInput, ReviewInput, SubmitReviewInput
from schema.feedback.types import Review


@strawberry.type
class ReviewSaved:
    review: Review


@strawberry.type
class ReviewDeleted:
    review: Review


@strawberry.type(description="The caller's vote on a review as it stands, and the review.")
class ReviewVoted:
    review: Review
    helpful: bool | None = strawberry.field(description="null: no vote (withdrawn).")


SubmitReviewResult = Annotated[
    ReviewSaved | InvalidInput | MemberNotFound | NotFound | IdempotencyConflict | ConcurrentUpdate,
    strawberry.union("SubmitReviewResult"),
]
SaveReviewResult = Annotated[
    ReviewSaved | InvalidInput | NotFound | ConcurrentUpdate,
    strawberry.union("SaveReviewResult"),
]
ModerateReviewResult = Annotated[
    ReviewSaved | InvalidInput | NotFound | MemberNotFound | ConcurrentUpdate,
    strawberry.union("ModerateReviewResult"),
]
VoteReviewResult = Annotated[
    ReviewVoted | InvalidInput | NotFound | MemberNotFound | ConcurrentUpdate,
    strawberry.union("VoteReviewResult"),
]
DeleteReviewResult = Annotated[
    ReviewDeleted | InvalidInput | NotFound | ConcurrentUpdate,
    strawberry.union("DeleteReviewResult"),
]


@strawberry.type
class FeedbackMutation:
    @mutation(
        "Members: review a product, once per product (PENDING until moderated). At most 10 "
        "a day. Idempotent on the key."
    )
    def submit_review(self, info: Info, input: SubmitReviewInput) -> SubmitReviewResult:
        ctx = info.context
        review = ctx.services.reviews.submit(
            ctx.principal, input.review.to_domain(), input.idempotency_key
        )
        return ReviewSaved(review=Review.from_domain(review))

    @mutation("Members: change their review of a product; it returns to PENDING.")
    def update_review(self, info: Info, input: ReviewInput) -> SaveReviewResult:
        ctx = info.context
        review = ctx.services.reviews.update(ctx.principal, input.to_domain())
        return ReviewSaved(review=Review.from_domain(review))

    @mutation("Members: delete their review of a product.")
    def delete_review(self, info: Info, sku: str) -> DeleteReviewResult:
        ctx = info.context
        return ReviewDeleted(
            review=Review.from_domain(ctx.services.reviews.delete(ctx.principal, sku))
        )

    @mutation(
        "Admin: approve a review, or reject (remove, if approved) it for a content-policy "
        "reason. The first approval of a member's review of a product earns the program's "
        "reviewRewardPoints (whatever the rating); rejecting an incentivized review takes "
        "them back. The same decision again changes nothing."
    )
    def moderate_review(self, info: Info, input: ModerateReviewInput) -> ModerateReviewResult:
        ctx = info.context
        review = ctx.services.reviews.moderate(
            ctx.principal, input.id, input.decision, input.reason
        )
        return ReviewSaved(review=Review.from_domain(review))

    @mutation(
        "Members: vote another member's approved review helpful (true) or not (false): one "
        "vote per review, voting the other way changes it, the same vote again changes "
        "nothing. Not one's own review (OWN_REVIEW); at most 100 votes a day."
    )
    def vote_review(self, info: Info, review_id: strawberry.ID, helpful: bool) -> VoteReviewResult:
        ctx = info.context
        return _voted(ctx.services.reviews.vote(ctx.principal, review_id, helpful))

    @mutation("Members: take back their vote on an approved review; none: changes nothing.")
    def withdraw_review_vote(self, info: Info, review_id: strawberry.ID) -> VoteReviewResult:
        ctx = info.context
        return _voted(ctx.services.reviews.withdraw_vote(ctx.principal, review_id))


def _voted(vote: ReviewVote) -> ReviewVoted:
    return ReviewVoted(review=Review.from_domain(vote.review), helpful=vote.helpful)
