"""Promotion items and their mapping both ways.

| item          | pk                     | sk                 |
| ------------- | ---------------------- | ------------------ |
| promotion     | PROMOS#LIVE            | P#<promotion id>   |  active and paused: one Query
| promotion     | PROMOS#ARCHIVED        | P#<promotion id>   |  archived: kept, not evaluated
| usage         | PROMO#<promotion id>   | USAGE              |  uses and money handed out
| member usage  | PROMO#<promotion id>   | MEMBER#<member id> |
| code          | CODE#<code>            | CODE               |  generic and unique codes
| code batch    | PROMO#<promotion id>   | BATCH#<batch id>   |  generation progress
| reservation   | RESV#<reservation id>  | RESV               |  its own idempotency record

Usage, member usage and codes are counters: changed with ADD under a condition that keeps
them within their limits, in the reservation's transaction, never read-modify-written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute
from pynamodb.exceptions import PutError

from api.promotions.model import (
    Activation,
    BatchStatus,
    Code,
    CodeBatch,
    Conditions,
    EarlyAccess,
    Effect,
    EffectKind,
    Limits,
    Promotion,
    Schedule,
    Spread,
    Stacking,
    Status,
    Target,
    Usage,
)
from api.store.base import IntegerAttribute, JSONAttribute, Key, RecordItem, TableItem
from api.store.reads import Snapshot, get

LIVE = "PROMOS#LIVE"
ARCHIVED = "PROMOS#ARCHIVED"
PROMO_PREFIX = "P#"


def promotion_key(promotion_id: str, *, archived: bool = False) -> Key:
    return (ARCHIVED if archived else LIVE, f"{PROMO_PREFIX}{promotion_id}")


def usage_key(promotion_id: str) -> Key:
    return (f"PROMO#{promotion_id}", "USAGE")


def member_usage_key(promotion_id: str, member_id: str) -> Key:
    return (f"PROMO#{promotion_id}", f"MEMBER#{member_id}")


def held_key(member_id: str) -> Key:
    """How many reservations a member holds (a member_uses counter)."""
    return (f"CHECKOUT#{member_id}", "HELD")


def first_order_key(member_id: str) -> Key:
    """1 once a reservation holds (or an order used) the member's first-order promotions."""
    return (f"CHECKOUT#{member_id}", "FIRST")


def code_key(code: str) -> Key:
    return (f"CODE#{code}", "CODE")


def batch_key(promotion_id: str, batch_id: str) -> Key:
    return (f"PROMO#{promotion_id}", f"BATCH#{batch_id}")


def page_key(promotion_id: str, batch_id: str, page: int) -> Key:
    return (f"PROMO#{promotion_id}", f"CODES#{batch_id}#{page:06d}")


def reservation_key(reservation_id: str) -> Key:
    return (f"RESV#{reservation_id}", "RESV")


class PromotionItem(TableItem, discriminator="promotion"):
    promotion_id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    activation = UnicodeAttribute()
    code = UnicodeAttribute(null=True)
    stacking = UnicodeAttribute()
    priority = IntegerAttribute()
    currency = UnicodeAttribute(null=True)
    rules = JSONAttribute()  # effect, conditions, schedule, limits: read together, decoded fast
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()


class UsageItem(TableItem, discriminator="promotion_usage"):
    uses = IntegerAttribute(default=0)
    discounted = IntegerAttribute(default=0)


class MemberUsageItem(TableItem, discriminator="promotion_member_usage"):
    uses = IntegerAttribute(default=0)


class CodeItem(TableItem, discriminator="promotion_code"):
    promotion_id = UnicodeAttribute()
    uses = IntegerAttribute(default=0)
    max_uses = IntegerAttribute(null=True)  # None: the promotion's per-code limit, if any
    member_id = UnicodeAttribute(null=True)
    batch_id = UnicodeAttribute(null=True)
    expires_at = UTCDateTimeAttribute(null=True)  # issued codes (api/promotions/issued.py)
    voided = IntegerAttribute(null=True)  # 1: cancelled before use


class BatchItem(RecordItem, discriminator="promotion_code_batch"):
    """Its own idempotency record: request_hash is the fingerprint of its spec."""

    batch_id = UnicodeAttribute()
    promotion_id = UnicodeAttribute()
    spec = JSONAttribute()  # prefix, length, charset, count, member ids
    generated = IntegerAttribute(default=0)
    status = UnicodeAttribute()  # BatchStatus
    error = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()


class PageItem(TableItem, discriminator="promotion_code_page"):
    """The codes one chunk of a batch generated, in order: what admins export."""

    codes = JSONAttribute()


class ReservationItem(RecordItem, discriminator="reservation"):
    """A reservation is its own idempotency record: request_hash is its cart's fingerprint."""

    reservation_id = UnicodeAttribute()
    member_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute()  # HELD, COMMITTED, RELEASED, EXPIRED
    body = JSONAttribute()  # the cart, the evaluation and what it holds
    points = IntegerAttribute(default=0)  # points held from the member's balance
    expires_at = UTCDateTimeAttribute()
    order_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()


