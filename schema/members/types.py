"""Members as GraphQL types."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from api.auth import Principal
from api.members import model
from api.members.model import Channel
from api.members.view import MemberView
from schema.context import Info
from schema.feedback.surveys import SurveysDue, surveys_due
from schema.points.types import Points
from schema.promotions.types import PromotionOffer
from schema.referrals.types import MemberReferral, ReferralConnection
from schema.tiers.types import MemberTier

strawberry.enum(Channel)


@strawberry.type(description="Consent to be contacted on one channel: when and where it was given.")
class Consent:
    channel: Channel
    granted: bool
    updated_at: datetime
    source: str


@strawberry.type
class Member:
    id: strawberry.ID
    customer_id: str
    email: str | None
    name: str | None
    phone: str | None
    birthday: date | None
    time_zone: str
    locale: str
    consents: list[Consent]
    created_at: datetime
    updated_at: datetime
    points: Points
    tier: MemberTier = strawberry.field(description="Tier, progress and tier history.")

    @strawberry.field(
        description="The automatic promotions open to them now, or soon (early access)."
    )
    def promotions(self, info: Info) -> list[PromotionOffer]:
        ctx = info.context
        offers = ctx.services.checkout.offers(ctx.principal, str(self.id))
        return [PromotionOffer.from_domain(o) for o in offers]

    @strawberry.field(
        description="Their referral code and link, totals, and the referral they joined with."
    )
    def referral(self, info: Info) -> MemberReferral:
        ctx = info.context
        return MemberReferral.from_domain(
            ctx.services.referrals.overview(ctx.principal, str(self.id))
        )

    @strawberry.field(
        description="Whether the member's app should show a survey now (askSurvey then gives "
        "the invitation). Members: their own; the shop: any member."
    )
    def surveys_due(self, info: Info) -> SurveysDue:
        return surveys_due(info, str(self.id))

    @strawberry.field(description="The referrals they made, newest first (a Relay connection).")
    def referrals(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> ReferralConnection:
        ctx = info.context
        page = ctx.services.referrals.referrals(ctx.principal, str(self.id), first, after)
        return ReferralConnection.from_page(page)

    @classmethod
    def fresh(cls, info: Info, member: model.Member) -> Member:
        """A member just written: no history prefetched; points at the program's time."""
        ctx = info.context
        view = MemberView(member, ctx.services.program.current_time(), None, 0)
        return cls.from_view(view, ctx.principal)

    @classmethod
    def from_view(cls, view: MemberView, principal: Principal) -> Member:
        m = view.member
        return cls(
            id=strawberry.ID(m.id),
            customer_id=m.customer_id,
            email=m.email,
            name=m.name,
            phone=m.phone,
            birthday=m.birthday,
            time_zone=m.time_zone,
            locale=m.locale,
            consents=[
                Consent(
                    channel=c.channel, granted=c.granted, updated_at=c.updated_at, source=c.source
                )
                for c in m.consents
            ],
            created_at=m.created_at,
            updated_at=m.updated_at,
            points=Points(
                balance=m.balance,
                available=m.points.available(view.now),
                pending=m.points.pending(view.now),
                member_id=m.id,
                now=view.now,
                state=m.points,
                principal=principal,
                prefetched=view.history,
                prefetched_first=view.history_first,
            ),
            tier=MemberTier(member_id=m.id, state=m.tier, now=view.now, principal=principal),
        )
