"""Properties of the promotions engine on random carts, shoppers and promotion sets
(hypothesis), checked against the candidates as given, not the engine's own arithmetic:
- nothing goes below zero: no line, no shipping, no total, no allocation;
- allocations sum exactly: each line's total is its amount less what every applied promotion
  took off it, and the evaluation's discounts and points are the sums of the applied ones;
- no promotion goes beyond its limits: uses, budget, per member, per code (and its code's
  owner), its cap, its schedule and currency; each applies at most once;
- item conditions hold whatever the effect: an applied promotion (free shipping and bonus
  points too) has a line its SKUs and categories let through, and its minimum quantity of them;
- stacking order: applied by phase, then priority, then id; an exclusive one only with
  universal ones; every candidate is applied or has one reason;
- the winner is the best option: worth at least the stackable option, and each exclusive
  one's option wherever that exclusive applies;
- the result does not depend on the order of the lines or of the candidates.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from api.promotions import engine
from api.promotions.engine import minor, phase_of
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
SKUS = ("A", "B", "C", "D")
CATEGORIES = (None, "shoes", "socks")
RANKS = {"BRONZE": 0, "SILVER": 1, "GOLD": 2}

cents = st.integers(1, 10_000).map(lambda c: Decimal(c).scaleb(-2))
percents = st.decimals(Decimal("0.01"), Decimal(100), places=2)
lines = st.lists(
    st.builds(
        Line,
        sku=st.sampled_from(SKUS),
        quantity=st.integers(1, 5),
        # Often the same prices, so that allocations and cheapest units tie.
        unit_price=st.sampled_from([0, 199, 500, 1000]) | st.integers(0, 5_000),
        category=st.sampled_from(CATEGORIES),
    ),
    min_size=1,
    max_size=8,
)
carts = st.builds(
    lambda ls, shipping: Cart("EUR", tuple(ls), shipping), lines, st.integers(0, 1_000)
)
caps = st.none() | cents
effects = st.one_of(
    st.builds(
        Effect,
        kind=st.just(EffectKind.PERCENT_OFF),
        target=st.sampled_from(Target),
        percent=percents,
        cap=caps,
    ),
    st.builds(
        Effect,
        kind=st.just(EffectKind.AMOUNT_OFF),
        target=st.sampled_from([Target.SUBTOTAL, Target.SHIPPING]),
        amount=cents,
        cap=caps,
    ),
    st.builds(
        Effect,
        kind=st.just(EffectKind.AMOUNT_OFF),
        target=st.just(Target.LINES),
        amount=cents,
        spread=st.sampled_from(Spread),
        cap=caps,
    ),
    st.builds(Effect, kind=st.just(EffectKind.FREE_SHIPPING), target=st.just(Target.SHIPPING)),
    st.builds(
        Effect,
        kind=st.just(EffectKind.BUY_X_GET_Y),
        target=st.just(Target.LINES),
        percent=st.none() | percents,
        buy=st.integers(1, 3),
        get=st.integers(1, 2),
        cap=caps,
    ),
    st.builds(Effect, kind=st.just(EffectKind.BONUS_POINTS), points=st.integers(1, 500)),
    st.builds(
        Effect,
        kind=st.just(EffectKind.POINTS_MULTIPLIER),
        target=st.just(Target.LINES),
        multiplier=st.decimals(Decimal("1.1"), Decimal(3), places=1),
    ),
)
item_sets = st.frozensets(st.sampled_from(SKUS), max_size=2)
conditions = st.builds(
    Conditions,
    min_subtotal=st.none() | st.none() | cents,
    min_quantity=st.sampled_from([0] * 6 + [2, 4]),
    skus=st.just(frozenset()) | item_sets,
    exclude_skus=st.just(frozenset()) | st.frozensets(st.sampled_from(SKUS), max_size=1),
    categories=st.just(frozenset()) | st.frozensets(st.sampled_from(CATEGORIES[1:]), max_size=1),
    exclude_categories=st.just(frozenset()) | st.just(frozenset({"socks"})),
    min_tier=st.sampled_from([None, None, None, "SILVER", "GOLD"]),
    first_order_only=st.sampled_from([False] * 4 + [True]),
)
schedules = st.sampled_from(
    [
        Schedule(),
        Schedule(),
        Schedule(),
        Schedule(ends_at=NOW),
        Schedule(starts_at=NOW + timedelta(hours=1), early_access=(EarlyAccess("GOLD", 2),)),
        Schedule(starts_at=NOW + timedelta(hours=3), early_access=(EarlyAccess("SILVER", 2),)),
    ]
)
few = st.none() | st.integers(1, 3)


@st.composite
def offers(draw: Any, index: int) -> list[Candidate]:
    """One promotion and its candidates: one if automatic, one or two codes if not. Most are
    open to the cart but for its amounts and items, so that several apply together."""
    pid = f"p{index}"
    code_based = draw(st.integers(0, 3)) == 0
    limits = Limits(
        total_uses=draw(few),
        budget=draw(st.none() | cents),
        per_member=draw(st.none() | st.none() | st.integers(1, 2)),
        per_code=draw(few) if code_based else None,
    )
    promotion = Promotion(
        id=pid,
        name=f"Promotion {index}",
        effect=draw(effects),
        status=draw(st.sampled_from([Status.ACTIVE] * 5 + [Status.PAUSED])),
        activation=Activation.CODE if code_based else Activation.AUTOMATIC,
        conditions=draw(conditions),
        schedule=draw(schedules),
        limits=limits,
        stacking=draw(st.sampled_from(Stacking)),
        priority=draw(st.integers(-2, 2)),
        currency=draw(st.sampled_from(["EUR"] * 5 + [None, "USD"])),
    )
    spent = draw(st.integers(0, 10_000 if limits.budget is None else minor(limits.budget, "EUR")))
    usage = Usage(uses=draw(st.integers(0, 3)), discounted=spent)
    code_uses, owners = st.integers(0, 2), st.sampled_from([None, None, "m-1", "m-2"])
    if draw(st.integers(0, 3)):
        promotion = replace(
            promotion,
            status=Status.ACTIVE,
            schedule=Schedule(),
            currency="EUR",
            conditions=replace(promotion.conditions, min_tier=None, first_order_only=False),
            limits=replace(limits, total_uses=None, per_member=None, per_code=None),
        )
        usage = Usage(discounted=0)
        code_uses, owners = st.just(0), st.just(None)
    if not code_based:
        return [Candidate(promotion, usage)]
    codes = [
        Code(f"{pid.upper()}-{n}", pid, draw(code_uses), draw(few), draw(owners))
        for n in range(draw(st.integers(1, 2)))
    ]
    return [Candidate(promotion, usage, code) for code in codes]


@st.composite
def cases(draw: Any) -> tuple[Cart, list[Candidate], Shopper]:
    count = draw(st.integers(0, 8))
    candidates = [c for i in range(count) for c in draw(offers(i))]
    shopper = draw(
        st.just(Shopper())
        | st.builds(
            Shopper,
            member_id=st.just("m-1"),
            tier_rank=st.integers(0, 2),
            tier_ranks=st.just(RANKS),
            first_order=st.booleans(),
            member_uses=st.dictionaries(
                st.sampled_from([f"p{i}" for i in range(8)]), st.integers(0, 2)
            ),
        )
    )
    return draw(carts), candidates, shopper


def points_of(amount: int) -> int:
    return amount // 100


def evaluate(cart: Cart, candidates: list[Candidate], shopper: Shopper) -> Evaluation:
    return engine.evaluate(cart, candidates, shopper, NOW, points_of)


def has_item_conditions(c: Conditions) -> bool:
    return bool(c.skus or c.exclude_skus or c.categories or c.exclude_categories)


def lets_through(c: Conditions, line: Line) -> bool:
    """Whether the conditions' item sets let the line through (empty includes: any)."""
    return (
        (not c.skus or line.sku in c.skus)
        and (not c.categories or line.category in c.categories)
        and line.sku not in c.exclude_skus
        and line.category not in c.exclude_categories
    )


