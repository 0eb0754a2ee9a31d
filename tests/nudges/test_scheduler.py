"""The scheduler on moto, fed by the real stream: each trigger finds its members, the rules
hold (consent, quiet hours, caps, holdout, dedupe), re-runs and redeliveries change nothing,
and reads grow with the members due, not with all members."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from api.feedback.reviews_model import ReviewInput
from api.members import store as members_store
from api.members.model import Channel, ConsentInput, ProfileChange
from api.members.store import member_key
from api.nudges import store
from api.nudges.model import NudgeStatus, Trigger
from api.nudges.rules import in_holdout
from api.nudges.rules_model import FrequencyCap, Holdout, NudgeKind
from api.points.model import EntryKind
from api.rewards.model import RewardInput, RewardType
from api.store.base import TableItem
from tests.nudges.support import Nudges, by_kind, enroll, flush
from tests.support import ADMIN, count_requests, ledger_entries, member, redeem


def statuses(member_id: str) -> dict[str, str]:
    return {k: r.status.value for k, r in by_kind(member_id).items()}


def test_points_expiring_once_per_expiry_date_with_the_points(nudges: Nudges) -> None:
    m = enroll(nudges.services)
    nudges.order("o-1", "120.00")
    assert nudges.run().queued == 0  # expires in 30 days; warned 14 days before
    report = nudges.run(timedelta(days=17))
    assert report.queued == 1
    [record] = [r for r in by_kind(m).values() if r.kind is NudgeKind.POINTS_EXPIRING]
    # The member's local date of the expiry (Paris: 31 March 13:00).
    assert record.subject == "2026-03-31"
    assert record.values == {"points": 120, "expires_on": date(2026, 3, 31), "balance": 120}
    assert record.status is NudgeStatus.QUEUED
    assert record.channel is Channel.EMAIL
    # Re-runs, later runs and redelivered stream records: nothing new.
    for _ in range(3):
        nudges.run(timedelta(hours=1), times=2)
    assert len([r for r in by_kind(m) if r.startswith("POINTS_EXPIRING")]) == 1
    assert [m_.subject for m_ in nudges.queue.sent if m_.kind is NudgeKind.POINTS_EXPIRING] == [
        "2026-03-31"
    ] * len([m_ for m_ in nudges.queue.sent if m_.kind is NudgeKind.POINTS_EXPIRING])


def test_spent_points_are_not_warned_about(nudges: Nudges) -> None:
    m = enroll(nudges.services)
    nudges.order("o-1", "100.00")
    redeem(nudges.services, 100, "r-1")
    nudges.run(timedelta(days=17))
    assert not [k for k in by_kind(m) if k.startswith("POINTS_EXPIRING")]


def test_no_consent_no_message(nudges: Nudges) -> None:
    m = enroll(nudges.services, consents=())
    nudges.order("o-1", "120.00")
    nudges.run(timedelta(days=17))
    record = by_kind(m)["POINTS_EXPIRING#2026-03-31"]
    assert (record.status, record.reason) == (NudgeStatus.DROPPED, "NO_CONSENT")
    assert nudges.queue.sent == []


def test_channels_in_order_of_preference_among_those_consented(nudges: Nudges) -> None:
    m = enroll(nudges.services, consents=(Channel.SMS,))
    nudges.configure(Trigger(NudgeKind.POINTS_EXPIRING, channels=(Channel.EMAIL, Channel.SMS)))
    nudges.order("o-1", "120.00")
    nudges.run(timedelta(days=17))
    assert by_kind(m)["POINTS_EXPIRING#2026-03-31"].channel is Channel.SMS


def test_quiet_hours_hold_until_they_end_in_the_members_zone(nudges: Nudges) -> None:
    m = enroll(nudges.services, time_zone="America/New_York")
    nudges.order("o-1", "120.00")
    # 17 days later at 01:00 UTC: 21:00 in New York (EDT after 8 March), quiet.
    nudges.run(timedelta(days=16, hours=13))
    record = by_kind(m)["POINTS_EXPIRING#2026-03-31"]
    assert record.status is NudgeStatus.HELD
    assert record.send_at == datetime(2026, 3, 18, 12, 0, tzinfo=UTC)  # 08:00 EDT
    assert nudges.queue.sent == []
    nudges.run(timedelta(hours=10))  # 07:00 local: still quiet
    assert by_kind(m)["POINTS_EXPIRING#2026-03-31"].status is NudgeStatus.HELD
    nudges.run(timedelta(hours=1))  # 08:00 local
    assert by_kind(m)["POINTS_EXPIRING#2026-03-31"].status is NudgeStatus.QUEUED
    assert len(nudges.queue.sent) == 1


def test_caps_keep_the_most_valuable(nudges: Nudges) -> None:
    m = enroll(nudges.services, birthday=date(1990, 3, 18))
    nudges.configure(
        NudgeKind.POINTS_EXPIRING,
        NudgeKind.BIRTHDAY,
        Trigger(NudgeKind.WIN_BACK, days=14),
        caps=(FrequencyCap(1, timedelta(days=7)),),
    )
    nudges.order("o-1", "120.00")
    nudges.run(timedelta(days=17))  # expiry, birthday and win-back all due at once
    got = statuses(m)
    assert got["POINTS_EXPIRING#2026-03-31"] == "QUEUED"
    assert by_kind(m)["BIRTHDAY#2026"].reason == "CAPPED"
    assert by_kind(m)["WIN_BACK#2026-03-01T12:00:00+00:00"].reason == "CAPPED"


def test_holdout_members_are_recorded_and_never_queued(nudges: Nudges) -> None:
    m = enroll(nudges.services)
    salt = next(s for s in (f"s{i}" for i in range(1000)) if in_holdout(m, s, Decimal(5)))
    nudges.configure(NudgeKind.POINTS_EXPIRING, holdout=Holdout(salt, Decimal(5)))
    nudges.order("o-1", "120.00")
    nudges.run(timedelta(days=17))
    assert by_kind(m)["POINTS_EXPIRING#2026-03-31"].status is NudgeStatus.HELD_OUT
    assert nudges.queue.sent == []
    stats = store.StatsItem.get(*store.stats_key(NudgeKind.POINTS_EXPIRING, date(2026, 3, 18)))
    assert (stats.control, stats.treated) == (1, 0)


def test_birthday_bonus_once_a_year_message_or_not(nudges: Nudges) -> None:
    m = enroll(nudges.services, birthday=date(1990, 3, 5), consents=())
    nudges.configure(Trigger(NudgeKind.BIRTHDAY, bonus_points=50))
    for _ in range(3):
        nudges.run(timedelta(days=2), times=2)
    bonuses = [e for e in ledger_entries(m) if e.kind is EntryKind.BIRTHDAY]
    assert [(e.points, e.created_at.date()) for e in bonuses] == [(50, date(2026, 3, 5))]
    assert by_kind(m)["BIRTHDAY#2026"].reason == "NO_CONSENT"
    nudges.run(timedelta(days=363))  # 5 March 2027
    assert len([e for e in ledger_entries(m) if e.kind is EntryKind.BIRTHDAY]) == 2


def test_win_back_once_per_inactive_spell(nudges: Nudges) -> None:
    m = enroll(nudges.services)
    nudges.configure(Trigger(NudgeKind.WIN_BACK, days=30))
    nudges.order("o-1", "10.00")
    nudges.run(timedelta(days=31))
    assert statuses(m)["WIN_BACK#2026-03-01T12:00:00+00:00"] == "QUEUED"
    nudges.run(timedelta(days=2))
    assert len([k for k in by_kind(m) if k.startswith("WIN_BACK")]) == 1
    nudges.order("o-2", "10.00")  # a new spell starts with this order
    nudges.run(timedelta(days=31))
    assert len([k for k in by_kind(m) if k.startswith("WIN_BACK")]) == 2


def test_review_request_for_the_products_not_reviewed(nudges: Nudges) -> None:
    nudges.configure(NudgeKind.REVIEW_REQUEST)
    m = enroll(nudges.services)
    nudges.order("o-1", "40.00", skus=("SKU-A", "SKU-B"))
    nudges.run()
    nudges.services.reviews.submit(
        member("cust-1"), ReviewInput(sku="SKU-A", rating=1, title="Bad", body="Broke."), "k-1"
    )
    nudges.run(timedelta(days=10))
    record = by_kind(m)["REVIEW_REQUEST#o-1"]
    assert record.values == {"order_id": "o-1", "products": "SKU-B", "product_count": 1}
    assert record.status is NudgeStatus.QUEUED


def test_reward_affordable_once_per_reward(nudges: Nudges) -> None:
    nudges.configure(NudgeKind.REWARD_AFFORDABLE)
    nudges.services.rewards.create(
        ADMIN, RewardInput(id="mug", name="Mug", points_cost=100, type=RewardType.PERK)
    )
    m = enroll(nudges.services)
    nudges.order("o-1", "60.00")
    nudges.run()
    assert not by_kind(m)
    nudges.order("o-2", "60.00")
    nudges.run()
    record = by_kind(m)["REWARD_AFFORDABLE#mug"]
    assert record.values == {"reward": "Mug", "cost": 100, "balance": 120}
    nudges.order("o-3", "60.00")
    nudges.run(timedelta(hours=1))
    assert [k for k in by_kind(m) if k.startswith("REWARD")] == ["REWARD_AFFORDABLE#mug"]


def test_scheduler_reads_grow_with_members_due_not_all_members(nudges: Nudges) -> None:
    def requests(idle: int) -> int:
        for n in range(idle):
            enroll(nudges.services, f"idle-{idle}-{n}")
        flush(nudges.stream, nudges.services)
        with count_requests() as counted:
            nudges.scheduler.run()
        return sum(counted.values())

    nudges.configure(NudgeKind.BIRTHDAY)
    due = enroll(nudges.services, "due-1", birthday=date(1990, 3, 1))
    flush(nudges.stream, nudges.services)
    few = requests(5)
    # The next run has the same one member due (a new year's birthday is a year away), so
    # only the index queries remain; many more idle members must not add a single request.
    assert statuses(due)["BIRTHDAY#2026"] == "QUEUED"
    assert requests(5) == requests(40) < few


def test_erased_or_changed_members_are_looked_at_again(nudges: Nudges) -> None:
    nudges.configure(NudgeKind.BIRTHDAY)
    m = enroll(nudges.services, birthday=date(1990, 3, 10))
    nudges.run()
    nudges.services.members.update_profile(
        member("cust-1"), ProfileChange(birthday=date(1990, 4, 1))
    )
    nudges.run(timedelta(days=10))
    assert "BIRTHDAY#2026" not in by_kind(m)
    nudges.services.members.update_profile(
        member("cust-1"),
        ProfileChange(consents=[ConsentInput(Channel.EMAIL, False, "app")]),
    )
    nudges.run(timedelta(days=20, hours=20))  # 1 April, 10:00 in Paris
    assert by_kind(m)["BIRTHDAY#2026"].reason == "NO_CONSENT"


def test_an_erased_member_is_dropped_from_every_wait(nudges: Nudges) -> None:
    m = enroll(nudges.services, time_zone="America/New_York")
    nudges.order("o-1", "120.00")
    nudges.run(timedelta(days=16, hours=13))  # 21:00 in New York: HELD
    assert by_kind(m)["POINTS_EXPIRING#2026-03-31"].status is NudgeStatus.HELD
    TableItem._get_connection().delete_item(*member_key(m))  # erased by hand
    nudges.run(timedelta(hours=12))
    held = by_kind(m)["POINTS_EXPIRING#2026-03-31"]
    assert (held.status, held.reason) == (NudgeStatus.DROPPED, "MEMBER_GONE")
    assert nudges.run(timedelta(hours=1)).members == 0  # nothing of theirs is due any more


def test_one_members_bad_data_does_not_hold_back_the_others(nudges: Nudges) -> None:
    nudges.configure(NudgeKind.BIRTHDAY)
    bad = enroll(nudges.services, "bad", birthday=date(1990, 3, 1))
    good = enroll(nudges.services, "good", birthday=date(1990, 3, 1))
    flush(nudges.stream, nudges.services)
    TableItem._get_connection().update_item(
        *member_key(bad),
        actions=[members_store.MemberItem.time_zone.set("Mars/Olympus_Mons")],
    )
    report = nudges.scheduler.run()
    assert (report.queued, report.left) == (1, 1)
    assert by_kind(good)["BIRTHDAY#2026"].status is NudgeStatus.QUEUED
    assert by_kind(bad) == {}
