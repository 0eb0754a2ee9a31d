"""What admins see of nudges: every record (sent, held, held out, dropped, suppressed,
failed) per member and per kind; lift per kind; an explain dry run; and, outside
production, a scheduler run on demand.

- Per member: one Query of the member's records (by kind when asked).
- Per kind, newest first: one Query of the listed copies, one BatchGetItem of the records.
- Lift: one Query of the kind's daily counters; exact, since each decision and each
  conversion is counted once in the transaction that makes it.
- Explain: the scheduler's own evaluation for the members due for one kind, written nowhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from api import cursors
from api import validation as v
from api.auth import Permission, Principal
from api.config import Config
from api.errors import InvalidInput, TestClockDisabled
from api.members.view import page_size
from api.nudges import store
from api.nudges.model import NudgeRecord
from api.nudges.rules import lift
from api.nudges.rules_model import Drop, Hold, Lift, NudgeKind, Send
from api.nudges.scheduler import NudgeScheduler, RunReport
from api.points import ledger
from api.program.service import ProgramService
from api.store import reads
from api.store.base import Key, TableItem
from api.store.reads import Snapshot

MAX_LIFT_DAYS = 366
MAX_EXPLAIN = 100


@dataclass(frozen=True)
class RecordPage:
    records: list[NudgeRecord]
    cursors: list[str]
    has_next: bool


@dataclass(frozen=True)
class LiftReport:
    kind: NudgeKind
    start: date
    end: date
    treated: int
    treated_converted: int
    control: int
    control_converted: int
    lift: Lift


@dataclass(frozen=True)
class Explanation:
    """What the scheduler would do now for one member and subject: SEND on `channel`,
    HOLD until `until`, or not, for `reason` (a DropReason, NOT_APPLICABLE...)."""

    member_id: str
    kind: NudgeKind
    subject: str
    outcome: str  # SEND, HOLD or SKIP
    channel: str | None = None
    until: datetime | None = None
    reason: str | None = None


class NudgeAdmin:
    def __init__(self, config: Config, program: ProgramService, scheduler: NudgeScheduler) -> None:
        self._config = config
        self._program = program
        self._scheduler = scheduler

    # ---- records ------------------------------------------------------------------------

    def member_records(
        self,
        actor: Principal,
        member_id: str,
        kind: NudgeKind | None,
        first: int,
        after: str | None,
    ) -> RecordPage:
        actor.require(Permission.READ_NUDGES)
        member_id = v.member_ref(member_id, None)
        first = page_size(first)
        prefix = "" if kind is None else f"{kind}#"
        last = None if after is None else cursors.decode(after, f"nm:{member_id}")
        if last is not None and not last.startswith(prefix):
            raise InvalidInput("after", cursors.NOT_A_CURSOR)
        pk = store.record_pk(member_id)
        condition = (
            (TableItem.sk > last)
            if last is not None
            else (TableItem.sk.startswith(prefix) if prefix else TableItem.sk >= "A")
        )
        items = reads.query(pk, condition, limit=first + 1, descending=False)
        found = [i for i in items if isinstance(i, store.NudgeItem) and i.sk.startswith(prefix)]
        page = found[:first]
        return RecordPage(
            [store.record_from_item(i) for i in page],
            [cursors.encode(f"nm:{member_id}", i.sk) for i in page],
            len(found) > first,
        )

    def kind_records(
        self, actor: Principal, kind: NudgeKind, first: int, after: str | None
    ) -> RecordPage:
        actor.require(Permission.READ_NUDGES)
        first = page_size(first)
        last = None if after is None else cursors.decode(after, f"nk:{kind}")
        condition = TableItem.sk >= "0" if last is None else TableItem.sk < last
        items = reads.query(store.listed_pk(kind), condition, limit=first + 1, descending=True)
        listed = [i for i in items if isinstance(i, store.ListedItem)]
        page = listed[:first]
        keys: list[Key] = [store.record_key(i.member_id, kind, i.subject) for i in page]
        got = reads.get_many(keys)
        # A listed copy is written with its record: both are there, or neither.
        pairs = [
            (store.record_from_item(item), cursors.encode(f"nk:{kind}", i.sk))
            for i, key in zip(page, keys, strict=True)
            if isinstance(item := got.get(key), store.NudgeItem)
        ]
        return RecordPage([r for r, _ in pairs], [c for _, c in pairs], len(listed) > first)

    # ---- lift ---------------------------------------------------------------------------

    def lift(self, actor: Principal, kind: NudgeKind, start: date, end: date) -> LiftReport:
        """Conversion of members treated vs held out, decided on UTC days start..end."""
        actor.require(Permission.READ_NUDGES)
        if end < start:
            raise InvalidInput("to", "Must not be before `from`.")
        if (end - start).days + 1 > MAX_LIFT_DAYS:
            raise InvalidInput("to", f"At most {MAX_LIFT_DAYS} days.")
        pk = store.stats_key(kind, start)[0]
        items = reads.query(
            pk,
            TableItem.sk.between(start.isoformat(), end.isoformat()),
            limit=MAX_LIFT_DAYS,
            descending=False,
        )
        days = [i for i in items if isinstance(i, store.StatsItem)]
        treated = sum(i.treated for i in days)
        treated_converted = sum(i.treated_converted for i in days)
        control = sum(i.control for i in days)
        control_converted = sum(i.control_converted for i in days)
        return LiftReport(
            kind,
            start,
            end,
            treated,
            treated_converted,
            control,
            control_converted,
            # Conversions of a day can still come in (within the attribution window), and
            # never exceed the day's decisions: a clamp guards a hand-edited counter.
            lift(
                min(treated_converted, treated),
                treated,
                min(control_converted, control),
                control,
            ),
        )

    # ---- explain and run ------------------------------------------------------------------

    def explain(self, actor: Principal, kind: NudgeKind, first: int) -> list[Explanation]:
        """Who the scheduler would nudge now for `kind`, and for the others, why not. A dry
        run: the same reads as a run for these members, and no writes."""
        actor.require(Permission.MANAGE_NUDGES)
        if not 1 <= first <= MAX_EXPLAIN:
            raise InvalidInput("first", f"Must be 1 to {MAX_EXPLAIN}.")
        config = self._scheduler.configs.get()
        trigger = config.trigger(kind)
        now = self._program.current_time()
        if not trigger.enabled:
            return []
        # Every kind due for these members, as a run sees it: higher kinds take cap places.
        due = {
            member_id: sorted(k for k in keys if k[0].startswith(store.WATCH_PREFIX))
            for member_id, keys in self._scheduler.due(config, now).items()
            if any(
                k[0].startswith(store.WATCH_PREFIX) and k[1].startswith(kind.value) for k in keys
            )
        }
        found: list[Explanation] = []
        for member_id in sorted(due)[:first]:
            keys = due[member_id]
            snapshot = Snapshot([*ledger.reads(member_id), *keys])
            ev = self._scheduler.evaluate(snapshot, member_id, keys, config)
            for k, subject, reason in ev.not_due:
                if k is kind:
                    found.append(Explanation(member_id, k, subject, "SKIP", reason=reason))
            for d in ev.decisions:
                c = d.candidate
                if c.kind is not kind:
                    continue
                if isinstance(d, Send):
                    found.append(
                        Explanation(member_id, kind, c.subject, "SEND", channel=d.channel.value)
                    )
                elif isinstance(d, Hold):
                    found.append(
                        Explanation(
                            member_id, kind, c.subject, "HOLD", until=d.until, reason="QUIET_HOURS"
                        )
                    )
                else:
                    assert isinstance(d, Drop)
                    found.append(
                        Explanation(member_id, kind, c.subject, "SKIP", reason=d.reason.value)
                    )
        return found

    def run(self, actor: Principal) -> RunReport:
        """A scheduler run now: a test tool like the test clock, outside production only
        (production runs on its schedule)."""
        actor.require(Permission.MANAGE_NUDGES)
        if not self._config.test_clock:
            raise TestClockDisabled()
        return self._scheduler.run()
