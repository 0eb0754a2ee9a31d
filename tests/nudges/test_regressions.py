"""Regressions from the nudges audit: caps count what is on its way or gone at its latest
move, expiry warnings survive a change of time zone, explain agrees with a run, an order
during a send leaves it SENT, channels without an address give way, the less travelled
triggers record what they should, a 29 February birthday at UTC+14, admin reads' bad input."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from api.config import Config
from api.members.model import Channel, ConsentInput, EnrollInput, ProfileChange
from api.nudges import store
from api.nudges.admin import NudgeAdmin
from api.nudges.model import NudgeStatus, Trigger
from api.nudges.rules_model import FrequencyCap, NudgeKind
from api.nudges.sender import Outcome
from api.rewards.model import RewardInput, RewardType
from api.services import Services
from api.store.tx import Transaction
from api.tiers.model import ConfigInput, DowngradePolicy, Metric, TierInput, Window
from schema.app import create_app, gateway_authenticator, lambda_adapter
from tests.graphql.conftest import ADMIN as ADMIN_CLAIMS
from tests.graphql.conftest import Invoke, invoker
from tests.nudges.support import Nudges, by_kind, enroll, flush, ses_of
from tests.support import ADMIN, SERVICE, member

EXPIRY = "POINTS_EXPIRING#2026-03-31"
A_DAY = (FrequencyCap(1, timedelta(hours=24)),)
A_WEEK = (FrequencyCap(1, timedelta(days=7)),)


def statuses(member_id: str) -> dict[str, tuple[str, str | None]]:
    return {k: (r.status.value, r.reason) for k, r in by_kind(member_id).items()}


def enroll_without_email(services: Services, phone: str | None) -> str:
    consents = [ConsentInput(c, True, "checkout") for c in (Channel.EMAIL, Channel.SMS)]
    data = EnrollInput(
        "cust-1", "Europe/Paris", "fr-FR", email=None, phone=phone, name="Ann", consents=consents
    )
    return services.members.enroll(SERVICE, data).id


def ladder(services: Services) -> None:
    tiers = [
        TierInput("BRONZE", "Bronze", Decimal(0)),
        TierInput("SILVER", "Silver", Decimal(150)),
        TierInput("GOLD", "Gold", Decimal(500)),
    ]
    services.tiers.update(
        ADMIN,
        ConfigInput(
            tiers, Metric.QUALIFYING_POINTS, Window.ROLLING_12_MONTHS, DowngradePolicy.ONE_TIER
        ),
    )


def test_caps_count_a_nudge_sent_after_quiet_hours_when_it_was_sent(
    nudges: Nudges, sent: list[dict[str, Any]]
) -> None:
    nudges.configure(NudgeKind.POINTS_EXPIRING, NudgeKind.REWARD_AFFORDABLE, caps=A_DAY)
    nudges.services.rewards.create(
        ADMIN, RewardInput(id="bag", name="Bag", points_cost=200, type=RewardType.PERK)
    )
    m = enroll(nudges.services)
    nudges.order("o-1", "120.00")
    nudges.run(timedelta(days=16))  # 17 March 13:00 in Paris: the expiry warning queued
    [message] = nudges.queue.sent
    nudges.clock.advance(timedelta(hours=9))  # 22:00 in Paris: the sender holds it back
    assert nudges.services.nudge_sender.send(message) is Outcome.HELD
    nudges.run(timedelta(hours=10))  # 08:00 in Paris: queued again
    assert nudges.services.nudge_sender.send(message) is Outcome.SENT
    nudges.clock.advance(timedelta(hours=5, minutes=30))  # same morning, 13:30 in Paris
    nudges.order("o-2", "100.00")  # 220 points: the bag is affordable
    nudges.run()
    assert statuses(m) == {
        EXPIRY: ("SENT", None),
        "REWARD_AFFORDABLE#bag": ("DROPPED", "CAPPED"),
    }
    assert len(sent) == 1


def test_caps_count_a_nudge_being_sent(nudges: Nudges) -> None:
    m = enroll(nudges.services, birthday=date(1990, 3, 19))
    nudges.configure(NudgeKind.POINTS_EXPIRING, NudgeKind.BIRTHDAY, caps=A_WEEK)
    nudges.order("o-1", "120.00")
    nudges.run(timedelta(days=16))  # 17 March: the expiry warning queued
    claimed = replace(
        by_kind(m)[EXPIRY],
        status=NudgeStatus.SENDING,
        claimed_until=nudges.clock.now() + timedelta(days=3),
        attempts=1,
    )
    tx = Transaction()
    tx.put(store.record_to_item(claimed))  # a sender has it, as Sender._claim would
    tx.commit()
    nudges.run(timedelta(days=1, hours=20))  # 19 March 09:00 in Paris: the birthday
    assert statuses(m) == {EXPIRY: ("SENDING", None), "BIRTHDAY#2026": ("DROPPED", "CAPPED")}


def test_a_time_zone_change_does_not_warn_twice_about_one_expiry(nudges: Nudges) -> None:
    m = enroll(nudges.services, time_zone="Europe/London")
    nudges.order("o-1", "120.00")  # expires 31 March 12:00Z: 1 April 02:00 at Kiritimati
    nudges.run(timedelta(days=17))
    nudges.services.members.update_profile(
        member("cust-1"), ProfileChange(time_zone="Pacific/Kiritimati")
    )
    nudges.run(timedelta(hours=20))
    nudges.run(timedelta(hours=10))
    assert statuses(m) == {EXPIRY: ("QUEUED", None)}
    assert {(x.kind, x.subject) for x in nudges.queue.sent} == {
        (NudgeKind.POINTS_EXPIRING, "2026-03-31")
    }


def two_expiries_then_a_move_to_honolulu(nudges: Nudges) -> str:
    m = enroll(nudges.services, time_zone="Europe/London")
    nudges.order("o-1", "120.00")  # expires 31 March 12:00Z
    nudges.clock.advance(timedelta(hours=17))
    nudges.order("o-2", "50.00")  # expires 1 April 05:00Z: 31 March 19:00 in Honolulu
    nudges.run(timedelta(days=16, hours=2))  # 18 March 07:00Z: the first held till 08:00
    nudges.services.members.update_profile(
        member("cust-1"), ProfileChange(time_zone="Pacific/Honolulu")
    )
    nudges.run(timedelta(hours=1))  # 22:00 in Honolulu: both wait for the morning
    return m


def test_a_time_zone_change_does_not_skip_the_next_expiry(nudges: Nudges) -> None:
    m = two_expiries_then_a_move_to_honolulu(nudges)
    morning = datetime(2026, 3, 18, 18, tzinfo=UTC)  # 08:00 in Honolulu
    assert {k: (r.status, r.send_at) for k, r in by_kind(m).items()} == {
        EXPIRY: (NudgeStatus.HELD, morning),
        "POINTS_EXPIRING#2026-04-01": (NudgeStatus.HELD, morning),  # the UTC date
    }
    later = by_kind(m)["POINTS_EXPIRING#2026-04-01"]
    assert (later.values["points"], later.values["expires_on"]) == (50, date(2026, 3, 31))


def test_two_held_nudges_of_one_kind_are_both_queued_when_quiet_hours_end(
    nudges: Nudges,
) -> None:
    m = two_expiries_then_a_move_to_honolulu(nudges)
    nudges.run(timedelta(hours=10))  # 08:00 in Honolulu
    assert statuses(m) == {EXPIRY: ("QUEUED", None), "POINTS_EXPIRING#2026-04-01": ("QUEUED", None)}


def test_explain_gives_the_place_to_a_higher_priority_kind_as_a_run_does(
    nudges: Nudges,
) -> None:
    m = enroll(nudges.services, birthday=date(1990, 3, 18))
    nudges.configure(NudgeKind.POINTS_EXPIRING, NudgeKind.BIRTHDAY, caps=A_WEEK)
    nudges.order("o-1", "120.00")
    nudges.clock.advance(timedelta(days=17))  # 18 March 13:00 in Paris: both due
    flush(nudges.stream, nudges.services)
    admin = NudgeAdmin(nudges.services.config, nudges.services.program, nudges.scheduler)
    explained = admin.explain(ADMIN, NudgeKind.BIRTHDAY, 10)
    assert [(e.subject, e.outcome, e.reason) for e in explained] == [("2026", "SKIP", "CAPPED")]
    nudges.run()
    assert statuses(m) == {EXPIRY: ("QUEUED", None), "BIRTHDAY#2026": ("DROPPED", "CAPPED")}


def test_an_order_converting_a_nudge_during_its_send_leaves_it_sent(
    nudges: Nudges, sent: list[dict[str, Any]]
) -> None:
    m = enroll(nudges.services)
    nudges.order("o-1", "120.00")
    nudges.run(timedelta(days=16))
    [message] = nudges.queue.sent
    ses = ses_of(nudges)

    def order_in_flight(**_: Any) -> None:
        nudges.order("o-2", "10.00")
        flush(nudges.stream, nudges.services)

    ses.meta.events.register_first("before-send.sesv2.SendEmail", order_in_flight)
    try:
        assert nudges.services.nudge_sender.send(message) is Outcome.SENT
    finally:
        ses.meta.events.unregister("before-send.sesv2.SendEmail", order_in_flight)
    done = by_kind(m)[EXPIRY]
    assert (done.status, done.reason) == (NudgeStatus.SENT, None)
    assert done.converted_at == nudges.clock.now()
    nudges.clock.advance(timedelta(minutes=2))
    assert nudges.services.nudge_sender.send(message) is Outcome.SKIPPED  # a redelivery
    assert len(sent) == 1


def test_a_member_without_an_email_address_gets_the_sms_they_consented_to(
    nudges: Nudges,
) -> None:
    nudges.configure(Trigger(NudgeKind.POINTS_EXPIRING, channels=(Channel.EMAIL, Channel.SMS)))
    m = enroll_without_email(nudges.services, phone="+33612345678")
    nudges.order("o-1", "120.00")
    nudges.run(timedelta(days=16))
    assert by_kind(m)[EXPIRY].channel is Channel.SMS
    assert nudges.services.nudge_sender.send(nudges.queue.sent[0]) is Outcome.SENT
    assert by_kind(m)[EXPIRY].status is NudgeStatus.SENT


def test_a_member_with_no_address_on_any_consented_channel_is_dropped(nudges: Nudges) -> None:
    nudges.configure(Trigger(NudgeKind.POINTS_EXPIRING, channels=(Channel.EMAIL, Channel.SMS)))
    m = enroll_without_email(nudges.services, phone=None)
    nudges.order("o-1", "120.00")
    nudges.run(timedelta(days=16))
    assert statuses(m) == {EXPIRY: ("DROPPED", "NO_ADDRESS")}
    assert nudges.queue.sent == []


def test_an_nps_survey_is_queued_once_two_weeks_after_an_order(nudges: Nudges) -> None:
    nudges.configure(NudgeKind.NPS_SURVEY)
    m = enroll(nudges.services)
    nudges.order("o-1", "10.00")
    assert nudges.run(timedelta(days=14, hours=1)).queued == 1
    assert nudges.run(timedelta(days=1)).queued == 0
    [(key, survey)] = by_kind(m).items()
    assert key.startswith("NPS_SURVEY#")
    assert (survey.status, survey.channel, survey.values) == (NudgeStatus.QUEUED, Channel.EMAIL, {})


def test_close_to_the_next_tier_is_queued_once_with_the_points_needed(nudges: Nudges) -> None:
    ladder(nudges.services)
    nudges.configure(Trigger(NudgeKind.CLOSE_TO_NEXT_TIER, percent=Decimal(10)))
    m = enroll(nudges.services)
    nudges.order("o-1", "140.00")  # 10 points short of Silver's 150
    assert nudges.run(timedelta(hours=1)).queued == 1
    nudges.order("o-2", "5.00")
    assert nudges.run(timedelta(hours=1)).queued == 0
    [close] = by_kind(m).values()
    assert close.subject == "SILVER@base"
    assert close.status is NudgeStatus.QUEUED
    assert close.values == {"tier": "Silver", "points_needed": 10}


def test_a_tier_at_risk_is_queued_once_two_weeks_before_the_review(nudges: Nudges) -> None:
    ladder(nudges.services)
    nudges.configure(NudgeKind.TIER_AT_RISK)
    m = enroll(nudges.services)
    nudges.order("o-1", "160.00")
    nudges.run()
    nudges.clock.advance(datetime(2027, 2, 14, 12, tzinfo=UTC) - nudges.clock.now())
    assert nudges.run().queued == 0
    assert nudges.run(timedelta(days=1)).queued == 1  # 15 February: 14 days before
    nudges.run(timedelta(days=1))
    [risk] = by_kind(m).values()
    assert risk.subject == "2027-03-01"
    assert risk.status is NudgeStatus.QUEUED
    assert risk.values == {"tier": "Silver", "review_on": date(2027, 3, 1), "points_needed": 150}


def test_a_29_february_birthday_at_utc_plus_14_is_due_at_midnight_on_28_february(
    nudges: Nudges,
) -> None:
    zone = ZoneInfo("Pacific/Kiritimati")
    nudges.configure(Trigger(NudgeKind.BIRTHDAY, bonus_points=10))
    m = enroll(nudges.services, time_zone=zone.key, birthday=date(1992, 2, 29))
    nudges.run()
    nudges.clock.advance(datetime(2027, 2, 27, 9, tzinfo=UTC) - nudges.clock.now())
    assert nudges.run().members == 0  # 27 February 23:00 there
    held = nudges.run(timedelta(hours=1))  # midnight: the birthday in a common year
    assert (held.held, held.bonus_points) == (1, 10)
    birthday = by_kind(m)["BIRTHDAY#2027"]
    assert birthday.due_at == datetime(2027, 2, 28, tzinfo=zone)
    assert birthday.send_at == datetime(2027, 2, 28, 8, tzinfo=zone)  # after quiet hours
    nudges.run(timedelta(hours=7))
    queued = nudges.run(timedelta(hours=1))
    assert (queued.queued, queued.bonus_points) == (1, 0)
    assert nudges.run(timedelta(days=2)).bonus_points == 0
    birthday = by_kind(m)["BIRTHDAY#2027"]
    assert birthday.status is NudgeStatus.QUEUED
    assert birthday.queued_at == datetime(2027, 2, 28, 8, tzinfo=zone)
    assert birthday.values == {"bonus_points": 10, "balance": 0}


@pytest.fixture
def invoke(services: Services, config: Config) -> Invoke:
    return invoker(lambda_adapter(create_app(services, gateway_authenticator(config))))


SOMEONE = "mbr_00000000000000000000000000"
ADMIN_BAD_INPUT = {
    "memberNudges: first negative": (
        f'{{ memberNudges(memberId: "{SOMEONE}", first: -5) {{ edges {{ cursor }} }} }}',
        ("INVALID_INPUT", "first"),
    ),
    "memberNudges: a cursor not base64": (
        f'{{ memberNudges(memberId: "{SOMEONE}", after: "garbage") {{ edges {{ cursor }} }} }}',
        ("INVALID_INPUT", "after"),
    ),
    "nudges: a cursor of other characters": (
        '{ nudges(kind: BIRTHDAY, after: "garbage!!") { edges { cursor } } }',
        ("INVALID_INPUT", "after"),
    ),
    "nudges: first too large": (
        "{ nudges(kind: BIRTHDAY, first: 100000) { edges { cursor } } }",
        ("QUERY_TOO_COSTLY", None),
    ),
    "explainNudges: first 0": (
        "{ explainNudges(kind: BIRTHDAY, first: 0) { subject } }",
        ("INVALID_INPUT", "first"),
    ),
}


@pytest.mark.parametrize("case", ADMIN_BAD_INPUT)
def test_admin_nudge_reads_refuse_bad_input_with_a_typed_error(invoke: Invoke, case: str) -> None:
    document, expected = ADMIN_BAD_INPUT[case]
    (error,) = invoke(document, {}, ADMIN_CLAIMS).body["errors"]
    assert (error["extensions"].get("code"), error["extensions"].get("field")) == expected
