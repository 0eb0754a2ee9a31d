"""Referrals: a member's code, the customers who enrolled with it, and what that earned.
Dataclasses only.

A referral is made when a customer enrols with a member's code: PENDING (the referrer
earns points once the referee's first order outlives its return window un-refunded),
then REWARDED, or REFUSED with a reason, at enrolment or when the first order is refunded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ReferralStatus(StrEnum):
    PENDING = "PENDING"  # accepted; waiting for the referee's first order to outlive its window
    REWARDED = "REWARDED"  # the referrer was credited
    REFUSED = "REFUSED"  # never rewarded; `reason` says why


class Refusal(StrEnum):
    PROGRAM_OFF = "PROGRAM_OFF"  # referrals were disabled at enrolment
    SELF_REFERRAL = "SELF_REFERRAL"  # the referrer's own customer id, email or phone
    NOT_NEW_CUSTOMER = "NOT_NEW_CUSTOMER"  # the customer was enrolled already
    REFERRER_CAP_REACHED = "REFERRER_CAP_REACHED"  # the referrer's monthly cap was reached
    FIRST_ORDER_REFUNDED = "FIRST_ORDER_REFUNDED"  # refunded (even in part) within its window


@dataclass(frozen=True)
class CodeOwner:
    """A referral code and the member it belongs to."""

    code: str
    member_id: str


@dataclass(frozen=True)
class CodeCheck:
    """A code as a sign-up form may show it before enrolment: whose, and whether it counts."""

    code: str
    referrer_name: str | None  # masked, as referrers' lists show referees
    enabled: bool  # referrals are on: an enrolment with it makes a referral


@dataclass(frozen=True)
class Referral:
    """One referee's referral, as both parties see it (the referee alone sees the welcome
    code). `version`: the referral item's; None on the referrer's listing copy, and on a
    refusal that could not be recorded (the referee has a referral already)."""

    referee_id: str
    referrer_id: str
    code: str
    status: ReferralStatus
    reason: Refusal | None
    created_at: datetime
    updated_at: datetime
    referee_name: str | None  # masked: first name and initial
    points: int  # credited (REWARDED) or to be credited (PENDING)
    welcome_code: str | None = None
    welcome_expires_at: datetime | None = None
    first_order_id: str | None = None
    first_order_at: datetime | None = None
    due_at: datetime | None = None  # when the scheduled job decides it (PENDING only)
    decided_at: datetime | None = None  # REWARDED or REFUSED
    entry_seq: int | None = None  # the referrer's REFERRAL ledger entry
    version: int | None = None


@dataclass(frozen=True)
class Summary:
    """How a member's referrals stand, and the points they earned."""

    pending: int = 0
    rewarded: int = 0
    refused: int = 0
    points_earned: int = 0


@dataclass(frozen=True)
class Overview:
    """A member's referral card: the code to share, the link, the totals, and the referral
    they joined with (None if they enrolled without a code)."""

    enabled: bool
    code: str | None  # None only if every candidate code collided (practically never)
    link: str | None
    summary: Summary
    invitation: Referral | None


@dataclass(frozen=True)
class ReferralPage:
    referrals: list[Referral]
    has_next: bool


@dataclass(frozen=True)
class JobReport:
    """What one run of the scheduled job decided."""

    due: int = 0
    rewarded: int = 0
    refused: int = 0
    postponed: int = 0  # the return window grew since: due again later
    points: int = 0
