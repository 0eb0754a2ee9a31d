"""What `osls package` would deploy, checked offline: valid, minimal, safe."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import zipfile
from datetime import timedelta
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from api.clock import ManualClock
from api.config import Config, Stage
from api.ids import member_id_for
from api.members.model import EnrollInput
from api.points.model import AdjustInput
from api.points.store import order_key
from api.program.model import ReferralChange, SettingsChange
from api.promotions.model import CartInput
from api.services import build_services
from api.store import reads
from api.store.base import DUE_INDEX, TableItem
from api.stream import Change, SeenItem
from api.tiers.store import TierCountItem
from infra.build import runtime_python
from local.stream import TableStream, stream_event
from local.table import table_properties
from schema.app import create_app, gateway_authenticator, lambda_adapter
from tests.graphql.conftest import (
    ADJUST,
    ADMIN,
    ENROLL,
    HOME,
    MEMBER,
    RECORD_ORDER,
    REDEEM,
    REFUND,
    SERVICE,
    enroll_input,
    invoker,
    order_input,
)
from tests.infra.conftest import ROOT, TEMPLATES
from tests.support import ADMIN as ADMIN_PRINCIPAL
from tests.support import SERVICE as SERVICE_PRINCIPAL
from tests.support import (
    START,
    client_actions,
    count_requests,
    enroll,
    http_api_event,
    iam_actions,
    order,
    unhappy_answer,
)
from tests.test_stream import CONTEXT as STREAM_CONTEXT
from tests.test_stream import configure_tiers, item_type, load_stream_handler

Template = dict[str, Any]
YEAR = timedelta(days=365)


def test_cfn_lint_passes(templates: dict[str, Template]) -> None:
    """cfn-lint with .cfnlintrc.yaml: only W3005 is ignored, which the framework causes."""
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run(
        [str(cfn_lint), *sorted(str(p) for p in TEMPLATES.glob("*.json"))],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# ---- the table --------------------------------------------------------------------------


def test_the_table_matches_the_models(templates: dict[str, Template]) -> None:
    schema = TableItem._get_schema()
    [model_index] = schema["global_secondary_indexes"]
    for template in templates.values():
        table = template["Resources"]["LoyaltyTable"]["Properties"]
        assert _sorted(table["AttributeDefinitions"]) == _sorted(schema["attribute_definitions"])
        assert _keys(table["KeySchema"]) == _keys(schema["key_schema"])
        [index] = table["GlobalSecondaryIndexes"]
        assert index["IndexName"] == model_index["index_name"] == DUE_INDEX
        assert _keys(index["KeySchema"]) == _keys(model_index["key_schema"])
        assert index["Projection"] == model_index["projection"]
        assert table["TimeToLiveSpecification"] == {
            "AttributeName": TableItem.expires.attr_name,
            "Enabled": True,
        }
        assert table["BillingMode"] == "PAY_PER_REQUEST"
        assert table["SSESpecification"] == {"SSEEnabled": True}
        assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
        # The tests' and the local server's tables come from the same file.
        assert _keys(table_properties()["KeySchema"]) == _keys(table["KeySchema"])


def _sorted(definitions: Any) -> list[tuple[str, str]]:
    return sorted((d["AttributeName"], d["AttributeType"]) for d in definitions)


def _keys(key_schema: Any) -> list[tuple[str, str]]:
    return sorted((k["KeyType"], k["AttributeName"]) for k in key_schema)


def test_prod_keeps_its_data_and_dev_can_be_removed(templates: dict[str, Template]) -> None:
    prod = templates["prod"]["Resources"]
    table = prod["LoyaltyTable"]
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    assert table["Properties"]["DeletionProtectionEnabled"] is True
    assert table["Properties"]["PointInTimeRecoverySpecification"] == {
        "PointInTimeRecoveryEnabled": True
    }
    assert prod["UserPool"]["Properties"]["DeletionProtection"] == "ACTIVE"
    dev = templates["dev"]["Resources"]
    assert dev["LoyaltyTable"]["DeletionPolicy"] == "Delete"
    assert dev["LoyaltyTable"]["Properties"]["DeletionProtectionEnabled"] is False


# ---- functions, API, schedule -----------------------------------------------------------


def test_functions_and_stages(templates: dict[str, Template]) -> None:
    for stage, template in templates.items():
        resources = template["Resources"]
        graphql = resources["GraphqlLambdaFunction"]["Properties"]
        job = resources["PointsMaintenanceLambdaFunction"]["Properties"]
        stream = resources["StreamLambdaFunction"]["Properties"]
        expiry = resources["ReservationExpiryLambdaFunction"]["Properties"]
        referrals = resources["ReferralRewardsLambdaFunction"]["Properties"]
        for function in (graphql, job, stream, expiry, referrals):
            assert function["Runtime"] == "python3.13"
            assert function["Architectures"] == ["arm64"]
            assert function["Environment"]["Variables"]["STAGE"] == stage
            assert function["Environment"]["Variables"]["TABLE_NAME"] == f"loyalty-api-{stage}"
        assert (graphql["MemorySize"], graphql["Timeout"]) == (1024, 10)
        assert (job["MemorySize"], job["Timeout"]) == (512, 900)
        assert (stream["MemorySize"], stream["Timeout"]) == (512, 30)
        assert stream["Handler"] == "handlers/stream.handler"
        # The bus's name for the stream consumer alone, which announces new follow-ups.
        assert stream["Environment"]["Variables"]["EVENT_BUS_NAME"] == {"Ref": "LoyaltyEventBus"}
        others = (graphql, job, expiry, referrals)
        assert not any("EVENT_BUS_NAME" in f["Environment"]["Variables"] for f in others)
        bus = resources["LoyaltyEventBus"]
        assert bus == {
            "Type": "AWS::Events::EventBus",
            "Properties": {"Name": f"loyalty-api-{stage}"},
        }
        assert (expiry["MemorySize"], expiry["Timeout"]) == (512, 120)
        assert expiry["Handler"] == "handlers/reservations.handler"
        assert (referrals["MemorySize"], referrals["Timeout"]) == (512, 300)
        assert referrals["Handler"] == "handlers/referrals.handler"
        assert ("SnapStart" in graphql) is (stage == "prod")
        retention = {"dev": 30, "prod": 90}[stage]
        groups = ("GraphqlLogGroup", "PointsMaintenanceLogGroup", "StreamLogGroup")
        for group in (*groups, "ReservationExpiryLogGroup", "ReferralRewardsLogGroup"):
            assert resources[group]["Properties"]["RetentionInDays"] == retention
        rules = [r for r in resources.values() if r["Type"] == "AWS::Events::Rule"]
        assert {r["Properties"]["ScheduleExpression"] for r in rules} == {
            "cron(15 3 * * ? *)",
            "rate(5 minutes)",
            "rate(1 hour)",
        }
        routes = {
            r["Properties"]["RouteKey"]: r["Properties"]
            for r in resources.values()
            if r["Type"] == "AWS::ApiGatewayV2::Route"
        }
        graphql_routes = {"GET /graphql", "POST /graphql"}
        unsubscribe_routes = {"GET /unsubscribe", "POST /unsubscribe"}
        assert set(routes) == graphql_routes | unsubscribe_routes
        assert all(routes[r]["AuthorizationType"] == "JWT" for r in graphql_routes)
        # One-click unsubscribe is public (the link's token is the proof), on the same
        # function, whose app answers nothing else there.
        for route in unsubscribe_routes:
            assert routes[route].get("AuthorizationType", "NONE") == "NONE"
            assert "AuthorizerId" not in routes[route]
            assert routes[route]["Target"] == routes["POST /graphql"]["Target"]
        env = graphql["Environment"]["Variables"]
        assert env["PUBLIC_BASE_URL"] == {"Fn::GetAtt": ["HttpApi", "ApiEndpoint"]}
        assert env["UNSUBSCRIBE_KEYS"] == ""  # given at deploy: --param "unsubscribeKeys=..."
        jobs = (job, expiry, referrals, stream)
        assert not any("UNSUBSCRIBE_KEYS" in f["Environment"]["Variables"] for f in jobs)
        authorizer = resources["HttpApiAuthorizerJwt"]["Properties"]["JwtConfiguration"]
        assert authorizer["Audience"] == [{"Ref": "MemberClient"}, {"Ref": "ServiceClient"}]
        assert {"Ref": "UserPool"} in authorizer["Issuer"]["Fn::Join"][1]
    prod_env = templates["prod"]["Resources"]["GraphqlLambdaFunction"]["Properties"]
    assert Config.from_env(prod_env["Environment"]["Variables"]).introspection is False


# ---- the table's stream ------------------------------------------------------------------

STREAM_ARN = {"Fn::GetAtt": ["LoyaltyTable", "StreamArn"]}
FAILURES_ARN = {"Fn::GetAtt": ["StreamFailures", "Arn"]}
BUS_ARN = {"Fn::GetAtt": ["LoyaltyEventBus", "Arn"]}
BUS = "loyalty-api-test"


def _mapping(template: Template) -> dict[str, Any]:
    mapping: dict[str, Any]
    [mapping] = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::EventSourceMapping"
    ]
    return mapping


def test_the_stream_feeds_its_function_with_partial_failures_and_a_dead_letter_queue(
    templates: dict[str, Template],
) -> None:
    for template in templates.values():
        mapping = _mapping(template)
        assert mapping["EventSourceArn"] == STREAM_ARN
        assert mapping["FunctionName"] == {"Fn::GetAtt": ["StreamLambdaFunction", "Arn"]}
        assert mapping["StartingPosition"] == "LATEST"
        assert (mapping["BatchSize"], mapping["MaximumBatchingWindowInSeconds"]) == (100, 5)
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["BisectBatchOnFunctionError"] is True
        # Bounded: a record that keeps failing ends in the queue, not in a blocked shard, and
        # before the stream's 24 hours are up (it can still be read again from there).
        assert 0 <= mapping["MaximumRetryAttempts"] <= 10
        assert 60 <= mapping["MaximumRecordAgeInSeconds"] < 24 * 3600
        assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": FAILURES_ARN}}
        queue = template["Resources"]["StreamFailures"]
        assert queue["Type"] == "AWS::SQS::Queue"
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
        assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


def _admitted(template: Template, record: dict[str, Any]) -> bool:
    """Whether Lambda's event filtering passes a record to the function (the subset of the
    pattern syntax the filter uses: exact values, anything-but, prefix, exists)."""
    filters = _mapping(template).get("FilterCriteria", {}).get("Filters")
    if not filters:
        return True
    return any(_matches(json.loads(f["Pattern"]), record) for f in filters)


def _matches(pattern: dict[str, Any], data: Any) -> bool:
    for key, rule in pattern.items():
        present = isinstance(data, dict) and key in data
        value = data[key] if present else None
        if isinstance(rule, dict):
            if not (present and _matches(rule, value)):
                return False
        elif not any(_value_matches(r, present, value) for r in rule):
            return False
    return True


def _value_matches(rule: Any, present: bool, value: Any) -> bool:
    if not isinstance(rule, dict):
        return present and value == rule
    [(kind, arg)] = rule.items()
    if kind == "exists":
        return present is arg
    if kind == "anything-but":
        return present and value not in (arg if isinstance(arg, list) else [arg])
    if kind == "prefix":
        return present and isinstance(value, str) and value.startswith(arg)
    raise AssertionError(f"filter rule {rule} not understood by this test")


def test_the_stream_filter_admits_every_record_a_reaction_acts_on(
    templates: dict[str, Template],
    aws: None,
    dynamodb_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every kind of change the API and the job make, and the reactions' own writes: each
    record a reaction acts on passes the filter, and the reactions' writes never do."""
    stream = TableStream(dynamodb_client, "loyalty-test")
    _exercise_api(Stage.DEV)
    TableItem._get_connection().delete_item(f"MEMBER#{member_id_for('cust-1')}", "PROFILE")
    records = stream.read()
    handler = _stream_handler(monkeypatch, "dev")
    acted_on = []
    for record in records:
        with count_requests() as calls:
            assert handler.handler(stream_event([record]), STREAM_CONTEXT) == {
                "batchItemFailures": []
            }
        if calls:
            acted_on.append(record)
    own = stream.read()
    assert {item_type(r) for r in own} == {
        SeenItem.type.get_discriminator(SeenItem),
        TierCountItem.type.get_discriminator(TierCountItem),
        "promotion_code",
        "promotion_code_page",
        "promotion_code_batch",  # DONE: the five codes fit in one chunk
        "referral",  # a referee's first order: due for the job
        "referral_listing",
        "reward_pool_code",
        "reward_pool_marker",
        "reward_stock",
        "reward_upload",  # DONE: the two codes fit in one step
        "followup_event",  # the follow-up announced
        "followup",  # opened from the surveys exercise's unhappy answer
        "followup_listed",
    }
    assert {(r["eventName"], item_type(r)) for r in acted_on} == {
        ("INSERT", "survey_answer"),  # an unhappy answer: is its follow-up open?
        ("INSERT", "followup"),  # announced on the bus
        ("INSERT", "member"),
        ("INSERT", "tier_change"),
        ("INSERT", "order"),  # whether its member was referred: their first order?
        ("INSERT", "promotion_code_batch"),
        ("INSERT", "reward_upload"),
    }
    # A batch larger than a chunk records its progress (RUNNING): that record asks for the
    # next chunk, so it passes too.
    running = [
        json.loads(json.dumps(done).replace('"DONE"', '"RUNNING"'))
        for done in own
        if item_type(done) in ("promotion_code_batch", "reward_upload")
    ]
    assert len(running) == 2
    for template in templates.values():
        assert all(_admitted(template, r) for r in [*acted_on, *running])
        # Reactions' writes never invoke it again, but for a follow-up the closed loop's
        # first reaction opens: the second announces it (a chain of two, by design).
        chained = [r for r in own if item_type(r) == "followup"]
        assert chained
        assert all(_admitted(template, r) for r in chained)
        assert not any(_admitted(template, r) for r in own if r not in chained)
        # Most changes (orders, entries, profile updates, removals) never invoke it.
        ignored = [r for r in records if not _admitted(template, r)]
        assert len(ignored) > len(records) / 2
        assert {r["eventName"] for r in ignored} == {"INSERT", "MODIFY", "REMOVE"}


