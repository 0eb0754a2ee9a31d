"""Checkout: evaluate a cart (no writes), reserve what its promotions consume, release it;
recordOrder commits a reservation (api/points/orders.py) and the job expires stale ones.

Everything a decision needs is one BatchGetItem: the member, settings and tiers, the codes
given, and the usage counters of every candidate promotion (the promotions themselves come
from the container's catalog cache). A reservation holds its uses, budget and codes with
conditional counter updates in one transaction: a counter at its limit cancels the
transaction, and the retry re-reads and re-decides, so no limit is ever exceeded however
many carts race for the last use.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from api import validation as v
from api.auth import SYSTEM, Permission, Principal
from api.clock import Clock
from api.errors import Forbidden, InsufficientPoints, InvalidInput, MemberNotFound, NotFound
from api.idempotency import Keyed, Plan, fingerprint, keyed_write, versioned_write
from api.members import store as members
from api.members.model import Member
from api.members.view import authorize_read
from api.money import Money, check_currency, iso_currency, minor_units, parse_money
from api.points import ledger
from api.points.lots import Lot, LotStatus, credit, debit
from api.points.model import Entry, EntryKind
from api.points.store import entry_to_item
from api.program import store as program
from api.program.model import ProgramSettings
from api.program.service import ProgramService
from api.promotions import codes, engine, store
from api.promotions.admin import Catalog, Offer, offers
from api.promotions.commits import SHARDS as RESERVATION_SHARDS
from api.promotions.commits import reservation_key
from api.promotions.model import (
    Activation,
    Candidate,
    Cart,
    CartInput,
    Evaluated,
    Hold,
    Line,
    NotApplied,
    Promotion,
    Reason,
    Reservation,
    ReservationStatus,
    Shopper,
    Status,
)
from api.store.base import Key, RecordItem, TableItem
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
    def __init__(self, clock: Clock, program_service: ProgramService, catalog: Catalog) -> None:
        self._clock = clock
        self._program = program_service
        self._catalog = catalog

    # ---- reading ---------------------------------------------------------------------------

    def _authorize(self, actor: Principal, member_id: str | None) -> str | None:
        """Members check out for themselves; the shop backend for anyone (or a guest)."""
        if actor.member_id is not None:
            actor.require(Permission.EVALUATE_OWN_CART)
            if member_id is not None and member_id != actor.member_id:
                raise Forbidden()
            return actor.member_id
        actor.require(Permission.CHECKOUT_ANY_CART)
        return member_id

    def _reads(self, cart: Cart, member_id: str | None) -> tuple[list[Key], list[Promotion]]:
        live = [
            p for p in self._catalog.live() if p.status is Status.ACTIVE or p.code in cart.codes
        ]
        keys = [program.SETTINGS_KEY, tiers.CONFIG_KEY, *(store.code_key(c) for c in cart.codes)]
        if member_id is not None:
            keys.append(members.member_key(member_id))
        keys += [store.usage_key(p.id) for p in live]
        if member_id is not None:
            keys += [store.member_usage_key(p.id, member_id) for p in live if p.limits.per_member]
        return keys, live

    def _checkout(
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
        if member is not None:
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
                first_order=member.tier.lifetime.orders == 0,
                member_uses=member_uses,
            )
        return Checkout(
            cart, member, settings, ladder, tuple(candidates), shopper, now, tuple(unknown)
        )

    def _evaluate(self, checkout: Checkout) -> Evaluated:
        currency = checkout.cart.currency
        rule = checkout.settings.earning_rule

        def points_of(amount: int) -> int:
            return rule.points_for(Money(_major(amount, currency), currency))

        evaluation = engine.evaluate(
            checkout.cart, checkout.candidates, checkout.shopper, checkout.now, points_of
        )
        if checkout.unknown:
            refused = (*evaluation.not_applied, *checkout.unknown)
            evaluation = replace(evaluation, not_applied=refused)
        merchandise = sum(evaluation.line_totals)
        multiplier = (
            Decimal(1)
            if checkout.member is None
            else tier_credit.multiplier(checkout.member.tier, checkout.tiers)
        )
        earned = tier_credit.earning(
            rule, Money(_major(merchandise, currency), currency), multiplier
        )
        return Evaluated(
            evaluation, earned.base, multiplier, earned.points + evaluation.bonus_points
        )

    def offers(self, actor: Principal, member_id: str) -> list[Offer]:
        """The promotions open to a member now or soon, early-access windows included."""
        authorize_read(actor, member_id)
        snapshot = Snapshot([members.member_key(member_id), program.SETTINGS_KEY, tiers.CONFIG_KEY])
        member = members.load(snapshot, member_id)
        if member is None:
            raise MemberNotFound()
        ladder = tiers.config(snapshot)
        now = self._program.now(program.settings(snapshot))
        ranks = {t.code: i for i, t in enumerate(ladder.tiers)}
        return offers(self._catalog.live(), ladder.rank(member.tier.code), ranks, now)

    def evaluate(self, actor: Principal, data: CartInput) -> Evaluated:
        """What the cart would get now, and why not the rest. Writes nothing."""
        cart, member_id = check_cart(data)
        member_id = self._authorize(actor, member_id)
        keys, live = self._reads(cart, member_id)
        return self._evaluate(self._checkout(Snapshot(keys), cart, member_id, live))

    # ---- reserving -------------------------------------------------------------------------

    def reserve(
        self, actor: Principal, data: CartInput, idempotency_key: str, points: int = 0
    ) -> Reservation:
        """The evaluation, with every use, budget and code it consumes held until the TTL
        (program setting) or until recordOrder commits it or releaseReservation returns it.
        Idempotent on the key: the same cart again returns the first reservation."""
        cart, member_id = check_cart(data)
        member_id = self._authorize(actor, member_id)
        key = v.external_id("idempotencyKey", idempotency_key)
        if points and member_id is None:
            raise InvalidInput("points", "Only a member pays with points.")
        if points:
            v.points("points", points)
        scope = member_id or actor.actor
        reservation_id = "rsv_" + hashlib.sha256(f"{scope}#{key}".encode()).hexdigest()[:24]
        keyed = Keyed(
            store.reservation_key(reservation_id),
            fingerprint({"cart": repr(cart), "member": member_id, "points": points}),
            "idempotencyKey",
        )
        keys, live = self._reads(cart, member_id)

        def decide(snapshot: Snapshot) -> Plan[Reservation]:
            checkout = self._checkout(snapshot, cart, member_id, live)
            evaluated = self._evaluate(checkout)
            ttl = timedelta(minutes=checkout.settings.reservation_minutes)
            holds = tuple(
                Hold(
                    a.promotion_id,
                    a.discount,
                    a.code,
                    per_member=bool(_promotion(live, a.promotion_id).limits.per_member)
                    and member_id is not None,
                )
                for a in evaluated.evaluation.applied
            )
            reservation = Reservation(
                id=reservation_id,
                status=ReservationStatus.HELD,
                member_id=member_id,
                cart=cart,
                evaluation=evaluated.evaluation,
                holds=holds,
                points=points,
                bonus_points=evaluated.evaluation.bonus_points,
                base_points=evaluated.base_points,
                tier_multiplier=evaluated.tier_multiplier,
                expires_at=checkout.now + ttl,
                created_at=checkout.now,
            )
            item = store.reservation_to_item(reservation, keyed.fingerprint, RESERVATION_SHARDS)
            added = [
                add
                for hold in holds
                for add in store.hold_adds(
                    _promotion(live, hold.promotion_id), hold, member_id, cart.currency
                )
            ]
            new: list[TableItem] = [item]
            changed: list[TableItem] = []
            if points and checkout.member is not None:
                # Paid with points: spent now (earliest expiry first), given back if the
                # reservation is released or expires.
                state = ledger.State(
                    checkout.member, checkout.settings, checkout.tiers, checkout.now
                )
                spent = debit(checkout.member.points, points, checkout.now, include_pending=False)
                if spent is None:
                    available = checkout.member.points.available(checkout.now)
                    raise InsufficientPoints(points, available)
                after, funding = spent
                entry = Entry(
                    member_id=checkout.member.id,
                    seq=checkout.member.next_seq,
                    kind=EntryKind.REDEEM,
                    points=-points,
                    balance_after=after.balance,
                    created_at=checkout.now,
                    actor=actor.actor,
                    reference=reservation_id,
                    reason="Paid at checkout",
                    funding=tuple(funding),
                )
                new.append(entry_to_item(entry))
                changed.append(ledger.member_item(state, after, [entry]))
            return Plan(replace(reservation, version=1), new=new, changed=changed, added=added)

        def replay(record: RecordItem) -> Reservation:
            assert isinstance(record, store.ReservationItem)
            return store.reservation_from_item(record)

        return keyed_write(self._clock, keyed, keys, decide, replay)

    def release(self, actor: Principal, reservation_id: str) -> Reservation:
        """Returns everything a held reservation holds. Releasing twice is harmless."""
        return self._finish(actor, reservation_id, ReservationStatus.RELEASED)

    def _finish(
        self, actor: Principal | None, reservation_id: str, status: ReservationStatus
    ) -> Reservation:
        key = reservation_key(reservation_id)

        def decide(snapshot: Snapshot) -> Plan[Reservation]:
            item = snapshot.get(key, store.ReservationItem)
            if item is None:
                raise NotFound("reservation")
            reservation = store.reservation_from_item(item)
            if actor is not None:
                self._authorize(actor, reservation.member_id)
            if reservation.status is not ReservationStatus.HELD:
                return Plan(reservation)  # done already (released, expired or committed)
            now = self._program.now(program.settings(snapshot))
            if status is ReservationStatus.EXPIRED and now < reservation.expires_at:
                return Plan(reservation)
            done = replace(reservation, status=status)
            owner = reservation.member_id
            added = [add for hold in reservation.holds for add in store.return_adds(hold, owner)]
            new: list[TableItem] = []
            changed: list[TableItem] = [
                store.reservation_to_item(done, item.request_hash, RESERVATION_SHARDS, now=now)
            ]
            if reservation.points and owner is not None:
                # The points it took come back, as a new lot valid as the program says.
                state = ledger.state(Snapshot(ledger.reads(owner)), owner, self._program)
                entry = _returned(state, done, actor)
                assert entry.lot is not None
                points = credit(state.member.points, entry.lot)
                entry = replace(entry, balance_after=points.balance)
                new.append(entry_to_item(entry))
                changed.append(ledger.member_item(state, points, [entry]))
            written = replace(done, version=(done.version or 0) + 1)
            return Plan(written, new=new, changed=changed, added=added)

        return versioned_write(self._clock, [key, program.SETTINGS_KEY], decide)

    def expire_due(self) -> int:
        """Release every held reservation past its TTL (the scheduled job): through the due
        index's RESV shards, never a scan. Returns how many it released."""
        settings = self._program.load()
        now = self._program.now(settings)
        released = 0
        for shard in range(RESERVATION_SHARDS):
            for key in TableItem.due_index.query(f"RESV#{shard}", TableItem.due_at <= now):
                reservation_id = key.pk.removeprefix("RESV#")
                if self._finish(None, reservation_id, ReservationStatus.EXPIRED).status is (
                    ReservationStatus.EXPIRED
                ):
                    released += 1
        return released


def _promotion(live: Sequence[Promotion], promotion_id: str) -> Promotion:
    return next(p for p in live if p.id == promotion_id)


def _returned(state: ledger.State, reservation: Reservation, actor: Principal | None) -> Entry:
    """The entry that gives back the points a reservation took (its balance_after is the
    caller's to set)."""
    now = state.now
    seq = state.member.next_seq
    validity = state.settings.lot_validity
    lot = Lot(
        id=f"{state.member.id}-{seq}",
        points=reservation.points,
        remaining=reservation.points,
        activates_at=now,
        expires_at=None if validity is None else now + validity,
        status=LotStatus.ACTIVE,
    )
    return Entry(
        member_id=state.member.id,
        seq=seq,
        kind=EntryKind.RETURN,
        points=reservation.points,
        balance_after=0,
        created_at=now,
        actor=SYSTEM.actor if actor is None else actor.actor,
        reference=reservation.id,
        reason=f"Reservation {reservation.status.value.lower()}",
        lot=lot,
    )
