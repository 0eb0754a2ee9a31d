"""Nudges in `make run`: the embedded moto server is also SQS, SES (v2) and SNS. At start the
nudge queue (with its dead-letter queue), the sender's SES identity and the SNS platform
applications for push are created there; a poller feeds the queue to the same batch path as
the sender Lambda (api/nudges/delivery.py); and /local/mail shows what was sent, read from
moto's backends in this process. Nothing here is in the Lambda artifact.
"""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from typing import Any

import boto3
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send

from api.clock import Clock
from api.config import Config
from api.observability import logger

QUEUE = "loyalty-local-nudges"
DEAD_LETTERS = "loyalty-local-nudges-dlq"
MAX_RECEIVES = 5  # then the dead-letter queue, as in AWS (serverless.yml)
VISIBILITY_SECONDS = 180  # 6x the sender's timeout, as AWS advises
WAIT_SECONDS = 1  # long poll: a stop is noticed within a second
MAIL_PATH = "/local/mail"
# Fake credentials: moto accepts any, and no push ever leaves this machine.
PLATFORMS = {"SNS_APNS_ARN": "APNS", "SNS_FCM_ARN": "GCM"}


def _client(service: str, endpoint: str, region: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name=region)


def prepare_messaging(config: Config, endpoint: str) -> dict[str, str]:
    """Create the queue, the SES identity and the push applications on the embedded server;
    the environment that points the app's Config at them."""
    sqs = _client("sqs", endpoint, config.region)
    dead = sqs.create_queue(QueueName=DEAD_LETTERS)["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])
    redrive = {
        "deadLetterTargetArn": dead_arn["Attributes"]["QueueArn"],
        "maxReceiveCount": str(MAX_RECEIVES),
    }
    url = sqs.create_queue(
        QueueName=QUEUE,
        Attributes={
            "VisibilityTimeout": str(VISIBILITY_SECONDS),
            "RedrivePolicy": json.dumps(redrive),
        },
    )["QueueUrl"]
    # A domain identity verifies every address of the domain (no DNS step in moto).
    domain = parseaddr(config.email_from)[1].rpartition("@")[2]
    _client("sesv2", endpoint, config.region).create_email_identity(EmailIdentity=domain)
    sns = _client("sns", endpoint, config.region)
    env = {"NUDGE_QUEUE_URL": url, "MESSAGING_ENDPOINT": endpoint}
    for name, platform in PLATFORMS.items():
        env[name] = sns.create_platform_application(
            Name=f"loyalty-local-{platform.lower()}",
            Platform=platform,
            Attributes={"PlatformCredential": "local", "PlatformPrincipal": "local"},
        )["PlatformApplicationArn"]
    return env


# --- The sender, as Lambda's SQS event source runs it ------------------------------------------


def lambda_record(message: Mapping[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """A received message as Lambda's SQS event carries it (camelCase, string attributes)."""
    attributes = {
        f"{name[0].lower()}{name[1:]}": value
        for name, value in message.get("MessageAttributes", {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: {f"{k[0].lower()}{k[1:]}": v for k, v in value.items()}
            for name, value in attributes.items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


class QueuePoller:
    """Receives up to 10 messages at a time, hands them to `process` as one Lambda event,
    deletes those that succeeded and leaves the failed ones to come back after their
    visibility timeout (the sender's backoff sets it), as Lambda's event source does."""

    def __init__(
        self,
        config: Config,
        process: Callable[[dict[str, Any]], Mapping[str, Any]],
        wait_seconds: int = WAIT_SECONDS,
    ) -> None:
        assert config.nudge_queue_url is not None
        self._url = config.nudge_queue_url
        self._region = config.region
        # messaging_endpoint None: AWS itself.
        self._sqs = boto3.client(
            "sqs", endpoint_url=config.messaging_endpoint, region_name=config.region
        )
        self._process = process
        self._wait = wait_seconds
        self._arn: str | None = None

    @property
    def arn(self) -> str:
        if self._arn is None:
            found = self._sqs.get_queue_attributes(QueueUrl=self._url, AttributeNames=["QueueArn"])
            self._arn = str(found["Attributes"]["QueueArn"])
        return self._arn

    def poll_once(self) -> int:
        """One receive and its batch; how many messages were handled successfully."""
        received = self._sqs.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=self._wait,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            return 0
        event = {"Records": [lambda_record(m, self.arn, self._region) for m in received]}
        response = self._process(event)
        failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        done = [m for m in received if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self._url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)
                ],
            )
        return len(done)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception:  # the server is stopping, or moto is busy: try again
                logger.exception("Polling the local nudge queue failed")
                stop.wait(1)


# --- /local/mail: what the embedded SES and SNS were given --------------------------------------


@dataclass(frozen=True)
class Email:
    id: str
    to: tuple[str, ...]
    source: str
    subject: str
    body: str
    sent_at: datetime | None

    @property
    def is_html(self) -> bool:
        return self.body.lstrip()[:1] == "<"


@dataclass(frozen=True)
class Text:
    channel: str  # SMS or PUSH
    to: str  # a phone number, or a push endpoint's member (its CustomUserData)
    text: str


class _Stamped(list[Any]):
    """moto's list of sent emails, noting when each was appended (moto keeps no time)."""

    def __init__(self, items: list[Any], clock: Clock) -> None:
        super().__init__(items)
        self.times: dict[str, datetime] = {}
        self._clock = clock  # the wall clock: moto calls this holding the server's lock

    def append(self, item: Any) -> None:
        self.times[str(getattr(item, "id", ""))] = self._clock.now()
        super().append(item)


class Outbox:
    """Emails, SMS and push messages sent through the embedded server (this process)."""

    def __init__(self, region: str, clock: Clock) -> None:
        from moto.core.models import DEFAULT_ACCOUNT_ID  # noqa: PLC0415 - moto only in make run
        from moto.ses.models import ses_backends  # noqa: PLC0415
        from moto.sns.models import sns_backends  # noqa: PLC0415

        self._ses: Any = ses_backends[DEFAULT_ACCOUNT_ID][region]  # SES v2 sends into it too
        self._sns: Any = sns_backends[DEFAULT_ACCOUNT_ID][region]
        if not isinstance(self._ses.sent_messages, _Stamped):
            self._ses.sent_messages = _Stamped(self._ses.sent_messages, clock)

    def emails(self) -> list[Email]:
        """Newest first. moto keeps the HTML body alone when there is one (the text part,
        headers such as List-Unsubscribe, tags and the configuration set are dropped)."""
        sent: _Stamped = self._ses.sent_messages
        found = []
        for message in reversed(list(sent)):
            if not hasattr(message, "subject"):  # raw or templated: not what nudges send
                continue
            destinations = message.destinations or {}
            to = tuple(
                a for field in ("ToAddresses", "CcAddresses") for a in destinations.get(field, [])
            )
            found.append(
                Email(
                    id=str(message.id),
                    to=to,
                    source=str(message.source),
                    subject=str(message.subject),
                    body=str(message.body),
                    sent_at=sent.times.get(str(message.id)),
                )
            )
        return found

    def email(self, message_id: str) -> Email | None:
        return next((e for e in self.emails() if e.id == message_id), None)

    def texts(self) -> list[Text]:
        """SMS and push messages, newest first (moto keeps no time for them)."""
        found = [Text("SMS", phone, text) for phone, text in self._sns.sms_messages.values()]
        for endpoint in list(self._sns.platform_endpoints.values()):
            owner = endpoint.custom_user_data or endpoint.token
            for message in endpoint.messages.values():
                found.append(Text("PUSH", owner, _push_text(message)))
        return found[::-1]


def _push_text(message: str) -> str:
    """The FCM notification's title and body, from SNS's per-platform JSON."""
    try:
        fcm = json.loads(json.loads(message)["GCM"])["notification"]
        return f"{fcm['title']}: {fcm['body']}"
    except (ValueError, KeyError, TypeError):
        return message


def _when(at: datetime | None) -> str:
    return "" if at is None else at.strftime("%Y-%m-%d %H:%M:%S UTC")


NONE_YET = '<tr><td colspan="3">None yet.</td></tr>'


def mail_page(outbox: Outbox) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(_when(e.sent_at))}</td><td>{html.escape(', '.join(e.to))}</td>"
        f'<td><a href="{MAIL_PATH}/{html.escape(e.id)}">{html.escape(e.subject)}</a></td></tr>'
        for e in outbox.emails()
    )
    texts = "".join(
        f"<tr><td>{t.channel}</td><td>{html.escape(t.to)}</td><td>{html.escape(t.text)}</td></tr>"
        for t in outbox.texts()
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sent messages (make run)</title>
<style>body {{ font: 15px system-ui, sans-serif; margin: 2em }} td, th {{ padding: .3em .8em;
text-align: left; border-bottom: 1px solid #ddd }}</style></head>
<body><h1>Sent messages</h1>
<p>What the embedded SES and SNS of <code>make run</code> were given, newest first (in memory).
moto keeps an email's HTML body alone: its text part and headers (List-Unsubscribe) are not
kept. <a href="{MAIL_PATH}.json">JSON</a></p>
<h2>Emails</h2>
<table><tr><th>Sent</th><th>To</th><th>Subject</th></tr>{rows or NONE_YET}</table>
<h2>SMS and push</h2>
<table><tr><th>Channel</th><th>To</th><th>Text</th></tr>{texts or NONE_YET}</table>
</body></html>
"""


def mail_json(outbox: Outbox) -> dict[str, Any]:
    return {
        "emails": [
            {
                "id": e.id,
                "to": list(e.to),
                "from": e.source,
                "subject": e.subject,
                "sentAt": None if e.sent_at is None else e.sent_at.isoformat(),
                "url": f"{MAIL_PATH}/{e.id}",
            }
            for e in outbox.emails()
        ],
        "texts": [{"channel": t.channel, "to": t.to, "text": t.text} for t in outbox.texts()],
    }


def mail_routes(outbox: Outbox) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """GET /local/mail (a page), /local/mail.json, /local/mail/<id> (the email's HTML)."""

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"].rstrip("/")
        response: Response
        if scope["method"] not in ("GET", "HEAD"):
            response = Response("Only GET.", 405, media_type="text/plain")
        elif path == MAIL_PATH:
            response = HTMLResponse(mail_page(outbox))
        elif path == f"{MAIL_PATH}.json":
            response = JSONResponse(mail_json(outbox))
        elif (found := outbox.email(path.removeprefix(f"{MAIL_PATH}/"))) is None:
            response = Response("No such email.", 404, media_type="text/plain")
        elif found.is_html:
            response = HTMLResponse(found.body)
        else:
            body = f"<!doctype html><meta charset='utf-8'><pre>{html.escape(found.body)}</pre>"
            response = HTMLResponse(body)
        await response(scope, receive, send)

    return serve


def is_mail_path(path: str) -> bool:
    return path == MAIL_PATH or path.startswith((f"{MAIL_PATH}/", f"{MAIL_PATH}."))
