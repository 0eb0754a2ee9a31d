"""The daily points job: activate lots whose return window has passed, expire lots whose
validity has ended. Members are found through the sparse due index, never by a scan, and
each member is re-read and written under its version, so overlapping or repeated runs
record every expiry exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from api.auth import SYSTEM
from api.clock import Clock
from api.ledger import Entry, EntryKind, entry_to_item, points_state, store_points_state
from api.lots import expire_and_activate, total
from api.program import ProgramService
from api.store.models import DUE_SHARDS, PROFILE_SK, MemberItem
from api.store.tx import Cancelled, Retry, Transaction, with_retries


@dataclass(frozen=True)
class MaintenanceReport:
    now: datetime
    members_due: int
    members_changed: int
    lots_activated: int
    lots_expired: int
    points_expired: int


class MaintenanceService:
    def __init__(self, clock: Clock, program: ProgramService) -> None:
        self._clock = clock
        self._program = program

    def run(self) -> MaintenanceReport:
        now = self._program.now(self._program.load())
        due = changed = activated = expired = points = 0
        for shard in range(DUE_SHARDS):
            for key in MemberItem.due_index.query(f"DUE#{shard}", MemberItem.due_at <= now):
                due += 1
                result = with_retries(self._clock, partial(self._process, key.pk, now))
                if result is not None:
                    changed += 1
                    activated += result[0]
                    expired += result[1]
                    points += result[2]
        return MaintenanceReport(now, due, changed, activated, expired, points)

    def _process(self, pk: str, now: datetime) -> tuple[int, int, int] | None:
        """(lots activated, lots expired, points expired), or None if nothing was due."""
        try:
            member = MemberItem.get(pk, PROFILE_SK, consistent_read=True)
        except MemberItem.DoesNotExist:
            return None
        state, funding, activated = expire_and_activate(points_state(member), now)
        if not funding and not activated:
            return None  # the index lagged, or another run got here first
        seq = int(member.version) + 1
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
        return len(activated), len(funding), total(funding)
