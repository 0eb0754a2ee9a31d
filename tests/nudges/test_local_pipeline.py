"""Nudges in `make run`, end to end: the demo data, the admin's test clock moved three days
(then twelve hours, past every demo member's quiet hours), the scheduler, the embedded SQS,
the local poller running the sender's batch path, the embedded SES and SNS, and /local/mail
(in Chromium too). Plus the poller alone, on moto: what it deletes and what it leaves."""

from __future__ import annotations

import json
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as wall_time
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
from babel.dates import format_date
from moto import mock_aws

from api.clock import SystemClock
from api.config import Config
from api.nudges.rules import is_quiet
from api.nudges.rules_model import NudgeKind, QuietHours
from local.demo import NUDGE_DAYS
from local.messaging import MAIL_PATH, QueuePoller
from tests.local_run import LocalServer, local_server
from tests.test_graphiql_browser import ARGS, CHROMIUM, TIMEOUT_MS

# The demo's stories (local/demo.py): who gets which kinds, on which channel.
EXPECTED = {
    "demo-lena": ("Europe/Berlin", {"POINTS_EXPIRING": "EMAIL", "REVIEW_REQUEST": "EMAIL"}),
    "demo-sam": ("Pacific/Honolulu", {"POINTS_EXPIRING": "SMS", "REVIEW_REQUEST": "SMS"}),
    "demo-clara": ("Europe/Paris", {"TIER_AT_RISK": "EMAIL", "BIRTHDAY": "PUSH"}),
    "demo-noah": ("Pacific/Honolulu", {"TIER_AT_RISK": "EMAIL", "BIRTHDAY": "EMAIL"}),
    "demo-jonas": ("Europe/Berlin", {"CLOSE_TO_NEXT_TIER": "EMAIL", "REWARD_AFFORDABLE": "EMAIL"}),
    "demo-mia": ("Pacific/Honolulu", {"CLOSE_TO_NEXT_TIER": "EMAIL", "REWARD_AFFORDABLE": "EMAIL"}),
    "demo-ines": ("Europe/Paris", {"WIN_BACK": "EMAIL", "NPS_SURVEY": "EMAIL"}),
    "demo-leo": ("Pacific/Honolulu", {"WIN_BACK": "PUSH", "NPS_SURVEY": "PUSH"}),
}
RECORDS = """query($id: ID!) { memberNudges(memberId: $id) { edges { node {
  kind subject status channel reason createdAt sendAt messageId values { name value } } } } }"""
ADVANCE = """mutation($input: AdvanceTestClockInput!) { advanceTestClock(input: $input) {
  __typename ... on TestClockAdvanced { testClock { now } nudges { queued held } } } }"""
RUN = "mutation { runNudges { __typename ... on NudgeRun { queued held } } }"
QUIET = QuietHours()  # the demo keeps the default, 21:00-08:00


@dataclass
class Walk:
    server: LocalServer
    ids: dict[str, str]  # customer id -> member id
    night: str  # the zone in its quiet hours after the jump
    first: dict[str, list[dict[str, Any]]]  # records after three days
    last: dict[str, list[dict[str, Any]]]  # and after twelve hours more, everything sent
    mail: dict[str, Any]  # /local/mail.json then


def get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers["content-type"], response.read()


