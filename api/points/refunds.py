"""Refunds take back the order's share of its points (refundOrder, idempotent on the refund
id). The share is cumulative, so partial refunds add up to exactly what the order earned."""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_FLOOR, Decimal

from api import validation as v
from api.auth import Permission, Principal
from api.clock import Clock
from api.errors import ErrorCode, InvalidInput, OrderNotFound, RefundExceedsOrder
from api.idempotency import Keyed, Plan, fingerprint, keyed_write
from api.money import Money, parse_money
from api.observability import count
from api.points import ledger, store
from api.points.lots import claw_back
from api.points.model import Entry, EntryKind, Order, RefundInput
from api.program.model import NegativeBalancePolicy
from api.program.service import ProgramService
from api.promotions import commits
from api.store.base import RecordItem
from api.store.reads import Snapshot
from api.store.records import IdempotencyItem, record_key
from api.tiers import rules as tier_rules
from api.tiers.credit import minor
from api.tiers.model import Credit


def reversed_share(earned: int, total: Decimal, refunded: Decimal) -> int:
    """Points taken back once `refunded` of `total` is refunded: all of them at a full
    refund, else the proportional share rounded down."""
    if refunded == total:
        return earned
    return int((Decimal(earned) * refunded / total).to_integral_value(ROUND_FLOOR))


class RefundService:
    def __init__(self, clock: Clock, program: ProgramService) -> None:
        self._clock = clock
        self._program = program

    def refund_order(self, actor: Principal, data: RefundInput) -> tuple[Order, Entry]:
        actor.require(Permission.REFUND_ORDER)
        refund_id = v.external_id("refundId", data.refund_id)
        order_id = v.external_id("orderId", data.order_id)
        amount = parse_money("amount", data.amount, data.currency, positive=True)
        keyed = Keyed(
            record_key("REFUND", refund_id),
            fingerprint({"refund": refund_id, "order": order_id, "amount": str(amount)}),
            "refundId",
        )

        def decide(snapshot: Snapshot) -> Plan[tuple[Order, Entry]]:
            order = store.load_order(snapshot, order_id)
            if order is None:
                raise OrderNotFound()
            if amount.currency != order.total.currency:
                raise InvalidInput(
                    "amount.currency",
                    f"The order was paid in {order.total.currency}.",
                    ErrorCode.CURRENCY_MISMATCH,
                )
            total, refunded = order.total.amount, order.refunded.amount
            if refunded + amount.amount > total:
                raise RefundExceedsOrder(str(total - refunded), order.total.currency)
            # The order names its member: read once it is known (a second round trip only
            # for refunds, which are rare next to orders and reads).
            second = ledger.reads(order.member_id)
            if order.reservation_id is not None:
                second.append(commits.reservation_key(order.reservation_id))
            member_snapshot = Snapshot(second)
            state = ledger.state(member_snapshot, order.member_id, self._program)
            refunded_after = refunded + amount.amount
            reversed_after = reversed_share(order.points_earned, total, refunded_after)
            # The order's qualifying credit, taken back the same way, on the day it counted.
            base_reversed = reversed_share(order.base_points, total, refunded_after)
            reversal = Credit(
                points=base_reversed - order.base_reversed,
                orders=1 if refunded_after == total else 0,
                spend={amount.currency: minor(amount)},
            )
            tier = tier_rules.on_refund(
                state.member.tier, state.tiers, order.placed_at.date(), reversal, state.now
            )
            clawback = claw_back(
                state.member.points,
                reversed_after - order.points_reversed,
                state.now,
                order_id,
                allow_negative=(
                    state.settings.negative_balance_policy is NegativeBalancePolicy.ALLOW_NEGATIVE
                ),
            )
            entry = Entry(
                member_id=order.member_id,
                seq=state.member.next_seq,
                kind=EntryKind.REFUND,
                points=-clawback.debited,
                balance_after=clawback.state.balance,
                created_at=state.now,
                actor=actor.actor,
                order_id=order_id,
                refund_id=refund_id,
                amount=amount,
                funding=tuple(clawback.funding),
                shortfall=clawback.shortfall,
            )
            changed_order = replace(
                order,
                refunded=Money(refunded_after, order.total.currency),
                points_reversed=reversed_after,
                base_reversed=base_reversed,
            )

            # Points the customer paid with at checkout come back in the refund's share
            # (cumulative, like the points taken back), after the clawback.
            points, extra = clawback.state, []
            if order.reservation_id is not None:
                paid = commits.points_paid(member_snapshot, order.reservation_id)
                back = reversed_share(paid, total, refunded_after) - reversed_share(
                    paid, total, refunded
                )
                if back:
                    points, paid_back = ledger.give_back(
                        state,
                        points,
                        entry.seq + 1,
                        back,
                        by=actor.actor,
                        reference=refund_id,
                        reason=f"Paid with points, order {order_id} refunded",
                    )
                    extra.append(replace(paid_back, order_id=order_id, refund_id=refund_id))
            # A full refund gives back the uses and budget its checkout reservation held.
            returned = None
            full = refunded_after == total
            if full and order.reservation_id and state.settings.refund_returns_promotions:
                returned = commits.give_back(member_snapshot, order.reservation_id, state.now)

            def on_commit() -> None:
                count("PointsClawedBack", clawback.debited)
                count("ClawbackShortfall", clawback.shortfall)

            return Plan(
                (store.order_as_written(changed_order), entry),
                new=[
                    ledger.record(
                        keyed.record, keyed.fingerprint, entry, state.now, order_id=order_id
                    ),
                    store.entry_to_item(entry),
                    *(store.entry_to_item(e) for e in extra),
                ],
                changed=[
                    store.order_to_item(changed_order),
                    ledger.member_item(state, points, [entry, *extra], tier),
                    *([] if returned is None else [returned.write]),
                ],
                added=[] if returned is None else returned.adds,
                on_commit=on_commit,
            )

        return keyed_write(self._clock, keyed, [store.order_key(order_id)], decide, _replay)


def _replay(record: RecordItem) -> tuple[Order, Entry]:
    assert isinstance(record, IdempotencyItem)
    order = store.get_order(record.answer["order"])
    assert order is not None  # written in the same transaction as the record
    return order, ledger.recorded_entry(record)
