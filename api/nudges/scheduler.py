"""The hourly scheduler: finds the nudges due, decides each (api/nudges/rules.py), records
the decision and enqueues what is to be sent.

Reads grow with the members due, never with all members: per enabled kind and shard one
Query of the sparse due index (armed watches with facts up to the trigger's threshold), plus
the HELD records whose quiet hours ended and the QUEUED ones to send again; then, per member
due, one BatchGetItem (member, program, tiers, their watches), one Query (their nudge
records: the history caps and dedupe read) and one TransactWriteItems.

Nothing is sent twice: a record is created once per member, kind and subject (a conditional
put), in the transaction that marks the watch handled under its version. Overlapping or
repeated runs and redelivered messages find the record there. The message is enqueued after
the commit; if that fails the record stays QUEUED and a later run enqueues it again (the
sender claims a record before sending, so a second message is harmless).

A birthday's bonus points are an entry in the same transaction as the birthday watch's
year, so they are given once a year, message or not (consent governs messages, not points).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from api.auth import SYSTEM, Principal, Role
from api.clock import Clock
from api.errors import ConcurrentUpdate, MemberNotFound
from api.feedback.reviews import ReviewService
from api.feedback.surveys import SurveyService, nps_window
from api.idempotency import Plan, versioned_write
from api.members.model import Channel, Member
from api.nudges import store
from api.nudges import triggers as t
from api.nudges.model import NudgeConfig, NudgeRecord, NudgeStatus, Value, Watch
from api.nudges.queue import Message, Queue
from api.nudges.rules import decide
from api.nudges.rules_model import (
    Candidate,
    Decision,
    Drop,
    DropReason,
    Hold,
    NudgeKind,
    Send,
    SentNudge,
)
from api.observability import count, logger
from api.points import ledger
from api.points.model import EntryKind
from api.points.store import entry_to_item, get_order
from api.program.service import ProgramService
from api.rewards.admin import RewardCatalog
from api.store.base import DUE_SHARDS, Key, TableItem
from api.store.reads import Snapshot
from api.store.tx import Add
from api.tiers.service import TierService

# Reads like the shop's backend where another domain asks (whether NPS is due).
SCHEDULER = Principal(Role.SERVICE, "nudge-scheduler")
MAX_WATCHES = 20  # per member and run; more (many orders to review) wait for the next run


class ConfigSource(Protocol):
    def get(self) -> NudgeConfig: ...


def never() -> bool:
    return False


def _counters(counts: Counter[tuple[NudgeKind, str]], now: datetime) -> list[Add]:
    per_kind: dict[NudgeKind, dict[str, int]] = defaultdict(dict)
    for (kind, column), n in counts.items():
        per_kind[kind][column] = n
    return [Add(store.stats_item(kind, now.date()), deltas) for kind, deltas in per_kind.items()]


def counts_for_caps(r: NudgeRecord) -> bool:
    return r.status in (NudgeStatus.QUEUED, NudgeStatus.SENDING, NudgeStatus.SENT) or (
        r.status is NudgeStatus.FAILED and r.reason == "INTERRUPTED"
    )


def _reachable(member: Member) -> frozenset[Channel]:
    """Channels the member has an address for (push: devices are looked up at sending)."""
    return frozenset(
        c
        for c, address in (
            (Channel.EMAIL, member.email),
            (Channel.SMS, member.phone),
            (Channel.PUSH, "devices"),
        )
        if address
    )


@dataclass(frozen=True)
class RunReport:
    members: int = 0  # members looked at
    queued: int = 0
    held: int = 0  # waiting for quiet hours to end
    held_out: int = 0
    dropped: int = 0
    requeued: int = 0  # QUEUED records enqueued again
    bonus_points: int = 0
    left: int = 0  # members left for the next run (time ran out, or contention)

    def __add__(self, other: RunReport) -> RunReport:
        return RunReport(*(a + b for a, b in zip(self.astuple(), other.astuple(), strict=True)))

    def astuple(self) -> tuple[int, ...]:
        return (
            self.members,
            self.queued,
            self.held,
            self.held_out,
            self.dropped,
            self.requeued,
            self.bonus_points,
            self.left,
        )


@dataclass
class Evaluation:
    """One member's look: the decisions and what they write. Nothing is written yet."""

    member: Member | None
    now: datetime
    decisions: list[Decision] = field(default_factory=list)
    values: dict[tuple[NudgeKind, str], dict[str, Value]] = field(default_factory=dict)
    held: dict[tuple[NudgeKind, str], NudgeRecord] = field(default_factory=dict)  # re-decided
    watches: list[Watch] = field(default_factory=list)  # changed
    gone: list[Watch] = field(default_factory=list)  # deleted (a review request done)
    not_due: list[tuple[NudgeKind, str, str]] = field(default_factory=list)  # explain: why
    birthday: tuple[str, int] | None = None  # the year whose bonus is given now, and points


