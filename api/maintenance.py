"""The daily points job: activate lots whose return window has passed, expire lots whose
validity has ended. Members are found through the sparse due index, never by a scan, and
each member is re-read and written under its version, so overlapping or repeated runs
record every expiry exactly once."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from api.auth import SYSTEM
from api.clock import Clock
from api.ledger import Entry, EntryKind, entry_to_item, points_state, store_points_state
from api.lots import expire_and_activate, total
from api.observability import count
from api.program import ProgramService
from api.store.models import DUE_SHARDS, PROFILE_SK, MemberItem
from api.store.tx import Cancelled, Retry, Transaction, with_retries


@dataclass(frozen=True)
class MaintenanceReport:
    now: datetime
    members_due: int = 0
    members_changed: int = 0
    lots_activated: int = 0
    lots_expired: int = 0
    points_expired: int = 0
    complete: bool = True  # False: stopped for time; the rest stays due for the next run

    def __add__(self, other: MaintenanceReport) -> MaintenanceReport:
        return MaintenanceReport(
            now=self.now,
            members_due=self.members_due + other.members_due,
            members_changed=self.members_changed + other.members_changed,
            lots_activated=self.lots_activated + other.lots_activated,
            lots_expired=self.lots_expired + other.lots_expired,
            points_expired=self.points_expired + other.points_expired,
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
        now = self._program.now(self._program.load())
        with ThreadPoolExecutor(max_workers=self._workers) as pool:
            reports = list(pool.map(partial(self._run_shard, now, should_stop), range(DUE_SHARDS)))
        report = sum(reports[1:], reports[0])
        count("LotsActivated", report.lots_activated)
        count("LotsExpired", report.lots_expired)
        count("PointsExpired", report.points_expired)
        return report

    def _run_shard(
        self, now: datetime, should_stop: Callable[[], bool], shard: int
    ) -> MaintenanceReport:
        report = MaintenanceReport(now)
        for key in MemberItem.due_index.query(f"DUE#{shard}", MemberItem.due_at <= now):
            if should_stop():
                return report + MaintenanceReport(now, complete=False)
            changed = with_retries(self._clock, partial(self._process, key.pk, now))
            report += MaintenanceReport(now, members_due=1) + (changed or MaintenanceReport(now))
        return report

    def _process(self, pk: str, now: datetime) -> MaintenanceReport | None:
        """What changed for one member, or None if nothing was due any more."""
        try:
            member = MemberItem.get(pk, PROFILE_SK, consistent_read=True)
        except MemberItem.DoesNotExist:
            return None
        state, funding, activated = expire_and_activate(points_state(member), now)
        if not funding and not activated:
            return None  # the index lagged, or another run got here first
        seq = member.version + 1
        store_points_state(member, state)
        member.updated_at = now
        tx = Transaction()
        tx.put(member)
        if funding:
            tx.put_new(
                entry_to_item(
                    Entry(
                        member_id=member.member_id,
                        seq=seq,
                        kind=EntryKind.EXPIRE,
                        points=-total(funding),
                        balance_after=state.balance,
                        created_at=now,
                        actor=SYSTEM.actor,
                        funding=tuple(funding),
                    )
                )
            )
        try:
            tx.commit()
        except Cancelled as exc:
            raise Retry() from exc
        return MaintenanceReport(
            now,
            members_changed=1,
            lots_activated=len(activated),
            lots_expired=len(funding),
            points_expired=total(funding),
        )
