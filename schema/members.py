"""Members: the `me` and `member` queries, enrolment and profile mutations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, TypeVar, cast

import strawberry

from api import errors, members
from api.auth import Permission, Principal
from api.consents import Channel
from api.validation import member_ref
from schema.context import Info
from schema.errors import (
    ConcurrentUpdate,
    IdempotencyConflict,
    InvalidInput,
    MemberNotFound,
    mutate,
    query,
)
from schema.points import Points, history_first

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

    @classmethod
    def from_view(cls, view: members.MemberView, principal: Principal) -> Member:
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
        )


def _view(info: Info, member_id: str) -> Member | None:
    ctx = info.context
    view = query(lambda: ctx.services.members.view(ctx.principal, member_id, history_first(info)))
    return None if view is None else Member.from_view(view, ctx.principal)


@strawberry.type
class MemberQuery:
    @strawberry.field(description="The calling member: profile, consents and points.")
    def me(self, info: Info) -> Member | None:
        principal = info.context.principal
        query(lambda: principal.require(Permission.READ_OWN_MEMBER))
        assert principal.member_id is not None  # the member role always carries one
        return _view(info, principal.member_id)

    @strawberry.field(description="Admin and shop backend: any member, by id or customer id.")
    def member(
        self, info: Info, id: strawberry.ID | None = None, customer_id: str | None = None
    ) -> Member | None:
        return _view(info, query(lambda: member_ref(id, customer_id)))


# ---- mutations ----------------------------------------------------------------------------


@strawberry.input
class ConsentInput:
    channel: Channel
    granted: bool
    source: str = strawberry.field(description='Where it was given, e.g. "checkout".')
    given_at: datetime | None = strawberry.field(default=None, description="Defaults to now.")

    def to_domain(self) -> members.ConsentInput:
        return members.ConsentInput(self.channel, self.granted, self.source, self.given_at)


@strawberry.input
class EnrollMemberInput:
    customer_id: str = strawberry.field(description="The shop's customer id: the idempotency key.")
    time_zone: str = strawberry.field(description="IANA, e.g. Europe/Paris.")
    locale: str = strawberry.field(description="BCP 47, e.g. fr-FR.")
    email: str | None = None
    name: str | None = None
    phone: str | None = strawberry.field(default=None, description="E.164, e.g. +33612345678.")
    birthday: date | None = None
    consents: list[ConsentInput] | None = None


@strawberry.type
class MemberEnrolled:
    member: Member


@strawberry.input(description="Omitted fields stay as they are; null clears an optional field.")
class UpdateProfileInput:
    email: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    birthday: date | None = strawberry.UNSET
    time_zone: str | None = strawberry.UNSET
    locale: str | None = strawberry.UNSET
    consents: list[ConsentInput] | None = None


@strawberry.type
class ProfileUpdated:
    member: Member


EnrollMemberResult = Annotated[
    MemberEnrolled | InvalidInput | IdempotencyConflict,
    strawberry.union("EnrollMemberResult"),
]
UpdateProfileResult = Annotated[
    ProfileUpdated | InvalidInput | MemberNotFound | ConcurrentUpdate,
    strawberry.union("UpdateProfileResult"),
]


T = TypeVar("T")


def _kept(value: T) -> T | members.Unchanged:
    """Strawberry's UNSET (field omitted) is the domain's UNCHANGED."""
    return members.UNCHANGED if value is strawberry.UNSET else value


def _required(field: str, value: str | None) -> str | members.Unchanged:
    if value is None:
        raise errors.InvalidInput(field, "Cannot be cleared.")
    return _kept(value)


@strawberry.type
class MemberMutation:
    @strawberry.mutation(description="Shop backend: enrol a customer (idempotent on customerId).")
    def enroll_member(self, info: Info, input: EnrollMemberInput) -> EnrollMemberResult:
        ctx = info.context

        def run() -> MemberEnrolled:
            member = ctx.services.members.enroll(
                ctx.principal,
                members.EnrollInput(
                    customer_id=input.customer_id,
                    time_zone=input.time_zone,
                    locale=input.locale,
                    email=input.email,
                    name=input.name,
                    phone=input.phone,
                    birthday=input.birthday,
                    consents=[c.to_domain() for c in input.consents or []],
                ),
            )
            return MemberEnrolled(member=_fresh(info, member))

        return cast(EnrollMemberResult, mutate(run))

    @strawberry.mutation(description="Members: change their own profile, time zone and consents.")
    def update_my_profile(self, info: Info, input: UpdateProfileInput) -> UpdateProfileResult:
        ctx = info.context

        def run() -> ProfileUpdated:
            member = ctx.services.members.update_profile(
                ctx.principal,
                members.ProfileChange(
                    email=_kept(input.email),
                    name=_kept(input.name),
                    phone=_kept(input.phone),
                    birthday=_kept(input.birthday),
                    time_zone=_required("timeZone", input.time_zone),
                    locale=_required("locale", input.locale),
                    consents=[c.to_domain() for c in input.consents or []],
                ),
            )
            return ProfileUpdated(member=_fresh(info, member))

        return cast(UpdateProfileResult, mutate(run))


def _fresh(info: Info, member: members.Member) -> Member:
    """A member just written: no history prefetched; points at the program's time."""
    ctx = info.context
    view = members.MemberView(member, ctx.services.program.current_time(), None, 0)
    return Member.from_view(view, ctx.principal)
