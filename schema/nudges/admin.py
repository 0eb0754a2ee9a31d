"""Admins and nudges: every record per member and per kind, lift per kind, an explain dry
run, and (local and dev stages) a scheduler run on demand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

import strawberry

from api.members.model import Channel
from api.nudges import admin, model
from api.nudges.rules_model import NudgeKind
from api.nudges.scheduler import RunReport
from schema.common import PageInfo
from schema.context import Info
from schema.errors import TestClockDisabled, mutation
from schema.nudges import settings as _  # noqa: F401 - names NudgeKind first

DEFAULT_PAGE = 20

strawberry.enum(
    model.NudgeStatus,
    name="NudgeStatus",
    description=(
        "QUEUED: decided, on its way to the sender. SENDING: a sender has it. HELD: quiet "
        "hours, decided again when they end. SENT: the provider accepted it. HELD_OUT: the "
        "control group, never sent. DROPPED, SUPPRESSED, FAILED: not sent, see `reason`."
    ),
)


@strawberry.type(description="A value the nudge's message shows.")
class NudgeValue:
    name: str
    value: str = strawberry.field(description="ISO 8601 for dates and times.")


@strawberry.type(description="One nudge decided: a member, a kind and a subject, once ever.")
class NudgeRecord:
    member_id: strawberry.ID
    kind: NudgeKind
    subject: str = strawberry.field(
        description="What it is about: the expiry date, the reward, the order, the year..."
    )
    status: model.NudgeStatus
    channel: Channel | None
    reason: str | None = strawberry.field(
        description="DROPPED: NO_CONSENT, NO_ADDRESS, CAPPED, STALE, QUIET_HOURS_STALE, "
        "MEMBER_GONE. SUPPRESSED and FAILED: the provider's or the sender's reason."
    )
    due_at: dt.datetime
    send_at: dt.datetime | None = strawberry.field(description="HELD: when quiet hours end.")
    created_at: dt.datetime
    updated_at: dt.datetime
    message_id: str | None
    attempts: int
    converted_at: dt.datetime | None = strawberry.field(
        description="The first order within the attribution window after it was decided."
    )
    values: list[NudgeValue]

    @classmethod
    def from_domain(cls, r: model.NudgeRecord) -> NudgeRecord:
        return cls(
            member_id=strawberry.ID(r.member_id),
            kind=r.kind,
            subject=r.subject,
            status=r.status,
            channel=r.channel,
            reason=r.reason,
            due_at=r.due_at,
            send_at=r.send_at,
            created_at=r.created_at,
            updated_at=r.updated_at,
            message_id=r.message_id,
            attempts=r.attempts,
            converted_at=r.converted_at,
            values=[
                NudgeValue(
                    name=k,
                    value=v.isoformat() if isinstance(v, dt.date) else str(v),
                )
                for k, v in sorted(r.values.items())
            ],
        )


@strawberry.type
class NudgeRecordEdge:
    node: NudgeRecord
    cursor: str


@strawberry.type
class NudgeRecordConnection:
    edges: list[NudgeRecordEdge]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: admin.RecordPage) -> NudgeRecordConnection:
        edges = [
            NudgeRecordEdge(node=NudgeRecord.from_domain(r), cursor=c)
            for r, c in zip(page.records, page.cursors, strict=True)
        ]
        return cls(edges=edges, page_info=PageInfo.forward(list(page.cursors), page.has_next))


@strawberry.type(
    description="Conversion (an order within the attribution window) of members sent a nudge "
    "of this kind vs members held out, decided from `from` to `to` (UTC days). Rates and the "
    "difference are fractions (0.05 = 5 points); null where a group is empty."
)
class NudgeLift:
    kind: NudgeKind
    from_: dt.date = strawberry.field(name="from")
    to: dt.date
    treated: int
    treated_converted: int
    control: int
    control_converted: int
    rate_treated: Decimal | None
    rate_control: Decimal | None
    difference: Decimal | None = strawberry.field(description="rateTreated - rateControl.")
    low: Decimal | None = strawberry.field(description="The difference's 95 % interval, low.")
    high: Decimal | None = strawberry.field(description="The difference's 95 % interval, high.")

    @classmethod
    def from_domain(cls, r: admin.LiftReport) -> NudgeLift:
        def fix(x: float | None) -> Decimal | None:
            return None if x is None else Decimal(str(round(x, 6)))

        interval = r.lift.interval
        return cls(
            kind=r.kind,
            from_=r.start,
            to=r.end,
            treated=r.treated,
            treated_converted=r.treated_converted,
            control=r.control,
            control_converted=r.control_converted,
            rate_treated=fix(r.lift.rate_treated),
            rate_control=fix(r.lift.rate_control),
            difference=fix(r.lift.difference),
            low=None if interval is None else fix(interval[0]),
            high=None if interval is None else fix(interval[1]),
        )


@strawberry.type(description="What the scheduler would do now for one member and subject.")
class NudgeExplanation:
    member_id: strawberry.ID
    kind: NudgeKind
    subject: str
    outcome: str = strawberry.field(description="SEND, HOLD or SKIP.")
    channel: Channel | None
    until: dt.datetime | None = strawberry.field(description="HOLD: when quiet hours end.")
    reason: str | None = strawberry.field(
        description="HOLD: QUIET_HOURS. SKIP: NO_CONSENT, NO_ADDRESS, CAPPED, HELD_OUT, "
        "ALREADY_SENT, STALE, QUIET_HOURS_STALE or NOT_APPLICABLE (e.g. the expiring points "
        "were spent)."
    )

    @classmethod
    def from_domain(cls, e: admin.Explanation) -> NudgeExplanation:
        return cls(
            member_id=strawberry.ID(e.member_id),
            kind=e.kind,
            subject=e.subject,
            outcome=e.outcome,
            channel=None if e.channel is None else Channel(e.channel),
            until=e.until,
            reason=e.reason,
        )


@strawberry.type(description="What one scheduler run did.")
class NudgeRun:
    members: int = strawberry.field(description="Members with anything due, looked at.")
    queued: int
    held: int = strawberry.field(description="Waiting for quiet hours to end.")
    held_out: int
    dropped: int
    requeued: int = strawberry.field(description="Queued earlier and not yet sent: again.")
    bonus_points: int = strawberry.field(description="Birthday bonus points given.")
    left: int = strawberry.field(description="Members left for the next run.")

    @classmethod
    def from_domain(cls, r: RunReport) -> NudgeRun:
        return cls(
            members=r.members,
            queued=r.queued,
            held=r.held,
            held_out=r.held_out,
            dropped=r.dropped,
            requeued=r.requeued,
            bonus_points=r.bonus_points,
            left=r.left,
        )


RunNudgesResult = Annotated[NudgeRun | TestClockDisabled, strawberry.union("RunNudgesResult")]


@strawberry.type
class NudgeAdminQuery:
    @strawberry.field(description="Admin: a member's nudge records (of one kind, if given).")
    def member_nudges(
        self,
        info: Info,
        member_id: strawberry.ID,
        kind: NudgeKind | None = None,
        first: int = DEFAULT_PAGE,
        after: str | None = None,
    ) -> NudgeRecordConnection:
        ctx = info.context
        page = ctx.services.nudges.member_records(ctx.principal, member_id, kind, first, after)
        return NudgeRecordConnection.from_page(page)

    @strawberry.field(description="Admin: the records of one kind, newest first.")
    def nudges(
        self, info: Info, kind: NudgeKind, first: int = DEFAULT_PAGE, after: str | None = None
    ) -> NudgeRecordConnection:
        ctx = info.context
        page = ctx.services.nudges.kind_records(ctx.principal, kind, first, after)
        return NudgeRecordConnection.from_page(page)

    @strawberry.field(description="Admin: lift of one kind over UTC days (at most 366).")
    def nudge_lift(
        self,
        info: Info,
        kind: NudgeKind,
        from_: Annotated[dt.date, strawberry.argument(name="from")],
        to: dt.date,
    ) -> NudgeLift:
        ctx = info.context
        return NudgeLift.from_domain(ctx.services.nudges.lift(ctx.principal, kind, from_, to))

    @strawberry.field(
        description="Admin: a dry run of one kind: who would be nudged now, and for the "
        "others why not. Writes nothing."
    )
    def explain_nudges(
        self, info: Info, kind: NudgeKind, first: int = DEFAULT_PAGE
    ) -> list[NudgeExplanation]:
        ctx = info.context
        found = ctx.services.nudges.explain(ctx.principal, kind, first)
        return [NudgeExplanation.from_domain(e) for e in found]


@strawberry.type
class NudgeAdminMutation:
    @mutation(
        "Admin, outside production: run the hourly nudge scheduler now (advanceTestClock "
        "runs it too). Production runs on its schedule."
    )
    def run_nudges(self, info: Info) -> RunNudgesResult:
        ctx = info.context
        return NudgeRun.from_domain(ctx.services.nudges.run(ctx.principal))