# ---- least privilege --------------------------------------------------------------------


def _statements(template: Template, role: str) -> list[dict[str, Any]]:
    [policy] = template["Resources"][role]["Properties"]["Policies"]
    return list(policy["PolicyDocument"]["Statement"])


def _resource_kind(resource: Any) -> str:
    text = json.dumps(resource)
    if resource == STREAM_ARN:
        return "stream"
    if resource == FAILURES_ARN:
        return "queue"
    if resource == BUS_ARN:
        return "bus"
    if resource == {"Fn::GetAtt": ["LoyaltyTable", "Arn"]}:
        return "table"
    if "/index/due-index" in text and "LoyaltyTable" in text:
        return "index"
    raise AssertionError(f"a resource this test does not know: {text}")


def _granted(template: Template, role: str) -> set[tuple[str, str]]:
    """(action, resource kind) for every statement but the logs': DynamoDB's actions without
    their prefix, as iam_actions() records them; other services' with theirs."""
    granted: set[tuple[str, str]] = set()
    for statement in _statements(template, role):
        actions = statement["Action"]
        assert statement["Effect"] == "Allow"
        assert "*" not in json.dumps(actions), statement
        assert json.dumps(statement["Resource"]).count("*") <= int(statement["Sid"] == "Logs")
        if statement["Sid"] == "Logs":
            continue
        resources = statement["Resource"]
        for resource in resources if isinstance(resources, list) else [resources]:
            kind = _resource_kind(resource)
            granted.update((a.removeprefix("dynamodb:"), kind) for a in actions)
    return granted


