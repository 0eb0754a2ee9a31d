"""The promotions engine, pure: each effect, cap, condition and reason, allocation to the
cent, stacking on what is left, the phases, early access and exclusive options, on
hand-computed carts (money in cents, EUR)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from api.promotions import engine
from api.promotions.engine import Phase, allocate, minor, phase_of
from api.promotions.model import (
    Activation,
    Candidate,
    Cart,
    Code,
    Conditions,
    EarlyAccess,
    Effect,
    EffectKind,
    Evaluation,
    Limits,
    Line,
    Promotion,
    Reason,
    Schedule,
    Shopper,
    Spread,
    Stacking,
    Status,
    Target,
    Usage,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
RANKS = {"BRONZE": 0, "SILVER": 1, "GOLD": 2}
GUEST = Shopper()
SILVER = Shopper(member_id="m-1", tier_rank=1, tier_ranks=RANKS, first_order=False)
GOLD = Shopper(member_id="m-2", tier_rank=2, tier_ranks=RANKS)

PERCENT, AMOUNT = EffectKind.PERCENT_OFF, EffectKind.AMOUNT_OFF
EXCLUSIVE, STACKABLE, UNIVERSAL = Stacking.EXCLUSIVE, Stacking.STACKABLE, Stacking.UNIVERSAL


def promo(pid: str, effect: Effect, **fields: Any) -> Promotion:
    return Promotion(id=pid, name=pid.replace("-", " ").title(), effect=effect, **fields)


def percent(value: str, target: Target = Target.SUBTOTAL, **fields: Any) -> Effect:
    return Effect(PERCENT, target=target, percent=Decimal(value), **fields)


def amount(value: str, target: Target = Target.SUBTOTAL, **fields: Any) -> Effect:
    return Effect(AMOUNT, target=target, amount=Decimal(value), **fields)


FREE_SHIPPING = Effect(EffectKind.FREE_SHIPPING, target=Target.SHIPPING)


def cart(*lines: Line, shipping: int = 0) -> Cart:
    return Cart("EUR", lines, shipping)


def points_of(amount: int) -> int:
    """One point per whole euro."""
    return amount // 100


def evaluate(
    c: Cart, *offers: Promotion | Candidate, shopper: Shopper = GOLD, now: datetime = NOW
) -> Evaluation:
    candidates = [o if isinstance(o, Candidate) else Candidate(o) for o in offers]
    return engine.evaluate(c, candidates, shopper, now, points_of)


def applied(e: Evaluation) -> dict[str, tuple[int, ...]]:
    """Each applied promotion's discount on each line, in cart order."""
    return {a.promotion_id: a.lines for a in e.applied}


def reasons(e: Evaluation) -> dict[str, Reason]:
    return {n.promotion_id: n.reason for n in e.not_applied}


def hints(e: Evaluation) -> list[tuple[str, int, int]]:
    return [(h.promotion_id, h.missing_amount, h.missing_quantity) for h in e.hints]


SHOES = Line("SHOE-1", 1, 5000, "shoes")
SOCKS = Line("SOCK-1", 3, 500, "socks")
HAT = Line("HAT-1", 1, 2000, None)


# ---- allocation ------------------------------------------------------------------------------


def test_allocation_is_exact_by_largest_remainders_ties_to_the_earlier_weight() -> None:
    assert allocate(1000, [1000, 1000, 1000]) == [334, 333, 333]
    assert allocate(3, [1, 1, 1, 1, 1, 1]) == [1, 1, 1, 0, 0, 0]
    assert allocate(10, [1, 2, 7]) == [1, 2, 7]
    assert allocate(5, [1, 2, 7]) == [1, 1, 3]  # 0.5, 1, 3.5: a tie, to the earlier weight
    assert allocate(7, [1, 3, 6]) == [1, 2, 4]  # 0.7, 2.1, 4.2: the largest remainder first
    assert allocate(0, [5, 5]) == [0, 0]
    assert allocate(7, [0, 0]) == [0, 0]


