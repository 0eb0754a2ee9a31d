"""Nudge reactions to the table's stream: they keep each member's watches (api/nudges/
triggers.py) pointing at what a trigger would nudge about, so the scheduler finds due
members through the sparse due index instead of reading every member; and they attribute
orders to the nudges before them (lift).

- A member's points, tier, birthday or time zone changed: the member-read watches are
  computed again from the member as it is now (not the record's image, which may be older),
  so a redelivered or late record changes nothing. An enrolment starts the win-back clock.
- An order was recorded: win-back and NPS count from it, and it gets a review-request
  watch. Each nudge decided (sent or held out) within the attribution window before the
  order is marked converted once (under the record's version) with its day's counter.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from api.clock import Clock
from api.errors import MemberNotFound
from api.idempotency import Plan, versioned_write
from api.members.model import Member
from api.members.store import member_in
from api.nudges import store
from api.nudges import triggers as t
from api.nudges.model import NudgeConfig, NudgeRecord, NudgeStatus, Watch
from api.nudges.rules_model import NudgeKind
from api.nudges.scheduler import ConfigSource
from api.points import ledger
from api.points.model import Order
from api.points.store import order_in
from api.program.service import ProgramService
from api.rewards.admin import RewardCatalog
from api.store.base import Key
from api.store.reads import Snapshot
from api.store.tx import Add
from api.stream import Change, Reaction


def _unchanged(old: Member | None, new: Member | None) -> bool:
    """Nothing a member-read trigger looks at moved (a consent, a name, a version)."""
    return (
        old is not None
        and new is not None
        and old.points == new.points
        and old.tier == new.tier
        and old.birthday == new.birthday
        and old.time_zone == new.time_zone
    )


def _current(snapshot: Snapshot, key: Key, fresh: Watch) -> Watch:
    item = snapshot.get(key, store.WatchItem)
    return fresh if item is None else store.watch_from_item(item)


def _same(a: Watch, b: Watch) -> bool:
    return replace(a, version=None) == replace(b, version=None)


def member_watches(
    clock: Clock, program: ProgramService, configs: ConfigSource, rewards: RewardCatalog
) -> Reaction:
    def react(change: Change) -> None:
        new = member_in(change.new) if change.new is not None else None
        if new is None or _unchanged(member_in(change.old) if change.old else None, new):
            return
        watch_all(clock, program, configs.get(), rewards, new.id, enrolled=change.inserted)

    return react


def watch_all(
    clock: Clock,
    program: ProgramService,
    config: NudgeConfig,
    rewards: RewardCatalog,
    member_id: str,
    *,
    enrolled: bool = False,
) -> None:
    """Point the member's watches at what is due for them now (what the stream does)."""
    keys = {kind: store.watch_key(member_id, kind) for kind in t.MEMBER_KINDS}
    win_back = store.watch_key(member_id, NudgeKind.WIN_BACK)

    def decide(snapshot: Snapshot) -> Plan[None]:
        try:
            state = ledger.state(snapshot, member_id, program)
        except MemberNotFound:
            return Plan(None)
        member, now = state.member, state.now
        facts = t.Facts(member, now, state.tiers, rewards.live())
        changed: list[Watch] = []
        for kind, key in keys.items():
            before = _current(snapshot, key, Watch(member_id, kind))
            after = t.rearm(
                before, t.member_subject(kind, before, facts, config.trigger(kind)), now
            )
            if not _same(before, after):
                changed.append(after)
        if enrolled and snapshot.get(win_back, store.WatchItem) is None:
            changed.append(
                t.after_order(Watch(member_id, NudgeKind.WIN_BACK), member.created_at, now)
            )
        return Plan(None, changed=[store.watch_to_item(w) for w in changed])

    versioned_write(clock, [*ledger.reads(member_id), *keys.values(), win_back], decide)


def order_watches(clock: Clock, program: ProgramService, configs: ConfigSource) -> Reaction:
    def react(change: Change) -> None:
        order = order_in(change.new) if change.inserted else None
        if order is None:
            return
        _watch_order(clock, program, order)
        _convert(clock, configs.get(), order)

    return react


def _watch_order(clock: Clock, program: ProgramService, order: Order) -> None:
    member_id = order.member_id
    spells = [store.watch_key(member_id, k) for k in (NudgeKind.WIN_BACK, NudgeKind.NPS_SURVEY)]
    review = store.watch_key(member_id, NudgeKind.REVIEW_REQUEST, order.order_id)

    def decide(snapshot: Snapshot) -> Plan[None]:
        now = program.current_time()
        changed = []
        for key, kind in zip(spells, (NudgeKind.WIN_BACK, NudgeKind.NPS_SURVEY), strict=True):
            before = _current(snapshot, key, Watch(member_id, kind))
            after = t.after_order(before, order.placed_at, now)
            if not _same(before, after):
                changed.append(store.watch_to_item(after))
        new = []
        if order.lines and snapshot.get(review, store.WatchItem) is None:
            watch = Watch(member_id, NudgeKind.REVIEW_REQUEST, order_id=order.order_id)
            armed = t.rearm(watch, (order.order_id, order.placed_at), now)
            new.append(store.watch_to_item(armed))
        return Plan(None, new=new, changed=changed)

    versioned_write(clock, [*spells, review], decide)


def _converts(record: NudgeRecord, placed_at: datetime, config: NudgeConfig) -> bool:
    decided = record.decided_at
    return (
        record.converted_at is None
        and (record.treated or record.status is NudgeStatus.HELD_OUT)
        and decided is not None
        and decided <= placed_at <= decided + config.attribution
    )


def _convert(clock: Clock, config: NudgeConfig, order: Order) -> None:
    def decide(_: Snapshot) -> Plan[None]:
        records = store.history(order.member_id)
        converted = [
            replace(r, converted_at=order.placed_at)
            for r in records
            if _converts(r, order.placed_at, config)
        ]
        return Plan(
            None,
            changed=[store.record_to_item(r) for r in converted],
            added=[_counter(r) for r in converted],
        )

    versioned_write(clock, [], decide)


def _counter(record: NudgeRecord) -> Add:
    assert record.decided_at is not None
    column = "treated_converted" if record.treated else "control_converted"
    return Add(store.stats_item(record.kind, record.decided_at.date()), {column: 1})
