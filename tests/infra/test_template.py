"""What `osls package` would deploy, checked offline: valid, minimal, safe."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import zipfile
from datetime import timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from api.clock import ManualClock
from api.config import Config, Stage
from api.services import build_services
from api.store.base import DUE_INDEX, TableItem
from infra.build import runtime_python
from local.table import table_properties
from schema.app import create_app, gateway_authenticator, lambda_adapter
from tests.graphql.conftest import (
    ADJUST,
    ADMIN,
    ENROLL,
    HOME,
    RECORD_ORDER,
    REDEEM,
    REFUND,
    SERVICE,
    enroll_input,
    invoker,
    order_input,
)
from tests.infra.conftest import ROOT, TEMPLATES
from tests.support import START, enroll, iam_actions, order

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
        for function in (graphql, job):
            assert function["Runtime"] == "python3.13"
            assert function["Architectures"] == ["arm64"]
            assert function["Environment"]["Variables"]["STAGE"] == stage
            assert function["Environment"]["Variables"]["TABLE_NAME"] == f"loyalty-api-{stage}"
        assert (graphql["MemorySize"], graphql["Timeout"]) == (1024, 10)
        assert (job["MemorySize"], job["Timeout"]) == (512, 900)
        assert ("SnapStart" in graphql) is (stage == "prod")
        retention = {"dev": 30, "prod": 90}[stage]
        assert resources["GraphqlLogGroup"]["Properties"]["RetentionInDays"] == retention
        [rule] = [r for r in resources.values() if r["Type"] == "AWS::Events::Rule"]
        assert rule["Properties"]["ScheduleExpression"] == "cron(15 3 * * ? *)"
        routes = {
            r["Properties"]["RouteKey"]: r["Properties"]
            for r in resources.values()
            if r["Type"] == "AWS::ApiGatewayV2::Route"
        }
        assert set(routes) == {"GET /graphql", "POST /graphql"}
        assert all(r["AuthorizationType"] == "JWT" for r in routes.values())
        authorizer = resources["HttpApiAuthorizerJwt"]["Properties"]["JwtConfiguration"]
        assert authorizer["Audience"] == [{"Ref": "MemberClient"}, {"Ref": "ServiceClient"}]
        assert {"Ref": "UserPool"} in authorizer["Issuer"]["Fn::Join"][1]
    prod_env = templates["prod"]["Resources"]["GraphqlLambdaFunction"]["Properties"]
    assert Config.from_env(prod_env["Environment"]["Variables"]).introspection is False


# ---- least privilege --------------------------------------------------------------------


def _statements(template: Template, role: str) -> list[dict[str, Any]]:
    [policy] = template["Resources"][role]["Properties"]["Policies"]
    return list(policy["PolicyDocument"]["Statement"])


def _granted(template: Template, role: str) -> set[tuple[str, str]]:
    granted: set[tuple[str, str]] = set()
    for statement in _statements(template, role):
        actions = statement["Action"]
        assert "*" not in json.dumps(actions), statement
        assert json.dumps(statement["Resource"]).count("*") <= int(statement["Sid"] == "Logs")
        resources = statement["Resource"]
        for resource in resources if isinstance(resources, list) else [resources]:
            kind = "index" if "/index/due-index" in json.dumps(resource) else "table"
            granted.update(
                (a.removeprefix("dynamodb:"), kind) for a in actions if a.startswith("dynamodb:")
            )
    return granted


def _exercise_api(stage: Stage) -> set[tuple[str, str]]:
    """Every GraphQL operation, replays included, against moto: the actions really used."""
    config = Config(stage=stage, table_name="loyalty-test", maintenance_workers=1)
    services = build_services(config, ManualClock(START))
    invoke = invoker(lambda_adapter(create_app(services, gateway_authenticator(config))))
    redeem = {"input": {"points": 5, "reference": "cart", "idempotencyKey": "k"}}
    refund = {
        "input": {
            "refundId": "r-1",
            "orderId": "o-1",
            "amount": {"amount": "10", "currency": "EUR"},
        }
    }
    adjust = {"input": {"customerId": "cust-1", "points": 10, "reason": "r", "idempotencyKey": "a"}}
    with iam_actions() as used:
        for _ in range(2):  # the second time, every mutation is a replay
            invoke(ENROLL, enroll_input(), SERVICE)
            invoke(RECORD_ORDER, order_input("o-1", "100"), SERVICE)
            invoke(ADJUST, adjust, ADMIN)
            invoke(REDEEM, redeem)
            invoke(REFUND, refund, SERVICE)
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
        invoke("mutation { advanceTestClock(input: {days: 400}) { __typename } }", None, ADMIN)
    return used


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_each_role_grants_exactly_what_its_function_uses(
    templates: dict[str, Template],
    aws: None,
    stage: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    template = templates[stage]
    assert _granted(template, "GraphqlRole") == _exercise_api(Stage(stage))
    monkeypatch.setenv("STAGE", stage)
    monkeypatch.setenv("TABLE_NAME", "loyalty-test")
    job = importlib.import_module("handlers.points_maintenance")
    importlib.reload(job)
    services = build_services(
        Config(stage=Stage(stage), table_name="loyalty-test"), ManualClock(START)
    )
    enroll(services, "cust-due")
    order(services, "o-old", "10", customer_id="cust-due", placed_at=START - 3 * YEAR)
    with iam_actions() as used:
        job.handler({}, _Context())
    assert _granted(template, "MaintenanceRole") == used
    for role, function in (("GraphqlRole", "graphql"), ("MaintenanceRole", "pointsMaintenance")):
        [logs] = [s for s in _statements(template, role) if s["Sid"] == "Logs"]
        assert logs["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
        assert logs["Resource"]["Fn::Join"][1][-1] == (
            f":log-group:/aws/lambda/loyalty-api-{stage}-{function}:*"
        )
        assert template["Resources"][role]["Properties"]["ManagedPolicyArns"] == []


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
    assert "handlers/graphql.py" in names
    size_mib = artifact.stat().st_size / 2**20
    assert size_mib < 10, f"{size_mib:.1f} MiB"
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
