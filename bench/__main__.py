"""`make bench`: per-request cost of the Lambda handler, DynamoDB requests, import time.

1. The handler's in-process time per request (API Gateway event in, response out) for the
   member home query, recordOrder and redeemPoints, with DynamoDB answered instantly by
   botocore's Stubber: Mangum + Strawberry + auth + resolvers + PynamoDB, no network.
2. The DynamoDB requests each one makes.
3. The import time of handlers.graphql in a fresh interpreter, beside the import time of the
   third-party modules it loads, imported alone in the same order.

Figures are medians (and p90) of one run; the machine is shared, so compare ratios.
Metrics stay on, as in Lambda (their EMF records are part of a mutation's cost), and go to
/dev/null, not to this report.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

ENV = {
    "STAGE": "prod",  # what runs in production: no test clock, so no settings read
    "TABLE_NAME": "loyalty-bench",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}
os.environ.update(ENV)

from botocore.stub import Stubber  # noqa: E402

from api.feedback import followups_store  # noqa: E402
from api.feedback.reviews_model import Review, ReviewStatus  # noqa: E402
from api.feedback.reviews_store import RatingItem, review_to_item  # noqa: E402
from api.feedback.surveys_model import Answer, Invitation, SurveyChannel, SurveyKind  # noqa: E402
from api.feedback.surveys_store import invitation_to_item  # noqa: E402
from api.ids import member_id_for  # noqa: E402
from api.members.store import MemberItem, member_pk  # noqa: E402
from api.points.lots import Lot, LotStatus  # noqa: E402
from api.points.model import Entry, EntryKind  # noqa: E402
from api.points.store import entry_to_item  # noqa: E402
from api.promotions import admin as promotions_admin  # noqa: E402
from api.promotions.model import (  # noqa: E402
    Activation,
    Conditions,
    Effect,
    EffectKind,
    Limits,
    Promotion,
    Stacking,
    Target,
)
from api.promotions.store import promotion_to_item  # noqa: E402
from api.rewards import admin as rewards_admin  # noqa: E402
from api.rewards.model import MemberLimit, Period, Reward, RewardType  # noqa: E402
from api.rewards.store import reward_to_item  # noqa: E402
from api.store.base import TableItem  # noqa: E402
from api.tiers import service as tiers_service  # noqa: E402
from api.tiers.model import (  # noqa: E402
    Credit,
    DowngradePolicy,
    Metric,
    Tier,
    TierConfig,
    TierState,
    Window,
)
from api.tiers.store import config_to_item  # noqa: E402
from handlers import graphql  # noqa: E402
from tests.support import (  # noqa: E402
    ADMIN,
    FakeLambdaContext,
    count_requests,
    http_api_event,
    import_time,
    third_party_modules,
)

REQUESTS = 2000
WARMUP = 200
IMPORT_RUNS = 9
NOW = datetime.now(UTC)  # noqa: TID251 - fixture data, not program time
CUSTOMER = "bench-customer"
MEMBER_ID = member_id_for(CUSTOMER)
MEMBER_CLAIMS = {"sub": CUSTOMER}
SERVICE_CLAIMS = {"sub": "shop", "client_id": "shop", "scope": "loyalty/service"}

TIERS = TierConfig(
    tiers=(
        Tier("BRONZE", "Bronze", Decimal(0)),
        Tier("SILVER", "Silver", Decimal(1000), Decimal("1.25"), ("Free shipping",), 100),
        Tier("GOLD", "Gold", Decimal(5000), Decimal("1.5"), ("Early access",), 500),
    ),
    metric=Metric.QUALIFYING_POINTS,
    window=Window.ROLLING_12_MONTHS,
    downgrade=DowngradePolicy.ONE_TIER,
    grace_days=30,
    version=3,
)
# A member's home screen: who, how many points (and how many expire soon), recent activity.
HOME = """query Home { me { id name points { balance available pending
  expiring(withinDays: 30) { id remaining expiresAt }
  history(first: 5) { edges { node { id kind points balanceAfter createdAt orderId } }
    pageInfo { hasNextPage } } } } }"""
# The same, with the member's tier and progress.
HOME_TIER = """query Home { me { id name points { balance available pending
  expiring(withinDays: 30) { id remaining expiresAt }
  history(first: 5) { edges { node { id kind points balanceAfter createdAt orderId } }
    pageInfo { hasNextPage } } }
  tier { tier { code name perks } since validUntil multiplier
    progress { value nextTier { name } toNext reviewAt toKeep } } } }"""
# The activity screen: a full page of history with every field.
HISTORY = """query History { me { points { history(first: 20) { edges { cursor node {
  id kind points balanceAfter createdAt orderId refundId reference reason shortfall
  amount { amount currency } lot { id points activatesAt expiresAt } funding { lotId points }
} } pageInfo { hasNextPage endCursor } } } } }"""
RECORD_ORDER = """mutation($input: RecordOrderInput!) { recordOrder(input: $input) {
  __typename ... on OrderRecorded { entry { id points balanceAfter } }
  ... on UserError { code message } } }"""
REDEEM = """mutation($input: RedeemPointsInput!) { redeemPoints(input: $input) {
  __typename ... on PointsRedeemed { entry { id points balanceAfter funding { lotId points } } }
  ... on UserError { code message } } }"""


def promotion_items() -> list[dict[str, Any]]:
    """50 live promotions of every kind, as the catalog Query returns them."""
    kinds = [
        Effect(EffectKind.PERCENT_OFF, target=Target.LINES, percent=Decimal(10)),
        Effect(EffectKind.AMOUNT_OFF, amount=Decimal(2)),
        Effect(EffectKind.BUY_X_GET_Y, target=Target.LINES, buy=2, get=1),
        Effect(EffectKind.POINTS_MULTIPLIER, target=Target.LINES, multiplier=Decimal(2)),
        Effect(EffectKind.FREE_SHIPPING, target=Target.SHIPPING),
    ]
    items = []
    for i in range(50):
        promotion = Promotion(
            id=f"promo-{i:02d}",
            name=f"Promotion {i}",
            effect=kinds[i % len(kinds)],
            conditions=Conditions(
                categories=frozenset({f"cat-{i % 7}"}),
                min_subtotal=Decimal(20) if i % 3 == 0 else None,
            ),
            stacking=(Stacking.STACKABLE, Stacking.EXCLUSIVE, Stacking.UNIVERSAL)[i % 3],
            priority=i % 10,
            currency="EUR",
            limits=Limits(total_uses=1000),
            created_at=NOW,
            updated_at=NOW,
            version=1,
        )
        items.append(promotion_to_item(promotion).serialize())
    return items


PROMOTION_ITEMS = promotion_items()
CART = {
    "currency": "EUR",
    "shipping": "4.90",
    "lines": [
        {
            "sku": f"SKU-{i}",
            "quantity": 1 + i % 3,
            "unitPrice": f"{5 + i}.99",
            "category": f"cat-{i % 7}",
        }
        for i in range(20)
    ],
}
EVALUATE = """query($cart: CartInput!) { evaluateCart(cart: $cart) {
  total { amount } discount { amount }
  applied { promotionId discount { amount } lines { line amount { amount } } }
  notApplied { promotionId reason } points { total } } }"""
RESERVE = """mutation($input: ReserveCartInput!) { reserveCart(input: $input) { __typename
  ... on CartReserved { reservation { id expiresAt evaluation { total { amount } } } }
  ... on UserError { code message } } }"""


VOUCHER = promotion_to_item(
    Promotion(
        id="voucher",
        name="5 EUR voucher",
        effect=Effect(EffectKind.AMOUNT_OFF, amount=Decimal(5)),
        activation=Activation.CODE,
        currency="EUR",
        created_at=NOW,
        updated_at=NOW,
        version=1,
    )
).serialize()


def reward_items() -> list[dict[str, Any]]:
    """20 live rewards: perks and discount codes, 100 to 2000 points, some limited."""
    items = []
    for i in range(20):
        code = i % 2 == 0
        reward = Reward(
            id=f"reward-{i:02d}",
            name=f"Reward {i}",
            points_cost=100 * (i + 1),
            type=RewardType.DISCOUNT_CODE if code else RewardType.PERK,
            description="A reward the app shows with its picture.",
            image_url=f"https://shop.example/rewards/{i}.png",
            stock=1000,
            member_limit=MemberLimit(2, Period.MONTH) if i % 3 == 0 else None,
            promotion_id="voucher" if code else None,
            validity_days=30 if code else None,
            created_at=NOW,
            updated_at=NOW,
            version=1,
        )
        items.append(reward_to_item(reward).serialize())
    return items


REWARD_ITEMS = reward_items()
REWARDS = """query { rewards(first: 20) { edges { cursor node { affordable pointsShort remaining
  unlocked redeemable unavailable reward { id name description imageUrl pointsCost type
  memberLimit { count period } } } } pageInfo { hasNextPage endCursor } } }"""
REDEEM_REWARD = """mutation($input: RedeemRewardInput!) { redeemReward(input: $input) {
  __typename ... on RewardRedeemed { redemption { id status code expiresAt points } }
  ... on UserError { code message } } }"""


RATING_ITEM = RatingItem(
    "PRODUCT#MUG-STONE-01", "RATING", reviews=240, total=1000, r1=10, r2=10, r3=20, r4=70, r5=130
).serialize()
PRODUCT_RATING = """query { productRating(sku: "MUG-STONE-01") { count average histogram } }"""
SUBMIT_REVIEW = """mutation($input: SubmitReviewInput!) { submitReview(input: $input) {
  __typename ... on ReviewSaved { review { id status incentivized createdAt } } } }"""
REVIEW_ITEM = review_to_item(
    Review(
        sku="MUG-STONE-01",
        member_id=member_id_for("bench-reviewer"),
        rating=5,
        title="Keeps coffee hot",
        body="Holds heat for an hour. " * 40,
        photo_urls=("https://cdn.example/mug.jpg",),
        status=ReviewStatus.APPROVED,
        created_at=NOW - timedelta(days=3),
        updated_at=NOW - timedelta(days=2),
        submitted_at=NOW - timedelta(days=3),
        approved_at=NOW - timedelta(days=2),
        helpful_votes=41,
        unhelpful_votes=3,
        incarnation="0123456789abcdef",
        version=45,
    )
).serialize()
REVIEW_ID = f"rev_{member_id_for('bench-reviewer').removeprefix('mbr_')}_MUG-STONE-01"
VOTE_REVIEW = """mutation($id: ID!) { voteReview(reviewId: $id, helpful: true) {
  __typename ... on ReviewVoted { helpful review { id helpfulVotes unhelpfulVotes } } } }"""

ASK_SURVEY = """mutation($input: AskSurveyInput!) { askSurvey(input: $input) {
  __typename ... on SurveyAsked { invitation { id expiresAt } nextAskAt } } }"""
ANSWER_SURVEY = """mutation($input: SubmitSurveyAnswerInput!) { submitSurveyAnswer(input: $input) {
  __typename ... on SurveyAnswered { answer { id score tierId } } } }"""
INVITATION_ID = f"svy_{MEMBER_ID.removeprefix('mbr_')}_{'0' * 15}1"
INVITATION_ITEM = invitation_to_item(
    Invitation(
        id=INVITATION_ID,
        member_id=MEMBER_ID,
        kind=SurveyKind.NPS,
        channel=SurveyChannel.APP,
        asked_at=NOW,
        expires_at=NOW + timedelta(days=30),
        version=1,
    )
).serialize()

ADMIN_CLAIMS = {"sub": "admin-1", "cognito:groups": "[admin]"}
# An open follow-up of the bench member's detractor answer, with two notes so far.
FOLLOW_UP_ITEM = followups_store.to_item(
    replace(
        followups_store.opened(
            Answer("ans_bench", MEMBER_ID, SurveyKind.NPS, 4, "Late.", SurveyChannel.APP, NOW),
            NOW,
            NOW + timedelta(hours=48),
        ),
        notes=2,
        version=3,
    )
).serialize()
RESOLVE_FOLLOW_UP = """mutation($input: ResolveFollowUpInput!) { resolveFollowUp(input: $input) {
  __typename ... on FollowUpResolved { followUp { id status resolvedAt }
  entry { id kind points balanceAfter } } } }"""


def batch_reply(*items: dict[str, Any]) -> dict[str, Any]:
    return {"Responses": {"loyalty-bench": list(items)}, "UnprocessedKeys": {}}


def member_item() -> dict[str, Any]:
    """A member with 12 open lots, as DynamoDB returns it."""
    lots = [
        Lot(
            id=f"{MEMBER_ID}-{i}",
            points=100,
            remaining=100,
            activates_at=NOW - timedelta(days=300 - i * 20),
            expires_at=NOW + timedelta(days=65 + i * 20),
            status=LotStatus.ACTIVE,
            order_id=f"order-{i}",
        )
        for i in range(12)
    ]
    item = MemberItem(
        member_pk(MEMBER_ID),
        "PROFILE",
        member_id=MEMBER_ID,
        customer_id=CUSTOMER,
        name="Bench Member",
        email="bench@example.com",
        time_zone="Europe/Paris",
        locale="fr-FR",
        balance=1200,
        debt=0,
        lots=tuple(lots),
        request_hash="x",
        tier=TierState(
            code="SILVER",
            since=NOW - timedelta(days=100),
            valid_until=NOW + timedelta(days=265),
            review_at=NOW + timedelta(days=295),
            # A year of weekly orders: 52 days of credit.
            credits={
                (NOW - timedelta(days=7 * i)).date(): Credit(40, 1, {"EUR": 4000})
                for i in range(52)
            },
            lifetime=Credit(2080, 52, {"EUR": 208000}),
            bonuses=frozenset({"SILVER"}),
        ),
        last_seq=40,
        created_at=NOW,
        updated_at=NOW,
        version=40,
    )
    return item.serialize()


def entry_items(count: int) -> list[dict[str, Any]]:
    return [
        entry_to_item(
            Entry(
                member_id=MEMBER_ID,
                seq=40 - i,
                kind=EntryKind.EARN,
                points=100,
                balance_after=1200 - 100 * i,
                created_at=NOW - timedelta(days=i),
                actor="service:x",
                order_id=f"order-{i}",
            )
        ).serialize()
        for i in range(count)
    ]


def run_requests(
    handler: Callable[..., Any],
    stubber: Stubber,
    event: dict[str, Any],
    responses: list[tuple[str, dict[str, Any]]],
    check: Callable[[Any], bool],
) -> tuple[list[float], dict[str, int]]:
    timings = []
    calls: dict[str, int] = {}
    context = FakeLambdaContext()
    # The handler prints its EMF metrics, as in Lambda: measured, but not in this report.
    with open(os.devnull, "w") as sink, redirect_stdout(sink):
        for n in range(WARMUP + REQUESTS):
            for method, response in responses:
                stubber.add_response(method, response)
            with count_requests() as counted:
                start = time.perf_counter_ns()
                result = handler(event, context)
                elapsed = time.perf_counter_ns() - start
            if n == 0:
                body = json.loads(result["body"])
                if not check(body):
                    raise SystemExit(f"unexpected response: {body}")
                calls = dict(counted)
            if n >= WARMUP:
                timings.append(elapsed / 1e6)
    stubber.assert_no_pending_responses()
    return timings, calls


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


def main() -> None:
    handler = graphql.handler
    client = TableItem._get_connection().connection.client
    stubber = Stubber(client)
    stubber.activate()

    member = member_item()
    tiers = config_to_item(TIERS, NOW).serialize()
    graphql.services.tiers.seen(TIERS)  # the container's cache, warm as after any order
    cases: dict[
        str, tuple[dict[str, Any], list[tuple[str, dict[str, Any]]], Callable[[Any], bool]]
    ] = {
        "floor: { __typename }": (
            http_api_event("{ __typename }", None, MEMBER_CLAIMS),
            [],
            lambda body: body == {"data": {"__typename": "Query"}},
        ),
        "home query (5 recent entries)": (
            http_api_event(HOME, None, MEMBER_CLAIMS),
            [("query", {"Items": [member, *entry_items(6)], "Count": 7, "ScannedCount": 7})],
            lambda body: len(body["data"]["me"]["points"]["history"]["edges"]) == 5,
        ),
        "home query + tier and progress": (
            http_api_event(HOME_TIER, None, MEMBER_CLAIMS),
            [("query", {"Items": [member, *entry_items(6)], "Count": 7, "ScannedCount": 7})],
            lambda body: body["data"]["me"]["tier"]["tier"]["code"] == "SILVER",
        ),
        "history page (20 entries)": (
            http_api_event(HISTORY, None, MEMBER_CLAIMS),
            [("query", {"Items": [member, *entry_items(21)], "Count": 22, "ScannedCount": 22})],
            lambda body: len(body["data"]["me"]["points"]["history"]["edges"]) == 20,
        ),
        "recordOrder": (
            http_api_event(
                RECORD_ORDER,
                {
                    "input": {
                        "orderId": "bench-order",
                        "customerId": CUSTOMER,
                        "placedAt": NOW.isoformat(),
                        "total": {"amount": "59.90", "currency": "EUR"},
                    }
                },
                SERVICE_CLAIMS,
            ),
            [
                (
                    "batch_get_item",
                    {"Responses": {"loyalty-bench": [member, tiers]}, "UnprocessedKeys": {}},
                ),
                ("transact_write_items", {}),
            ],
            lambda body: body["data"]["recordOrder"]["entry"]["points"] == 73,  # 59 x 1.25
        ),
        "redeemPoints": (
            http_api_event(
                REDEEM,
                {"input": {"points": 150, "reference": "cart-1", "idempotencyKey": "bench-key"}},
                MEMBER_CLAIMS,
            ),
            [
                (
                    "batch_get_item",
                    {"Responses": {"loyalty-bench": [member, tiers]}, "UnprocessedKeys": {}},
                ),
                ("transact_write_items", {}),
            ],
            lambda body: body["data"]["redeemPoints"]["entry"]["balanceAfter"] == 1050,
        ),
        "evaluateCart (20 lines, 50 promotions)": (
            http_api_event(EVALUATE, {"cart": CART}, MEMBER_CLAIMS),
            [("batch_get_item", batch_reply(member, tiers))],
            lambda body: len(body["data"]["evaluateCart"]["applied"]) >= 3,
        ),
        "evaluateCart, the same with 2 codes": (
            http_api_event(
                EVALUATE, {"cart": {**CART, "codes": ["SPRING-1", "VIP-2"]}}, MEMBER_CLAIMS
            ),
            [("batch_get_item", batch_reply(member, tiers))],
            lambda body: len(body["data"]["evaluateCart"]["applied"]) >= 3,
        ),
        "reserveCart (20 lines, 50 promotions)": (
            http_api_event(
                RESERVE, {"input": {"cart": CART, "idempotencyKey": "b-1"}}, MEMBER_CLAIMS
            ),
            [("batch_get_item", batch_reply(member, tiers)), ("transact_write_items", {})],
            lambda body: body["data"]["reserveCart"]["__typename"] == "CartReserved",
        ),
        "rewards (a page of 20 for the member)": (
            http_api_event(REWARDS, None, MEMBER_CLAIMS),
            [("batch_get_item", batch_reply(member, tiers))],
            lambda body: len(body["data"]["rewards"]["edges"]) == 20,
        ),
        "redeemReward (a discount code)": (
            http_api_event(
                REDEEM_REWARD,
                {"input": {"rewardId": "reward-00", "idempotencyKey": "r-1"}},
                MEMBER_CLAIMS,
            ),
            [
                ("batch_get_item", batch_reply(member, tiers, REWARD_ITEMS[0])),
                ("transact_write_items", {}),
            ],
            lambda body: body["data"]["redeemReward"]["redemption"]["status"] == "ISSUED",
        ),
        "redeemReward (a perk)": (
            http_api_event(
                REDEEM_REWARD,
                {"input": {"rewardId": "reward-01", "idempotencyKey": "r-2"}},
                MEMBER_CLAIMS,
            ),
            [
                ("batch_get_item", batch_reply(member, tiers, REWARD_ITEMS[1])),
                ("transact_write_items", {}),
            ],
            lambda body: body["data"]["redeemReward"]["redemption"]["status"] == "REQUESTED",
        ),
        "productRating": (
            http_api_event(PRODUCT_RATING, None, MEMBER_CLAIMS),
            [("get_item", {"Item": RATING_ITEM})],
            lambda body: body["data"]["productRating"]["average"] == 4.17,
        ),
        "submitReview (a photo, 1000 characters)": (
            http_api_event(
                SUBMIT_REVIEW,
                {
                    "input": {
                        "idempotencyKey": "rv-1",
                        "review": {
                            "sku": "MUG-STONE-01",
                            "rating": 4,
                            "title": "Keeps coffee hot",
                            "body": "Holds heat for an hour. " * 40,
                            "photoUrls": ["https://cdn.example/mug.jpg"],
                        },
                    }
                },
                MEMBER_CLAIMS,
            ),
            [
                ("query", {"Items": [], "Count": 0, "ScannedCount": 0}),  # no purchases
                ("get_item", {}),  # the program settings: the program's day
                ("batch_get_item", batch_reply(member)),
                ("transact_write_items", {}),
            ],
            lambda body: body["data"]["submitReview"]["review"]["status"] == "PENDING",
        ),
        "voteReview (a review of 1000 characters)": (
            http_api_event(
                VOTE_REVIEW,
                {"id": f"rev_{member_id_for('bench-reviewer')[4:]}_MUG-STONE-01"},
                MEMBER_CLAIMS,
            ),
            [
                ("batch_get_item", batch_reply(member, REVIEW_ITEM)),  # no vote yet
                ("transact_write_items", {}),
            ],
            lambda body: body["data"]["voteReview"]["review"]["helpfulVotes"] == 42,
        ),
        "askSurvey (NPS, due)": (
            http_api_event(
                ASK_SURVEY,
                {"input": {"kind": "NPS", "channel": "APP", "idempotencyKey": "s-1"}},
                MEMBER_CLAIMS,
            ),
            [("batch_get_item", batch_reply(member)), ("transact_write_items", {})],
            lambda body: body["data"]["askSurvey"]["__typename"] == "SurveyAsked",
        ),
        "submitSurveyAnswer (NPS, a comment)": (
            http_api_event(
                ANSWER_SURVEY,
                {
                    "input": {
                        "invitationId": INVITATION_ID,
                        "score": 6,
                        "comment": "Delivery was late twice. " * 8,
                        "idempotencyKey": "a-1",
                    }
                },
                MEMBER_CLAIMS,
            ),
            [
                ("batch_get_item", batch_reply(member, INVITATION_ITEM)),
                ("transact_write_items", {}),
            ],
            lambda body: body["data"]["submitSurveyAnswer"]["answer"]["tierId"] == "SILVER",
        ),
        "resolveFollowUp (with goodwill points)": (
            http_api_event(
                RESOLVE_FOLLOW_UP,
                {
                    "input": {
                        "id": "fu_ans_bench",
                        "note": "Called the member, apologised, sent a voucher.",
                        "goodwillPoints": 200,
                        "idempotencyKey": "fu-1",
                    }
                },
                ADMIN_CLAIMS,
            ),
            [
                ("get_item", {"Item": FOLLOW_UP_ITEM}),  # whose member it is
                ("batch_get_item", batch_reply(FOLLOW_UP_ITEM, member, tiers)),
                ("transact_write_items", {}),
            ],
            lambda body: body["data"]["resolveFollowUp"]["entry"]["kind"] == "GOODWILL",
        ),
    }

    # A container refreshes its catalogs every 30 s (one Query) and its tier ladder every 60 s
    # (one GetItem, which survey answers read); a run here is longer than that.
    promotions_admin.CACHE_SECONDS = 3600
    rewards_admin.CACHE_SECONDS = 3600
    tiers_service.CACHE_SECONDS = 3600

    def warm_catalog(promotions: list[dict[str, Any]]) -> None:
        """The live promotions, read once and cached by the container."""
        graphql.services.promotions._catalog.forget()
        stubber.add_response("query", {"Items": promotions, "Count": len(promotions)})
        graphql.services.promotions.live(ADMIN)

    def warm_rewards() -> None:
        """The live rewards (and the promotion their codes are of), cached likewise."""
        warm_catalog([VOUCHER])
        graphql.services.rewards._catalog.forget()
        stubber.add_response("query", {"Items": REWARD_ITEMS, "Count": len(REWARD_ITEMS)})
        stubber.add_response("batch_get_item", batch_reply())  # the admin view's stock
        graphql.services.rewards.catalog(ADMIN)

    print(
        f"Lambda handler, in process, DynamoDB answered instantly "
        f"({REQUESTS} requests each after {WARMUP} warm-up):\n"
    )
    print(f"  {'request':40} {'p50 ms':>8} {'p90 ms':>8}   DynamoDB requests")
    for name, (event, responses, check) in cases.items():
        if "50 promotions" in name or "codes" in name:
            warm_catalog(PROMOTION_ITEMS)
        if name.startswith(("rewards", "redeemReward")):
            warm_rewards()
        timings, calls = run_requests(handler, stubber, event, responses, check)
        requests = ", ".join(f"{op} x{n}" for op, n in sorted(calls.items())) or "none"
        print(
            f"  {name:40} {statistics.median(timings):8.3f} {percentile(timings, 90):8.3f}"
            f"   {requests}"
        )

    modules = third_party_modules("handlers.graphql", ENV)
    ours = [import_time("import handlers.graphql", ENV) for _ in range(IMPORT_RUNS)]
    libraries = [
        import_time("; ".join(f"import {m}" for m in modules), ENV) for _ in range(IMPORT_RUNS)
    ]
    ours_ms, libs_ms = statistics.median(ours), statistics.median(libraries)
    print(f"\nImport in a fresh interpreter (median of {IMPORT_RUNS}):\n")
    print(f"  handlers.graphql                 {ours_ms:8.1f} ms")
    print(f"  its {len(modules)} library modules alone    {libs_ms:8.1f} ms")
    print(f"  ratio                            {ours_ms / libs_ms:8.2f}")


if __name__ == "__main__":
    main()
