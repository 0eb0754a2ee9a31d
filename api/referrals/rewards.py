"""The scheduled job: referrals whose referee's first order has outlived its return window
are decided. Un-refunded, the referrer is credited the referral's points (a REFERRAL ledger
entry and a lot, active at once, valid as the program says) and the referral is REWARDED,
in one transaction; refunded, even in part, it is REFUSED (FIRST_ORDER_REFUNDED).

Referrals are found through the sparse due index (only PENDING referrals with a first order
are in it), never by a scan. Each is read again and written under its version (the
referrer under theirs), so overlapping or repeated runs decide each one exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from api.auth import SYSTEM
from api.clock import Clock
from api.errors import ConcurrentUpdate
from api.idempotency import Plan, versioned_write
from api.members import store as members
from api.observability import count, logger
from api.points import ledger
from api.points.lots import Lot, LotStatus, credit
from api.points.model import Entry, EntryKind
from api.points.store import entry_to_item, load_order, order_key
from api.program.service import ProgramService
from api.referrals import store
from api.referrals.joining import same_person
from api.referrals.model import JobReport, Referral, ReferralStatus, Refusal
from api.store.base import Key, TableItem
from api.store.reads import Snapshot


def never() -> bool:
    return False


def _sum(a: JobReport, b: JobReport) -> JobReport:
    return JobReport(
        a.due + b.due,
        a.rewarded + b.rewarded,
        a.refused + b.refused,
        a.postponed + b.postponed,
        a.points + b.points,
    )


class RewardJob:
    def __init__(self, clock: Clock, program_service: ProgramService) -> None:
        self._clock = clock
        self._program = program_service

    def run(self, should_stop: Callable[[], bool] = never) -> JobReport:
        """Decide every referral due at the program's time. `should_stop` is polled between
        referrals (the Lambda's remaining time): what is left stays due for the next run."""
        now = self._program.now(self._program.load())
        report = JobReport()
        for shard in range(store.DUE_SHARDS):
            due = TableItem.due_index.query(f"{store.DUE_PREFIX}{shard}", TableItem.due_at <= now)
            for key in due:
                if should_stop():
                    break
                try:
                    report = _sum(report, self._decide(key.key))
                except ConcurrentUpdate:  # still due: the next run decides it
                    logger.warning("Referral left for the next run", extra={"key": key.key})
                    count("ReferralsDeferred")
        count("ReferralsRewarded", report.rewarded)
        count("ReferralPointsEarned", report.points)
        count("ReferralsRefused", report.refused)
        return report

    def _decide(self, key: Key) -> JobReport:
        referee_id = key[0].removeprefix("REFERRAL#")
        # What to read with it (the order, the referrer) is written on the referral, and
        # never changes once the first order is set.
        first = store.referral(Snapshot([key]), referee_id)
        if first is None or first.first_order_id is None:
            return JobReport(due=1)
        order_id, referrer_id = first.first_order_id, first.referrer_id
        referee_key = members.member_key(referee_id)
        keys = [key, order_key(order_id), referee_key, *ledger.reads(referrer_id)]

        def decide(snapshot: Snapshot) -> Plan[JobReport]:
            referral = store.referral(snapshot, referee_id)
            state = ledger.state(snapshot, referrer_id, self._program)
            now = state.now
            if (
                referral is None
                or referral.status is not ReferralStatus.PENDING
                or referral.due_at is None
                or referral.due_at > now
                or referral.first_order_id != order_id
            ):
                return Plan(JobReport(due=1))  # decided by another run, or not due any more
            order = load_order(snapshot, order_id)
            if order is None:  # written before the stream saw it: cannot happen
                logger.warning("Referral's first order missing", extra={"referee": referee_id})
                return Plan(JobReport(due=1))
            window_ends = order.placed_at + state.settings.return_window
            if window_ends > now:  # the return window grew since the order: wait for it
                later = replace(referral, due_at=window_ends, updated_at=now)
                return Plan(JobReport(due=1, postponed=1), changed=store.referral_items(later))
            if order.refunded.amount > 0:
                return _refuse(referral, now, Refusal.FIRST_ORDER_REFUNDED)
            referee = members.load(snapshot, referee_id)
            # Contact details added after enrolment may show the referrer's own.
            if referee is not None and same_person(state.member, referee):
                return _refuse(referral, now, Refusal.SELF_REFERRAL)
            return _reward(state, referral, now)

        return versioned_write(self._clock, keys, decide)


def _refuse(referral: Referral, now: datetime, reason: Refusal) -> Plan[JobReport]:
    done = replace(
        referral,
        status=ReferralStatus.REFUSED,
        reason=reason,
        points=0,
        decided_at=now,
        updated_at=now,
        due_at=None,
    )
    return Plan(
        JobReport(due=1, refused=1),
        changed=store.referral_items(done),
        added=[store.count(referral.referrer_id, pending=-1, refused=1)],
    )


def _reward(state: ledger.State, referral: Referral, now: datetime) -> Plan[JobReport]:
    """The referrer's points as a new lot, spendable at once, and the entry that records it,
    with the referral REWARDED: one transaction."""
    referrer = state.member
    seq = referrer.next_seq
    validity = state.settings.lot_validity
    lot = Lot(
        id=f"{referrer.id}-{seq}",
        points=referral.points,
        remaining=referral.points,
        activates_at=now,
        expires_at=None if validity is None else now + validity,
        status=LotStatus.ACTIVE,
    )
    points = credit(referrer.points, lot)
    entry = Entry(
        member_id=referrer.id,
        seq=seq,
        kind=EntryKind.REFERRAL,
        points=referral.points,
        balance_after=points.balance,
        created_at=now,
        actor=SYSTEM.actor,
        reason=f"Referral: {referral.referee_name or 'a new customer'}",
        lot=lot,
    )
    done = replace(
        referral,
        status=ReferralStatus.REWARDED,
        decided_at=now,
        updated_at=now,
        due_at=None,
        entry_seq=seq,
    )
    changed: list[TableItem] = [
        ledger.member_item(state, points, [entry]),
        *store.referral_items(done),
    ]
    return Plan(
        JobReport(due=1, rewarded=1, points=referral.points),
        new=[entry_to_item(entry)],
        changed=changed,
        added=[store.count(referral.referrer_id, pending=-1, rewarded=1, points=referral.points)],
    )
