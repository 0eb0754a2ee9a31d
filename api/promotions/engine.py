"""The promotions engine, pure: which candidates apply to a cart, in which order, for how
much, allocated to which lines, and why every other one did not.

Rules it holds (tests/promotions/test_engine_properties.py checks them on random carts):
- Money is in minor units. Each discount is allocated to lines by largest remainders, so the
  allocations sum exactly to the discount; no line goes below zero.
- Stacking: STACKABLE and UNIVERSAL promotions apply in priority order (higher first, then
  by id), each to what the earlier ones left ("later percentages apply to what earlier
  discounts left"). An EXCLUSIVE promotion applies alone with the UNIVERSAL ones; the option
  worth most to the customer wins (discount, then points), ties to the earlier option.
- Conditions on amounts (minimum subtotal) read the cart as the promotions before have left
  it; conditions on items (SKUs, categories, quantities) read the cart as given.
- The result depends on the lines, not their order: lines are handled in a canonical order
  and the result is reported back in the cart's order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from api.money import minor_units
from api.promotions.model import (
    Activation,
    Applied,
    Candidate,
    Cart,
    EffectKind,
    Evaluation,
    Hint,
    Line,
    NotApplied,
    Promotion,
    Reason,
    Shopper,
    Spread,
    Stacking,
    Target,
)

HUNDRED = Decimal(100)


def minor(amount: Decimal, currency: str) -> int:
    return int(amount.scaleb(minor_units(currency)).to_integral_value(ROUND_HALF_UP))


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """`total` split in proportion to `weights` (whole units, largest remainders first, ties
    to the earlier weight); never more than a weight when total <= sum(weights)."""
    whole = sum(weights)
    if total <= 0 or whole <= 0:
        return [0] * len(weights)
    shares = [total * w // whole for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in remainders[: total - sum(shares)]:
        shares[i] += 1
    return shares


@dataclass(frozen=True)
class _State:
    """The cart as the promotions applied so far have left it (canonical line order)."""

    lines: tuple[int, ...]  # remaining amount of each line
    shipping: int

    @property
    def subtotal(self) -> int:
        return sum(self.lines)


def _matching(promotion: Promotion, lines: Sequence[Line]) -> list[bool]:
    c = promotion.conditions

    def matches(line: Line) -> bool:
        if c.skus and line.sku not in c.skus:
            return False
        if line.sku in c.exclude_skus:
            return False
        if c.categories and line.category not in c.categories:
            return False
        return line.category is None or line.category not in c.exclude_categories

    return [matches(line) for line in lines]


def _opens_at(promotion: Promotion, shopper: Shopper) -> datetime | None:
    """When the promotion opens for this shopper: earlier for tiers with early access."""
    start = promotion.schedule.starts_at
    if start is None:
        return None
    hours = [
        e.hours
        for e in promotion.schedule.early_access
        if e.tier in shopper.tier_ranks and shopper.tier_rank >= shopper.tier_ranks[e.tier]
    ]
    return start - timedelta(hours=max(hours)) if hours else start


def opens_for_tier(promotion: Promotion, hours: int) -> datetime:
    start = promotion.schedule.starts_at
    assert start is not None
    return start - timedelta(hours=hours)


def _refusal(
    candidate: Candidate, cart: Cart, shopper: Shopper, now: datetime
) -> NotApplied | None:
    """Why a candidate cannot apply to this shopper and cart at all, before any amount."""
    p = candidate.promotion
    code = candidate.code

    def no(reason: Reason, detail: str) -> NotApplied:
        return NotApplied(p.id, p.name, reason, detail, None if code is None else code.code)

    if p.status.value != "ACTIVE":
        return no(Reason.INACTIVE, f"The promotion is {p.status.value.lower()}.")
    schedule = p.schedule
    if schedule.ends_at is not None and now >= schedule.ends_at:
        return no(Reason.ENDED, f"Ended at {schedule.ends_at.isoformat()}.")
    opens = _opens_at(p, shopper)
    if opens is not None and now < opens:
        earliest = min(
            (opens, *(opens_for_tier(p, e.hours) for e in schedule.early_access)), default=opens
        )
        if now >= earliest:
            tiers = ", ".join(e.tier for e in schedule.early_access)
            return no(Reason.EARLY_ACCESS_ONLY, f"Open now to {tiers} members only.")
        return no(Reason.NOT_STARTED, f"Starts at {opens.isoformat()}.")
    c = p.conditions
    if c.currencies and cart.currency not in c.currencies:
        return no(Reason.CURRENCY, f"Only for {', '.join(sorted(c.currencies))}.")
    if p.currency is not None and p.currency != cart.currency:
        return no(Reason.CURRENCY, f"Only for {p.currency}.")
    if p.activation is Activation.CODE and code is None:
        return no(Reason.CODE_REQUIRED, "Needs a code.")
    member_needed = c.min_tier is not None or c.first_order_only or p.limits.per_member
    if member_needed and shopper.member_id is None:
        return no(Reason.MEMBER_REQUIRED, "For members only.")
    if c.min_tier is not None and shopper.tier_rank < shopper.tier_ranks.get(c.min_tier, 10**6):
        return no(Reason.TIER_TOO_LOW, f"For {c.min_tier} members and above.")
    if c.first_order_only and not shopper.first_order:
        return no(Reason.NOT_FIRST_ORDER, "For a first order only.")
    limits = p.limits
    if limits.total_uses is not None and candidate.usage.uses >= limits.total_uses:
        return no(Reason.USES_EXHAUSTED, "All its uses are taken.")
    if limits.budget is not None and candidate.usage.discounted >= minor(
        limits.budget, cart.currency
    ):
        return no(Reason.BUDGET_EXHAUSTED, "Its budget is spent.")
    if limits.per_member is not None and shopper.member_uses.get(p.id, 0) >= limits.per_member:
        return no(Reason.MEMBER_LIMIT_REACHED, "Already used as often as a member may.")
    if code is not None:
        if code.member_id is not None and code.member_id != shopper.member_id:
            return no(Reason.CODE_BOUND_TO_ANOTHER_MEMBER, "This code belongs to someone else.")
        per_code = code.max_uses if code.max_uses is not None else limits.per_code
        if per_code is not None and code.uses >= per_code:
            return no(Reason.CODE_USED_UP, "This code has been used.")
    matching = _matching(p, cart.lines)
    units = sum(line.quantity for line, m in zip(cart.lines, matching, strict=True) if m)
    touches_items = p.effect.target is not Target.SHIPPING and p.effect.kind not in (
        EffectKind.FREE_SHIPPING,
        EffectKind.BONUS_POINTS,
    )
    if touches_items and not units:
        return no(Reason.NO_MATCHING_ITEMS, "No item in the cart qualifies.")
    if units < c.min_quantity:
        return no(
            Reason.MIN_QUANTITY, f"Needs {c.min_quantity} qualifying items; {units} in the cart."
        )
    return None


@dataclass(frozen=True)
class _Step:
    applied: Applied | None
    refused: NotApplied | None
    hint: Hint | None
    state: _State


def _apply(
    candidate: Candidate,
    cart: Cart,
    order: Sequence[int],
    state: _State,
    points_of: Callable[[int], int],
) -> _Step:
    """One promotion on the cart as `state` left it. `order` is the canonical line order:
    state.lines[k] is cart line order[k]."""
    p = candidate.promotion
    e = p.effect
    currency = cart.currency
    code = None if candidate.code is None else candidate.code.code
    lines = [cart.lines[i] for i in order]
    matching = _matching(p, lines)
    remaining = list(state.lines)
    min_subtotal = p.conditions.min_subtotal
    if min_subtotal is not None:
        needed = minor(min_subtotal, currency)
        if state.subtotal < needed:
            missing = needed - state.subtotal
            return _Step(
                None,
                NotApplied(
                    p.id,
                    p.name,
                    Reason.MIN_SUBTOTAL,
                    f"Needs a subtotal of {min_subtotal} {currency}.",
                    code,
                ),
                Hint(p.id, p.name, missing_amount=missing),
                state,
            )
    off, shipping_off, points = _effect(
        p, lines, matching, remaining=remaining, state=state, currency=currency, points_of=points_of
    )
    money = sum(off) + shipping_off
    if not money and not points:
        return _Step(
            None,
            NotApplied(
                p.id,
                p.name,
                Reason.NOTHING_LEFT_TO_DISCOUNT,
                "Promotions before it left nothing to discount.",
                code,
            ),
            None,
            state,
        )
    budget = p.limits.budget
    if budget is not None:
        left = minor(budget, currency) - candidate.usage.discounted
        if money > left:
            return _Step(
                None,
                NotApplied(
                    p.id,
                    p.name,
                    Reason.BUDGET_EXHAUSTED,
                    "Its budget cannot cover this cart.",
                    code,
                ),
                None,
                state,
            )
    in_cart_order = [0] * len(lines)
    for k, i in enumerate(order):
        in_cart_order[i] = off[k]
    new_state = _State(
        tuple(r - o for r, o in zip(remaining, off, strict=True)), state.shipping - shipping_off
    )
    return _Step(
        Applied(p.id, p.name, e.kind, tuple(in_cart_order), shipping_off, points, code),
        None,
        None,
        new_state,
    )


def _effect(
    p: Promotion,
    lines: Sequence[Line],
    matching: Sequence[bool],
    *,
    remaining: Sequence[int],
    state: _State,
    currency: str,
    points_of: Callable[[int], int],
) -> tuple[list[int], int, int]:
    """What the promotion's effect takes off each line and the shipping, and the points it
    adds, on the cart as `state` left it."""
    e = p.effect
    weights = [r if m else 0 for r, m in zip(remaining, matching, strict=True)]
    off = [0] * len(lines)
    shipping_off = 0
    points = 0
    if e.kind is EffectKind.PERCENT_OFF and e.target is not Target.SHIPPING:
        assert e.percent is not None
        total = int((Decimal(sum(weights)) * e.percent / HUNDRED).to_integral_value(ROUND_HALF_UP))
        off = allocate(_capped(total, p, currency), weights)
    elif e.kind is EffectKind.AMOUNT_OFF and e.target is not Target.SHIPPING:
        assert e.amount is not None
        amount = minor(e.amount, currency)
        if e.target is Target.LINES and e.spread is Spread.EACH:
            each = [min(amount * line.quantity, w) for line, w in zip(lines, weights, strict=True)]
            total = _capped(sum(each), p, currency)
            off = allocate(total, each) if total < sum(each) else each
        else:
            off = allocate(_capped(min(amount, sum(weights)), p, currency), weights)
    elif e.kind is EffectKind.BUY_X_GET_Y:
        off = _buy_x_get_y(p, lines, matching, remaining, currency)
    elif e.kind is EffectKind.FREE_SHIPPING or e.target is Target.SHIPPING:
        if e.kind is EffectKind.FREE_SHIPPING:
            shipping_off = state.shipping
        elif e.kind is EffectKind.PERCENT_OFF:
            assert e.percent is not None
            shipping_off = int(
                (Decimal(state.shipping) * e.percent / HUNDRED).to_integral_value(ROUND_HALF_UP)
            )
        elif e.kind is EffectKind.AMOUNT_OFF:
            assert e.amount is not None
            shipping_off = min(minor(e.amount, currency), state.shipping)
        shipping_off = _capped(shipping_off, p, currency)
    elif e.kind is EffectKind.BONUS_POINTS:
        points = e.points
    elif e.kind is EffectKind.POINTS_MULTIPLIER:
        assert e.multiplier is not None
        base = points_of(sum(weights))
        points = int((Decimal(base) * (e.multiplier - 1)).to_integral_value(ROUND_FLOOR))
    return off, shipping_off, points


def _capped(total: int, promotion: Promotion, currency: str) -> int:
    cap = promotion.effect.cap
    return total if cap is None else min(total, minor(cap, currency))


def _buy_x_get_y(
    p: Promotion,
    lines: Sequence[Line],
    matching: Sequence[bool],
    remaining: Sequence[int],
    currency: str,
) -> list[int]:
    """For every buy + get matching units, the `get` cheapest units (as the cart stands)
    are discounted by `percent` (free by default)."""
    e = p.effect
    group = e.buy + e.get
    units: list[tuple[Decimal, int]] = []  # (unit price left, canonical line)
    for k, (line, m) in enumerate(zip(lines, matching, strict=True)):
        if m and line.quantity:
            units += [(Decimal(remaining[k]) / line.quantity, k)] * line.quantity
    free = (len(units) // group) * e.get if group else 0
    percent = e.percent if e.percent is not None else HUNDRED
    exact = [Decimal(0)] * len(lines)
    for price, k in sorted(units)[:free]:
        exact[k] += price * percent / HUNDRED
    total = int(sum(exact, Decimal(0)).to_integral_value(ROUND_HALF_UP))
    whole = [int(x.to_integral_value(ROUND_FLOOR)) for x in exact]
    total = _capped(total, p, currency)
    # Whole units of each line's exact share, then the remainder by largest fractions.
    if total < sum(whole):
        return allocate(total, whole)
    extra = total - sum(whole)
    order = sorted(range(len(lines)), key=lambda k: (-(exact[k] - whole[k]), k))
    for k in order[:extra]:
        whole[k] += 1
    return [min(w, r) for w, r in zip(whole, remaining, strict=True)]


def _canonical(cart: Cart) -> list[int]:
    """Line indexes in an order that does not depend on how the cart listed them."""
    return sorted(
        range(len(cart.lines)),
        key=lambda i: (
            cart.lines[i].sku,
            cart.lines[i].category or "",
            cart.lines[i].unit_price,
            cart.lines[i].quantity,
        ),
    )


def _ranked(candidates: Sequence[Candidate]) -> list[Candidate]:
    return sorted(candidates, key=lambda c: (-c.promotion.priority, c.promotion.id))


@dataclass(frozen=True)
class _Option:
    applied: tuple[Applied, ...]
    refused: tuple[NotApplied, ...]
    hints: tuple[Hint, ...]
    state: _State

    @property
    def worth(self) -> tuple[int, int]:
        return (sum(a.discount for a in self.applied), sum(a.points for a in self.applied))


def _run(
    candidates: Sequence[Candidate],
    cart: Cart,
    order: Sequence[int],
    start: _State,
    points_of: Callable[[int], int],
) -> _Option:
    state = start
    applied: list[Applied] = []
    refused: list[NotApplied] = []
    hints: list[Hint] = []
    for candidate in _ranked(candidates):
        step = _apply(candidate, cart, order, state, points_of)
        state = step.state
        if step.applied is not None:
            applied.append(step.applied)
        if step.refused is not None:
            refused.append(step.refused)
        if step.hint is not None:
            hints.append(step.hint)
    return _Option(tuple(applied), tuple(refused), tuple(hints), state)


def evaluate(
    cart: Cart,
    candidates: Sequence[Candidate],
    shopper: Shopper,
    now: datetime,
    points_of: Callable[[int], int],
) -> Evaluation:
    """`points_of(amount)`: the base points an amount (minor units) earns, for multipliers."""
    order = _canonical(cart)
    start = _State(tuple(cart.lines[i].amount for i in order), cart.shipping)
    eligible: list[Candidate] = []
    refused: list[NotApplied] = []
    for candidate in candidates:
        refusal = _refusal(candidate, cart, shopper, now)
        if refusal is None:
            eligible.append(candidate)
        else:
            refused.append(refusal)
    universal = [c for c in eligible if c.promotion.stacking is Stacking.UNIVERSAL]
    exclusive = [c for c in eligible if c.promotion.stacking is Stacking.EXCLUSIVE]
    stackable = [c for c in eligible if c.promotion.stacking is Stacking.STACKABLE]
    options: list[tuple[Candidate | None, _Option]] = [
        (None, _run(stackable + universal, cart, order, start, points_of))
    ]
    options += [
        (c, _run([c, *universal], cart, order, start, points_of)) for c in _ranked(exclusive)
    ]
    winner, best = options[0]
    for exclusive_one, option in options[1:]:
        if option.worth > best.worth:
            winner, best = exclusive_one, option
    refused += best.refused
    for candidate in stackable + exclusive:
        p = candidate.promotion
        if winner is not None and p.id == winner.promotion.id:
            continue
        if any(a.promotion_id == p.id for a in best.applied):
            continue
        if any(r.promotion_id == p.id for r in best.refused):
            continue
        code = None if candidate.code is None else candidate.code.code
        if winner is not None:
            reason, detail = Reason.LOST_TO_EXCLUSIVE, f"{winner.promotion.name} applies alone."
        else:
            reason, detail = (
                Reason.LOST_TO_BETTER_OPTION,
                "Other promotions together are worth more.",
            )
        refused.append(NotApplied(p.id, p.name, reason, detail, code))
    line_off = [0] * len(cart.lines)
    for a in best.applied:
        line_off = [x + y for x, y in zip(line_off, a.lines, strict=True)]
    shipping_off = sum(a.shipping for a in best.applied)
    return Evaluation(
        currency=cart.currency,
        subtotal=sum(line.amount for line in cart.lines),
        discount=sum(line_off),
        shipping=cart.shipping,
        shipping_discount=shipping_off,
        applied=best.applied,
        not_applied=tuple(sorted(refused, key=lambda r: r.promotion_id)),
        hints=best.hints,
        line_totals=tuple(line.amount - o for line, o in zip(cart.lines, line_off, strict=True)),
        bonus_points=sum(a.points for a in best.applied),
    )
