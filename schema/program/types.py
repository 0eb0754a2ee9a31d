"""Program settings and the test clock as GraphQL types."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from api.config import Config
from api.points.maintenance import MaintenanceReport
from api.program import model

strawberry.enum(model.Rounding)
strawberry.enum(
    model.NegativeBalancePolicy,
    description=(
        "What a refund does when the order's points were already spent: ALLOW_NEGATIVE lets "
        "the balance go below zero (repaid from future earnings); STOP_AT_ZERO takes back what "
        "is there and records the rest as the entry's shortfall."
    ),
)


@strawberry.type
class EarningRule:
    points_per_unit: Decimal = strawberry.field(description="Points per unit of currency.")
    rounding: model.Rounding
    min_points_per_order: int = strawberry.field(
        description="Orders that would earn fewer points earn none."
    )
    max_points_per_order: int | None


@strawberry.type(description="Referrals: what a referral earns and how often.")
class ReferralSettings:
    enabled: bool
    referrer_points: int = strawberry.field(
        description="Earned once the referee's first order outlives its return window."
    )
    monthly_cap: int = strawberry.field(
        description="Accepted referrals per referrer per calendar month (UTC)."
    )
    welcome_promotion_id: str | None = strawberry.field(
        description="A CODE promotion: each accepted referee gets a code of it."
    )
    welcome_validity_days: int
    link_format: str = strawberry.field(description="e.g. https://shop.example/r/{code}")

    @classmethod
    def from_domain(cls, r: model.ReferralSettings) -> ReferralSettings:
        return cls(
            enabled=r.enabled,
            referrer_points=r.referrer_points,
            monthly_cap=r.monthly_cap,
            welcome_promotion_id=r.welcome_promotion_id,
            welcome_validity_days=r.welcome_validity_days,
            link_format=r.link_format,
        )


@strawberry.type(
    description="Surveys: how often members are asked, and when unhappy answers are followed up."
)
class SurveySettings:
    recontact_days: int = strawberry.field(
        description="A member is asked NPS at most once in this many days, across channels."
    )
    nps_sample_percent: int = strawberry.field(
        description="Of the members otherwise due, the share asked NPS (0-100)."
    )
    csat_sample_percent: int = strawberry.field(
        description="Of orders and support contacts, the share asked CSAT (0-100)."
    )
    follow_up_hours: int = strawberry.field(
        description="A detractor's (0-6) or an unhappy CSAT's (1-2) follow-up is due this "
        "long after the answer."
    )

    @classmethod
    def from_domain(cls, s: model.SurveySettings) -> SurveySettings:
        return cls(
            recontact_days=s.recontact_days,
            nps_sample_percent=s.nps_sample_percent,
            csat_sample_percent=s.csat_sample_percent,
            follow_up_hours=s.follow_up_hours,
        )


@strawberry.type(description="Outside production: the program's time, ahead of the real clock.")
class TestClock:
    __test__ = False
    now: datetime
    offset_seconds: int


@strawberry.type
class Program:
    earning_rule: EarningRule
    accepted_currencies: list[str]
    return_window_days: int = strawberry.field(
        description="Earned points stay pending this long after the order is placed."
    )
    lot_validity_days: int | None = strawberry.field(
        description="Active points expire this long after they activate; null: never."
    )
    negative_balance_policy: model.NegativeBalancePolicy
    reservation_minutes: int = strawberry.field(
        description="How long a checkout reservation holds its promotions."
    )
    refund_returns_promotions: bool = strawberry.field(
        description="Whether a full refund gives back promotion uses and budget."
    )
    referrals: ReferralSettings
    reward_cancel_hours: int = strawberry.field(
        description="How long a member may cancel an unused reward (0: never)."
    )
    review_reward_points: int = strawberry.field(
        description="Points for a member's first approved review of a product, whatever its "
        "rating (0: off)."
    )
    review_reward_verified_only: bool = strawberry.field(
        description="Only verified reviews earn reviewRewardPoints."
    )
    surveys: SurveySettings
    updated_at: datetime | None
    test_clock: TestClock | None = strawberry.field(description="Null in production.")

    @classmethod
    def from_domain(cls, settings: model.ProgramSettings, config: Config, now: datetime) -> Program:
        rule = settings.earning_rule
        return cls(
            earning_rule=EarningRule(
                points_per_unit=rule.points_per_unit,
                rounding=rule.rounding,
                min_points_per_order=rule.min_points_per_order,
                max_points_per_order=rule.max_points_per_order,
            ),
            accepted_currencies=list(settings.accepted_currencies),
            return_window_days=settings.return_window_days,
            lot_validity_days=settings.lot_validity_days,
            negative_balance_policy=settings.negative_balance_policy,
            reservation_minutes=settings.reservation_minutes,
            refund_returns_promotions=settings.refund_returns_promotions,
            referrals=ReferralSettings.from_domain(settings.referrals),
            reward_cancel_hours=settings.reward_cancel_hours,
            review_reward_points=settings.review_reward_points,
            review_reward_verified_only=settings.review_reward_verified_only,
            surveys=SurveySettings.from_domain(settings.surveys),
            updated_at=settings.updated_at,
            test_clock=TestClock(now=now, offset_seconds=int(settings.clock_offset.total_seconds()))
            if config.test_clock
            else None,
        )


@strawberry.type(description="What the daily job recorded after the clock moved.")
class MaintenanceRun:
    members_due: int
    members_changed: int
    lots_activated: int
    lots_expired: int
    points_expired: int
    tiers_reviewed: int = strawberry.field(description="Members whose tier review was due.")
    tiers_lowered: int
    tiers_raised: int

    @classmethod
    def from_domain(cls, report: MaintenanceReport) -> MaintenanceRun:
        return cls(
            members_due=report.members_due,
            members_changed=report.members_changed,
            lots_activated=report.lots_activated,
            lots_expired=report.lots_expired,
            points_expired=report.points_expired,
            tiers_reviewed=report.tiers_reviewed,
            tiers_lowered=report.tiers_lowered,
            tiers_raised=report.tiers_raised,
        )
