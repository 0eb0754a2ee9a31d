"""Reward inputs; each converts itself to the domain's input."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.rewards import model


@strawberry.input
class MemberLimitInput:
    count: int
    period: model.Period


@strawberry.input(description="A reward of the catalog (createReward, updateReward).")
class RewardInput:
    id: strawberry.ID = strawberry.field(description="Lower-case letters, digits, - and _.")
    name: str
    points_cost: int
    type: model.RewardType
    description: str | None = None
    image_url: str | None = strawberry.field(default=None, description="An https URL.")
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    min_tier: str | None = None
    stock: int | None = strawberry.field(
        default=None,
        description="How many may ever be redeemed (null: unlimited). IMPORTED_CODE: at most "
        "the pool.",
    )
    member_limit: MemberLimitInput | None = None
    active: bool = True
    promotion_id: strawberry.ID | None = strawberry.field(
        default=None, description="DISCOUNT_CODE: a CODE promotion whose codes it issues."
    )
    validity_days: int | None = strawberry.field(
        default=None, description="DISCOUNT_CODE: how long an issued code is valid."
    )
    low_stock: int | None = strawberry.field(
        default=None, description="Signal (metric, isLow) when what is left falls to this."
    )

    def to_domain(self) -> model.RewardInput:
        limit = self.member_limit
        return model.RewardInput(
            id=self.id,
            name=self.name,
            points_cost=self.points_cost,
            type=self.type,
            description=self.description,
            image_url=self.image_url,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            min_tier=self.min_tier,
            stock=self.stock,
            member_limit=None if limit is None else model.MemberLimit(limit.count, limit.period),
            active=self.active,
            promotion_id=self.promotion_id,
            validity_days=self.validity_days,
            low_stock=self.low_stock,
        )


@strawberry.input(description="Members omit memberId/customerId: their own points.")
class RedeemRewardInput:
    reward_id: strawberry.ID
    idempotency_key: str
    member_id: strawberry.ID | None = None
    customer_id: str | None = None

    def to_domain(self) -> model.RedeemInput:
        return model.RedeemInput(
            self.reward_id, self.idempotency_key, self.member_id, self.customer_id
        )


@strawberry.input(description="Codes for an IMPORTED_CODE reward's pool (up to 100 000).")
class UploadRewardCodesInput:
    reward_id: strawberry.ID
    idempotency_key: str
    codes: list[str] = strawberry.field(
        description="4-64 ASCII letters, digits, - or _ each; repeats and codes already in the "
        "pool are left out."
    )
