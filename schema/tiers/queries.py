"""The tier ladder, the earn preview (product and cart pages) and the tier distribution."""

from __future__ import annotations

import strawberry

from api.auth import Permission
from api.validation import member_ref
from schema.common import MoneyInput
from schema.context import Info
from schema.tiers.types import EarnPreview, TierCountType, TierProgram


@strawberry.type
class TierQuery:
    @strawberry.field(description="The tier ladder and its rules (everyone signed in).")
    def tiers(self, info: Info) -> TierProgram:
        ctx = info.context
        return TierProgram.from_domain(ctx.services.tiers.get(ctx.principal))

    @strawberry.field(
        description=(
            "What an order of this total would earn, tier multiplier included, and the tier "
            "it would reach. Members omit memberId/customerId: their own."
        )
    )
    def earn_preview(
        self,
        info: Info,
        total: MoneyInput,
        member_id: strawberry.ID | None = None,
        customer_id: str | None = None,
    ) -> EarnPreview:
        ctx = info.context
        principal = ctx.principal
        if member_id is None and customer_id is None:
            principal.require(Permission.READ_OWN_MEMBER)  # "mine": members only
            assert principal.member_id is not None
            target = principal.member_id
        else:
            target = member_ref(member_id, customer_id)
        preview = ctx.services.tiers.preview(principal, target, total.amount, total.currency)
        return EarnPreview.from_domain(preview)

    @strawberry.field(description="Admin: members per tier.")
    def tier_distribution(self, info: Info) -> list[TierCountType]:
        ctx = info.context
        return [
            TierCountType.from_domain(c) for c in ctx.services.tiers.distribution(ctx.principal)
        ]
