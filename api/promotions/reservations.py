"""Reservations: a cart's evaluation with every use, budget and code it consumes held, and
optionally points the member pays with, until recordOrder commits it
(api/promotions/commits.py), releaseReservation returns it, or the scheduled job expires it.

A reservation holds with conditional counter updates in one transaction
(api/promotions/holds.py): a counter at its limit cancels the transaction, and the retry
re-reads and re-decides, so no limit is ever exceeded however many carts race for the last
use. Releasing and expiring give back exactly what was held, once: the reservation leaves
HELD in the same transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

from api import validation as v
from api.auth import SYSTEM, Permission, Principal
from api.clock import Clock
from api.errors import ErrorCode, InvalidInput, NotFound
from api.idempotency import Keyed, Plan, fingerprint, keyed_write, versioned_write
from api.points import ledger
from api.points.store import entry_to_item
from api.program import store as program
from api.program.service import ProgramService
from api.promotions import commits, holds, store
from api.promotions.checkout import CheckoutService, check_cart
from api.promotions.commits import SHARDS, reservation_key
from api.promotions.model import CartInput, Hold, Promotion, Reservation, ReservationStatus
from api.store.base import RecordItem, TableItem
from api.store.reads import Snapshot

# Counters one reservation may hold: its reserve, release or refund (which also writes the
# reservation, the order, the member, entries and a record) must fit in one
# TransactWriteItems of at most 100 items.
MAX_HOLDS = 90


class ReservationService:
    def __init__(self, clock: Clock, program_service: ProgramService, checkout: CheckoutService):
        self._clock = clock
        self._program = program_service
        self._checkout = checkout

    def reserve(
        self, actor: Principal, data: CartInput, idempotency_key: str, points: int = 0
    ) -> Reservation:
        """The evaluation, with every use, budget and code it consumes held until the TTL
        (program setting) or until recordOrder commits it or releaseReservation returns it.
        Idempotent on the key: the same cart again returns the first reservation."""
        cart, member_id = check_cart(data)
        member_id = self._checkout.authorize(actor, member_id)
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
        keys, live = self._checkout.reads(cart, member_id)

        def decide(snapshot: Snapshot) -> Plan[Reservation]:
            checkout = self._checkout.checkout(snapshot, cart, member_id, live)
            evaluated = self._checkout.evaluated(checkout)
            ttl = timedelta(minutes=checkout.settings.reservation_minutes)
            held = tuple(
                Hold(
                    a.promotion_id,
                    a.discount,
                    a.code,
                    per_member=bool(_promotion(live, a.promotion_id).limits.per_member)
                    and member_id is not None,
                )
                for a in evaluated.evaluation.applied
            )
            slot = member_id is not None and bool(held or points)
            if slot and checkout.held >= holds.MAX_HELD:
                raise InvalidInput(
                    "cart",
                    f"This member already holds {holds.MAX_HELD} reservations: commit or "
                    "release one first (or let it expire).",
                    ErrorCode.TOO_MANY_RESERVATIONS,
                )
            first_order = member_id is not None and any(
                _promotion(live, a.promotion_id).conditions.first_order_only
                for a in evaluated.evaluation.applied
            )
            reservation = Reservation(
                id=reservation_id,
                status=ReservationStatus.HELD,
                member_id=member_id,
                cart=cart,
                evaluation=evaluated.evaluation,
                holds=held,
                points=points,
                bonus_points=evaluated.evaluation.bonus_points,
                base_points=evaluated.base_points,
                tier_multiplier=evaluated.tier_multiplier,
                expires_at=checkout.now + ttl,
                created_at=checkout.now,
                slot=slot,
                first_order=first_order,
            )
            item = holds.reservation_to_item(reservation, keyed.fingerprint, SHARDS)
            added = [
                add
                for hold in held
                for add in holds.hold_adds(
                    _promotion(live, hold.promotion_id), hold, member_id, cart.currency
                )
            ]
            added += holds.member_adds(reservation)
            new: list[TableItem] = [item]
            changed: list[TableItem] = []
            if points and checkout.member is not None:
                # Paid with points: spent now (earliest expiry first), given back if the
                # reservation is released or expires.
                state = ledger.State(
                    checkout.member, checkout.settings, checkout.tiers, checkout.now
                )
                after, entry = ledger.spend(
                    state,
                    points,
                    checkout.member.next_seq,
                    by=actor.actor,
                    reference=reservation_id,
                    reason="Paid at checkout",
                )
                new.append(entry_to_item(entry))
                changed.append(ledger.member_item(state, after, [entry]))
            if len(added) > MAX_HOLDS:
                raise InvalidInput(
                    "cart",
                    f"This cart takes {len(held)} promotions: more than one reservation can "
                    "hold. Ask the shop to limit how many combine.",
                )
            return Plan(replace(reservation, version=1), new=new, changed=changed, added=added)

        def replay(record: RecordItem) -> Reservation:
            assert isinstance(record, store.ReservationItem)
            return holds.reservation_from_item(record)

        return keyed_write(self._clock, keyed, keys, decide, replay)

    def release(self, actor: Principal, reservation_id: str) -> Reservation:
        """Returns everything a held reservation holds. Releasing twice is harmless."""
        self._checkout.authorize(actor, None)  # who may check out at all, before anything is read
        return self._finish(actor, reservation_id, ReservationStatus.RELEASED)

    def commit_guest(self, actor: Principal, reservation_id: str, order_id: str) -> Reservation:
        """A guest cart's reservation, committed to the guest's order: what it held is used.
        (Members' orders commit through recordOrder, which also earns their points.) Again
        with the same order, the same answer."""
        actor.require(Permission.CHECKOUT_ANY_CART)
        key = reservation_key(reservation_id, "id")
        order_id = v.external_id("orderId", order_id)

        def decide(snapshot: Snapshot) -> Plan[Reservation]:
            reservation, item = self._guest(snapshot, reservation_id)
            if reservation.order_id == order_id:  # committed to it already (or returned since)
                return Plan(reservation)
            now = self._program.now(program.settings(snapshot))
            done = commits.commit(reservation, order_id, now, "id")
            write = holds.reservation_to_item(done, item.request_hash, SHARDS, now=now)
            return Plan(replace(done, version=(done.version or 0) + 1), changed=[write])

        return versioned_write(self._clock, [key, program.SETTINGS_KEY], decide)

    def return_guest(self, actor: Principal, reservation_id: str) -> Reservation:
        """A guest order fully refunded or cancelled: what its reservation used comes back
        (program setting refundReturnsPromotions; off, it stays COMMITTED). Harmless twice."""
        actor.require(Permission.CHECKOUT_ANY_CART)
        key = reservation_key(reservation_id, "id")

        def decide(snapshot: Snapshot) -> Plan[Reservation]:
            reservation, item = self._guest(snapshot, reservation_id)
            if reservation.status is ReservationStatus.HELD:
                raise InvalidInput("id", "Not committed to an order: release it instead.")
            settings = program.settings(snapshot)
            if (
                reservation.status is not ReservationStatus.COMMITTED
                or not settings.refund_returns_promotions
            ):
                return Plan(reservation)
            now = self._program.now(settings)
            returned, adds = commits.give_back_of(reservation)
            write = holds.reservation_to_item(returned, item.request_hash, SHARDS, now=now)
            version = (returned.version or 0) + 1
            return Plan(replace(returned, version=version), changed=[write], added=adds)

        return versioned_write(self._clock, [key, program.SETTINGS_KEY], decide)

    def _guest(
        self, snapshot: Snapshot, reservation_id: str
    ) -> tuple[Reservation, store.ReservationItem]:
        item = snapshot.get(reservation_key(reservation_id, "id"), store.ReservationItem)
        if item is None:
            raise NotFound("reservation")
        reservation = holds.reservation_from_item(item)
        if reservation.member_id is not None:
            raise InvalidInput(
                "id",
                "A member's reservation: recordOrder (or commitReservation) commits it and "
                "refundOrder returns it.",
            )
        return reservation, item

    def _finish(
        self, actor: Principal | None, reservation_id: str, status: ReservationStatus
    ) -> Reservation:
        key = reservation_key(reservation_id, "id")

        def decide(snapshot: Snapshot) -> Plan[Reservation]:
            item = snapshot.get(key, store.ReservationItem)
            if item is None:
                raise NotFound("reservation")
            reservation = holds.reservation_from_item(item)
            if actor is not None:
                if actor.member_id is not None and reservation.member_id != actor.member_id:
                    raise NotFound("reservation")  # another's, or a guest's: as if absent
                self._checkout.authorize(actor, reservation.member_id)
            if reservation.status is not ReservationStatus.HELD:
                return Plan(reservation)  # done already (released, expired or committed)
            now = self._program.now(program.settings(snapshot))
            if status is ReservationStatus.EXPIRED and now < reservation.expires_at:
                return Plan(reservation)
            done = replace(reservation, status=status)
            owner = reservation.member_id
            added = [add for hold in reservation.holds for add in holds.return_adds(hold, owner)]
            added += holds.member_returns(reservation, slot=True, first_order=True)
            new: list[TableItem] = []
            changed: list[TableItem] = [
                holds.reservation_to_item(done, item.request_hash, SHARDS, now=now)
            ]
            if reservation.points and owner is not None:
                state = ledger.state(Snapshot(ledger.reads(owner)), owner, self._program)
                points, entry = ledger.give_back(
                    state,
                    state.member.points,
                    state.member.next_seq,
                    reservation.points,
                    by=SYSTEM.actor if actor is None else actor.actor,
                    reference=reservation.id,
                    reason=f"Reservation {status.value.lower()}",
                )
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
        for shard in range(SHARDS):
            for key in TableItem.due_index.query(f"RESV#{shard}", TableItem.due_at <= now):
                reservation_id = key.pk.removeprefix("RESV#")
                if self._finish(None, reservation_id, ReservationStatus.EXPIRED).status is (
                    ReservationStatus.EXPIRED
                ):
                    released += 1
        return released


def _promotion(live: Sequence[Promotion], promotion_id: str) -> Promotion:
    return next(p for p in live if p.id == promotion_id)
