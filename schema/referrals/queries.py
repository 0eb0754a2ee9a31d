"""Checking a referral code before enrolment. Members' referrals are fields of Member
(`me { referral referrals }`); enrolling with a code is enrollMember's `referralCode`."""

from __future__ import annotations

import strawberry

from schema.context import Info
from schema.referrals.types import ReferralCode


@strawberry.type
class ReferralQuery:
    @strawberry.field(
        description=(
            "Shop backend and admins: whose referral code this is (for a sign-up form: "
            "'invited by Alice M.'); null if no member has it."
        )
    )
    def referral_code(self, info: Info, code: str) -> ReferralCode | None:
        ctx = info.context
        found = ctx.services.referrals.check_code(ctx.principal, code)
        return None if found is None else ReferralCode.from_domain(found)
