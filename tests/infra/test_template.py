"""What `osls package` would deploy, checked offline: valid, minimal, safe."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any, cast

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from packaging.requirements import Requirement

from api.auth import Principal, Role
from api.clock import ManualClock
from api.config import Config, Stage
from api.feedback.reviews_model import ReviewInput
from api.ids import member_id_for
from api.members import store as members_store
from api.members.model import Channel, ConsentInput, EnrollInput
from api.nudges import store as nudge_store
from api.nudges.channels import AwsChannels, Platform
from api.points.model import AdjustInput, OrderInput, OrderLine
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
from tests.nudges.test_bounces import sns_event
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
    stored_member,
    unhappy_answer,
)
from tests.test_stream import CONTEXT as STREAM_CONTEXT
from tests.test_stream import configure_tiers, item_type, load_stream_handler

Template = dict[str, Any]
YEAR = timedelta(days=365)


def test_cfn_lint_passes(templates: dict[str, Template], push_template: Template) -> None:
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


QUEUE_URL = {"Ref": "NudgeQueue"}
MESSAGE_ENV = {"EMAIL_FROM", "SES_CONFIGURATION_SET", "SMS_SENDER_ID", "UNSUBSCRIBE_KEYS"}


def test_the_nudge_functions_queue_and_mail_events(
    templates: dict[str, Template], push_template: Template
) -> None:
    """The hourly scheduler fills the queue; the sender drains it in batches with partial
    failures at a bounded concurrency, retried 5 times then dead-lettered; SES's bounces
    and complaints reach nudgeEvents through the configuration set's topic."""
    for stage, template in templates.items():
        resources = template["Resources"]
        fn = {
            name: resources[f"{name}LambdaFunction"]["Properties"]
            for name in ("Graphql", "NudgeScheduler", "NudgeSender", "NudgeEvents")
        }
        env = {name: f["Environment"]["Variables"] for name, f in fn.items()}
        assert fn["NudgeScheduler"]["Handler"] == "handlers/nudge_scheduler.handler"
        # The handler stops 20 s before its timeout and leaves the rest due.
        assert (fn["NudgeScheduler"]["MemorySize"], fn["NudgeScheduler"]["Timeout"]) == (512, 900)
        assert env["NudgeScheduler"]["NUDGE_QUEUE_URL"] == QUEUE_URL
        assert not MESSAGE_ENV & set(env["NudgeScheduler"])
        [schedule] = [
            r["Properties"]
            for r in resources.values()
            if r["Type"] == "AWS::Events::Rule"
            and r["Properties"]["Targets"][0]["Arn"]
            == {"Fn::GetAtt": ["NudgeSchedulerLambdaFunction", "Arn"]}
        ]
        assert schedule["ScheduleExpression"] == "rate(1 hour)"

        sender = fn["NudgeSender"]
        assert sender["Handler"] == "handlers/nudge_sender.handler"
        assert (sender["MemorySize"], sender["Timeout"]) == (512, 30)
        assert sender["ReservedConcurrentExecutions"] == 2
        assert env["NudgeSender"] == {
            **env["NudgeSender"],
            "NUDGE_QUEUE_URL": QUEUE_URL,
            "EMAIL_FROM": "Loyalty <no-reply@example.com>",
            "SES_CONFIGURATION_SET": {"Ref": "NudgeConfigurationSet"},
            "SNS_APNS_ARN": "",
            "SNS_FCM_ARN": "",
            "SMS_SENDER_ID": "",
            "SHOP_NAME": "Demo Shop",
            "SHOP_URL": "https://shop.example.com",
            # Links minted as the graphql function checks them.
            "UNSUBSCRIBE_KEYS": env["Graphql"]["UNSUBSCRIBE_KEYS"],
            "PUBLIC_BASE_URL": env["Graphql"]["PUBLIC_BASE_URL"],
        }
        [mapping] = [
            r["Properties"]
            for r in resources.values()
            if r["Type"] == "AWS::Lambda::EventSourceMapping"
            and r["Properties"]["EventSourceArn"] == NUDGE_QUEUE_ARN
        ]
        assert mapping["FunctionName"] == {"Fn::GetAtt": ["NudgeSenderLambdaFunction", "Arn"]}
        assert (mapping["BatchSize"], mapping["MaximumBatchingWindowInSeconds"]) == (10, 1)
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        # Never more pollers than reserved senders: throttled receives would dead-letter.
        assert mapping["ScalingConfig"] == {"MaximumConcurrency": 2}
        queue = resources["NudgeQueue"]["Properties"]
        assert queue["VisibilityTimeout"] >= 6 * sender["Timeout"]
        assert queue["SqsManagedSseEnabled"] is True
        assert queue["RedrivePolicy"] == {
            "deadLetterTargetArn": {"Fn::GetAtt": ["NudgeDeadLetters", "Arn"]},
            "maxReceiveCount": 5,
        }
        dead = resources["NudgeDeadLetters"]["Properties"]
        assert dead["MessageRetentionPeriod"] == 14 * 24 * 3600
        assert dead["SqsManagedSseEnabled"] is True

        assert fn["NudgeEvents"]["Handler"] == "handlers/nudge_events.handler"
        [subscription] = [
            r["Properties"] for r in resources.values() if r["Type"] == "AWS::SNS::Subscription"
        ]
        assert subscription["TopicArn"] == {"Ref": "NudgeMailEvents"}
        assert subscription["Protocol"] == "lambda"
        assert subscription["Endpoint"] == {"Fn::GetAtt": ["NudgeEventsLambdaFunction", "Arn"]}
        [publishing] = resources["NudgeMailEventsPolicy"]["Properties"]["PolicyDocument"][
            "Statement"
        ]
        assert publishing["Principal"] == {"Service": "ses.amazonaws.com"}
        assert publishing["Action"] == "sns:Publish"
        assert publishing["Condition"] == {
            "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
        }
        mail_set = resources["NudgeConfigurationSet"]["Properties"]
        assert mail_set == {"Name": f"loyalty-api-{stage}"}
        destination = resources["NudgeMailEventDestination"]["Properties"]
        assert destination["ConfigurationSetName"] == {"Ref": "NudgeConfigurationSet"}
        assert destination["EventDestination"]["MatchingEventTypes"] == ["bounce", "complaint"]
        assert destination["EventDestination"]["SnsDestination"] == {
            "TopicARN": {"Ref": "NudgeMailEvents"}
        }

        # The API: the queue outside prod (the test clock and runNudges run the
        # scheduler), push applications for devices, the shop for previews.
        expected_queue = "" if stage == "prod" else QUEUE_URL
        assert env["Graphql"]["NUDGE_QUEUE_URL"] == expected_queue
        assert Config.from_env({**env["Graphql"], "NUDGE_QUEUE_URL": ""}).nudge_queue_url is None
        assert (env["Graphql"]["SHOP_NAME"], env["Graphql"]["SNS_APNS_ARN"]) == ("Demo Shop", "")
        assert not MESSAGE_ENV - {"UNSUBSCRIBE_KEYS"} & set(env["Graphql"])
        for group in ("NudgeSchedulerLogGroup", "NudgeSenderLogGroup", "NudgeEventsLogGroup"):
            assert resources[group]["Properties"]["RetentionInDays"] == (
                90 if stage == "prod" else 30
            )
    pushed = push_template["Resources"]["NudgeSenderLambdaFunction"]["Properties"]
    assert pushed["Environment"]["Variables"]["SNS_APNS_ARN"].endswith(":app/APNS/loyalty-ios")


