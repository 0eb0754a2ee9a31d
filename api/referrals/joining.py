"""Enrolling with a referral code: what the members domain's enrolment adds to its one
transaction, and the answer to a customer who was enrolled already.

Every new member gets their own code in the enrolment's transaction (the first candidate no
one holds, api/referrals/codes.py). A code given with the enrolment was resolved to its
owner before (a code's owner never changes); the referral is then decided on the same
BatchGetItem as the enrolment (the settings, the referrer, this month's count) and written
with it:

- PROGRAM_OFF, SELF_REFERRAL (the referrer's customer id, email or phone), or
  REFERRER_CAP_REACHED: REFUSED, recorded, the enrolment goes ahead;
- else PENDING: the month's counter takes a place under a condition (at the cap DynamoDB
  cancels the transaction, and the retry reads the count again and refuses), and the
  referee gets a welcome code of the welcome promotion, if one is set and still live.

A customer enrolled already (the enrolment is a replay) is not a new customer: the referral
is recorded REFUSED (NOT_NEW_CUSTOMER, or SELF_REFERRAL) unless they have one, which stays
as it is; a replay with the same code answers that one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from api.clock import Clock
from api.errors import ErrorCode, InvalidInput
from api.idempotency import Plan, versioned_write
from api.members import store as members
from api.members.model import Member
from api.observability import logger
from api.program import store as program
from api.program.model import ReferralSettings
from api.program.service import ProgramService
from api.promotions import issued
from api.promotions.admin import Catalog
from api.promotions.model import Code, Promotion
from api.referrals import codes, store
from api.referrals.model import CodeOwner, Referral, ReferralStatus, Refusal
from api.store.base import Key, TableItem
from api.store.reads import Snapshot
from api.store.tx import Add

FIELD = "referralCode"


@dataclass(frozen=True)
class Joined:
    """The referrals domain's part of an enrolment: its result and what to write."""

    referral: Referral | None
    new: Sequence[TableItem] = ()
    added: Sequence[Add] = ()


def masked(name: str | None) -> str | None:
    """What the referrer sees of the referee: the first name and the last name's initial."""
    words = (name or "").split()
    if not words:
        return None
    return words[0] if len(words) == 1 else f"{words[0]} {words[-1][0]}."


def _email(value: str | None) -> str | None:
    """Case-insensitive, without a +tag (alice+2@example.com is alice@example.com)."""
    if value is None:
        return None
    local, _, domain = value.lower().partition("@")
    name, plus, _ = local.partition("+")
    if plus and name:  # a +tag; a leading + is part of the name
        local = name
    return f"{local}@{domain}"


def _digits(value: str | None) -> str | None:
    return None if value is None else "".join(c for c in value if c.isdigit())


def same_person(referrer: Member, referee: Member) -> bool:
    if referrer.id == referee.id:
        return True
    email = _email(referee.email)
    phone = _digits(referee.phone)
    return bool(email and email == _email(referrer.email)) or bool(
        phone and phone == _digits(referrer.phone)
    )


def refusal(
    settings: ReferralSettings, referrer: Member, referee: Member, accepted: int | None
) -> Refusal | None:
    """Why the referral cannot be accepted (`accepted`: the referrer's count this month;
    None: the referee was enrolled already), or None."""
    if not settings.enabled:
        return Refusal.PROGRAM_OFF
    if same_person(referrer, referee):
        return Refusal.SELF_REFERRAL
    if accepted is None:
        return Refusal.NOT_NEW_CUSTOMER
    if accepted >= settings.monthly_cap:
        return Refusal.REFERRER_CAP_REACHED
    return None


def welcome_promotion(live: Sequence[Promotion], promotion_id: str, field: str) -> Promotion:
    """The live CODE promotion whose codes welcome referees; InvalidInput on `field` if
    there is none (unknown, archived, or automatic)."""
    promotion = next((p for p in live if p.id == promotion_id), None)
    if promotion is None:
        raise InvalidInput(field, "No live promotion with that id.")
    return issued.usable(promotion, field)


def unknown() -> InvalidInput:
    return InvalidInput(FIELD, "No member has this referral code.", ErrorCode.REFERRAL_CODE_UNKNOWN)


def own_code(snapshot: Snapshot, member_id: str) -> CodeOwner | None:
    """The member's code: the first candidate no one holds (the snapshot read them all)."""
    for code in codes.candidates(member_id):
        if store.owner(snapshot, code) is None:
            return CodeOwner(code, member_id)
    logger.warning("Every referral code candidate is taken", extra={"member_id": member_id})
    return None


def own_code_keys(member_id: str) -> list[Key]:
    return [store.owner_key(code) for code in codes.candidates(member_id)]


def code_items(owner: CodeOwner) -> list[TableItem]:
    """Both ways, each only if absent: a collision cancels the transaction, and its retry
    takes the next candidate."""
    return [store.owner_item(owner), store.member_code_item(owner)]


