"""registerDevice, unregisterDevice and myDevices through API Gateway events, with push set
up (the authorization and bad-input tables cover them without)."""

from __future__ import annotations

from typing import Any, cast

import pytest
from moto.core.models import DEFAULT_ACCOUNT_ID

from api.config import Config, Stage
from api.nudges.channels import AwsChannels
from api.nudges.devices_store import token_id
from api.services import Services
from schema.app import create_app, gateway_authenticator, lambda_adapter
from tests.conftest import TABLE
from tests.graphql.conftest import MEMBER, OTHER_MEMBER, Invoke, invoker
from tests.support import enroll

APNS = f"arn:aws:sns:us-east-1:{DEFAULT_ACCOUNT_ID}:app/APNS/loyalty-ios"
REGISTER = """mutation($platform: DevicePlatform!, $token: String!) {
  registerDevice(platform: $platform, token: $token) {
    __typename
    ... on DeviceRegistered { device { id platform registeredAt } }
    ... on UserError { code message }
  }
}"""
UNREGISTER = """mutation($token: String!) {
  unregisterDevice(token: $token) { __typename ... on DeviceUnregistered { removed } }
}"""
MINE = "{ myDevices { id platform registeredAt } }"


@pytest.fixture
def config() -> Config:
    return Config(stage=Stage.DEV, table_name=TABLE, sns_apns_arn=APNS)


@pytest.fixture
def invoke(services: Services, config: Config) -> Invoke:
    sns: Any = cast(AwsChannels, services.channels).sns
    sns.create_platform_application(
        Name="loyalty-ios", Platform="APNS", Attributes={"PlatformCredential": "k"}
    )
    enroll(services, "cust-1")
    enroll(services, "cust-2")
    return invoker(lambda_adapter(create_app(services, gateway_authenticator(config))))


def test_a_member_registers_lists_and_unregisters_a_device(invoke: Invoke) -> None:
    registered = invoke(REGISTER, {"platform": "IOS", "token": "a1b2c3"}, MEMBER).data
    device = {
        "id": token_id("a1b2c3"),
        "platform": "IOS",
        "registeredAt": "2026-03-01T12:00:00+00:00",
    }
    assert registered == {"registerDevice": {"__typename": "DeviceRegistered", "device": device}}
    assert invoke(MINE, None, MEMBER).data == {"myDevices": [device]}
    assert invoke(MINE, None, OTHER_MEMBER).data == {"myDevices": []}

    removed = invoke(UNREGISTER, {"token": "a1b2c3"}, MEMBER).data
    assert removed == {"unregisterDevice": {"__typename": "DeviceUnregistered", "removed": True}}
    again = invoke(UNREGISTER, {"token": "a1b2c3"}, MEMBER).data
    assert again == {"unregisterDevice": {"__typename": "DeviceUnregistered", "removed": False}}
    assert invoke(MINE, None, MEMBER).data == {"myDevices": []}


def test_a_platform_without_an_application_is_a_typed_failure(invoke: Invoke) -> None:
    result = invoke(REGISTER, {"platform": "ANDROID", "token": "a1b2c3"}, MEMBER).data
    assert result["registerDevice"]["__typename"] == "PushNotConfigured"
    assert result["registerDevice"]["code"] == "PUSH_NOT_CONFIGURED"
    assert invoke(MINE, None, MEMBER).data == {"myDevices": []}
