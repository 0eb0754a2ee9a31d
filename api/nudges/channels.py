"""The sending channels: email through Amazon SES (v2 API), SMS and mobile push through
Amazon SNS, and the push endpoints members' devices are registered as.

Invariants:
- Every failure of a send is one of two types. `PermanentFailure` (with `EndpointDisabled`,
  its kind for a push endpoint that is disabled or gone): retrying cannot fix it, so the
  sender records it and moves on. `TransientFailure`: throttling, quotas, 5xx, timeouts,
  connection errors and any code not known to be permanent; the sender retries later
  (backoff). `reason` is the provider's error code only: its messages may quote addresses.
- Email tags carry what a bounce or complaint must find again (the member, the nudge). SES
  allows only [A-Za-z0-9_.@-] in a tag, 1 to 256 characters: a value outside that (or one
  that starts with the prefix below) is sent as "b64." + its UTF-8 in unpadded base64url,
  which `decode_tag` reverses; one whose encoding would exceed 256 characters is sent as
  "sha." + its SHA-256 (hex), which identifies but cannot be reversed. Member ids
  (mbr_ + hex) always pass as they are.
- Clients are built at the first send (~50 ms each, most invocations send nothing) and kept
  for the container. botocore retries throttling, 5xx and connection errors itself (standard
  mode, 3 attempts) within short timeouts; SES and SNS have no idempotency token, so a
  response lost to a timeout may mean a message sent twice (rare, and bounded by those
  attempts).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from enum import StrEnum
from functools import cached_property
from typing import Any, Protocol

import botocore.session
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from api.config import Config
from api.nudges.model import Rendered

# Tag names the sender sets and the bounce handler reads back.
MEMBER_TAG = "member"
KIND_TAG = "kind"
SUBJECT_TAG = "subject"

_TAG = re.compile(r"[A-Za-z0-9_.@-]{1,256}")
_ENCODED = "b64."
_HASHED = "sha."
MAX_TAG = 256

# SES v2 SendEmail: what a retry cannot fix (the address or content refused, the account or
# configuration set paused or suspended, a sender or configuration set that does not
# exist). InvalidParameterValue is SES v1's (and moto's) code for a malformed address.
EMAIL_PERMANENT = frozenset(
    {
        "MessageRejected",
        "BadRequestException",
        "MailFromDomainNotVerifiedException",
        "AccountSuspendedException",
        "SendingPausedException",
        "NotFoundException",
        "InvalidParameterValue",
    }
)
# SNS Publish: a malformed phone number, message or payload, a disabled platform application.
SNS_PERMANENT = frozenset(
    {
        "InvalidParameter",
        "ParameterValueInvalid",
        "InvalidParameterValue",
        "ValidationException",
        "PlatformApplicationDisabled",
    }
)
# Push only: the endpoint is disabled (the platform said the token is no longer valid) or
# was deleted. Its device should be removed.
ENDPOINT_GONE = frozenset({"EndpointDisabled", "NotFound"})


class Platform(StrEnum):
    IOS = "IOS"  # APNs
    ANDROID = "ANDROID"  # FCM (SNS calls it GCM)


class PermanentFailure(Exception):
    """The provider refused the message for good: do not retry it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EndpointDisabled(PermanentFailure):
    """The push endpoint is disabled or gone: remove the device (DeviceService.remove)."""


class TransientFailure(Exception):
    """Throttled, over a quota, unavailable or unreachable: retry later, with backoff."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Channels(Protocol):
    """What the sender and the device service need of SES and SNS (stubbed in the bench)."""

    def send_email(
        self, to: str, rendered: Rendered, headers: dict[str, str], tags: dict[str, str]
    ) -> str:
        """Send an email; its SES message id."""
        ...

    def send_sms(self, phone: str, rendered: Rendered) -> str:
        """Send a promotional text message to an E.164 number; its SNS message id."""
        ...

    def send_push(self, endpoint_arn: str, rendered: Rendered) -> str:
        """Send a notification (title and text) to a device's endpoint; its SNS message id."""
        ...

    def create_push_endpoint(self, application_arn: str, token: str, member_id: str) -> str:
        """The enabled endpoint of a device token for a member (the existing one, if any)."""
        ...

    def delete_push_endpoint(self, endpoint_arn: str) -> None:
        """Delete an endpoint (deleting one already gone succeeds)."""
        ...


def encode_tag(value: str) -> str:
    """A tag value SES accepts, for any string (see the module's docstring)."""
    if _TAG.fullmatch(value) and not value.startswith((_ENCODED, _HASHED)):
        return value
    encoded = _ENCODED + base64.urlsafe_b64encode(value.encode()).rstrip(b"=").decode()
    if len(encoded) <= MAX_TAG:
        return encoded
    return _HASHED + hashlib.sha256(value.encode()).hexdigest()


def decode_tag(value: str) -> str | None:
    """The value encode_tag was given; None when it cannot be told (hashed, or garbled)."""
    if value.startswith(_HASHED):
        return None
    if not value.startswith(_ENCODED):
        return value
    text = value.removeprefix(_ENCODED)
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code") or "Unknown")


def classify(
    error: Exception, permanent: frozenset[str], gone: frozenset[str] = frozenset()
) -> Exception:
    """The failure to raise for a provider's error (see the module's docstring)."""
    if isinstance(error, ClientError):
        code = _code(error)
        if code in gone:
            return EndpointDisabled(code)
        if code in permanent:
            return PermanentFailure(code)
        return TransientFailure(code)
    if isinstance(error, ParamValidationError):
        return PermanentFailure("ParamValidation")  # a message botocore refuses to send
    return TransientFailure(type(error).__name__)