class Joining:
    def __init__(self, clock: Clock, program_service: ProgramService, catalog: Catalog) -> None:
        self._clock = clock
        self._program = program_service
        self._catalog = catalog

    def owner(self, code: str | None) -> CodeOwner | None:
        """Whose code this is (None for no code): InvalidInput if it is malformed or no
        member holds it. Read before the enrolment's loop: a code's owner never changes."""
        if code is None:
            return None
        normal = codes.normalise(FIELD, code)
        found = store.owner(Snapshot([store.owner_key(normal)]), normal)
        if found is None:
            raise unknown()
        return found

    def reads(self, member_id: str, owner: CodeOwner | None, at: datetime) -> list[Key]:
        """What the enrolment's BatchGetItem adds: the new member's candidate codes, and with
        a code the settings, the referrer and the referrer's count for the month of `at`."""
        keys = own_code_keys(member_id)
        if owner is not None:
            keys += [
                program.SETTINGS_KEY,
                members.member_key(owner.member_id),
                store.cap_key(owner.member_id, at),
            ]
        return keys

    def join(self, snapshot: Snapshot, member: Member, owner: CodeOwner | None) -> Joined:
        """The new member's code and, with a referral code, their referral: to write in the
        enrolment's transaction."""
        own = own_code(snapshot, member.id)
        new: list[TableItem] = [] if own is None else code_items(own)
        if owner is None:
            return Joined(None, new)
        referrer = members.load(snapshot, owner.member_id)
        if referrer is None:
            raise unknown()
        settings = program.settings(snapshot).referrals
        now = member.created_at
        reason = refusal(settings, referrer, member, store.accepted(snapshot, owner.member_id, now))
        referral = Referral(
            referee_id=member.id,
            referrer_id=owner.member_id,
            code=owner.code,
            status=ReferralStatus.PENDING if reason is None else ReferralStatus.REFUSED,
            reason=reason,
            created_at=now,
            updated_at=now,
            referee_name=masked(member.name),
            points=settings.referrer_points if reason is None else 0,
            decided_at=None if reason is None else now,
        )
        if reason is not None:
            new += store.referral_items(referral)
            return Joined(
                store.as_written(referral), new, [store.count(owner.member_id, refused=1)]
            )
        welcome = self._welcome(settings, member.id, now)
        if welcome is not None:
            code, item = welcome
            referral = replace(referral, welcome_code=code.code, welcome_expires_at=code.expires_at)
            new.append(item)
        added = [
            store.take_place(owner.member_id, now, settings.monthly_cap),
            store.count(owner.member_id, pending=1),
        ]
        return Joined(store.as_written(referral), [*new, *store.referral_items(referral)], added)

    def _welcome(
        self, settings: ReferralSettings, member_id: str, now: datetime
    ) -> tuple[Code, TableItem] | None:
        """A welcome code of the welcome promotion, if one is set and still usable (it is
        checked when set; archived since, the referral goes ahead without one)."""
        promotion_id = settings.welcome_promotion_id
        if promotion_id is None:
            return None
        try:
            promotion = welcome_promotion(self._catalog.live(), promotion_id, FIELD)
        except InvalidInput:
            logger.warning("Referral welcome promotion unusable", extra={"id": promotion_id})
            return None
        expires = now + timedelta(days=settings.welcome_validity_days)
        return issued.issue(promotion, member_id, expires)

    def rejoin(self, member: Member, owner: CodeOwner | None) -> Referral | None:
        """A customer enrolled already: their referral, if they have one; else, given a
        code, the refusal (recorded)."""
        key = store.referral_key(member.id)
        if owner is None:
            return store.referral(Snapshot([key]), member.id)

        def decide(snapshot: Snapshot) -> Plan[Referral | None]:
            existing = store.referral(snapshot, member.id)
            if existing is not None and existing.referrer_id == owner.member_id:
                return Plan(existing)  # this enrolment again: the same answer
            referrer = members.load(snapshot, owner.member_id)
            if referrer is None:
                raise unknown()
            settings = program.settings(snapshot)
            now = self._program.now(settings)
            reason = refusal(settings.referrals, referrer, member, None)
            assert reason is not None
            referral = Referral(
                referee_id=member.id,
                referrer_id=owner.member_id,
                code=owner.code,
                status=ReferralStatus.REFUSED,
                reason=reason,
                created_at=now,
                updated_at=now,
                referee_name=masked(member.name),
                points=0,
                decided_at=now,
            )
            if existing is not None:
                return Plan(referral)  # one referral per referee: this one is not recorded
            return Plan(
                store.as_written(referral),
                new=store.referral_items(referral),
                added=[store.count(owner.member_id, refused=1)],
            )

        reads = [key, program.SETTINGS_KEY, members.member_key(owner.member_id)]
        return versioned_write(self._clock, reads, decide)