def worth(e: Evaluation) -> tuple[int, int]:
    return (e.discount + e.shipping_discount, e.bonus_points)


@settings(max_examples=150, deadline=None)
@given(cases())
def test_amounts_limits_and_stacking_hold(case: tuple[Cart, list[Candidate], Shopper]) -> None:
    cart, candidates, shopper = case
    e = evaluate(cart, candidates, shopper)
    # Nothing below zero, and every allocation adds up.
    assert all(x >= 0 for a in e.applied for x in (*a.lines, a.shipping, a.points))
    for i, line in enumerate(cart.lines):
        assert e.line_totals[i] == line.amount - sum(a.lines[i] for a in e.applied) >= 0
    assert e.discount == sum(sum(a.lines) for a in e.applied)
    assert e.shipping_discount == sum(a.shipping for a in e.applied) <= cart.shipping
    assert e.bonus_points == sum(a.points for a in e.applied)
    assert e.total == sum(e.line_totals) + cart.shipping - e.shipping_discount >= 0
    # Every candidate is accounted for once: applied, or with a reason.
    given_ = Counter((c.promotion.id, None if c.code is None else c.code.code) for c in candidates)
    outcomes = Counter([(a.promotion_id, a.code) for a in e.applied])
    outcomes.update((n.promotion_id, n.code) for n in e.not_applied)
    assert outcomes == given_
    # No promotion beyond its limits.
    by_key = {(c.promotion.id, None if c.code is None else c.code.code): c for c in candidates}
    assert len({a.promotion_id for a in e.applied}) == len(e.applied)
    for a in e.applied:
        c = by_key[a.promotion_id, a.code]
        p, limits = c.promotion, c.promotion.limits
        assert p.status is Status.ACTIVE
        assert p.currency in (None, "EUR")
        assert p.schedule.ends_at is None or p.schedule.ends_at > NOW
        assert limits.total_uses is None or c.usage.uses < limits.total_uses
        if limits.budget is not None:
            assert c.usage.discounted + a.discount <= minor(limits.budget, "EUR")
        if limits.per_member is not None:
            assert shopper.member_id is not None
            assert shopper.member_uses.get(p.id, 0) < limits.per_member
        if p.effect.cap is not None:
            assert a.discount <= minor(p.effect.cap, "EUR")
        # Whatever its effect (shipping and bonus points too), its item conditions hold.
        matching = [line for line in cart.lines if lets_through(p.conditions, line)]
        if has_item_conditions(p.conditions):
            assert matching, p
        assert sum(line.quantity for line in matching) >= p.conditions.min_quantity
        if p.activation is Activation.CODE:
            assert c.code is not None
            assert c.code.member_id in (None, shopper.member_id)
            allowed = c.code.max_uses if c.code.max_uses is not None else limits.per_code
            assert allowed is None or c.code.uses < allowed
    # Stacking: phase, then priority, then id; an exclusive one only with universal ones.
    promotions = {c.promotion.id: c.promotion for c in candidates}
    applied = [promotions[a.promotion_id] for a in e.applied]
    ranks = [(phase_of(p.effect.kind, p.effect.target), -p.priority, p.id) for p in applied]
    assert ranks == sorted(ranks)
    stackings = Counter(p.stacking for p in applied)
    assert stackings[Stacking.EXCLUSIVE] <= 1
    assert not (stackings[Stacking.EXCLUSIVE] and stackings[Stacking.STACKABLE])