def test_ten_euros_over_three_equal_lines_whatever_the_cart_order() -> None:
    lines = [Line(sku, 1, 1000) for sku in ("A", "B", "C")]
    ten_off = promo("ten-off", amount("10.00"), currency="EUR")
    for ordered in (lines, lines[::-1], [lines[1], lines[2], lines[0]]):
        e = evaluate(cart(*ordered), ten_off)
        by_sku = {line.sku: off for line, off in zip(ordered, e.applied[0].lines, strict=True)}
        assert by_sku == {"A": 334, "B": 333, "C": 333}
        assert e.discount == 1000
        assert sum(e.line_totals) == 2000


# ---- effects ---------------------------------------------------------------------------------


def test_percent_off_the_subtotal_rounds_half_up_on_the_total_and_is_allocated() -> None:
    e = evaluate(cart(Line("A", 1, 3999), Line("B", 1, 1)), promo("p", percent("15")))
    # 15% of 40.00 = 6.00; of 39.99 alone 5.9985 would round to 6.00 too: the total decides.
    assert applied(e) == {"p": (600, 0)}
    half = evaluate(cart(Line("A", 1, 5)), promo("p", percent("10")))
    assert half.discount == 1  # 0.5 cent rounds up


def test_percent_off_lines_takes_only_the_matching_lines() -> None:
    effect = percent("10", Target.LINES)
    e = evaluate(cart(SHOES, SOCKS), promo("p", effect, conditions=Conditions(categories=SHOE)))
    assert applied(e) == {"p": (500, 0)}
    assert e.line_totals == (4500, 1500)


SHOE = frozenset({"shoes"})


def test_amount_off_each_item_and_across_the_matching_lines() -> None:
    each = promo("each", amount("1.00", Target.LINES, spread=Spread.EACH), currency="EUR")
    cheap = Line("PIN-1", 2, 60)  # 1.00 off each unit, but a unit costs only 0.60
    e = evaluate(cart(SOCKS, cheap), each)
    assert applied(e) == {"each": (300, 120)}
    across = promo("across", amount("1.00", Target.LINES), currency="EUR")
    e = evaluate(cart(SOCKS, cheap), across)
    assert applied(e) == {"across": (93, 7)}  # 1.00 in proportion to 15.00 and 1.20


def test_an_amount_off_never_takes_a_line_below_zero() -> None:
    e = evaluate(cart(Line("A", 1, 300), shipping=490), promo("p", amount("50.00")))
    assert applied(e) == {"p": (300,)}
    assert (e.line_totals, e.total) == ((0,), 490)


def test_caps_hold_on_every_kind_of_discount() -> None:
    cap = Decimal("20.00")
    big = cart(Line("A", 4, 2500), shipping=3000)
    cases = {
        "percent": percent("50", cap=cap),
        "each": amount("10.00", Target.LINES, spread=Spread.EACH, cap=cap),
        "buy-x-get-y": Effect(EffectKind.BUY_X_GET_Y, Target.LINES, buy=1, get=1, cap=cap),
        "shipping": Effect(EffectKind.FREE_SHIPPING, Target.SHIPPING, cap=cap),
    }
    for pid, effect in cases.items():
        e = evaluate(big, promo(pid, effect, currency="EUR"))
        assert e.applied[0].discount == 2000, pid


def test_shipping_effects() -> None:
    c = cart(SHOES, shipping=490)
    assert evaluate(c, promo("free", FREE_SHIPPING)).shipping_discount == 490
    half = percent("50", Target.SHIPPING)
    assert evaluate(c, promo("half", half)).shipping_discount == 245
    ten = amount("10.00", Target.SHIPPING)
    assert evaluate(c, promo("ten", ten, currency="EUR")).shipping_discount == 490
    e = evaluate(cart(SHOES), promo("free", FREE_SHIPPING))  # nothing to ship for free
    assert reasons(e) == {"free": Reason.NOTHING_LEFT_TO_DISCOUNT}


