"""What recordOrder and refundOrder do with a checkout reservation, in their own
transaction: claim it for the order, or give back what it held when the order is fully
refunded. The points domain calls these; only this domain knows reservation items."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from api.errors import ErrorCode, InvalidInput, NotFound, ReservationExpired
from api.promotions import holds, store
from api.promotions.model import Reservation, ReservationStatus
from api.store.base import Key, TableItem
from api.store.reads import Snapshot
from api.store.tx import Add

SHARDS = 4  # of the due index, for held reservations


def reservation_key(reservation_id: str, field: str = "reservationId") -> Key:
    if not (
        reservation_id.startswith("rsv_")
        and len(reservation_id) == 28
        and all(c in "0123456789abcdef" for c in reservation_id[4:])
    ):
        raise InvalidInput(field, "Not a reservation id returned by this API.")
    return store.reservation_key(reservation_id)


@dataclass(frozen=True)
class Claim:
    reservation: Reservation
    write: TableItem  # the reservation, committed to the order (under its version)
    adds: list[Add]  # the member's checkout slot, given back


def claim(
    snapshot: Snapshot,
    reservation_id: str,
    member_id: str,
    order_id: str,
    *,
    currency: str,
    now: datetime,
    orders: int,
) -> Claim:
    """The held reservation, committed to this member's order (`orders`: how many they had
    before it); typed errors for any other state."""
    item = snapshot.get(reservation_key(reservation_id), store.ReservationItem)
    if item is None:
        raise NotFound("reservation")
    reservation = holds.reservation_from_item(item)
    if reservation.member_id is None:
        raise InvalidInput(
            "reservationId", "A guest cart's reservation: commit it with commitGuestReservation."
        )
    if reservation.member_id != member_id:
        raise InvalidInput("reservationId", "This reservation is for another member's cart.")
    committed = commit(reservation, order_id, now)
    if reservation.first_order and orders:
        raise InvalidInput(
            "reservationId",
            "This cart got a first-order promotion, and the member has an order already: "
            "record this order without the reservation, and release it.",
        )
    if currency != reservation.cart.currency:
        raise InvalidInput(
            "total.currency",
            f"The reservation's cart is in {reservation.cart.currency}.",
            ErrorCode.CURRENCY_MISMATCH,
        )
    return Claim(
        committed,
        holds.reservation_to_item(committed, item.request_hash, SHARDS, now=now),
        holds.member_returns(reservation, slot=True, first_order=False),
    )


def commit(
    reservation: Reservation, order_id: str, now: datetime, field: str = "reservationId"
) -> Reservation:
    """A held reservation, committed to an order; typed errors if it is not held any more."""
    if reservation.status is ReservationStatus.COMMITTED:
        raise InvalidInput(field, f"Already committed to order {reservation.order_id}.")
    if reservation.status is not ReservationStatus.HELD or now >= reservation.expires_at:
        raise ReservationExpired(
            "expired"
            if reservation.status is ReservationStatus.HELD
            else reservation.status.lower()
        )
    return replace(reservation, status=ReservationStatus.COMMITTED, order_id=order_id)


@dataclass(frozen=True)
class GiveBack:
    write: TableItem
    adds: list[Add]


def give_back(snapshot: Snapshot, reservation_id: str, now: datetime) -> GiveBack | None:
    """A committed reservation whose order was fully refunded: its uses, budget and codes
    return (program setting `refundReturnsPromotions`). None if there is nothing to return."""
    item = snapshot.get(store.reservation_key(reservation_id), store.ReservationItem)
    if item is None:
        return None
    reservation = holds.reservation_from_item(item)
    if reservation.status is not ReservationStatus.COMMITTED:
        return None
    returned, adds = give_back_of(reservation)
    return GiveBack(holds.reservation_to_item(returned, item.request_hash, SHARDS, now=now), adds)


def give_back_of(reservation: Reservation) -> tuple[Reservation, list[Add]]:
    """A committed reservation, returned: what it used comes back (its member's first order
    too; the checkout slot came back at commit)."""
    returned = replace(reservation, status=ReservationStatus.RETURNED)
    owner = reservation.member_id
    adds = [add for hold in reservation.holds for add in holds.return_adds(hold, owner)]
    return returned, adds + holds.member_returns(reservation, slot=False, first_order=True)


def points_paid(snapshot: Snapshot, reservation_id: str) -> int:
    """The points a committed order's customer paid with at checkout (refunds return their
    share)."""
    item = snapshot.get(store.reservation_key(reservation_id), store.ReservationItem)
    return 0 if item is None else holds.reservation_from_item(item).points
