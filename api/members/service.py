"""Enrolment (idempotent on the shop's customer id) and members' own profile changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from api import validation as v
from api.auth import Permission, Principal
from api.clock import Clock
from api.errors import InvalidInput, MemberNotFound
from api.idempotency import Keyed, Plan, fingerprint, keyed_write, versioned_write
from api.ids import member_id_for
from api.members import store
from api.members.model import (
    UNCHANGED,
    Channel,
    Consent,
    ConsentInput,
    EnrollInput,
    Enrolment,
    Member,
    ProfileChange,
)
from api.points.lots import PointsState
from api.program.service import ProgramService
from api.referrals.joining import Joining
from api.store.base import RecordItem
from api.store.reads import Snapshot


class MemberService:
    def __init__(self, clock: Clock, program: ProgramService, referrals: Joining) -> None:
        self._clock = clock
        self._program = program
        self._referrals = referrals

    def enroll(self, actor: Principal, data: EnrollInput) -> Member:
        return self.join(actor, data).member

    def join(self, actor: Principal, data: EnrollInput) -> Enrolment:
        """Enrol, with the referral the customer came with (if they give a code)."""
        actor.require(Permission.ENROLL_MEMBER)
        customer_id = v.external_id("customerId", data.customer_id)
        now = self._program.current_time()
        member_id = member_id_for(customer_id)
        blank = Member(
            id=member_id,
            customer_id=customer_id,
            email=None,
            name=None,
            phone=None,
            birthday=None,
            time_zone="UTC",
            locale="en",
            consents=(),
            points=PointsState(),
            created_at=now,
            updated_at=now,
            enrollment="",
            last_seq=1,  # the enrolment itself: ledger entries (and lot ids) start at 2
        )
        change = ProfileChange(
            email=data.email,
            name=data.name,
            phone=data.phone,
            birthday=data.birthday,
            time_zone=data.time_zone,
            locale=data.locale,
            consents=data.consents,
        )
        member = apply(blank, change, now)
        # What was asked, not when: a retry without givenAt is the same request.
        keyed = Keyed(
            store.member_key(member_id),
            fingerprint(
                {
                    "customer": customer_id,
                    "profile": [member.email, member.name, member.phone, member.birthday],
                    "place": [member.time_zone, member.locale],
                    "consents": [
                        [c.channel, c.granted, c.source, c.given_at]
                        for c in check_consents(data.consents, now)
                    ],
                }
            ),
            "customerId",
        )
        member = replace(member, enrollment=keyed.fingerprint)
        # The code is not part of the enrolment's fingerprint: an enrolled customer given a
        # code is the same member, and their referral is refused as not new (rejoin).
        owner = self._referrals.owner(data.referral_code)

        def decide(snapshot: Snapshot) -> Plan[Enrolment]:
            joined = self._referrals.join(snapshot, member, owner)
            return Plan(
                Enrolment(store.as_written(member), joined.referral),
                new=[store.to_item(member), *joined.new],
                added=joined.added,
            )

        enrolled_already: list[Member] = []  # set by a replay

        def replay(record: RecordItem) -> Enrolment:
            assert isinstance(record, store.MemberItem)
            enrolled_already.append(store.from_item(record))
            return Enrolment(enrolled_already[-1], None)

        reads = self._referrals.reads(member_id, owner, now)
        enrolment = keyed_write(self._clock, keyed, reads, decide, replay)
        if enrolled_already:
            return replace(enrolment, referral=self._referrals.rejoin(enrolment.member, owner))
        return enrolment

    def update_profile(self, actor: Principal, change: ProfileChange) -> Member:
        actor.require(Permission.UPDATE_OWN_PROFILE)
        assert actor.member_id is not None
        member_id = actor.member_id

        def decide(snapshot: Snapshot) -> Plan[Member]:
            member = store.load(snapshot, member_id)
            if member is None:
                raise MemberNotFound()
            now = self._program.current_time()
            changed = replace(apply(member, change, now), updated_at=now)
            return Plan(store.as_written(changed), changed=[store.to_item(changed)])

        # Under the member's version: a ledger change that lands first makes this apply again.
        return versioned_write(self._clock, [store.member_key(member_id)], decide)

    def withdraw_consent(self, member_id: str, channel: Channel, source: str) -> bool:
        """Withdraw one channel's consent, recorded with `source`, for a caller that holds its
        own proof (a verified unsubscribe link): there is no actor to check. Writes only a
        change: False when there is no such member or the consent is not granted."""

        def decide(snapshot: Snapshot) -> Plan[bool]:
            member = store.load(snapshot, member_id)
            granted = member is not None and any(
                c.channel is channel and c.granted for c in member.consents
            )
            if member is None or not granted:
                return Plan(False)
            now = self._program.current_time()
            change = ProfileChange(consents=[ConsentInput(channel, False, source)])
            changed = replace(apply(member, change, now), updated_at=now)
            return Plan(True, changed=[store.to_item(changed)])

        return versioned_write(self._clock, [store.member_key(member_id)], decide)


def apply(member: Member, change: ProfileChange, now: datetime) -> Member:
    """The member with the change applied, each field checked."""
    if change.email is not UNCHANGED:
        member = replace(
            member, email=None if change.email is None else v.email("email", change.email)
        )
    if change.name is not UNCHANGED:
        member = replace(
            member, name=None if change.name is None else v.text("name", change.name, 200)
        )
    if change.phone is not UNCHANGED:
        member = replace(
            member, phone=None if change.phone is None else v.phone("phone", change.phone)
        )
    if change.birthday is not UNCHANGED:
        member = replace(
            member,
            birthday=None
            if change.birthday is None
            else v.birthday("birthday", change.birthday, now.date()),
        )
    if change.time_zone is not UNCHANGED:
        member = replace(member, time_zone=v.time_zone("timeZone", change.time_zone))
    if change.locale is not UNCHANGED:
        member = replace(member, locale=v.locale("locale", change.locale))
    updates = {c.channel: c for c in check_consents(change.consents, now)}
    kept = tuple(c for c in member.consents if c.channel not in updates)
    return replace(
        member,
        consents=kept
        + tuple(
            Consent(c.channel, c.granted, c.given_at or now, c.source) for c in updates.values()
        ),
    )


def check_consents(consents: Sequence[ConsentInput], now: datetime) -> list[ConsentInput]:
    seen: set[Channel] = set()
    checked = []
    for i, consent in enumerate(consents):
        if consent.channel in seen:
            raise InvalidInput(f"consents[{i}].channel", "Each channel at most once.")
        seen.add(consent.channel)
        given_at = None
        if consent.given_at is not None:
            given_at = v.aware(f"consents[{i}].givenAt", consent.given_at)
            if given_at > now:
                raise InvalidInput(f"consents[{i}].givenAt", "Cannot be in the future.")
        checked.append(
            ConsentInput(
                consent.channel,
                consent.granted,
                v.text(f"consents[{i}].source", consent.source, 100),
                given_at,
            )
        )
    return checked
