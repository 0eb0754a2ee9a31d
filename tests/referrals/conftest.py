"""Referrals on, with a welcome promotion, and helpers to enrol referees."""

from __future__ import annotations

from decimal import Decimal

import pytest

from api.ids import member_id_for
from api.members.model import EnrollInput, Enrolment
from api.program.model import ReferralChange, SettingsChange
from api.promotions.model import Activation, Effect, EffectKind, PromotionInput
from api.services import Services
from tests.support import ADMIN, SERVICE

WELCOME = PromotionInput(
    id="welcome",
    name="10% off your first order",
    effect=Effect(EffectKind.PERCENT_OFF, percent=Decimal(10)),
    activation=Activation.CODE,
)


ON = ReferralChange(
    enabled=True,
    referrer_points=250,
    monthly_cap=3,
    welcome_promotion_id="welcome",
    welcome_validity_days=30,
)


def switch_on(services: Services, change: ReferralChange = ON) -> None:
    services.promotions.create(ADMIN, WELCOME)
    services.program.update(ADMIN, SettingsChange(return_window_days=14, referrals=change))


@pytest.fixture
def shop(services: Services) -> Services:
    """Referrals on: 250 points a referral, 3 a month, a 30-day welcome code."""
    switch_on(services)
    return services


def join(
    services: Services,
    customer_id: str,
    code: str | None,
    *,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
) -> Enrolment:
    return services.members.join(
        SERVICE,
        EnrollInput(
            customer_id=customer_id,
            time_zone="Europe/Paris",
            locale="fr-FR",
            name=name,
            email=email,
            phone=phone,
            referral_code=code,
        ),
    )


def code_of(services: Services, customer_id: str) -> str:
    code = services.referrals.overview(ADMIN, member_id_for(customer_id)).code
    assert code is not None
    return code
