"""Checkout through the services: evaluate, reserve, record the order, refund, release,
expire; limits held by reservations; codes; idempotency."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from api.errors import (
    ErrorCode,
    Forbidden,
    IdempotencyConflict,
    InsufficientPoints,
    InvalidInput,
    NotFound,
    ReservationExpired,
)
from api.points.model import AdjustInput, EntryKind, OrderInput, OrderResult, RefundInput
from api.program.model import SettingsChange
from api.promotions import store
from api.promotions.model import (
    Activation,
    CartInput,
    Conditions,
    Effect,
    EffectKind,
    Limits,
    PromotionInput,
    Reason,
    Reservation,
    ReservationStatus,
    Stacking,
    Status,
    Target,
)
from api.services import Services
from api.store.reads import get
from tests.support import (
    ADMIN,
    SERVICE,
    assert_ledger_consistent,
    count_requests,
    enroll,
    ledger_entries,
    member,
    stored_member,
)

TEN_OFF = PromotionInput(
    id="ten-off",
    name="10% off",
    effect=Effect(EffectKind.PERCENT_OFF, percent=Decimal(10)),
    limits=Limits(total_uses=2),
)
SHIPPING = PromotionInput(
    id="free-shipping",
    name="Free shipping",
    effect=Effect(EffectKind.FREE_SHIPPING, target=Target.SHIPPING),
    conditions=Conditions(min_subtotal=Decimal(50)),
    stacking=Stacking.UNIVERSAL,
    currency="EUR",
)
BONUS = PromotionInput(
    id="bonus",
    name="Bonus 100 points",
    effect=Effect(EffectKind.BONUS_POINTS, points=100),
    activation=Activation.CODE,
    code="bonus100",
)


def cart(
    total: str = "60.00", *, codes: tuple[str, ...] = (), customer: str | None = "cust-1"
) -> CartInput:
    return CartInput(
        currency="EUR",
        lines=[("SKU-1", 2, Decimal(total) / 2, "shoes")],
        shipping=Decimal("4.90"),
        codes=codes,
        customer_id=customer,
    )


def commit(shop: Services, reservation_id: str, order_id: str, total: Decimal) -> OrderResult:
    """recordOrder for cust-1's reserved cart, placed now."""
    order = OrderInput(
        order_id,
        total,
        "EUR",
        shop.program.current_time(),
        customer_id="cust-1",
        reservation_id=reservation_id,
    )
    return shop.orders.record_order(SERVICE, order)


@pytest.fixture
def shop(services: Services) -> Services:
    services.program.update(ADMIN, SettingsChange(return_window_days=0))
    enroll(services, "cust-1")
    for p in (TEN_OFF, SHIPPING, BONUS):
        services.promotions.create(ADMIN, p)
    return services


def test_a_cart_is_evaluated_with_reasons_and_hints_and_nothing_written(shop: Services) -> None:
    evaluated = shop.checkout.evaluate(SERVICE, cart("40.00", codes=("NOPE",)))
    e = evaluated.evaluation
    assert [a.promotion_id for a in e.applied] == ["ten-off"]
    assert e.discount == 400
    assert sum(e.applied[0].lines) == 400
    reasons = {n.promotion_id: n.reason for n in e.not_applied}
    # Code promotions are candidates only when the cart gives their code.
    assert reasons == {"free-shipping": Reason.MIN_SUBTOTAL, "code:NOPE": Reason.CODE_UNKNOWN}
    assert [(h.promotion_id, h.missing_amount) for h in e.hints] == [("free-shipping", 1400)]
    assert (e.total, evaluated.points) == (4000 - 400 + 490, 36)


