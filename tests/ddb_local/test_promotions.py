"""Promotion limits under real concurrency (DynamoDB Local): never a use, a cent of budget or
a code beyond its limit, however many carts race for them."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from functools import partial

import pytest

from api.errors import DomainError
from api.promotions.model import (
    Activation,
    CartInput,
    Effect,
    EffectKind,
    Limits,
    PromotionInput,
    Reservation,
)
from api.services import Services
from tests.ddb_local.test_concurrency import all_at_once
from tests.support import ADMIN, SERVICE, enroll

pytestmark = pytest.mark.ddb_local


def cart(amount: str = "20.00", codes: tuple[str, ...] = ()) -> CartInput:
    return CartInput(currency="EUR", lines=[("SKU", 1, Decimal(amount), None)], codes=codes)


def applied(result: Reservation | DomainError, promotion_id: str) -> bool:
    assert isinstance(result, Reservation), result
    return any(a.promotion_id == promotion_id for a in result.evaluation.applied)


def test_a_hundred_carts_race_for_ten_uses(local_services: Services) -> None:
    s = local_services
    s.promotions.create(
        ADMIN,
        PromotionInput(
            "ten-uses",
            "10% for the first ten",
            Effect(EffectKind.PERCENT_OFF, percent=Decimal(10)),
            limits=Limits(total_uses=10),
        ),
    )
    results = all_at_once(
        [partial(s.checkout.reserve, SERVICE, cart(), f"k-{i}") for i in range(100)]
    )
    outcomes = Counter(applied(r, "ten-uses") for r in results)
    assert outcomes == {True: 10, False: 90}
    assert s.promotions.get(ADMIN, "ten-uses").usage.uses == 10


def test_a_budget_is_never_exceeded(local_services: Services) -> None:
    s = local_services
    s.promotions.create(
        ADMIN,
        PromotionInput(
            "budget",
            "7 EUR off, 100 EUR in all",
            Effect(EffectKind.AMOUNT_OFF, amount=Decimal(7)),
            limits=Limits(budget=Decimal(100)),
            currency="EUR",
        ),
    )
    results = all_at_once(
        [partial(s.checkout.reserve, SERVICE, cart(), f"k-{i}") for i in range(40)]
    )
    winners = sum(applied(r, "budget") for r in results)
    assert winners == 14  # 14 x 7.00 = 98.00; a fifteenth would pass 100.00
    assert s.promotions.get(ADMIN, "budget").usage.discounted == 9800


def test_one_single_use_code_and_twenty_carts(local_services: Services) -> None:
    s = local_services
    s.promotions.create(
        ADMIN,
        PromotionInput(
            "once",
            "5 EUR once",
            Effect(EffectKind.AMOUNT_OFF, amount=Decimal(5)),
            activation=Activation.CODE,
            code="ONLY-ONCE",
            limits=Limits(per_code=1),
            currency="EUR",
        ),
    )
    results = all_at_once(
        [
            partial(s.checkout.reserve, SERVICE, cart(codes=("only-once",)), f"k-{i}")
            for i in range(20)
        ]
    )
    assert sum(applied(r, "once") for r in results) == 1


def test_a_double_tap_reserves_once(local_services: Services) -> None:
    s = local_services
    enroll(s, "cust-1")
    s.promotions.create(
        ADMIN,
        PromotionInput(
            "any",
            "10%",
            Effect(EffectKind.PERCENT_OFF, percent=Decimal(10)),
            limits=Limits(total_uses=5),
        ),
    )
    results = all_at_once(
        [partial(s.checkout.reserve, SERVICE, cart(), "same-key") for _ in range(10)]
    )
    assert len({r.id for r in results if isinstance(r, Reservation)}) == 1
    assert s.promotions.get(ADMIN, "any").usage.uses == 1
