"""Checkout as GraphQL types: a cart's evaluation (allocations, reasons, hints, points) and
its reservation."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_FLOOR, Decimal

import strawberry

from api.promotions import model
from schema.common import Money
from schema.promotions.types import money


@strawberry.type(description="Part of a discount, on one cart line.")
class LineAllocation:
    line: int = strawberry.field(description="The line's index in the cart (from 0).")
    sku: str
    amount: Money


@strawberry.type
class AppliedPromotion:
    promotion_id: strawberry.ID
    name: str
    kind: model.EffectKind
    code: str | None
    discount: Money = strawberry.field(description="Lines and shipping together.")
    lines: list[LineAllocation] = strawberry.field(
        description="Sums exactly to the discount on the lines."
    )
    shipping: Money
    points: int = strawberry.field(description="Bonus points, or a multiplier's extra points.")


@strawberry.type
class NotAppliedPromotion:
    promotion_id: strawberry.ID
    name: str
    reason: model.Reason
    detail: str
    code: str | None


@strawberry.type(description="A near miss: what the cart lacks for a promotion.")
class PromotionHint:
    promotion_id: strawberry.ID
    name: str
    missing: Money | None
    missing_quantity: int | None
    message: str


@strawberry.type
class CartLineResult:
    sku: str
    quantity: int
    unit_price: Money
    subtotal: Money
    discount: Money
    total: Money


@strawberry.type(description="Points the order would earn.")
class CartPoints:
    base: int = strawberry.field(description="By the earning rule, on the discounted items.")
    tier_multiplier: Decimal
    promotions: int = strawberry.field(description="From bonus and multiplier promotions.")
    total: int


@strawberry.type
class CartEvaluation:
    currency: str
    subtotal: Money
    discount: Money = strawberry.field(description="On the lines.")
    shipping: Money
    shipping_discount: Money
    total: Money
    lines: list[CartLineResult]
    applied: list[AppliedPromotion]
    not_applied: list[NotAppliedPromotion] = strawberry.field(
        description="Every other candidate, and why."
    )
    hints: list[PromotionHint]
    points: CartPoints

    @classmethod
    def from_domain(
        cls, cart: model.Cart, e: model.Evaluation, points: CartPoints
    ) -> CartEvaluation:
        cur = e.currency

        def m(amount: int) -> Money:
            return money(amount, cur)

        return cls(
            currency=cur,
            subtotal=m(e.subtotal),
            discount=m(e.discount),
            shipping=m(e.shipping),
            shipping_discount=m(e.shipping_discount),
            total=m(e.total),
            lines=[
                CartLineResult(
                    sku=line.sku,
                    quantity=line.quantity,
                    unit_price=m(line.unit_price),
                    subtotal=m(line.amount),
                    discount=m(line.amount - after),
                    total=m(after),
                )
                for line, after in zip(cart.lines, e.line_totals, strict=True)
            ],
            applied=[
                AppliedPromotion(
                    promotion_id=strawberry.ID(a.promotion_id),
                    name=a.name,
                    kind=a.kind,
                    code=a.code,
                    discount=m(a.discount),
                    lines=[
                        LineAllocation(line=i, sku=cart.lines[i].sku, amount=m(amount))
                        for i, amount in enumerate(a.lines)
                        if amount
                    ],
                    shipping=m(a.shipping),
                    points=a.points,
                )
                for a in e.applied
            ],
            not_applied=[
                NotAppliedPromotion(
                    promotion_id=strawberry.ID(n.promotion_id),
                    name=n.name,
                    reason=n.reason,
                    detail=n.detail,
                    code=n.code,
                )
                for n in e.not_applied
            ],
            hints=[_hint(h, cur) for h in e.hints],
            points=points,
        )


def _hint(h: model.Hint, currency: str) -> PromotionHint:
    if h.missing_amount:
        shown = money(h.missing_amount, currency)
        message = f"{shown.amount} {currency} more for {h.name}"
    else:
        message = f"{h.missing_quantity} more items for {h.name}"
    return PromotionHint(
        promotion_id=strawberry.ID(h.promotion_id),
        name=h.name,
        missing=money(h.missing_amount, currency) if h.missing_amount else None,
        missing_quantity=h.missing_quantity or None,
        message=message,
    )


def evaluation_of(evaluated: model.Evaluated, cart: model.Cart) -> CartEvaluation:
    e = evaluated.evaluation
    points = CartPoints(
        base=evaluated.base_points,
        tier_multiplier=evaluated.tier_multiplier,
        promotions=e.bonus_points,
        total=evaluated.points,
    )
    return CartEvaluation.from_domain(cart, e, points)


@strawberry.type(description="A cart's promotions held until the order is recorded.")
class Reservation:
    id: strawberry.ID
    status: model.ReservationStatus
    expires_at: datetime
    points_paid: int = strawberry.field(description="Points the member pays with (held).")
    order_id: str | None
    evaluation: CartEvaluation

    @classmethod
    def from_domain(cls, r: model.Reservation) -> Reservation:
        earned = int((r.base_points * r.tier_multiplier).to_integral_value(ROUND_FLOOR))
        points = CartPoints(
            base=r.base_points,
            tier_multiplier=r.tier_multiplier,
            promotions=r.bonus_points,
            total=earned + r.bonus_points,
        )
        return cls(
            id=strawberry.ID(r.id),
            status=r.status,
            expires_at=r.expires_at,
            points_paid=r.points,
            order_id=r.order_id,
            evaluation=CartEvaluation.from_domain(r.cart, r.evaluation, points),
        )