def test_reserve_record_refund_and_the_uses_come_back(shop: Services) -> None:
    member_id = stored_member_id = enroll(shop, "cust-1")
    reservation = shop.reservations.reserve(SERVICE, cart(codes=("BONUS100",)), "k-1")
    assert reservation.status is ReservationStatus.HELD
    assert {a.promotion_id for a in reservation.evaluation.applied} == {
        "ten-off",
        "free-shipping",
        "bonus",
    }
    assert shop.reservations.reserve(SERVICE, cart(codes=("BONUS100",)), "k-1") == reservation
    with pytest.raises(IdempotencyConflict):
        shop.reservations.reserve(SERVICE, cart("70.00"), "k-1")
    assert shop.promotions.get(ADMIN, "ten-off").usage.uses == 1
    result = shop.orders.record_order(
        SERVICE,
        OrderInput(
            order_id="o-1",
            customer_id="cust-1",
            total_amount=Decimal("54.00"),
            currency="EUR",
            placed_at=shop.program.current_time(),
            reservation_id=reservation.id,
        ),
    )
    kinds = [(e.kind, e.points) for e in ledger_entries(member_id)]
    assert kinds == [(EntryKind.EARN, 54), (EntryKind.PROMOTION, 100)]
    assert result.order.points_earned == 154
    assert result.order.reservation_id == reservation.id
    with pytest.raises(InvalidInput):  # committed already
        commit(shop, reservation.id, "o-2", Decimal(1))
    shop.refunds.refund_order(SERVICE, RefundInput("r-1", "o-1", Decimal("54.00"), "EUR"))
    assert stored_member(member_id).balance == 0
    assert shop.promotions.get(ADMIN, "ten-off").usage.uses == 0  # given back
    assert_ledger_consistent(stored_member_id)


def test_limits_hold_across_reservations_and_release_gives_back(shop: Services) -> None:
    first = shop.reservations.reserve(SERVICE, cart(), "k-1")
    second = shop.reservations.reserve(SERVICE, cart(), "k-2")
    third = shop.reservations.reserve(SERVICE, cart(), "k-3")
    applied = [{a.promotion_id for a in r.evaluation.applied} for r in (first, second, third)]
    assert ["ten-off" in a for a in applied] == [True, True, False]
    assert any(n.reason is Reason.USES_EXHAUSTED for n in third.evaluation.not_applied)
    released = shop.reservations.release(SERVICE, first.id)
    assert released.status is ReservationStatus.RELEASED
    # An abandoned cart is deleted by the table's TTL after 90 days, and leaves the due index.
    item = get(store.reservation_key(first.id), store.ReservationItem)
    assert item is not None
    assert item.due_at is None
    assert item.expires == shop.program.current_time() + timedelta(days=90)
    assert shop.reservations.release(SERVICE, first.id).status is ReservationStatus.RELEASED
    fourth = shop.reservations.reserve(SERVICE, cart(), "k-4")
    assert "ten-off" in {a.promotion_id for a in fourth.evaluation.applied}
    with pytest.raises(ReservationExpired):
        commit(shop, first.id, "o-1", Decimal(1))


def test_reservations_expire_with_the_clock_and_cannot_be_committed(shop: Services) -> None:
    held = shop.reservations.reserve(SERVICE, cart(), "k-1")
    shop.program.advance_clock(ADMIN, 31 * 60)
    assert shop.reservations.expire_due() == 1
    assert shop.reservations.expire_due() == 0
    assert shop.promotions.get(ADMIN, "ten-off").usage.uses == 0
    with pytest.raises(ReservationExpired):
        commit(shop, held.id, "o-1", Decimal(1))


def test_points_paid_at_checkout_come_back_when_released(shop: Services) -> None:
    member_id = enroll(shop, "cust-1")
    shop.spending.adjust(ADMIN, AdjustInput(50, "seed", "a-1", customer_id="cust-1"))
    with pytest.raises(InsufficientPoints):
        shop.reservations.reserve(SERVICE, cart(), "k-0", points=60)
    held = shop.reservations.reserve(member("cust-1"), cart(customer=None), "k-1", points=30)
    assert stored_member(member_id).balance == 20
    shop.reservations.release(member("cust-1"), held.id)
    assert stored_member(member_id).balance == 50
    kinds = [e.kind for e in ledger_entries(member_id)]
    assert kinds == [EntryKind.ADJUST, EntryKind.REDEEM, EntryKind.RETURN]
    assert_ledger_consistent(member_id)
    with pytest.raises(NotFound):  # another member's reservation is as if absent
        shop.reservations.release(member("cust-2"), held.id)


