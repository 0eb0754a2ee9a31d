"""Enrolment (shop backend) and members' own profile changes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, TypeVar

import strawberry

from api import errors
from api.members import model
from api.members.model import Channel
from schema.context import Info
from schema.errors import (
    ConcurrentUpdate,
    IdempotencyConflict,
    InvalidInput,
    MemberNotFound,
    mutation,
)
from schema.members.types import Member
from schema.referrals.types import Invitation, invitation_or_none

T = TypeVar("T")


def _kept(value: T) -> T | model.Unchanged:
    """Strawberry's UNSET (field omitted) is the domain's UNCHANGED."""
    return model.UNCHANGED if value is strawberry.UNSET else value


def _required(field: str, value: str | None) -> str | model.Unchanged:
    if value is None:
        raise errors.InvalidInput(field, "Cannot be cleared.")
    return _kept(value)


@strawberry.input
class ConsentInput:
    channel: Channel
    granted: bool
    source: str = strawberry.field(description='Where it was given, e.g. "checkout".')
    given_at: datetime | None = strawberry.field(default=None, description="Defaults to now.")

    def to_domain(self) -> model.ConsentInput:
        return model.ConsentInput(self.channel, self.granted, self.source, self.given_at)


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
    referral_code: str | None = strawberry.field(
        default=None,
        description=(
            "A member's referral code (case-insensitive): the customer was referred. An "
            "unknown code refuses the enrolment (REFERRAL_CODE_UNKNOWN); a referral that "
            "cannot be accepted is recorded as refused and the enrolment goes ahead."
        ),
    )

    def to_domain(self) -> model.EnrollInput:
        return model.EnrollInput(
            customer_id=self.customer_id,
            time_zone=self.time_zone,
            locale=self.locale,
            email=self.email,
            name=self.name,
            phone=self.phone,
            birthday=self.birthday,
            consents=[c.to_domain() for c in self.consents or []],
            referral_code=self.referral_code,
        )


@strawberry.type
class MemberEnrolled:
    member: Member
    referral: Invitation | None = strawberry.field(
        description="The referral they enrolled with (accepted or refused), if any."
    )


@strawberry.input(description="Omitted fields stay as they are; null clears an optional field.")
class UpdateProfileInput:
    email: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    birthday: date | None = strawberry.UNSET
    time_zone: str | None = strawberry.UNSET
    locale: str | None = strawberry.UNSET
    consents: list[ConsentInput] | None = None

    def to_domain(self) -> model.ProfileChange:
        return model.ProfileChange(
            email=_kept(self.email),
            name=_kept(self.name),
            phone=_kept(self.phone),
            birthday=_kept(self.birthday),
            time_zone=_required("timeZone", self.time_zone),
            locale=_required("locale", self.locale),
            consents=[c.to_domain() for c in self.consents or []],
        )


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


@strawberry.type
class MemberMutation:
    @mutation(
        "Shop backend: enrol a customer (idempotent on customerId), with the referral code "
        "they came with, if any."
    )
    def enroll_member(self, info: Info, input: EnrollMemberInput) -> EnrollMemberResult:
        ctx = info.context
        enrolment = ctx.services.members.join(ctx.principal, input.to_domain())
        return MemberEnrolled(
            member=Member.fresh(info, enrolment.member),
            referral=invitation_or_none(enrolment.referral),
        )

    @mutation("Members: change their own profile, time zone and consents.")
    def update_my_profile(self, info: Info, input: UpdateProfileInput) -> UpdateProfileResult:
        ctx = info.context
        member = ctx.services.members.update_profile(ctx.principal, input.to_domain())
        return ProfileUpdated(member=Member.fresh(info, member))
