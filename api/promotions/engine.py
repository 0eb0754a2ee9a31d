"""The promotions engine, pure: which candidates apply to a cart, in which order, for how
much, allocated to which lines, and why every other one did not.

Rules it holds (tests/promotions/test_engine_properties.py checks them on random carts):
- Money is in minor units. Each discount is allocated to lines by largest remainders (ties to
  the line first in the canonical order), so the allocations sum exactly to the discount; no
  line and no shipping goes below zero.
- A percentage is taken of the minor-unit total it applies to, rounded half up; a points
  multiplier adds floor(base points x (multiplier - 1)).
- Promotions apply in phases: (1) LINES: percent or amount off LINES, buy X get Y; (2) ORDER:
  percent or amount off the SUBTOTAL; (3) SHIPPING: free shipping, percent or amount off
  SHIPPING; (4) POINTS: bonus points, points multipliers (on what the matching lines cost
  after every discount). Within a phase, higher priority first, then by id. Each takes its
  share of what the ones before it left: two 50% off leave 25%.
- A minimum subtotal reads the whole cart's subtotal: for a LINES promotion, after the LINES
  promotions before it; for an ORDER promotion, after every LINES promotion (not after the
  other ORDER ones); for SHIPPING and POINTS, after every LINES and ORDER promotion. A hint
  gives what is missing measured the same way; details show amounts as money in the cart's
  currency ("50.00 EUR", "1200 JPY"). Conditions on items (SKUs, categories, quantities) read
  the cart as given, and hold for every effect: a promotion with SKUs or categories (included
  or excluded) needs a line they let through, free shipping and bonus points too. Without
  them, shipping and bonus points need no line; the others need one.
- Stacking: the STACKABLE and UNIVERSAL promotions together form one option; each EXCLUSIVE
  one with the UNIVERSAL ones forms another (only if the exclusive one applies in it). The
  option worth most to the customer wins (discount, then points); ties go to the stackable
  option, then to exclusives by priority, then id.
- Each promotion applies at most once per cart, so never beyond its uses, budget, per-member
  or per-code limits as the candidates' usage gives them; a budget that cannot cover the
  discount refuses the promotion rather than cutting the discount.
- Every candidate that does not apply gets one reason: its own (a check, or its own option's
  MIN_SUBTOTAL, NOTHING_LEFT_TO_DISCOUNT or BUDGET_EXHAUSTED), else LOST_TO_EXCLUSIVE when an
  exclusive one won, else LOST_TO_BETTER_OPTION. MIN_SUBTOTAL and MIN_QUANTITY come with a hint.
- The result depends on the lines, not their order: lines are handled in a canonical order
  and the result is reported back in the cart's order.
"""

from __future__ import annotations

import copy
import math
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import IntEnum
from functools import cache

from api.money import minor_units
from api.promotions.model import (
    Activation,
    Applied,
    Candidate,
    Cart,
    Conditions,
    Effect,
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
    Status,
    Target,
)

EXCLUSIVE, STACKABLE, UNIVERSAL = Stacking.EXCLUSIVE, Stacking.STACKABLE, Stacking.UNIVERSAL
_Points = Callable[[int], int]  # the base points an amount (minor units) earns
_Outcome = tuple[Reason, str, Hint | None]  # why a plan did not apply in an option


class Phase(IntEnum):
    LINES = 1
    ORDER = 2
    SHIPPING = 3
    POINTS = 4


# How a minimum subtotal is measured, by phase (in MIN_SUBTOTAL details).
_AFTER = ("", "after earlier line discounts", "after line discounts", *["after discounts"] * 2)


@cache  # a handful of pairs: cheaper than the enum comparisons
def phase_of(kind: EffectKind, target: Target) -> Phase:
    if kind in (EffectKind.BONUS_POINTS, EffectKind.POINTS_MULTIPLIER):
        return Phase.POINTS
    if kind is EffectKind.FREE_SHIPPING or target is Target.SHIPPING:
        return Phase.SHIPPING
    if kind is EffectKind.BUY_X_GET_Y or target is Target.LINES:
        return Phase.LINES
    return Phase.ORDER


