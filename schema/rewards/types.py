"""Rewards and redemptions as GraphQL types."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from api import errors
from api.rewards import model
from api.rewards.admin import RewardView
from api.rewards.views import offer_cursor, redemption_cursor
from schema.common import PageInfo
from schema.errors import UserError, user_error

strawberry.enum(model.RewardType)
strawberry.enum(
    model.Period, name="RewardPeriod", description="Calendar periods in the member's time zone."
)
strawberry.enum(model.RedemptionStatus)
strawberry.enum(model.UploadStatus, name="RewardUploadStatus")
strawberry.enum(
    model.Unavailable,
    name="RewardUnavailableReason",
    description="Why a member cannot redeem a reward now.",
)


@user_error(errors.RewardUnavailable)
@strawberry.type(description="The member cannot redeem this reward now; `reason` says why.")
class RewardUnavailable(UserError):
    reason: model.Unavailable

    @classmethod
    def from_domain(cls, exc: Any) -> UserError:
        return cls(code=exc.code, message=exc.message, reason=model.Unavailable(exc.reason))


@strawberry.type
class MemberLimit:
    count: int
    period: model.Period


@strawberry.type(description="A reward of the catalog, priced in points.")
class Reward:
    id: strawberry.ID
    name: str
    description: str | None
    image_url: str | None
    points_cost: int
    type: model.RewardType
    starts_at: datetime | None
    ends_at: datetime | None
    min_tier: str | None = strawberry.field(description="A tier code: that tier or higher.")
    member_limit: MemberLimit | None = strawberry.field(
        description="How often one member may redeem it per period."
    )

    @classmethod
    def from_domain(cls, r: model.Reward) -> Reward:
        limit = r.member_limit
        return cls(
            id=strawberry.ID(r.id),
            name=r.name,
            description=r.description,
            image_url=r.image_url,
            points_cost=r.points_cost,
            type=r.type,
            starts_at=r.starts_at,
            ends_at=r.ends_at,
            min_tier=r.min_tier,
            member_limit=None
            if limit is None
            else MemberLimit(count=limit.count, period=limit.period),
        )


@strawberry.type(description="Admin: a reward with its settings and stock.")
class RewardDetails:
    reward: Reward
    active: bool
    archived: bool
    stock: int | None = strawberry.field(
        description="How many may ever be redeemed; null: no limit."
    )
    claimed: int = strawberry.field(description="Redeemed so far (cancellations give back).")
    pooled: int = strawberry.field(description="IMPORTED_CODE: codes in the pool.")
    remaining: int | None = strawberry.field(description="Left to redeem; null: no limit.")
    low_stock: int | None = strawberry.field(description="The low-stock signal's threshold.")
    is_low: bool = strawberry.field(description="At or below the low-stock threshold.")
    promotion_id: strawberry.ID | None = strawberry.field(
        description="DISCOUNT_CODE: the promotion whose codes it issues."
    )
    validity_days: int | None
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def from_view(cls, view: RewardView) -> RewardDetails:
        r = view.reward
        return cls(
            reward=Reward.from_domain(r),
            active=r.active,
            archived=r.archived,
            stock=r.stock,
            claimed=view.stock.claimed,
            pooled=view.stock.pooled,
            remaining=view.remaining,
            low_stock=r.low_stock,
            is_low=view.low,
            promotion_id=None if r.promotion_id is None else strawberry.ID(r.promotion_id),
            validity_days=r.validity_days,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )


@strawberry.type(description="A reward as it stands for one member.")
class RewardOffer:
    reward: Reward
    remaining: int | None = strawberry.field(description="Stock left; null: no limit.")
    unlocked: bool = strawberry.field(description="The member's tier is high enough.")
    affordable: bool = strawberry.field(description="The member has the points available.")
    points_short: int = strawberry.field(description="Points the member still needs.")
    redeemable: bool
    unavailable: model.Unavailable | None = strawberry.field(
        description="Why it cannot be redeemed now; null when it can."
    )

    @classmethod
    def from_domain(cls, o: model.Offer) -> RewardOffer:
        return cls(
            reward=Reward.from_domain(o.reward),
            remaining=o.remaining,
            unlocked=o.unlocked,
            affordable=o.affordable,
            points_short=o.points_short,
            redeemable=o.unavailable is None,
            unavailable=o.unavailable,
        )


@strawberry.type
class RewardOfferEdge:
    node: RewardOffer
    cursor: str


@strawberry.type
class RewardOfferConnection:
    edges: list[RewardOfferEdge]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: model.OfferPage) -> RewardOfferConnection:
        edges = [
            RewardOfferEdge(node=RewardOffer.from_domain(o), cursor=offer_cursor(page.start + i))
            for i, o in enumerate(page.offers)
        ]
        return cls(
            edges=edges, page_info=PageInfo.forward([e.cursor for e in edges], page.has_next)
        )


@strawberry.type(description="A reward a member redeemed.")
class Redemption:
    id: strawberry.ID
    reward_id: strawberry.ID
    reward_name: str
    type: model.RewardType
    points: int = strawberry.field(description="What it cost.")
    status: model.RedemptionStatus
    code: str | None = strawberry.field(description="The code to use (code rewards).")
    expires_at: datetime | None = strawberry.field(description="When the code stops working.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, r: model.Redemption) -> Redemption:
        return cls(
            id=strawberry.ID(r.id),
            reward_id=strawberry.ID(r.reward_id),
            reward_name=r.reward_name,
            type=r.type,
            points=r.points,
            status=r.status,
            code=r.code,
            expires_at=r.expires_at,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )


@strawberry.type
class RedemptionEdge:
    node: Redemption
    cursor: str


@strawberry.type
class RedemptionConnection:
    edges: list[RedemptionEdge]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: model.RedemptionPage) -> RedemptionConnection:
        edges = [
            RedemptionEdge(node=Redemption.from_domain(r), cursor=redemption_cursor(r))
            for r in page.redemptions
        ]
        return cls(
            edges=edges, page_info=PageInfo.forward([e.cursor for e in edges], page.has_next)
        )


@strawberry.type(description="Codes uploaded to a pool: added in the background.")
class RewardUpload:
    id: strawberry.ID
    reward_id: strawberry.ID
    status: model.UploadStatus
    received: int = strawberry.field(description="Codes in the upload, repeats removed.")
    repeated: int = strawberry.field(description="Repeats within the upload, left out.")
    processed: int = strawberry.field(description="Of `received`, looked at so far.")
    added: int = strawberry.field(description="New to the pool.")
    duplicates: int = strawberry.field(description="In the pool already, left out.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, u: model.Upload) -> RewardUpload:
        return cls(
            id=strawberry.ID(u.id),
            reward_id=strawberry.ID(u.reward_id),
            status=u.status,
            received=u.received,
            repeated=u.repeated,
            processed=u.processed,
            added=u.added,
            duplicates=u.duplicates,
            created_at=u.created_at,
            updated_at=u.updated_at,
        )
