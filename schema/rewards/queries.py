"""The catalog as members see it, what they redeemed, and the admins' view of rewards."""

from __future__ import annotations

import strawberry

from api import validation as v
from api.auth import Permission, Principal
from schema.context import Info
from schema.rewards.types import (
    RedemptionConnection,
    RewardDetails,
    RewardOfferConnection,
    RewardUpload,
)

DEFAULT_PAGE = 20


def whose(principal: Principal, member_id: str | None, customer_id: str | None) -> str:
    """The member asked for; members may omit it (themselves)."""
    if member_id is None and customer_id is None:
        principal.require(Permission.READ_OWN_MEMBER)
        assert principal.member_id is not None
        return principal.member_id
    return v.member_ref(member_id, customer_id)


@strawberry.type
class RewardQuery:
    @strawberry.field(
        description=(
            "The active rewards, cheapest first, each as it stands for the member: affordable, "
            "points short, stock left, unlocked by their tier, redeemable or why not. Members "
            "omit memberId/customerId."
        )
    )
    def rewards(
        self,
        info: Info,
        first: int = DEFAULT_PAGE,
        after: str | None = None,
        member_id: strawberry.ID | None = None,
        customer_id: str | None = None,
    ) -> RewardOfferConnection:
        ctx = info.context
        member = whose(ctx.principal, member_id, customer_id)
        page = ctx.services.reward_views.offers(ctx.principal, member, first, after)
        return RewardOfferConnection.from_page(page)

    @strawberry.field(
        description=(
            "Rewards the member redeemed, newest first, with their status now (a code used at "
            "checkout is USED, one past its validity EXPIRED). Members omit "
            "memberId/customerId."
        )
    )
    def my_rewards(
        self,
        info: Info,
        first: int = DEFAULT_PAGE,
        after: str | None = None,
        member_id: strawberry.ID | None = None,
        customer_id: str | None = None,
    ) -> RedemptionConnection:
        ctx = info.context
        member = whose(ctx.principal, member_id, customer_id)
        page = ctx.services.reward_views.redemptions(ctx.principal, member, first, after)
        return RedemptionConnection.from_page(page)

    @strawberry.field(description="Admin: every live reward with its stock.")
    def reward_catalog(self, info: Info) -> list[RewardDetails]:
        ctx = info.context
        return [RewardDetails.from_view(r) for r in ctx.services.rewards.catalog(ctx.principal)]

    @strawberry.field(description="Admin: one reward, archived ones too, with its stock.")
    def reward(self, info: Info, id: strawberry.ID) -> RewardDetails:
        ctx = info.context
        return RewardDetails.from_view(ctx.services.rewards.get(ctx.principal, id))

    @strawberry.field(description="Admin: a reward's code uploads, with their progress.")
    def reward_uploads(self, info: Info, reward_id: strawberry.ID) -> list[RewardUpload]:
        ctx = info.context
        found = ctx.services.reward_pools.uploads(ctx.principal, reward_id)
        return [RewardUpload.from_domain(u) for u in found]