def _member_of(pk: str, prefix: str) -> str:
    return pk.removeprefix(prefix)


class NudgeScheduler:
    def __init__(
        self,
        *,
        clock: Clock,
        program: ProgramService,
        configs: ConfigSource,
        tiers: TierService,
        rewards: RewardCatalog,
        reviews: ReviewService,
        surveys: SurveyService,
        queue: Queue | None,
    ) -> None:
        self._clock = clock
        self._program = program
        self.configs = configs
        self._tiers = tiers
        self._rewards = rewards
        self._reviews = reviews
        self._surveys = surveys
        self._queue = queue

    # ---- the run -------------------------------------------------------------------------

    def run(self, should_stop: Callable[[], bool] = never) -> RunReport:
        """Decide every nudge due at the program's time. `should_stop` is polled between
        members (the Lambda's remaining time): what is left stays due for the next run."""
        now = self._program.now(self._program.load())
        config = self.configs.get()
        due = self.due(config, now)
        report = RunReport(requeued=self._redrive(now))
        for member_id in sorted(due):
            if should_stop():
                report += RunReport(left=1)
                continue
            try:
                report += self._member(member_id, sorted(due[member_id]), config)
            except ConcurrentUpdate:  # still due: the next run decides it
                logger.warning("Nudges left for the next run", extra={"member": member_id})
                report += RunReport(left=1)
            except Exception:
                # One member's bad data must not hold back everyone else's nudges: logged
                # (and alarmed on), left due, tried again next run.
                logger.exception("Nudges failed for a member", extra={"member": member_id})
                count("NudgeMembersFailed")
                report += RunReport(left=1)
        count("NudgesQueued", report.queued)
        count("NudgesHeldOut", report.held_out)
        count("NudgesDropped", report.dropped)
        return report

    def due(self, config: NudgeConfig, now: datetime) -> dict[str, set[Key]]:
        """Members with anything due, and what: armed watches (per enabled kind, at its
        threshold) and HELD records whose quiet hours have ended."""
        found: dict[str, set[Key]] = defaultdict(set)
        for kind in NudgeKind:
            trigger = config.trigger(kind)
            if not trigger.enabled:
                continue
            bound = t.query_bound(trigger, now)
            for n in range(DUE_SHARDS):
                for item in TableItem.due_index.query(
                    store.kind_shard(kind, n), TableItem.due_at <= bound
                ):
                    found[_member_of(item.pk, store.WATCH_PREFIX)].add(item.key)
        for n in range(DUE_SHARDS):
            for item in TableItem.due_index.query(
                f"{store.HELD_SHARD}{n}", TableItem.due_at <= now
            ):
                found[_member_of(item.pk, store.RECORD_PREFIX)].add(item.key)
        return found

    def _redrive(self, now: datetime) -> int:
        """QUEUED records the sender has not finished in time: enqueue them again."""
        if self._queue is None:
            return 0
        messages = []
        for n in range(DUE_SHARDS):
            for item in TableItem.due_index.query(
                f"{store.QUEUED_SHARD}{n}", TableItem.due_at <= now
            ):
                member_id, kind, subject = store.parse_record_key(item.key)
                messages.append(Message(member_id, kind, subject))
        if messages:
            self._queue.send(messages)
            count("NudgesRequeued", len(messages))
        return len(messages)

    def _member(self, member_id: str, keys: Sequence[Key], config: NudgeConfig) -> RunReport:
        watch_keys = [k for k in keys if k[0].startswith(store.WATCH_PREFIX)][:MAX_WATCHES]
        reads_ = [*ledger.reads(member_id), *watch_keys]
        queued: list[Message] = []

        def plan(snapshot: Snapshot) -> Plan[RunReport]:
            queued.clear()
            ev = self.evaluate(snapshot, member_id, watch_keys, config)
            return self._plan(ev, member_id, snapshot, queued)

        report = versioned_write(self._clock, reads_, plan)
        if queued and self._queue is not None:
            try:
                self._queue.send(queued)
            except Exception:  # recorded QUEUED: the redrive enqueues them again
                logger.exception("Nudges not enqueued", extra={"member": member_id})
        return report

    def preview_values(self, member: Member, kind: NudgeKind) -> dict[str, Value] | None:
        """What a nudge of this kind would show the member now, for an admin's preview;
        None where nothing is due for them (the preview shows sample values then)."""
        if kind not in t.MEMBER_KINDS:
            return None
        now = self._program.current_time()
        facts = t.Facts(member, now, self._tiers.config(), self._rewards.live())
        trigger = self.configs.get().trigger(kind)
        watch = Watch(member.id, kind)
        found = t.member_subject(kind, watch, facts, trigger)
        if found is None:
            return None
        due = t.values_for(kind, t.rearm(watch, found, now), facts, trigger)
        return due.values if due.subject is not None else None

    # ---- deciding ------------------------------------------------------------------------

    def evaluate(
        self, snapshot: Snapshot, member_id: str, watch_keys: Sequence[Key], config: NudgeConfig
    ) -> Evaluation:
        """Candidates from the member's due watches and ended holds, and their decisions."""
        try:
            state = ledger.state(snapshot, member_id, self._program)
        except MemberNotFound:
            return self._gone(snapshot, member_id, watch_keys)
        member, now = state.member, state.now
        records = store.history(member_id)
        known = {r.key: r for r in records}
        facts = t.Facts(member, now, state.tiers, self._rewards.live())
        ev = Evaluation(member, now)
        candidates: list[Candidate] = []

        for key in watch_keys:
            item = snapshot.get(key, store.WatchItem)
            if item is None:
                continue
            watch = store.watch_from_item(item)
            trigger = config.trigger(watch.kind)
            if (
                not trigger.enabled
                or not watch.armed
                or watch.fact_at is None
                or watch.fact_at > t.query_bound(trigger, now)
            ):
                continue  # moved on since the index was read
            if watch.kind in t.MEMBER_KINDS:
                # The member changed since the stream armed it: look again.
                found = t.member_subject(watch.kind, watch, facts, trigger)
                fresh = t.rearm(watch, found, now)
                if fresh.subject != watch.subject or not fresh.armed:
                    ev.watches.append(fresh)
                    continue
            due = self._due(watch, facts, config)
            if due.subject is None:
                ev.not_due.append((watch.kind, watch.subject or "", "NOT_APPLICABLE"))
                if watch.kind is NudgeKind.REVIEW_REQUEST:
                    ev.gone.append(watch)
                else:
                    ev.watches.append(self._handled(watch, facts, config, final=due.final))
                continue
            if watch.kind is NudgeKind.BIRTHDAY and trigger.bonus_points and watch.subject:
                ev.birthday = (watch.subject, trigger.bonus_points)
            if watch.kind is NudgeKind.REVIEW_REQUEST:
                ev.gone.append(watch)
            else:
                ev.watches.append(self._handled(watch, facts, config, final=True))
            if (watch.kind, due.subject) in known:
                ev.not_due.append((watch.kind, due.subject, DropReason.ALREADY_SENT.value))
                continue
            ev.values[(watch.kind, due.subject)] = due.values
            candidates.append(
                Candidate(
                    member_id=member_id,
                    kind=watch.kind,
                    subject=due.subject,
                    due_at=t.due_since(trigger, watch),
                    channels=trigger.channels,
                )
            )

        for record in records:
            if (
                record.status is NudgeStatus.HELD
                and record.send_at is not None
                and record.send_at <= now
            ):
                ev.held[record.key] = record
                ev.values[record.key] = record.values
                candidates.append(
                    Candidate(
                        member_id=member_id,
                        kind=record.kind,
                        subject=record.subject,
                        due_at=record.due_at,
                        channels=config.trigger(record.kind).channels,
                    )
                )

        # What caps count: every nudge on its way or gone, at its latest move (queued again
        # after quiet hours, or sent), and one whose sender died mid-send (it may have gone).
        history = [
            SentNudge(r.kind, r.subject, r.channel, r.updated_at)
            for r in records
            if r.channel is not None and r.queued_at is not None and counts_for_caps(r)
        ]
        reachable = _reachable(member)
        addressed = [
            replace(c, channels=tuple(x for x in c.channels if x in reachable)) for c in candidates
        ]
        ev.decisions = decide(
            [c for c in addressed if c.channels],
            history=history,
            consents=member.consents,
            tz=member.time_zone,
            settings=config.rules,
            now=now,
        ) + [Drop(c, DropReason.NO_ADDRESS) for c in addressed if not c.channels]
        return ev

    def _gone(self, snapshot: Snapshot, member_id: str, watch_keys: Sequence[Key]) -> Evaluation:
        """An erased member: their watches go, and what waited for quiet hours ends."""
        gone = [
            store.watch_from_item(item)
            for key in watch_keys
            if (item := snapshot.get(key, store.WatchItem)) is not None
        ]
        ev = Evaluation(None, self._program.now(self._program.load()), gone=gone)
        for record in store.history(member_id):
            if record.status is NudgeStatus.HELD:
                ev.held[record.key] = record
        return ev

    def _due(self, watch: Watch, facts: t.Facts, config: NudgeConfig) -> t.Due:
        kind, member = watch.kind, facts.member
        balance = member.points.available(facts.now)
        if kind in t.MEMBER_KINDS:
            return t.values_for(kind, watch, facts, config.trigger(kind))
        assert watch.fact_at is not None
        if kind is NudgeKind.WIN_BACK:
            days = t.inactive_days(watch.fact_at, facts.now)
            return t.Due(watch.subject, {"days_inactive": days, "balance": balance})
        if kind is NudgeKind.NPS_SURVEY:
            if not self._surveys.nps_due(SCHEDULER, member.id).due:
                return t.Due(None, {})
            program = self._program.load()
            window, _ = nps_window(facts.now, program.surveys)
            return t.Due(window, {})
        # REVIEW_REQUEST: the order's products the member has not reviewed yet.
        order = None if watch.order_id is None else get_order(watch.order_id)
        if order is None or order.refunded.amount >= order.total.amount:
            return t.Due(None, {})
        skus = sorted({line.sku for line in order.lines})
        left = [s for s in skus if s not in self._reviews.reviewed(member.id, skus)]
        if not left:
            return t.Due(None, {})
        return t.Due(
            order.order_id,
            {"order_id": order.order_id, "products": ", ".join(left), "product_count": len(left)},
        )

    def _handled(self, watch: Watch, facts: t.Facts, config: NudgeConfig, *, final: bool) -> Watch:
        """The watch once its subject is decided (or found not to apply): member-read kinds
        move on to their next subject (the next expiry date, next year's birthday)."""
        if not final:
            return replace(watch, armed=False)
        seen = watch.seen
        if watch.kind is NudgeKind.REWARD_AFFORDABLE:
            seen = seen | t.affordable_ids(facts) | {watch.subject or ""}
        done = replace(watch, handled=watch.subject, armed=False, seen=seen - {""})
        if watch.kind not in t.MEMBER_KINDS:
            return done
        trigger = config.trigger(watch.kind)
        return t.rearm(done, t.member_subject(watch.kind, done, facts, trigger), facts.now)

    # ---- writing -------------------------------------------------------------------------

    def _plan(
        self, ev: Evaluation, member_id: str, snapshot: Snapshot, queued: list[Message]
    ) -> Plan[RunReport]:
        if ev.member is None:  # erased: nothing to nudge, ever; what waited ends
            ended = [
                replace(
                    r,
                    status=NudgeStatus.DROPPED,
                    reason="MEMBER_GONE",
                    send_at=None,
                    updated_at=ev.now,
                )
                for r in ev.held.values()
            ]
            return Plan(
                RunReport(members=1, dropped=len(ended)),
                changed=[store.record_to_item(r) for r in ended],
                deleted=[store.watch_to_item(w) for w in ev.gone],
            )
        now = ev.now
        new: list[TableItem] = []
        changed: list[TableItem] = [store.watch_to_item(w) for w in ev.watches]
        # One ADD per counter item: a transaction may touch an item once (two held nudges
        # of a kind released together count in one day's counter).
        counts: Counter[tuple[NudgeKind, str]] = Counter()
        report = RunReport(members=1)
        for decision in ev.decisions:
            c = decision.candidate
            before = ev.held.get(c.key)
            record = before or NudgeRecord(
                member_id=member_id,
                kind=c.kind,
                subject=c.subject,
                status=NudgeStatus.DROPPED,
                created_at=now,
                updated_at=now,
                due_at=c.due_at,
                values=ev.values.get(c.key, {}),
            )
            if isinstance(decision, Send):
                # Decided to send once (intent to treat): a nudge the sender held back for
                # quiet hours keeps its first decision's time and is counted once.
                first = record.queued_at is None
                record = replace(
                    record,
                    status=NudgeStatus.QUEUED,
                    channel=decision.channel,
                    queued_at=now if first else record.queued_at,
                    send_at=None,
                )
                queued.append(Message(member_id, c.kind, c.subject))
                if first:
                    counts[(c.kind, "treated")] += 1
                report += RunReport(queued=1)
            elif isinstance(decision, Hold):
                record = replace(record, status=NudgeStatus.HELD, send_at=decision.until)
                report += RunReport(held=1)
            elif decision.reason is DropReason.HELD_OUT:
                record = replace(record, status=NudgeStatus.HELD_OUT, send_at=None)
                counts[(c.kind, "control")] += 1
                report += RunReport(held_out=1)
            else:
                record = replace(
                    record, status=NudgeStatus.DROPPED, reason=decision.reason.value, send_at=None
                )
                report += RunReport(dropped=1)
            record = replace(record, updated_at=now)
            if before is None:
                new += [store.record_to_item(record), store.listed_item(record)]
            else:
                changed.append(store.record_to_item(record))
        if ev.birthday is not None:
            year, bonus = ev.birthday
            state = ledger.state(snapshot, member_id, self._program)
            after, entry = ledger.fresh_credit(
                state,
                state.member.points,
                state.member.next_seq,
                bonus,
                kind=EntryKind.BIRTHDAY,
                by=SYSTEM.actor,
                reference=f"birthday:{year}",
                reason="Birthday bonus",
            )
            new.append(entry_to_item(entry))
            changed.append(ledger.member_item(state, after, [entry]))
            report += RunReport(bonus_points=bonus)
        return Plan(
            report,
            new=new,
            changed=changed,
            added=_counters(counts, now),
            deleted=[store.watch_to_item(w) for w in ev.gone],
        )
