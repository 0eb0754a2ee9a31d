"""Nudges under real concurrency (DynamoDB Local): overlapping scheduler runs decide each
member's nudge once (one record, one message, one birthday bonus), and a message delivered
to several senders at once is sent once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import date
from functools import partial
from zoneinfo import ZoneInfo

import pytest

from api.config import Config
from api.members.model import Channel, ConsentInput, EnrollInput
from api.members.store import member_key
from api.nudges import store
from api.nudges.channels import AwsChannels
from api.nudges.model import NudgeStatus, Rendered, Trigger
from api.nudges.queue import Message
from api.nudges.rules_model import NudgeKind
from api.nudges.scheduler import NudgeScheduler, RunReport
from api.nudges.sender import Outcome, Sender
from api.nudges.settings import NudgeConfigChange, TriggerChange
from api.points.model import EntryKind
from api.services import Services
from api.store import reads
from api.store.base import TableItem
from api.stream import Change
from tests.ddb_local.test_concurrency import all_at_once
from tests.nudges.support import KeptQueue, scheduler
from tests.support import ADMIN, SERVICE, ledger_entries

pytestmark = pytest.mark.ddb_local


class CountingChannels(AwsChannels):
    """AWS's channels with email counted instead of sent; slow enough that racing senders
    overlap."""

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.emails: list[tuple[str, str | None, str, str]] = []
        self._lock = threading.Lock()

    def send_email(
        self, to: str, rendered: Rendered, headers: dict[str, str], tags: dict[str, str]
    ) -> str:
        time.sleep(0.05)
        with self._lock:
            self.emails.append((to, rendered.subject, headers["List-Unsubscribe"], tags["member"]))
            return f"m-{len(self.emails)}"


def birthdays_today(s: Services, n: int) -> list[str]:
    """Members whose birthday is the program's today, consenting to email; watched."""
    # These run on the real clock: a zone where it is about noon now keeps quiet hours away.
    now = s.program.current_time()
    hours = 12 - now.hour  # Etc/GMT-N is UTC+N
    zone = "UTC" if hours == 0 else f"Etc/GMT{'-' if hours > 0 else '+'}{abs(hours)}"
    today = now.astimezone(ZoneInfo(zone)).date()
    s.nudge_config.update(
        ADMIN,
        NudgeConfigChange(
            triggers=(TriggerChange(NudgeKind.BIRTHDAY, enabled=True, bonus_points=50),)
        ),
        None,
    )
    ids = []
    for i in range(n):
        member = s.members.enroll(
            SERVICE,
            EnrollInput(
                f"bday-{i}",
                zone,
                "en",
                email=f"bday-{i}@example.com",
                birthday=date(1992, today.month, today.day),  # a leap year
                consents=[ConsentInput(Channel.EMAIL, True, "test")],
            ),
        )
        ids.append(member.id)
        # The stream delivers the enrolment (twice, as it may).
        change = Change(f"e-{i}", None, reads.get(member_key(member.id), TableItem))
        s.reactions.dispatch(change)
        s.reactions.dispatch(change)
    return ids


def scheduler_with(s: Services, queue: KeptQueue) -> NudgeScheduler:
    return scheduler(s, s.nudge_config, queue)


def test_overlapping_runs_decide_each_nudge_once(local_services: Services) -> None:
    s = local_services
    ids = birthdays_today(s, 6)
    queue = KeptQueue()
    scheduler = scheduler_with(s, queue)

    reports = all_at_once([scheduler.run for _ in range(8)])

    assert all(isinstance(r, RunReport) for r in reports), reports
    assert sum(r.queued for r in reports if isinstance(r, RunReport)) == len(ids)
    assert Counter(m.member_id for m in queue.sent) == Counter(ids)  # one message each
    for member_id in ids:
        [record] = store.history(member_id)
        assert (record.kind, record.status) == (NudgeKind.BIRTHDAY, NudgeStatus.QUEUED)
        bonuses = [e for e in ledger_entries(member_id) if e.kind is EntryKind.BIRTHDAY]
        assert [e.points for e in bonuses] == [50]


def test_one_message_delivered_to_many_senders_is_sent_once(local_services: Services) -> None:
    s = local_services
    [member_id] = birthdays_today(s, 1)
    queue = KeptQueue()
    scheduler_with(s, queue).run()
    [message] = queue.sent
    channels = CountingChannels(s.config)
    sender = Sender(
        clock=s.clock,
        config=s.config,
        program=s.program,
        configs=s.nudge_config,
        renderer=s.templates,
        channels=channels,
        devices=s.devices,
        suppressions=s.suppressions,
        unsubscribe=s.unsubscribe,
    )

    outcomes = all_at_once([partial(sender.send, message) for _ in range(8)])

    assert Counter(outcomes) == Counter({Outcome.SENT: 1, Outcome.SKIPPED: 7}), outcomes
    assert [(to, member) for to, _, _, member in channels.emails] == [
        ("bday-0@example.com", member_id)
    ]
    [record] = store.history(member_id)
    assert (record.status, record.attempts) == (NudgeStatus.SENT, 1)
    assert sender.send(Message(member_id, NudgeKind.BIRTHDAY, record.subject)) is Outcome.SKIPPED


def test_trigger_settings_saved_concurrently_keep_every_change(local_services: Services) -> None:
    s = local_services
    kinds = [NudgeKind.WIN_BACK, NudgeKind.BIRTHDAY, NudgeKind.NPS_SURVEY, NudgeKind.REVIEW_REQUEST]
    results = all_at_once(
        [
            partial(
                s.nudge_config.update,
                ADMIN,
                NudgeConfigChange(triggers=(TriggerChange(kind, enabled=False),)),
                None,
            )
            for kind in kinds
        ]
    )
    assert all(not isinstance(r, Exception) for r in results), results
    saved = s.nudge_config.read(ADMIN)
    assert all(not saved.trigger(kind).enabled for kind in kinds)
    assert saved.trigger(NudgeKind.POINTS_EXPIRING) == Trigger(NudgeKind.POINTS_EXPIRING)
