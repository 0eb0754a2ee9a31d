"""A shop with a catalog: a discount code reward, a perk, and a pool reward."""

from __future__ import annotations

from decimal import Decimal

import pytest

from api.points.model import AdjustInput
from api.promotions.model import Activation, Effect, EffectKind, PromotionInput
from api.rewards.model import MemberLimit, Period, RewardInput, RewardType
from api.services import Services
from tests.support import ADMIN, enroll
from tests.tiers.test_tiers import config_input

VOUCHER = PromotionInput(
    id="voucher-5",
    name="5 EUR off",
    effect=Effect(EffectKind.AMOUNT_OFF, amount=Decimal(5)),
    activation=Activation.CODE,
    currency="EUR",
)
DISCOUNT = RewardInput(
    id="five-off",
    name="5 EUR voucher",
    points_cost=500,
    type=RewardType.DISCOUNT_CODE,
    promotion_id="voucher-5",
    validity_days=30,
    stock=100,
    member_limit=MemberLimit(2, Period.MONTH),
)
PERK = RewardInput(id="tote", name="Tote bag", points_cost=300, type=RewardType.PERK, stock=3)
GIFT = RewardInput(
    id="gift-10", name="10 EUR gift card", points_cost=1000, type=RewardType.IMPORTED_CODE
)


def credit(services: Services, customer: str, points: int, key: str = "seed") -> None:
    services.spending.adjust(ADMIN, AdjustInput(points, "seed", key, customer_id=customer))


@pytest.fixture
def shop(services: Services) -> Services:
    services.tiers.update(ADMIN, config_input())
    services.promotions.create(ADMIN, VOUCHER)
    for reward in (DISCOUNT, PERK, GIFT):
        services.rewards.create(ADMIN, reward)
    enroll(services, "cust-1")
    credit(services, "cust-1", 2000)
    return services
