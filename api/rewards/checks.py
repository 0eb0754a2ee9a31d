"""Admin input for rewards, checked and normalised: typed errors naming the field."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from api import validation as v
from api.errors import InvalidInput
from api.promotions import issued
from api.promotions.model import Promotion
from api.rewards.model import RewardInput, RewardType

_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
MAX_STOCK = 10**9
MAX_LIMIT = 1000
MAX_VALIDITY_DAYS = 3660
MAX_URL = 2000


def reward_id(value: str, field: str = "id") -> str:
    if not _ID.fullmatch(value):
        raise InvalidInput(field, "1-64 lower-case letters, digits, - or _ (e.g. free-coffee).")
    return value


def image_url(value: str) -> str:
    """An absolute https URL of printable ASCII, with a host, a valid port if any, and no
    credentials (what an app may load as it is)."""
    ok = len(value) <= MAX_URL and value.isascii() and value.isprintable() and " " not in value
    if ok:
        try:
            parts = urlsplit(value)
            ok = (
                parts.scheme == "https"
                and bool(parts.hostname)
                and parts.username is None
                and parts.password is None
            )
            _ = parts.port  # ValueError when out of range or not a number
        except ValueError:
            ok = False
    if not ok:
        raise InvalidInput(
            "imageUrl", f"An https URL of at most {MAX_URL} characters, without credentials."
        )
    return value


def check(data: RewardInput, tiers: Sequence[str], live: Sequence[Promotion]) -> RewardInput:
    """The input, checked: `tiers`, the ladder's codes; `live`, the live promotions."""
    reward_id(data.id)
    name = v.text("name", data.name, 100)
    if not name.strip():
        raise InvalidInput("name", "A reward has a name.")
    description = (
        None if data.description is None else v.text("description", data.description, 2000)
    )
    url = None if data.image_url is None else image_url(data.image_url)
    v.points("pointsCost", data.points_cost)
    starts = None if data.starts_at is None else v.aware("startsAt", data.starts_at)
    ends = None if data.ends_at is None else v.aware("endsAt", data.ends_at)
    if starts is not None and ends is not None and ends <= starts:
        raise InvalidInput("endsAt", "Ends after it starts.")
    if data.min_tier is not None and data.min_tier not in tiers:
        raise InvalidInput("minTier", f"Not a tier of the program ({', '.join(tiers)}).")
    if data.stock is not None and not 0 <= data.stock <= MAX_STOCK:
        raise InvalidInput("stock", f"From 0 to {MAX_STOCK}, or none for unlimited.")
    limit = data.member_limit
    if limit is not None and not 1 <= limit.count <= MAX_LIMIT:
        raise InvalidInput("memberLimit.count", f"From 1 to {MAX_LIMIT}.")
    if data.low_stock is not None and not 0 <= data.low_stock <= MAX_STOCK:
        raise InvalidInput("lowStock", f"From 0 to {MAX_STOCK}.")
    if data.type is RewardType.DISCOUNT_CODE:
        if data.promotion_id is None:
            raise InvalidInput("promotionId", "A discount code reward issues codes of a promotion.")
        promotion = next((p for p in live if p.id == data.promotion_id), None)
        if promotion is None:
            raise InvalidInput("promotionId", "Not a live promotion.")
        issued.usable(promotion, "promotionId")
        days = data.validity_days
        if days is None or not 1 <= days <= MAX_VALIDITY_DAYS:
            raise InvalidInput(
                "validityDays", f"How long a code is valid: 1 to {MAX_VALIDITY_DAYS}."
            )
    else:
        if data.promotion_id is not None:
            raise InvalidInput("promotionId", "Only discount code rewards issue promotion codes.")
        if data.validity_days is not None:
            raise InvalidInput("validityDays", "Only discount code rewards issue codes.")
    return RewardInput(
        id=data.id,
        name=name,
        points_cost=data.points_cost,
        type=data.type,
        description=description,
        image_url=url,
        starts_at=starts,
        ends_at=ends,
        min_tier=data.min_tier,
        stock=data.stock,
        member_limit=limit,
        active=data.active,
        promotion_id=data.promotion_id,
        validity_days=data.validity_days,
        low_stock=data.low_stock,
    )
