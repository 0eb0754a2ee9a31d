"""Surveys: the shop or the member's app asks (throttled, sampled); the member answers once;
admins read the scores."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry

from api.feedback import surveys_model as model
from schema.common import PageInfo
from schema.context import Info
from schema.errors import (
    ConcurrentUpdate,
    IdempotencyConflict,
    InvalidInput,
    MemberNotFound,
    NotFound,
    OrderNotFound,
    mutation,
)

strawberry.enum(model.SurveyKind, name="SurveyKind", description="NPS: 0-10; CSAT: 1-5.")
strawberry.enum(model.CsatSubject, name="CsatSubject", description="What a CSAT survey is about.")
strawberry.enum(model.SurveyChannel, name="SurveyChannel")
strawberry.enum(model.NotDueReason, name="SurveyNotDueReason")


@strawberry.input(description="Ask a member a survey, if they are due one.")
class AskSurveyInput:
    kind: model.SurveyKind
    channel: model.SurveyChannel
    subject: model.CsatSubject | None = strawberry.field(default=None, description="CSAT only.")
    reference: str | None = strawberry.field(
        default=None, description="CSAT only: the order id, or the support contact id."
    )
    member_id: strawberry.ID | None = strawberry.field(
        default=None, description="The shop: the member asked (or customerId). Members: omit."
    )
    customer_id: str | None = None
    idempotency_key: str

    def to_domain(self) -> model.AskInput:
        return model.AskInput(self.kind, self.channel, self.subject, self.reference)


@strawberry.input
class SubmitSurveyAnswerInput:
    invitation_id: strawberry.ID
    score: int = strawberry.field(description="NPS 0 to 10; CSAT 1 to 5.")
    comment: str | None = strawberry.field(default=None, description="At most 2000 characters.")
    idempotency_key: str


@strawberry.type(description="A survey a member was asked: answered at most once.")
class SurveyInvitation:
    id: strawberry.ID
    member_id: strawberry.ID
    kind: model.SurveyKind
    channel: model.SurveyChannel
    subject: model.CsatSubject | None
    reference: str | None
    asked_at: datetime
    expires_at: datetime = strawberry.field(description="Answers are taken until then.")

    @classmethod
    def from_domain(cls, i: model.Invitation) -> SurveyInvitation:
        return cls(
            id=strawberry.ID(i.id),
            member_id=strawberry.ID(i.member_id),
            kind=i.kind,
            channel=i.channel,
            subject=i.subject,
            reference=i.reference,
            asked_at=i.asked_at,
            expires_at=i.expires_at,
        )


@strawberry.type(description="Show the survey: the member is due it and was sampled.")
class SurveyAsked:
    invitation: SurveyInvitation
    next_ask_at: datetime | None = strawberry.field(
        description="NPS: when the member is next due (recontactDays on)."
    )


@strawberry.type(description="Do not show a survey now.")
class SurveyNotDue:
    reason: model.NotDueReason
    next_ask_at: datetime | None = strawberry.field(description="NPS: when the member is due.")


@strawberry.type(description="A member's answer: immutable.")
class SurveyAnswer:
    id: strawberry.ID
    member_id: strawberry.ID
    kind: model.SurveyKind
    score: int
    comment: str | None
    channel: model.SurveyChannel
    answered_at: datetime
    tier_id: str | None = strawberry.field(
        description="The member's tier when they answered (the base tier for a member "
        "without one); null: there was no tier ladder."
    )
    subject: model.CsatSubject | None
    reference: str | None

    @classmethod
    def from_domain(cls, a: model.Answer) -> SurveyAnswer:
        return cls(
            id=strawberry.ID(a.answer_id),
            member_id=strawberry.ID(a.member_id),
            kind=a.kind,
            score=a.score,
            comment=a.comment,
            channel=a.channel,
            answered_at=a.answered_at,
            tier_id=a.tier_id,
            subject=a.subject,
            reference=a.reference,
        )


@strawberry.type
class SurveyAnswered:
    answer: SurveyAnswer


@strawberry.type(description="Answers counted by score, exact.")
class SurveyScores:
    count: int
    histogram: list[int] = strawberry.field(
        description="How many answered each score, lowest first (NPS 0-10, CSAT 1-5)."
    )
    average: float | None = strawberry.field(description="Two decimals; null: no answers.")
    promoters: int = strawberry.field(description="NPS 9-10.")
    passives: int = strawberry.field(description="NPS 7-8: in the denominator, not the sum.")
    detractors: int = strawberry.field(description="NPS 0-6.")
    satisfied: int = strawberry.field(description="CSAT 4-5.")
    nps: float | None = strawberry.field(
        description="NPS: % promoters - % detractors (-100 to 100), one decimal."
    )
    csat_percent: float | None = strawberry.field(
        description="CSAT: the % of answers scoring 4 or 5, one decimal."
    )

    @classmethod
    def from_domain(cls, s: model.Scores) -> SurveyScores:
        return cls(
            count=s.count,
            histogram=list(s.histogram),
            average=s.average,
            promoters=s.promoters,
            passives=s.passives,
            detractors=s.detractors,
            satisfied=s.satisfied,
            nps=s.nps,
            csat_percent=s.csat_percent,
        )


@strawberry.type
class TierSurveyScores:
    tier_id: str | None = strawberry.field(
        description="Null: answers given while there was no tier ladder."
    )
    scores: SurveyScores


@strawberry.type(description="Answers given on these UTC days, both included.")
class SurveyScoreReport:
    kind: model.SurveyKind
    total: SurveyScores
    by_tier: list[TierSurveyScores] = strawberry.field(
        description="By the tier members had when they answered."
    )


@strawberry.type(
    description="Whether to show the NPS survey now: askSurvey would invite the member."
)
class NpsDue:
    due: bool
    reason: model.NotDueReason | None = strawberry.field(description="Null when due.")
    next_ask_at: datetime | None = strawberry.field(
        description="When the member is next due: the end of the recontact wait, or, passed "
        "over by the sample, the next sampling window."
    )


@strawberry.type(description="Surveys the member's app may show now.")
class SurveysDue:
    nps: NpsDue


@strawberry.type
class SurveyAnswerEdge:
    node: SurveyAnswer
    cursor: str


@strawberry.type
class SurveyAnswerConnection:
    edges: list[SurveyAnswerEdge]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: model.AnswerPage) -> SurveyAnswerConnection:
        edges = [
            SurveyAnswerEdge(node=SurveyAnswer.from_domain(a), cursor=c)
            for a, c in zip(page.answers, page.cursors, strict=True)
        ]
        return cls(edges=edges, page_info=PageInfo.forward(list(page.cursors), page.has_next))


def surveys_due(info: Info, member_id: str) -> SurveysDue:
    ctx = info.context
    due = ctx.services.surveys.nps_due(ctx.principal, member_id)
    return SurveysDue(nps=NpsDue(due=due.due, reason=due.reason, next_ask_at=due.next_ask_at))


AskSurveyResult = Annotated[
    SurveyAsked
    | SurveyNotDue
    | InvalidInput
    | MemberNotFound
    | OrderNotFound
    | NotFound
    | IdempotencyConflict
    | ConcurrentUpdate,
    strawberry.union("AskSurveyResult"),
]
SubmitSurveyAnswerResult = Annotated[
    SurveyAnswered
    | InvalidInput
    | MemberNotFound
    | NotFound
    | IdempotencyConflict
    | ConcurrentUpdate,
    strawberry.union("SubmitSurveyAnswerResult"),
]


@strawberry.type
class SurveyMutation:
    @mutation(
        "Members (NPS, CSAT of their own orders) and the shop (any member, support contacts): "
        "whether to show a survey now. NPS at most once per recontactDays across channels, "
        "and each order or support contact once; both sampled. Idempotent on the key."
    )
    def ask_survey(self, info: Info, input: AskSurveyInput) -> AskSurveyResult:
        ctx = info.context
        asked = ctx.services.surveys.ask(
            ctx.principal,
            input.to_domain(),
            input.idempotency_key,
            member_id=input.member_id,
            customer_id=input.customer_id,
        )
        if asked.invitation is None:
            assert asked.reason is not None
            return SurveyNotDue(reason=asked.reason, next_ask_at=asked.next_ask_at)
        return SurveyAsked(
            invitation=SurveyInvitation.from_domain(asked.invitation),
            next_ask_at=asked.next_ask_at,
        )

    @mutation(
        "The member (or the shop relaying it): answer an invitation, once, within 30 days. "
        "Idempotent on the key."
    )
    def submit_survey_answer(
        self, info: Info, input: SubmitSurveyAnswerInput
    ) -> SubmitSurveyAnswerResult:
        ctx = info.context
        answer = ctx.services.surveys.answer(
            ctx.principal, input.invitation_id, input.score, input.comment, input.idempotency_key
        )
        return SurveyAnswered(answer=SurveyAnswer.from_domain(answer))


@strawberry.type
class SurveyQuery:
    @strawberry.field(
        description="Admin: NPS or CSAT of the answers given from one UTC day to another "
        "(both included, at most 366 days), overall and by tier."
    )
    def survey_scores(
        self,
        info: Info,
        kind: model.SurveyKind,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
        tier_id: str | None = None,
    ) -> SurveyScoreReport:
        ctx = info.context
        report = ctx.services.surveys.scores(ctx.principal, kind, from_, to, tier_id)
        return SurveyScoreReport(
            kind=kind,
            total=SurveyScores.from_domain(report.total),
            by_tier=[
                TierSurveyScores(tier_id=t, scores=SurveyScores.from_domain(s))
                for t, s in report.by_tier
            ],
        )

    @strawberry.field(
        description="Admin: the answers given from one UTC day to another (both included, at "
        "most 366 days), newest first, with their comments (a Relay connection)."
    )
    def survey_answers(
        self,
        info: Info,
        kind: model.SurveyKind,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
        *,
        first: int = 20,
        after: str | None = None,
    ) -> SurveyAnswerConnection:
        ctx = info.context
        page = ctx.services.surveys.answers(
            ctx.principal, kind, from_, to, first=first, after=after
        )
        return SurveyAnswerConnection.from_page(page)