# ---- promotions --------------------------------------------------------------------------


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def rules_to_json(p: Promotion) -> dict[str, Any]:
    e, c, s, lim = p.effect, p.conditions, p.schedule, p.limits
    return {
        "effect": {
            "kind": e.kind.value,
            "target": e.target.value,
            "percent": _str(e.percent),
            "amount": _str(e.amount),
            "spread": e.spread.value,
            "buy": e.buy,
            "get": e.get,
            "points": e.points,
            "multiplier": _str(e.multiplier),
            "cap": _str(e.cap),
        },
        "conditions": {
            "min_subtotal": _str(c.min_subtotal),
            "min_quantity": c.min_quantity,
            "skus": sorted(c.skus),
            "exclude_skus": sorted(c.exclude_skus),
            "categories": sorted(c.categories),
            "exclude_categories": sorted(c.exclude_categories),
            "min_tier": c.min_tier,
            "first_order_only": c.first_order_only,
            "currencies": sorted(c.currencies),
        },
        "schedule": {
            "starts_at": None if s.starts_at is None else s.starts_at.isoformat(),
            "ends_at": None if s.ends_at is None else s.ends_at.isoformat(),
            "early_access": [[x.tier, x.hours] for x in s.early_access],
        },
        "limits": {
            "total_uses": lim.total_uses,
            "budget": _str(lim.budget),
            "per_member": lim.per_member,
            "per_code": lim.per_code,
        },
    }


def promotion_from_item(item: PromotionItem) -> Promotion:
    rules = item.rules
    e, c, s, lim = rules["effect"], rules["conditions"], rules["schedule"], rules["limits"]
    return Promotion(
        id=item.promotion_id,
        name=item.name,
        description=item.description,
        status=Status(item.status),
        activation=Activation(item.activation),
        code=item.code,
        stacking=Stacking(item.stacking),
        priority=item.priority,
        currency=item.currency,
        effect=Effect(
            kind=EffectKind(e["kind"]),
            target=Target(e["target"]),
            percent=_dec(e["percent"]),
            amount=_dec(e["amount"]),
            spread=Spread(e["spread"]),
            buy=e["buy"],
            get=e["get"],
            points=e["points"],
            multiplier=_dec(e["multiplier"]),
            cap=_dec(e["cap"]),
        ),
        conditions=Conditions(
            min_subtotal=_dec(c["min_subtotal"]),
            min_quantity=c["min_quantity"],
            skus=frozenset(c["skus"]),
            exclude_skus=frozenset(c["exclude_skus"]),
            categories=frozenset(c["categories"]),
            exclude_categories=frozenset(c["exclude_categories"]),
            min_tier=c["min_tier"],
            first_order_only=c["first_order_only"],
            currencies=frozenset(c["currencies"]),
        ),
        schedule=Schedule(
            starts_at=_time(s["starts_at"]),
            ends_at=_time(s["ends_at"]),
            early_access=tuple(EarlyAccess(t, h) for t, h in s["early_access"]),
        ),
        limits=Limits(
            total_uses=lim["total_uses"],
            budget=_dec(lim["budget"]),
            per_member=lim["per_member"],
            per_code=lim["per_code"],
        ),
        created_at=item.created_at,
        updated_at=item.updated_at,
        version=item.version,
    )


def promotion_to_item(p: Promotion) -> PromotionItem:
    assert p.created_at is not None
    assert p.updated_at is not None
    item = PromotionItem(
        *promotion_key(p.id, archived=p.status is Status.ARCHIVED),
        promotion_id=p.id,
        name=p.name,
        description=p.description,
        status=p.status.value,
        activation=p.activation.value,
        code=p.code,
        stacking=p.stacking.value,
        priority=p.priority,
        currency=p.currency,
        rules=rules_to_json(p),
        created_at=p.created_at,
        updated_at=p.updated_at,
    )
    if p.version is not None:
        item.version = p.version
    return item


def promotions(items: Iterable[TableItem]) -> list[Promotion]:
    return [promotion_from_item(i) for i in items if isinstance(i, PromotionItem)]


def usage_from_item(item: TableItem | None) -> Usage:
    return Usage(item.uses, item.discounted) if isinstance(item, UsageItem) else Usage()


def member_uses(item: TableItem | None) -> int:
    return item.uses if isinstance(item, MemberUsageItem) else 0


def code_from_item(code: str, item: TableItem | None) -> Code:
    if not isinstance(item, CodeItem):
        return Code(code, None)
    return Code(
        code,
        item.promotion_id,
        item.uses,
        item.max_uses,
        item.member_id,
        item.expires_at,
        bool(item.voided),
    )


def code_item(code: Code, batch_id: str | None = None) -> CodeItem:
    assert code.promotion_id is not None
    return CodeItem(
        *code_key(code.code),
        promotion_id=code.promotion_id,
        uses=code.uses,
        max_uses=code.max_uses,
        member_id=code.member_id,
        batch_id=batch_id,
        expires_at=code.expires_at,
    )


def batch_from_item(item: BatchItem) -> CodeBatch:
    return CodeBatch(
        id=item.batch_id,
        promotion_id=item.promotion_id,
        count=item.spec["count"],
        generated=item.generated,
        status=BatchStatus(item.status),
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def put_new(item: TableItem) -> bool:
    """One conditional PutItem: False if an item with that key exists."""
    try:
        item.save(condition=TableItem.pk.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def code_batch_of(code: str) -> str | None:
    item = get(code_key(code), CodeItem)
    return None if item is None else item.batch_id


def page_item(batch: CodeBatch, page: int, codes: Sequence[str]) -> PageItem:
    return PageItem(*page_key(batch.promotion_id, batch.id, page), codes=list(codes))


def page_codes(snapshot: Snapshot, promotion_id: str, batch_id: str, page: int) -> list[str]:
    item = snapshot.get(page_key(promotion_id, batch_id, page), PageItem)
    return [] if item is None else list(item.codes)