def test_points_paid_at_checkout_come_back_in_each_refund_share(shop: Services) -> None:
    member_id = enroll(shop, "cust-1")
    shop.spending.adjust(ADMIN, AdjustInput(100, "seed", "a-1", customer_id="cust-1"))
    held = shop.reservations.reserve(SERVICE, cart(), "k-1", points=30)
    commit(shop, held.id, "o-1", Decimal(40))
    assert stored_member(member_id).balance == 100 - 30 + 40
    shop.refunds.refund_order(SERVICE, RefundInput("r-1", "o-1", Decimal(10), "EUR"))
    # A quarter of the order: 10 of its 40 points back, 7 of the 30 paid (rounded down).
    assert stored_member(member_id).balance == 110 - 10 + 7
    shop.refunds.refund_order(SERVICE, RefundInput("r-2", "o-1", Decimal(30), "EUR"))
    assert stored_member(member_id).balance == 100  # the rest: all 30 paid are back
    kinds = [(e.kind, e.points) for e in ledger_entries(member_id)]
    assert kinds[-4:] == [
        (EntryKind.REFUND, -10),
        (EntryKind.RETURN, 7),
        (EntryKind.REFUND, -30),
        (EntryKind.RETURN, 23),
    ]
    assert_ledger_consistent(member_id)


def test_evaluate_is_one_read_with_the_catalog_cached(shop: Services) -> None:
    shop.checkout.evaluate(SERVICE, cart())
    with count_requests() as calls:
        shop.checkout.evaluate(SERVICE, cart(codes=("BONUS100",)))
    assert dict(calls) == {"BatchGetItem": 1}
    with count_requests() as calls:
        shop.reservations.reserve(SERVICE, cart(), "k-1")
    assert dict(calls) == {"BatchGetItem": 1, "TransactWriteItems": 1}


def test_paused_and_archived_promotions_stop_applying(shop: Services) -> None:
    shop.promotions.set_status(ADMIN, "ten-off", Status.PAUSED)
    e = shop.checkout.evaluate(SERVICE, cart()).evaluation
    assert "ten-off" not in {a.promotion_id for a in e.applied}
    shop.promotions.set_status(ADMIN, "ten-off", Status.ACTIVE)
    assert "ten-off" in {
        a.promotion_id for a in shop.checkout.evaluate(SERVICE, cart()).evaluation.applied
    }
    shop.promotions.set_status(ADMIN, "bonus", Status.ARCHIVED)
    e = shop.checkout.evaluate(SERVICE, cart(codes=("BONUS100",))).evaluation
    assert {n.promotion_id: n.reason for n in e.not_applied}["code:BONUS100"] is Reason.CODE_UNKNOWN
    assert shop.promotions.get(ADMIN, "bonus").promotion.status is Status.ARCHIVED
    again = shop.promotions.set_status(ADMIN, "bonus", Status.ARCHIVED)  # a replay
    assert (again.id, again.status) == ("bonus", Status.ARCHIVED)
    with pytest.raises(InvalidInput):  # archiving is final
        shop.promotions.set_status(ADMIN, "bonus", Status.ACTIVE)
    with pytest.raises(IdempotencyConflict):
        shop.promotions.create(ADMIN, replace(TEN_OFF, name="Other"))
    assert shop.promotions.create(ADMIN, TEN_OFF).id == "ten-off"


