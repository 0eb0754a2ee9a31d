"""Reservations as items, and the counter updates that hold and give back what they hold.

A reservation item keeps the cart, its evaluation and its holds as one JSON body; while HELD
it is in the due index (RESV shards) until it expires. Holding is conditional ADDs on the
usage, member-usage and code counters (api/promotions/store.py), in the reservation's own
transaction: DynamoDB refuses the whole transaction rather than exceed a limit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from pynamodb.expressions.condition import Condition

from api.money import minor_units
from api.promotions.model import (
    Applied,
    Cart,
    EffectKind,
    Evaluation,
    Hint,
    Hold,
    Line,
    NotApplied,
    Promotion,
    Reason,
    Reservation,
    ReservationStatus,
)
from api.promotions.store import (
    CodeItem,
    MemberUsageItem,
    ReservationItem,
    UsageItem,
    code_key,
    first_order_key,
    held_key,
    member_usage_key,
    reservation_key,
    usage_key,
)
from api.store.tx import Add


def _cart_json(cart: Cart) -> dict[str, Any]:
    return {
        "currency": cart.currency,
        "lines": [[x.sku, x.quantity, x.unit_price, x.category] for x in cart.lines],
        "shipping": cart.shipping,
        "codes": list(cart.codes),
    }


def _cart(data: dict[str, Any]) -> Cart:
    return Cart(
        data["currency"],
        tuple(Line(sku, q, price, category) for sku, q, price, category in data["lines"]),
        data["shipping"],
        tuple(data["codes"]),
    )


def _evaluation_json(e: Evaluation) -> dict[str, Any]:
    return {
        "subtotal": e.subtotal,
        "discount": e.discount,
        "shipping": e.shipping,
        "shipping_discount": e.shipping_discount,
        "line_totals": list(e.line_totals),
        "bonus_points": e.bonus_points,
        "applied": [
            [a.promotion_id, a.name, a.kind.value, list(a.lines), a.shipping, a.points, a.code]
            for a in e.applied
        ],
        "not_applied": [
            [n.promotion_id, n.name, n.reason.value, n.detail, n.code] for n in e.not_applied
        ],
        "hints": [[h.promotion_id, h.name, h.missing_amount, h.missing_quantity] for h in e.hints],
    }


def _evaluation(currency: str, data: dict[str, Any]) -> Evaluation:
    return Evaluation(
        currency=currency,
        subtotal=data["subtotal"],
        discount=data["discount"],
        shipping=data["shipping"],
        shipping_discount=data["shipping_discount"],
        line_totals=tuple(data["line_totals"]),
        bonus_points=data["bonus_points"],
        applied=tuple(
            Applied(pid, name, EffectKind(kind), tuple(lines), shipping, points, code)
            for pid, name, kind, lines, shipping, points, code in data["applied"]
        ),
        not_applied=tuple(
            NotApplied(pid, name, Reason(reason), detail, code)
            for pid, name, reason, detail, code in data["not_applied"]
        ),
        hints=tuple(
            Hint(pid, name, amount, quantity) for pid, name, amount, quantity in data["hints"]
        ),
    )


# Abandoned carts (released or expired) are kept for replays of their key, then deleted by
# the table's TTL; committed ones stay with their order, which a refund may still need.
ABANDONED = (ReservationStatus.RELEASED, ReservationStatus.EXPIRED)
KEEP_ABANDONED = timedelta(days=90)


def reservation_to_item(
    r: Reservation, request_hash: str, shards: int, *, now: datetime | None = None
) -> ReservationItem:
    """While HELD, the reservation is in the due index (RESV shards) until it expires."""
    held = r.status is ReservationStatus.HELD
    item = ReservationItem(
        *reservation_key(r.id),
        request_hash=request_hash,
        reservation_id=r.id,
        member_id=r.member_id,
        status=r.status.value,
        body={
            "cart": _cart_json(r.cart),
            "evaluation": _evaluation_json(r.evaluation),
            "holds": [[h.promotion_id, h.discounted, h.code, h.per_member] for h in r.holds],
            "bonus_points": r.bonus_points,
            "base_points": r.base_points,
            "tier_multiplier": str(r.tier_multiplier),
            "slot": r.slot,
            "first_order": r.first_order,
        },
        points=r.points,
        expires_at=r.expires_at,
        order_id=r.order_id,
        created_at=r.created_at,
        updated_at=now or r.created_at,
        due_at=r.expires_at if held else None,
        due_shard=f"RESV#{int(r.id[-4:], 16) % shards}" if held else None,
        expires=(now or r.created_at) + KEEP_ABANDONED if r.status in ABANDONED else None,
    )
    if r.version is not None:
        item.version = r.version
    return item


def reservation_from_item(item: ReservationItem) -> Reservation:
    cart = _cart(item.body["cart"])
    return Reservation(
        id=item.reservation_id,
        status=ReservationStatus(item.status),
        member_id=item.member_id,
        cart=cart,
        evaluation=_evaluation(cart.currency, item.body["evaluation"]),
        holds=tuple(Hold(pid, d, code, pm) for pid, d, code, pm in item.body["holds"]),
        points=item.points,
        bonus_points=item.body["bonus_points"],
        base_points=item.body["base_points"],
        tier_multiplier=Decimal(item.body["tier_multiplier"]),
        expires_at=item.expires_at,
        created_at=item.created_at,
        order_id=item.order_id,
        version=item.version,
        slot=item.body.get("slot", False),
        first_order=item.body.get("first_order", False),
    )


def hold_adds(promotion: Promotion, hold: Hold, member_id: str | None, currency: str) -> list[Add]:
    """The counter updates that hold one promotion for a reservation, each conditioned on
    its limit: DynamoDB refuses the whole transaction rather than exceed one."""
    limits = promotion.limits
    usage_condition: Condition | None = None
    if limits.total_uses is not None:
        usage_condition = UsageItem.uses.does_not_exist() | (UsageItem.uses < limits.total_uses)
    if limits.budget is not None:
        room = int(limits.budget.scaleb(minor_units(currency))) - hold.discounted
        budget = UsageItem.discounted.does_not_exist() | (UsageItem.discounted <= room)
        usage_condition = budget if usage_condition is None else usage_condition & budget
    adds = [
        Add(
            UsageItem(*usage_key(promotion.id)),
            {"uses": 1, "discounted": hold.discounted},
            usage_condition,
        )
    ]
    if hold.per_member and member_id is not None and limits.per_member is not None:
        adds.append(
            Add(
                MemberUsageItem(*member_usage_key(promotion.id, member_id)),
                {"uses": 1},
                MemberUsageItem.uses.does_not_exist() | (MemberUsageItem.uses < limits.per_member),
            )
        )
    if hold.code is not None:
        own_limit = CodeItem.max_uses.exists() & (CodeItem.uses < CodeItem.max_uses)
        shared = CodeItem.max_uses.does_not_exist()
        if limits.per_code is not None:
            shared = shared & (CodeItem.uses < limits.per_code)
        adds.append(
            Add(
                CodeItem(*code_key(hold.code)),
                {"uses": 1},
                CodeItem.promotion_id.exists()
                & CodeItem.voided.does_not_exist()
                & (own_limit | shared),
            )
        )
    return adds


def return_adds(hold: Hold, member_id: str | None) -> list[Add]:
    """What releasing (or a full refund of) a reservation gives back of one promotion. The
    counters exist: the reservation created them, and codes are never deleted."""
    usage = UsageItem(*usage_key(hold.promotion_id))
    adds = [Add(usage, {"uses": -1, "discounted": -hold.discounted})]
    if hold.per_member and member_id is not None:
        mine = MemberUsageItem(*member_usage_key(hold.promotion_id, member_id))
        adds.append(Add(mine, {"uses": -1}))
    if hold.code is not None:
        adds.append(Add(CodeItem(*code_key(hold.code)), {"uses": -1}))
    return adds


# Reservations a member may hold at once: enough for a few open tabs, too few for one member
# to sit on a promotion's last uses (members reserve their own carts).
MAX_HELD = 3


def member_adds(r: Reservation) -> list[Add]:
    """Holding a reservation's member counters: a checkout slot, and their first order."""
    if r.member_id is None:
        return []
    adds = []
    if r.slot:
        held = MemberUsageItem(*held_key(r.member_id))
        condition = MemberUsageItem.uses.does_not_exist() | (MemberUsageItem.uses < MAX_HELD)
        adds.append(Add(held, {"uses": 1}, condition))
    if r.first_order:
        first = MemberUsageItem(*first_order_key(r.member_id))
        condition = MemberUsageItem.uses.does_not_exist() | (MemberUsageItem.uses < 1)
        adds.append(Add(first, {"uses": 1}, condition))
    return adds


def member_returns(r: Reservation, *, slot: bool, first_order: bool) -> list[Add]:
    """Giving back the member counters a reservation holds (those asked for)."""
    if r.member_id is None:
        return []
    adds = []
    if slot and r.slot:
        adds.append(Add(MemberUsageItem(*held_key(r.member_id)), {"uses": -1}))
    if first_order and r.first_order:
        adds.append(Add(MemberUsageItem(*first_order_key(r.member_id)), {"uses": -1}))
    return adds