UPDATE_TIERS = """mutation($input: UpdateTiersInput!) {
  updateTiers(input: $input) { __typename ... on TiersUpdated { tiers { tiers { code } } } }
}"""
SET_MEMBER_TIER = """mutation($input: SetMemberTierInput!) {
  setMemberTier(input: $input) { __typename ... on MemberTierSet { change { toCode } } }
}"""
MEMBER_TIER = """{ member(customerId: "cust-1") { tier {
  tier { code } progress { value toNext } history { edges { node { toCode } } }
} } }"""
LADDER = {
    "input": {
        "tiers": [
            {"code": "BRONZE", "name": "Bronze", "threshold": "0"},
            {"code": "SILVER", "name": "Silver", "threshold": "50", "entryBonus": 5},
            {"code": "GOLD", "name": "Gold", "threshold": "1000", "multiplier": "1.5"},
        ],
        "graceDays": 0,
    }
}


PROMOTION = """mutation($input: PromotionInput!) {
  createPromotion(input: $input) { __typename ... on UserError { code message } } }"""
UPDATE_PROMOTION = """mutation($input: PromotionInput!) {
  updatePromotion(input: $input) { __typename ... on UserError { code message } } }"""
CART = {
    "customerId": "cust-1",
    "currency": "EUR",
    "shipping": "4.90",
    "codes": ["WELCOME"],
    "lines": [{"sku": "SHOE", "quantity": 1, "unitPrice": "60.00", "category": "shoes"}],
}
RESERVE = """mutation($input: ReserveCartInput!) { reserveCart(input: $input) {
  __typename ... on CartReserved { reservation { id } } ... on UserError { code message } } }"""
COMMIT = """mutation($id: ID!, $order: RecordOrderInput!) {
  commitReservation(reservationId: $id, order: $order) { __typename } }"""