def minor(amount: Decimal, currency: str) -> int:
    return int(amount.scaleb(minor_units(currency)).to_integral_value(ROUND_HALF_UP))


def shown(amount: int, currency: str) -> str:
    """An amount in minor units as people read it: '12.00 EUR', '1200 JPY', '1.500 BHD'."""
    return f"{Decimal(amount).scaleb(-minor_units(currency)):f} {currency}"


def _half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up (both >= 0): Decimal's ROUND_HALF_UP, in ints."""
    return (2 * numerator + denominator) // (2 * denominator)


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """`total` split in proportion to `weights` (whole units, largest remainders first, ties
    to the earlier weight); never more than a weight when total <= sum(weights)."""
    whole = sum(weights)
    if total <= 0 or whole <= 0:
        return [0] * len(weights)
    shares = [total * w // whole for w in weights]
    short = total - sum(shares)
    if short:
        by_remainder = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
        for i in by_remainder[:short]:
            shares[i] += 1
    return shares


class _Lines:
    """The cart's lines in an order that does not depend on how the cart listed them."""

    def __init__(self, cart: Cart) -> None:
        def key(i: int) -> tuple[str, str, int, int]:
            line = cart.lines[i]
            return (line.sku, line.category or "", line.unit_price, line.quantity)

        self.order = sorted(range(len(cart.lines)), key=key)
        self.lines = [cart.lines[i] for i in self.order]
        self.everything = tuple(range(len(self.lines)))
        self._keys = [(line.sku, line.category) for line in self.lines]

    def matching(self, c: Conditions) -> tuple[int, ...]:
        """The lines the conditions' item sets let through, ascending."""
        skus, categories = c.skus, c.categories
        no_skus, no_categories = c.exclude_skus, c.exclude_categories
        if not (skus or categories or no_skus or no_categories):
            return self.everything
        return tuple(
            [
                k
                for k, (sku, category) in enumerate(self._keys)
                if (not skus or sku in skus)
                and (not categories or category in categories)
                and sku not in no_skus
                and category not in no_categories
            ]
        )


@dataclass(slots=True)
class _Plan:
    """A candidate past every check that does not depend on other promotions, with what the
    options need of it computed once per evaluation."""

    candidate: Candidate
    promotion: Promotion
    effect: Effect
    phase: Phase
    lines: tuple[int, ...]  # the matching lines, as canonical indexes (ascending)
    currency: str  # the cart's
    min_subtotal: int | None
    amount: int  # AMOUNT_OFF, minor units
    ratio: tuple[int, int]  # percent / 100 (PERCENT_OFF, BUY_X_GET_Y), or multiplier - 1
    cap: int | None
    budget_left: int | None

    @property
    def rank(self) -> tuple[int, int, str]:
        """The order within an option."""
        return (self.phase, -self.promotion.priority, self.promotion.id)

    def capped(self, total: int) -> int:
        return total if self.cap is None else min(total, self.cap)


def _no(candidate: Candidate, reason: Reason, detail: str) -> NotApplied:
    p, code = candidate.promotion, candidate.code
    return NotApplied(p.id, p.name, reason, detail, None if code is None else code.code)


def _refusal(
    candidate: Candidate, cart: Cart, shopper: Shopper, now: datetime
) -> NotApplied | None:
    """Why the candidate cannot apply to this shopper at all, items and amounts aside."""
    p, code, usage = candidate.promotion, candidate.code, candidate.usage

    def no(reason: Reason, detail: str) -> NotApplied:
        return _no(candidate, reason, detail)

    if p.status is not Status.ACTIVE:
        return no(Reason.INACTIVE, f"The promotion is {p.status.value.lower()}.")
    schedule, c, limits = p.schedule, p.conditions, p.limits
    if schedule.ends_at is not None and now >= schedule.ends_at:
        return no(Reason.ENDED, f"Ended at {schedule.ends_at.isoformat()}.")
    start = schedule.starts_at
    if start is not None and now < start:
        ranks, rank = shopper.tier_ranks, shopper.tier_rank
        mine = [e.hours for e in schedule.early_access if rank >= ranks.get(e.tier, 10**6)]
        opens = start - timedelta(hours=max(mine, default=0))
        earliest = start - timedelta(hours=max((e.hours for e in schedule.early_access), default=0))
        if now < earliest:
            return no(Reason.NOT_STARTED, f"Starts at {opens.isoformat()}.")
        if now < opens:
            tiers = ", ".join(e.tier for e in schedule.early_access)
            return no(Reason.EARLY_ACCESS_ONLY, f"Open now to {tiers} members only.")
    if c.currencies and cart.currency not in c.currencies:
        return no(Reason.CURRENCY, f"Only for {', '.join(sorted(c.currencies))}.")
    if p.currency is not None and p.currency != cart.currency:
        return no(Reason.CURRENCY, f"Only for {p.currency}.")
    if p.activation is Activation.CODE and code is None:
        return no(Reason.CODE_REQUIRED, "Needs a code.")
    member_needed = c.min_tier is not None or c.first_order_only or limits.per_member
    if member_needed and shopper.member_id is None:
        return no(Reason.MEMBER_REQUIRED, "For members only.")
    if c.min_tier is not None and shopper.tier_rank < shopper.tier_ranks.get(c.min_tier, 10**6):
        return no(Reason.TIER_TOO_LOW, f"For {c.min_tier} members and above.")
    if c.first_order_only and not shopper.first_order:
        return no(Reason.NOT_FIRST_ORDER, "For a first order only.")
    if limits.total_uses is not None and usage.uses >= limits.total_uses:
        return no(Reason.USES_EXHAUSTED, "All its uses are taken.")
    if limits.budget is not None and usage.discounted >= minor(limits.budget, cart.currency):
        return no(Reason.BUDGET_EXHAUSTED, "Its budget is spent.")
    if limits.per_member is not None and shopper.member_uses.get(p.id, 0) >= limits.per_member:
        return no(Reason.MEMBER_LIMIT_REACHED, "Already used as often as a member may.")
    if code is not None:
        if code.member_id is not None and code.member_id != shopper.member_id:
            return no(Reason.CODE_BOUND_TO_ANOTHER_MEMBER, "This code belongs to someone else.")
        if code.voided:
            return no(Reason.CODE_CANCELLED, "This code was cancelled.")
        if code.expires_at is not None and now >= code.expires_at:
            return no(Reason.CODE_EXPIRED, f"Expired at {code.expires_at.isoformat()}.")
        per_code = code.max_uses if code.max_uses is not None else limits.per_code
        if per_code is not None and code.uses >= per_code:
            return no(Reason.CODE_USED_UP, "This code has been used.")
    return None


def _plan(
    candidate: Candidate, currency: str, cart_lines: _Lines
) -> _Plan | NotApplied | tuple[NotApplied, Hint]:
    """The candidate ready for the options, or why its items refuse it (with a hint)."""
    p, c, e = candidate.promotion, candidate.promotion.conditions, candidate.promotion.effect
    matching = cart_lines.matching(c)
    units = sum(cart_lines.lines[k].quantity for k in matching)
    phase = phase_of(e.kind, e.target)
    # Item conditions hold whatever the effect. Without any, shipping and bonus points, which
    # take nothing off the lines, need no item at all.
    items = c.skus or c.categories or c.exclude_skus or c.exclude_categories
    lineless = phase is Phase.SHIPPING or e.kind is EffectKind.BONUS_POINTS
    if not units and (items or not lineless):
        return _no(candidate, Reason.NO_MATCHING_ITEMS, "No item in the cart qualifies.")
    if units < c.min_quantity:
        detail = f"Needs {c.min_quantity} qualifying items; {units} in the cart."
        hint = Hint(p.id, p.name, missing_quantity=c.min_quantity - units)
        return _no(candidate, Reason.MIN_QUANTITY, detail), hint
    if e.kind is EffectKind.POINTS_MULTIPLIER:
        ratio = (e.multiplier or Decimal(1)) - 1
    elif e.percent is not None:
        ratio = e.percent / 100
    else:  # buy X get Y: free units by default; a percent off without one takes nothing
        ratio = Decimal(e.kind is EffectKind.BUY_X_GET_Y)
    budget, usage = p.limits.budget, candidate.usage
    return _Plan(
        candidate=candidate,
        promotion=p,
        effect=e,
        phase=phase,
        lines=matching,
        currency=currency,
        min_subtotal=None if c.min_subtotal is None else minor(c.min_subtotal, currency),
        amount=0 if e.amount is None else minor(e.amount, currency),
        ratio=ratio.as_integer_ratio(),
        cap=None if e.cap is None else minor(e.cap, currency),
        budget_left=None if budget is None else minor(budget, currency) - usage.discounted,
    )


def _effect(
    plan: _Plan, lines: Sequence[Line], left: Sequence[int], shipping: int, points_of: _Points
) -> tuple[list[int], int, int]:
    """What the plan takes off each of its matching lines (aligned with plan.lines) and off
    the shipping, and the points it adds, on the cart as `left` and `shipping` stand."""
    e = plan.effect
    num, den = plan.ratio
    if plan.phase is Phase.SHIPPING:
        if e.kind is EffectKind.FREE_SHIPPING:
            off = shipping
        elif e.kind is EffectKind.PERCENT_OFF:
            off = min(_half_up(shipping * num, den), shipping)
        else:
            off = min(plan.amount, shipping)
        return [], max(plan.capped(off), 0), 0
    if e.kind is EffectKind.BONUS_POINTS:
        return [], 0, e.points
    weights = [left[k] for k in plan.lines]
    if e.kind is EffectKind.POINTS_MULTIPLIER:
        return [], 0, points_of(sum(weights)) * num // den
    if e.kind is EffectKind.BUY_X_GET_Y:
        return _buy_x_get_y(plan, lines, weights), 0, 0
    whole = sum(weights)
    if e.kind is EffectKind.PERCENT_OFF:
        return allocate(plan.capped(min(_half_up(whole * num, den), whole)), weights), 0, 0
    if e.target is Target.LINES and e.spread is Spread.EACH:
        each = [
            min(plan.amount * lines[k].quantity, w)
            for k, w in zip(plan.lines, weights, strict=True)
        ]
        total = plan.capped(sum(each))
        return (allocate(total, each) if total < sum(each) else each), 0, 0
    return allocate(plan.capped(min(plan.amount, whole)), weights), 0, 0


def _buy_x_get_y(plan: _Plan, lines: Sequence[Line], weights: Sequence[int]) -> list[int]:
    """For every buy + get matching units, the `get` cheapest units (as the cart stands, ties
    to the canonical order) are discounted by `percent` (free by default). Exact shares are
    numerators over one common denominator: ints, no Decimal."""
    e = plan.effect
    quantities = [lines[k].quantity for k in plan.lines]
    group = e.buy + e.get
    free = sum(quantities) // group * e.get if group > 0 else 0
    scale = math.lcm(*quantities)  # a unit of line j costs unit[j] / scale
    unit = [w * (scale // q) for w, q in zip(weights, quantities, strict=True)]
    num, den = plan.ratio
    exact = [0] * len(weights)  # over scale * den
    for j in sorted(range(len(weights)), key=lambda j: (unit[j], j)):
        taken = min(quantities[j], free)
        free -= taken
        exact[j] = taken * unit[j] * num
    over = scale * den
    total = plan.capped(_half_up(sum(exact), over))
    whole = [x // over for x in exact]
    if total < sum(whole):
        return allocate(total, whole)
    # Whole units of each line's exact share, then the remainder by largest fractions.
    by_fraction = sorted(range(len(weights)), key=lambda j: (-(exact[j] % over), j))
    for j in by_fraction[: total - sum(whole)]:
        whole[j] += 1
    return [min(x, w) for x, w in zip(whole, weights, strict=True)]


class _Run:
    """One option applied to the cart, plan after plan in rank order, each to what the ones
    before it left; `fork` goes on from a copy."""

    def __init__(self, lines: Sequence[Line], shipping: int, points_of: _Points) -> None:
        self.lines, self.shipping, self.points_of = lines, shipping, points_of
        self.left = [line.amount for line in lines]  # what each line still costs
        self.subtotal = self.after_lines = sum(self.left)
        self.applied: list[tuple[_Plan, list[int], int, int]] = []  # off, shipping off, points
        self.refused: dict[str, _Outcome] = {}
        self.discount = self.points = 0

    @property
    def worth(self) -> tuple[int, int]:
        return (self.discount, self.points)

    def fork(self) -> _Run:
        other = copy.copy(self)
        other.left, other.applied = self.left.copy(), self.applied.copy()
        other.refused = self.refused.copy()
        return other

    def apply(self, plans: Iterable[_Plan]) -> _Run:
        # The engine's hot path: state in locals, written back at the end.
        left, lines, points_of, refused = self.left, self.lines, self.points_of, self.refused
        subtotal, after_lines, shipping = self.subtotal, self.after_lines, self.shipping
        for plan in plans:
            p = plan.promotion
            if plan.min_subtotal is not None:
                base = after_lines if plan.phase is Phase.ORDER else subtotal
                if base < plan.min_subtotal:
                    missing = Hint(p.id, p.name, missing_amount=plan.min_subtotal - base)
                    at_least = f"{shown(plan.min_subtotal, plan.currency)} {_AFTER[plan.phase]}"
                    refused[p.id] = (
                        Reason.MIN_SUBTOTAL,
                        f"Needs a subtotal of {at_least}.",
                        missing,
                    )
                    continue
            off, shipping_off, points = _effect(plan, lines, left, shipping, points_of)
            taken = sum(off)
            money = taken + shipping_off
            if not money and not points:
                detail = "Nothing left for it to discount, or no points to add."
                refused[p.id] = (Reason.NOTHING_LEFT_TO_DISCOUNT, detail, None)
                continue
            if plan.budget_left is not None and money > plan.budget_left:
                refused[p.id] = (
                    Reason.BUDGET_EXHAUSTED,
                    "Its budget cannot cover this cart.",
                    None,
                )
                continue
            for k, o in zip(plan.lines, off, strict=False):  # off is empty for shipping, points
                left[k] -= o
            subtotal -= taken
            if plan.phase is Phase.LINES:
                after_lines = subtotal
            shipping -= shipping_off
            self.applied.append((plan, off, shipping_off, points))
            self.discount += money
            self.points += points
        self.subtotal, self.after_lines, self.shipping = subtotal, after_lines, shipping
        return self


def evaluate(
    cart: Cart,
    candidates: Sequence[Candidate],
    shopper: Shopper,
    now: datetime,
    points_of: _Points,
) -> Evaluation:
    """`points_of(amount)`: the base points an amount (minor units) earns, for multipliers."""
    cart_lines = _Lines(cart)
    refused: list[NotApplied] = []
    hints: list[Hint] = []
    plans: dict[str, _Plan] = {}
    # Automatic first, then codes in order: which of several codes of one promotion is used
    # does not depend on the order the candidates came in.
    for candidate in sorted(candidates, key=lambda c: "" if c.code is None else c.code.code):
        planned = _refusal(candidate, cart, shopper, now) or _plan(
            candidate, cart.currency, cart_lines
        )
        if isinstance(planned, tuple):
            refused.append(planned[0])
            hints.append(planned[1])
        elif isinstance(planned, NotApplied):
            refused.append(planned)
        elif planned.promotion.id in plans:
            refused.append(_no(candidate, Reason.USES_EXHAUSTED, "Applies once per order."))
        else:
            plans[planned.promotion.id] = planned
    ranked = sorted(plans.values(), key=lambda plan: plan.rank)
    # Options often ask the points of the same amount: each is computed once.
    start = _Run(cart_lines.lines, cart.shipping, cache(points_of))
    best, winner, own = _options(ranked, start)
    applied_ids = {plan.promotion.id for plan, *_ in best.applied}
    for plan in ranked:
        pid = plan.promotion.id
        if pid in applied_ids:
            continue
        outcome = best.refused.get(pid) or own[pid].refused.get(pid)
        if outcome is not None:
            reason, detail, hint = outcome
            hints += [] if hint is None else [hint]
        elif winner is not None:
            reason, detail = Reason.LOST_TO_EXCLUSIVE, f"{winner.promotion.name} applies alone."
        else:
            reason, detail = Reason.LOST_TO_BETTER_OPTION, "Others together are worth more."
        refused.append(_no(plan.candidate, reason, detail))
    return _evaluation(cart, cart_lines.order, best, refused, hints)


def _options(ranked: Sequence[_Plan], start: _Run) -> tuple[_Run, _Plan | None, dict[str, _Run]]:
    """The winning option, the exclusive plan that won it (None: the stackable option), and
    the option each plan that is not UNIVERSAL took part in."""
    stackable = start.fork().apply(p for p in ranked if p.promotion.stacking is not EXCLUSIVE)
    own = {p.promotion.id: stackable for p in ranked if p.promotion.stacking is STACKABLE}
    # The universal ones ranked before an exclusive one are the same in each exclusive's
    # option: they are applied once, and each option forks from there.
    universal = [p for p in ranked if p.promotion.stacking is UNIVERSAL]
    ranks = [p.rank for p in universal]
    exclusives = [p for p in ranked if p.promotion.stacking is EXCLUSIVE]
    shared, done = start, 0
    for x in exclusives:
        ahead = bisect_left(ranks, x.rank)
        shared.apply(universal[done:ahead])
        done = ahead
        run = own[x.promotion.id] = shared.fork().apply([x])
        if x.promotion.id not in run.refused:
            run.apply(universal[ahead:])
    best, winner = stackable, None
    for x in sorted(exclusives, key=lambda p: (-p.promotion.priority, p.promotion.id)):
        run = own[x.promotion.id]
        if x.promotion.id not in run.refused and run.worth > best.worth:
            best, winner = run, x
    return best, winner, own


def _evaluation(
    cart: Cart, order: Sequence[int], best: _Run, refused: list[NotApplied], hints: list[Hint]
) -> Evaluation:
    """The winning option, reported in the cart's line order."""
    n = len(cart.lines)
    line_off = [0] * n
    applied: list[Applied] = []
    for plan, off, shipping_off, points in best.applied:
        in_cart_order = [0] * n
        for k, o in zip(plan.lines, off, strict=False):
            in_cart_order[order[k]] = o
            line_off[order[k]] += o
        p, code = plan.promotion, plan.candidate.code
        given = None if code is None else code.code
        lines = tuple(in_cart_order)
        applied.append(Applied(p.id, p.name, p.effect.kind, lines, shipping_off, points, given))
    return Evaluation(
        currency=cart.currency,
        subtotal=sum(line.amount for line in cart.lines),
        discount=sum(line_off),
        shipping=cart.shipping,
        shipping_discount=cart.shipping - best.shipping,
        applied=tuple(applied),
        not_applied=tuple(sorted(refused, key=lambda r: (r.promotion_id, r.code or ""))),
        hints=tuple(
            sorted(hints, key=lambda h: (h.missing_amount, h.missing_quantity, h.promotion_id))
        ),
        line_totals=tuple(line.amount - o for line, o in zip(cart.lines, line_off, strict=True)),
        bonus_points=best.points,
    )