item_conditions = st.builds(
    Conditions,
    skus=st.just(frozenset()) | item_sets,
    exclude_skus=st.frozensets(st.sampled_from(SKUS), max_size=3),
    categories=st.frozensets(st.sampled_from(CATEGORIES[1:]), max_size=1),
    exclude_categories=st.frozensets(st.sampled_from(CATEGORIES[1:]), max_size=2),
)
# Each effect with what it gives a cart shipped for 5.00: (shipping discount, points).
shipping_and_points = st.sampled_from(
    [
        (Effect(EffectKind.FREE_SHIPPING, target=Target.SHIPPING), (500, 0)),
        (Effect(EffectKind.PERCENT_OFF, target=Target.SHIPPING, percent=Decimal(50)), (250, 0)),
        (Effect(EffectKind.AMOUNT_OFF, target=Target.SHIPPING, amount=Decimal(1)), (100, 0)),
        (Effect(EffectKind.BONUS_POINTS, points=10), (0, 10)),
    ]
)


@settings(max_examples=100, deadline=None)
@given(lines, shipping_and_points, item_conditions)
def test_shipping_and_bonus_points_apply_exactly_when_an_item_matches(
    cart_lines: list[Line], effect_and_worth: tuple[Effect, tuple[int, int]], c: Conditions
) -> None:
    effect, expected = effect_and_worth
    cart = Cart("EUR", tuple(cart_lines), 500)
    promotion = Promotion(id="p", name="P", effect=effect, conditions=c, currency="EUR")
    e = evaluate(cart, [Candidate(promotion)], Shopper())
    if any(lets_through(c, line) for line in cart.lines):
        assert ([a.promotion_id for a in e.applied], e.not_applied) == (["p"], ())
        assert (e.shipping_discount, e.bonus_points) == expected
    else:
        assert [(n.promotion_id, n.reason) for n in e.not_applied] == [
            ("p", Reason.NO_MATCHING_ITEMS)
        ]
        assert (e.applied, e.shipping_discount, e.bonus_points) == ((), 0, 0)
    assert e.discount == 0


