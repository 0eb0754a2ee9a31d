"""Checkout (reserve, release) and the admins' promotions and codes."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.promotions.model import Status
from schema.context import Info
from schema.errors import (
    ConcurrentUpdate,
    IdempotencyConflict,
    InsufficientPoints,
    InvalidInput,
    MemberNotFound,
    NotFound,
    ReservationExpired,
    mutation,
)
from schema.promotions.checkout import Reservation
from schema.promotions.inputs import CodeBatchInput, PromotionInput, ReserveCartInput
from schema.promotions.types import CodeBatch, Promotion


@strawberry.type
class PromotionSaved:
    promotion: Promotion


@strawberry.type
class CartReserved:
    reservation: Reservation


@strawberry.type
class ReservationReleased:
    reservation: Reservation


@strawberry.type
class ReservationCommitted:
    reservation: Reservation


@strawberry.type
class ReservationReturned:
    reservation: Reservation


@strawberry.type
class CodeBatchCreated:
    batch: CodeBatch


SavePromotionResult = Annotated[
    PromotionSaved | InvalidInput | NotFound | IdempotencyConflict | ConcurrentUpdate,
    strawberry.union("SavePromotionResult"),
]
ReserveCartResult = Annotated[
    CartReserved
    | InvalidInput
    | MemberNotFound
    | InsufficientPoints
    | IdempotencyConflict
    | ConcurrentUpdate,
    strawberry.union("ReserveCartResult"),
]
ReleaseReservationResult = Annotated[
    ReservationReleased | InvalidInput | NotFound | ConcurrentUpdate,
    strawberry.union("ReleaseReservationResult"),
]
CommitGuestReservationResult = Annotated[
    ReservationCommitted | InvalidInput | NotFound | ReservationExpired | ConcurrentUpdate,
    strawberry.union("CommitGuestReservationResult"),
]
ReturnGuestReservationResult = Annotated[
    ReservationReturned | InvalidInput | NotFound | ConcurrentUpdate,
    strawberry.union("ReturnGuestReservationResult"),
]
CreateCodeBatchResult = Annotated[
    CodeBatchCreated | InvalidInput | NotFound | IdempotencyConflict | ConcurrentUpdate,
    strawberry.union("CreateCodeBatchResult"),
]


@strawberry.type
class PromotionMutation:
    @mutation("Admin: a new promotion (idempotent on its id).")
    def create_promotion(self, info: Info, input: PromotionInput) -> SavePromotionResult:
        ctx = info.context
        saved = ctx.services.promotions.create(ctx.principal, input.to_domain())
        return PromotionSaved(promotion=Promotion.from_domain(saved))

    @mutation("Admin: change a live promotion (all but its id and generic code).")
    def update_promotion(self, info: Info, input: PromotionInput) -> SavePromotionResult:
        ctx = info.context
        saved = ctx.services.promotions.update(ctx.principal, input.to_domain())
        return PromotionSaved(promotion=Promotion.from_domain(saved))

    @mutation("Admin: pause a promotion (it stops applying; reservations keep theirs).")
    def pause_promotion(self, info: Info, id: strawberry.ID) -> SavePromotionResult:
        return _status(info, id, Status.PAUSED)

    @mutation("Admin: resume a paused promotion.")
    def resume_promotion(self, info: Info, id: strawberry.ID) -> SavePromotionResult:
        return _status(info, id, Status.ACTIVE)

    @mutation("Admin: archive a promotion: final, kept for its history.")
    def archive_promotion(self, info: Info, id: strawberry.ID) -> SavePromotionResult:
        return _status(info, id, Status.ARCHIVED)

    @mutation("Admin: order a batch of unique codes (generated in the background).")
    def create_code_batch(self, info: Info, input: CodeBatchInput) -> CreateCodeBatchResult:
        ctx = info.context
        batch = ctx.services.code_batches.create(ctx.principal, input.to_domain())
        return CodeBatchCreated(batch=CodeBatch.from_domain(batch))

    @mutation(
        "Shop backend and members (their own cart): evaluate the cart and hold every use, "
        "budget and code it consumes, and the points it pays with, until the reservation's "
        "TTL; recordOrder(reservationId) commits it. Idempotent on the key."
    )
    def reserve_cart(self, info: Info, input: ReserveCartInput) -> ReserveCartResult:
        ctx = info.context
        reservation = ctx.services.reservations.reserve(
            ctx.principal, input.cart.to_domain(), input.idempotency_key, input.points
        )
        return CartReserved(reservation=Reservation.from_domain(reservation))

    @mutation("Give back everything a held reservation holds (harmless if done already).")
    def release_reservation(self, info: Info, id: strawberry.ID) -> ReleaseReservationResult:
        ctx = info.context
        reservation = ctx.services.reservations.release(ctx.principal, id)
        return ReservationReleased(reservation=Reservation.from_domain(reservation))

    @mutation(
        "Shop backend: a guest cart's reservation became this order: what it held is used "
        "(members' orders commit through recordOrder). Again with the same order: the same."
    )
    def commit_guest_reservation(
        self, info: Info, id: strawberry.ID, order_id: strawberry.ID
    ) -> CommitGuestReservationResult:
        ctx = info.context
        reservation = ctx.services.reservations.commit_guest(ctx.principal, id, order_id)
        return ReservationCommitted(reservation=Reservation.from_domain(reservation))

    @mutation(
        "Shop backend: a guest order was fully refunded or cancelled: the uses, budget and "
        "codes its reservation used come back (program setting refundReturnsPromotions)."
    )
    def return_guest_reservation(
        self, info: Info, id: strawberry.ID
    ) -> ReturnGuestReservationResult:
        ctx = info.context
        reservation = ctx.services.reservations.return_guest(ctx.principal, id)
        return ReservationReturned(reservation=Reservation.from_domain(reservation))


def _status(info: Info, promotion_id: str, status: Status) -> PromotionSaved:
    ctx = info.context
    saved = ctx.services.promotions.set_status(ctx.principal, promotion_id, status)
    return PromotionSaved(promotion=Promotion.from_domain(saved))
