"""Push devices on moto: registered as SNS endpoints, idempotently; a token moving between
members; at most ten per member; unregistered; cleaned up when SNS disables them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import pytest
from botocore.stub import Stubber
from moto.core.models import DEFAULT_ACCOUNT_ID

from api.auth import Principal, Role
from api.clock import ManualClock
from api.config import Config, Stage
from api.errors import AuthError, Forbidden, InvalidInput, MemberNotFound
from api.members.model import Channel
from api.nudges.channels import AwsChannels, EndpointDisabled, Platform
from api.nudges.devices import MAX_DEVICES, PushNotConfigured
from api.nudges.devices_store import owner_key, token_id
from api.nudges.model import Rendered
from api.services import Services, build_services
from api.store.base import TableItem
from tests.conftest import TABLE
from tests.support import ADMIN, SERVICE, count_requests, enroll, member

APNS = f"arn:aws:sns:us-east-1:{DEFAULT_ACCOUNT_ID}:app/APNS/loyalty-ios"
FCM = f"arn:aws:sns:us-east-1:{DEFAULT_ACCOUNT_ID}:app/GCM/loyalty-android"
ANN, BOB = member("cust-1"), member("cust-2")
TOKEN = "a1b2c3d4" * 8


@pytest.fixture
def config() -> Config:
    return Config(stage=Stage.DEV, table_name=TABLE, sns_apns_arn=APNS, sns_fcm_arn=FCM)


@pytest.fixture
def push(services: Services) -> Services:
    """Both platform applications in SNS, and two members."""
    sns = sns_of(services)
    for name, platform in (("loyalty-ios", "APNS"), ("loyalty-android", "GCM")):
        sns.create_platform_application(
            Name=name, Platform=platform, Attributes={"PlatformCredential": "k"}
        )
    enroll(services, "cust-1")
    enroll(services, "cust-2")
    return services


def sns_of(services: Services) -> Any:
    return cast(AwsChannels, services.channels).sns


def endpoint_attributes(services: Services, arn: str) -> dict[str, str]:
    sns = sns_of(services)
    return dict(sns.get_endpoint_attributes(EndpointArn=arn)["Attributes"])


def endpoints(services: Services) -> set[str]:
    sns = sns_of(services)
    found = set()
    for app in (APNS, FCM):
        listed = sns.list_endpoints_by_platform_application(PlatformApplicationArn=app)
        found |= {e["EndpointArn"] for e in listed["Endpoints"]}
    return found


def scan() -> list[dict[str, Any]]:
    return sorted(
        TableItem._get_connection().scan()["Items"], key=lambda i: (i["pk"]["S"], i["sk"]["S"])
    )


def test_a_member_registers_a_device_as_an_enabled_endpoint_of_theirs(push: Services) -> None:
    device = push.devices.register(ANN, Platform.IOS, TOKEN)

    assert device.id == token_id(TOKEN)
    assert TOKEN not in device.id
    assert device.platform is Platform.IOS
    assert device.endpoint_arn.startswith(APNS.replace(":app/", ":endpoint/"))
    assert device.registered_at == push.program.current_time()
    assert endpoint_attributes(push, device.endpoint_arn) == {
        "Token": TOKEN,
        "Enabled": "true",
        "CustomUserData": ANN.member_id,
    }
    assert push.devices.devices(ANN.member_id or "") == [device]
    assert push.devices.own_devices(ANN) == [device]
    assert push.devices.devices(BOB.member_id or "") == []
    android = push.devices.register(ANN, Platform.ANDROID, "fcm:token-1")
    assert android.endpoint_arn.startswith(FCM.replace(":app/", ":endpoint/"))


def test_registering_the_same_token_again_keeps_its_endpoint_and_moves_its_time(
    push: Services, clock: ManualClock
) -> None:
    first = push.devices.register(ANN, Platform.IOS, TOKEN)
    clock.advance(timedelta(days=3))
    sns = sns_of(push)
    sns.set_endpoint_attributes(EndpointArn=first.endpoint_arn, Attributes={"Enabled": "false"})

    again = push.devices.register(ANN, Platform.IOS, TOKEN)

    assert (again.id, again.endpoint_arn) == (first.id, first.endpoint_arn)
    assert again.registered_at == first.registered_at + timedelta(days=3)
    assert push.devices.devices(ANN.member_id or "") == [again]
    assert endpoint_attributes(push, first.endpoint_arn)["Enabled"] == "true"  # re-enabled
    assert endpoints(push) == {first.endpoint_arn}


def test_a_token_that_moves_to_another_member_leaves_the_first(push: Services) -> None:
    ann = push.devices.register(ANN, Platform.IOS, TOKEN)
    bob = push.devices.register(BOB, Platform.IOS, TOKEN)

    assert bob.endpoint_arn == ann.endpoint_arn
    assert push.devices.devices(ANN.member_id or "") == []
    assert push.devices.devices(BOB.member_id or "") == [bob]
    assert endpoint_attributes(push, bob.endpoint_arn)["CustomUserData"] == BOB.member_id
    # Ann signing out of it now changes nothing of Bob's.
    assert push.devices.unregister(ANN, TOKEN) is False
    assert push.devices.devices(BOB.member_id or "") == [bob]
    assert endpoints(push) == {bob.endpoint_arn}


def test_an_eleventh_device_replaces_the_one_registered_longest_ago(
    push: Services, clock: ManualClock
) -> None:
    registered = []
    for n in range(MAX_DEVICES):
        registered.append(push.devices.register(ANN, Platform.ANDROID, f"token-{n}"))
        clock.advance(timedelta(minutes=1))
    # token-0 registers again: now token-1 is the oldest.
    push.devices.register(ANN, Platform.ANDROID, "token-0")
    clock.advance(timedelta(minutes=1))

    newest = push.devices.register(ANN, Platform.ANDROID, "token-new")

    listed = push.devices.devices(ANN.member_id or "")
    assert len(listed) == MAX_DEVICES
    assert listed[0] == newest
    assert registered[1].id not in {d.id for d in listed}
    assert registered[0].id in {d.id for d in listed}
    assert registered[1].endpoint_arn not in endpoints(push)  # deleted in SNS
    assert len(endpoints(push)) == MAX_DEVICES
    owners = {i["pk"]["S"] for i in scan() if i["sk"]["S"] == "DEVICE"}
    assert owners == {owner_key(d.id)[0] for d in listed}


def test_unregistering_forgets_the_device_and_deletes_its_endpoint(push: Services) -> None:
    device = push.devices.register(ANN, Platform.IOS, TOKEN)
    push.devices.register(ANN, Platform.IOS, "other-token")

    assert push.devices.unregister(ANN, TOKEN) is True

    assert [d.id for d in push.devices.devices(ANN.member_id or "")] == [token_id("other-token")]
    assert device.endpoint_arn not in endpoints(push)
    before = scan()
    with count_requests() as calls:
        assert push.devices.unregister(ANN, TOKEN) is False
    assert scan() == before
    assert "TransactWriteItems" not in calls


def test_a_disabled_endpoint_is_cleaned_up_after_a_failed_push(push: Services) -> None:
    device = push.devices.register(ANN, Platform.IOS, TOKEN)
    sns = sns_of(push)
    sns.set_endpoint_attributes(EndpointArn=device.endpoint_arn, Attributes={"Enabled": "false"})

    with pytest.raises(EndpointDisabled):
        push.channels.send_push(device.endpoint_arn, Rendered(Channel.PUSH, "Hi"))
    assert push.devices.remove(ANN.member_id or "", device.endpoint_arn) is True

    assert push.devices.devices(ANN.member_id or "") == []
    assert endpoints(push) == set()
    # What is left: the member's list, empty; the token's owner item is gone.
    assert [i["sk"]["S"] for i in scan() if i["pk"]["S"].startswith("DEVICE")] == ["DEVICES"]
    assert push.devices.remove(ANN.member_id or "", device.endpoint_arn) is False


def test_push_must_be_configured_for_the_platform(aws: None, clock: ManualClock) -> None:
    services = build_services(Config(stage=Stage.DEV, table_name=TABLE, sns_apns_arn=APNS), clock)
    enroll(services, "cust-1")
    with pytest.raises(PushNotConfigured) as caught:
        services.devices.register(ANN, Platform.ANDROID, TOKEN)
    assert caught.value.code == "PUSH_NOT_CONFIGURED"


@pytest.mark.parametrize(
    "token", ["", "x" * 4097, "abc def", "tok\x00en", "tök", "abc\n", "\u200btoken"]
)
def test_malformed_tokens_are_invalid_input(push: Services, token: str) -> None:
    before = scan()
    with pytest.raises(InvalidInput) as caught:
        push.devices.register(ANN, Platform.IOS, token)
    assert caught.value.field == "token"
    with pytest.raises(InvalidInput):
        push.devices.unregister(ANN, token)
    assert scan() == before
    assert endpoints(push) == set()


def test_a_token_of_4096_characters_is_accepted(push: Services) -> None:
    assert push.devices.register(ANN, Platform.ANDROID, "t" * 4096).id == token_id("t" * 4096)


def test_a_token_the_platform_refuses_is_invalid_input(push: Services) -> None:
    sns = sns_of(push)
    with Stubber(sns) as stub:
        stub.add_client_error(
            "create_platform_endpoint", "InvalidParameter", "Invalid parameter: Token"
        )
        with pytest.raises(InvalidInput) as caught:
            push.devices.register(ANN, Platform.IOS, TOKEN)
    assert caught.value.field == "token"
    assert push.devices.devices(ANN.member_id or "") == []


@pytest.mark.parametrize("actor", [SERVICE, ADMIN, Principal(None)])
def test_only_members_register_devices(push: Services, actor: Principal) -> None:
    with pytest.raises(AuthError):
        push.devices.register(actor, Platform.IOS, TOKEN)
    with pytest.raises(AuthError):
        push.devices.unregister(actor, TOKEN)
    assert endpoints(push) == set()


def test_a_member_not_enrolled_gets_no_endpoint(push: Services) -> None:
    stranger = Principal(Role.MEMBER, "mbr_" + "0" * 26, "mbr_" + "0" * 26)
    with pytest.raises(MemberNotFound):
        push.devices.register(stranger, Platform.IOS, TOKEN)
    assert endpoints(push) == set()


def test_a_member_principal_without_a_member_id_is_forbidden(push: Services) -> None:
    with pytest.raises(Forbidden):
        push.devices.register(Principal(Role.MEMBER, "x"), Platform.IOS, TOKEN)