def _exercise_promotions(invoke: Any) -> None:
    """Every promotion and checkout operation: set-up, checkout, commit, refund, release,
    and a reservation left to expire (by the test clock, outside prod)."""
    sale = {"id": "sale", "name": "10%", "effect": {"kind": "PERCENT_OFF", "percent": "10"}}
    welcome = {
        "id": "welcome",
        "name": "5 EUR",
        "currency": "EUR",
        "activation": "CODE",
        "code": "WELCOME",
        "effect": {"kind": "AMOUNT_OFF", "amount": "5"},
        "limits": {"totalUses": 10, "budget": "100", "perMember": 2},
    }
    for promotion in (sale, welcome, {**sale, "id": "old"}):
        created = invoke(PROMOTION, {"input": promotion}, ADMIN).data["createPromotion"]
        assert created == {"__typename": "PromotionSaved"}, created
    updated = invoke(UPDATE_PROMOTION, {"input": {**sale, "name": "Sale"}}, ADMIN)
    assert updated.data["updatePromotion"] == {"__typename": "PromotionSaved"}
    for operation in ("pausePromotion", "resumePromotion", "archivePromotion"):
        changed = invoke(f'mutation {{ {operation}(id: "old") {{ __typename }} }}', None, ADMIN)
        assert changed.data[operation] == {"__typename": "PromotionSaved"}, changed.raw
    batch = invoke(
        'mutation { createCodeBatch(input: {promotionId: "welcome", idempotencyKey: "b", '
        "count: 5}) { __typename } }",
        None,
        ADMIN,
    )
    assert batch.data["createCodeBatch"] == {"__typename": "CodeBatchCreated"}, batch.raw
    assert invoke('{ promotion(id: "sale") { usage { uses } } }', None, ADMIN).data["promotion"]
    assert invoke("{ promotions { id } }", None, ADMIN).data["promotions"]
    batches = invoke(
        '{ codeBatches(promotionId: "welcome") { id codes(first: 5) { codes } } }', None, ADMIN
    )
    assert batches.data["codeBatches"], batches.raw
    evaluated = invoke(
        "query($cart: CartInput!) { evaluateCart(cart: $cart) { total { amount } } }",
        {"cart": CART},
        SERVICE,
    )
    assert evaluated.data["evaluateCart"]["total"]["amount"] == "53.90", evaluated.raw
    assert invoke("{ me { promotions { promotion { id } } } }").data["me"]["promotions"]
    ids = []
    for key in ("r-1", "r-2", "r-3"):
        # Each reserve happens twice: the second is a replay.
        for _ in range(2):
            reserve = {"input": {"idempotencyKey": key, "cart": CART, "points": 1}}
            reserved = invoke(RESERVE, reserve, SERVICE).data["reserveCart"]
        assert reserved["__typename"] == "CartReserved", reserved
        ids.append(reserved["reservation"]["id"])
    released = invoke(f'mutation {{ releaseReservation(id: "{ids[0]}") {{ __typename }} }}')
    assert released.data["releaseReservation"] == {"__typename": "ReservationReleased"}
    order = order_input("o-promo", "53.90")["input"]
    committed = invoke(COMMIT, {"id": ids[1], "order": order}, SERVICE)
    assert committed.data["commitReservation"] == {"__typename": "OrderRecorded"}, committed.raw
    refund = {"input": {"refundId": "r-promo", "orderId": "o-promo", "amount": order["total"]}}
    assert invoke(REFUND, refund, SERVICE).data["refundOrder"]["__typename"] == "OrderRefunded"
    # ids[2] stays held: advanceTestClock releases it outside prod.
    guest = {"idempotencyKey": "g-1", "cart": {**CART, "customerId": None, "codes": []}}
    reserved = invoke(RESERVE, {"input": guest}, SERVICE).data["reserveCart"]
    assert reserved["__typename"] == "CartReserved", reserved
    guest_id = reserved["reservation"]["id"]
    for _ in range(2):
        committed = invoke(
            f'mutation {{ commitGuestReservation(id: "{guest_id}", orderId: "g-1") '
            "{ __typename } }",
            None,
            SERVICE,
        )
        assert committed.data["commitGuestReservation"] == {"__typename": "ReservationCommitted"}, (
            committed.raw
        )
        returned = invoke(
            f'mutation {{ returnGuestReservation(id: "{guest_id}") {{ __typename }} }}',
            None,
            SERVICE,
        )
        assert returned.data["returnGuestReservation"] == {"__typename": "ReservationReturned"}, (
            returned.raw
        )


REWARD = """mutation($input: RewardInput!) { createReward(input: $input) { __typename } }"""
REDEEM_REWARD = """mutation($input: RedeemRewardInput!) { redeemReward(input: $input) {
  __typename ... on RewardRedeemed { redemption { id code } }
  ... on UserError { code message } } }"""


def _exercise_rewards(invoke: Any) -> None:
    """Every reward operation: the catalog, an upload, redemptions of each kind, the
    member's views, a cancellation and a fulfilment."""
    rewards = [
        {
            "id": "voucher",
            "name": "5 EUR",
            "pointsCost": 1,
            "type": "DISCOUNT_CODE",
            "promotionId": "welcome",
            "validityDays": 30,
            "stock": 10,
            "memberLimit": {"count": 5, "period": "MONTH"},
        },
        {
            "id": "gift",
            "name": "Gift card",
            "pointsCost": 1,
            "type": "IMPORTED_CODE",
            "lowStock": 1,
        },
        {"id": "tote", "name": "Tote", "pointsCost": 1, "type": "PERK", "stock": 5},
    ]
    for reward in rewards:
        for _ in range(2):  # the second time, a replay
            created = invoke(REWARD, {"input": reward}, ADMIN).data["createReward"]
            assert created == {"__typename": "RewardSaved"}, created
    updated = invoke(
        "mutation($input: RewardInput!) { updateReward(input: $input) { __typename } }",
        {"input": {**rewards[2], "name": "Tote bag"}},
        ADMIN,
    )
    assert updated.data["updateReward"] == {"__typename": "RewardSaved"}, updated.raw
    uploaded = invoke(
        'mutation { uploadRewardCodes(input: {rewardId: "gift", idempotencyKey: "u", '
        'codes: ["GIFT-0001", "GIFT-0002"]}) { __typename } }',
        None,
        ADMIN,
    )
    assert uploaded.data["uploadRewardCodes"] == {"__typename": "RewardCodesUploaded"}
    assert invoke('{ rewardUploads(rewardId: "gift") { status } }', None, ADMIN).data
    ids: dict[str, str] = {}
    for name in ("voucher", "tote"):
        for _ in range(2):
            redeemed = invoke(
                REDEEM_REWARD, {"input": {"rewardId": name, "idempotencyKey": name}}
            ).data["redeemReward"]
            assert redeemed["__typename"] == "RewardRedeemed", redeemed
        ids[name] = redeemed["redemption"]["id"]
    offers = invoke("{ rewards { edges { node { redeemable reward { id } } } } }").data
    assert offers["rewards"]["edges"], offers
    mine = invoke("{ myRewards { edges { node { status code } } } }").data
    assert len(mine["myRewards"]["edges"]) == 2, mine
    assert invoke("{ rewardCatalog { remaining isLow } }", None, ADMIN).data["rewardCatalog"]
    assert invoke('{ reward(id: "voucher") { claimed } }', None, ADMIN).data["reward"]
    for _ in range(2):
        cancelled = invoke(
            f'mutation {{ cancelRedemption(id: "{ids["voucher"]}") {{ __typename }} }}'
        )
        assert cancelled.data["cancelRedemption"] == {"__typename": "RedemptionCancelled"}
        fulfilled = invoke(
            f'mutation {{ fulfilRedemption(id: "{ids["tote"]}") {{ __typename }} }}',
            None,
            SERVICE,
        )
        assert fulfilled.data["fulfilRedemption"] == {"__typename": "RedemptionFulfilled"}
    archived = invoke('mutation { archiveReward(id: "tote") { __typename } }', None, ADMIN)
    assert archived.data["archiveReward"] == {"__typename": "RewardSaved"}