def records(server: LocalServer, ids: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    admin = server.token("admin")
    found = {}
    for customer, member_id in ids.items():
        page = server.post(RECORDS, admin, {"id": member_id})["data"]["memberNudges"]
        found[customer] = [e["node"] for e in page["edges"]]
    return found


def wait_for(condition: Any, what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def evening_jump(now: datetime) -> tuple[int, str]:
    """Seconds to move the clock: NUDGE_DAYS days, on to 21:30 where midnight comes first,
    Europe or Honolulu (quiet hours there, day in the other), before that midnight (birthdays
    are due on the day only); and which of the two is asleep."""
    due = now + timedelta(days=NUDGE_DAYS)

    def midnight(zone: str) -> datetime:
        day = due.astimezone(ZoneInfo(zone)).date() + timedelta(days=1)
        return datetime.combine(day, wall_time(0), ZoneInfo(zone))

    first = min(("Europe/Paris", "Pacific/Honolulu"), key=midnight)
    at = max(due, midnight(first) - timedelta(hours=2, minutes=30))
    return int((at - now).total_seconds()), first.split("/")[0]


@pytest.fixture(scope="module")
def walk() -> Iterator[Walk]:
    """The README's walkthrough, once for this module."""
    with local_server() as server:
        admin = server.token("admin")
        member = '{ member(customerId: "%s") { id } }'
        ids = {c: server.post(member % c, admin)["data"]["member"]["id"] for c in EXPECTED}
        jump, night = evening_jump(SystemClock().now())  # the program's time: not moved yet
        moved = server.post(ADVANCE, admin, {"input": {"seconds": jump}}, timeout=60)
        assert moved.get("data"), moved
        assert moved["data"]["advanceTestClock"]["nudges"]["queued"] > 0, moved

        def every_kind_decided() -> dict[str, list[dict[str, Any]]] | None:
            # The jump activated the close-to-tier members' points; the stream arms their
            # reward watches a moment later, and a run decides them.
            ran = server.post(RUN, admin, timeout=60)["data"]["runNudges"]
            assert ran["__typename"] == "NudgeRun"
            found = records(server, ids)
            done = all(
                {r["kind"] for r in found[c]} >= set(kinds) for c, (_, kinds) in EXPECTED.items()
            )
            return found if done else None

        first = wait_for(every_kind_decided, "every demo nudge decided")
        server.post(ADVANCE, admin, {"input": {"hours": 12}}, timeout=60)  # the held are due

        def all_sent() -> dict[str, list[dict[str, Any]]] | None:
            found = records(server, ids)
            statuses = {r["status"] for rs in found.values() for r in rs}
            return found if statuses == {"SENT"} else None

        last = wait_for(all_sent, "every demo nudge sent by the local poller")
        mail = json.loads(get(f"{server.origin}{MAIL_PATH}.json")[2])
        yield Walk(server, ids, night, first, last, mail)


def test_every_kind_goes_out_on_the_members_channel_after_their_quiet_hours(walk: Walk) -> None:
    for customer, (zone, kinds) in EXPECTED.items():
        first = walk.first[customer]
        assert {r["kind"]: r["channel"] for r in walk.last[customer]} == kinds, customer
        for record in first:
            decided = datetime.fromisoformat(record["createdAt"])
            if is_quiet(decided, ZoneInfo(zone), QUIET):
                # Decided at night in their zone: held until 08:00 there.
                assert record["status"] == "HELD", (customer, record)
                send_at = datetime.fromisoformat(record["sendAt"]).astimezone(ZoneInfo(zone))
                assert send_at.time() == wall_time(8, 0), record
            else:
                assert record["status"] in ("QUEUED", "SENDING", "SENT"), (customer, record)
        for record in walk.last[customer]:
            assert record["messageId"], record
    held = {c for c, rs in walk.first.items() if any(r["status"] == "HELD" for r in rs)}
    night = {c for c, (zone, _) in EXPECTED.items() if zone.split("/")[0] == walk.night}
    assert held == night
    every = {k for _, ks in EXPECTED.values() for k in ks}
    assert every == {k.value for k in NudgeKind}


def test_members_without_consent_are_recorded_not_sent(walk: Walk) -> None:
    admin = walk.server.token("admin")
    page = walk.server.post(
        "{ nudges(kind: REVIEW_REQUEST) { edges { node { subject status reason } } } }", admin
    )["data"]["nudges"]["edges"]
    bob = [e["node"] for e in page if e["node"]["subject"] == "demo-2001"]  # no consents
    assert bob == [{"subject": "demo-2001", "status": "DROPPED", "reason": "NO_CONSENT"}]


def test_emails_sms_and_push_reached_the_embedded_ses_and_sns(walk: Walk) -> None:
    emails = {e["id"]: e for e in walk.mail["emails"]}
    for customer in EXPECTED:
        for record in walk.last[customer]:
            if record["channel"] == "EMAIL":
                email = emails[record["messageId"]]  # the SES message id is the record's
                assert email["to"] == [f"{customer.removeprefix('demo-')}@example.com"]
                assert email["from"] == "Loyalty <no-reply@example.com>"
    times = [e["sentAt"] for e in walk.mail["emails"]]
    assert times == sorted(times, reverse=True)  # newest first
    texts = walk.mail["texts"]
    sms = [t for t in texts if t["channel"] == "SMS"]
    assert {t["to"] for t in sms} == {"+18085550123"}
    assert len(sms) == 2
    assert all("/unsubscribe?token=v1." in t["text"] for t in sms)  # an SMS can opt out too
    push = {t["to"] for t in texts if t["channel"] == "PUSH"}
    assert push == {walk.ids["demo-clara"], walk.ids["demo-leo"]}  # endpoints' member ids


def test_local_mail_lists_and_serves_each_email_as_html(walk: Walk) -> None:
    status, content_type, page = get(f"{walk.server.origin}{MAIL_PATH}")
    assert (status, content_type.split(";")[0]) == (200, "text/html")
    assert walk.mail["emails"]
    for email in walk.mail["emails"]:
        assert email["subject"].encode() in page.replace(b"&#x27;", b"'")
        status, content_type, body = get(f"{walk.server.origin}{email['url']}")
        assert (status, content_type.split(";")[0]) == (200, "text/html")
        assert f'href="{walk.server.origin}/unsubscribe?token=v1.'.encode() in body
    with pytest.raises(urllib.error.HTTPError) as missing:
        get(f"{walk.server.origin}{MAIL_PATH}/no-such-id")
    assert missing.value.code == 404


# --- In a browser ---------------------------------------------------------------------------


@pytest.fixture
def page() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (.ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with tempfile.TemporaryDirectory() as profile, sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


class Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hrefs += [v for k, v in attrs if tag == "a" and k == "href" and v]


def test_an_admin_opens_a_rendered_nudge_email(walk: Walk, page: Any) -> None:
    """Lena's expiring points, in German: the number and the date formatted for de-DE, and
    the unsubscribe link."""
    [record] = [r for r in walk.last["demo-lena"] if r["kind"] == "POINTS_EXPIRING"]
    values = {v["name"]: v["value"] for v in record["values"]}
    expires = format_date(date.fromisoformat(values["expires_on"]), "long", locale="de_DE")
    subject = f"{values['points']} Punkte verfallen am {expires}"  # "30 ... 23. Dezember 2026"

    page.goto(f"{walk.server.origin}{MAIL_PATH}", timeout=TIMEOUT_MS)
    assert page.inner_text("h1") == "Sent messages"
    with page.expect_navigation(timeout=TIMEOUT_MS):
        page.click(f"text={subject}")
    assert page.url == f"{walk.server.origin}{MAIL_PATH}/{record['messageId']}"
    text = page.inner_text("body")
    assert f"{values['points']} Ihrer Punkte verfallen am {expires}" in text
    assert "Lena Vogel" in text
    assert "{{" not in text
    links = Anchors()
    links.feed(page.content())
    unsubscribe = [h for h in links.hrefs if "/unsubscribe?token=v1." in h]
    assert unsubscribe
    assert unsubscribe[0].startswith(f"{walk.server.origin}/unsubscribe?token=")
    # The link works: its page asks before anything changes.
    page.goto(unsubscribe[0], timeout=TIMEOUT_MS)
    assert page.inner_text("h1") == "Unsubscribe?"


# --- The poller alone --------------------------------------------------------------------------


def test_the_poller_deletes_what_succeeded_and_leaves_failures_for_redelivery() -> None:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
        for body in ("ok-1", "fail", "ok-2"):
            sqs.send_message(QueueUrl=url, MessageBody=body)
        seen: list[dict[str, Any]] = []

        def process(event: dict[str, Any]) -> dict[str, Any]:
            seen.extend(event["Records"])
            failed = [r["messageId"] for r in event["Records"] if r["body"] == "fail"]
            return {"batchItemFailures": [{"itemIdentifier": m} for m in failed]}

        poller = QueuePoller(Config(nudge_queue_url=url), process, wait_seconds=0)
        assert poller.poll_once() == 2
        record = seen[0]
        assert record["eventSource"] == "aws:sqs"
        assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:q"
        assert record["attributes"]["ApproximateReceiveCount"] == "1"
        assert {r["body"] for r in seen} == {"ok-1", "fail", "ok-2"}
        seen.clear()
        assert poller.poll_once() == 0  # only the failed one came back
        assert [(r["body"], r["attributes"]["ApproximateReceiveCount"]) for r in seen] == [
            ("fail", "2")
        ]
