"""Admins and nudges: records per member and per kind, lift exact on a fixture, the explain
dry run (writes nothing), runs on demand outside production only."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from api.clock import ManualClock
from api.config import Config, Stage
from api.errors import Forbidden, InvalidInput, TestClockDisabled
from api.members.model import Channel
from api.nudges.rules import in_holdout, lift
from api.nudges.rules_model import Holdout, NudgeKind
from api.services import Services, build_services
from tests.nudges.support import Nudges, by_kind, enroll, flush, raw_records
from tests.support import ADMIN, SERVICE, START, member


def test_lift_is_exact_on_a_fixture(nudges: Nudges) -> None:
    salt = "lift"
    nudges.configure(NudgeKind.POINTS_EXPIRING, holdout=Holdout(salt, Decimal(50)))
    customers = [f"c-{n}" for n in range(12)]
    ids = {c: enroll(nudges.services, c) for c in customers}
    for n, c in enumerate(customers):
        nudges.order(f"o-{n}", "50.00", customer=c)
    nudges.run(timedelta(days=17))  # every expiry due: each member treated or held out
    held = [c for c in customers if in_holdout(ids[c], salt, Decimal(50))]
    treated = [c for c in customers if c not in held]
    assert held
    assert treated
    # Orders 3 days later convert; one 10 days later (past 7) does not; a second order of
    # a converted member counts once.
    nudges.clock.advance(timedelta(days=3))
    buyers = treated[:2] + held[:1]
    for n, c in enumerate(buyers):
        nudges.order(f"b-{n}", "10.00", customer=c)
    nudges.order("b-again", "10.00", customer=buyers[0])
    nudges.run()
    nudges.clock.advance(timedelta(days=7))
    nudges.order("late", "10.00", customer=treated[-1])
    nudges.run()

    report = nudges.services.nudges.lift(
        ADMIN, NudgeKind.POINTS_EXPIRING, date(2026, 3, 18), date(2026, 3, 18)
    )
    assert (report.treated, report.treated_converted) == (len(treated), 2)
    assert (report.control, report.control_converted) == (len(held), 1)
    assert report.lift == lift(2, len(treated), 1, len(held))
    other_day = nudges.services.nudges.lift(
        ADMIN, NudgeKind.POINTS_EXPIRING, date(2026, 3, 19), date(2026, 4, 30)
    )
    assert (other_day.treated, other_day.control) == (0, 0)
    assert other_day.lift.difference is None


def test_lift_bad_ranges(nudges: Nudges) -> None:
    admin = nudges.services.nudges
    with pytest.raises(InvalidInput) as backwards:
        admin.lift(ADMIN, NudgeKind.BIRTHDAY, date(2026, 3, 2), date(2026, 3, 1))
    assert backwards.value.field == "to"
    with pytest.raises(InvalidInput):
        admin.lift(ADMIN, NudgeKind.BIRTHDAY, date(2025, 1, 1), date(2026, 3, 1))
    with pytest.raises(Forbidden):
        admin.lift(SERVICE, NudgeKind.BIRTHDAY, date(2026, 3, 1), date(2026, 3, 1))


def test_records_per_member_and_per_kind_with_pages(nudges: Nudges) -> None:
    ids = [enroll(nudges.services, f"c-{n}", birthday=date(1990, 3, 5)) for n in range(3)]
    nudges.configure(NudgeKind.BIRTHDAY, NudgeKind.POINTS_EXPIRING)
    for n in range(3):
        nudges.order(f"o-{n}", "20.00", customer=f"c-{n}")
    nudges.run(timedelta(days=4))
    nudges.run(timedelta(days=13))
    admin = nudges.services.nudges
    mine = admin.member_records(ADMIN, ids[0], None, 1, None)
    assert [r.kind for r in mine.records] == [NudgeKind.BIRTHDAY]
    assert mine.has_next
    rest = admin.member_records(ADMIN, ids[0], None, 10, mine.cursors[-1])
    assert [r.kind for r in rest.records] == [NudgeKind.POINTS_EXPIRING]
    assert not rest.has_next
    only = admin.member_records(ADMIN, ids[0], NudgeKind.POINTS_EXPIRING, 10, None)
    assert [r.subject for r in only.records] == ["2026-03-31"]
    with pytest.raises(InvalidInput):  # a cursor of another member's list
        admin.member_records(ADMIN, ids[1], None, 10, mine.cursors[-1])
    page = admin.kind_records(ADMIN, NudgeKind.BIRTHDAY, 2, None)
    assert len(page.records) == 2
    assert page.has_next
    last = admin.kind_records(ADMIN, NudgeKind.BIRTHDAY, 2, page.cursors[-1])
    assert {r.member_id for r in page.records + last.records} == set(ids)
    with pytest.raises(Forbidden):
        admin.member_records(member("c-0"), ids[0], None, 10, None)


def test_explain_says_why_and_writes_nothing(nudges: Nudges) -> None:
    consenting = enroll(nudges.services, "yes")
    silent = enroll(nudges.services, "no", consents=())
    night = enroll(nudges.services, "night", time_zone="Asia/Tokyo")
    for c in ("yes", "no", "night"):
        nudges.order(f"o-{c}", "20.00", customer=c)
    nudges.clock.advance(timedelta(days=17))
    flush(nudges.stream, nudges.services)
    before = raw_records()
    found = nudges.services.nudges.explain(ADMIN, NudgeKind.POINTS_EXPIRING, 10)
    assert raw_records() == before
    outcome = {e.member_id: (e.outcome, e.reason, e.channel) for e in found}
    assert outcome[consenting] == ("SEND", None, Channel.EMAIL.value)
    assert outcome[silent] == ("SKIP", "NO_CONSENT", None)
    assert outcome[night][:2] == ("HOLD", "QUIET_HOURS")  # 21:00 in Tokyo
    # Decided: nothing is due any more for that expiry date.
    nudges.scheduler.run()
    assert by_kind(consenting)["POINTS_EXPIRING#2026-03-31"].channel is Channel.EMAIL
    assert nudges.services.nudges.explain(ADMIN, NudgeKind.POINTS_EXPIRING, 10) == []
    assert by_kind(consenting)["POINTS_EXPIRING#2026-03-31"].channel is Channel.EMAIL


def test_runs_on_demand_outside_production_only(nudges: Nudges) -> None:
    enroll(nudges.services, birthday=date(1990, 3, 1))
    nudges.configure(NudgeKind.BIRTHDAY)
    flush(nudges.stream, nudges.services)
    assert nudges.services.nudges.run(ADMIN).members == 1
    with pytest.raises(Forbidden):
        nudges.services.nudges.run(SERVICE)


def test_no_runs_on_demand_in_production(services: Services) -> None:
    prod = build_services(Config(stage=Stage.PROD, table_name="loyalty-test"), ManualClock(START))
    with pytest.raises(TestClockDisabled):
        prod.nudges.run(ADMIN)