def _exercise_api(stage: Stage) -> set[tuple[str, str]]:
    """Every GraphQL operation, replays included, against moto: the actions really used."""
    config = Config(
        stage=stage,
        table_name="loyalty-test",
        maintenance_workers=1,
        unsubscribe_keys="1:" + "k" * 32,
        public_base_url="https://api.shop.example",
    )
    services = build_services(config, ManualClock(START))
    handler = lambda_adapter(create_app(services, gateway_authenticator(config)))
    invoke = invoker(handler)
    redeem = {"input": {"points": 5, "reference": "cart", "idempotencyKey": "k"}}
    refund = {
        "input": {
            "refundId": "r-1",
            "orderId": "o-1",
            "amount": {"amount": "10", "currency": "EUR"},
        }
    }
    adjust = {"input": {"customerId": "cust-1", "points": 10, "reason": "r", "idempotencyKey": "a"}}
    set_tier = {
        "input": {
            "customerId": "cust-1",
            "tier": "GOLD",
            "reason": "VIP",
            "until": "2026-06-01T00:00:00Z",
            "idempotencyKey": "t",
        }
    }
    follow_up = unhappy_answer(services)  # as the surveys write it, opened by the stream
    with iam_actions() as used:
        updated = invoke(UPDATE_TIERS, LADDER, ADMIN).data["updateTiers"]
        assert updated["__typename"] == "TiersUpdated", updated
        for _ in range(2):  # the second time, every mutation is a replay
            invoke(ENROLL, enroll_input(), SERVICE)
            invoke(RECORD_ORDER, order_input("o-1", "100"), SERVICE)  # Bronze -> Silver
            invoke(ADJUST, adjust, ADMIN)
            invoke(REDEEM, redeem)
            invoke(REFUND, refund, SERVICE)
            tier_set = invoke(SET_MEMBER_TIER, set_tier, ADMIN).data["setMemberTier"]
            assert tier_set == {"__typename": "MemberTierSet", "change": {"toCode": "GOLD"}}
        invoke(HOME)
        page = invoke("{ me { points { history(first: 1) { pageInfo { endCursor } } } } }")
        cursor = page.data["me"]["points"]["history"]["pageInfo"]["endCursor"]
        invoke(
            "query($a: String) { me { points { history(after: $a) { edges { cursor } } } } }",
            {"a": cursor},
        )
        invoke('{ member(customerId: "cust-1") { id } }', None, SERVICE)
        invoke('{ order(id: "o-1") { pointsEarned } }', None, SERVICE)
        invoke('mutation { updateMyProfile(input: {name: "N"}) { __typename } }')
        invoke("{ program { acceptedCurrencies } }", None, ADMIN)
        invoke(
            "mutation { updateProgram(input: {returnWindowDays: 1}) { __typename } }", None, ADMIN
        )
        assert [t["code"] for t in invoke("{ tiers { tiers { code } } }").data["tiers"]["tiers"]]
        preview = invoke('{ earnPreview(total: {amount: "50", currency: "EUR"}) { points } }')
        assert preview.data["earnPreview"]["points"] > 0
        distribution = invoke("{ tierDistribution { tier { code } members } }", None, ADMIN)
        assert len(distribution.data["tierDistribution"]) == 3
        tier = invoke(MEMBER_TIER, None, ADMIN).data["member"]["tier"]
        assert tier["tier"]["code"] == "GOLD"
        assert [e["node"]["toCode"] for e in tier["history"]["edges"]] == ["GOLD", "SILVER"]
        _exercise_promotions(invoke)
        _exercise_referrals(invoke)
        _exercise_rewards(invoke)
        _exercise_reviews(invoke)
        _exercise_surveys(invoke)
        _exercise_follow_ups(invoke, follow_up)
        _exercise_unsubscribe(invoke, handler)
        invoke("mutation { advanceTestClock(input: {days: 400}) { __typename } }", None, ADMIN)
    return used


def _exercise_unsubscribe(invoke: Any, handler: Any) -> None:
    """Email consent given, a link minted as the shop, its page opened and its one-click
    POST, twice (the second writes nothing)."""
    granted = invoke(
        "mutation { updateMyProfile(input: {consents: "
        '[{channel: EMAIL, granted: true, source: "app"}]}) { __typename } }'
    )
    assert granted.data["updateMyProfile"]["__typename"] == "ProfileUpdated", granted.raw
    link = invoke(
        '{ unsubscribeLink(customerId: "cust-1", channel: EMAIL) { url } }', None, SERVICE
    ).data["unsubscribeLink"]["url"]
    query = link.partition("?")[2]
    for method in ("GET", "POST", "POST"):
        event = http_api_event("", None, None, method=method, path="/unsubscribe")
        event |= {"rawQueryString": query, "body": "List-Unsubscribe=One-Click"}
        assert handler(event, _Context())["statusCode"] == 200


