"""Promotion limits under real concurrency (DynamoDB Local): never a use, a cent of budget or
a code beyond its limit, however many carts race for them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from functools import partial

import pytest

from api.errors import DomainError, ErrorCode, InvalidInput, ReservationExpired
from api.ids import member_id_for
from api.points.model import AdjustInput, EntryKind, OrderInput
from api.promotions.model import (
    Activation,
    CartInput,
    Conditions,
    Effect,
    EffectKind,
    Limits,
    PromotionInput,
    Reservation,
    Stacking,
)
from api.services import Services
from tests.ddb_local.test_concurrency import all_at_once
from tests.support import (
    ADMIN,
    SERVICE,
    assert_ledger_consistent,
    enroll,
    ledger_entries,
    stored_member,
)

pytestmark = pytest.mark.ddb_local


def cart(amount: str = "20.00", codes: tuple[str, ...] = ()) -> CartInput:
    return CartInput(currency="EUR", lines=[("SKU", 1, Decimal(amount), None)], codes=codes)


def ten_percent(s: Services, promotion_id: str, limits: Limits) -> None:
    effect = Effect(EffectKind.PERCENT_OFF, percent=Decimal(10))
    s.promotions.create(ADMIN, PromotionInput(promotion_id, "10% off", effect, limits=limits))


def applied(result: Reservation | DomainError, promotion_id: str) -> bool:
    assert isinstance(result, Reservation), result
    return any(a.promotion_id == promotion_id for a in result.evaluation.applied)


def test_a_hundred_carts_race_for_ten_uses(local_services: Services) -> None:
    s = local_services
    ten_percent(s, "ten-uses", Limits(total_uses=10))
    results = all_at_once(
        [partial(s.reservations.reserve, SERVICE, cart(), f"k-{i}") for i in range(100)]
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
        [partial(s.reservations.reserve, SERVICE, cart(), f"k-{i}") for i in range(40)]
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
            partial(s.reservations.reserve, SERVICE, cart(codes=("only-once",)), f"k-{i}")
            for i in range(20)
        ]
    )
    assert sum(applied(r, "once") for r in results) == 1


def test_a_double_tap_reserves_once(local_services: Services) -> None:
    s = local_services
    enroll(s, "cust-1")
    ten_percent(s, "any", Limits(total_uses=5))
    results = all_at_once(
        [partial(s.reservations.reserve, SERVICE, cart(), "same-key") for _ in range(10)]
    )
    assert len({r.id for r in results if isinstance(r, Reservation)}) == 1
    assert s.promotions.get(ADMIN, "any").usage.uses == 1


def test_a_member_limit_holds_across_their_own_carts(local_services: Services) -> None:
    s = local_services
    enroll(s, "cust-1")
    ten_percent(s, "once-each", Limits(per_member=1))
    mine = replace(cart(), customer_id="cust-1")
    results = all_at_once(
        [partial(s.reservations.reserve, SERVICE, mine, f"k-{i}") for i in range(10)]
    )
    assert sum(applied(r, "once-each") for r in results) == 1


def test_one_member_racing_many_carts_holds_three_and_one_first_order(
    local_services: Services,
) -> None:
    s = local_services
    enroll(s, "cust-1")
    ten_percent(s, "any", Limits())
    first = Effect(EffectKind.AMOUNT_OFF, amount=Decimal(5))
    s.promotions.create(
        ADMIN,
        PromotionInput(
            "welcome",
            "5 EUR off a first order",
            first,
            conditions=Conditions(first_order_only=True),
            stacking=Stacking.UNIVERSAL,
            currency="EUR",
        ),
    )
    mine = replace(cart(), customer_id="cust-1")
    results = all_at_once(
        [partial(s.reservations.reserve, SERVICE, mine, f"k-{i}") for i in range(12)]
    )
    held = [r for r in results if isinstance(r, Reservation)]
    refused = [r for r in results if isinstance(r, InvalidInput)]
    assert (len(held), len(refused)) == (3, 9)
    assert {r.code for r in refused} == {ErrorCode.TOO_MANY_RESERVATIONS}
    assert sum(applied(r, "welcome") for r in held) == 1
    assert s.promotions.get(ADMIN, "any").usage.uses == 3


def _held_with_points(s: Services) -> Reservation:
    enroll(s, "cust-1")
    s.spending.adjust(ADMIN, AdjustInput(100, "seed", "a-1", customer_id="cust-1"))
    ten_percent(s, "five", Limits(total_uses=5))
    return s.reservations.reserve(SERVICE, replace(cart(), customer_id="cust-1"), "k", points=40)


def test_release_and_commit_race_one_outcome(local_services: Services) -> None:
    s = local_services
    held = _held_with_points(s)
    order = OrderInput(
        "o-1",
        Decimal(18),
        "EUR",
        s.program.current_time(),
        customer_id="cust-1",
        reservation_id=held.id,
    )
    calls: list[Callable[[], object]] = [partial(s.reservations.release, SERVICE, held.id)] * 8
    calls += [partial(s.orders.record_order, SERVICE, order)] * 8
    results = all_at_once(calls)
    released = isinstance(results[-1], ReservationExpired)
    member = stored_member(member_id_for("cust-1"))
    if released:  # every commit refused, the points and the use given back once
        assert all(isinstance(r, ReservationExpired) for r in results[8:])
        assert (member.balance, s.promotions.get(ADMIN, "five").usage.uses) == (100, 0)
    else:  # committed: releasing changes nothing
        assert all(isinstance(r, Reservation) for r in results[:8])
        assert (member.balance, s.promotions.get(ADMIN, "five").usage.uses) == (60 + 18, 1)
    assert_ledger_consistent(member_id_for("cust-1"))


def test_expiry_and_release_give_back_once(local_services: Services) -> None:
    s = local_services
    held = _held_with_points(s)
    s.program.advance_clock(ADMIN, 31 * 60)
    calls: list[Callable[[], object]] = [s.reservations.expire_due] * 4
    calls += [partial(s.reservations.release, SERVICE, held.id)] * 4
    all_at_once(calls)
    member = stored_member(member_id_for("cust-1"))
    assert (member.balance, s.promotions.get(ADMIN, "five").usage.uses) == (100, 0)
    kinds = [e.kind for e in ledger_entries(member_id_for("cust-1"))]
    assert kinds == [EntryKind.ADJUST, EntryKind.REDEEM, EntryKind.RETURN]
    assert_ledger_consistent(member_id_for("cust-1"))
