"""Checking an admin's promotion: every broken rule is an InvalidInput naming its field."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from api import validation as v
from api.errors import InvalidInput
from api.money import iso_currency, minor_units
from api.promotions.codes import normalise
from api.promotions.model import (
    Activation,
    Conditions,
    Effect,
    EffectKind,
    Limits,
    PromotionInput,
    Schedule,
    Spread,
    Target,
)

_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
MAX_ITEMS = 500  # SKUs or categories in one condition
MAX_PRIORITY = 1000
MAX_EARLY_HOURS = 24 * 30
MAX_MONEY = Decimal(10) ** 9
MAX_MULTIPLIER = 10  # a points multiplier: more than 1, at most this, 2 decimal places


def promotion_id(value: str, field: str = "id") -> str:
    if not _ID.fullmatch(value):
        raise InvalidInput(field, "1-64 lower-case letters, digits, - or _ (e.g. summer-10).")
    return value


def _finite(value: Decimal) -> bool:
    try:
        return value.is_finite()
    except (AttributeError, InvalidOperation):
        return False


def _money(field: str, value: Decimal | None, currency: str | None) -> Decimal | None:
    if value is None:
        return None
    if currency is None:
        raise InvalidInput("currency", f"{field} is an amount of money: give the currency.")
    places = minor_units(currency)
    exponent = value.normalize().as_tuple().exponent if _finite(value) else 0
    if not _finite(value) or not 0 < value <= MAX_MONEY:
        raise InvalidInput(field, f"Must be more than 0 and at most {MAX_MONEY}.")
    if isinstance(exponent, int) and -exponent > places:
        raise InvalidInput(field, f"{currency} amounts have at most {places} decimal places.")
    return value


def _places(field: str, value: Decimal, places: int = 2) -> Decimal:
    """The value, when it has at most `places` decimal places (trailing zeros aside)."""
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -places:
        raise InvalidInput(field, f"At most {places} decimal places.")
    return value


def _percent(field: str, value: Decimal | None) -> Decimal:
    if value is None or not _finite(value) or not 0 < value <= 100:
        raise InvalidInput(field, "A percentage more than 0 and at most 100.")
    return _places(field, value)


def _count(field: str, value: int | None, low: int = 1, high: int = 10**9) -> int | None:
    if value is not None and not low <= value <= high:
        raise InvalidInput(field, f"Must be from {low} to {high}.")
    return value


def _effect(e: Effect, currency: str | None) -> Effect:
    kind = e.kind
    if kind is EffectKind.PERCENT_OFF:
        e = replace(e, percent=_percent("effect.percent", e.percent))
    elif kind is EffectKind.AMOUNT_OFF:
        if e.amount is None:
            raise InvalidInput("effect.amount", "Give the amount off.")
        e = replace(e, amount=_money("effect.amount", e.amount, currency))
    elif kind is EffectKind.BUY_X_GET_Y:
        _count("effect.buy", e.buy, 1, 100)
        _count("effect.get", e.get, 1, 100)
        if e.percent is not None:
            _percent("effect.percent", e.percent)
        if e.target is not Target.LINES:
            raise InvalidInput("effect.target", "Buy X get Y applies to LINES.")
    elif kind is EffectKind.BONUS_POINTS:
        _count("effect.points", e.points, 1, v.MAX_POINTS)
    elif kind is EffectKind.POINTS_MULTIPLIER:
        m = e.multiplier
        if m is None or not _finite(m) or not 1 < m <= MAX_MULTIPLIER:
            raise InvalidInput("effect.multiplier", f"More than 1 and at most {MAX_MULTIPLIER}.")
        _places("effect.multiplier", m)
    if kind is EffectKind.FREE_SHIPPING and e.target is not Target.SHIPPING:
        e = replace(e, target=Target.SHIPPING)
    if kind in (EffectKind.BONUS_POINTS,) and e.target is Target.SHIPPING:
        raise InvalidInput("effect.target", "Bonus points have no target.")
    if e.spread is Spread.EACH and not (kind is EffectKind.AMOUNT_OFF and e.target is Target.LINES):
        raise InvalidInput("effect.spread", "EACH is for an amount off LINES.")
    return replace(e, cap=_money("effect.cap", e.cap, currency))


def _names(field: str, values: Collection[str]) -> frozenset[str]:
    if len(values) > MAX_ITEMS:
        raise InvalidInput(field, f"At most {MAX_ITEMS}.")
    return frozenset(v.external_id(f"{field}[{i}]", x) for i, x in enumerate(values))


def _conditions(c: Conditions, currency: str | None, tiers: Collection[str]) -> Conditions:
    if c.min_tier is not None and c.min_tier not in tiers:
        raise InvalidInput("conditions.minTier", f"No tier {c.min_tier[:40]!r} in the ladder.")
    categories = frozenset(
        v.text(f"conditions.categories[{i}]", x, 100) for i, x in enumerate(c.categories)
    )
    excluded = frozenset(
        v.text(f"conditions.excludeCategories[{i}]", x, 100)
        for i, x in enumerate(c.exclude_categories)
    )
    if len(categories) > MAX_ITEMS or len(excluded) > MAX_ITEMS:
        raise InvalidInput("conditions.categories", f"At most {MAX_ITEMS}.")
    currencies = frozenset(
        iso_currency(f"conditions.currencies[{i}]", x) for i, x in enumerate(c.currencies)
    )
    if currency is not None and currencies and currencies != {currency}:
        raise InvalidInput("conditions.currencies", f"Amounts are in {currency}: only {currency}.")
    skus = _names("conditions.skus", c.skus)
    exclude_skus = _names("conditions.excludeSkus", c.exclude_skus)
    # Included and excluded at once is a mistake, not a rule to resolve silently.
    if both := sorted(skus & exclude_skus):
        raise InvalidInput("conditions.excludeSkus", f"Also included: {', '.join(both[:5])}.")
    if both := sorted(categories & excluded):
        raise InvalidInput("conditions.excludeCategories", f"Also included: {', '.join(both[:5])}.")
    return replace(
        c,
        min_subtotal=_money("conditions.minSubtotal", c.min_subtotal, currency),
        min_quantity=_count("conditions.minQuantity", c.min_quantity, 0, 10_000) or 0,
        skus=skus,
        exclude_skus=exclude_skus,
        categories=categories,
        exclude_categories=excluded,
        currencies=currencies,
    )


def _schedule(s: Schedule, tiers: Collection[str]) -> Schedule:
    starts = None if s.starts_at is None else v.aware("schedule.startsAt", s.starts_at)
    ends = None if s.ends_at is None else v.aware("schedule.endsAt", s.ends_at)
    if starts is not None and ends is not None and ends <= starts:
        raise InvalidInput("schedule.endsAt", "Must be after startsAt.")
    if s.early_access and starts is None:
        raise InvalidInput("schedule.earlyAccess", "Early access needs a start.")
    seen: set[str] = set()
    for i, early in enumerate(s.early_access):
        if early.tier not in tiers:
            raise InvalidInput(f"schedule.earlyAccess[{i}].tier", "No such tier in the ladder.")
        if early.tier in seen:
            raise InvalidInput(f"schedule.earlyAccess[{i}].tier", "Each tier at most once.")
        seen.add(early.tier)
        _count(f"schedule.earlyAccess[{i}].hours", early.hours, 1, MAX_EARLY_HOURS)
        if (
            starts is not None
            and ends is not None
            and starts - timedelta(hours=early.hours) >= ends
        ):
            raise InvalidInput(f"schedule.earlyAccess[{i}].hours", "Opens after the end.")
    return Schedule(starts, ends, s.early_access)


def _limits(lim: Limits, currency: str | None, activation: Activation) -> Limits:
    if lim.per_code is not None and activation is not Activation.CODE:
        raise InvalidInput("limits.perCode", "Only code promotions have codes.")
    return Limits(
        total_uses=_count("limits.totalUses", lim.total_uses),
        budget=_money("limits.budget", lim.budget, currency),
        per_member=_count("limits.perMember", lim.per_member),
        per_code=_count("limits.perCode", lim.per_code),
    )


def check(
    data: PromotionInput, tiers: Collection[str], accepted: Collection[str]
) -> PromotionInput:
    """The input, checked and normalised. `tiers`: the ladder's codes; `accepted`: the
    program's currencies."""
    pid = promotion_id(data.id)
    currency = None
    if data.currency is not None:
        currency = iso_currency("currency", data.currency)
        if currency not in accepted:
            raise InvalidInput("currency", f"The program does not accept {currency}.")
    name = v.text("name", data.name, 100)
    description = (
        None if data.description is None else v.text("description", data.description, 1000)
    )
    code = None
    if data.activation is Activation.CODE:
        code = None if data.code is None else normalise("code", data.code)
    elif data.code is not None:
        raise InvalidInput("code", "An AUTOMATIC promotion has no code; use activation CODE.")
    if not -MAX_PRIORITY <= data.priority <= MAX_PRIORITY:
        raise InvalidInput("priority", f"From -{MAX_PRIORITY} to {MAX_PRIORITY}.")
    return replace(
        data,
        id=pid,
        name=name,
        description=description,
        code=code,
        currency=currency,
        effect=_effect(data.effect, currency),
        conditions=_conditions(data.conditions, currency, tiers),
        schedule=_schedule(data.schedule, tiers),
        limits=_limits(data.limits, currency, data.activation),
    )