def _exercise_referrals(invoke: Any) -> None:
    """Referrals on (the welcome promotion is _exercise_promotions'), a code checked, a
    customer enrolled with it (and again), their first order, both cards and lists."""
    settings = {"referrals": {"enabled": True, "welcomePromotionId": "welcome"}}
    updated = invoke(
        "mutation($input: UpdateProgramInput!) { updateProgram(input: $input) { __typename } }",
        {"input": settings},
        ADMIN,
    )
    assert updated.data["updateProgram"] == {"__typename": "ProgramUpdated"}, updated.raw
    code = invoke("{ me { referral { code } } }").data["me"]["referral"]["code"]
    checked = invoke(f'{{ referralCode(code: "{code}") {{ enabled }} }}', None, SERVICE)
    assert checked.data["referralCode"] == {"enabled": True}
    for _ in range(2):
        enrolled = invoke(ENROLL, enroll_input("cust-ref", referralCode=code), SERVICE)
        assert enrolled.data["enrollMember"]["__typename"] == "MemberEnrolled", enrolled.raw
    invoke(RECORD_ORDER, order_input("o-ref", "30", customer_id="cust-ref"), SERVICE)
    invoke(
        '{ member(customerId: "cust-ref") { referral { invitation { status } } } }', None, SERVICE
    )
    page = invoke("{ me { referrals(first: 1) { pageInfo { endCursor } } } }")
    cursor = page.data["me"]["referrals"]["pageInfo"]["endCursor"]
    listed = invoke(
        "query($a: String) { me { referrals(after: $a) { edges { cursor } } } }", {"a": cursor}
    )
    assert listed.data["me"]["referrals"] == {"edges": []}


SUBMIT_REVIEW = """mutation($input: SubmitReviewInput!) { submitReview(input: $input) {
  __typename ... on ReviewSaved { review { id status } } } }"""


VOTE_REVIEW = """mutation($id: ID!) { voteReview(reviewId: $id, helpful: true) {
  __typename ... on ReviewVoted { helpful } } }"""


def _exercise_reviews(invoke: Any) -> None:
    """A review submitted (and replayed), edited, approved, listed, counted, voted on (and
    replayed, withdrawn), deleted."""
    review = {"sku": "sku-1", "rating": 4, "title": "Good", "body": "Fits."}
    for _ in range(2):
        saved = invoke(SUBMIT_REVIEW, {"input": {"review": review, "idempotencyKey": "rv"}})
        assert saved.data["submitReview"]["__typename"] == "ReviewSaved", saved.raw
    rid = saved.data["submitReview"]["review"]["id"]
    edited = invoke(
        "mutation($input: ReviewInput!) { updateReview(input: $input) { __typename } }",
        {"input": {**review, "rating": 5}},
    )
    assert edited.data["updateReview"] == {"__typename": "ReviewSaved"}, edited.raw
    queue = invoke("{ pendingReviews { edges { node { id } } } }", None, ADMIN).data
    assert [e["node"]["id"] for e in queue["pendingReviews"]["edges"]] == [rid]
    moderated = invoke(
        "mutation($input: ModerateReviewInput!) { moderateReview(input: $input) { __typename } }",
        {"input": {"id": rid, "decision": "APPROVE"}},
        ADMIN,
    )
    assert moderated.data["moderateReview"] == {"__typename": "ReviewSaved"}, moderated.raw
    rating = invoke('{ productRating(sku: "sku-1") { count histogram } }', None, SERVICE).data
    assert rating["productRating"] == {"count": 1, "histogram": [0, 0, 0, 0, 1]}
    listed = invoke('{ productReviews(sku: "sku-1") { edges { node { rating } } } }').data
    assert listed["productReviews"]["edges"] == [{"node": {"rating": 5}}]
    mine = invoke("{ myReviews { edges { node { status } } } }").data
    assert mine["myReviews"]["edges"] == [{"node": {"status": "APPROVED"}}]
    voter = {"sub": "cust-ref", "token_use": "access"}  # enrolled by _exercise_referrals
    for _ in range(2):  # the second time, a replay
        voted = invoke(VOTE_REVIEW, {"id": rid}, voter).data["voteReview"]
        assert voted == {"__typename": "ReviewVoted", "helpful": True}, voted
    withdrawn = invoke(
        "mutation($id: ID!) { withdrawReviewVote(reviewId: $id) { __typename } }",
        {"id": rid},
        voter,
    )
    assert withdrawn.data["withdrawReviewVote"] == {"__typename": "ReviewVoted"}, withdrawn.raw
    invoke(VOTE_REVIEW, {"id": rid}, voter)
    helpful = invoke(
        '{ productReviews(sku: "sku-1", sort: MOST_HELPFUL) { edges { node { helpfulVotes } } } }'
    ).data
    assert helpful["productReviews"]["edges"] == [{"node": {"helpfulVotes": 1}}]
    deleted = invoke('mutation { deleteReview(sku: "sku-1") { __typename } }')
    assert deleted.data["deleteReview"] == {"__typename": "ReviewDeleted"}, deleted.raw


ASK_SURVEY = """mutation($input: AskSurveyInput!) { askSurvey(input: $input) {
  __typename ... on SurveyAsked { invitation { id } } } }"""
ANSWER_SURVEY = """mutation($input: SubmitSurveyAnswerInput!) {
  submitSurveyAnswer(input: $input) { __typename } }"""


def _exercise_surveys(invoke: Any) -> None:
    """NPS asked (and replayed) and answered (and replayed); CSAT of an order asked by the
    shop and relayed; the scores read."""
    for _ in range(2):
        asked = invoke(
            ASK_SURVEY, {"input": {"kind": "NPS", "channel": "APP", "idempotencyKey": "s"}}
        )
        assert asked.data["askSurvey"]["__typename"] == "SurveyAsked", asked.raw
    nps = asked.data["askSurvey"]["invitation"]["id"]
    csat = {"kind": "CSAT", "channel": "EMAIL", "subject": "ORDER", "reference": "o-1"}
    shop = invoke(
        ASK_SURVEY, {"input": {**csat, "customerId": "cust-1", "idempotencyKey": "c"}}, SERVICE
    )
    assert shop.data["askSurvey"]["__typename"] == "SurveyAsked", shop.raw
    order_survey = shop.data["askSurvey"]["invitation"]["id"]
    for invitation, score, claims in ((nps, 9, MEMBER), (order_survey, 2, SERVICE)):
        for _ in range(2):
            data = {"invitationId": invitation, "score": score, "idempotencyKey": f"a{score}"}
            given = invoke(ANSWER_SURVEY, {"input": data}, claims)
            assert given.data["submitSurveyAnswer"] == {"__typename": "SurveyAnswered"}, given.raw
    scores = invoke(
        '{ surveyScores(kind: NPS, from: "2026-01-01", to: "2026-12-31") { total { count } } }',
        None,
        ADMIN,
    )
    assert scores.data["surveyScores"] == {"total": {"count": 1}}, scores.raw


