"""Promotions and checkout as GraphQL types."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from api.money import Money as DomainMoney
from api.money import minor_units
from api.promotions import model
from api.promotions.admin import PromotionView
from api.promotions.checkout import Offer
from schema.common import Money
from schema.context import Info

strawberry.enum(model.Status, name="PromotionStatus")
strawberry.enum(model.Activation, name="PromotionActivation")
strawberry.enum(
    model.Stacking,
    name="PromotionStacking",
    description=(
        "EXCLUSIVE: applies alone (with UNIVERSAL ones) when it is the best option. STACKABLE: "
        "combines with other stackable ones in priority order, each on what the earlier left. "
        "UNIVERSAL: combines with anything."
    ),
)
strawberry.enum(model.EffectKind, name="PromotionEffectKind")
strawberry.enum(model.Target, name="PromotionTarget")
strawberry.enum(model.Spread, name="PromotionSpread")
strawberry.enum(model.Reason, name="NotAppliedReason")
strawberry.enum(model.ReservationStatus)
strawberry.enum(model.BatchStatus, name="CodeBatchStatus")


def money(minor: int, currency: str) -> Money:
    return Money.from_domain(DomainMoney(Decimal(minor).scaleb(-minor_units(currency)), currency))


@strawberry.type
class PromotionEffect:
    kind: model.EffectKind
    target: model.Target
    percent: Decimal | None
    amount: Decimal | None = strawberry.field(description="In the promotion's currency.")
    spread: model.Spread
    buy: int
    get: int
    points: int
    multiplier: Decimal | None
    cap: Decimal | None = strawberry.field(description="The most it takes off one order.")


@strawberry.type
class PromotionConditions:
    min_subtotal: Decimal | None
    min_quantity: int
    skus: list[str]
    exclude_skus: list[str]
    categories: list[str]
    exclude_categories: list[str]
    min_tier: str | None
    first_order_only: bool
    currencies: list[str]


@strawberry.type
class EarlyAccess:
    tier: str = strawberry.field(description="This tier and higher.")
    hours: int = strawberry.field(description="How long before everyone.")


@strawberry.type
class PromotionSchedule:
    starts_at: datetime | None
    ends_at: datetime | None
    early_access: list[EarlyAccess]


@strawberry.type
class PromotionLimits:
    total_uses: int | None
    budget: Decimal | None
    per_member: int | None
    per_code: int | None


@strawberry.type
class PromotionUsage:
    uses: int
    discounted: Decimal | None = strawberry.field(
        description="Money handed out, in the promotion's currency (null without one)."
    )


@strawberry.type
class Promotion:
    id: strawberry.ID
    name: str
    description: str | None
    status: model.Status
    activation: model.Activation
    code: str | None = strawberry.field(description="Its generic code, if it has one.")
    stacking: model.Stacking
    priority: int
    currency: str | None
    effect: PromotionEffect
    conditions: PromotionConditions
    schedule: PromotionSchedule
    limits: PromotionLimits
    usage: PromotionUsage | None = strawberry.field(description="Admins only.")
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def from_domain(cls, p: model.Promotion, usage: model.Usage | None = None) -> Promotion:
        e, c, s, lim = p.effect, p.conditions, p.schedule, p.limits
        return cls(
            id=strawberry.ID(p.id),
            name=p.name,
            description=p.description,
            status=p.status,
            activation=p.activation,
            code=p.code,
            stacking=p.stacking,
            priority=p.priority,
            currency=p.currency,
            effect=PromotionEffect(
                kind=e.kind,
                target=e.target,
                percent=e.percent,
                amount=e.amount,
                spread=e.spread,
                buy=e.buy,
                get=e.get,
                points=e.points,
                multiplier=e.multiplier,
                cap=e.cap,
            ),
            conditions=PromotionConditions(
                min_subtotal=c.min_subtotal,
                min_quantity=c.min_quantity,
                skus=sorted(c.skus),
                exclude_skus=sorted(c.exclude_skus),
                categories=sorted(c.categories),
                exclude_categories=sorted(c.exclude_categories),
                min_tier=c.min_tier,
                first_order_only=c.first_order_only,
                currencies=sorted(c.currencies),
            ),
            schedule=PromotionSchedule(
                starts_at=s.starts_at,
                ends_at=s.ends_at,
                early_access=[EarlyAccess(tier=x.tier, hours=x.hours) for x in s.early_access],
            ),
            limits=PromotionLimits(
                total_uses=lim.total_uses,
                budget=lim.budget,
                per_member=lim.per_member,
                per_code=lim.per_code,
            ),
            usage=None
            if usage is None
            else PromotionUsage(
                uses=usage.uses,
                discounted=None
                if p.currency is None
                else Decimal(usage.discounted).scaleb(-minor_units(p.currency)),
            ),
            created_at=p.created_at,
            updated_at=p.updated_at,
        )

    @classmethod
    def from_view(cls, view: PromotionView) -> Promotion:
        return cls.from_domain(view.promotion, view.usage)


@strawberry.type(description="A promotion open to the member now, or soon for them.")
class PromotionOffer:
    promotion: Promotion
    opens_at: datetime | None = strawberry.field(description="For this member; null: open.")
    early_access: bool = strawberry.field(description="They open before everyone.")
    ends_at: datetime | None

    @classmethod
    def from_domain(cls, offer: Offer) -> PromotionOffer:
        return cls(
            promotion=Promotion.from_domain(offer.promotion),
            opens_at=offer.opens_at,
            early_access=offer.early,
            ends_at=offer.promotion.schedule.ends_at,
        )


@strawberry.type(description="Codes of a batch in generation order, for export.")
class CodePage:
    codes: list[str]
    next_cursor: str | None = strawberry.field(
        description="Pass as `after` for the next page; null once every code is listed (while "
        "the batch is RUNNING, the cursor of the first code not generated yet)."
    )


@strawberry.type(description="A batch of unique codes, generated in the background.")
class CodeBatch:
    id: strawberry.ID
    promotion_id: strawberry.ID
    count: int
    generated: int
    status: model.BatchStatus = strawberry.field(description="Progress: generated of count.")
    created_at: datetime
    updated_at: datetime

    @strawberry.field(description="Its codes, up to 1000 per page.")
    def codes(self, info: Info, first: int = 1000, after: str | None = None) -> CodePage:
        ctx = info.context
        page = ctx.services.code_batches.codes(
            ctx.principal, str(self.promotion_id), str(self.id), after, first
        )
        return CodePage(codes=list(page.codes), next_cursor=page.next_cursor)

    @classmethod
    def from_domain(cls, b: model.CodeBatch) -> CodeBatch:
        return cls(
            id=strawberry.ID(b.id),
            promotion_id=strawberry.ID(b.promotion_id),
            count=b.count,
            generated=b.generated,
            status=b.status,
            created_at=b.created_at,
            updated_at=b.updated_at,
        )
