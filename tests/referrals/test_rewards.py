"""The referee's first order, seen on the table's stream, makes the referral due at the end
of its return window; the scheduled job then rewards the referrer (a REFERRAL entry and
lot) or refuses it (the order was refunded). Redeliveries and re-runs change nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from api.clock import ManualClock
from api.ids import member_id_for
from api.members.model import EnrollInput, ProfileChange
from api.points.lots import LotStatus
from api.points.model import EntryKind, RefundInput
from api.program.model import ReferralChange, SettingsChange
from api.referrals.model import JobReport, Referral, ReferralStatus, Refusal, Summary
from api.services import Services
from api.store.base import TableItem
from api.stream import change_from_record
from local.stream import TableStream
from tests.referrals.conftest import code_of, join
from tests.support import (
    ADMIN,
    SERVICE,
    assert_ledger_consistent,
    enroll,
    ledger_entries,
    member,
    order,
    stored_member,
)

ALICE = member_id_for("alice")
BOB = member_id_for("bob")
WINDOW = timedelta(days=14)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@pytest.fixture
def stream(shop: Services, dynamodb_client: Any) -> TableStream:
    return TableStream(dynamodb_client, shop.config.table_name)


def deliver(services: Services, stream: TableStream, *, times: int = 1) -> None:
    """What handlers/stream.py does with the records written since the last delivery."""
    for record in stream.read():
        for _ in range(times):
            services.reactions.dispatch(change_from_record(record))


def referred(shop: Services) -> Referral:
    enroll(shop, "alice")
    joined = join(shop, "bob", code_of(shop, "alice"), name="Bob Smith")
    assert joined.referral is not None
    return joined.referral


def bobs(shop: Services) -> Referral:
    referral = shop.referrals.overview(ADMIN, BOB).invitation
    assert referral is not None
    return referral


def due_keys() -> list[tuple[str, str]]:
    """What the due index holds for referrals (sparse: only those the job must decide)."""
    return [
        key.key
        for shard in range(4)
        for key in TableItem.due_index.query(f"REFERRAL#{shard}", TableItem.due_at > EPOCH)
    ]


def test_a_first_order_kept_through_its_window_rewards_the_referrer(
    shop: Services, clock: ManualClock, stream: TableStream
) -> None:
    referred(shop)
    assert due_keys() == []  # no order yet: nothing for the job
    order(shop, "o-1", "40.00", customer_id="bob")
    deliver(shop, stream)
    waiting = bobs(shop)
    assert (waiting.first_order_id, waiting.due_at) == ("o-1", clock.now() + WINDOW)
    assert due_keys() == [(f"REFERRAL#{BOB}", "REFERRAL")]
    assert shop.referral_rewards.run() == JobReport()  # not due yet
    clock.advance(WINDOW)

    assert shop.referral_rewards.run() == JobReport(due=1, rewarded=1, points=250)

    rewarded = bobs(shop)
    assert rewarded.status is ReferralStatus.REWARDED
    assert rewarded.decided_at == clock.now()
    entries = ledger_entries(ALICE)
    [entry] = [e for e in entries if e.kind is EntryKind.REFERRAL]
    assert (entry.points, entry.seq, entry.reason) == (250, rewarded.entry_seq, "Referral: Bob S.")
    assert entry.lot is not None
    assert entry.lot.status is LotStatus.ACTIVE
    assert entry.lot.expires_at == clock.now() + timedelta(days=365)
    alice = stored_member(ALICE)
    assert alice.points.available(clock.now()) == 250
    assert_ledger_consistent(ALICE)
    overview = shop.referrals.overview(ADMIN, ALICE)
    assert overview.summary == Summary(rewarded=1, points_earned=250)
    [listed] = shop.referrals.referrals(ADMIN, ALICE, 5, None).referrals
    assert listed == replace(rewarded, version=None)  # the copy has no version of its own
    assert due_keys() == []
    # Again: nothing is due, nothing changes.
    assert shop.referral_rewards.run() == JobReport()
    assert stored_member(ALICE) == alice


def test_older_and_empty_orders_are_not_a_first_order(
    shop: Services, clock: ManualClock, stream: TableStream
) -> None:
    referred(shop)
    # Imported history from before the referral shows a customer already; an order of
    # nothing (a free sample, a 100%-off cart) is not one either.
    order(shop, "o-old", "40.00", customer_id="bob", placed_at=clock.now() - timedelta(days=60))
    order(shop, "o-free", "0.00", customer_id="bob")
    deliver(shop, stream)
    assert bobs(shop).first_order_id is None
    assert shop.referral_rewards.run() == JobReport()
    order(shop, "o-1", "40.00", customer_id="bob")
    deliver(shop, stream)
    assert bobs(shop).first_order_id == "o-1"


def test_contact_details_added_later_can_show_a_self_referral(
    shop: Services, clock: ManualClock, stream: TableStream
) -> None:
    shop.members.enroll(
        SERVICE, EnrollInput("alice", "UTC", "en", email="alice@example.com", name="Alice")
    )
    joined = join(shop, "bob", code_of(shop, "alice"), name="Bob Smith")
    assert joined.referral is not None
    assert joined.referral.status is ReferralStatus.PENDING
    shop.members.update_profile(member("bob"), ProfileChange(email="Alice+again@Example.com"))
    order(shop, "o-1", "40.00", customer_id="bob")
    deliver(shop, stream)
    clock.advance(WINDOW)
    assert shop.referral_rewards.run() == JobReport(due=1, refused=1)
    assert (bobs(shop).status, bobs(shop).reason) == (ReferralStatus.REFUSED, Refusal.SELF_REFERRAL)
    assert [e for e in ledger_entries(ALICE) if e.kind is EntryKind.REFERRAL] == []


def test_a_refunded_first_order_refuses_the_referral(
    shop: Services, clock: ManualClock, stream: TableStream
) -> None:
    referred(shop)
    order(shop, "o-1", "40.00", customer_id="bob")
    shop.refunds.refund_order(SERVICE, RefundInput("r-1", "o-1", Decimal("1.00"), "EUR"))
    deliver(shop, stream)
    clock.advance(WINDOW)
    assert shop.referral_rewards.run() == JobReport(due=1, refused=1)
    refused = bobs(shop)
    assert (refused.status, refused.reason, refused.points) == (
        ReferralStatus.REFUSED,
        Refusal.FIRST_ORDER_REFUNDED,
        0,
    )
    assert [e for e in ledger_entries(ALICE) if e.kind is EntryKind.REFERRAL] == []
    assert shop.referrals.overview(ADMIN, ALICE).summary == Summary(refused=1)


def test_redelivered_and_later_orders_change_nothing(
    shop: Services, clock: ManualClock, stream: TableStream
) -> None:
    referred(shop)
    order(shop, "o-1", "40.00", customer_id="bob")
    deliver(shop, stream, times=2)
    first = bobs(shop)
    clock.advance(timedelta(days=3))
    order(shop, "o-2", "20.00", customer_id="bob")
    deliver(shop, stream, times=2)
    assert bobs(shop) == first


def test_an_earlier_order_delivered_later_is_the_first(
    shop: Services, clock: ManualClock, stream: TableStream
) -> None:
    referred(shop)
    clock.advance(timedelta(days=1))
    order(shop, "o-late", "20.00", customer_id="bob")
    order(shop, "o-early", "40.00", customer_id="bob", placed_at=clock.now() - timedelta(hours=1))
    records = stream.read()
    for record in reversed(records):  # stream records of two items come in any order
        shop.reactions.dispatch(change_from_record(record))
    assert bobs(shop).first_order_id == "o-early"
    assert bobs(shop).due_at == clock.now() - timedelta(hours=1) + WINDOW


def test_a_longer_return_window_postpones_the_decision(
    shop: Services, clock: ManualClock, stream: TableStream
) -> None:
    referred(shop)
    placed = clock.now()
    order(shop, "o-1", "40.00", customer_id="bob")
    deliver(shop, stream)
    shop.program.update(ADMIN, SettingsChange(return_window_days=30))
    clock.advance(WINDOW)
    assert shop.referral_rewards.run() == JobReport(due=1, postponed=1)
    assert bobs(shop).due_at == placed + timedelta(days=30)
    clock.advance(timedelta(days=16))
    assert shop.referral_rewards.run().rewarded == 1


def test_refused_referrals_never_become_due(
    services: Services, clock: ManualClock, dynamodb_client: Any
) -> None:
    stream = TableStream(dynamodb_client, services.config.table_name)
    enroll(services, "alice")
    join(services, "bob", code_of(services, "alice"))  # referrals off: PROGRAM_OFF
    order(services, "o-1", "40.00", customer_id="bob")
    deliver(services, stream)
    clock.advance(WINDOW)
    assert services.referral_rewards.run() == JobReport()
    assert bobs(services).first_order_id is None


def test_the_promised_points_are_paid_whatever_the_settings_say_later(
    shop: Services, clock: ManualClock, stream: TableStream
) -> None:
    referred(shop)
    order(shop, "o-1", "40.00", customer_id="bob")
    deliver(shop, stream)
    shop.program.update(
        ADMIN, SettingsChange(referrals=ReferralChange(enabled=False, referrer_points=5))
    )
    clock.advance(WINDOW)
    assert shop.referral_rewards.run() == JobReport(due=1, rewarded=1, points=250)


def test_the_test_clock_drives_the_job(
    shop: Services, clock: ManualClock, stream: TableStream
) -> None:
    referred(shop)
    order(shop, "o-1", "40.00", customer_id="bob", placed_at=shop.program.current_time())
    deliver(shop, stream)
    shop.program.advance_clock(ADMIN, days=14)
    assert clock.now() < bobs(shop).due_at  # type: ignore[operator]
    assert shop.referral_rewards.run().rewarded == 1
