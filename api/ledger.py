"""The points ledger: orders, refunds, redemptions and adjustments.

Every change is one immutable entry written in the same transaction as the member's new state
(balance, lots) under the member's version, so entries are strictly ordered and
`balance_after` is exact. The first answer to a keyed request (order id, refund id,
idempotency key) is kept; a replay reads it back, a different payload with the same key is
refused. Reads that a decision needs are one BatchGetItem; the write is one transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum
from typing import Any, TypeVar

from api import validation as v
from api.auth import Permission, Principal
from api.clock import Clock
from api.config import Config
from api.errors import (
    ErrorCode,
    Forbidden,
    IdempotencyConflict,
    InsufficientPoints,
    InvalidInput,
    MemberNotFound,
    OrderNotFound,
    RefundExceedsOrder,
)
from api.lots import Funding, Lot, LotStatus, PointsState, claw_back, credit, debit
from api.money import Money, check_currency, parse_money
from api.observability import count
from api.program import (
    PROGRAM_KEY,
    NegativeBalancePolicy,
    ProgramService,
    ProgramSettings,
    settings_from_item,
)
from api.store import reads
from api.store.models import (
    DUE_SHARDS,
    EntryItem,
    IdempotencyItem,
    LineAttribute,
    MemberItem,
    OrderItem,
    ProgramItem,
    TableItem,
    entry_sk,
    idempotency_pk,
    member_pk,
    order_pk,
    refund_pk,
)
from api.store.tx import Cancelled, Retry, Transaction, with_retries

MAX_LINES = 200
# Orders dated a little ahead of our clock are clock skew; further ahead is a mistake. Old
# orders may be imported, within reason.
FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_ORDER_AGE = timedelta(days=3660)


class EntryKind(StrEnum):
    EARN = "EARN"  # an order's points (a new lot)
    REFUND = "REFUND"  # a refund's clawback
    REDEEM = "REDEEM"  # points spent
    ADJUST = "ADJUST"  # an admin's correction, + or -
    EXPIRE = "EXPIRE"  # lots that reached their expiry


@dataclass(frozen=True)
class Entry:
    member_id: str
    seq: int
    kind: EntryKind
    points: int
    balance_after: int
    created_at: datetime
    actor: str
    order_id: str | None = None
    refund_id: str | None = None
    reference: str | None = None
    reason: str | None = None
    amount: Money | None = None
    lot: Lot | None = None
    funding: tuple[Funding, ...] = ()
    shortfall: int = 0

    @property
    def id(self) -> str:
        return f"{self.member_id}-{self.seq}"


@dataclass(frozen=True)
class OrderLine:
    sku: str
    quantity: int
    unit_price: Decimal
    category: str | None = None


@dataclass(frozen=True)
class Order:
    order_id: str
    member_id: str
    total: Money
    placed_at: datetime
    points_earned: int
    points_reversed: int
    refunded: Money
    lot_id: str | None
    lines: tuple[OrderLine, ...] = ()


@dataclass(frozen=True)
class OrderResult:
    order: Order
    entry: Entry


@dataclass(frozen=True)
class OrderInput:
    order_id: str
    total_amount: Decimal
    currency: str
    placed_at: datetime
    member_id: str | None = None
    customer_id: str | None = None
    lines: Sequence[OrderLine] = ()


@dataclass(frozen=True)
class RefundInput:
    refund_id: str
    order_id: str
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class RedeemInput:
    points: int
    reference: str
    idempotency_key: str
    member_id: str | None = None
    customer_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class AdjustInput:
    points: int
    reason: str
    idempotency_key: str
    member_id: str | None = None
    customer_id: str | None = None


# ---- item <-> domain ----------------------------------------------------------------------


def points_state(member: MemberItem) -> PointsState:
    return PointsState(lots=member.lots, debt=member.debt)


def store_points_state(member: MemberItem, state: PointsState) -> None:
    member.lots = state.lots
    member.debt = state.debt
    member.balance = state.balance
    due = state.due_at()
    member.due_at = due
    # Member ids are hashes, so their last characters spread members evenly over the shards.
    member.due_shard = None if due is None else f"DUE#{int(member.member_id[-4:], 16) % DUE_SHARDS}"


def entry_from_item(item: EntryItem) -> Entry:
    return Entry(
        member_id=item.member_id,
        seq=item.seq,
        kind=EntryKind(item.kind),
        points=item.points,
        balance_after=item.balance_after,
        created_at=item.created_at,
        actor=item.actor,
        order_id=item.order_id,
        refund_id=item.refund_id,
        reference=item.reference,
        reason=item.reason,
        amount=None
        if item.amount is None or item.currency is None
        else Money(Decimal(item.amount), item.currency),
        lot=item.lot,
        funding=item.funding,
        shortfall=item.shortfall,
    )


def entry_to_item(entry: Entry) -> EntryItem:
    return EntryItem(
        member_pk(entry.member_id),
        entry_sk(entry.seq),
        member_id=entry.member_id,
        seq=entry.seq,
        kind=entry.kind.value,
        points=entry.points,
        balance_after=entry.balance_after,
        created_at=entry.created_at,
        actor=entry.actor,
        order_id=entry.order_id,
        refund_id=entry.refund_id,
        reference=entry.reference,
        reason=entry.reason,
        amount=None if entry.amount is None else str(entry.amount.amount),
        currency=None if entry.amount is None else entry.amount.currency,
        lot=entry.lot,
        funding=entry.funding,
        shortfall=entry.shortfall,
    )


def order_from_item(item: OrderItem) -> Order:
    return Order(
        order_id=item.order_id,
        member_id=item.member_id,
        total=Money(Decimal(item.total), item.currency),
        placed_at=item.placed_at,
        points_earned=item.points_earned,
        points_reversed=item.points_reversed,
        refunded=Money(Decimal(item.refunded), item.currency),
        lot_id=item.lot_id,
        lines=tuple(
            OrderLine(line.sku, line.quantity, Decimal(line.unit_price), line.category)
            for line in item.lines
        ),
    )


def metric_name(entry: Entry) -> str:
    if entry.kind is EntryKind.REDEEM:
        return "PointsRedeemed"
    return "AdjustmentCredits" if entry.points > 0 else "AdjustmentDebits"


def request_hash(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


M = TypeVar("M", bound=TableItem)


class Found:
    """The items one strongly consistent BatchGetItem returned, always with the settings."""

    def __init__(self, *keys: tuple[str, str]) -> None:
        self._items = reads.get_many([PROGRAM_KEY, *keys])

    def get(self, key: tuple[str, str], model: type[M]) -> M | None:
        item = self._items.get(key)
        return item if isinstance(item, model) else None

    @property
    def settings(self) -> ProgramSettings:
        return settings_from_item(self.get(PROGRAM_KEY, ProgramItem))


def _member_key(member_id: str) -> tuple[str, str]:
    return (member_pk(member_id), "PROFILE")


class LedgerService:
    def __init__(self, config: Config, clock: Clock, program: ProgramService) -> None:
        self._config = config
        self._clock = clock
        self._program = program

    # ---- orders ---------------------------------------------------------------------------

    def record_order(self, actor: Principal, data: OrderInput) -> OrderResult:
        actor.require(Permission.RECORD_ORDER)
        order_id = v.external_id("orderId", data.order_id)
        member_id = v.member_ref(data.member_id, data.customer_id)
        total_money = parse_money("total", data.total_amount, data.currency, positive=False)
        placed_at = v.aware("placedAt", data.placed_at)
        lines = self._check_lines(data.lines, total_money.currency)
        fingerprint = request_hash(
            {
                "order": order_id,
                "member": member_id,
                "total": str(total_money),
                "placedAt": placed_at.isoformat(),
                "lines": [[ln.sku, ln.quantity, str(ln.unit_price), ln.category] for ln in lines],
            }
        )

        def attempt() -> OrderResult:
            found = Found(_member_key(member_id), (order_pk(order_id), "ORDER"))
            existing = found.get((order_pk(order_id), "ORDER"), OrderItem)
            if existing is not None:
                return self._replay_order(existing, fingerprint)
            member = found.get(_member_key(member_id), MemberItem)
            if member is None:
                raise MemberNotFound()
            settings = found.settings
            now = self._program.now(settings)
            check_currency("total.currency", total_money.currency, settings.accepted_currencies)
            if placed_at > now + FUTURE_TOLERANCE:
                raise InvalidInput("placedAt", "The order cannot be placed in the future.")
            if placed_at < now - MAX_ORDER_AGE:
                raise InvalidInput("placedAt", "The order is more than 10 years old.")
            points = settings.earning_rule.points_for(total_money)
            seq = int(member.version) + 1
            state = points_state(member)
            lot = None
            if points:
                activates_at = placed_at + settings.return_window
                validity = settings.lot_validity
                lot = Lot(
                    id=f"{member_id}-{seq}",
                    points=points,
                    remaining=points,
                    activates_at=activates_at,
                    expires_at=None if validity is None else activates_at + validity,
                    status=LotStatus.PENDING if activates_at > now else LotStatus.ACTIVE,
                    order_id=order_id,
                )
                state = credit(state, lot)
            entry = Entry(
                member_id=member_id,
                seq=seq,
                kind=EntryKind.EARN,
                points=points,
                balance_after=state.balance,
                created_at=now,
                actor=actor.actor,
                order_id=order_id,
                amount=total_money,
                lot=lot,
            )
            order = OrderItem(
                order_pk(order_id),
                "ORDER",
                order_id=order_id,
                member_id=member_id,
                total=str(total_money.amount),
                currency=total_money.currency,
                placed_at=placed_at,
                lines=[
                    LineAttribute(
                        sku=ln.sku,
                        quantity=ln.quantity,
                        unit_price=str(ln.unit_price),
                        category=ln.category,
                    )
                    for ln in lines
                ],
                request_hash=fingerprint,
                points_earned=points,
                lot_id=None if lot is None else lot.id,
                entry_seq=seq,
                refunded="0",
                points_reversed=0,
                created_at=now,
            )
            store_points_state(member, state)
            member.updated_at = now
            tx = Transaction()
            tx.put_new(order)
            tx.put(member)
            tx.put_new(entry_to_item(entry))
            try:
                tx.commit()
            except Cancelled as exc:
                if exc.failed(order):
                    return self._replay_order(self._get_order(order_id), fingerprint)
                raise Retry() from exc
            count("OrdersRecorded")
            count("PointsEarned", points)
            return OrderResult(order_from_item(order), entry)

        return with_retries(self._clock, attempt)

    def _check_lines(self, lines: Sequence[OrderLine], currency: str) -> list[OrderLine]:
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

    def _get_order(self, order_id: str) -> OrderItem:
        try:
            return OrderItem.get(order_pk(order_id), "ORDER", consistent_read=True)
        except OrderItem.DoesNotExist as exc:
            raise Retry() from exc

    def _replay_order(self, order: OrderItem, fingerprint: str) -> OrderResult:
        if order.request_hash != fingerprint:
            raise IdempotencyConflict("orderId")
        entry = self._get_entry(order.member_id, order.entry_seq)
        return OrderResult(order_from_item(order), entry)

    def _get_entry(self, member_id: str, seq: int) -> Entry:
        item = EntryItem.get(member_pk(member_id), entry_sk(seq), consistent_read=True)
        return entry_from_item(item)

    def get_order(self, actor: Principal, order_id: str) -> Order | None:
        """An order as recorded: what it earned, what refunds took back, what is refundable."""
        actor.require(Permission.READ_ORDERS)
        v.external_id("orderId", order_id)
        try:
            return order_from_item(OrderItem.get(order_pk(order_id), "ORDER", consistent_read=True))
        except OrderItem.DoesNotExist:
            return None

    # ---- refunds --------------------------------------------------------------------------

    def refund_order(self, actor: Principal, data: RefundInput) -> tuple[Order, Entry]:
        actor.require(Permission.REFUND_ORDER)
        refund_id = v.external_id("refundId", data.refund_id)
        order_id = v.external_id("orderId", data.order_id)
        amount = parse_money("amount", data.amount, data.currency, positive=True)
        fingerprint = request_hash({"refund": refund_id, "order": order_id, "amount": str(amount)})
        refund_key = (refund_pk(refund_id), "REFUND")
        order_key = (order_pk(order_id), "ORDER")

        def attempt() -> tuple[Order, Entry]:
            found = Found(order_key, refund_key)
            record = found.get(refund_key, IdempotencyItem)
            if record is not None:
                return self._replay_refund(record, fingerprint)
            order = found.get(order_key, OrderItem)
            if order is None:
                raise OrderNotFound()
            if amount.currency != order.currency:
                raise InvalidInput(
                    "amount.currency",
                    f"The order was paid in {order.currency}.",
                    ErrorCode.CURRENCY_MISMATCH,
                )
            order_total, refunded = Decimal(order.total), Decimal(order.refunded)
            if refunded + amount.amount > order_total:
                raise RefundExceedsOrder(str(order_total - refunded), order.currency)
            settings = found.settings
            now = self._program.now(settings)
            try:
                member = MemberItem.get(*_member_key(order.member_id), consistent_read=True)
            except MemberItem.DoesNotExist as exc:
                raise MemberNotFound() from exc
            # Cumulative share, so partial refunds add up to exactly what the order earned.
            refunded_after = refunded + amount.amount
            earned = order.points_earned
            reversed_after = (
                earned
                if refunded_after == order_total
                else int(
                    (Decimal(earned) * refunded_after / order_total).to_integral_value(ROUND_FLOOR)
                )
            )
            points = reversed_after - order.points_reversed
            clawback = claw_back(
                points_state(member),
                points,
                now,
                order.lot_id,
                allow_negative=(
                    settings.negative_balance_policy is NegativeBalancePolicy.ALLOW_NEGATIVE
                ),
            )
            seq = int(member.version) + 1
            entry = Entry(
                member_id=order.member_id,
                seq=seq,
                kind=EntryKind.REFUND,
                points=-clawback.debited,
                balance_after=clawback.state.balance,
                created_at=now,
                actor=actor.actor,
                order_id=order_id,
                refund_id=refund_id,
                amount=amount,
                funding=tuple(clawback.funding),
                shortfall=clawback.shortfall,
            )
            order.refunded = str(refunded_after)
            order.points_reversed = reversed_after
            store_points_state(member, clawback.state)
            member.updated_at = now
            record = IdempotencyItem(
                *refund_key,
                request_hash=fingerprint,
                member_id=order.member_id,
                entry_seq=seq,
                order_id=order_id,
                created_at=now,
            )
            tx = Transaction()
            tx.put_new(record)
            tx.put(order)
            tx.put(member)
            tx.put_new(entry_to_item(entry))
            try:
                tx.commit()
            except Cancelled as exc:
                if exc.failed(record):
                    return self._replay_refund(self._get_record(refund_key), fingerprint)
                raise Retry() from exc
            count("PointsClawedBack", clawback.debited)
            count("ClawbackShortfall", clawback.shortfall)
            return order_from_item(order), entry

        return with_retries(self._clock, attempt)

    def _replay_refund(self, record: IdempotencyItem, fingerprint: str) -> tuple[Order, Entry]:
        if record.request_hash != fingerprint:
            raise IdempotencyConflict("refundId")
        assert record.order_id is not None
        order = self._get_order(record.order_id)
        return order_from_item(order), self._get_entry(record.member_id, record.entry_seq)

    def _get_record(self, key: tuple[str, str]) -> IdempotencyItem:
        try:
            return IdempotencyItem.get(*key, consistent_read=True)
        except IdempotencyItem.DoesNotExist as exc:
            raise Retry() from exc

    def _replay_keyed(self, record: IdempotencyItem, fingerprint: str) -> Entry:
        if record.request_hash != fingerprint:
            raise IdempotencyConflict("idempotencyKey")
        return self._get_entry(record.member_id, record.entry_seq)

    # ---- redemptions and adjustments ------------------------------------------------------

    def redeem(self, actor: Principal, data: RedeemInput) -> Entry:
        member_id = self._redeeming_member(actor, data)
        points = v.points("points", data.points)
        reference = v.external_id("reference", data.reference)
        key = v.external_id("idempotencyKey", data.idempotency_key)
        reason = None if data.reason is None else v.text("reason", data.reason, 500)
        fingerprint = request_hash({"points": points, "reference": reference, "reason": reason})

        def change(
            state: PointsState, now: datetime, _: ProgramSettings, seq: int
        ) -> tuple[PointsState, Entry]:
            result = debit(state, points, now, include_pending=False)
            if result is None:
                raise InsufficientPoints(points, state.available(now))
            new_state, funding = result
            return new_state, Entry(
                member_id=member_id,
                seq=seq,
                kind=EntryKind.REDEEM,
                points=-points,
                balance_after=new_state.balance,
                created_at=now,
                actor=actor.actor,
                reference=reference,
                reason=reason,
                funding=tuple(funding),
            )

        return self._keyed_change("REDEEM", member_id, key, fingerprint, change)

    def _redeeming_member(self, actor: Principal, data: RedeemInput) -> str:
        if data.member_id is None and data.customer_id is None:
            actor.require(Permission.REDEEM_OWN_POINTS)
            assert actor.member_id is not None
            return actor.member_id
        if actor.member_id is None:
            actor.require(Permission.REDEEM_ANY_POINTS)
        member_id = v.member_ref(data.member_id, data.customer_id)
        if actor.member_id is not None and member_id != actor.member_id:
            raise Forbidden()  # a member spends only their own points
        return member_id

    def adjust(self, actor: Principal, data: AdjustInput) -> Entry:
        actor.require(Permission.ADJUST_POINTS)
        member_id = v.member_ref(data.member_id, data.customer_id)
        points = v.points("points", data.points, signed=True)
        reason = v.text("reason", data.reason, 500)
        key = v.external_id("idempotencyKey", data.idempotency_key)
        fingerprint = request_hash({"points": points, "reason": reason})

        def change(
            state: PointsState, now: datetime, settings: ProgramSettings, seq: int
        ) -> tuple[PointsState, Entry]:
            lot = None
            funding: list[Funding] = []
            if points > 0:
                validity = settings.lot_validity
                lot = Lot(
                    id=f"{member_id}-{seq}",
                    points=points,
                    remaining=points,
                    activates_at=now,
                    expires_at=None if validity is None else now + validity,
                    status=LotStatus.ACTIVE,
                )
                new_state = credit(state, lot)
            else:
                result = debit(state, -points, now, include_pending=True)
                if result is None:
                    raise InsufficientPoints(-points, state.available(now) + state.pending(now))
                new_state, funding = result
            return new_state, Entry(
                member_id=member_id,
                seq=seq,
                kind=EntryKind.ADJUST,
                points=points,
                balance_after=new_state.balance,
                created_at=now,
                actor=actor.actor,
                reason=reason,
                lot=lot,
                funding=tuple(funding),
            )

        return self._keyed_change("ADJUST", member_id, key, fingerprint, change)

    def _keyed_change(
        self,
        operation: str,
        member_id: str,
        key: str,
        fingerprint: str,
        change: Callable[[PointsState, datetime, ProgramSettings, int], tuple[PointsState, Entry]],
    ) -> Entry:
        """A redemption or adjustment: the idempotency record, the member and the entry."""
        record_key = (idempotency_pk(operation, member_id, key), "IDEM")

        def attempt() -> Entry:
            found = Found(_member_key(member_id), record_key)
            record = found.get(record_key, IdempotencyItem)
            if record is not None:
                return self._replay_keyed(record, fingerprint)
            member = found.get(_member_key(member_id), MemberItem)
            if member is None:
                raise MemberNotFound()
            settings = found.settings
            now = self._program.now(settings)
            state, entry = change(points_state(member), now, settings, int(member.version) + 1)
            store_points_state(member, state)
            member.updated_at = now
            record = IdempotencyItem(
                *record_key,
                request_hash=fingerprint,
                member_id=member_id,
                entry_seq=entry.seq,
                created_at=now,
                expires=now + timedelta(days=self._config.idempotency_days),
            )
            tx = Transaction()
            tx.put_new(record)
            tx.put(member)
            tx.put_new(entry_to_item(entry))
            try:
                tx.commit()
            except Cancelled as exc:
                if exc.failed(record):
                    return self._replay_keyed(self._get_record(record_key), fingerprint)
                raise Retry() from exc
            count(metric_name(entry), abs(entry.points))
            return entry

        return with_retries(self._clock, attempt)