def _exercise_follow_ups(invoke: Any, follow_up: str) -> None:
    """Every listing (and a second page), the follow-up, assigned, a note and the
    resolution with goodwill points, each mutation twice (a replay or no change)."""
    for status in ("OPEN", "OVERDUE", "RESOLVED"):
        listed = invoke(
            "query($s: FollowUpListing!, $a: String) { followUps(status: $s, first: 1, after: $a)"
            " { edges { cursor } } }",
            {"s": status, "a": None},
            ADMIN,
        )
        for edge in listed.data["followUps"]["edges"]:
            invoke(
                "query($s: FollowUpListing!, $a: String) { followUps(status: $s, after: $a) "
                "{ edges { cursor } } }",
                {"s": status, "a": edge["cursor"]},
                ADMIN,
            )
    for _ in range(2):
        assigned = invoke(
            f'mutation {{ assignFollowUp(input: {{id: "{follow_up}", assignee: "ana"}}) '
            "{ __typename } }",
            None,
            ADMIN,
        )
        assert assigned.data["assignFollowUp"] == {"__typename": "FollowUpSaved"}, assigned.raw
        noted = invoke(
            f'mutation {{ addFollowUpNote(input: {{id: "{follow_up}", text: "Called.", '
            'idempotencyKey: "n"}) { __typename } }',
            None,
            ADMIN,
        )
        assert noted.data["addFollowUpNote"] == {"__typename": "FollowUpNoteAdded"}, noted.raw
    for _ in range(2):
        resolved = invoke(
            f'mutation {{ resolveFollowUp(input: {{id: "{follow_up}", note: "Done.", '
            'goodwillPoints: 5, idempotencyKey: "r"}) { __typename } }',
            None,
            ADMIN,
        )
        assert resolved.data["resolveFollowUp"] == {"__typename": "FollowUpResolved"}, resolved.raw
    shown = invoke(f'{{ followUp(id: "{follow_up}") {{ status notes {{ text }} }} }}', None, ADMIN)
    assert shown.data["followUp"] == {"status": "RESOLVED", "notes": [{"text": "Called."}]}


def _exercise_job(stage: str, monkeypatch: pytest.MonkeyPatch) -> set[tuple[str, str]]:
    """The daily job from its Lambda entry point: expiries, and a tier review."""
    monkeypatch.setenv("STAGE", stage)
    monkeypatch.setenv("TABLE_NAME", "loyalty-test")
    job = importlib.reload(importlib.import_module("handlers.points_maintenance"))
    config = Config(stage=Stage(stage), table_name="loyalty-test")
    services = build_services(config, ManualClock(START))
    enroll(services, "cust-due")
    order(services, "o-old", "10", customer_id="cust-due", placed_at=START - 3 * YEAR)
    # Gold two years ago: its validity has ended, so the job reviews it (and lowers it).
    earlier = build_services(config, ManualClock(START - 2 * YEAR))
    configure_tiers(earlier)
    enroll(earlier, "cust-gold")
    then = earlier.program.now(earlier.program.load())  # the dev test clock's offset too
    order(earlier, "o-gold", "600", customer_id="cust-gold", placed_at=then)
    with iam_actions() as used:
        report = job.handler({}, _Context())
    assert report["tiers_reviewed"] >= 1
    assert report["tiers_lowered"] >= 1
    assert report["lots_expired"] >= 1
    return used


def _exercise_expiry(stage: str, monkeypatch: pytest.MonkeyPatch) -> set[tuple[str, str]]:
    """handlers/reservations.py from its entry point: a reservation paid partly with points,
    held two years ago, released (in prod with the one the API left held, which no test
    clock released); a second run finds nothing."""
    monkeypatch.setenv("STAGE", stage)
    monkeypatch.setenv("TABLE_NAME", "loyalty-test")
    job = importlib.reload(importlib.import_module("handlers.reservations"))
    config = Config(stage=Stage(stage), table_name="loyalty-test")
    then = build_services(config, ManualClock(START - 2 * YEAR))
    enroll(then, "cust-expiry")
    then.spending.adjust(ADMIN_PRINCIPAL, AdjustInput(10, "seed", "exp", customer_id="cust-expiry"))
    cart = CartInput("EUR", [("SHOE", 1, Decimal(60), None)], customer_id="cust-expiry")
    then.reservations.reserve(SERVICE_PRINCIPAL, cart, "expiry", points=5)
    with iam_actions() as used:
        assert job.handler({}, _Context()) == {"released": 1 if stage == "dev" else 2}
        assert job.handler({}, _Context()) == {"released": 0}
    return used


def _exercise_referral_rewards(stage: str, monkeypatch: pytest.MonkeyPatch) -> set[tuple[str, str]]:
    """handlers/referrals.py from its entry point: a referral whose referee's first order,
    placed two years ago, was made due by the stream, rewarded (with the API's, which the
    stream made due too); a second run finds nothing."""
    monkeypatch.setenv("STAGE", stage)
    monkeypatch.setenv("TABLE_NAME", "loyalty-test")
    job = importlib.reload(importlib.import_module("handlers.referrals"))
    config = Config(stage=Stage(stage), table_name="loyalty-test")
    then = build_services(config, ManualClock(START - 2 * YEAR))
    then.program.update(ADMIN_PRINCIPAL, SettingsChange(referrals=ReferralChange(enabled=True)))
    enroll(then, "cust-referrer")
    code = then.referrals.overview(ADMIN_PRINCIPAL, member_id_for("cust-referrer")).code
    then.members.join(
        SERVICE_PRINCIPAL, EnrollInput("cust-referee", "UTC", "en", referral_code=code)
    )
    placed = then.program.now(then.program.load())
    order(then, "o-referee", "20", customer_id="cust-referee", placed_at=placed)
    then.reactions.dispatch(Change("e-1", None, reads.get(order_key("o-referee"), TableItem)))
    with iam_actions() as used:
        assert job.handler({}, _Context())["rewarded"] == 2
        assert job.handler({}, _Context())["rewarded"] == 0
    return used


