"""The daily points job: activation and expiry through the sparse due index."""

from __future__ import annotations

from datetime import timedelta

from api.clock import ManualClock
from api.points.lots import Funding, LotStatus
from api.points.model import EntryKind
from api.services import Services
from tests.support import (
    assert_ledger_consistent,
    count_requests,
    enroll,
    ledger_entries,
    order,
    redeem,
    stored_due_at,
    stored_member,
)

DAY = timedelta(days=1)


def test_the_job_activates_then_expires_and_a_second_run_changes_nothing(
    services: Services,
    clock: ManualClock,
) -> None:
    member_id = enroll(services)
    lot = order(services, "o-1", "100").entry.lot
    assert lot is not None
    assert lot.expires_at is not None
    clock.advance(14 * DAY)
    report = services.maintenance.run()
    assert (report.members_due, report.lots_activated, report.lots_expired) == (1, 1, 0)
    assert stored_member(member_id).points.lots[0].status == LotStatus.ACTIVE.value
    assert stored_due_at(member_id) == lot.expires_at
    redeem(services, 30, "k-1")
    clock.advance(365 * DAY)
    report = services.maintenance.run()
    assert (report.lots_expired, report.points_expired) == (1, 70)
    expiry = ledger_entries(member_id)[-1]
    assert expiry.kind is EntryKind.EXPIRE
    assert (expiry.points, expiry.balance_after) == (-70, 0)
    assert expiry.funding == (Funding(lot.id, 70),)
    again = services.maintenance.run()
    assert (again.members_due, again.members_changed) == (0, 0)
    assert len(ledger_entries(member_id)) == 3
    assert stored_due_at(member_id) is None  # out of the sparse index
    assert_ledger_consistent(member_id)


def test_the_job_reads_only_the_members_that_are_due(services: Services) -> None:
    for i in range(12):
        enroll(services, f"cust-{i}")
        placed = services.clock.now() - (400 * DAY if i < 3 else DAY)
        order(services, f"o-{i}", "10", customer_id=f"cust-{i}", placed_at=placed)
    for i in range(12, 20):
        enroll(services, f"cust-{i}")  # no lots: not in the index at all
    with count_requests() as calls:
        report = services.maintenance.run()
    assert report.members_due == 3
    assert report.lots_expired == 3
    assert "Scan" not in calls
    # Settings, then one Query per shard, then per due member a read and a transaction.
    assert calls["GetItem"] == 2 + 3
    assert calls["TransactWriteItems"] == 3
    assert calls["Query"] == 8


def test_a_lot_past_both_dates_expires_without_activating(services: Services) -> None:
    member_id = enroll(services)
    order(services, "o-1", "10", placed_at=services.clock.now() - 500 * DAY)
    report = services.maintenance.run()
    assert (report.lots_activated, report.lots_expired, report.points_expired) == (0, 1, 10)
    assert_ledger_consistent(member_id)


def test_a_run_out_of_time_stops_and_leaves_the_rest_due(services: Services) -> None:
    for i in range(3):
        enroll(services, f"cust-{i}")
        order(
            services,
            f"o-{i}",
            "10",
            customer_id=f"cust-{i}",
            placed_at=services.clock.now() - 500 * DAY,
        )
    stopped = services.maintenance.run(should_stop=lambda: True)
    assert (stopped.complete, stopped.members_changed) == (False, 0)
    finished = services.maintenance.run()
    assert (finished.complete, finished.members_changed, finished.points_expired) == (True, 3, 30)
