"""Tiers as GraphQL types: the ladder, a member's tier and progress, tier history."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from api.auth import Principal
from api.tiers import credit, model, rules
from api.tiers.service import HistoryPage, Preview, TierCount, cursor
from schema.common import PageInfo
from schema.context import Info

strawberry.enum(
    model.Metric,
    name="TierMetric",
    description=(
        "QUALIFYING_POINTS: base points earned on orders (before tier multipliers; "
        "redemptions never lower it). SPEND: order totals in the spend currency, net of "
        "refunds. ORDERS: orders not fully refunded."
    ),
)
strawberry.enum(
    model.Window,
    name="TierWindow",
    description=(
        "ROLLING_12_MONTHS: the last 12 months to the day; a tier lasts 12 months from when "
        "it was reached or kept. CALENDAR_YEAR: this calendar year (UTC); a tier lasts to the "
        "end of the next one. LIFETIME: everything; no reviews."
    ),
)
strawberry.enum(model.DowngradePolicy)
strawberry.enum(
    model.ChangeReason,
    name="TierChangeReason",
    description="QUALIFIED: credit reached the threshold. REVIEW: lowered at review. "
    "MANUAL: set by an admin.",
)


@strawberry.type(description="One step of the tier ladder.")
class Tier:
    code: str = strawberry.field(description="Stable: members hold it. Names may change.")
    name: str
    threshold: Decimal = strawberry.field(description="In the metric's unit.")
    multiplier: Decimal = strawberry.field(description="On the base points of orders.")
    perks: list[str]
    entry_bonus: int = strawberry.field(description="Points, once per member and tier.")

    @classmethod
    def from_domain(cls, tier: model.Tier) -> Tier:
        return cls(
            code=tier.code,
            name=tier.name,
            threshold=tier.threshold,
            multiplier=tier.multiplier,
            perks=list(tier.perks),
            entry_bonus=tier.entry_bonus,
        )


def tier_or_none(tier: model.Tier | None) -> Tier | None:
    return None if tier is None else Tier.from_domain(tier)


@strawberry.type(description="The tier program: empty `tiers` when the shop has none.")
class TierProgram:
    tiers: list[Tier] = strawberry.field(description="Lowest first; the first is the base.")
    metric: model.Metric
    window: model.Window
    spend_currency: str = strawberry.field(description="What SPEND counts.")
    downgrade_policy: model.DowngradePolicy
    grace_days: int = strawberry.field(description="After a tier's validity, before review.")
    updated_at: datetime | None

    @classmethod
    def from_domain(cls, config: model.TierConfig) -> TierProgram:
        return cls(
            tiers=[Tier.from_domain(t) for t in config.tiers],
            metric=config.metric,
            window=config.window,
            spend_currency=config.spend_currency,
            downgrade_policy=config.downgrade,
            grace_days=config.grace_days,
            updated_at=config.updated_at,
        )


@strawberry.type(description="Where a member stands: what is needed to rise, and to stay.")
class TierProgress:
    metric: model.Metric
    window: model.Window
    value: Decimal = strawberry.field(description="The qualifying value now.")
    next_tier: Tier | None
    to_next: Decimal | None = strawberry.field(description="What remains to reach it.")
    review_at: datetime | None = strawberry.field(description="When the tier is reviewed.")
    value_at_review: Decimal | None = strawberry.field(
        description="Of today's credit, what will still count at the review."
    )
    to_keep: Decimal | None = strawberry.field(
        description="What remains to keep the current tier at the review."
    )

    @classmethod
    def from_domain(cls, progress: model.Progress) -> TierProgress:
        return cls(
            metric=progress.metric,
            window=progress.window,
            value=progress.value,
            next_tier=tier_or_none(progress.next_tier),
            to_next=progress.to_next,
            review_at=progress.review_at,
            value_at_review=progress.value_at_review,
            to_keep=progress.to_keep,
        )


@strawberry.type(description="One tier-history record.")
class TierChange:
    from_code: str | None
    to_code: str
    reason: model.ChangeReason
    at: datetime
    actor: str = strawberry.field(description="Who: system, service:<client>, admin:<user>.")
    order_id: str | None
    note: str | None = strawberry.field(description="An admin's reason.")
    value: Decimal | None = strawberry.field(description="The qualifying value then.")

    @classmethod
    def from_domain(cls, change: model.TierChange) -> TierChange:
        return cls(
            from_code=change.from_code,
            to_code=change.to_code,
            reason=change.reason,
            at=change.at,
            actor=change.actor,
            order_id=change.order_id,
            note=change.note,
            value=change.value,
        )


@strawberry.type
class TierChangeEdge:
    node: TierChange
    cursor: str


@strawberry.type
class TierChangeConnection:
    edges: list[TierChangeEdge]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: HistoryPage) -> TierChangeConnection:
        edges = [
            TierChangeEdge(node=TierChange.from_domain(c), cursor=cursor(c)) for c in page.changes
        ]
        return cls(
            edges=edges,
            page_info=PageInfo.forward([e.cursor for e in edges], page.has_next),
        )


@strawberry.type(description="A member's tier (null `tier` when the shop has no tiers).")
class MemberTier:
    member_id: strawberry.Private[str]
    state: strawberry.Private[model.TierState]
    now: strawberry.Private[datetime]
    principal: strawberry.Private[Principal]

    def _config(self, info: Info) -> model.TierConfig:
        return info.context.services.tiers.config()

    @strawberry.field(description="The tier held now: the base tier until one is reached.")
    def tier(self, info: Info) -> Tier | None:
        return tier_or_none(self._config(info).tier(self.state.code))

    @strawberry.field
    def since(self) -> datetime | None:
        return self.state.since

    @strawberry.field(description="End of the tier's validity; null: no review.")
    def valid_until(self) -> datetime | None:
        return self.state.valid_until

    @strawberry.field(description="Set by an admin until this time; null otherwise.")
    def held_until(self) -> datetime | None:
        return None if self.state.manual is None else self.state.manual.until

    @strawberry.field
    def multiplier(self, info: Info) -> Decimal:
        return credit.multiplier(self.state, self._config(info))

    @strawberry.field(description="Null when the shop has no tiers.")
    def progress(self, info: Info) -> TierProgress | None:
        progress = rules.progress(self.state, self._config(info), self.now)
        return None if progress is None else TierProgress.from_domain(progress)

    @strawberry.field(description="Tier changes, newest first (a Relay connection).")
    def history(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> TierChangeConnection:
        page = info.context.services.tiers.history(self.principal, self.member_id, first, after)
        return TierChangeConnection.from_page(page)


@strawberry.type(description="What an order of this total would earn the member now.")
class EarnPreview:
    points: int = strawberry.field(description="Base points times the tier's multiplier.")
    base_points: int
    multiplier: Decimal
    tier_now: Tier | None
    tier_after: Tier | None = strawberry.field(description="The tier the order would reach.")
    upgrade: bool

    @classmethod
    def from_domain(cls, preview: Preview) -> EarnPreview:
        now, after = preview.tier_now, preview.tier_after
        return cls(
            points=preview.earning.points,
            base_points=preview.earning.base,
            multiplier=preview.earning.multiplier,
            tier_now=tier_or_none(now),
            tier_after=tier_or_none(after),
            upgrade=now is not None and after is not None and after.code != now.code,
        )


@strawberry.type(
    name="TierCount", description="Members per tier, as counted from the table's stream."
)
class TierCountType:
    tier: Tier
    members: int

    @classmethod
    def from_domain(cls, count: TierCount) -> TierCountType:
        return cls(tier=Tier.from_domain(count.tier), members=count.members)
