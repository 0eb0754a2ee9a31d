"""Property: whatever the sequence of operations, the ledger stays consistent.

For random sequences of orders, partial refunds, redemptions, rewards redeemed and
cancelled, adjustments, goodwill on resolving a follow-up, referrals (a new customer enrols
with a member's code and orders; the job rewards the referrer with a REFERRAL entry, or
refuses if the order was refunded), clock moves and job runs, under either negative-balance
policy: every member's balance equals the sum of their entries and of their lots minus
debt, each entry's balance_after is the running sum, no lot goes negative, and refunds
never take back more than their order earned.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from api.clock import ManualClock
from api.config import Config, Stage
from api.errors import DomainError
from api.ids import member_id_for
from api.members.model import EnrollInput
from api.points.model import AdjustInput, EntryKind, RefundInput
from api.points.store import order_key
from api.program.model import NegativeBalancePolicy, ReferralChange, SettingsChange
from api.rewards.model import RedeemInput, RewardInput, RewardType
from api.services import build_services
from api.store import reads
from api.store.base import TableItem
from api.stream import Change
from local.table import create_table
from tests.support import (
    ADMIN,
    SERVICE,
    START,
    assert_ledger_consistent,
    enroll,
    ledger_entries,
    order,
    redeem,
    stored_member,
    unhappy_answer,
)

CUSTOMERS = ("cust-a", "cust-b")
customer = st.sampled_from(CUSTOMERS)
operation = st.one_of(
    st.tuples(st.just("order"), customer, st.integers(0, 500), st.integers(0, 400)),
    st.tuples(st.just("refund"), st.integers(0, 20), st.integers(1, 100)),
    st.tuples(st.just("redeem"), customer, st.integers(1, 300)),
    st.tuples(st.just("adjust"), customer, st.integers(-200, 200).filter(bool)),
    st.tuples(st.just("goodwill"), customer, st.integers(1, 300)),
    st.tuples(st.just("referee"), customer, st.integers(1, 300)),
    st.tuples(st.just("advance"), st.integers(1, 200)),
    st.tuples(st.just("reward"), customer),
    st.tuples(st.just("cancel"), st.integers(0, 20)),
    st.tuples(
        st.just("job"),
    ),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(policy=st.sampled_from(NegativeBalancePolicy), ops=st.lists(operation, max_size=25))
# Referral rewards need a referee, then a week, then the job: always try that, refunded too.
@example(
    policy=NegativeBalancePolicy.ALLOW_NEGATIVE,
    ops=[("referee", "cust-a", 120), ("redeem", "cust-a", 50), ("advance", 8), ("job",)],
)
@example(
    policy=NegativeBalancePolicy.STOP_AT_ZERO,
    ops=[("referee", "cust-b", 80), ("refund", 0, 100), ("advance", 8), ("job",)],
)
def test_ledger_invariants_hold_for_any_sequence(
    dynamodb_client: Any, policy: NegativeBalancePolicy, ops: list[tuple[Any, ...]]
) -> None:
    with mock_aws():
        create_table(dynamodb_client, "loyalty-test")
        clock = ManualClock(START)
        services = build_services(
            Config(stage=Stage.DEV, table_name="loyalty-test", maintenance_workers=1), clock
        )
        services.program.update(
            ADMIN,
            SettingsChange(
                negative_balance_policy=policy,
                return_window_days=7,
                lot_validity_days=90,
                referrals=ReferralChange(enabled=True, referrer_points=75, monthly_cap=4),
            ),
        )
        services.rewards.create(ADMIN, RewardInput("tote", "Tote", 50, RewardType.PERK, stock=5))
        members = {c: enroll(services, c) for c in CUSTOMERS}
        orders: list[tuple[str, Decimal]] = []
        redemptions: list[str] = []
        for n, op in enumerate(ops):
            with suppress(DomainError):  # refusals are fine if they wrote nothing
                apply(services, clock, orders, n, op, redemptions)
            if op[0] == "referee":
                members[f"ref-{n}"] = member_id_for(f"ref-{n}")
            for member_id in members.values():
                assert_ledger_consistent(member_id)
                if policy is NegativeBalancePolicy.STOP_AT_ZERO:
                    assert stored_member(member_id).balance >= 0
        for customer_id in CUSTOMERS:  # each referral reward is one REFERRAL entry
            rewards = [
                e.points
                for e in ledger_entries(members[customer_id])
                if e.kind is EntryKind.REFERRAL
            ]
            summary = services.referrals.overview(ADMIN, members[customer_id]).summary
            assert (summary.rewarded, summary.points_earned) == (len(rewards), sum(rewards))
        for order_id, _ in orders:
            recorded = services.orders.get_order(ADMIN, order_id)
            assert recorded is not None
            assert recorded.points_reversed <= recorded.points_earned
            refunds = [
                e
                for m in members.values()
                for e in ledger_entries(m)
                if e.kind is EntryKind.REFUND and e.order_id == order_id
            ]
            assert -sum(e.points for e in refunds) + sum(e.shortfall for e in refunds) == (
                recorded.points_reversed
            )


def apply(
    services: Any,
    clock: ManualClock,
    orders: list[tuple[str, Decimal]],
    n: int,
    op: tuple[Any, ...],
    redemptions: list[str],
) -> None:
    match op:
        case ("order", cust, amount, days_ago):
            order_id = f"o-{n}"
            order(
                services,
                order_id,
                str(amount),
                customer_id=cust,
                placed_at=clock.now() - timedelta(days=days_ago),
            )
            orders.append((order_id, Decimal(amount)))
        case ("refund", index, percent) if orders:
            order_id, total = orders[index % len(orders)]
            amount = (total * percent / 100).quantize(Decimal("0.01"))
            services.refunds.refund_order(SERVICE, RefundInput(f"r-{n}", order_id, amount, "EUR"))
        case ("redeem", cust, points):
            redeem(services, points, f"k-{n}", customer_id=cust)
        case ("adjust", cust, points):
            services.spending.adjust(
                ADMIN,
                AdjustInput(
                    points=points, reason="test", idempotency_key=f"a-{n}", customer_id=cust
                ),
            )
        case ("goodwill", cust, points):
            # An unhappy answer's follow-up, resolved with goodwill points (a GOODWILL entry).
            follow_up = unhappy_answer(services, f"ans_{n}", cust)
            services.follow_ups.resolve(ADMIN, follow_up, "Sorry.", points, f"g-{n}")
        case ("referee", referrer, amount):
            code = services.referrals.overview(ADMIN, member_id_for(referrer)).code
            enrolled = services.members.join(
                SERVICE, EnrollInput(f"ref-{n}", "UTC", "en", referral_code=code)
            )
            order_id = f"o-{n}"
            order(services, order_id, str(amount), customer_id=f"ref-{n}", placed_at=clock.now())
            orders.append((order_id, Decimal(amount)))
            # What the stream delivers: the order, seen by the referrals' reaction.
            item = reads.get(order_key(order_id), TableItem)
            services.reactions.dispatch(Change(f"e-{n}", None, item))
            assert enrolled.referral is not None
        case ("reward", cust):
            got = services.redemptions.redeem(
                SERVICE, RedeemInput("tote", f"t-{n}", customer_id=cust)
            )
            redemptions.append(got.id)
        case ("cancel", index) if redemptions:
            services.redemptions.cancel(SERVICE, redemptions[index % len(redemptions)])
        case ("advance", days):
            clock.advance(timedelta(days=days))
        case ("job",):
            services.maintenance.run()
            referrals = services.referral_rewards.run()
            event(f"referrals rewarded: {referrals.rewarded > 0}, refused: {referrals.refused > 0}")
