"""Promotion and cart inputs; each converts itself to the domain's input."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from api.promotions import model


@strawberry.input
class CartLineInput:
    sku: str
    quantity: int
    unit_price: Decimal
    category: str | None = None


@strawberry.input(description="Members omit memberId/customerId: their own cart.")
class CartInput:
    currency: str
    lines: list[CartLineInput]
    shipping: Decimal = strawberry.field(default=Decimal(0), description="Shipping cost.")
    codes: list[str] | None = strawberry.field(default=None, description="Promotion codes.")
    member_id: strawberry.ID | None = None
    customer_id: str | None = None

    def to_domain(self) -> model.CartInput:
        return model.CartInput(
            currency=self.currency,
            lines=[(x.sku, x.quantity, x.unit_price, x.category) for x in self.lines],
            shipping=self.shipping,
            codes=self.codes or [],
            member_id=self.member_id,
            customer_id=self.customer_id,
        )


@strawberry.input
class ReserveCartInput:
    cart: CartInput
    idempotency_key: str = strawberry.field(description="A retry with it returns the same.")
    points: int = strawberry.field(default=0, description="Points the member pays with.")


@strawberry.input
class PromotionEffectInput:
    kind: model.EffectKind
    target: model.Target = model.Target.SUBTOTAL
    percent: Decimal | None = None
    amount: Decimal | None = None
    spread: model.Spread = model.Spread.ACROSS
    buy: int = 0
    get: int = 0
    points: int = 0
    multiplier: Decimal | None = None
    cap: Decimal | None = None

    def to_domain(self) -> model.Effect:
        return model.Effect(
            kind=self.kind,
            target=self.target,
            percent=self.percent,
            amount=self.amount,
            spread=self.spread,
            buy=self.buy,
            get=self.get,
            points=self.points,
            multiplier=self.multiplier,
            cap=self.cap,
        )


@strawberry.input(description="All must hold. Empty lists: every item.")
class PromotionConditionsInput:
    min_subtotal: Decimal | None = None
    min_quantity: int = 0
    skus: list[str] | None = None
    exclude_skus: list[str] | None = None
    categories: list[str] | None = None
    exclude_categories: list[str] | None = None
    min_tier: str | None = None
    first_order_only: bool = False
    currencies: list[str] | None = None

    def to_domain(self) -> model.Conditions:
        return model.Conditions(
            min_subtotal=self.min_subtotal,
            min_quantity=self.min_quantity,
            skus=frozenset(self.skus or ()),
            exclude_skus=frozenset(self.exclude_skus or ()),
            categories=frozenset(self.categories or ()),
            exclude_categories=frozenset(self.exclude_categories or ()),
            min_tier=self.min_tier,
            first_order_only=self.first_order_only,
            currencies=frozenset(self.currencies or ()),
        )


@strawberry.input
class EarlyAccessInput:
    tier: str
    hours: int


@strawberry.input
class PromotionScheduleInput:
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    early_access: list[EarlyAccessInput] | None = None

    def to_domain(self) -> model.Schedule:
        return model.Schedule(
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            early_access=tuple(model.EarlyAccess(e.tier, e.hours) for e in self.early_access or ()),
        )


@strawberry.input
class PromotionLimitsInput:
    total_uses: int | None = None
    budget: Decimal | None = None
    per_member: int | None = None
    per_code: int | None = None

    def to_domain(self) -> model.Limits:
        return model.Limits(self.total_uses, self.budget, self.per_member, self.per_code)


@strawberry.input(description="A whole promotion (updates replace all but id and code).")
class PromotionInput:
    id: str = strawberry.field(description="Yours, e.g. summer-10: the idempotency key.")
    name: str
    effect: PromotionEffectInput
    description: str | None = None
    activation: model.Activation = model.Activation.AUTOMATIC
    code: str | None = strawberry.field(default=None, description="A generic code.")
    conditions: PromotionConditionsInput | None = None
    schedule: PromotionScheduleInput | None = None
    limits: PromotionLimitsInput | None = None
    stacking: model.Stacking = model.Stacking.STACKABLE
    priority: int = 0
    currency: str | None = strawberry.field(
        default=None, description="Of its amounts (amount off, minimum, cap, budget)."
    )

    def to_domain(self) -> model.PromotionInput:
        return model.PromotionInput(
            id=self.id,
            name=self.name,
            effect=self.effect.to_domain(),
            description=self.description,
            activation=self.activation,
            code=self.code,
            conditions=(self.conditions or PromotionConditionsInput()).to_domain(),
            schedule=(self.schedule or PromotionScheduleInput()).to_domain(),
            limits=(self.limits or PromotionLimitsInput()).to_domain(),
            stacking=self.stacking,
            priority=self.priority,
            currency=self.currency,
        )


@strawberry.input(description="Unique codes from a pattern, generated in the background.")
class CodeBatchInput:
    promotion_id: strawberry.ID
    idempotency_key: str
    count: int = strawberry.field(default=0, description="With memberIds: their number.")
    prefix: str = ""
    length: int = 10
    charset: str | None = strawberry.field(
        default=None, description="Default: letters and digits people do not confuse."
    )
    member_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="One code bound to each member."
    )
    uses_per_code: int = 1

    def to_domain(self) -> model.BatchInput:
        return model.BatchInput(
            promotion_id=self.promotion_id,
            count=self.count,
            prefix=self.prefix,
            length=self.length,
            charset=self.charset,
            member_ids=list(self.member_ids or ()),
            uses_per_code=self.uses_per_code,
            idempotency_key=self.idempotency_key,
        )