def test_buy_x_get_y_discounts_the_cheapest_units_first() -> None:
    b2g1 = promo("b2g1", Effect(EffectKind.BUY_X_GET_Y, Target.LINES, buy=2, get=1))
    cheap, dear = Line("CHEAP", 4, 300), Line("DEAR", 2, 1000)
    e = evaluate(cart(dear, cheap), b2g1)  # 6 units: 2 free, both at 3.00
    assert applied(e) == {"b2g1": (0, 600)}
    e = evaluate(cart(dear, Line("CHEAP", 1, 300)), b2g1)  # 3 units: 1 free
    assert applied(e) == {"b2g1": (0, 300)}
    e = evaluate(cart(dear), b2g1)  # 2 units: none free yet
    assert reasons(e) == {"b2g1": Reason.NOTHING_LEFT_TO_DISCOUNT}
    half = promo("half", Effect(EffectKind.BUY_X_GET_Y, Target.LINES, Decimal(50), buy=1, get=1))
    assert applied(evaluate(cart(dear, cheap), half)) == {"half": (0, 450)}  # 3 x 1.50


def test_buy_x_get_y_reads_unit_prices_as_earlier_discounts_left_them() -> None:
    first = promo("first", percent("10", Target.LINES), priority=1)
    b2g1 = promo("b2g1", Effect(EffectKind.BUY_X_GET_Y, Target.LINES, buy=2, get=1))
    e = evaluate(cart(Line("A", 3, 333)), first, b2g1)
    # 9.99 - 1.00 = 8.99 for 3 units: one unit is 2.9967, rounded to 3.00.
    assert applied(e) == {"first": (100,), "b2g1": (300,)}


def test_bonus_points_and_a_multiplier_on_what_matching_lines_cost_after_discounts() -> None:
    bonus = promo("bonus", Effect(EffectKind.BONUS_POINTS, points=100))
    double = promo(
        "double",
        Effect(EffectKind.POINTS_MULTIPLIER, Target.LINES, multiplier=Decimal("1.5")),
        conditions=Conditions(categories=SHOE),
        priority=100,  # a later phase all the same
    )
    ten = promo("ten", percent("10"))
    e = evaluate(cart(SHOES, SOCKS), bonus, double, ten)
    # Shoes cost 45.00 after 10% off: 45 base points, half of them again is 22.
    assert {a.promotion_id: a.points for a in e.applied} == {"ten": 0, "bonus": 100, "double": 22}
    assert e.bonus_points == 122
    assert e.discount == 650


# ---- stacking and phases ------------------------------------------------------------------


def test_percentages_stack_on_what_earlier_discounts_left() -> None:
    halves = [promo(f"half-{i}", percent("50")) for i in range(2)]
    e = evaluate(cart(Line("A", 1, 10000)), *halves)
    assert [a.discount for a in e.applied] == [5000, 2500]  # 75% off, not a free order
    many = [promo(f"half-{i}", percent("50")) for i in range(5)]
    assert evaluate(cart(Line("A", 1, 10000)), *many).line_totals == (312,)
    everything = promo("everything", percent("100"), priority=1)
    e = evaluate(cart(Line("A", 1, 10000)), everything, halves[0])
    assert (e.line_totals, reasons(e)) == ((0,), {"half-0": Reason.NOTHING_LEFT_TO_DISCOUNT})


def test_within_a_phase_higher_priority_first_then_id() -> None:
    ten_off = promo("b-ten", amount("10.00"), currency="EUR", priority=5)
    half = promo("a-half", percent("50"))
    e = evaluate(cart(Line("A", 1, 10000)), half, ten_off)
    assert [(a.promotion_id, a.discount) for a in e.applied] == [("b-ten", 1000), ("a-half", 4500)]
    e = evaluate(cart(Line("A", 1, 10000)), replace(ten_off, priority=0), half)
    assert [a.promotion_id for a in e.applied] == ["a-half", "b-ten"]