def _exercise_stream(
    stream: TableStream, monkeypatch: pytest.MonkeyPatch, stage: str
) -> set[tuple[str, str]]:
    """handlers/stream.py on every change the API and the job made, in Lambda's batches,
    each delivered twice (the second time, every reaction finds its marker)."""
    handler = _stream_handler(monkeypatch, stage)
    records = stream.read()
    assert {item_type(r) for r in records} >= {"member", "tier_change", "followup"}
    bus = handler.services.events
    with iam_actions() as used, client_actions(bus.client, "bus") as sent:
        for start in range(0, len(records), 100):
            event = stream_event(records[start : start + 100])
            for _ in range(2):
                assert handler.handler(event, STREAM_CONTEXT) == {"batchItemFailures": []}
    return used | sent


def _stream_handler(monkeypatch: pytest.MonkeyPatch, stage: str) -> Any:
    """handlers/stream.py configured as serverless.yml configures it, with its bus."""
    monkeypatch.setenv("EVENT_BUS_NAME", BUS)
    handler = load_stream_handler(monkeypatch, stage, "loyalty-test")
    handler.services.events.client.create_event_bus(Name=BUS)
    return handler


# What Lambda's event source mapping does with the function's role: read the stream, and
# describe the batches that failed to the on-failure destination. No code of ours calls them.
STREAM_READING = {
    ("DescribeStream", "stream"),
    ("GetRecords", "stream"),
    ("GetShardIterator", "stream"),
    ("ListStreams", "stream"),
    ("sqs:SendMessage", "queue"),
}


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_each_role_grants_exactly_what_its_function_uses(
    templates: dict[str, Template],
    aws: None,
    dynamodb_client: Any,
    stage: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    template = templates[stage]
    stream = TableStream(dynamodb_client, "loyalty-test")
    assert _granted(template, "GraphqlRole") == _exercise_api(Stage(stage))
    assert _granted(template, "MaintenanceRole") == _exercise_job(stage, monkeypatch)
    used = _exercise_stream(stream, monkeypatch, stage)
    assert _granted(template, "StreamRole") == used | STREAM_READING
    expiry = _exercise_expiry(stage, monkeypatch)
    assert _granted(template, "ReservationExpiryRole") == expiry
    rewards = _exercise_referral_rewards(stage, monkeypatch)
    assert _granted(template, "ReferralRewardsRole") == rewards
    functions = {
        "GraphqlRole": "graphql",
        "MaintenanceRole": "pointsMaintenance",
        "StreamRole": "stream",
        "ReservationExpiryRole": "reservationExpiry",
        "ReferralRewardsRole": "referralRewards",
    }
    for role, function in functions.items():
        [logs] = [s for s in _statements(template, role) if s["Sid"] == "Logs"]
        assert logs["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
        assert logs["Resource"]["Fn::Join"][1][-1] == (
            f":log-group:/aws/lambda/loyalty-api-{stage}-{function}:*"
        )
        assert template["Resources"][role]["Properties"]["ManagedPolicyArns"] == []
        lambda_function = template["Resources"][
            f"{function[0].upper()}{function[1:]}LambdaFunction"
        ]
        assert lambda_function["Properties"]["Role"] == {"Fn::GetAtt": [role, "Arn"]}


class _Context:
    aws_request_id = "job-1"
    function_name = "loyalty-api-pointsMaintenance"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:job"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 900_000


# ---- the artifact -----------------------------------------------------------------------

RUNTIME_ONLY = {"api", "schema", "handlers"}
PROVIDED_BY_LAMBDA = {"botocore", "boto3", "s3transfer", "urllib3"}


def test_the_artifact_holds_runtime_code_and_dependencies_only(artifact: Path) -> None:
    names = zipfile.ZipFile(artifact).namelist()
    tops = {name.split("/")[0] for name in names}
    packages = {t for t in tops if not t.endswith((".dist-info", ".py")) and t != "__pycache__"}
    assert packages >= RUNTIME_ONLY
    assert not packages & {
        "tests",
        "bench",
        "infra",
        "local",
        "node_modules",
        *PROVIDED_BY_LAMBDA,
        "moto",
        "pytest",
        "hypothesis",
        "uvicorn",
        "jwt",
        "yaml",
    }
    assert {"handlers/graphql.py", "handlers/points_maintenance.py", "handlers/stream.py"} <= set(
        names
    )
    assert not [name for name in names if name.startswith("local/")]
    size_mib = artifact.stat().st_size / 2**20
    # 9.6 MiB with Jinja2 and Babel (trimmed to the message languages, infra/build.py).
    assert size_mib < 12, f"{size_mib:.1f} MiB"
    print(f"\nartifact {artifact.name}: {size_mib:.2f} MiB, {len(names)} files")


def test_the_artifact_is_compiled_for_the_runtime(artifact: Path) -> None:
    """Lambda's code directory is read-only: without .pyc files every cold start compiles."""
    if runtime_python() is None:
        pytest.skip("no Python 3.13 on this machine: the artifact ships sources only")
    names = zipfile.ZipFile(artifact).namelist()
    sources = [n for n in names if n.endswith(".py")]
    compiled = {n for n in names if n.endswith(".cpython-313.pyc")}
    assert len(compiled) == len(sources)


def test_the_layer_requirements_follow_pyproject() -> None:
    """infra/requirements.lambda.txt pins exactly the runtime closure of pyproject.toml, at
    the versions the tests ran with, minus what the Lambda runtime provides."""
    pinned = {}
    for line in (ROOT / "infra" / "requirements.lambda.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pinned[_canonical(name)] = version
    closure: set[str] = set()
    todo: list[tuple[str, set[str]]] = [("loyalty-api", set())]
    while todo:
        package, extras = todo.pop()
        for requirement in metadata.requires(package) or []:
            req = Requirement(requirement)
            wanted = req.marker is None or any(
                req.marker.evaluate({"extra": extra}) for extra in extras or {""}
            )
            name = _canonical(req.name)
            if wanted and name not in closure and name not in PROVIDED_BY_LAMBDA:
                closure.add(name)
                todo.append((name, set(req.extras)))
    assert set(pinned) == closure
    assert {name: metadata.version(name) for name in pinned} == pinned


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-")
