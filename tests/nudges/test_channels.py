"""The sending channels against moto: exactly what reaches SES v2 and SNS (captured from
botocore, since moto drops SES's headers, configuration set, tags and text part), and each
provider error classified as permanent, endpoint gone, or transient."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError, ParamValidationError
from botocore.stub import Stubber
from hypothesis import given
from hypothesis import strategies as st
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from api.config import Config, Stage
from api.ids import member_id_for
from api.members.model import Channel
from api.nudges.channels import (
    AwsChannels,
    EndpointDisabled,
    PermanentFailure,
    TransientFailure,
    classify,
    decode_tag,
    encode_tag,
    push_message,
)
from api.nudges.model import Rendered

SES_TAG = r"[A-Za-z0-9_.@-]{1,256}"
MEMBER_ID = member_id_for("cust-1")
EMAIL = Rendered(Channel.EMAIL, "Your 120 points expire soon.", "Points expiring", "<p>120</p>")
HEADERS = {
    "List-Unsubscribe": "<https://api.example.com/unsubscribe?token=v1.abc.def>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}
TAGS = {"member": MEMBER_ID, "kind": "POINTS_EXPIRING", "subject": "2026-03-31 lot/7 é"}


@pytest.fixture
def channels(aws: None) -> AwsChannels:
    config = Config(
        stage=Stage.DEV,
        email_from="Demo Shop <no-reply@shop.example>",
        ses_configuration_set="loyalty-nudges",
        sms_sender_id="DemoShop",
        shop_name="Demo Shop",
    )
    channels = AwsChannels(config)
    channels.ses.create_email_identity(EmailIdentity="shop.example")  # SES: a verified sender
    return channels


@contextmanager
def capture(client: Any, event: str) -> Iterator[list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        seen.append(json.loads(json.dumps(params)))

    client.meta.events.register(event, record)
    try:
        yield seen
    finally:
        client.meta.events.unregister(event, record)


@pytest.fixture
def sent_email(channels: AwsChannels) -> Iterator[list[dict[str, Any]]]:
    with capture(channels.ses, "before-parameter-build.sesv2.SendEmail") as seen:
        yield seen


@pytest.fixture
def published(channels: AwsChannels) -> Iterator[list[dict[str, Any]]]:
    with capture(channels.sns, "before-parameter-build.sns.Publish") as seen:
        yield seen


def test_an_email_goes_with_both_bodies_its_headers_configuration_set_and_tags(
    channels: AwsChannels, sent_email: list[dict[str, Any]]
) -> None:
    message_id = channels.send_email("ann@example.org", EMAIL, HEADERS, TAGS)

    assert sent_email == [
        {
            "FromEmailAddress": "Demo Shop <no-reply@shop.example>",
            "Destination": {"ToAddresses": ["ann@example.org"]},
            "Content": {
                "Simple": {
                    "Subject": {"Data": "Points expiring", "Charset": "UTF-8"},
                    "Body": {
                        "Text": {"Data": "Your 120 points expire soon.", "Charset": "UTF-8"},
                        "Html": {"Data": "<p>120</p>", "Charset": "UTF-8"},
                    },
                    "Headers": [
                        {
                            "Name": "List-Unsubscribe",
                            "Value": "<https://api.example.com/unsubscribe?token=v1.abc.def>",
                        },
                        {"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"},
                    ],
                }
            },
            "EmailTags": [
                {"Name": "member", "Value": MEMBER_ID},
                {"Name": "kind", "Value": "POINTS_EXPIRING"},
                {"Name": "subject", "Value": encode_tag("2026-03-31 lot/7 é")},
            ],
            "ConfigurationSetName": "loyalty-nudges",
        }
    ]
    # What moto kept: the message SES accepted, under the id returned.
    stored = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    assert [(m.id, m.destinations["ToAddresses"], m.subject) for m in stored] == [
        (message_id, ["ann@example.org"], "Points expiring")
    ]


def test_an_email_without_html_has_the_text_alone_and_no_set_when_none_is_configured(
    aws: None,
) -> None:
    channels = AwsChannels(Config(email_from="no-reply@shop.example"))
    channels.ses.create_email_identity(EmailIdentity="shop.example")
    with capture(channels.ses, "before-parameter-build.sesv2.SendEmail") as seen:
        channels.send_email("ann@example.org", Rendered(Channel.EMAIL, "Hi", "S"), {}, {})
        assert seen[0]["Content"]["Simple"]["Body"] == {"Text": {"Data": "Hi", "Charset": "UTF-8"}}
        assert "ConfigurationSetName" not in seen[0]


def test_an_email_needs_a_subject(channels: AwsChannels) -> None:
    with pytest.raises(ValueError, match="subject"):
        channels.send_email("ann@example.org", Rendered(Channel.EMAIL, "Hi"), {}, {})


def test_an_unverified_sender_or_a_malformed_address_is_permanent(aws: None) -> None:
    channels = AwsChannels(Config(email_from="no-reply@unverified.example"))
    with pytest.raises(PermanentFailure) as rejected:
        channels.send_email("ann@example.org", EMAIL, HEADERS, TAGS)
    assert rejected.value.reason == "MessageRejected"
    channels.ses.create_email_identity(EmailIdentity="unverified.example")
    with pytest.raises(PermanentFailure) as malformed:
        channels.send_email("not-an-address", EMAIL, HEADERS, TAGS)
    assert malformed.value.reason == "InvalidParameterValue"
    assert "@" not in malformed.value.reason  # reasons never quote an address


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        (MEMBER_ID, MEMBER_ID),
        ("POINTS_EXPIRING", "POINTS_EXPIRING"),
        ("a.b@c-d_e", "a.b@c-d_e"),
        ("order 1", "b64.b3JkZXIgMQ"),
        ("b64.looks-encoded", "b64.YjY0Lmxvb2tzLWVuY29kZWQ"),
        ("", "b64."),
    ],
)
def test_tag_values_outside_ses_charset_are_encoded_reversibly(value: str, sent: str) -> None:
    assert encode_tag(value) == sent
    assert decode_tag(sent) == value


@given(st.text(max_size=400))
def test_any_tag_value_becomes_one_ses_accepts(value: str) -> None:
    sent = encode_tag(value)
    assert re.fullmatch(SES_TAG, sent)
    decoded = decode_tag(sent)
    assert decoded == value or (decoded is None and sent.startswith("sha."))


def test_a_text_message_is_promotional_from_the_sender_id(
    channels: AwsChannels, published: list[dict[str, Any]]
) -> None:
    message_id = channels.send_sms("+15555550100", Rendered(Channel.SMS, "120 points expire"))

    assert published == [
        {
            "PhoneNumber": "+15555550100",
            "Message": "120 points expire",
            "MessageAttributes": {
                "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Promotional"},
                "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": "DemoShop"},
            },
        }
    ]
    sms = sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sms_messages
    assert sms[message_id] == ("+15555550100", "120 points expire")


def test_a_malformed_phone_number_is_permanent(channels: AwsChannels) -> None:
    with pytest.raises(PermanentFailure) as refused:
        channels.send_sms("555-0100", Rendered(Channel.SMS, "Hi"))
    assert refused.value.reason == "InvalidParameter"
    assert not isinstance(refused.value, EndpointDisabled)


def _endpoint(channels: AwsChannels, token: str = "a1b2c3") -> str:
    app = channels.sns.create_platform_application(
        Name="ios",
        Platform="APNS",
        Attributes={"PlatformCredential": "k", "PlatformPrincipal": "c"},
    )["PlatformApplicationArn"]
    return channels.create_push_endpoint(app, token, MEMBER_ID)


def test_a_push_carries_a_title_and_body_for_each_platform(
    channels: AwsChannels, published: list[dict[str, Any]]
) -> None:
    endpoint = _endpoint(channels)
    message_id = channels.send_push(endpoint, Rendered(Channel.PUSH, "120 points expire", "Hurry"))

    assert [(p["TargetArn"], p["MessageStructure"]) for p in published] == [(endpoint, "json")]
    message = json.loads(published[0]["Message"])
    assert message["default"] == "120 points expire"
    alert = {"title": "Hurry", "body": "120 points expire"}
    assert json.loads(message["APNS"]) == {"aps": {"alert": alert}}
    assert json.loads(message["APNS_SANDBOX"]) == {"aps": {"alert": alert}}
    assert json.loads(message["GCM"]) == {"notification": alert}
    stored = sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].platform_endpoints[endpoint].messages
    assert json.loads(stored[message_id]) == message


def test_a_push_without_a_title_takes_the_shops_name() -> None:
    message = json.loads(push_message(Rendered(Channel.PUSH, "Hi"), "Demo Shop"))
    assert json.loads(message["GCM"]) == {"notification": {"title": "Demo Shop", "body": "Hi"}}


def test_a_disabled_or_deleted_endpoint_is_endpoint_disabled(channels: AwsChannels) -> None:
    endpoint = _endpoint(channels)
    channels.sns.set_endpoint_attributes(EndpointArn=endpoint, Attributes={"Enabled": "false"})
    with pytest.raises(EndpointDisabled) as disabled:
        channels.send_push(endpoint, Rendered(Channel.PUSH, "Hi"))
    assert disabled.value.reason == "EndpointDisabled"
    channels.delete_push_endpoint(endpoint)
    channels.delete_push_endpoint(endpoint)  # already gone: fine
    with pytest.raises(EndpointDisabled) as gone:
        channels.send_push(endpoint, Rendered(Channel.PUSH, "Hi"))
    assert gone.value.reason == "NotFound"


def test_registering_a_token_again_reuses_and_reenables_its_endpoint(
    channels: AwsChannels,
) -> None:
    endpoint = _endpoint(channels, "tok-1")
    app = endpoint.replace(":endpoint/", ":app/").rsplit("/", 1)[0]
    channels.sns.set_endpoint_attributes(EndpointArn=endpoint, Attributes={"Enabled": "false"})
    other = member_id_for("cust-2")
    # Different attributes (another member): SNS refuses, naming the endpoint; it is reused.
    assert channels.create_push_endpoint(app, "tok-1", other) == endpoint
    attributes = channels.sns.get_endpoint_attributes(EndpointArn=endpoint)["Attributes"]
    assert attributes == {"Token": "tok-1", "Enabled": "true", "CustomUserData": other}


SES_CODES = [
    ("MessageRejected", 400, PermanentFailure),
    ("BadRequestException", 400, PermanentFailure),
    ("MailFromDomainNotVerifiedException", 400, PermanentFailure),
    ("AccountSuspendedException", 400, PermanentFailure),
    ("SendingPausedException", 400, PermanentFailure),
    ("NotFoundException", 404, PermanentFailure),
    ("TooManyRequestsException", 429, TransientFailure),
    ("LimitExceededException", 400, TransientFailure),
    ("InternalFailure", 500, TransientFailure),
    ("ServiceUnavailable", 503, TransientFailure),
    ("AccessDeniedException", 403, TransientFailure),  # a deployment's bug: fixed, it works
]


@pytest.mark.parametrize(("code", "status", "kind"), SES_CODES)
def test_ses_errors_are_classified(
    channels: AwsChannels, code: str, status: int, kind: type[Exception]
) -> None:
    with Stubber(channels.ses) as stub:
        stub.add_client_error("send_email", code, http_status_code=status)
        with pytest.raises(kind) as caught:
            channels.send_email("ann@example.org", EMAIL, HEADERS, TAGS)
    assert type(caught.value) is kind
    assert getattr(caught.value, "reason", None) == code


SNS_CODES = [
    ("InvalidParameter", 400, PermanentFailure),
    ("ParameterValueInvalid", 400, PermanentFailure),
    ("PlatformApplicationDisabled", 400, PermanentFailure),
    ("EndpointDisabled", 400, EndpointDisabled),
    ("NotFound", 404, EndpointDisabled),
    ("Throttling", 400, TransientFailure),
    ("KMSThrottling", 400, TransientFailure),
    ("InternalError", 500, TransientFailure),
    ("AuthorizationError", 403, TransientFailure),
]


@pytest.mark.parametrize(("code", "status", "kind"), SNS_CODES)
def test_push_errors_are_classified(
    channels: AwsChannels, code: str, status: int, kind: type[Exception]
) -> None:
    with Stubber(channels.sns) as stub:
        stub.add_client_error("publish", code, http_status_code=status)
        with pytest.raises(kind) as caught:
            channels.send_push("arn:aws:sns:us-east-1:1:endpoint/APNS/a/b", EMAIL)
    assert type(caught.value) is kind
    assert getattr(caught.value, "reason", None) == code


def test_an_sms_to_a_gone_endpoint_code_is_plain_transient(channels: AwsChannels) -> None:
    # NotFound only means "endpoint gone" for push; for a text message it is not permanent.
    with Stubber(channels.sns) as stub:
        stub.add_client_error("publish", "NotFound", http_status_code=404)
        with pytest.raises(TransientFailure):
            channels.send_sms("+15555550100", Rendered(Channel.SMS, "Hi"))


def test_network_errors_are_transient_and_invalid_requests_permanent() -> None:
    unreachable = classify(EndpointConnectionError(endpoint_url="https://x"), frozenset())
    assert isinstance(unreachable, TransientFailure)
    assert unreachable.reason == "EndpointConnectionError"
    invalid = classify(ParamValidationError(report="Message too long"), frozenset())
    assert isinstance(invalid, PermanentFailure)
    assert invalid.reason == "ParamValidation"


def test_an_unreachable_ses_is_transient(channels: AwsChannels) -> None:
    def unreachable(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://email.us-east-1.amazonaws.com")

    channels.ses.meta.events.register_first("before-send.sesv2.SendEmail", unreachable)
    with pytest.raises(TransientFailure) as caught:
        channels.send_email("ann@example.org", EMAIL, HEADERS, TAGS)
    assert isinstance(caught.value.__cause__, EndpointConnectionError)
