"""Admins work the closed loop: follow-ups of unhappy survey answers, listed by status,
assigned, annotated and resolved (with goodwill points, maybe)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from api.feedback import followups_model as model
from api.feedback import surveys_model as surveys
from schema.common import PageInfo
from schema.context import Info
from schema.errors import (
    ConcurrentUpdate,
    IdempotencyConflict,
    InvalidInput,
    MemberNotFound,
    NotFound,
    mutation,
)
from schema.feedback import surveys as _  # noqa: F401 - names the survey enums first
from schema.points.types import PointsEntry

DEFAULT_PAGE = 20

strawberry.enum(model.FollowUpStatus, name="FollowUpStatus")
strawberry.enum(
    model.FollowUpListing,
    name="FollowUpListing",
    description=(
        "OPEN: open and not yet due, soonest due first. OVERDUE: open and past due (program "
        "time), most overdue first. RESOLVED: newest first."
    ),
)


@strawberry.type(description="An admin's note on a follow-up; notes never change.")
class FollowUpNote:
    seq: int
    text: str
    author: str = strawberry.field(description="The admin's subject.")
    created_at: datetime

    @classmethod
    def from_domain(cls, n: model.Note) -> FollowUpNote:
        return cls(seq=n.seq, text=n.text, author=n.author, created_at=n.created_at)


@strawberry.type(description="The shop's follow-up of an unhappy survey answer.")
class FollowUp:
    id: strawberry.ID
    status: model.FollowUpStatus
    overdue: bool = strawberry.field(description="OPEN and past its due time (program time).")
    member_id: strawberry.ID
    answer_id: strawberry.ID
    kind: surveys.SurveyKind
    score: int
    comment: str | None
    channel: surveys.SurveyChannel
    subject: surveys.CsatSubject | None = strawberry.field(description="CSAT: what about.")
    reference: str | None = strawberry.field(description="CSAT: the order or contact id.")
    tier_id: str | None = strawberry.field(description="The member's tier when they answered.")
    answered_at: datetime
    opened_at: datetime
    due_at: datetime
    assignee: str | None
    note_count: int
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None = strawberry.field(description="The resolving admin's note.")
    goodwill_points: int | None
    notes: list[FollowUpNote] | None = strawberry.field(
        description="Oldest first; followUp(id) only, null in listings."
    )

    @classmethod
    def from_domain(
        cls, f: model.FollowUp, now: datetime, notes: list[model.Note] | None = None
    ) -> FollowUp:
        return cls(
            id=strawberry.ID(f.id),
            status=f.status,
            overdue=f.overdue(now),
            member_id=strawberry.ID(f.member_id),
            answer_id=strawberry.ID(f.answer_id),
            kind=f.kind,
            score=f.score,
            comment=f.comment,
            channel=f.channel,
            subject=f.subject,
            reference=f.reference,
            tier_id=f.tier_id,
            answered_at=f.answered_at,
            opened_at=f.opened_at,
            due_at=f.due_at,
            assignee=f.assignee,
            note_count=f.notes,
            resolved_at=f.resolved_at,
            resolved_by=f.resolved_by,
            resolution=f.resolution,
            goodwill_points=f.goodwill_points,
            notes=None if notes is None else [FollowUpNote.from_domain(n) for n in notes],
        )


@strawberry.type
class FollowUpEdge:
    node: FollowUp
    cursor: str


@strawberry.type
class FollowUpConnection:
    edges: list[FollowUpEdge]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: model.FollowUpPage) -> FollowUpConnection:
        edges = [
            FollowUpEdge(node=FollowUp.from_domain(f, page.now), cursor=c)
            for f, c in zip(page.follow_ups, page.cursors, strict=True)
        ]
        return cls(edges=edges, page_info=PageInfo.forward(list(page.cursors), page.has_next))


@strawberry.input
class AssignFollowUpInput:
    id: strawberry.ID
    assignee: str = strawberry.field(description="An admin's external id (e.g. an email).")


@strawberry.input
class AddFollowUpNoteInput:
    id: strawberry.ID
    text: str = strawberry.field(description="1-2000 characters; lines and tabs allowed.")
    idempotency_key: str


@strawberry.input
class ResolveFollowUpInput:
    id: strawberry.ID
    note: str = strawberry.field(description="How it was resolved: 1-2000 characters.")
    goodwill_points: int | None = strawberry.field(
        default=None, description="1-10000 points credited to the member (a GOODWILL entry)."
    )
    idempotency_key: str


@strawberry.type
class FollowUpSaved:
    follow_up: FollowUp


@strawberry.type
class FollowUpNoteAdded:
    follow_up: FollowUp
    note: FollowUpNote


@strawberry.type
class FollowUpResolved:
    follow_up: FollowUp
    entry: PointsEntry | None = strawberry.field(description="The GOODWILL entry, if any.")


AssignFollowUpResult = Annotated[
    FollowUpSaved | InvalidInput | NotFound | ConcurrentUpdate,
    strawberry.union("AssignFollowUpResult"),
]
AddFollowUpNoteResult = Annotated[
    FollowUpNoteAdded | InvalidInput | NotFound | IdempotencyConflict | ConcurrentUpdate,
    strawberry.union("AddFollowUpNoteResult"),
]
ResolveFollowUpResult = Annotated[
    FollowUpResolved
    | InvalidInput
    | NotFound
    | MemberNotFound
    | IdempotencyConflict
    | ConcurrentUpdate,
    strawberry.union("ResolveFollowUpResult"),
]


@strawberry.type
class FollowUpQuery:
    @strawberry.field(
        description="Admin: follow-ups by listing (open, overdue, resolved), of all or of one "
        "assignee."
    )
    def follow_ups(
        self,
        info: Info,
        status: model.FollowUpListing,
        assignee: str | None = None,
        first: int = DEFAULT_PAGE,
        after: str | None = None,
    ) -> FollowUpConnection:
        ctx = info.context
        page = ctx.services.follow_ups.list(ctx.principal, status, first, after, assignee)
        return FollowUpConnection.from_page(page)

    @strawberry.field(description="Admin: a follow-up with its notes; null if there is none.")
    def follow_up(self, info: Info, id: strawberry.ID) -> FollowUp | None:
        ctx = info.context
        found = ctx.services.follow_ups.get(ctx.principal, id)
        if found is None:
            return None
        return FollowUp.from_domain(found.follow_up, found.now, list(found.notes))


@strawberry.type
class FollowUpMutation:
    @mutation("Admin: assign (or reassign) an open follow-up.")
    def assign_follow_up(self, info: Info, input: AssignFollowUpInput) -> AssignFollowUpResult:
        ctx = info.context
        done = ctx.services.follow_ups.assign(ctx.principal, input.id, input.assignee)
        return FollowUpSaved(follow_up=FollowUp.from_domain(done.follow_up, done.now))

    @mutation("Admin: add a note to a follow-up (at most 200). Idempotent on the key.")
    def add_follow_up_note(self, info: Info, input: AddFollowUpNoteInput) -> AddFollowUpNoteResult:
        ctx = info.context
        done = ctx.services.follow_ups.add_note(
            ctx.principal, input.id, input.text, input.idempotency_key
        )
        [note] = done.notes
        return FollowUpNoteAdded(
            follow_up=FollowUp.from_domain(done.follow_up, done.now),
            note=FollowUpNote.from_domain(note),
        )

    @mutation(
        "Admin: resolve an open follow-up, once, with a note and optional goodwill points "
        "(a GOODWILL entry in the same transaction). Idempotent on the key; another key "
        "finds it ALREADY_RESOLVED."
    )
    def resolve_follow_up(self, info: Info, input: ResolveFollowUpInput) -> ResolveFollowUpResult:
        ctx = info.context
        done = ctx.services.follow_ups.resolve(
            ctx.principal, input.id, input.note, input.goodwill_points, input.idempotency_key
        )
        resolved = done.follow_up
        assert resolved.resolved_at is not None  # resolved: never overdue
        return FollowUpResolved(
            follow_up=FollowUp.from_domain(resolved, resolved.resolved_at),
            entry=None if done.entry is None else PointsEntry.from_domain(done.entry),
        )
