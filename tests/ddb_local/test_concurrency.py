"""Concurrency against AWS's DynamoDB Local: nothing lost, nothing doubled."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import TypeVar

import pytest

from api.errors import DomainError, InsufficientPoints
from api.ids import member_id_for
from api.points.maintenance import MaintenanceReport
from api.points.model import AdjustInput, Entry, EntryKind, OrderResult, RefundInput
from api.program.model import SettingsChange
from api.services import Services
from api.tiers.model import ConfigInput, DowngradePolicy, Metric, TierInput, Window
from tests.support import (
    ADMIN,
    SERVICE,
    assert_ledger_consistent,
    enroll,
    ledger_entries,
    order,
    redeem,
    stored_member,
)

pytestmark = pytest.mark.ddb_local
T = TypeVar("T")


def all_at_once(calls: list[Callable[[], T]]) -> list[T | DomainError]:
    """Run the calls on as many threads, released together."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T | DomainError:
        barrier.wait()
        try:
            return call()
        except DomainError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.fixture
def funded(local_services: Services) -> str:
    """A member with exactly 100 spendable points."""
    services = local_services
    member_id = enroll(services)
    services.spending.adjust(
        ADMIN, AdjustInput(points=100, reason="test", idempotency_key="seed", member_id=member_id)
    )
    return member_id


def test_fifty_concurrent_redemptions_of_ten_against_a_hundred(
    local_services: Services, funded: str
) -> None:
    results = all_at_once([partial(redeem, local_services, 10, f"k-{i}") for i in range(50)])
    outcomes = Counter(type(r).__name__ for r in results)
    assert outcomes == {"Entry": 10, "InsufficientPoints": 40}, outcomes
    assert stored_member(funded).balance == 0
    entries = ledger_entries(funded)
    assert min(e.balance_after for e in entries) == 0  # never below
    assert sorted(e.balance_after for e in entries[1:]) == list(range(0, 100, 10))
    assert_ledger_consistent(funded)


def test_twenty_concurrent_replays_of_one_order_make_one_lot(local_services: Services) -> None:
    member_id = enroll(local_services)
    placed = local_services.clock.now()
    results = all_at_once(
        [(lambda: order(local_services, "o-1", "42.00", placed_at=placed)) for _ in range(20)]
    )
    assert not [r for r in results if isinstance(r, DomainError)]
    assert len({r.entry for r in results if isinstance(r, OrderResult)}) == 1
    assert len(stored_member(member_id).points.lots) == 1
    assert len(ledger_entries(member_id)) == 1
    assert stored_member(member_id).balance == 42
    assert_ledger_consistent(member_id)


def earn(services: Services, order_id: str, placed: datetime) -> Entry:
    return order(services, order_id, "20.00", placed_at=placed).entry


def test_mixed_concurrent_earnings_and_redemptions_keep_the_books(
    local_services: Services, funded: str
) -> None:
    local_services.program.update(ADMIN, SettingsChange(return_window_days=0))
    placed = local_services.clock.now() - timedelta(seconds=1)
    calls: list[Callable[[], Entry]] = []
    for i in range(15):
        calls.append(
            partial(lambda i: order(local_services, f"o-{i}", "20.00", placed_at=placed).entry, i)
        )
        calls.append(partial(redeem, local_services, 15, f"k-{i}"))
        calls.append(partial(redeem, local_services, 15, f"k-{i}"))  # a replay
    results = all_at_once(calls)
    errors = [r for r in results if isinstance(r, DomainError)]
    assert all(isinstance(e, InsufficientPoints) for e in errors), errors
    redeemed = {r.seq for r in results if isinstance(r, Entry) and r.kind is EntryKind.REDEEM}
    spent = 15 * len(redeemed)
    assert stored_member(funded).balance == 100 + 15 * 20 - spent
    assert_ledger_consistent(funded)


def test_concurrent_refunds_never_take_back_more_than_the_order(
    local_services: Services,
) -> None:
    member_id = enroll(local_services)
    order(local_services, "o-1", "100.00")
    refund = local_services.refunds.refund_order
    results = all_at_once(
        [
            partial(refund, SERVICE, RefundInput(f"r-{i}", "o-1", Decimal("30.00"), "EUR"))
            for i in range(8)
        ]
    )
    succeeded = [r for r in results if not isinstance(r, DomainError)]
    assert len(succeeded) == 3  # 3 x 30 fits in 100; a fourth would exceed it
    recorded = local_services.orders.get_order(ADMIN, "o-1")
    assert recorded is not None
    assert recorded.refunded.amount == Decimal("90.00")
    assert recorded.points_reversed == 90
    assert stored_member(member_id).balance == 10
    assert_ledger_consistent(member_id)


def test_overlapping_job_runs_expire_each_lot_once(local_services: Services) -> None:
    for i in range(5):
        enroll(local_services, f"cust-{i}")
        order(
            local_services,
            f"o-{i}",
            "10",
            customer_id=f"cust-{i}",
            placed_at=local_services.clock.now() - timedelta(days=500),
        )
    reports = all_at_once([local_services.maintenance.run for _ in range(4)])
    assert sum(r.points_expired for r in reports if isinstance(r, MaintenanceReport)) == 50
    for i in range(5):
        member_id = member_id_for(f"cust-{i}")
        assert stored_member(member_id).balance == 0
        assert len(ledger_entries(member_id)) == 2
        assert_ledger_consistent(member_id)


def test_concurrent_orders_crossing_a_threshold_upgrade_once_with_one_bonus(
    local_services: Services,
) -> None:
    services = local_services
    services.tiers.update(
        ADMIN,
        ConfigInput(
            tiers=[
                TierInput("BASE", "Base", Decimal(0)),
                TierInput("GOLD", "Gold", Decimal(100), Decimal(2), entry_bonus=500),
            ],
            metric=Metric.QUALIFYING_POINTS,
            window=Window.ROLLING_12_MONTHS,
            downgrade=DowngradePolicy.ONE_TIER,
        ),
    )
    member_id = enroll(services)
    placed = services.clock.now()
    # Ten orders of 30: together they cross 100, whichever lands first.
    results = all_at_once(
        [partial(order, services, f"o-{i}", "30", placed_at=placed) for i in range(10)]
    )
    assert not [r for r in results if isinstance(r, DomainError)]
    entries = ledger_entries(member_id)
    bonuses = [e for e in entries if e.kind is EntryKind.TIER_BONUS]
    assert [e.points for e in bonuses] == [500]
    history = services.tiers.history(ADMIN, member_id, 10, None).changes
    assert [(c.from_code, c.to_code) for c in history] == [("BASE", "GOLD")]
    assert stored_member(member_id).tier.code == "GOLD"
    earns = sorted((e.seq, e.multiplier) for e in entries if e.kind is EntryKind.EARN)
    # Orders before the upgrade earned at 1x, those after at Gold's 2x: by ledger order.
    upgraded_at = bonuses[0].seq
    assert all(m == (1 if seq < upgraded_at else 2) for seq, m in earns)
    assert_ledger_consistent(member_id)