@settings(max_examples=80, deadline=None)
@given(cases())
def test_the_winner_is_the_best_option(case: tuple[Cart, list[Candidate], Shopper]) -> None:
    cart, candidates, shopper = case
    best = worth(evaluate(cart, candidates, shopper))
    alone = [c for c in candidates if c.promotion.stacking is not Stacking.EXCLUSIVE]
    assert worth(evaluate(cart, alone, shopper)) <= best
    universal = [c for c in candidates if c.promotion.stacking is Stacking.UNIVERSAL]
    for pid in {c.promotion.id for c in candidates if c.promotion.stacking is Stacking.EXCLUSIVE}:
        own = [c for c in candidates if c.promotion.id == pid]
        option = evaluate(cart, own + universal, shopper)
        if any(a.promotion_id == pid for a in option.applied):
            assert worth(option) <= best


@settings(max_examples=80, deadline=None)
@given(cases(), st.randoms(use_true_random=False))
def test_the_order_of_lines_and_candidates_does_not_matter(
    case: tuple[Cart, list[Candidate], Shopper], random: Any
) -> None:
    cart, candidates, shopper = case
    e = evaluate(cart, candidates, shopper)
    order = list(range(len(cart.lines)))
    random.shuffle(order)
    shuffled = list(candidates)
    random.shuffle(shuffled)
    moved = Cart(cart.currency, tuple(cart.lines[i] for i in order), cart.shipping)
    m = evaluate(moved, shuffled, shopper)
    assert (m.not_applied, m.hints) == (e.not_applied, e.hints)
    assert (m.discount, m.shipping_discount, m.bonus_points) == (
        e.discount,
        e.shipping_discount,
        e.bonus_points,
    )
    assert [(a.promotion_id, a.code, a.shipping, a.points) for a in m.applied] == [
        (a.promotion_id, a.code, a.shipping, a.points) for a in e.applied
    ]

    def per_line(ev: Evaluation, c: Cart) -> Counter[Any]:
        """Each line with its total and what each promotion took off it (identical lines
        may trade places)."""
        return Counter(
            (line, ev.line_totals[i], tuple(a.lines[i] for a in ev.applied))
            for i, line in enumerate(c.lines)
        )

    assert per_line(m, moved) == per_line(e, cart)
