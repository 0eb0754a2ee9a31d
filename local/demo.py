"""Demo data for the local server: program settings, a tier ladder and members in different
tiers, with some history, promotions, a referrer with a referral in each state, and members
that nudges of every kind become due for within three days.

Written through the domain services, so the demo ledger obeys the same rules as real data.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from api.auth import Principal, Role
from api.clock import ManualClock
from api.feedback.reviews_model import Decision, ReviewInput, review_id
from api.feedback.surveys_model import AskInput, CsatSubject, SurveyChannel, SurveyKind
from api.ids import member_id_for
from api.members.model import Channel, ConsentInput, EnrollInput
from api.nudges.channels import Platform
from api.nudges.rules_model import NudgeKind
from api.nudges.settings import NudgeConfigChange, TriggerChange
from api.points.model import AdjustInput, OrderInput, OrderLine, RedeemInput, RefundInput
from api.points.store import order_key
from api.program.model import ReferralChange, SettingsChange
from api.promotions.model import (
    Activation,
    BatchInput,
    Conditions,
    EarlyAccess,
    Effect,
    EffectKind,
    Limits,
    PromotionInput,
    Schedule,
    Stacking,
    Target,
)
from api.rewards.model import MemberLimit, Period, RewardInput, RewardType
from api.rewards.model import RedeemInput as RedeemRewardInput
from api.services import Services, build_services
from api.store import reads
from api.store.base import TableItem
from api.stream import Change
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
        order_id: str,
        customer: str,
        amount: str,
        days_ago: int,
        currency: str = "EUR",
        *,
        lines: tuple[OrderLine, ...] = (),
    ) -> None:
        services.orders.record_order(
            _SERVICE,
            OrderInput(
                order_id=order_id,
                customer_id=customer,
                total_amount=Decimal(amount),
                currency=currency,
                placed_at=now - timedelta(days=days_ago),
                lines=lines,
            ),
        )

    # Alice: an old order about to expire, an active one, one still in its return window,
    # a redemption and a partial refund.
    order("demo-1001", DEMO_MEMBER, "80.00", 370)
    order("demo-1002", DEMO_MEMBER, "245.90", 60)
    order(
        "demo-1003",
        DEMO_MEMBER,
        "59.99",
        3,
        lines=(OrderLine("TSHIRT-BLUE-M", 1, Decimal("59.99")),),
    )
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
    # Bob: one order in USD (the mug he reviews, so his review is verified) and a goodwill
    # credit.
    mug = OrderLine("MUG-STONE-01", 2, Decimal(30))
    order(
        "demo-2001",
        "demo-bob",
        "120.00",
        30,
        "USD",
        lines=(mug, OrderLine("TEA-SENCHA", 3, Decimal(20))),
    )
    # What the stream does with a new order (the local poller does it too, a moment later,
    # changing nothing): the purchases that verify Bob's review below, and Alice's of the
    # README's walkthrough.
    for bought in ("demo-1003", "demo-2001"):
        item = reads.get(order_key(bought), TableItem)
        services.reactions.dispatch(Change(f"demo-{bought}", None, item))
    services.spending.adjust(
        _ADMIN,
        AdjustInput(
            points=25,
            reason="Late delivery goodwill",
            idempotency_key="demo-adjust-1",
            customer_id="demo-bob",
        ),
    )
    seed_promotions(services, carol.created_at)
    seed_referrals(services, carol.created_at)
    seed_rewards(services)
    seed_reviews(services)
    seed_surveys(services)
    seed_nudges(services, carol.created_at)


def seed_promotions(services: Services, anchor: datetime) -> None:
    """A spring sale Gold members see 24 h early, free shipping, double points on socks, a
    generic code and a batch of unique codes. Dates hang on `anchor` (a stable time of the
    first seed), so seeding again is a replay."""
    promotions = [
        PromotionInput(
            id="spring-sale",
            name="Spring sale: 20% off shoes",
            description="Gold members shop it a day early.",
            effect=Effect(EffectKind.PERCENT_OFF, target=Target.LINES, percent=Decimal(20)),
            conditions=Conditions(categories=frozenset({"shoes"})),
            schedule=Schedule(
                starts_at=anchor + timedelta(hours=12),
                ends_at=anchor + timedelta(days=30),
                early_access=(EarlyAccess("GOLD", 24),),
            ),
            limits=Limits(total_uses=500, per_member=2),
            priority=10,
        ),
        PromotionInput(
            id="free-shipping",
            name="Free shipping from 50 EUR",
            effect=Effect(EffectKind.FREE_SHIPPING, target=Target.SHIPPING),
            conditions=Conditions(min_subtotal=Decimal(50)),
            stacking=Stacking.UNIVERSAL,
            currency="EUR",
        ),
        PromotionInput(
            id="socks-double-points",
            name="Double points on socks",
            effect=Effect(EffectKind.POINTS_MULTIPLIER, target=Target.LINES, multiplier=Decimal(2)),
            conditions=Conditions(categories=frozenset({"socks"})),
            stacking=Stacking.UNIVERSAL,
        ),
        PromotionInput(
            id="summer10",
            name="SUMMER10: 10 EUR off 60 EUR",
            activation=Activation.CODE,
            code="SUMMER10",
            effect=Effect(EffectKind.AMOUNT_OFF, amount=Decimal(10)),
            conditions=Conditions(min_subtotal=Decimal(60)),
            limits=Limits(total_uses=1000, budget=Decimal(5000), per_member=1),
            stacking=Stacking.EXCLUSIVE,
            currency="EUR",
        ),
        PromotionInput(
            id="vip-thanks",
            name="VIP thank-you: 15% off, one use per code",
            activation=Activation.CODE,
            effect=Effect(EffectKind.PERCENT_OFF, percent=Decimal(15)),
            limits=Limits(per_code=1),
        ),
    ]
    for promotion in promotions:
        services.promotions.create(_ADMIN, promotion)
    services.code_batches.create(
        _ADMIN,
        BatchInput(
            promotion_id="vip-thanks", count=50, prefix="VIP-", length=8, idempotency_key="demo-vip"
        ),
    )


def seed_referrals(services: Services, anchor: datetime) -> None:
    """Carol refers three friends: Erin's first order outlived its window (Carol rewarded),
    Frank's is in its window (pending), Grace's was refunded (refused). Order dates hang on
    `anchor` (a stable time of the first seed), so seeding again is a replay."""
    services.promotions.create(
        _ADMIN,
        PromotionInput(
            id="welcome-10",
            name="Welcome: 10% off your first order",
            activation=Activation.CODE,
            effect=Effect(EffectKind.PERCENT_OFF, percent=Decimal(10)),
            conditions=Conditions(first_order_only=True),
        ),
    )
    services.program.update(
        _ADMIN,
        SettingsChange(
            referrals=ReferralChange(
                enabled=True,
                referrer_points=200,
                monthly_cap=10,
                welcome_promotion_id="welcome-10",
                welcome_validity_days=30,
                link_format="https://shop.example/r/{code}",
            )
        ),
    )
    carol = services.referrals.overview(_ADMIN, member_id_for("demo-carol")).code
    # The friends joined 25 days before the seed, so their orders since count as first
    # orders (an order dated before a referral is a customer's history, which does not).
    joined = build_services(services.config, ManualClock(anchor - timedelta(days=25)))
    friends = [
        ("demo-erin", "Erin Walsh", "erin@example.com", "demo-5001", "45.00", 20),
        ("demo-frank", "Frank Moreau", "frank@example.com", "demo-6001", "62.00", 3),
        ("demo-grace", "Grace Kim", "grace@example.com", "demo-7001", "30.00", 16),
    ]
    for customer_id, name, email, order_id, amount, days_ago in friends:
        joined.members.join(
            _SERVICE,
            EnrollInput(
                customer_id=customer_id,
                time_zone="Europe/Paris",
                locale="en-GB",
                name=name,
                email=email,
                referral_code=carol,
            ),
        )
        services.orders.record_order(
            _SERVICE,
            OrderInput(
                order_id=order_id,
                customer_id=customer_id,
                total_amount=Decimal(amount),
                currency="EUR",
                placed_at=anchor - timedelta(days=days_ago),
            ),
        )
        # What the stream does with a new order (the local poller does it too, a moment
        # later, changing nothing): a referee's first order makes the referral due.
        item = reads.get(order_key(order_id), TableItem)
        services.reactions.dispatch(Change(f"demo-{order_id}", None, item))
    services.refunds.refund_order(
        _SERVICE,
        RefundInput(
            refund_id="demo-refund-7001", order_id="demo-7001", amount=Decimal(30), currency="EUR"
        ),
    )
    services.referral_rewards.run()  # Erin's is due: Carol rewarded; Grace's refused


def seed_rewards(services: Services) -> None:
    """A catalog Alice can partly afford: a coffee and a 5 EUR voucher yes, a 10 EUR voucher
    and a gift card not yet, a Gold tote bag not at her tier. She has redeemed a coffee."""
    services.promotions.create(
        _ADMIN,
        PromotionInput(
            id="reward-voucher-5",
            name="Reward: 5 EUR off",
            activation=Activation.CODE,
            effect=Effect(EffectKind.AMOUNT_OFF, amount=Decimal(5)),
            currency="EUR",
        ),
    )
    services.promotions.create(
        _ADMIN,
        PromotionInput(
            id="reward-voucher-10",
            name="Reward: 10 EUR off 50 EUR",
            activation=Activation.CODE,
            effect=Effect(EffectKind.AMOUNT_OFF, amount=Decimal(10)),
            conditions=Conditions(min_subtotal=Decimal(50)),
            currency="EUR",
        ),
    )
    rewards = [
        RewardInput(
            id="coffee",
            name="A coffee in our shop",
            description="Show the code at the counter.",
            image_url="https://shop.example/rewards/coffee.png",
            points_cost=50,
            type=RewardType.PERK,
            member_limit=MemberLimit(1, Period.WEEK),
        ),
        RewardInput(
            id="voucher-5",
            name="5 EUR voucher",
            image_url="https://shop.example/rewards/voucher-5.png",
            points_cost=150,
            type=RewardType.DISCOUNT_CODE,
            promotion_id="reward-voucher-5",
            validity_days=30,
            member_limit=MemberLimit(2, Period.MONTH),
            stock=1000,
        ),
        RewardInput(
            id="voucher-10",
            name="10 EUR off 50 EUR",
            points_cost=400,
            type=RewardType.DISCOUNT_CODE,
            promotion_id="reward-voucher-10",
            validity_days=30,
        ),
        RewardInput(
            id="gold-tote",
            name="Gold tote bag",
            description="For Gold members and above.",
            points_cost=300,
            type=RewardType.PERK,
            min_tier="GOLD",
            stock=50,
            low_stock=10,
        ),
        RewardInput(
            id="gift-card-25",
            name="25 EUR gift card",
            points_cost=2500,
            type=RewardType.IMPORTED_CODE,
            low_stock=5,
        ),
    ]
    for reward in rewards:
        services.rewards.create(_ADMIN, reward)
    services.reward_pools.upload(
        _ADMIN, "gift-card-25", [f"GC25-DEMO-{i:04d}" for i in range(20)], "demo-gift-cards"
    )
    services.redemptions.redeem(
        _SERVICE, RedeemRewardInput("coffee", "demo-coffee-1", customer_id=DEMO_MEMBER)
    )


def seed_reviews(services: Services) -> None:
    """Three reviews of a mug: Bob's (verified: he bought two) and Dave's approved (the
    rating counts them), Carol's pending; votes on both approved ones. Review rewards stay
    off (an admin turns them on with reviewRewardPoints)."""
    reviews = [
        ("demo-bob", 5, "Keeps coffee hot", "Holds heat for an hour.\nDishwasher safe.", True),
        ("demo-dave", 3, "Fine, a bit small", "Smaller than the photo suggests.", True),
        ("demo-carol", 4, "Lovely glaze", "The blue is deeper in person.", False),
    ]
    for customer, rating, title, body, approve in reviews:
        member_id = member_id_for(customer)
        review = services.reviews.submit(
            Principal(Role.MEMBER, member_id, member_id),
            ReviewInput("MUG-STONE-01", rating, title, body),
            f"demo-review-{customer}",
        )
        if approve:
            services.reviews.moderate(_ADMIN, review.id, Decision.APPROVE, None)
    # Helpful votes: Bob's review first in MOST_HELPFUL.
    votes = [
        (DEMO_MEMBER, "demo-bob", True),
        ("demo-carol", "demo-bob", True),
        ("demo-carol", "demo-dave", False),
    ]
    for voter, author, helpful in votes:
        voter_id = member_id_for(voter)
        services.reviews.vote(
            Principal(Role.MEMBER, voter_id, voter_id),
            review_id(member_id_for(author), "MUG-STONE-01"),
            helpful,
        )


def seed_surveys(services: Services) -> None:
    """Three NPS answers (Alice 9 and Dave 10 in their apps; Bob 6 by email, relayed by the
    shop) and two CSAT (Dave's order 5; Erin's support ticket 2): NPS 33.3, CSAT 50%."""
    nps = SurveyKind.NPS
    answers = [
        ("demo-alice", AskInput(nps, SurveyChannel.APP), 9, "Love the early access to sales."),
        ("demo-bob", AskInput(nps, SurveyChannel.EMAIL), 6, "Shipping to the US is slow."),
        ("demo-dave", AskInput(nps, SurveyChannel.APP), 10, None),
        (
            "demo-dave",
            AskInput(SurveyKind.CSAT, SurveyChannel.EMAIL, CsatSubject.ORDER, "demo-4002"),
            5,
            None,
        ),
        (
            "demo-erin",
            AskInput(SurveyKind.CSAT, SurveyChannel.EMAIL, CsatSubject.SUPPORT, "demo-ticket-1"),
            2,
            "Nobody answered for three days.",
        ),
    ]
    for i, (customer, data, score, comment) in enumerate(answers):
        asked = services.surveys.ask(_SERVICE, data, f"demo-ask-{i}", customer_id=customer)
        assert asked.invitation is not None, asked  # everyone is due once: 100% sampled
        services.surveys.answer(_SERVICE, asked.invitation.id, score, comment, f"demo-answer-{i}")


# Nudges: pairs of members, one in Europe and one in Honolulu, whose quiet hours (21:00-08:00
# local) never overlap: whatever the hour, one of each pair can be sent to at once.
NUDGE_DAYS = 3  # advanceTestClock(days: 3) makes every kind due
NUDGE_STALENESS_HOURS = 120  # a jump of days must not leave nudges due on the way stale


@dataclass(frozen=True)
class NudgeMember:
    customer_id: str
    name: str
    time_zone: str
    locale: str
    channels: tuple[Channel, ...]  # consented
    phone: str | None = None
    push: Platform | None = None  # a registered device


def seed_nudges(services: Services, anchor: datetime) -> None:
    """Eight members in four stories, each story once in Europe and once in Honolulu, so
    that advancing the test clock NUDGE_DAYS days makes nudges of every kind due:

    - expiring points and a review request: 30 points from an order 363 days ago expire in
      16 days (warned 14 days ahead); a scarf ordered 8 days ago is not reviewed (asked 10
      days after the order);
    - a tier at risk and a birthday: Silver by hand until 16 days from now, with no
      qualifying points (warned 14 days ahead of the review); a birthday in three days;
    - close to the next tier, then a reward: 185 qualifying points (Silver from 200, within
      10 %), pending until their return window ends in two days: then 185 points available
      buy the 150-point voucher;
    - win-back and NPS: joined 200 days ago, last order 58 days ago (win-back after 60
      days); never asked NPS (due 14 days after an order).

    Triggers offer EMAIL, PUSH, SMS in that order (BIRTHDAY: PUSH first), so the channel is
    the first the member consented to. Dates hang on `anchor`, so seeding again is a replay.
    """
    everything = (Channel.EMAIL, Channel.PUSH, Channel.SMS)
    services.nudge_config.update(
        _ADMIN,
        NudgeConfigChange(
            triggers=tuple(
                TriggerChange(
                    kind,
                    channels=(Channel.PUSH, Channel.EMAIL, Channel.SMS)
                    if kind is NudgeKind.BIRTHDAY
                    else everything,
                    bonus_points=20 if kind is NudgeKind.BIRTHDAY else 0,
                )
                for kind in NudgeKind
            ),
            staleness_hours=tuple((kind, NUDGE_STALENESS_HOURS) for kind in NudgeKind),
        ),
        None,
    )
    europe, honolulu = "Europe", "Pacific/Honolulu"
    stories = {
        "expiring": [
            NudgeMember("demo-lena", "Lena Vogel", "Europe/Berlin", "de-DE", (Channel.EMAIL,)),
            NudgeMember(
                "demo-sam", "Sam Kahale", honolulu, "en-US", (Channel.SMS,), phone="+18085550123"
            ),
        ],
        "tier": [
            NudgeMember(
                "demo-clara",
                "Clara Petit",
                "Europe/Paris",
                "fr-FR",
                (Channel.EMAIL, Channel.PUSH),
                push=Platform.ANDROID,
            ),
            NudgeMember("demo-noah", "Noah Akana", honolulu, "en-US", (Channel.EMAIL,)),
        ],
        "close": [
            NudgeMember("demo-jonas", "Jonas Weber", "Europe/Berlin", "de-DE", (Channel.EMAIL,)),
            NudgeMember("demo-mia", "Mia Palakiko", honolulu, "en-US", (Channel.EMAIL,)),
        ],
        "inactive": [
            NudgeMember("demo-ines", "Inès Moreau", "Europe/Paris", "fr-FR", (Channel.EMAIL,)),
            NudgeMember(
                "demo-leo", "Leo Kealoha", honolulu, "en-US", (Channel.PUSH,), push=Platform.IOS
            ),
        ],
    }
    assert all(m.time_zone.startswith(europe) for m, _ in stories.values())
    birthday_at = anchor + timedelta(days=NUDGE_DAYS)
    for story, pair in stories.items():
        for m in pair:
            birthday = None
            if story == "tier":  # in NUDGE_DAYS days, in their zone (1992: 29 February exists)
                local = birthday_at.astimezone(ZoneInfo(m.time_zone)).date()
                birthday = date(1992, local.month, local.day)
            # The inactive joined long ago (win-back counts from the newest of enrolment and
            # orders); the others at the seed.
            joined = (
                build_services(services.config, ManualClock(anchor - timedelta(days=200)))
                if story == "inactive"
                else services
            )
            joined.members.enroll(
                _SERVICE,
                EnrollInput(
                    customer_id=m.customer_id,
                    time_zone=m.time_zone,
                    locale=m.locale,
                    email=f"{m.customer_id.removeprefix('demo-')}@example.com",
                    name=m.name,
                    phone=m.phone,
                    birthday=birthday,
                    consents=[ConsentInput(c, True, "signup-form") for c in m.channels],
                ),
            )
            _nudge_story(services, anchor, story, m)


def _nudge_story(services: Services, anchor: datetime, story: str, m: NudgeMember) -> None:
    member_id = member_id_for(m.customer_id)
    short = m.customer_id.removeprefix("demo-")

    def order(suffix: str, amount: str, days_ago: int, lines: tuple[OrderLine, ...] = ()) -> None:
        order_id = f"demo-{short}-{suffix}"
        services.orders.record_order(
            _SERVICE,
            OrderInput(
                order_id=order_id,
                customer_id=m.customer_id,
                total_amount=Decimal(amount),
                currency="EUR",
                placed_at=anchor - timedelta(days=days_ago),
                lines=lines,
            ),
        )
        # What the stream does with a new order (the local poller does it too, a moment
        # later, changing nothing): review-request, win-back and NPS watches.
        item = reads.get(order_key(order_id), TableItem)
        services.reactions.dispatch(Change(f"demo-{order_id}", None, item))

    if story == "expiring":
        order("1", "30.00", 363)
        order("2", "45.00", 8, (OrderLine("SCARF-WOOL", 1, Decimal(45)),))
    elif story == "tier":
        services.tiers.set_member_tier(
            _ADMIN,
            SetTierInput(
                tier="SILVER",
                reason="Welcome offer",
                until=anchor + timedelta(days=16),
                idempotency_key=f"demo-tier-{short}",
                customer_id=m.customer_id,
            ),
        )
    elif story == "close":
        order("1", "185.00", 12)
        # Asked NPS already (not answered): not due again, so it takes no place under caps.
        services.surveys.ask(
            _SERVICE,
            AskInput(SurveyKind.NPS, SurveyChannel.APP),
            f"demo-nps-{short}",
            customer_id=m.customer_id,
        )
    else:
        order("1", "45.00", 58)
    if m.push is not None and (
        services.config.sns_fcm_arn if m.push is Platform.ANDROID else services.config.sns_apns_arn
    ):
        # The app registers its token (only where SNS has the platform's application).
        token = hashlib.sha256(m.customer_id.encode()).hexdigest()
        services.devices.register(Principal(Role.MEMBER, member_id, member_id), m.push, token)
