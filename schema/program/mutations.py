"""Admin: change the program's settings, move and reset the test clock."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import strawberry

from api.program import model
from schema.context import Info
from schema.errors import ConcurrentUpdate, InvalidInput, TestClockDisabled, mutation
from schema.nudges.admin import NudgeRun
from schema.program.queries import program_of
from schema.program.types import MaintenanceRun, Program, TestClock
from schema.referrals.types import ReferralJobRun


@strawberry.input(description="Omitted fields stay as they are.")
class EarningRuleInput:
    points_per_unit: Decimal | None = None
    rounding: model.Rounding | None = None
    min_points_per_order: int | None = None
    max_points_per_order: int | None = strawberry.field(
        default=strawberry.UNSET, description="null removes the cap."
    )


@strawberry.input(description="Omitted fields stay as they are.")
class ReferralSettingsInput:
    enabled: bool | None = None
    referrer_points: int | None = None
    monthly_cap: int | None = None
    welcome_promotion_id: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="A live CODE promotion; null: accepted referees get no welcome code.",
    )
    welcome_validity_days: int | None = None
    link_format: str | None = strawberry.field(
        default=None, description="An https URL with {code} once."
    )

    def to_domain(self) -> model.ReferralChange:
        return model.ReferralChange(
            enabled=self.enabled,
            referrer_points=self.referrer_points,
            monthly_cap=self.monthly_cap,
            welcome_promotion_id=None
            if self.welcome_promotion_id is strawberry.UNSET
            else self.welcome_promotion_id,
            clear_welcome_promotion=self.welcome_promotion_id is None,
            welcome_validity_days=self.welcome_validity_days,
            link_format=self.link_format,
        )


@strawberry.input(description="Omitted fields stay as they are.")
class SurveySettingsInput:
    recontact_days: int | None = strawberry.field(
        default=None, description="1 to 3660: a member is asked NPS at most once in this many days."
    )
    nps_sample_percent: int | None = strawberry.field(default=None, description="0 to 100.")
    csat_sample_percent: int | None = strawberry.field(default=None, description="0 to 100.")
    follow_up_hours: int | None = strawberry.field(
        default=None, description="1 to 720: when an unhappy answer's follow-up is due."
    )

    def to_domain(self) -> model.SurveyChange:
        return model.SurveyChange(
            recontact_days=self.recontact_days,
            nps_sample_percent=self.nps_sample_percent,
            csat_sample_percent=self.csat_sample_percent,
            follow_up_hours=self.follow_up_hours,
        )


@strawberry.input(description="Omitted fields stay as they are.")
class UpdateProgramInput:
    earning_rule: EarningRuleInput | None = None
    accepted_currencies: list[str] | None = None
    return_window_days: int | None = None
    lot_validity_days: int | None = strawberry.field(
        default=strawberry.UNSET, description="null: lots never expire."
    )
    negative_balance_policy: model.NegativeBalancePolicy | None = None
    reservation_minutes: int | None = strawberry.field(
        default=None, description="How long a checkout reservation holds its promotions."
    )
    refund_returns_promotions: bool | None = strawberry.field(
        default=None, description="Whether a full refund gives back promotion uses and budget."
    )
    referrals: ReferralSettingsInput | None = None
    reward_cancel_hours: int | None = strawberry.field(
        default=None, description="How long a member may cancel an unused reward (0: never)."
    )
    review_reward_points: int | None = strawberry.field(
        default=None,
        description="Points for a member's first approved review of a product, whatever its "
        "rating (0: off).",
    )
    review_reward_verified_only: bool | None = strawberry.field(
        default=None, description="Only verified reviews earn reviewRewardPoints."
    )
    surveys: SurveySettingsInput | None = None

    def to_domain(self) -> model.SettingsChange:
        rule = self.earning_rule or EarningRuleInput()
        return model.SettingsChange(
            points_per_unit=rule.points_per_unit,
            rounding=rule.rounding,
            min_points_per_order=rule.min_points_per_order,
            max_points_per_order=None
            if rule.max_points_per_order is strawberry.UNSET
            else rule.max_points_per_order,
            clear_max_points_per_order=rule.max_points_per_order is None,
            accepted_currencies=self.accepted_currencies,
            return_window_days=self.return_window_days,
            lot_validity_days=None
            if self.lot_validity_days is strawberry.UNSET
            else self.lot_validity_days,
            lots_never_expire=self.lot_validity_days is None,
            negative_balance_policy=self.negative_balance_policy,
            reservation_minutes=self.reservation_minutes,
            refund_returns_promotions=self.refund_returns_promotions,
            referrals=None if self.referrals is None else self.referrals.to_domain(),
            reward_cancel_hours=self.reward_cancel_hours,
            review_reward_points=self.review_reward_points,
            review_reward_verified_only=self.review_reward_verified_only,
            surveys=None if self.surveys is None else self.surveys.to_domain(),
        )


@strawberry.type
class ProgramUpdated:
    program: Program


@strawberry.input(
    description="How far to move the program's time forward (in all, 1 s to 10 years)."
)
class AdvanceTestClockInput:
    days: int = 0
    hours: int = 0
    seconds: int = 0


@strawberry.type
class TestClockAdvanced:
    __test__ = False
    test_clock: TestClock
    maintenance: MaintenanceRun
    referrals: ReferralJobRun
    nudges: NudgeRun


@strawberry.type
class TestClockReset:
    __test__ = False
    test_clock: TestClock


UpdateProgramResult = Annotated[
    ProgramUpdated | InvalidInput | ConcurrentUpdate,
    strawberry.union("UpdateProgramResult"),
]
AdvanceTestClockResult = Annotated[
    TestClockAdvanced | InvalidInput | TestClockDisabled | ConcurrentUpdate,
    strawberry.union("AdvanceTestClockResult"),
]
ResetTestClockResult = Annotated[
    TestClockReset | TestClockDisabled | ConcurrentUpdate,
    strawberry.union("ResetTestClockResult"),
]


@strawberry.type
class ProgramMutation:
    @mutation("Admin: change the program's settings (future orders).")
    def update_program(self, info: Info, input: UpdateProgramInput) -> UpdateProgramResult:
        ctx = info.context
        settings = ctx.services.program.update(ctx.principal, input.to_domain())
        return ProgramUpdated(program=program_of(info, settings))

    @mutation(
        "Admin, outside production: move the program's time forward, then run the scheduled "
        "jobs (points, expired reservations, referral rewards, nudges), so pending lots "
        "activate, lots expire, due referrals are decided and due nudges sent without waiting."
    )
    def advance_test_clock(
        self, info: Info, input: AdvanceTestClockInput
    ) -> AdvanceTestClockResult:
        ctx = info.context
        settings = ctx.services.program.advance_clock(
            ctx.principal, input.seconds, days=input.days, hours=input.hours
        )
        report = ctx.services.maintenance.run()
        ctx.services.reservations.expire_due()
        referrals = ctx.services.referral_rewards.run()
        nudges = ctx.services.nudge_scheduler.run()
        return TestClockAdvanced(
            test_clock=TestClock(
                now=report.now, offset_seconds=int(settings.clock_offset.total_seconds())
            ),
            maintenance=MaintenanceRun.from_domain(report),
            referrals=ReferralJobRun.from_domain(referrals),
            nudges=NudgeRun.from_domain(nudges),
        )

    @mutation(
        "Admin, outside production: put the program's time back on the real clock. "
        "Entries keep their dates; lots dated ahead wait for real time to reach them."
    )
    def reset_test_clock(self, info: Info) -> ResetTestClockResult:
        ctx = info.context
        settings = ctx.services.program.reset_clock(ctx.principal)
        return TestClockReset(
            test_clock=TestClock(now=ctx.services.program.now(settings), offset_seconds=0)
        )
