"""The fast read path decodes exactly what PynamoDB would, for every item type."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from api.feedback.followups_store import FollowUpEventItem, event_key, follow_up_id
from api.feedback.reviews_model import Decision, ReviewInput
from api.feedback.reviews_store import PurchaseItem, purchase_key
from api.feedback.surveys_model import (
    Answer,
    AskInput,
    CsatSubject,
    SurveyChannel,
    SurveyKind,
)
from api.feedback.surveys_store import answer_to_item
from api.members.model import Channel
from api.nudges import store as nudge_store
from api.nudges.channels import Platform
from api.nudges.devices_model import Device
from api.nudges.devices_store import owner_item, token_id, with_devices
from api.nudges.model import NudgeRecord, NudgeStatus
from api.nudges.rules_model import NudgeKind
from api.nudges.settings import NudgeConfigChange
from api.nudges.suppressions_model import SuppressionReason
from api.nudges.templates_model import TemplateInput
from api.points.model import AdjustInput, RefundInput
from api.program.model import SettingsChange
from api.program.store import SETTINGS_KEY
from api.promotions.model import (
    Activation,
    BatchInput,
    CartInput,
    Effect,
    EffectKind,
    Limits,
    PromotionInput,
)
from api.rewards.model import MemberLimit, Period, RedeemInput, RewardInput, RewardType
from api.services import Services
from api.store import reads
from api.store.base import TableItem, item_types
from api.stream import Change
from api.tiers.model import ConfigInput, DowngradePolicy, Metric, TierInput, Window
from tests.referrals.conftest import code_of, join, switch_on
from tests.support import ADMIN, SERVICE, START, enroll, member, order, redeem

M1 = member("cust-1").member_id or ""


def test_fast_reads_equal_pynamodb_for_every_item_type(services: Services) -> None:
    services.program.update(
        ADMIN, SettingsChange(max_points_per_order=1000, review_reward_points=5)
    )
    services.tiers.update(
        ADMIN,
        ConfigInput(
            [
                TierInput("BASE", "Base", Decimal(0)),
                TierInput("VIP", "VIP", Decimal(120), perks=["x"]),
            ],
            Metric.QUALIFYING_POINTS,
            Window.ROLLING_12_MONTHS,
            DowngradePolicy.ONE_TIER,
        ),
    )
    enroll(services)
    order(services, "o-1", "100", placed_at=services.clock.now() - timedelta(days=30))
    order(services, "o-2", "50")  # VIP: a tier change
    redeem(services, 20, "k-1")
    services.refunds.refund_order(SERVICE, RefundInput("r-1", "o-1", Decimal("10"), "EUR"))
    services.maintenance.run()
    code = PromotionInput(
        "p-1",
        "5 EUR",
        Effect(EffectKind.AMOUNT_OFF, amount=Decimal(5)),
        activation=Activation.CODE,
        code="FIVE",
        limits=Limits(per_member=1),
        currency="EUR",
    )
    services.promotions.create(ADMIN, code)
    services.code_batches.create(ADMIN, BatchInput("p-1", count=3, idempotency_key="b"))
    cart = CartInput("EUR", [("A", 1, Decimal(20), None)], codes=("five",), customer_id="cust-1")
    services.reservations.reserve(SERVICE, cart, "k-2")
    switch_on(services)  # a referral: its code items, counters and both copies
    join(services, "cust-2", code_of(services, "cust-1"), name="Bob Smith")
    services.spending.adjust(ADMIN, AdjustInput(100, "seed", "a-1", customer_id="cust-1"))
    limit = MemberLimit(1, Period.MONTH)
    for reward in (
        RewardInput(
            "voucher", "V", 1, RewardType.DISCOUNT_CODE, promotion_id="p-1", validity_days=9
        ),
        RewardInput("tote", "T", 1, RewardType.PERK, stock=5, member_limit=limit),
        RewardInput("gift", "G", 1, RewardType.IMPORTED_CODE),
    ):
        services.rewards.create(ADMIN, reward)
    for name in ("voucher", "tote"):
        services.redemptions.redeem(member("cust-1"), RedeemInput(name, name))
    services.reward_pools.upload(ADMIN, "gift", ["GIFT-0001"], "u-1")
    # What the stream writes for an order with lines (orders with lines are left out here:
    # their LineAttribute maps do not compare equal).
    PurchaseItem(
        *purchase_key(member("cust-1").member_id or "", "sku-1", "o-1"), order_id="o-1"
    ).save()
    for sku in ("sku-1", "sku-2"):  # a review approved (rating, listed copies), one pending
        submitted = services.reviews.submit(member("cust-1"), ReviewInput(sku, 4, "T", "B"), sku)
    services.reviews.moderate(ADMIN, submitted.id, Decision.APPROVE, None)
    enroll(services, "cust-voter")  # a vote on it, and the voter's count for the day
    services.reviews.vote(member("cust-voter"), submitted.id, True)
    # Surveys: NPS asked (throttle, invitation) and answered (answer, scores); CSAT of an order.
    nps = AskInput(SurveyKind.NPS, SurveyChannel.APP)
    asked = services.surveys.ask(member("cust-1"), nps, "s")
    assert asked.invitation is not None
    services.surveys.answer(member("cust-1"), asked.invitation.id, 9, "Fine", "s")
    csat = AskInput(SurveyKind.CSAT, SurveyChannel.WEB, CsatSubject.ORDER, "o-1")
    services.surveys.ask(member("cust-1"), csat, "c")
    for n in (1, 2):  # unhappy answers: the stream opens their follow-ups (below)
        unhappy = Answer(f"ans_{n}", M1, SurveyKind.NPS, 3, "Late.", SurveyChannel.APP, START)
        answer_to_item(unhappy).save()
    for i, raw in enumerate(TableItem._get_connection().scan()["Items"]):
        services.reactions.dispatch(Change(f"e-{i}", None, reads.load(raw)))  # counts, markers
    services.redemptions.redeem(member("cust-1"), RedeemInput("gift", "gift"))
    services.follow_ups.add_note(ADMIN, follow_up_id("ans_1"), "Called.", "n")
    services.follow_ups.resolve(ADMIN, follow_up_id("ans_1"), "Done.", 5, "r")
    FollowUpEventItem(*event_key(follow_up_id("ans_1")), claimed_at=START).save()
    services.nudge_config.update(ADMIN, NudgeConfigChange(attribution_days=3), 0)
    # Nudges: a device (its list and owner items, as registering writes them), a suppression.
    device = Device(token_id("tok"), Platform.IOS, "arn:aws:sns:us-east-1:1:endpoint/x", START)
    with_devices(None, M1, [device]).save()
    owner_item(None, device.id, M1, device.endpoint_arn).save()
    services.suppressions.suppress("a@example.com", SuppressionReason.COMPLAINT)
    services.templates.save(
        ADMIN,
        TemplateInput(
            NudgeKind.NPS_SURVEY,
            "nps",
            "en",
            "S",
            "<p>{{ links.unsubscribe }}</p>",
            "T {{ links.unsubscribe }}",
            "M {{ links.unsubscribe }}",
            "P",
            "B",
        ),
    )
    # A nudge record (every kind of value), its listed copy and its day's lift counters.
    nudge = NudgeRecord(
        M1,
        NudgeKind.BIRTHDAY,
        "2026",
        NudgeStatus.QUEUED,
        START,
        START,
        START,
        channel=Channel.EMAIL,
        queued_at=START,
        values={"n": 5, "d": START.date(), "t": START, "x": Decimal("1.5"), "s": "<b>"},
    )
    nudge_store.record_to_item(nudge).save()
    nudge_store.listed_item(nudge).save()
    stats = nudge_store.stats_item(NudgeKind.BIRTHDAY, START.date())
    stats.treated = 1
    stats.save()
    raw_items = TableItem._get_connection().scan()["Items"]
    assert {raw["type"]["S"] for raw in raw_items} == set(item_types())
    for raw in raw_items:
        fast, slow = reads.load(raw), TableItem.from_raw_data(raw)
        assert type(fast) is type(slow)
        assert fast.attribute_values == slow.attribute_values
    assert reads.get_many([SETTINGS_KEY])[SETTINGS_KEY].attribute_values == (
        TableItem.from_raw_data(
            next(r for r in raw_items if r["sk"]["S"] == "SETTINGS")
        ).attribute_values
    )