def test_phases_order_lines_then_order_then_shipping_then_points() -> None:
    assert [
        phase_of(EffectKind.BUY_X_GET_Y, Target.LINES),
        phase_of(AMOUNT, Target.LINES),
        phase_of(PERCENT, Target.SUBTOTAL),
        phase_of(EffectKind.FREE_SHIPPING, Target.SHIPPING),
        phase_of(PERCENT, Target.SHIPPING),
        phase_of(EffectKind.BONUS_POINTS, Target.SUBTOTAL),
        phase_of(EffectKind.POINTS_MULTIPLIER, Target.LINES),
    ] == [Phase.LINES, Phase.LINES, Phase.ORDER, *[Phase.SHIPPING] * 2, *[Phase.POINTS] * 2]
    # A higher-priority order discount still reads the cart after the line discounts.
    order = promo("order-10", percent("10"), priority=10)
    lines = promo("lines-20", percent("20", Target.LINES))
    e = evaluate(cart(Line("A", 1, 10000)), order, lines)
    assert [(a.promotion_id, a.discount) for a in e.applied] == [
        ("lines-20", 2000),
        ("order-10", 800),
    ]


def test_free_shipping_over_50_reads_the_cart_after_line_discounts() -> None:
    free = promo(
        "free-shipping",
        FREE_SHIPPING,
        conditions=Conditions(min_subtotal=Decimal(50)),
        currency="EUR",
        priority=10,
    )
    lines = promo("lines-20", percent("20", Target.LINES))
    e = evaluate(cart(Line("A", 2, 3000), shipping=490), free, lines)
    assert applied(e) == {"lines-20": (1200,)}
    assert reasons(e) == {"free-shipping": Reason.MIN_SUBTOTAL}
    assert hints(e) == [("free-shipping", 200, 0)]  # 48.00 of 50.00
    assert "after discounts" in e.not_applied[0].detail


@pytest.mark.parametrize(
    ("currency", "minimum", "price", "shown"),
    [
        ("EUR", Decimal(50), 4000, "50.00 EUR"),
        ("EUR", Decimal("12.5"), 1000, "12.50 EUR"),
        ("JPY", Decimal(1200), 1000, "1200 JPY"),
        ("BHD", Decimal("1.5"), 1000, "1.500 BHD"),
    ],
)
def test_a_minimum_subtotal_is_shown_as_money_in_the_cart_currency(
    currency: str, minimum: Decimal, price: int, shown: str
) -> None:
    at_least = Conditions(min_subtotal=minimum)
    offers = [
        promo("lines", percent("10", Target.LINES), conditions=at_least, currency=currency),
        promo("order", percent("10"), conditions=at_least, currency=currency),
        promo("ship", FREE_SHIPPING, conditions=at_least, currency=currency),
    ]
    e = evaluate(Cart(currency, (Line("A", 1, price),), 100), *offers)
    details = {n.promotion_id: n.detail for n in e.not_applied}
    assert details == {
        "lines": f"Needs a subtotal of {shown} after earlier line discounts.",
        "order": f"Needs a subtotal of {shown} after line discounts.",
        "ship": f"Needs a subtotal of {shown} after discounts.",
    }
    assert {h.missing_amount for h in e.hints} == {minor(minimum, currency) - price}


def test_minimum_subtotals_of_each_phase() -> None:
    at_least = Conditions(min_subtotal=Decimal(100))
    big = cart(Line("A", 1, 10500), shipping=500)
    ten_off = promo("ten-off", amount("10.00"), currency="EUR", priority=5)
    # An order discount reads the cart after line discounts, not after other order ones:
    # 105.00, not 95.00.
    over_100 = promo("over-100", percent("10"), conditions=at_least, currency="EUR")
    e = evaluate(big, ten_off, over_100)
    assert applied(e) == {"ten-off": (1000,), "over-100": (950,)}
    # Shipping reads it after order discounts too: 105 - 10 - 9.50 = 85.50.
    ship = promo("ship", FREE_SHIPPING, conditions=at_least, currency="EUR")
    assert hints(evaluate(big, ten_off, over_100, ship)) == [("ship", 1450, 0)]
    # A line discount reads it after the line discounts ranked before it: 90.00.
    lines_15 = promo("lines-15", amount("15.00", Target.LINES), currency="EUR", priority=1)
    lines_5 = promo("lines-5", percent("5", Target.LINES), conditions=at_least, currency="EUR")
    e = evaluate(big, lines_15, lines_5)
    assert (reasons(e), hints(e)) == ({"lines-5": Reason.MIN_SUBTOTAL}, [("lines-5", 1000, 0)])


