"""Checking a tier configuration before it is saved: every rule a field breaks is a typed
InvalidInput naming that field, and nothing is written."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from api import validation as v
from api.errors import InvalidInput
from api.money import iso_currency, minor_units
from api.tiers.model import ConfigInput, Metric, Tier, TierConfig

MAX_TIERS = 10
MAX_PERKS = 10
MAX_THRESHOLD = Decimal(10) ** 12
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,31}")


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _finite(value: Decimal) -> bool:
    try:
        return value.is_finite()
    except (AttributeError, InvalidOperation):
        return False


def _threshold(field: str, value: Decimal, metric: Metric, currency: str) -> Decimal:
    if not _finite(value) or not 0 <= value <= MAX_THRESHOLD:
        raise InvalidInput(field, f"Must be a number from 0 to {MAX_THRESHOLD}.")
    places = minor_units(currency) if metric is Metric.SPEND else 0
    if _places(value) > places:
        raise InvalidInput(
            field,
            f"{currency} amounts have at most {places} decimal places."
            if metric is Metric.SPEND
            else f"{metric.value} thresholds are whole numbers.",
        )
    return value


def _multiplier(field: str, value: Decimal) -> Decimal:
    if not _finite(value) or not Decimal(1) <= value <= Decimal(10) or _places(value) > 2:
        raise InvalidInput(field, "Must be from 1 to 10, with at most 2 decimal places.")
    return value


def check(data: ConfigInput, current: TierConfig, default_currency: str) -> TierConfig:
    """The configuration to save, from an admin's input and the one saved now."""
    if len(data.tiers) > MAX_TIERS:
        raise InvalidInput("tiers", f"At most {MAX_TIERS} tiers.")
    currency = iso_currency(
        "spendCurrency", data.spend_currency or current.spend_currency or default_currency
    )
    if not 0 <= data.grace_days <= 365:
        raise InvalidInput("graceDays", "Must be from 0 to 365.")
    tiers: list[Tier] = []
    names: set[str] = set()
    for i, t in enumerate(data.tiers):
        field = f"tiers[{i}]"
        if not _CODE.fullmatch(t.code):
            raise InvalidInput(
                f"{field}.code", "1-32 capital letters, digits or _, starting with a letter."
            )
        if any(t.code == other.code for other in tiers):
            raise InvalidInput(f"{field}.code", f"Tier {t.code} is listed twice.")
        name = v.text(f"{field}.name", t.name, 50)
        if name.casefold() in names:
            raise InvalidInput(f"{field}.name", f"Two tiers are named {name!r}.")
        names.add(name.casefold())
        threshold = _threshold(f"{field}.threshold", t.threshold, data.metric, currency)
        if i == 0 and threshold != 0:
            raise InvalidInput(
                f"{field}.threshold", "The first tier is the base tier: its threshold is 0."
            )
        if i > 0 and threshold <= tiers[-1].threshold:
            raise InvalidInput(
                f"{field}.threshold", "Thresholds must increase strictly from tier to tier."
            )
        if len(t.perks) > MAX_PERKS:
            raise InvalidInput(f"{field}.perks", f"At most {MAX_PERKS} perks.")
        if not 0 <= t.entry_bonus <= v.MAX_POINTS:
            raise InvalidInput(f"{field}.entryBonus", f"Must be from 0 to {v.MAX_POINTS}.")
        if i == 0 and t.entry_bonus:
            raise InvalidInput(
                f"{field}.entryBonus", "Every member starts in the base tier: no entry bonus."
            )
        tiers.append(
            Tier(
                code=t.code,
                name=name,
                threshold=threshold,
                multiplier=_multiplier(f"{field}.multiplier", t.multiplier),
                perks=tuple(v.text(f"{field}.perks[{j}]", p, 200) for j, p in enumerate(t.perks)),
                entry_bonus=t.entry_bonus,
            )
        )
    removed = sorted({t.code for t in current.tiers} - {t.code for t in tiers})
    if removed:
        raise InvalidInput(
            "tiers",
            f"Tiers cannot be removed once members may hold them: keep {', '.join(removed)} "
            "(rename it or change its threshold instead).",
        )
    return TierConfig(
        tiers=tuple(tiers),
        metric=data.metric,
        window=data.window,
        spend_currency=currency,
        downgrade=data.downgrade,
        grace_days=data.grace_days,
        updated_at=current.updated_at,
        version=current.version,
    )
