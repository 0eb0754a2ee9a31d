"""Demo data for the local server: program settings, a tier ladder and members in different
tiers, with some history.

Written through the domain services, so the demo ledger obeys the same rules as real data.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from api.auth import Principal, Role
from api.members.model import Channel, ConsentInput, EnrollInput
from api.points.model import AdjustInput, OrderInput, RedeemInput, RefundInput
from api.program.model import SettingsChange
from api.services import Services
from api.tiers.model import ConfigInput, DowngradePolicy, Metric, SetTierInput, TierInput, Window

DEMO_MEMBER = "demo-alice"
_SERVICE = Principal(Role.SERVICE, "demo-seed")
_ADMIN = Principal(Role.ADMIN, "demo-seed")


def seed(services: Services) -> None:
    """Idempotent: every write is keyed, so seeding twice changes nothing."""
    services.program.update(
        _ADMIN,
        SettingsChange(
            points_per_unit=Decimal(1),
            accepted_currencies=["EUR", "USD", "GBP"],
            return_window_days=14,
            lot_validity_days=365,
        ),
    )
    services.tiers.update(
        _ADMIN,
        ConfigInput(
            tiers=[
                TierInput("BRONZE", "Bronze", Decimal(0), perks=["Birthday gift"]),
                TierInput("SILVER", "Silver", Decimal(200), Decimal("1.25"), ["Free shipping"], 50),
                TierInput(
                    "GOLD",
                    "Gold",
                    Decimal(500),
                    Decimal("1.5"),
                    ["Free shipping", "24 h early access to sales"],
                    150,
                ),
                TierInput(
                    "PLATINUM", "Platinum", Decimal(1500), Decimal(2), ["Personal shopper"], 500
                ),
            ],
            metric=Metric.QUALIFYING_POINTS,
            window=Window.ROLLING_12_MONTHS,
            downgrade=DowngradePolicy.ONE_TIER,
            grace_days=30,
        ),
    )
    now = services.program.current_time()
    members = services.members
    consent = [
        ConsentInput(Channel.EMAIL, True, "signup-form"),
        ConsentInput(Channel.PUSH, True, "app"),
    ]
    members.enroll(
        _SERVICE,
        EnrollInput(
            customer_id=DEMO_MEMBER,
            time_zone="Europe/Paris",
            locale="fr-FR",
            email="alice@example.com",
            name="Alice Martin",
            birthday=None,
            consents=consent,
        ),
    )
    members.enroll(
        _SERVICE,
        EnrollInput(
            customer_id="demo-bob",
            time_zone="America/New_York",
            locale="en-US",
            email="bob@example.com",
            name="Bob Smith",
        ),
    )

    def order(
        order_id: str, customer: str, amount: str, days_ago: int, currency: str = "EUR"
    ) -> None:
        services.orders.record_order(
            _SERVICE,
            OrderInput(
                order_id=order_id,
                customer_id=customer,
                total_amount=Decimal(amount),
                currency=currency,
                placed_at=now - timedelta(days=days_ago),
            ),
        )

    # Alice: an old order about to expire, an active one, one still in its return window,
    # a redemption and a partial refund.
    order("demo-1001", DEMO_MEMBER, "80.00", 370)
    order("demo-1002", DEMO_MEMBER, "245.90", 60)
    order("demo-1003", DEMO_MEMBER, "59.99", 3)
    services.spending.redeem(
        _SERVICE,
        RedeemInput(
            points=50,
            reference="demo-cart-77",
            idempotency_key="demo-redeem-1",
            customer_id=DEMO_MEMBER,
        ),
    )
    services.refunds.refund_order(
        _SERVICE,
        RefundInput(
            refund_id="demo-refund-1", order_id="demo-1002", amount=Decimal("45.90"), currency="EUR"
        ),
    )
    # Dave: a good customer, Gold (through Silver, both entry bonuses).
    members.enroll(
        _SERVICE,
        EnrollInput(
            customer_id="demo-dave",
            time_zone="Asia/Tokyo",
            locale="ja-JP",
            email="dave@example.com",
            name="Dave Sato",
            consents=[ConsentInput(Channel.EMAIL, True, "checkout")],
        ),
    )
    order("demo-4001", "demo-dave", "310.00", 200)
    order("demo-4002", "demo-dave", "275.50", 45)
    # Carol: no orders, but Gold by hand (a press partner) until three months after joining.
    carol = members.enroll(
        _SERVICE,
        EnrollInput(
            customer_id="demo-carol", time_zone="Europe/London", locale="en-GB", name="Carol Jones"
        ),
    )
    services.tiers.set_member_tier(
        _ADMIN,
        SetTierInput(
            tier="GOLD",
            reason="Press partner",
            until=carol.created_at + timedelta(days=90),
            idempotency_key="demo-tier-carol",
            customer_id="demo-carol",
        ),
    )
    # Bob: one order in USD and a goodwill credit.
    order("demo-2001", "demo-bob", "120.00", 30, currency="USD")
    services.spending.adjust(
        _ADMIN,
        AdjustInput(
            points=25,
            reason="Late delivery goodwill",
            idempotency_key="demo-adjust-1",
            customer_id="demo-bob",
        ),
    )