# ---- conditions and the reasons of the candidates that do not apply ---------------------------


def test_sku_and_category_conditions() -> None:
    c = cart(SHOES, SOCKS, HAT)
    cases = [
        (Conditions(skus=frozenset({"SOCK-1"})), (0, 150, 0)),
        (Conditions(exclude_skus=frozenset({"SOCK-1"})), (500, 0, 200)),
        (Conditions(categories=frozenset({"socks", "shoes"})), (500, 150, 0)),
        (Conditions(exclude_categories=SHOE), (0, 150, 200)),  # no category: not excluded
        (Conditions(categories=SHOE, exclude_skus=frozenset({"SHOE-1"})), None),
    ]
    for conditions, expected in cases:
        e = evaluate(c, promo("p", percent("10", Target.LINES), conditions=conditions))
        if expected is None:
            assert reasons(e) == {"p": Reason.NO_MATCHING_ITEMS}
        else:
            assert applied(e) == {"p": expected}, conditions


SHIPPING_AND_POINTS = {
    "free-shipping": FREE_SHIPPING,
    "half-shipping": percent("50", Target.SHIPPING),
    "two-off-shipping": amount("2.00", Target.SHIPPING),
    "bonus": Effect(EffectKind.BONUS_POINTS, points=100),
}
# What each gives a cart shipped for 4.90: (shipping discount, points). The bonus is flat: the
# same whichever lines match.
WORTH = {
    "free-shipping": (490, 0),
    "half-shipping": (245, 0),
    "two-off-shipping": (200, 0),
    "bonus": (0, 100),
}
NOT_IN_THE_CART = [
    Conditions(skus=frozenset({"BOOT-9"})),
    Conditions(categories=frozenset({"boots"})),
    Conditions(exclude_categories=frozenset({"shoes", "socks"})),  # every line excluded
    Conditions(exclude_skus=frozenset({"SHOE-1", "SOCK-1"})),
    Conditions(categories=SHOE, exclude_skus=frozenset({"SHOE-1"})),
]


@pytest.mark.parametrize("conditions", NOT_IN_THE_CART)
@pytest.mark.parametrize("pid", sorted(SHIPPING_AND_POINTS))
def test_shipping_and_bonus_points_need_an_item_their_conditions_let_through(
    pid: str, conditions: Conditions
) -> None:
    offer = promo(pid, SHIPPING_AND_POINTS[pid], conditions=conditions, currency="EUR")
    e = evaluate(cart(SHOES, SOCKS, shipping=490), offer)
    assert (e.applied, reasons(e)) == ((), {pid: Reason.NO_MATCHING_ITEMS})
    assert (e.shipping_discount, e.bonus_points, e.hints) == (0, 0, ())


@pytest.mark.parametrize(
    "conditions",
    [
        Conditions(),  # no item conditions: any cart
        Conditions(skus=frozenset({"SOCK-1", "BOOT-9"})),
        Conditions(categories=SHOE),
        Conditions(exclude_categories=SHOE),  # the socks are left
        Conditions(exclude_skus=frozenset({"SOCK-1"})),
    ],
)
def test_shipping_and_bonus_points_apply_with_a_matching_item(conditions: Conditions) -> None:
    c = cart(SHOES, SOCKS, shipping=490)
    for pid, effect in SHIPPING_AND_POINTS.items():
        e = evaluate(c, promo(pid, effect, conditions=conditions, currency="EUR"))
        assert [(a.promotion_id, a.shipping, a.points) for a in e.applied] == [
            (pid, *WORTH[pid])
        ], (pid, conditions)
        assert (e.discount, e.line_totals) == (0, (5000, 1500))


