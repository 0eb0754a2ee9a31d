"""What members see of referrals (their code, link and totals; the referrals they made, a
Relay connection), the check of the program's referral settings, and the scheduled job
(api/referrals/rewards.py).

Members enrolled before referrals existed have no code yet: it is given the first time
their referral card is read (one conditional write, once per member), the only way anyone
learns it. So every code a customer can type resolves to its member.
"""

from __future__ import annotations

import re

from pynamodb.expressions.condition import Condition

from api import cursors
from api.auth import Permission, Principal
from api.clock import Clock
from api.errors import InvalidInput
from api.idempotency import Plan, versioned_write
from api.members import store as members
from api.members.view import authorize_read, page_size
from api.program import store as program
from api.program.model import SettingsChange
from api.program.service import ProgramService, SettingsCheck
from api.promotions.admin import Catalog
from api.referrals import codes, store
from api.referrals.joining import (
    FIELD,
    code_items,
    masked,
    own_code,
    own_code_keys,
    welcome_promotion,
)
from api.referrals.model import CodeCheck, Overview, Referral, ReferralPage
from api.store import reads
from api.store.base import TableItem
from api.store.reads import Snapshot

_CURSOR = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{15}Z#mbr_[0-9a-f]{26}")


def cursor(referral: Referral) -> str:
    """Opaque: the listing's sort key past its prefix."""
    sk = store.listing_sk(referral.created_at, referral.referee_id)
    return cursors.encode("referral", sk.removeprefix(store.LISTING_PREFIX))


def decode_cursor(value: str) -> str:
    """The listing sort key a cursor stands for; InvalidInput for anything else."""
    position = cursors.decode(value, "referral", max_length=120)
    if _CURSOR.fullmatch(position) is None:
        raise InvalidInput("after", cursors.NOT_A_CURSOR)
    return store.LISTING_PREFIX + position


def check_settings(catalog: Catalog) -> SettingsCheck:
    """ProgramService's check of a change: a welcome promotion must be a live CODE one."""

    def check(change: SettingsChange) -> None:
        referrals = change.referrals
        if referrals is None or referrals.welcome_promotion_id is None:
            return
        catalog.forget()  # read fresh: it may have been created a moment ago, elsewhere
        welcome_promotion(
            catalog.live(), referrals.welcome_promotion_id, "referrals.welcomePromotionId"
        )

    return check


class ReferralService:
    def __init__(self, clock: Clock, program_service: ProgramService) -> None:
        self._clock = clock
        self._program = program_service

    def overview(self, actor: Principal, member_id: str) -> Overview:
        """The member's code and link, totals, and the referral they joined with: one
        BatchGetItem (a member without a code yet gets one now)."""
        authorize_read(actor, member_id)
        snapshot = Snapshot(
            [
                store.member_code_key(member_id),
                store.summary_key(member_id),
                store.referral_key(member_id),
                program.SETTINGS_KEY,
            ]
        )
        settings = program.settings(snapshot).referrals
        code = store.member_code(snapshot, member_id) or self._give_code(member_id)
        return Overview(
            enabled=settings.enabled,
            code=code,
            link=None if code is None else settings.link(code),
            summary=store.summary(snapshot, member_id),
            invitation=store.referral(snapshot, member_id),
        )

    def check_code(self, actor: Principal, code: str) -> CodeCheck | None:
        """Whose code it is (None: nobody's), for a sign-up form before enrolment."""
        actor.require(Permission.CHECK_REFERRAL_CODE)
        normal = codes.normalise(FIELD, code)
        owner = store.owner(Snapshot([store.owner_key(normal)]), normal)
        if owner is None:
            return None
        snapshot = Snapshot([members.member_key(owner.member_id), program.SETTINGS_KEY])
        referrer = members.load(snapshot, owner.member_id)
        return CodeCheck(
            code=normal,
            referrer_name=None if referrer is None else masked(referrer.name),
            enabled=program.settings(snapshot).referrals.enabled,
        )

    def _give_code(self, member_id: str) -> str | None:
        """A code for a member enrolled before referrals existed (None if not a member)."""

        def decide(snapshot: Snapshot) -> Plan[str | None]:
            code = store.member_code(snapshot, member_id)
            if code is not None:
                return Plan(code)  # given meanwhile
            if members.load(snapshot, member_id) is None:
                return Plan(None)
            owner = own_code(snapshot, member_id)
            if owner is None:
                return Plan(None)
            return Plan(owner.code, new=code_items(owner))

        keys = [store.member_code_key(member_id), members.member_key(member_id)]
        return versioned_write(self._clock, [*keys, *own_code_keys(member_id)], decide)

    def referrals(
        self, actor: Principal, member_id: str, first: int, after: str | None
    ) -> ReferralPage:
        """The referrals the member made, newest first."""
        authorize_read(actor, member_id)
        first = page_size(first)
        pk = store.listing_pk(member_id)
        condition: Condition
        if after is None:
            condition = TableItem.sk.startswith(store.LISTING_PREFIX)
        else:
            # Between is inclusive: the cursor's own item comes back and is left out.
            condition = TableItem.sk.between(store.LISTING_PREFIX, decode_cursor(after))
        items = reads.query(pk, condition, limit=first + 2, descending=True)
        if after is not None:
            before = decode_cursor(after)
            items = [i for i in items if i.sk != before]
        found = store.listed(items)
        return ReferralPage(found[:first], len(found) > first)
