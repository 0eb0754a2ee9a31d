"""Referral limits under real concurrency (DynamoDB Local): a referrer's monthly cap holds
however many friends enrol at once, a referee is one referral however often their
enrolment is replayed, and overlapping job runs reward each referral once."""

from __future__ import annotations

from collections import Counter
from functools import partial

import pytest

from api.errors import DomainError
from api.ids import member_id_for
from api.members.model import EnrollInput, Enrolment
from api.points.model import EntryKind
from api.points.store import order_key
from api.program.model import ReferralChange, SettingsChange
from api.referrals.model import JobReport, ReferralStatus, Refusal, Summary
from api.services import Services
from api.store import reads
from api.store.base import TableItem
from api.stream import Change
from tests.ddb_local.test_concurrency import all_at_once
from tests.referrals.conftest import WELCOME
from tests.support import ADMIN, SERVICE, assert_ledger_consistent, enroll, ledger_entries, order

pytestmark = pytest.mark.ddb_local

REFERRER = member_id_for("referrer")


def referrals_on(s: Services, cap: int) -> str:
    """Referrals on with a welcome promotion; the referrer's code."""
    s.promotions.create(ADMIN, WELCOME)
    change = ReferralChange(
        enabled=True, referrer_points=100, monthly_cap=cap, welcome_promotion_id="welcome"
    )
    s.program.update(ADMIN, SettingsChange(return_window_days=14, referrals=change))
    enroll(s, "referrer")
    code = s.referrals.overview(ADMIN, REFERRER).code
    assert code is not None
    return code


def join(s: Services, customer_id: str, code: str) -> Enrolment:
    return s.members.join(
        SERVICE, EnrollInput(customer_id, "UTC", "en", name=customer_id, referral_code=code)
    )


def outcome(result: Enrolment | DomainError) -> tuple[ReferralStatus, Refusal | None]:
    assert isinstance(result, Enrolment), result
    assert result.referral is not None
    return result.referral.status, result.referral.reason


def test_twenty_friends_at_once_against_a_cap_of_five(local_services: Services) -> None:
    s = local_services
    code = referrals_on(s, cap=5)

    results = all_at_once([partial(join, s, f"friend-{i}", code) for i in range(20)])

    outcomes = Counter(outcome(r) for r in results)
    assert outcomes == {
        (ReferralStatus.PENDING, None): 5,
        (ReferralStatus.REFUSED, Refusal.REFERRER_CAP_REACHED): 15,
    }
    # Every friend is a member, each with one referral; only the accepted have a welcome.
    welcomed = [r.referral.welcome_code for r in results if isinstance(r, Enrolment) and r.referral]
    assert len({c for c in welcomed if c}) == 5
    assert s.referrals.overview(ADMIN, REFERRER).summary == Summary(pending=5, refused=15)
    listed = s.referrals.referrals(ADMIN, REFERRER, 100, None).referrals
    assert Counter(r.status for r in listed) == {
        ReferralStatus.PENDING: 5,
        ReferralStatus.REFUSED: 15,
    }
    for i in range(20):
        assert s.member_views.view(ADMIN, member_id_for(f"friend-{i}"), None) is not None


def test_one_friend_enrolled_ten_times_at_once_is_one_referral(local_services: Services) -> None:
    s = local_services
    code = referrals_on(s, cap=5)

    results = all_at_once([partial(join, s, "friend", code) for _ in range(10)])

    assert {outcome(r) for r in results} == {(ReferralStatus.PENDING, None)}
    answers = {r.referral for r in results if isinstance(r, Enrolment)}
    assert len(answers) == 1  # the same referral (and welcome code) every time
    assert s.referrals.overview(ADMIN, REFERRER).summary == Summary(pending=1)
    assert len(s.referrals.referrals(ADMIN, REFERRER, 100, None).referrals) == 1


def test_overlapping_job_runs_reward_each_referral_once(local_services: Services) -> None:
    s = local_services
    code = referrals_on(s, cap=10)
    for i in range(6):
        join(s, f"friend-{i}", code)
        order(s, f"o-{i}", "30.00", customer_id=f"friend-{i}")
    # The stream delivers each first order, some twice, all at once.
    changes = [
        Change(f"e-{i}-{n}", None, reads.get(order_key(f"o-{i}"), TableItem))
        for i in range(6)
        for n in range(2)
    ]
    all_at_once([partial(s.reactions.dispatch, c) for c in changes])
    s.program.advance_clock(ADMIN, days=15)  # the 14-day windows are over

    reports = all_at_once([s.referral_rewards.run for _ in range(8)])

    assert all(isinstance(r, JobReport) for r in reports), reports
    assert sum(r.rewarded for r in reports if isinstance(r, JobReport)) == 6
    rewards = [e for e in ledger_entries(REFERRER) if e.kind is EntryKind.REFERRAL]
    assert [e.points for e in rewards] == [100] * 6
    assert_ledger_consistent(REFERRER)
    summary = s.referrals.overview(ADMIN, REFERRER).summary
    assert summary == Summary(rewarded=6, points_earned=600)
    assert s.referral_rewards.run() == JobReport()