def test_without_item_conditions_shipping_and_bonus_points_apply_to_any_cart() -> None:
    for lines in ((HAT,), (SOCKS, HAT), ()):
        for pid, effect in SHIPPING_AND_POINTS.items():
            e = evaluate(cart(*lines, shipping=490), promo(pid, effect, currency="EUR"))
            assert [a.promotion_id for a in e.applied] == [pid], (pid, lines)
            assert (e.shipping_discount, e.bonus_points) == WORTH[pid]


def test_free_shipping_on_shoes_is_not_free_shipping_on_socks() -> None:
    on_shoes = Conditions(categories=SHOE, min_subtotal=Decimal(20))
    free = promo("free", FREE_SHIPPING, conditions=on_shoes, currency="EUR")
    bonus = promo("bonus", Effect(EffectKind.BONUS_POINTS, points=50), conditions=on_shoes)
    e = evaluate(cart(replace(SOCKS, quantity=10), shipping=490), free, bonus)
    assert reasons(e) == {"free": Reason.NO_MATCHING_ITEMS, "bonus": Reason.NO_MATCHING_ITEMS}
    assert (e.total, e.bonus_points) == (5490, 0)
    e = evaluate(cart(SOCKS, SHOES, shipping=490), free, bonus)
    assert (e.shipping_discount, e.bonus_points) == (490, 50)


def test_minimum_quantity_counts_matching_units_and_hints_what_is_missing() -> None:
    three_socks = Conditions(min_quantity=4, categories=frozenset({"socks"}))
    e = evaluate(cart(SHOES, SOCKS), promo("p", percent("10"), conditions=three_socks))
    assert reasons(e) == {"p": Reason.MIN_QUANTITY}
    assert hints(e) == [("p", 0, 1)]
    e = evaluate(
        cart(SHOES, replace(SOCKS, quantity=4)), promo("p", percent("10"), conditions=three_socks)
    )
    assert applied(e) == {"p": (0, 200)}


BASE = promo("p", percent("10"), currency="EUR")
CODE = Code("WELCOME", "p")
STARTS = NOW + 2 * HOUR
EARLY = Schedule(starts_at=STARTS, early_access=(EarlyAccess("GOLD", 24),))


@pytest.mark.parametrize(
    ("candidate", "shopper", "reason"),
    [
        (Candidate(replace(BASE, status=Status.PAUSED)), GOLD, Reason.INACTIVE),
        (Candidate(replace(BASE, schedule=Schedule(ends_at=NOW))), GOLD, Reason.ENDED),
        (Candidate(replace(BASE, schedule=Schedule(starts_at=STARTS))), GOLD, Reason.NOT_STARTED),
        (Candidate(replace(BASE, schedule=EARLY)), SILVER, Reason.EARLY_ACCESS_ONLY),
        (Candidate(replace(BASE, schedule=EARLY)), GUEST, Reason.EARLY_ACCESS_ONLY),
        (Candidate(replace(BASE, currency="USD")), GOLD, Reason.CURRENCY),
        (
            Candidate(replace(BASE, conditions=Conditions(currencies=frozenset({"GBP"})))),
            GOLD,
            Reason.CURRENCY,
        ),
        (Candidate(replace(BASE, activation=Activation.CODE)), GOLD, Reason.CODE_REQUIRED),
        (
            Candidate(replace(BASE, conditions=Conditions(min_tier="SILVER"))),
            GUEST,
            Reason.MEMBER_REQUIRED,
        ),
        (
            Candidate(replace(BASE, conditions=Conditions(min_tier="GOLD"))),
            SILVER,
            Reason.TIER_TOO_LOW,
        ),
        (
            Candidate(replace(BASE, conditions=Conditions(first_order_only=True))),
            SILVER,
            Reason.NOT_FIRST_ORDER,
        ),
        (
            Candidate(replace(BASE, limits=Limits(total_uses=3)), Usage(uses=3)),
            GOLD,
            Reason.USES_EXHAUSTED,
        ),
        (
            Candidate(replace(BASE, limits=Limits(budget=Decimal(50))), Usage(discounted=5000)),
            GOLD,
            Reason.BUDGET_EXHAUSTED,
        ),
        (  # 9.00 of the budget left, the cart would take 10.00
            Candidate(replace(BASE, limits=Limits(budget=Decimal(50))), Usage(discounted=4100)),
            GOLD,
            Reason.BUDGET_EXHAUSTED,
        ),
        (
            Candidate(replace(BASE, limits=Limits(per_member=1))),
            replace(GOLD, member_uses={"p": 1}),
            Reason.MEMBER_LIMIT_REACHED,
        ),
        (
            Candidate(BASE, code=replace(CODE, uses=1, max_uses=1)),
            GOLD,
            Reason.CODE_USED_UP,
        ),
        (
            Candidate(replace(BASE, limits=Limits(per_code=2)), code=replace(CODE, uses=2)),
            GOLD,
            Reason.CODE_USED_UP,
        ),
        (
            Candidate(BASE, code=replace(CODE, member_id="m-1")),
            GOLD,
            Reason.CODE_BOUND_TO_ANOTHER_MEMBER,
        ),
    ],
)
def test_each_refusal_names_its_reason(
    candidate: Candidate, shopper: Shopper, reason: Reason
) -> None:
    e = evaluate(cart(Line("A", 1, 10000)), candidate, shopper=shopper)
    assert (e.applied, reasons(e)) == ((), {"p": reason})
    assert e.not_applied[0].detail
    assert e.not_applied[0].code == (None if candidate.code is None else candidate.code.code)


