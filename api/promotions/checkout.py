"""Checkout: a cart checked, and evaluated against the promotions (no writes); the offers
open to a member. Reserving lives in api/promotions/reservations.py and builds on this.

Everything a decision needs is one BatchGetItem: the member, settings and tiers, the codes
given, and the usage counters of every candidate promotion (the promotions themselves come
from the container's catalog cache, api/promotions/admin.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from api import validation as v
from api.auth import Permission, Principal
from api.errors import Forbidden, InvalidInput, MemberNotFound
from api.members import store as members
from api.members.model import Member
from api.members.view import authorize_read
from api.money import Money, check_currency, iso_currency, minor_units, parse_money
from api.program import store as program
from api.program.model import ProgramSettings
from api.program.service import ProgramService
from api.promotions import codes, engine, store
from api.promotions.admin import Catalog
from api.promotions.model import (
    Activation,
    Candidate,
    Cart,
    CartInput,
    Evaluated,
    Line,
    NotApplied,
    Promotion,
    Reason,
    Shopper,
    Status,
)
from api.store.base import Key, TableItem
from api.store.reads import Snapshot
from api.tiers import credit as tier_credit
from api.tiers import store as tiers
from api.tiers.model import TierConfig

MAX_LINES = 200
MAX_CODES = 5
MAX_QUANTITY = 100_000


@dataclass(frozen=True)
class Checkout:
    """A cart as checked, and everything read to decide on it."""

    cart: Cart
    member: Member | None
    settings: ProgramSettings
    tiers: TierConfig
    candidates: tuple[Candidate, ...]
    shopper: Shopper
    now: datetime
    unknown: tuple[NotApplied, ...]  # codes nobody issued
    held: int = 0  # reservations the member holds


def check_cart(data: CartInput) -> tuple[Cart, str | None]:
    """The cart in minor units, and the member it is for (if any)."""
    currency = iso_currency("currency", data.currency)
    if len(data.lines) > MAX_LINES:
        raise InvalidInput("lines", f"At most {MAX_LINES} lines.")
    if not data.lines:
        raise InvalidInput("lines", "A cart has at least one line.")
    lines = []
    for i, (sku, quantity, unit_price, category) in enumerate(data.lines):
        field = f"lines[{i}]"
        if not 1 <= quantity <= MAX_QUANTITY:
            raise InvalidInput(f"{field}.quantity", f"From 1 to {MAX_QUANTITY}.")
        price = parse_money(f"{field}.unitPrice", unit_price, currency, positive=False)
        lines.append(
            Line(
                sku=v.external_id(f"{field}.sku", sku),
                quantity=quantity,
                unit_price=_minor(price.amount, currency),
                category=None if category is None else v.text(f"{field}.category", category, 100),
            )
        )
    shipping = parse_money("shipping", data.shipping, currency, positive=False)
    if len(data.codes) > MAX_CODES:
        raise InvalidInput("codes", f"At most {MAX_CODES} codes.")
    given = [codes.normalise(f"codes[{i}]", c) for i, c in enumerate(data.codes)]
    member_id = None
    if data.member_id is not None or data.customer_id is not None:
        member_id = v.member_ref(data.member_id, data.customer_id)
    cart = Cart(
        currency, tuple(lines), _minor(shipping.amount, currency), tuple(dict.fromkeys(given))
    )
    return cart, member_id


def _minor(amount: Decimal, currency: str) -> int:
    return int(amount.scaleb(minor_units(currency)))


def _major(amount: int, currency: str) -> Decimal:
    return Decimal(amount).scaleb(-minor_units(currency))


class CheckoutService:
    def __init__(self, program_service: ProgramService, catalog: Catalog) -> None:
        self._program = program_service
        self._catalog = catalog

    # ---- reading ---------------------------------------------------------------------------

    def authorize(self, actor: Principal, member_id: str | None) -> str | None:
        """Members check out for themselves; the shop backend for anyone (or a guest)."""
        if actor.member_id is not None:
            actor.require(Permission.EVALUATE_OWN_CART)
            if member_id is not None and member_id != actor.member_id:
                raise Forbidden()
            return actor.member_id
        actor.require(Permission.CHECKOUT_ANY_CART)
        return member_id

    def reads(self, cart: Cart, member_id: str | None) -> tuple[list[Key], list[Promotion]]:
        live = [
            p for p in self._catalog.live() if p.status is Status.ACTIVE or p.code in cart.codes
        ]
        keys = [program.SETTINGS_KEY, tiers.CONFIG_KEY, *(store.code_key(c) for c in cart.codes)]
        if member_id is not None:
            keys += [
                members.member_key(member_id),
                store.held_key(member_id),
                store.first_order_key(member_id),
            ]
        keys += [store.usage_key(p.id) for p in live]
        if member_id is not None:
            keys += [store.member_usage_key(p.id, member_id) for p in live if p.limits.per_member]
        return keys, live

    def checkout(
        self, snapshot: Snapshot, cart: Cart, member_id: str | None, live: Sequence[Promotion]
    ) -> Checkout:
        settings = program.settings(snapshot)
        check_currency("currency", cart.currency, settings.accepted_currencies)
        ladder = tiers.config(snapshot)
        member = None
        if member_id is not None:
            member = members.load(snapshot, member_id)
            if member is None:
                raise MemberNotFound()
        now = self._program.now(settings)
        by_id = {p.id: p for p in live}
        candidates: list[Candidate] = []
        unknown: list[NotApplied] = []
        for code in cart.codes:
            found = store.code_from_item(code, snapshot.get(store.code_key(code), TableItem))
            promotion = by_id.get(found.promotion_id or "")
            paused = next((p for p in self._catalog.live() if p.id == found.promotion_id), None)
            if promotion is None and paused is not None and paused.status is not Status.ACTIVE:
                detail = f"The promotion is {paused.status.value.lower()}."
                unknown.append(NotApplied(paused.id, paused.name, Reason.INACTIVE, detail, code))
                continue
            if promotion is None:  # never issued, or its promotion archived
                unknown.append(
                    NotApplied(f"code:{code}", code, Reason.CODE_UNKNOWN, "Unknown code.", code)
                )
                continue
            usage = store.usage_from_item(snapshot.get(store.usage_key(promotion.id), TableItem))
            candidates.append(Candidate(promotion, usage, found))
        for p in live:
            if p.activation is Activation.AUTOMATIC and p.status is Status.ACTIVE:
                usage = store.usage_from_item(snapshot.get(store.usage_key(p.id), TableItem))
                candidates.append(Candidate(p, usage))
        shopper = Shopper()
        held = 0
        if member is not None:
            held = store.member_uses(snapshot.get(store.held_key(member.id), TableItem))
            # A first order is one: a reservation that holds it, or an order recorded.
            first = store.member_uses(snapshot.get(store.first_order_key(member.id), TableItem))
            member_uses = {
                p.id: store.member_uses(
                    snapshot.get(store.member_usage_key(p.id, member.id), TableItem)
                )
                for p in live
                if p.limits.per_member
            }
            shopper = Shopper(
                member_id=member.id,
                tier_rank=ladder.rank(member.tier.code),
                tier_ranks={t.code: i for i, t in enumerate(ladder.tiers)},
                first_order=member.tier.lifetime.orders == 0 and not first,
                member_uses=member_uses,
            )
        return Checkout(
            cart, member, settings, ladder, tuple(candidates), shopper, now, tuple(unknown), held
        )

    def evaluated(self, checkout: Checkout) -> Evaluated:
        currency = checkout.cart.currency
        rule = checkout.settings.earning_rule

        def points_of(amount: int) -> int:
            return rule.points_for(Money(_major(amount, currency), currency))

        try:
            evaluation = engine.evaluate(
                checkout.cart, checkout.candidates, checkout.shopper, checkout.now, points_of
            )
            merchandise = sum(evaluation.line_totals)
            multiplier = (
                Decimal(1)
                if checkout.member is None
                else tier_credit.multiplier(checkout.member.tier, checkout.tiers)
            )
            earned = tier_credit.earning(
                rule, Money(_major(merchandise, currency), currency), multiplier
            )
        except InvalidInput as too_many:  # the points rules speak of an order's total
            raise InvalidInput("lines", too_many.message) from None
        if checkout.unknown:
            refused = (*evaluation.not_applied, *checkout.unknown)
            evaluation = replace(evaluation, not_applied=refused)
        return Evaluated(
            evaluation, earned.base, multiplier, earned.points + evaluation.bonus_points
        )

    def offers(self, actor: Principal, member_id: str) -> list[Offer]:
        """The promotions open to a member now or soon, early-access windows included."""
        authorize_read(actor, member_id)
        first_key = store.first_order_key(member_id)
        snapshot = Snapshot(
            [members.member_key(member_id), program.SETTINGS_KEY, tiers.CONFIG_KEY, first_key]
        )
        member = members.load(snapshot, member_id)
        if member is None:
            raise MemberNotFound()
        ladder = tiers.config(snapshot)
        settings = program.settings(snapshot)
        first = member.tier.lifetime.orders == 0 and not store.member_uses(
            snapshot.get(first_key, TableItem)
        )
        shopper = Shopper(
            member_id=member_id,
            tier_rank=ladder.rank(member.tier.code),
            tier_ranks={t.code: i for i, t in enumerate(ladder.tiers)},
            first_order=first,
        )
        now = self._program.now(settings)
        return offers(self._catalog.live(), shopper, settings.accepted_currencies, now)

    def evaluate(self, actor: Principal, data: CartInput) -> Evaluated:
        """What the cart would get now, and why not the rest. Writes nothing."""
        cart, member_id = check_cart(data)
        member_id = self.authorize(actor, member_id)
        keys, live = self.reads(cart, member_id)
        return self.evaluated(self.checkout(Snapshot(keys), cart, member_id, live))


@dataclass(frozen=True)
class Offer:
    """A promotion as a member sees it: when it opens for them (early access included)."""

    promotion: Promotion
    opens_at: datetime | None  # for this member; None: open already
    early: bool  # they open before everyone


def offers(
    live: Sequence[Promotion], shopper: Shopper, accepted: Sequence[str], now: datetime
) -> list[Offer]:
    """The active automatic promotions a member can get, or soon: not ended, their tier
    high enough, a first order if it asks for one, in a currency the shop takes; with when
    each opens for them."""
    found = []
    ranks = shopper.tier_ranks
    for p in live:
        if p.status is not Status.ACTIVE or p.activation is not Activation.AUTOMATIC:
            continue
        if p.schedule.ends_at is not None and now >= p.schedule.ends_at:
            continue
        c = p.conditions
        if c.min_tier is not None and shopper.tier_rank < ranks.get(c.min_tier, 10**6):
            continue
        if c.first_order_only and not shopper.first_order:
            continue
        currencies = set(accepted) & set(c.currencies or accepted)
        if p.currency is not None:
            currencies &= {p.currency}
        if not currencies:
            continue
        start = p.schedule.starts_at
        hours = [
            e.hours
            for e in p.schedule.early_access
            if e.tier in ranks and shopper.tier_rank >= ranks[e.tier]
        ]
        opens = None if start is None else start - timedelta(hours=max(hours, default=0))
        found.append(Offer(p, None if opens is None or opens <= now else opens, bool(hours)))
    return sorted(found, key=lambda o: (-o.promotion.priority, o.promotion.id))
