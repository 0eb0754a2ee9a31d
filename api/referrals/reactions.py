"""Referral reactions to the table's stream: a referee's first order makes their referral due
for the scheduled job at the end of the order's return window.

Only new orders pass the stream's filter; an order of a member without a PENDING referral
costs one GetItem and nothing more. The change is written under the referral's version
and only if it is still to be made, so a redelivered record changes nothing. "First" is
by placedAt: an earlier order delivered later (stream records of different items have no
order) takes its place while the referral is still pending. Orders dated before the referral
(imported history) and orders of nothing (a free sample, a 100%-off cart) do not count.
"""

from __future__ import annotations

from dataclasses import replace

from api.clock import Clock
from api.idempotency import Plan, versioned_write
from api.points.model import Order
from api.points.store import order_in
from api.program import store as program
from api.program.service import ProgramService
from api.referrals import store
from api.referrals.model import Referral, ReferralStatus
from api.store.reads import Snapshot
from api.stream import Change, Reaction


def _takes(referral: Referral | None, order: Order) -> bool:
    """Whether the order is the referee's first as a referred customer: placed after the
    referral (an imported older order shows a customer already) and for something."""
    if referral is None or referral.status is not ReferralStatus.PENDING:
        return False
    if order.placed_at < referral.created_at or order.total.amount <= 0:
        return False
    if referral.first_order_id is None or referral.first_order_at is None:
        return True
    return (order.placed_at, order.order_id) < (referral.first_order_at, referral.first_order_id)


def first_orders(clock: Clock, program_service: ProgramService) -> Reaction:
    def react(change: Change) -> None:
        order = order_in(change.new) if change.inserted else None
        if order is None:
            return
        key = store.referral_key(order.member_id)
        if not _takes(store.referral(Snapshot([key]), order.member_id), order):
            return

        def decide(snapshot: Snapshot) -> Plan[None]:
            referral = store.referral(snapshot, order.member_id)
            if referral is None or not _takes(referral, order):
                return Plan(None)  # done by an earlier delivery
            settings = program.settings(snapshot)
            due = replace(
                referral,
                first_order_id=order.order_id,
                first_order_at=order.placed_at,
                due_at=order.placed_at + settings.return_window,
                updated_at=program_service.now(settings),
            )
            return Plan(None, changed=store.referral_items(due))

        versioned_write(clock, [key, program.SETTINGS_KEY], decide)

    return react