def test_limits_left_let_it_apply_and_a_code_is_reported_with_it() -> None:
    candidate = Candidate(
        replace(BASE, activation=Activation.CODE, limits=Limits(total_uses=3, budget=Decimal(50))),
        Usage(uses=2, discounted=4000),
        replace(CODE, member_id="m-2", uses=0, max_uses=1),
    )
    e = evaluate(cart(Line("A", 1, 10000)), candidate)
    assert [(a.promotion_id, a.discount, a.code) for a in e.applied] == [("p", 1000, "WELCOME")]


def test_two_codes_of_one_promotion_apply_once() -> None:
    code_promo = replace(BASE, activation=Activation.CODE)
    first, second = Code("AAA", "p"), Code("BBB", "p")
    for given in ((first, second), (second, first)):
        e = evaluate(cart(Line("A", 1, 10000)), *(Candidate(code_promo, code=c) for c in given))
        assert [(a.promotion_id, a.code) for a in e.applied] == [("p", "AAA")]
        assert [(n.reason, n.code) for n in e.not_applied] == [(Reason.USES_EXHAUSTED, "BBB")]


def test_early_access_opens_to_the_tier_before_the_start() -> None:
    early = replace(BASE, schedule=EARLY)
    c = cart(Line("A", 1, 10000))
    assert [a.promotion_id for a in evaluate(c, early, shopper=GOLD).applied] == ["p"]
    assert reasons(evaluate(c, early, shopper=SILVER)) == {"p": Reason.EARLY_ACCESS_ONLY}
    # Before even the early window: not started, for every tier.
    later = replace(early, schedule=replace(EARLY, starts_at=NOW + 25 * HOUR))
    for shopper in (GOLD, SILVER, GUEST):
        assert reasons(evaluate(c, later, shopper=shopper)) == {"p": Reason.NOT_STARTED}
    # Once started, open to all.
    assert evaluate(c, early, shopper=SILVER, now=STARTS).applied


# ---- exclusive options ---------------------------------------------------------------------


def test_the_best_exclusive_wins_alone_with_the_universal_ones() -> None:
    c = cart(Line("A", 1, 10000), shipping=490)
    ten = promo("ten", percent("10"))
    five = promo("five", amount("5.00"), currency="EUR")
    free = promo("free", FREE_SHIPPING, stacking=UNIVERSAL)
    thirty = promo("thirty", percent("30"), stacking=EXCLUSIVE)
    twenty = promo("twenty", percent("20"), stacking=EXCLUSIVE)
    e = evaluate(c, ten, five, free, thirty, twenty)
    assert sorted(applied(e)) == ["free", "thirty"]
    assert (e.discount, e.shipping_discount) == (3000, 490)
    assert reasons(e) == {
        "ten": Reason.LOST_TO_EXCLUSIVE,
        "five": Reason.LOST_TO_EXCLUSIVE,
        "twenty": Reason.LOST_TO_EXCLUSIVE,
    }
    assert "Thirty applies alone." in {n.detail for n in e.not_applied}