def test_live_promotions_are_bounded_by_what_checkout_reads(
    shop: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("api.promotions.admin.MAX_LIVE", 3)  # the shop has three live
    with pytest.raises(InvalidInput) as refused:
        shop.promotions.create(ADMIN, replace(TEN_OFF, id="one-more"))
    assert refused.value.field == "id"
    shop.promotions.set_status(ADMIN, "bonus", Status.ARCHIVED)
    assert shop.promotions.create(ADMIN, replace(TEN_OFF, id="one-more")).id == "one-more"


def test_a_cart_too_big_for_one_transaction_is_refused_with_nothing_held(
    shop: Services,
) -> None:
    for i in range(50):  # each holds a use and the member's use: 100 counters, over 90
        shop.promotions.create(
            ADMIN,
            PromotionInput(
                id=f"point-{i}",
                name="A point",
                effect=Effect(EffectKind.BONUS_POINTS, points=1),
                limits=Limits(per_member=1),
                stacking=Stacking.UNIVERSAL,
            ),
        )
    assert len(shop.checkout.evaluate(SERVICE, cart()).evaluation.applied) > 50
    with pytest.raises(InvalidInput) as refused:
        shop.reservations.reserve(SERVICE, cart(), "k-1")
    assert refused.value.field == "cart"
    assert shop.promotions.get(ADMIN, "point-0").usage.uses == 0


def test_a_guest_reservation_is_committed_to_the_guest_order_and_returned_on_refund(
    shop: Services,
) -> None:
    held = shop.reservations.reserve(SERVICE, cart(customer=None), "g-1")
    assert held.member_id is None
    assert shop.promotions.get(ADMIN, "ten-off").usage.uses == 1
    with pytest.raises(InvalidInput) as refused:  # a member's order cannot take a guest cart
        commit(shop, held.id, "o-1", Decimal(54))
    assert "commitGuestReservation" in refused.value.message
    with pytest.raises(NotFound):  # members cannot see, release or commit guests' carts
        shop.reservations.release(member("cust-1"), held.id)
    with pytest.raises(Forbidden):
        shop.reservations.commit_guest(member("cust-1"), held.id, "g-order")
    with pytest.raises(InvalidInput):  # not committed yet: release it instead
        shop.reservations.return_guest(SERVICE, held.id)
    committed = shop.reservations.commit_guest(SERVICE, held.id, "g-order")
    assert (committed.status, committed.order_id) == (ReservationStatus.COMMITTED, "g-order")
    assert shop.reservations.commit_guest(SERVICE, held.id, "g-order") == committed  # replay
    with pytest.raises(InvalidInput):
        shop.reservations.commit_guest(SERVICE, held.id, "another-order")
    assert shop.reservations.release(SERVICE, held.id).status is ReservationStatus.COMMITTED
    shop.program.advance_clock(ADMIN, 31 * 60)  # committed: the expiry job leaves it
    assert shop.reservations.expire_due() == 0
    assert shop.promotions.get(ADMIN, "ten-off").usage.uses == 1  # used by the guest order
    returned = shop.reservations.return_guest(SERVICE, held.id)
    assert returned.status is ReservationStatus.RETURNED
    assert shop.promotions.get(ADMIN, "ten-off").usage.uses == 0
    assert shop.reservations.return_guest(SERVICE, held.id) == returned  # harmless twice
    assert shop.promotions.get(ADMIN, "ten-off").usage.uses == 0
    member_cart = shop.reservations.reserve(SERVICE, cart(), "m-1")
    with pytest.raises(InvalidInput):  # members' reservations commit through recordOrder
        shop.reservations.commit_guest(SERVICE, member_cart.id, "g-2")


def test_a_member_holds_at_most_three_reservations(shop: Services) -> None:
    me = member("cust-1")
    held = [shop.reservations.reserve(me, cart(customer=None), f"k-{i}") for i in range(3)]
    with pytest.raises(InvalidInput) as refused:
        shop.reservations.reserve(me, cart(customer=None), "k-3")
    assert refused.value.code is ErrorCode.TOO_MANY_RESERVATIONS
    with pytest.raises(InvalidInput):  # the shop backend too, for this member
        shop.reservations.reserve(SERVICE, cart(), "k-3")
    shop.reservations.release(me, held[0].id)
    fourth = shop.reservations.reserve(me, cart(customer=None), "k-3")
    commit(shop, held[1].id, "o-1", Decimal(54))  # committing frees a slot too
    shop.reservations.reserve(me, cart(customer=None), "k-4")
    shop.program.advance_clock(ADMIN, 31 * 60)  # and expiry
    assert shop.reservations.expire_due() == 3
    for i in range(5, 8):
        shop.reservations.reserve(me, cart(customer=None), f"k-{i}")
    slots = get(store.held_key(held[0].member_id or ""), store.MemberUsageItem)
    assert slots is not None
    assert slots.uses == 3
    assert fourth.status is ReservationStatus.HELD


def test_a_first_order_promotion_is_held_by_one_reservation_at_a_time(shop: Services) -> None:
    shop.promotions.create(
        ADMIN,
        PromotionInput(
            id="welcome",
            name="Welcome 5 EUR",
            effect=Effect(EffectKind.AMOUNT_OFF, amount=Decimal(5)),
            conditions=Conditions(first_order_only=True),
            stacking=Stacking.UNIVERSAL,
            currency="EUR",
        ),
    )

    def welcomed(r: Reservation) -> bool:
        return "welcome" in {a.promotion_id for a in r.evaluation.applied}

    first = shop.reservations.reserve(SERVICE, cart(), "k-1")
    second = shop.reservations.reserve(SERVICE, cart(), "k-2")
    assert (welcomed(first), welcomed(second)) == (True, False)
    reasons = {n.promotion_id: n.reason for n in second.evaluation.not_applied}
    assert reasons["welcome"] is Reason.NOT_FIRST_ORDER
    shop.reservations.release(SERVICE, first.id)  # the first order is open again
    third = shop.reservations.reserve(SERVICE, cart(), "k-3")
    assert welcomed(third)
    commit(shop, third.id, "o-1", Decimal(49))
    assert not welcomed(shop.reservations.reserve(SERVICE, cart(), "k-4"))
    # A full refund gives the first order back; an order recorded meanwhile (without the
    # reservation) makes the welcome cart uncommittable.
    shop.refunds.refund_order(SERVICE, RefundInput("r-1", "o-1", Decimal(49), "EUR"))
    fifth = shop.reservations.reserve(SERVICE, cart(), "k-5")
    assert welcomed(fifth)
    order = OrderInput("o-2", Decimal(10), "EUR", shop.program.current_time(), customer_id="cust-1")
    shop.orders.record_order(SERVICE, order)
    with pytest.raises(InvalidInput) as refused:
        commit(shop, fifth.id, "o-3", Decimal(49))
    assert refused.value.field == "reservationId"
    assert shop.reservations.release(SERVICE, fifth.id).status is ReservationStatus.RELEASED


def test_an_order_in_another_currency_cannot_commit_the_reservation(shop: Services) -> None:
    held = shop.reservations.reserve(SERVICE, cart(), "k-1")
    order = OrderInput(
        "o-1",
        Decimal(54),
        "USD",
        shop.program.current_time(),
        customer_id="cust-1",
        reservation_id=held.id,
    )
    with pytest.raises(InvalidInput) as refused:
        shop.orders.record_order(SERVICE, order)
    assert refused.value.code is ErrorCode.CURRENCY_MISMATCH
    item = get(store.reservation_key(held.id), store.ReservationItem)
    assert item is not None
    assert item.status == "HELD"


def test_members_are_offered_only_what_they_can_get(shop: Services) -> None:
    for pid, conditions, currency in (
        ("welcome", Conditions(first_order_only=True), None),
        ("dollars", Conditions(currencies=frozenset({"USD"})), None),
        ("dollars-off", Conditions(), "USD"),
    ):
        shop.promotions.create(
            ADMIN,
            PromotionInput(
                id=pid,
                name=pid,
                effect=Effect(EffectKind.PERCENT_OFF, percent=Decimal(5)),
                conditions=conditions,
                currency=currency,
            ),
        )
    shop.program.update(ADMIN, SettingsChange(accepted_currencies=["EUR"]))
    me = member("cust-1")
    member_id = enroll(shop, "cust-1")
    offered = {o.promotion.id for o in shop.checkout.offers(me, member_id)}
    assert offered == {"ten-off", "free-shipping", "welcome"}  # no USD: the shop takes EUR
    commit(shop, shop.reservations.reserve(SERVICE, cart(), "k-1").id, "o-1", Decimal(49))
    offered = {o.promotion.id for o in shop.checkout.offers(me, member_id)}
    assert offered == {"ten-off", "free-shipping"}  # not a first order any more


def test_a_cart_earning_beyond_the_points_limit_is_refused_on_its_lines(shop: Services) -> None:
    huge = CartInput("EUR", [("SKU-1", 100_000, Decimal("99999999.99"), None)])
    with pytest.raises(InvalidInput) as refused:
        shop.checkout.evaluate(SERVICE, huge)
    assert refused.value.field == "lines"
