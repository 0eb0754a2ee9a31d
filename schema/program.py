"""Program settings and the test clock (admin)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, cast

import strawberry

from api import program
from api.config import Config
from api.maintenance import MaintenanceReport
from schema.context import Info
from schema.errors import ConcurrentUpdate, InvalidInput, TestClockDisabled, mutate, query

strawberry.enum(program.Rounding)
strawberry.enum(
    program.NegativeBalancePolicy,
    description=(
        "What a refund does when the order's points were already spent: ALLOW_NEGATIVE lets "
        "the balance go below zero (repaid from future earnings); STOP_AT_ZERO takes back what "
        "is there and records the rest as the entry's shortfall."
    ),
)


@strawberry.type
class EarningRule:
    points_per_unit: Decimal = strawberry.field(description="Points per unit of currency.")
    rounding: program.Rounding
    min_points_per_order: int = strawberry.field(
        description="Orders that would earn fewer points earn none."
    )
    max_points_per_order: int | None


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
    negative_balance_policy: program.NegativeBalancePolicy
    updated_at: datetime | None
    test_clock: TestClock | None = strawberry.field(description="Null in production.")

    @classmethod
    def from_domain(
        cls, settings: program.ProgramSettings, config: Config, now: datetime
    ) -> Program:
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
            updated_at=settings.updated_at,
            test_clock=TestClock(now=now, offset_seconds=int(settings.clock_offset.total_seconds()))
            if config.test_clock
            else None,
        )


def _program(info: Info, settings: program.ProgramSettings) -> Program:
    services = info.context.services
    return Program.from_domain(settings, services.config, services.program.now(settings))


@strawberry.type
class ProgramQuery:
    @strawberry.field(description="Admin and shop backend: the program's settings.")
    def program(self, info: Info) -> Program:
        ctx = info.context
        return _program(info, query(lambda: ctx.services.program.get(ctx.principal)))


@strawberry.input(description="Omitted fields stay as they are.")
class EarningRuleInput:
    points_per_unit: Decimal | None = None
    rounding: program.Rounding | None = None
    min_points_per_order: int | None = None
    max_points_per_order: int | None = strawberry.field(
        default=strawberry.UNSET, description="null removes the cap."
    )


@strawberry.input(description="Omitted fields stay as they are.")
class UpdateProgramInput:
    earning_rule: EarningRuleInput | None = None
    accepted_currencies: list[str] | None = None
    return_window_days: int | None = None
    lot_validity_days: int | None = strawberry.field(
        default=strawberry.UNSET, description="null: lots never expire."
    )
    negative_balance_policy: program.NegativeBalancePolicy | None = None


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


@strawberry.type(description="What the points job recorded after the clock moved.")
class MaintenanceRun:
    members_due: int
    members_changed: int
    lots_activated: int
    lots_expired: int
    points_expired: int

    @classmethod
    def from_domain(cls, report: MaintenanceReport) -> MaintenanceRun:
        return cls(
            members_due=report.members_due,
            members_changed=report.members_changed,
            lots_activated=report.lots_activated,
            lots_expired=report.lots_expired,
            points_expired=report.points_expired,
        )


@strawberry.type
class TestClockAdvanced:
    __test__ = False
    test_clock: TestClock
    maintenance: MaintenanceRun


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
    @strawberry.mutation(description="Admin: change the program's settings (future orders).")
    def update_program(self, info: Info, input: UpdateProgramInput) -> UpdateProgramResult:
        ctx = info.context
        rule = input.earning_rule or EarningRuleInput()
        change = program.SettingsChange(
            points_per_unit=rule.points_per_unit,
            rounding=rule.rounding,
            min_points_per_order=rule.min_points_per_order,
            max_points_per_order=None
            if rule.max_points_per_order is strawberry.UNSET
            else rule.max_points_per_order,
            clear_max_points_per_order=rule.max_points_per_order is None,
            accepted_currencies=input.accepted_currencies,
            return_window_days=input.return_window_days,
            lot_validity_days=None
            if input.lot_validity_days is strawberry.UNSET
            else input.lot_validity_days,
            lots_never_expire=input.lot_validity_days is None,
            negative_balance_policy=input.negative_balance_policy,
        )

        def run() -> ProgramUpdated:
            settings = ctx.services.program.update(ctx.principal, change)
            return ProgramUpdated(program=_program(info, settings))

        return cast(UpdateProgramResult, mutate(run))

    @strawberry.mutation(
        description=(
            "Admin, outside production: move the program's time forward, then run the points "
            "job, so pending lots activate and lots expire without waiting."
        )
    )
    def advance_test_clock(
        self, info: Info, input: AdvanceTestClockInput
    ) -> AdvanceTestClockResult:
        ctx = info.context

        def run() -> TestClockAdvanced:
            settings = ctx.services.program.advance_clock(
                ctx.principal, input.seconds, days=input.days, hours=input.hours
            )
            report = ctx.services.maintenance.run()
            return TestClockAdvanced(
                test_clock=TestClock(
                    now=report.now, offset_seconds=int(settings.clock_offset.total_seconds())
                ),
                maintenance=MaintenanceRun.from_domain(report),
            )

        return cast(AdvanceTestClockResult, mutate(run))

    @strawberry.mutation(
        description=(
            "Admin, outside production: put the program's time back on the real clock. "
            "Entries keep their dates; lots dated ahead wait for real time to reach them."
        )
    )
    def reset_test_clock(self, info: Info) -> ResetTestClockResult:
        ctx = info.context

        def run() -> TestClockReset:
            settings = ctx.services.program.reset_clock(ctx.principal)
            return TestClockReset(
                test_clock=TestClock(now=ctx.services.program.now(settings), offset_seconds=0)
            )

        return cast(ResetTestClockResult, mutate(run))
