"""Codes issued to one member (reward vouchers, referral welcomes): bound, single-use,
valid until a time, voided only while unused."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from api.errors import InvalidInput
from api.ids import member_id_for
from api.promotions import issued
from api.promotions.model import (
    Activation,
    CartInput,
    Effect,
    EffectKind,
    PromotionInput,
    Reason,
)
from api.services import Services
from api.store.tx import Cancelled, Transaction
from tests.support import ADMIN, SERVICE, enroll

VOUCHER = PromotionInput(
    id="voucher",
    name="5 EUR voucher",
    effect=Effect(EffectKind.AMOUNT_OFF, amount=Decimal(5)),
    activation=Activation.CODE,
    currency="EUR",
)


def cart(code: str, customer: str = "cust-1") -> CartInput:
    return CartInput("EUR", [("SKU", 1, Decimal(20), None)], codes=(code,), customer_id=customer)


def reasons(shop: Services, data: CartInput) -> list[Reason]:
    return [n.reason for n in shop.checkout.evaluate(SERVICE, data).evaluation.not_applied]


def test_an_issued_code_serves_its_member_until_it_expires(services: Services) -> None:
    shop = services
    for customer in ("cust-1", "cust-2"):
        enroll(shop, customer)
    promotion = issued.usable(shop.promotions.create(ADMIN, VOUCHER), "promotionId")
    expires = shop.program.current_time() + timedelta(days=30)
    code, item = issued.issue(promotion, member_id_for("cust-1"), expires, prefix="RW-")
    assert code.code.startswith("RW-")
    tx = Transaction()
    tx.put_new(item)
    tx.commit()
    evaluated = shop.checkout.evaluate(SERVICE, cart(code.code.lower()))
    assert [a.promotion_id for a in evaluated.evaluation.applied] == ["voucher"]
    assert reasons(shop, cart(code.code, "cust-2")) == [Reason.CODE_BOUND_TO_ANOTHER_MEMBER]
    shop.program.advance_clock(ADMIN, 30 * 24 * 3600)
    assert reasons(shop, cart(code.code)) == [Reason.CODE_EXPIRED]


def test_a_code_is_voided_only_while_unused(services: Services) -> None:
    shop = services
    enroll(shop, "cust-1")
    promotion = shop.promotions.create(ADMIN, VOUCHER)
    codes = []
    for _ in range(2):
        issue, item = issued.issue(promotion, member_id_for("cust-1"), None)
        tx = Transaction()
        tx.put_new(item)
        tx.commit()
        codes.append(issue.code)
    shop.reservations.reserve(SERVICE, cart(codes[0]), "k-1")  # held: in use
    for code in codes:
        tx = Transaction()
        tx.add(issued.void(code))
        if code == codes[0]:
            with pytest.raises(Cancelled):
                tx.commit()
        else:
            tx.commit()
    assert reasons(shop, cart(codes[1])) == [Reason.CODE_CANCELLED]
    tx = Transaction()
    tx.add(issued.void("NEVER-ISSUED"))  # never creates a code
    with pytest.raises(Cancelled):
        tx.commit()
    assert reasons(shop, cart("NEVER-ISSUED")) == [Reason.CODE_UNKNOWN]


def test_only_code_promotions_issue_codes(services: Services) -> None:
    automatic = services.promotions.create(
        ADMIN, PromotionInput("auto", "Auto", Effect(EffectKind.PERCENT_OFF, percent=Decimal(5)))
    )
    with pytest.raises(InvalidInput):
        issued.usable(automatic, "promotionId")