def push_message(rendered: Rendered, default_title: str) -> str:
    """SNS's per-platform JSON message: an alert with a title and a body for APNs (and its
    sandbox) and FCM; `default` for any other platform."""
    title = rendered.subject or default_title
    apns = json.dumps({"aps": {"alert": {"title": title, "body": rendered.text}}})
    fcm = json.dumps({"notification": {"title": title, "body": rendered.text}})
    return json.dumps(
        {"default": rendered.text, "APNS": apns, "APNS_SANDBOX": apns, "GCM": fcm},
        ensure_ascii=False,
    )


_EXISTING = re.compile(r"Endpoint (arn:aws[\w-]*:sns:\S+) already exists")


class AwsChannels:
    """Channels through SES v2 and SNS, at config.messaging_endpoint (moto's server
    locally; None: AWS itself)."""

    def __init__(self, config: Config) -> None:
        self._config = config

    @cached_property
    def _session(self) -> Any:
        return botocore.session.get_session()

    def _client(self, service: str) -> Any:
        bounded = BotoConfig(
            connect_timeout=2, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"}
        )
        return self._session.create_client(
            service,
            region_name=self._config.region,
            endpoint_url=self._config.messaging_endpoint,
            config=bounded,
        )

    @cached_property
    def ses(self) -> Any:
        return self._client("sesv2")

    @cached_property
    def sns(self) -> Any:
        return self._client("sns")

    def send_email(
        self, to: str, rendered: Rendered, headers: dict[str, str], tags: dict[str, str]
    ) -> str:
        """SES v2 SendEmail from config.email_from through config.ses_configuration_set (its
        event destination publishes bounces and complaints): subject, HTML and text bodies
        (UTF-8), `headers` (List-Unsubscribe and List-Unsubscribe-Post) and `tags` (names of
        [A-Za-z0-9_-], values encoded with encode_tag)."""
        if rendered.subject is None:
            raise ValueError("an email needs a subject")
        body: dict[str, Any] = {"Text": {"Data": rendered.text, "Charset": "UTF-8"}}
        if rendered.html is not None:
            body["Html"] = {"Data": rendered.html, "Charset": "UTF-8"}
        request: dict[str, Any] = {
            "FromEmailAddress": self._config.email_from,
            "Destination": {"ToAddresses": [to]},
            "Content": {
                "Simple": {
                    "Subject": {"Data": rendered.subject, "Charset": "UTF-8"},
                    "Body": body,
                    "Headers": [{"Name": k, "Value": v} for k, v in headers.items()],
                }
            },
            "EmailTags": [{"Name": k, "Value": encode_tag(v)} for k, v in tags.items()],
        }
        if self._config.ses_configuration_set:
            request["ConfigurationSetName"] = self._config.ses_configuration_set
        try:
            response = self.ses.send_email(**request)
        except (ClientError, BotoCoreError) as exc:
            raise classify(exc, EMAIL_PERMANENT) from exc
        return str(response["MessageId"])

    def send_sms(self, phone: str, rendered: Rendered) -> str:
        """SNS Publish to a phone number, as a promotional message (SNS may route it more
        cheaply; it honours the number's opt-out), from config.sms_sender_id if set."""
        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Promotional"}}
        if self._config.sms_sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {
                "DataType": "String",
                "StringValue": self._config.sms_sender_id,
            }
        try:
            response = self.sns.publish(
                PhoneNumber=phone, Message=rendered.text, MessageAttributes=attributes
            )
        except (ClientError, BotoCoreError) as exc:
            raise classify(exc, SNS_PERMANENT) from exc
        return str(response["MessageId"])

    def send_push(self, endpoint_arn: str, rendered: Rendered) -> str:
        """SNS Publish to a platform endpoint: the title (the shop's name when the template
        has none) and the text, per platform. EndpointDisabled when the endpoint is
        disabled or gone."""
        try:
            response = self.sns.publish(
                TargetArn=endpoint_arn,
                Message=push_message(rendered, self._config.shop_name),
                MessageStructure="json",
            )
        except (ClientError, BotoCoreError) as exc:
            raise classify(exc, SNS_PERMANENT, ENDPOINT_GONE) from exc
        return str(response["MessageId"])

    def create_push_endpoint(self, application_arn: str, token: str, member_id: str) -> str:
        """CreatePlatformEndpoint, idempotent for a token: SNS answers the same endpoint for
        the same token and attributes, and refuses (InvalidParameter, naming it) when they
        differ (another member's, or disabled). Then the endpoint is made the member's and
        enabled, as AWS recommends for registering a token again."""
        try:
            try:
                response = self.sns.create_platform_endpoint(
                    PlatformApplicationArn=application_arn,
                    Token=token,
                    CustomUserData=member_id,
                )
                arn = str(response["EndpointArn"])
            except ClientError as exc:
                found = _EXISTING.search(str(exc.response.get("Error", {}).get("Message", "")))
                if _code(exc) != "InvalidParameter" or found is None:
                    raise
                arn = found.group(1)
            attributes = self.sns.get_endpoint_attributes(EndpointArn=arn)["Attributes"]
            wanted = {"Token": token, "Enabled": "true", "CustomUserData": member_id}
            if any(attributes.get(k) != v for k, v in wanted.items()):
                self.sns.set_endpoint_attributes(EndpointArn=arn, Attributes=wanted)
        except (ClientError, BotoCoreError) as exc:
            raise classify(exc, SNS_PERMANENT) from exc
        return arn

    def delete_push_endpoint(self, endpoint_arn: str) -> None:
        try:
            self.sns.delete_endpoint(EndpointArn=endpoint_arn)
        except (ClientError, BotoCoreError) as exc:
            raise classify(exc, SNS_PERMANENT) from exc
