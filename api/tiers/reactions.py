"""Tier reactions to the table's stream: members per tier, for the admins' distribution.

Counted from the stream, not in the member's transaction: the counters are shared items
(hot under a flash of upgrades), and a count a moment late is fine.
"""

from __future__ import annotations

from api.clock import Clock
from api.idempotency import Plan
from api.members.store import member_in
from api.store.tx import Add
from api.stream import Change, Reaction, once
from api.tiers import store


def count_members(clock: Clock) -> Reaction:
    def react(change: Change) -> None:
        added: list[tuple[str, int]] = []
        if change.inserted and change.new is not None and member_in(change.new) is not None:
            added.append((store.MEMBERS, 1))
        tier_change = store.change_in(change.new) if change.inserted else None
        if tier_change is not None:
            added.append((tier_change.to_code, 1))
            if tier_change.from_code is not None:
                added.append((tier_change.from_code, -1))
        if added:
            plan = Plan(
                None, added=[Add(store.count_item(code), {"total": delta}) for code, delta in added]
            )
            once(clock, change, "tiers.count_members", plan)

    return react
