"""Referrals as GraphQL types: a member's referral card, the referrals they made (a Relay
connection), the referral a customer joined with, and what the scheduled job decided."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.referrals import model
from api.referrals.service import cursor
from schema.common import PageInfo

strawberry.enum(
    model.ReferralStatus,
    description=(
        "PENDING: accepted; the referrer earns the points once the referee's first order "
        "outlives its return window un-refunded. REWARDED: they did. REFUSED: never "
        "rewarded; `reason` says why."
    ),
)
strawberry.enum(
    model.Refusal,
    name="ReferralRefusal",
    description=(
        "Why a referral is refused. PROGRAM_OFF: referrals were off. SELF_REFERRAL: the "
        "referrer's own customer id, email or phone. NOT_NEW_CUSTOMER: the customer was "
        "enrolled already. REFERRER_CAP_REACHED: the referrer's monthly cap was reached. "
        "FIRST_ORDER_REFUNDED: the referee's first order was refunded within its window."
    ),
)


@strawberry.type(description="A referral a member made, as they see it.")
class Referral:
    status: model.ReferralStatus
    reason: model.Refusal | None = strawberry.field(description="Why it was refused.")
    referee_name: str | None = strawberry.field(
        description="Their first name and last initial, e.g. Bob S."
    )
    points: int = strawberry.field(description="Earned (REWARDED) or to earn (PENDING).")
    created_at: datetime = strawberry.field(description="When the referee enrolled.")
    first_order_at: datetime | None = strawberry.field(
        description="When the referee's first order was placed."
    )
    reward_due_at: datetime | None = strawberry.field(
        description="When its return window ends and the reward is decided (PENDING)."
    )
    decided_at: datetime | None = strawberry.field(description="When rewarded or refused.")

    @classmethod
    def from_domain(cls, r: model.Referral) -> Referral:
        return cls(
            status=r.status,
            reason=r.reason,
            referee_name=r.referee_name,
            points=r.points,
            created_at=r.created_at,
            first_order_at=r.first_order_at,
            reward_due_at=r.due_at if r.status is model.ReferralStatus.PENDING else None,
            decided_at=r.decided_at,
        )


@strawberry.type
class ReferralEdge:
    node: Referral
    cursor: str


@strawberry.type
class ReferralConnection:
    edges: list[ReferralEdge]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: model.ReferralPage) -> ReferralConnection:
        edges = [
            ReferralEdge(node=Referral.from_domain(r), cursor=cursor(r)) for r in page.referrals
        ]
        return cls(
            edges=edges, page_info=PageInfo.forward([e.cursor for e in edges], page.has_next)
        )


@strawberry.type(
    description="The referral a customer enrolled with, as they (and the shop) see it."
)
class Invitation:
    status: model.ReferralStatus
    reason: model.Refusal | None = strawberry.field(description="Why it was refused.")
    created_at: datetime
    welcome_code: str | None = strawberry.field(
        description="Their welcome code (accepted referrals, when the program has one)."
    )
    welcome_expires_at: datetime | None

    @classmethod
    def from_domain(cls, r: model.Referral) -> Invitation:
        return cls(
            status=r.status,
            reason=r.reason,
            created_at=r.created_at,
            welcome_code=r.welcome_code,
            welcome_expires_at=r.welcome_expires_at,
        )


def invitation_or_none(r: model.Referral | None) -> Invitation | None:
    return None if r is None else Invitation.from_domain(r)


@strawberry.type(description="How a member's referrals stand.")
class ReferralSummary:
    pending: int
    rewarded: int
    refused: int
    points_earned: int


@strawberry.type(description="A member's referral card.")
class MemberReferral:
    enabled: bool = strawberry.field(description="Whether referrals are on.")
    code: str | None = strawberry.field(description="Theirs to share; case-insensitive.")
    link: str | None = strawberry.field(description="The program's link format with the code.")
    summary: ReferralSummary
    invitation: Invitation | None = strawberry.field(
        description="The referral they enrolled with, if they gave a code."
    )

    @classmethod
    def from_domain(cls, overview: model.Overview) -> MemberReferral:
        s = overview.summary
        return cls(
            enabled=overview.enabled,
            code=overview.code,
            link=overview.link,
            summary=ReferralSummary(
                pending=s.pending,
                rewarded=s.rewarded,
                refused=s.refused,
                points_earned=s.points_earned,
            ),
            invitation=invitation_or_none(overview.invitation),
        )


@strawberry.type(description="A referral code, checked before an enrolment.")
class ReferralCode:
    code: str = strawberry.field(description="Normalised (upper-case).")
    referrer_name: str | None = strawberry.field(description="e.g. Alice M.")
    enabled: bool = strawberry.field(
        description="Whether referrals are on: an enrolment with it makes a referral."
    )

    @classmethod
    def from_domain(cls, check: model.CodeCheck) -> ReferralCode:
        return cls(code=check.code, referrer_name=check.referrer_name, enabled=check.enabled)


@strawberry.type(description="What the referrals job decided after the clock moved.")
class ReferralJobRun:
    rewarded: int
    refused: int
    points: int = strawberry.field(description="Credited to referrers.")

    @classmethod
    def from_domain(cls, report: model.JobReport) -> ReferralJobRun:
        return cls(rewarded=report.rewarded, refused=report.refused, points=report.points)
