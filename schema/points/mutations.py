"""The mutations that move points: orders, refunds, redemptions, adjustments."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from api import errors
from api.points import model
from schema.common import MoneyInput
from schema.context import Info
from schema.errors import (
    ConcurrentUpdate,
    IdempotencyConflict,
    InsufficientPoints,
    InvalidInput,
    MemberNotFound,
    NotFound,
    OrderNotFound,
    RefundExceedsOrder,
    ReservationExpired,
    mutation,
)
from schema.points.types import Order, PointsEntry


@strawberry.input
class OrderLineInput:
    sku: str
    quantity: int
    unit_price: Decimal
    category: str | None = None


@strawberry.input(description="Exactly one of memberId and customerId names the member.")
class RecordOrderInput:
    order_id: str = strawberry.field(description="The shop's order id: the idempotency key.")
    total: MoneyInput
    placed_at: datetime = strawberry.field(description="With an offset, e.g. 2026-05-01T10:00:00Z.")
    member_id: strawberry.ID | None = None
    customer_id: str | None = None
    lines: list[OrderLineInput] | None = None
    reservation_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The reservation of reserveCart this order completes: its promotions' "
        "points become the order's, and what it held is used.",
    )

    def to_domain(self) -> model.OrderInput:
        return model.OrderInput(
            order_id=self.order_id,
            total_amount=self.total.amount,
            currency=self.total.currency,
            placed_at=self.placed_at,
            member_id=self.member_id,
            customer_id=self.customer_id,
            lines=[
                model.OrderLine(ln.sku, ln.quantity, ln.unit_price, ln.category)
                for ln in self.lines or []
            ],
            reservation_id=self.reservation_id,
        )


@strawberry.type
class OrderRecorded:
    order: Order
    entry: PointsEntry


@strawberry.input
class RefundOrderInput:
    refund_id: str = strawberry.field(description="The shop's refund id: the idempotency key.")
    order_id: str
    amount: MoneyInput

    def to_domain(self) -> model.RefundInput:
        return model.RefundInput(
            refund_id=self.refund_id,
            order_id=self.order_id,
            amount=self.amount.amount,
            currency=self.amount.currency,
        )


@strawberry.type
class OrderRefunded:
    order: Order = strawberry.field(description="The order as it is now.")
    entry: PointsEntry


@strawberry.input(description="Members omit memberId/customerId: they redeem their own points.")
class RedeemPointsInput:
    points: int
    reference: str = strawberry.field(description="What the points pay for, e.g. a cart id.")
    idempotency_key: str
    member_id: strawberry.ID | None = None
    customer_id: str | None = None
    reason: str | None = None

    def to_domain(self) -> model.RedeemInput:
        return model.RedeemInput(
            points=self.points,
            reference=self.reference,
            idempotency_key=self.idempotency_key,
            member_id=self.member_id,
            customer_id=self.customer_id,
            reason=self.reason,
        )


@strawberry.type
class PointsRedeemed:
    entry: PointsEntry


@strawberry.input
class AdjustPointsInput:
    points: int = strawberry.field(description="Positive credits a new lot; negative debits.")
    reason: str
    idempotency_key: str
    member_id: strawberry.ID | None = None
    customer_id: str | None = None

    def to_domain(self) -> model.AdjustInput:
        return model.AdjustInput(
            points=self.points,
            reason=self.reason,
            idempotency_key=self.idempotency_key,
            member_id=self.member_id,
            customer_id=self.customer_id,
        )


@strawberry.type
class PointsAdjusted:
    entry: PointsEntry


RecordOrderResult = Annotated[
    OrderRecorded
    | InvalidInput
    | MemberNotFound
    | NotFound
    | ReservationExpired
    | IdempotencyConflict
    | ConcurrentUpdate,
    strawberry.union("RecordOrderResult"),
]
RefundOrderResult = Annotated[
    OrderRefunded
    | InvalidInput
    | OrderNotFound
    | MemberNotFound
    | RefundExceedsOrder
    | IdempotencyConflict
    | ConcurrentUpdate,
    strawberry.union("RefundOrderResult"),
]
RedeemPointsResult = Annotated[
    PointsRedeemed
    | InvalidInput
    | MemberNotFound
    | InsufficientPoints
    | IdempotencyConflict
    | ConcurrentUpdate,
    strawberry.union("RedeemPointsResult"),
]
AdjustPointsResult = Annotated[
    PointsAdjusted
    | InvalidInput
    | MemberNotFound
    | InsufficientPoints
    | IdempotencyConflict
    | ConcurrentUpdate,
    strawberry.union("AdjustPointsResult"),
]


def _record(info: Info, data: model.OrderInput) -> OrderRecorded:
    ctx = info.context
    result = ctx.services.orders.record_order(ctx.principal, data)
    return OrderRecorded(
        order=Order.from_domain(result.order), entry=PointsEntry.from_domain(result.entry)
    )


@strawberry.type
class PointsMutation:
    @mutation("Shop backend: an order earns a lot of points.")
    def record_order(self, info: Info, input: RecordOrderInput) -> RecordOrderResult:
        return _record(info, input.to_domain())

    @mutation(
        "Shop backend: the order a reserveCart reservation became - recordOrder with its "
        "reservationId: what it held is used, its promotions' points become the order's."
    )
    def commit_reservation(
        self, info: Info, reservation_id: strawberry.ID, order: RecordOrderInput
    ) -> RecordOrderResult:
        if order.reservation_id not in (None, reservation_id):
            raise errors.InvalidInput("order.reservationId", "Not the reservation committed.")
        return _record(info, replace(order.to_domain(), reservation_id=reservation_id))

    @mutation("Shop backend: a full or partial refund takes back its share.")
    def refund_order(self, info: Info, input: RefundOrderInput) -> RefundOrderResult:
        ctx = info.context
        order, entry = ctx.services.refunds.refund_order(ctx.principal, input.to_domain())
        return OrderRefunded(order=Order.from_domain(order), entry=PointsEntry.from_domain(entry))

    @mutation("Spend available points, earliest-expiring lots first.")
    def redeem_points(self, info: Info, input: RedeemPointsInput) -> RedeemPointsResult:
        ctx = info.context
        entry = ctx.services.spending.redeem(ctx.principal, input.to_domain())
        return PointsRedeemed(entry=PointsEntry.from_domain(entry))

    @mutation("Admin: credit or debit points with a reason.")
    def adjust_points(self, info: Info, input: AdjustPointsInput) -> AdjustPointsResult:
        ctx = info.context
        entry = ctx.services.spending.adjust(ctx.principal, input.to_domain())
        return PointsAdjusted(entry=PointsEntry.from_domain(entry))
