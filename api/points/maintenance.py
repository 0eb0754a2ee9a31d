"""The daily job: activate lots whose return window has passed, expire lots whose validity
has ended, review tiers whose validity (and grace) has ended. Members are found through the
sparse due index, never by a scan, and each member is re-read and written under its version,
so overlapping or repeated runs record every expiry and every review exactly once."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from api.auth import SYSTEM
from api.clock import Clock
from api.idempotency import Plan, versioned_write
from api.members import store as members
from api.members.model import Member
from api.observability import count
from api.points import ledger
from api.points.lots import Funding, expire_and_activate, total
from api.points.model import Entry, EntryKind
from api.points.store import entry_to_item
from api.program.model import ProgramSettings
from api.program.service import ProgramService
from api.store.base import DUE_SHARDS, TableItem
from api.store.reads import Snapshot
from api.tiers import rules as tier_rules
from api.tiers import store as tiers
from api.tiers.model import ChangeReason, Occasion, TierConfig


@dataclass(frozen=True)
class MaintenanceReport:
    now: datetime
    members_due: int = 0
    members_changed: int = 0
    lots_activated: int = 0
    lots_expired: int = 0
    points_expired: int = 0
    tiers_reviewed: int = 0
    tiers_lowered: int = 0
    tiers_raised: int = 0
    complete: bool = True  # False: stopped for time; the rest stays due for the next run

    def __add__(self, other: MaintenanceReport) -> MaintenanceReport:
        return MaintenanceReport(
            now=self.now,
            members_due=self.members_due + other.members_due,
            members_changed=self.members_changed + other.members_changed,
            lots_activated=self.lots_activated + other.lots_activated,
            lots_expired=self.lots_expired + other.lots_expired,
            points_expired=self.points_expired + other.points_expired,
            tiers_reviewed=self.tiers_reviewed + other.tiers_reviewed,
            tiers_lowered=self.tiers_lowered + other.tiers_lowered,
            tiers_raised=self.tiers_raised + other.tiers_raised,
            complete=self.complete and other.complete,
        )


def never() -> bool:
    return False


class MaintenanceService:
    def __init__(self, clock: Clock, program: ProgramService, workers: int) -> None:
        self._clock = clock
        self._program = program
        self._workers = max(1, min(workers, DUE_SHARDS))

    def run(self, should_stop: Callable[[], bool] = never) -> MaintenanceReport:
        """Process every member due at the program's current time, the index's shards in
        parallel. `should_stop` is polled between members (the Lambda's remaining time)."""
        settings = self._program.load()
        now = self._program.now(settings)
        job = partial(self._run_shard, Job(now, settings, tiers.read_config()), should_stop)
        with ThreadPoolExecutor(max_workers=self._workers) as pool:
            reports = list(pool.map(job, range(DUE_SHARDS)))
        report = sum(reports[1:], reports[0])
        count("LotsActivated", report.lots_activated)
        count("LotsExpired", report.lots_expired)
        count("PointsExpired", report.points_expired)
        count("TierReviews", report.tiers_reviewed)
        count("TierDowngrades", report.tiers_lowered)
        return report

    def _run_shard(
        self, job: Job, should_stop: Callable[[], bool], shard: int
    ) -> MaintenanceReport:
        now = job.now
        report = MaintenanceReport(now)
        for key in TableItem.due_index.query(f"DUE#{shard}", TableItem.due_at <= now):
            if should_stop():
                return report + MaintenanceReport(now, complete=False)
            changed = versioned_write(self._clock, [key.key], partial(self._process, job))
            report += MaintenanceReport(now, members_due=1) + changed
        return report

    def _process(self, job: Job, snapshot: Snapshot) -> Plan[MaintenanceReport]:
        """What changed for one member; nothing if nothing is due any more (the index lagged,
        or another run got here first)."""
        now = job.now
        member = members.load_item(snapshot)
        if member is None:
            return Plan(MaintenanceReport(now))
        points, funding, activated = expire_and_activate(member.points, now)
        tier, steps = tier_rules.review(
            member.tier, job.tiers, Occasion(member.id, now, SYSTEM.actor)
        )
        if not funding and not activated and tier == member.tier:
            return Plan(MaintenanceReport(now))
        entries = [expiry(member, now, points.balance, funding)] if funding else []
        state = ledger.State(member, job.settings, job.tiers, now)
        points, bonuses = ledger.tier_bonuses(
            state, points, steps, member.next_seq + len(entries), SYSTEM.actor
        )
        entries += bonuses
        reviewed = tier.review_at != member.tier.review_at or bool(steps)
        lowered = sum(1 for s in steps if s.change.reason is ChangeReason.REVIEW)
        return Plan(
            MaintenanceReport(
                now,
                members_changed=1,
                lots_activated=len(activated),
                lots_expired=len(funding),
                points_expired=total(funding),
                tiers_reviewed=int(reviewed),
                tiers_lowered=lowered,
                tiers_raised=len(steps) - lowered,
            ),
            new=[*(entry_to_item(e) for e in entries), *ledger.tier_items(steps)],
            changed=[ledger.member_item(state, points, entries, tier)],
        )


@dataclass(frozen=True)
class Job:
    """What one run decides with: its time, and the settings and tiers read at its start."""

    now: datetime
    settings: ProgramSettings
    tiers: TierConfig


def expiry(member: Member, now: datetime, balance_after: int, funding: list[Funding]) -> Entry:
    return Entry(
        member_id=member.id,
        seq=member.next_seq,
        kind=EntryKind.EXPIRE,
        points=-total(funding),
        balance_after=balance_after,
        created_at=now,
        actor=SYSTEM.actor,
        funding=tuple(funding),
    )