def test_the_stackable_option_wins_when_worth_more_and_ties_go_to_it() -> None:
    c = cart(Line("A", 1, 10000))
    ten, twelve = promo("ten", percent("10")), promo("twelve", percent("12"))
    fifteen = promo("fifteen", percent("15"), stacking=EXCLUSIVE)
    e = evaluate(c, ten, twelve, fifteen)  # 10 + 10.80 off beats 15
    assert sorted(applied(e)) == ["ten", "twelve"]
    assert reasons(e) == {"fifteen": Reason.LOST_TO_BETTER_OPTION}
    tie = promo("tie", Effect(PERCENT, percent=Decimal("20.8")), stacking=EXCLUSIVE)
    assert sorted(applied(evaluate(c, ten, twelve, tie))) == ["ten", "twelve"]


def test_ties_between_exclusives_go_to_priority_then_id() -> None:
    c = cart(Line("A", 1, 10000))
    a = promo("a", percent("20"), stacking=EXCLUSIVE)
    b = promo("b", percent("20"), stacking=EXCLUSIVE, priority=1)
    assert [x.promotion_id for x in evaluate(c, a, b).applied] == ["b"]
    assert [x.promotion_id for x in evaluate(c, a, replace(b, priority=0)).applied] == ["a"]


def test_worth_is_the_discount_then_the_points() -> None:
    c = cart(Line("A", 1, 10000), Line("B", 1, 10000))
    double_a = promo(
        "double-a",
        Effect(EffectKind.POINTS_MULTIPLIER, Target.LINES, multiplier=Decimal(2)),
        conditions=Conditions(skus=frozenset({"A"})),
        stacking=UNIVERSAL,
    )

    def twenty_off(sku: str, stacking: Stacking) -> Promotion:
        only = Conditions(skus=frozenset({sku}))
        effect = amount("20.00", Target.LINES)
        return promo(f"off-{sku}", effect, conditions=only, currency="EUR", stacking=stacking)

    # The same 20.00 either way; off B leaves A its 100 points, off A only 80.
    e = evaluate(c, twenty_off("A", STACKABLE), twenty_off("B", EXCLUSIVE), double_a)
    assert [(x.promotion_id, x.points) for x in e.applied] == [("off-B", 0), ("double-a", 100)]
    assert reasons(e) == {"off-A": Reason.LOST_TO_EXCLUSIVE}
    bonus = promo("bonus", Effect(EffectKind.BONUS_POINTS, points=5000), stacking=EXCLUSIVE)
    e = evaluate(c, twenty_off("A", STACKABLE), bonus)
    assert reasons(e) == {"bonus": Reason.LOST_TO_BETTER_OPTION}  # any discount beats points


def test_an_exclusive_that_cannot_apply_gives_its_own_reason_and_never_wins() -> None:
    c = cart(Line("A", 1, 5200), shipping=1000)
    free = promo(
        "free", FREE_SHIPPING, stacking=UNIVERSAL, conditions=Conditions(min_subtotal=Decimal(50))
    )
    ten = promo("ten", percent("10"))  # 46.80 left: no free shipping in this option
    big = promo(
        "big", percent("30"), stacking=EXCLUSIVE, conditions=Conditions(min_subtotal=Decimal(100))
    )
    e = evaluate(c, free, ten, big)
    # Free shipping alone (10.00) would beat 10% (5.20), but it is no option: big did not apply.
    assert list(applied(e)) == ["ten"]
    assert reasons(e) == {"free": Reason.MIN_SUBTOTAL, "big": Reason.MIN_SUBTOTAL}
    assert sorted(hints(e)) == [("big", 4800, 0), ("free", 320, 0)]
