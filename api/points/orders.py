"""Orders earn points: recordOrder (idempotent on the order id) and reading an order back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from api import validation as v
from api.auth import Permission, Principal
from api.clock import Clock
from api.errors import InvalidInput
from api.idempotency import Keyed, Plan, fingerprint, keyed_write
from api.money import Money, check_currency, parse_money
from api.observability import count
from api.points import ledger, store
from api.points.lots import Lot, LotStatus, credit
from api.points.model import Entry, EntryKind, Order, OrderInput, OrderLine, OrderResult
from api.program.model import ProgramSettings
from api.program.service import ProgramService
from api.promotions import commits
from api.store.base import RecordItem
from api.store.reads import Snapshot
from api.tiers import rules as tier_rules
from api.tiers.credit import earning, multiplier, order_credit
from api.tiers.model import Occasion

MAX_LINES = 200
# Orders dated a little ahead of our clock are clock skew; further ahead is a mistake. Old
# orders may be imported, within reason.
FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_ORDER_AGE = timedelta(days=3660)


class OrderService:
    def __init__(self, clock: Clock, program: ProgramService) -> None:
        self._clock = clock
        self._program = program

    def record_order(self, actor: Principal, data: OrderInput) -> OrderResult:
        actor.require(Permission.RECORD_ORDER)
        order_id = v.external_id("orderId", data.order_id)
        member_id = v.member_ref(data.member_id, data.customer_id)
        total = parse_money("total", data.total_amount, data.currency, positive=False)
        placed_at = v.aware("placedAt", data.placed_at)
        lines = check_lines(data.lines, total.currency)
        keyed = Keyed(
            store.order_key(order_id),
            fingerprint(
                {
                    "order": order_id,
                    "member": member_id,
                    "total": str(total),
                    "placedAt": placed_at.isoformat(),
                    "lines": [
                        [ln.sku, ln.quantity, str(ln.unit_price), ln.category] for ln in lines
                    ],
                    "reservation": data.reservation_id,
                }
            ),
            "orderId",
        )

        def decide(snapshot: Snapshot) -> Plan[OrderResult]:
            state = ledger.state(snapshot, member_id, self._program)
            now, settings, member = state.now, state.settings, state.member
            check_currency("total.currency", total.currency, settings.accepted_currencies)
            if placed_at > now + FUTURE_TOLERANCE:
                raise InvalidInput("placedAt", "The order cannot be placed in the future.")
            if placed_at < now - MAX_ORDER_AGE:
                raise InvalidInput("placedAt", "The order is more than 10 years old.")
            # The multiplier of the tier the member holds when the order is recorded.
            earned = earning(settings.earning_rule, total, multiplier(member.tier, state.tiers))
            seq = member.next_seq
            points = member.points
            lot = None
            if earned.points:
                lot = order_lot(f"{member_id}-{seq}", earned.points, placed_at, settings, now)
                lot = replace(lot, order_id=order_id)
                points = credit(points, lot)
            entry = Entry(
                member_id=member_id,
                seq=seq,
                kind=EntryKind.EARN,
                points=earned.points,
                balance_after=points.balance,
                created_at=now,
                actor=actor.actor,
                order_id=order_id,
                amount=total,
                lot=lot,
                base_points=earned.base,
                multiplier=earned.multiplier,
            )
            # Upgrade at once: in this transaction, through every tier the order reaches.
            tier, steps = tier_rules.on_order(
                member.tier,
                state.tiers,
                Occasion(member_id, now, actor.actor, order_id),
                placed_at.date(),
                order_credit(earned.base, total),
            )
            claimed = None
            extra: list[Entry] = []
            if data.reservation_id is not None:
                # Its promotions' points become this order's, in a lot of their own that
                # activates with the order's (and refunds take back their share).
                claimed = commits.claim(
                    snapshot,
                    data.reservation_id,
                    member_id,
                    order_id,
                    currency=total.currency,
                    now=now,
                    orders=member.tier.lifetime.orders,
                )
                bonus = claimed.reservation.bonus_points
                if bonus:
                    promo_lot = order_lot(f"{member_id}-{seq + 1}", bonus, placed_at, settings, now)
                    promo_lot = replace(promo_lot, order_id=order_id)
                    points = credit(points, promo_lot)
                    names = [a.name for a in claimed.reservation.evaluation.applied if a.points]
                    extra.append(
                        Entry(
                            member_id=member_id,
                            seq=seq + 1,
                            kind=EntryKind.PROMOTION,
                            points=bonus,
                            balance_after=points.balance,
                            created_at=now,
                            actor=actor.actor,
                            order_id=order_id,
                            reference=claimed.reservation.id,
                            reason=", ".join(names),
                            lot=promo_lot,
                        )
                    )
            points, bonuses = ledger.tier_bonuses(
                state, points, steps, seq + 1 + len(extra), actor.actor
            )
            order = Order(
                order_id=order_id,
                member_id=member_id,
                total=total,
                placed_at=placed_at,
                points_earned=earned.points + sum(e.points for e in extra),
                points_reversed=0,
                refunded=Money(total.amount * 0, total.currency),
                lot_id=None if lot is None else lot.id,
                lines=tuple(lines),
                reservation_id=None if claimed is None else claimed.reservation.id,
                promotion_points=sum(e.points for e in extra),
                base_points=earned.base,
                multiplier=earned.multiplier,
                entry_seq=seq,
                fingerprint=keyed.fingerprint,
                created_at=now,
            )

            def on_commit() -> None:
                count("OrdersRecorded")
                count("PointsEarned", earned.points)
                count("TierUpgrades", len(steps))

            entries = [entry, *extra, *bonuses]
            return Plan(
                OrderResult(store.order_as_written(order), entry),
                new=[
                    store.order_to_item(order),
                    *(store.entry_to_item(e) for e in entries),
                    *ledger.tier_items(steps),
                ],
                changed=[
                    ledger.member_item(state, points, entries, tier),
                    *([] if claimed is None else [claimed.write]),
                ],
                added=[] if claimed is None else claimed.adds,
                on_commit=on_commit,
            )

        reads = ledger.reads(member_id)
        if data.reservation_id is not None:
            reads.append(commits.reservation_key(data.reservation_id))
        return keyed_write(self._clock, keyed, reads, decide, _replay_order)

    def get_order(self, actor: Principal, order_id: str) -> Order | None:
        """An order as recorded: what it earned, what refunds took back, what is refundable."""
        actor.require(Permission.READ_ORDERS)
        return store.get_order(v.external_id("orderId", order_id))


def _replay_order(record: RecordItem) -> OrderResult:
    assert isinstance(record, store.OrderItem)
    order = store.order_from_item(record)
    return OrderResult(order, store.get_entry(order.member_id, order.entry_seq))


def order_lot(
    lot_id: str, points: int, placed_at: datetime, settings: ProgramSettings, now: datetime
) -> Lot:
    """Points of an order: pending through its return window, then valid as the program
    says."""
    activates_at = placed_at + settings.return_window
    validity = settings.lot_validity
    return Lot(
        id=lot_id,
        points=points,
        remaining=points,
        activates_at=activates_at,
        expires_at=None if validity is None else activates_at + validity,
        status=LotStatus.PENDING if activates_at > now else LotStatus.ACTIVE,
    )


def check_lines(lines: Sequence[OrderLine], currency: str) -> list[OrderLine]:
    if len(lines) > MAX_LINES:
        raise InvalidInput("lines", f"At most {MAX_LINES} lines per order.")
    checked = []
    for i, line in enumerate(lines):
        field = f"lines[{i}]"
        if not 1 <= line.quantity <= 100_000:
            raise InvalidInput(f"{field}.quantity", "Must be between 1 and 100000.")
        price = parse_money(f"{field}.unitPrice", line.unit_price, currency, positive=False)
        checked.append(
            OrderLine(
                sku=v.external_id(f"{field}.sku", line.sku),
                quantity=line.quantity,
                unit_price=price.amount,
                category=None
                if line.category is None
                else v.text(f"{field}.category", line.category, 100),
            )
        )
    return checked