# ---- the table's stream ------------------------------------------------------------------

STREAM_ARN = {"Fn::GetAtt": ["LoyaltyTable", "StreamArn"]}
FAILURES_ARN = {"Fn::GetAtt": ["StreamFailures", "Arn"]}
NUDGE_QUEUE_ARN = {"Fn::GetAtt": ["NudgeQueue", "Arn"]}
BUS_ARN = {"Fn::GetAtt": ["LoyaltyEventBus", "Arn"]}
BUS = "loyalty-api-test"


def _mapping(template: Template) -> dict[str, Any]:
    mapping: dict[str, Any]
    [mapping] = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::EventSourceMapping"
        and r["Properties"]["EventSourceArn"] == STREAM_ARN
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
        "nudge_watch",  # kept by the nudge reactions
    }
    assert {(r["eventName"], item_type(r)) for r in acted_on} == {
        ("INSERT", "survey_answer"),  # an unhappy answer: is its follow-up open?
        ("INSERT", "followup"),  # announced on the bus
        ("INSERT", "member"),
        ("MODIFY", "member"),  # points, tier, birthday or time zone: the nudge watches
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


_NO_VALUE = {"Ref": "AWS::NoValue"}


def _condition(template: Template, rule: Any) -> bool:
    """A condition of the packaged template: params are filled in, so its values are literal."""
    rule = _resolved(template, rule)
    [(name, arg)] = rule.items()
    if name == "Condition":
        return _condition(template, template["Conditions"][arg])
    if name == "Fn::Equals":
        assert all(isinstance(a, str) for a in arg), arg
        return bool(arg[0] == arg[1])
    if name == "Fn::Not":
        return not _condition(template, arg[0])
    if name == "Fn::Or":
        return any(_condition(template, a) for a in arg)
    raise AssertionError(f"a condition this test does not know: {rule}")


def _resolved(template: Template, node: Any) -> Any:
    """The node with every Fn::If decided, AWS::NoValue left out and the template's
    parameters at their defaults (osls fills them from its params), as CloudFormation does."""
    if isinstance(node, dict):
        parameters = template.get("Parameters", {})
        if set(node) == {"Ref"} and node["Ref"] in parameters:
            return parameters[node["Ref"]]["Default"]
        if set(node) == {"Fn::If"}:
            name, yes, no = node["Fn::If"]
            chosen = yes if _condition(template, template["Conditions"][name]) else no
            return _resolved(template, chosen)
        return {
            k: v
            for k, v in ((k, _resolved(template, v)) for k, v in node.items())
            if v != _NO_VALUE
        }
    if isinstance(node, list):
        return [v for v in (_resolved(template, v) for v in node) if v != _NO_VALUE]
    return node


def _evaluated(node: Any) -> str:
    """Fn::Join, Fn::Select and Fn::Split of literals, evaluated as CloudFormation does."""
    if isinstance(node, str):
        return node
    [(name, arg)] = node.items()
    if name == "Fn::Join":
        return str(arg[0]).join(_evaluated(part) for part in arg[1])
    if name == "Fn::Select":
        parts = arg[1]["Fn::Split"]
        return _evaluated(parts[1]).split(str(parts[0]))[int(arg[0])]
    raise AssertionError(f"a function this test does not know: {node}")


def _statements(template: Template, role: str) -> list[dict[str, Any]]:
    [policy] = _resolved(template, template["Resources"][role]["Properties"]["Policies"])
    return list(policy["PolicyDocument"]["Statement"])


def _resource_kind(resource: Any) -> str:
    text = json.dumps(resource)
    if resource == STREAM_ARN:
        return "stream"
    if resource == FAILURES_ARN:
        return "queue"
    if resource == NUDGE_QUEUE_ARN:
        return "nudge-queue"
    if resource == BUS_ARN:
        return "bus"
    if resource == {"Fn::GetAtt": ["LoyaltyTable", "Arn"]}:
        return "table"
    if "/index/due-index" in text and "LoyaltyTable" in text:
        return "index"
    if resource == "*":  # SMS: a phone number has no ARN
        return "*"
    if resource in (APNS_APP, FCM_APP):
        return f"{_platform(resource)}-application"
    if ":endpoint/" in text:
        # Under its application: .../app/APNS/<name> -> .../endpoint/APNS/<name>/*
        arn = _evaluated(resource)
        [application] = [a for a in (APNS_APP, FCM_APP) if a.split(":app/")[1] in arn]
        assert arn == application.replace(":app/", ":endpoint/") + "/*", arn
        return f"{_platform(application)}-endpoints"
    if ":identity/example.com" in text:  # the emailIdentity param's default
        return "identity"
    if ":configuration-set/" in text and "NudgeConfigurationSet" in text:
        return "configuration-set"
    raise AssertionError(f"a resource this test does not know: {text}")


def _granted(template: Template, role: str) -> set[tuple[str, str]]:
    """(action, resource kind) for every statement but the logs': DynamoDB's actions without
    their prefix, as iam_actions() records them; other services' with theirs."""
    granted: set[tuple[str, str]] = set()
    for statement in _statements(template, role):
        actions = statement["Action"]
        assert statement["Effect"] == "Allow"
        assert "*" not in json.dumps(actions), statement
        stars = json.dumps(statement["Resource"]).count("*")
        if statement["Sid"] == "Sms":  # Publish to phone numbers alone, on "*"
            assert (actions, statement["Resource"]) == (["sns:Publish"], "*"), statement
        elif statement["Sid"] == "PushEndpoints":  # the endpoints of one application each
            assert stars == len(statement["Resource"]), statement
        else:
            assert stars <= int(statement["Sid"] == "Logs"), statement
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


def _exercise_api(stage: Stage, push: bool = False) -> set[tuple[str, str]]:
    """Every GraphQL operation, replays included, against moto: the actions really used
    (push devices with their SNS applications set up, or not)."""
    queue_url = _set_up_messaging(push)
    config = Config(
        stage=stage,
        table_name="loyalty-test",
        maintenance_workers=1,
        unsubscribe_keys="1:" + "k" * 32,
        public_base_url="https://api.shop.example",
        # As serverless.yml configures the function: the queue outside prod only.
        nudge_queue_url=None if stage is Stage.PROD else queue_url,
        sns_apns_arn=APNS_APP if push else None,
        sns_fcm_arn=FCM_APP if push else None,
    )
    services = build_services(config, ManualClock(START))
    _win_back_due(services)
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
    with ExitStack() as recording:
        used = recording.enter_context(iam_actions())
        sns = cast(AwsChannels, services.channels).sns
        calls = [recording.enter_context(_aws_calls(sns, _sns_kinds))]
        if services.nudge_queue is not None:
            queue = services.nudge_queue.client
            calls.append(recording.enter_context(_aws_calls(queue, _sqs_kinds)))
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
        _exercise_nudge_api(invoke, stage, push)
        invoke("mutation { advanceTestClock(input: {days: 400}) { __typename } }", None, ADMIN)
    return used.union(*calls)


def _win_back_due(services: Any) -> None:
    """A member with email consent whose last order was 61 days ago, its watch armed by the
    stream: runNudges (outside prod) enqueues their win-back."""
    then = build_services(services.config, ManualClock(START - timedelta(days=61)))
    data = EnrollInput(
        "cust-nudged",
        "UTC",
        "en",
        email="cust-nudged@example.org",
        consents=[ConsentInput(Channel.EMAIL, True, "app")],
    )
    then.members.enroll(SERVICE_PRINCIPAL, data)
    order(then, "o-nudged", "10", customer_id="cust-nudged")
    placed = reads.get(order_key("o-nudged"), TableItem)
    services.reactions.dispatch(Change("ev-o-nudged", None, placed))


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


# ---- nudges -----------------------------------------------------------------------------

ACCOUNT = "123456789012"  # moto's
APNS_APP = f"arn:aws:sns:us-east-1:{ACCOUNT}:app/APNS/loyalty-ios"
FCM_APP = f"arn:aws:sns:us-east-1:{ACCOUNT}:app/GCM/loyalty-android"
SENDER = "Demo Shop <no-reply@shop.example>"
MAIL_SET = "loyalty-api-test"
NUDGE_QUEUE = "loyalty-api-test-nudges"
# Win-back is due 60 days after enrolment and stale 7 days later: members enrolled at
# NUDGED - 61 days are due at NUDGED, noon UTC (outside the default quiet hours in UTC).
NUDGED = START + timedelta(days=161)
NUDGE_MEMBERS = {"cust-mail": "EMAIL", "cust-text": "SMS", "cust-push": "PUSH"}
# Every trigger's channels, so each member gets the one they consented to; no holdout.
NUDGE_SETTINGS = """mutation($input: NudgeSettingsInput!) { updateNudgeSettings(input: $input) {
  __typename } }"""
REGISTER_DEVICE = """mutation($platform: DevicePlatform!, $token: String!) {
  registerDevice(platform: $platform, token: $token) { __typename } }"""


@contextmanager
def _aws_calls(client: Any, kinds: Any) -> Iterator[set[tuple[str, str]]]:
    """The IAM actions a botocore client's calls need, each on the kind of resource its
    role grants it on: kinds(operation, params) names them."""
    seen: set[tuple[str, str]] = set()

    def before(model: Any, params: dict[str, Any], **_: Any) -> None:
        seen.update(kinds(model.name, params))

    client.meta.events.register("before-parameter-build", before)
    try:
        yield seen
    finally:
        client.meta.events.unregister("before-parameter-build", before)


def _platform(arn: str) -> str:
    return "apns" if "/APNS/" in arn else "fcm"


def _sns_kinds(operation: str, params: dict[str, Any]) -> set[tuple[str, str]]:
    if operation == "Publish":
        # Granted on "*": a phone number has no ARN. That covers endpoints too.
        return {("sns:Publish", "*")}
    if operation == "CreatePlatformEndpoint":
        application = params["PlatformApplicationArn"]
        return {(f"sns:{operation}", f"{_platform(application)}-application")}
    return {(f"sns:{operation}", f"{_platform(params['EndpointArn'])}-endpoints")}


def _ses_kinds(operation: str, params: dict[str, Any]) -> set[tuple[str, str]]:
    # SES v2 authorises SendEmail on the sending identity and on the configuration set.
    assert operation == "SendEmail"
    assert params["ConfigurationSetName"] == MAIL_SET
    return {("ses:SendEmail", "identity"), ("ses:SendEmail", "configuration-set")}


def _sqs_kinds(operation: str, params: dict[str, Any]) -> set[tuple[str, str]]:
    # SendMessageBatch is authorised as SendMessage.
    action = {"SendMessageBatch": "SendMessage"}.get(operation, operation)
    return {(f"sqs:{action}", "nudge-queue")}


def _nudge_env(monkeypatch: pytest.MonkeyPatch, stage: str, push: bool, queue_url: str) -> None:
    """The nudge functions' environment, as serverless.yml sets it."""
    for name, value in {
        "STAGE": stage,
        "TABLE_NAME": "loyalty-test",
        "NUDGE_QUEUE_URL": queue_url,
        "EMAIL_FROM": SENDER,
        "SES_CONFIGURATION_SET": MAIL_SET,
        "SNS_APNS_ARN": APNS_APP if push else "",
        "SNS_FCM_ARN": FCM_APP if push else "",
        "SMS_SENDER_ID": "DemoShop",
        "SHOP_NAME": "Demo Shop",
        "SHOP_URL": "https://shop.example",
        "UNSUBSCRIBE_KEYS": "1:" + "k" * 32,
        "PUBLIC_BASE_URL": "https://api.shop.example",
    }.items():
        monkeypatch.setenv(name, value)


def _set_up_messaging(push: bool) -> str:
    """What the stack creates (the queue, the configuration set) and the shop sets up (a
    verified sender; the push applications), in moto. The queue's URL."""
    ses = boto3.client("sesv2", region_name="us-east-1")
    ses.create_email_identity(EmailIdentity="shop.example")
    ses.create_configuration_set(ConfigurationSetName=MAIL_SET)
    if push:
        sns = boto3.client("sns", region_name="us-east-1")
        for name, platform in (("loyalty-ios", "APNS"), ("loyalty-android", "GCM")):
            sns.create_platform_application(
                Name=name, Platform=platform, Attributes={"PlatformCredential": "k"}
            )
    sqs = boto3.client("sqs", region_name="us-east-1")
    return str(sqs.create_queue(QueueName=NUDGE_QUEUE)["QueueUrl"])


def _exercise_nudge_api(invoke: Any, stage: Stage, push: bool) -> None:
    """Nudge settings, templates and their preview, records, lift, explain, runs on demand
    (outside prod), and devices: registered on both platforms (again: no change), listed,
    one unregistered. Without push set up, registering is a typed refusal."""
    settings = {
        "triggers": [
            {"kind": kind, "channels": ["EMAIL", "SMS", "PUSH"]}
            for kind in ("WIN_BACK", "POINTS_EXPIRING")
        ],
        "holdout": {"salt": "t", "percent": "0"},
    }
    saved = invoke(NUDGE_SETTINGS, {"input": settings}, ADMIN).data["updateNudgeSettings"]
    assert saved == {"__typename": "NudgeSettingsUpdated"}, saved
    assert invoke("{ nudgeSettings { version } }", None, ADMIN).data["nudgeSettings"]
    member = member_id_for("cust-1")
    template = {
        "kind": "WIN_BACK",
        "name": "win-back",
        "locale": "en",
        "emailSubject": "We miss you",
        "emailHtml": '<p>Come back <a href="{{ links.unsubscribe }}">Unsubscribe</a></p>',
        "emailText": "Come back. Unsubscribe: {{ links.unsubscribe }}",
        "smsText": "Come back. Stop: {{ links.unsubscribe }}",
        "pushTitle": "We miss you",
        "pushBody": "Come back",
    }
    saved_template = invoke(
        "mutation($input: NudgeTemplateInput!) { saveNudgeTemplate(input: $input) { __typename } }",
        {"input": template},
        ADMIN,
    )
    assert saved_template.data["saveNudgeTemplate"] == {"__typename": "NudgeTemplateSaved"}
    assert invoke("{ nudgeTemplates(kind: WIN_BACK) { name } }", None, ADMIN).data
    for channel in ("EMAIL", "SMS", "PUSH"):
        preview = invoke(
            f'{{ nudgePreview(memberId: "{member}", kind: POINTS_EXPIRING, channel: {channel}) '
            "{ text } }",
            None,
            ADMIN,
        )
        assert preview.data["nudgePreview"]["text"], preview.raw
    deleted = invoke(
        'mutation { deleteNudgeTemplate(kind: WIN_BACK, name: "win-back", locale: "en") '
        "{ __typename } }",
        None,
        ADMIN,
    )
    assert deleted.data["deleteNudgeTemplate"] == {"__typename": "NudgeTemplateDeleted"}
    for query in (
        f'{{ memberNudges(memberId: "{member}") {{ edges {{ cursor }} }} }}',
        "{ nudges(kind: WIN_BACK) { edges { cursor } } }",
        '{ nudgeLift(kind: WIN_BACK, from: "2026-03-01", to: "2026-03-31") { treated } }',
        "{ explainNudges(kind: POINTS_EXPIRING) { outcome } }",
    ):
        answer = invoke(query, None, ADMIN)
        assert answer.body.get("errors") is None, answer.raw
    ran = invoke("mutation { runNudges { __typename } }", None, ADMIN).data["runNudges"]
    assert ran == {"__typename": "TestClockDisabled" if stage is Stage.PROD else "NudgeRun"}
    for platform, token in (("IOS", "ab12"), ("ANDROID", "fcm-1"), ("IOS", "ab12")):
        registered = invoke(REGISTER_DEVICE, {"platform": platform, "token": token})
        expected = "DeviceRegistered" if push else "PushNotConfigured"
        assert registered.data["registerDevice"] == {"__typename": expected}, registered.raw
    devices = invoke("{ myDevices { platform } }").data["myDevices"]
    assert len(devices) == (2 if push else 0)
    for token in ("fcm-1", "ab12"):
        unregistered = invoke(
            "mutation($t: String!) { unregisterDevice(token: $t) "
            "{ ... on DeviceUnregistered { removed } } }",
            {"t": token},
        )
        assert unregistered.data["unregisterDevice"] == {"removed": push}, unregistered.raw


def _review_requests(member_id: str) -> list[Any]:
    watches = nudge_store.WatchItem.scan()
    return [w for w in watches if w.member_id == member_id and w.kind == "REVIEW_REQUEST"]


def _sqs_event(messages: list[dict[str, Any]], receives: int = 1) -> dict[str, Any]:
    """Lambda's SQS event for messages received from the queue."""
    arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:{NUDGE_QUEUE}"
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {
                    "ApproximateReceiveCount": str(receives),
                    "SentTimestamp": "1772366400000",
                    "SenderId": ACCOUNT,
                    "ApproximateFirstReceiveTimestamp": "1772366400000",
                },
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


def _mail_event(kind: str, address: str, member_id: str) -> str:
    """A bounce or complaint as SES publishes it to the topic (tests/nudges/test_bounces.py)."""
    mail = {
        "messageId": f"ses-{kind}",
        "source": SENDER,
        "destination": [address],
        "tags": {"ses:configuration-set": [MAIL_SET], "member": [member_id]},
    }
    body: dict[str, Any] = (
        {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": address}]}
        if kind == "Bounce"
        else {"complaintFeedbackType": "abuse", "complainedRecipients": [{"emailAddress": address}]}
    )
    return json.dumps({"eventType": kind, "mail": mail, kind.lower(): body})


def _exercise_nudges(
    stage: str, push: bool, monkeypatch: pytest.MonkeyPatch, queue_url: str
) -> dict[str, set[tuple[str, str]]]:
    """The three nudge functions from their entry points, on the clock of NUDGED: the
    scheduler finds three members due for win-back (after the stream armed their watches)
    and enqueues them, and deletes a done review request's watch; the sender sends by email
    (SES failing once: a retry with backoff), text and push (a disabled device per platform:
    removed), and a redelivered batch sends nothing twice; SES's bounce and complaint of
    the email reach the events handler."""
    _nudge_env(monkeypatch, stage, push, queue_url)
    config = Config.from_env()
    then = build_services(config, ManualClock(NUDGED - timedelta(days=61)))
    ids = {}
    for customer, channel in NUDGE_MEMBERS.items():
        data = EnrollInput(
            customer,
            "UTC",
            "en",
            email=f"{customer}@example.org",
            phone="+33612345678",
            consents=[ConsentInput(Channel(channel), True, "app")],
        )
        ids[channel] = then.members.join(SERVICE_PRINCIPAL, data).member.id
        enrolled = reads.get(members_store.member_key(ids[channel]), TableItem)
        then.reactions.dispatch(Change(f"enrol-{customer}", None, enrolled))
    # A member without consent whose order's product is reviewed: the review request is
    # done, and the scheduler deletes its watch.
    reviewer = then.members.enroll(SERVICE_PRINCIPAL, EnrollInput("cust-review", "UTC", "en")).id
    line = OrderLine("sku-review", 1, Decimal(20))
    placed = then.program.now(then.program.load())
    then.orders.record_order(
        SERVICE_PRINCIPAL,
        OrderInput("o-review", Decimal(20), "EUR", placed, customer_id="cust-review", lines=[line]),
    )
    ordered = reads.get(order_key("o-review"), TableItem)
    then.reactions.dispatch(Change("order-review", None, ordered))
    review = ReviewInput("sku-review", 5, "Good", "Fits.")
    then.reviews.submit(Principal(Role.MEMBER, reviewer, reviewer), review, "rv")
    if push:
        owner = Principal(Role.MEMBER, ids["PUSH"], ids["PUSH"])
        then.devices.register(owner, Platform.IOS, "ios-1")
        sns = cast(AwsChannels, then.channels).sns
        # One device per platform that the platform has since disabled: removed at sending.
        for platform, token in ((Platform.IOS, "ios-2"), (Platform.ANDROID, "android-1")):
            device = then.devices.register(owner, platform, token)
            sns.set_endpoint_attributes(
                EndpointArn=device.endpoint_arn, Attributes={"Enabled": "false"}
            )
    now = ManualClock(NUDGED)
    used: dict[str, set[tuple[str, str]]] = {}

    assert _review_requests(reviewer)
    scheduler = importlib.reload(importlib.import_module("handlers.nudge_scheduler"))
    scheduling = build_services(Config.from_env(), now)  # on the test's clock
    monkeypatch.setattr(scheduler, "services", scheduling)
    queue = scheduling.nudge_queue
    assert queue is not None  # NUDGE_QUEUE_URL set
    with iam_actions() as tables, _aws_calls(queue.client, _sqs_kinds) as sent:
        report = scheduler.handler({}, _Context())
    assert report["queued"] >= 3, report
    assert not _review_requests(reviewer)
    used["NudgeSchedulerRole"] = tables | sent

    sender = importlib.reload(importlib.import_module("handlers.nudge_sender"))
    sending = build_services(Config.from_env(), now)  # on the test's clock
    monkeypatch.setattr(sender, "services", sending)
    channels = cast(AwsChannels, sending.channels)
    address = "cust-mail@example.org"
    calls: list[str] = []  # SendEmail's recipients, one per call (retries are attempts)

    def recipient(params: dict[str, Any], **_: Any) -> None:
        calls.extend(params["Destination"]["ToAddresses"])

    def unreachable_once(**_: Any) -> None:
        if calls[-1:] == [address] and calls.count(address) == 1:  # the first email to it
            raise EndpointConnectionError(endpoint_url="https://email.us-east-1.amazonaws.com")

    channels.ses.meta.events.register("before-parameter-build.sesv2.SendEmail", recipient)
    channels.ses.meta.events.register_first("before-send.sesv2.SendEmail", unreachable_once)
    messages: list[dict[str, Any]] = []
    while found := queue.client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10):
        if not found.get("Messages"):
            break
        messages += found["Messages"]
    ours = {json.loads(m["Body"])["member"]: m["MessageId"] for m in messages}
    assert set(ids.values()) <= set(ours)
    batches = [_sqs_event(messages[n : n + 10]) for n in range(0, len(messages), 10)]
    assert sending.nudge_queue is not None
    with (
        iam_actions() as tables,
        _aws_calls(sending.nudge_queue.client, _sqs_kinds) as backoff,
        _aws_calls(channels.ses, _ses_kinds) as mail,
        _aws_calls(channels.sns, _sns_kinds) as texts,
    ):
        failed = [f for b in batches for f in sender.handler(b, _Context())["batchItemFailures"]]
        assert failed == [{"itemIdentifier": ours[ids["EMAIL"]]}], [
            (r.member_id, r.status, r.reason) for m in ids.values() for r in nudge_store.history(m)
        ]
        retried = [m for m in messages if m["MessageId"] == ours[ids["EMAIL"]]]
        assert sender.handler(_sqs_event(retried, 2), _Context()) == {"batchItemFailures": []}
        for batch in batches:  # redelivered: nothing is sent twice
            assert sender.handler(batch, _Context()) == {"batchItemFailures": []}
    sent_to = {r.member_id: r.status.value for m in ids.values() for r in nudge_store.history(m)}
    pushed = "SENT" if push else "FAILED"  # no device without push set up
    assert sent_to == {ids["EMAIL"]: "SENT", ids["SMS"]: "SENT", ids["PUSH"]: pushed}
    if push:
        assert [d.platform for d in sending.devices.devices(ids["PUSH"])] == [Platform.IOS]
    used["NudgeSenderRole"] = tables | backoff | mail | texts

    events = importlib.reload(importlib.import_module("handlers.nudge_events"))
    feedback = build_services(Config.from_env(), now)  # on the test's clock
    monkeypatch.setattr(events, "services", feedback)
    with iam_actions() as tables:
        for kind in ("Bounce", "Complaint", "Complaint"):  # the last, SNS's redelivery
            events.handler(sns_event(_mail_event(kind, address, ids["EMAIL"])), _Context())
    assert feedback.suppressions.is_suppressed(address)
    assert Channel.EMAIL not in {
        c.channel for c in stored_member(ids["EMAIL"]).consents if c.granted
    }
    used["NudgeEventsRole"] = tables
    return used


# What Lambda's event source mapping does with the function's role: read the stream, and
# describe the batches that failed to the on-failure destination. No code of ours calls them.
STREAM_READING = {
    ("DescribeStream", "stream"),
    ("GetRecords", "stream"),
    ("GetShardIterator", "stream"),
    ("ListStreams", "stream"),
    ("sqs:SendMessage", "queue"),
}


# What Lambda's SQS event source mapping does with the sender's role: poll the queue and
# delete what the function handled. No code of ours calls them.
QUEUE_POLLING = {
    ("sqs:ReceiveMessage", "nudge-queue"),
    ("sqs:DeleteMessage", "nudge-queue"),
    ("sqs:GetQueueAttributes", "nudge-queue"),
}


@pytest.mark.parametrize(("stage", "push"), [("dev", False), ("prod", False), ("dev", True)])
def test_each_role_grants_exactly_what_its_function_uses(
    templates: dict[str, Template],
    push_template: Template,
    aws: None,
    dynamodb_client: Any,
    stage: str,
    push: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Push set up (the dev stack packaged with both applications' ARNs) or not: without it
    no role may touch SNS endpoints."""
    template = push_template if push else templates[stage]
    stream = TableStream(dynamodb_client, "loyalty-test")
    assert _granted(template, "GraphqlRole") == _exercise_api(Stage(stage), push)
    assert _granted(template, "MaintenanceRole") == _exercise_job(stage, monkeypatch)
    used = _exercise_stream(stream, monkeypatch, stage)
    assert _granted(template, "StreamRole") == used | STREAM_READING
    expiry = _exercise_expiry(stage, monkeypatch)
    assert _granted(template, "ReservationExpiryRole") == expiry
    rewards = _exercise_referral_rewards(stage, monkeypatch)
    assert _granted(template, "ReferralRewardsRole") == rewards
    queue_url = boto3.client("sqs", region_name="us-east-1").get_queue_url(QueueName=NUDGE_QUEUE)
    nudges = _exercise_nudges(stage, push, monkeypatch, queue_url["QueueUrl"])
    assert _granted(template, "NudgeSchedulerRole") == nudges["NudgeSchedulerRole"]
    assert _granted(template, "NudgeSenderRole") == nudges["NudgeSenderRole"] | QUEUE_POLLING
    assert _granted(template, "NudgeEventsRole") == nudges["NudgeEventsRole"]
    functions = {
        "GraphqlRole": "graphql",
        "MaintenanceRole": "pointsMaintenance",
        "StreamRole": "stream",
        "ReservationExpiryRole": "reservationExpiry",
        "ReferralRewardsRole": "referralRewards",
        "NudgeSchedulerRole": "nudgeScheduler",
        "NudgeSenderRole": "nudgeSender",
        "NudgeEventsRole": "nudgeEvents",
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
