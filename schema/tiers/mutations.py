"""Admin: configure the tier ladder; set a member's tier by hand."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from api.tiers import model
from schema.context import Info
from schema.errors import (
    ConcurrentUpdate,
    IdempotencyConflict,
    InvalidInput,
    MemberNotFound,
    mutation,
)
from schema.members.types import Member
from schema.tiers.types import TierChange, TierProgram


@strawberry.input
class TierInput:
    code: str = strawberry.field(description="Stable id, e.g. GOLD: capitals, digits, _.")
    name: str
    threshold: Decimal = strawberry.field(description="0 for the first (base) tier.")
    multiplier: Decimal = strawberry.field(default=Decimal(1), description="1 to 10.")
    perks: list[str] | None = None
    entry_bonus: int = strawberry.field(default=0, description="Points, once per tier, ever.")

    def to_domain(self) -> model.TierInput:
        return model.TierInput(
            code=self.code,
            name=self.name,
            threshold=self.threshold,
            multiplier=self.multiplier,
            perks=self.perks or [],
            entry_bonus=self.entry_bonus,
        )


@strawberry.input(description="The whole ladder and its rules; tiers cannot be removed.")
class UpdateTiersInput:
    tiers: list[TierInput] = strawberry.field(description="Lowest first, at most 10.")
    metric: model.Metric = model.Metric.QUALIFYING_POINTS
    window: model.Window = model.Window.ROLLING_12_MONTHS
    downgrade_policy: model.DowngradePolicy = model.DowngradePolicy.ONE_TIER
    grace_days: int = 0
    spend_currency: str | None = strawberry.field(
        default=None, description="For SPEND; defaults to the program's first currency."
    )

    def to_domain(self) -> model.ConfigInput:
        return model.ConfigInput(
            tiers=[t.to_domain() for t in self.tiers],
            metric=self.metric,
            window=self.window,
            downgrade=self.downgrade_policy,
            grace_days=self.grace_days,
            spend_currency=self.spend_currency,
        )


@strawberry.type
class TiersUpdated:
    tiers: TierProgram


@strawberry.input(description="Exactly one of memberId and customerId names the member.")
class SetMemberTierInput:
    tier: str = strawberry.field(description="The tier's code.")
    reason: str
    until: datetime = strawberry.field(description="Held until then, then reviewed as usual.")
    idempotency_key: str
    member_id: strawberry.ID | None = None
    customer_id: str | None = None

    def to_domain(self) -> model.SetTierInput:
        return model.SetTierInput(
            tier=self.tier,
            reason=self.reason,
            until=self.until,
            idempotency_key=self.idempotency_key,
            member_id=self.member_id,
            customer_id=self.customer_id,
        )


@strawberry.type
class MemberTierSet:
    member: Member
    change: TierChange


UpdateTiersResult = Annotated[
    TiersUpdated | InvalidInput | ConcurrentUpdate, strawberry.union("UpdateTiersResult")
]
SetMemberTierResult = Annotated[
    MemberTierSet | InvalidInput | MemberNotFound | IdempotencyConflict | ConcurrentUpdate,
    strawberry.union("SetMemberTierResult"),
]


@strawberry.type
class TierMutation:
    @mutation(
        "Admin: the tier ladder and its rules. Applies to future orders and reviews: nobody "
        "is downgraded before their review."
    )
    def update_tiers(self, info: Info, input: UpdateTiersInput) -> UpdateTiersResult:
        ctx = info.context
        return TiersUpdated(
            tiers=TierProgram.from_domain(
                ctx.services.tiers.update(ctx.principal, input.to_domain())
            )
        )

    @mutation("Admin: set a member's tier by hand, with a reason and an end date.")
    def set_member_tier(self, info: Info, input: SetMemberTierInput) -> SetMemberTierResult:
        ctx = info.context
        member, change = ctx.services.tiers.set_member_tier(ctx.principal, input.to_domain())
        return MemberTierSet(
            member=Member.fresh(info, member), change=TierChange.from_domain(change)
        )
