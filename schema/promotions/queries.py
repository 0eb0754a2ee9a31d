"""Checkout reads (evaluateCart) and the admins' view of promotions."""

from __future__ import annotations

import strawberry

from api.promotions.checkout import check_cart
from schema.context import Info
from schema.promotions.checkout import CartEvaluation, evaluation_of
from schema.promotions.inputs import CartInput
from schema.promotions.types import CodeBatch, Promotion


@strawberry.type
class PromotionQuery:
    @strawberry.field(
        description=(
            "Shop backend and members (their own cart): the discounts a cart gets now, each "
            "allocated to lines, the points it would earn, and why every other candidate "
            "does not apply. Writes nothing."
        )
    )
    def evaluate_cart(self, info: Info, cart: CartInput) -> CartEvaluation:
        ctx = info.context
        data = cart.to_domain()
        evaluated = ctx.services.checkout.evaluate(ctx.principal, data)
        return evaluation_of(evaluated, check_cart(data)[0])

    @strawberry.field(description="Admin: the live promotions (active and paused).")
    def promotions(self, info: Info) -> list[Promotion]:
        ctx = info.context
        return [Promotion.from_domain(p) for p in ctx.services.promotions.live(ctx.principal)]

    @strawberry.field(description="Admin: one promotion, archived ones too, with its usage.")
    def promotion(self, info: Info, id: strawberry.ID) -> Promotion:
        ctx = info.context
        return Promotion.from_view(ctx.services.promotions.get(ctx.principal, id))

    @strawberry.field(description="Admin: the code batches of a promotion, with progress.")
    def code_batches(self, info: Info, promotion_id: strawberry.ID) -> list[CodeBatch]:
        ctx = info.context
        found = ctx.services.code_batches.list(ctx.principal, promotion_id)
        return [CodeBatch.from_domain(b) for b in found]
