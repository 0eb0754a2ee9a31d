"""Tiers through the services: configuration, upgrades with orders, refunds and reviews,
tiers set by hand, the earn preview, history and the home view's cost."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from api.errors import Forbidden, IdempotencyConflict, InvalidInput, MemberNotFound
from api.ids import member_id_for
from api.points.model import EntryKind, RefundInput
from api.program.model import SettingsChange
from api.services import Services
from api.stream import Change
from api.tiers import credit, rules
from api.tiers.model import (
    ChangeReason,
    ConfigInput,
    DowngradePolicy,
    Metric,
    SetTierInput,
    TierInput,
    Window,
)
from api.tiers.store import read_config
from tests.support import (
    ADMIN,
    SERVICE,
    assert_ledger_consistent,
    count_requests,
    enroll,
    ledger_entries,
    member,
    order,
    stored_due_at,
    stored_member,
)

DAY = timedelta(days=1)
LADDER = [
    TierInput("BRONZE", "Bronze", Decimal(0)),
    TierInput("SILVER", "Silver", Decimal(100), Decimal("1.25"), ["Free shipping"], 50),
    TierInput("GOLD", "Gold", Decimal(500), Decimal("1.5"), ["Early access"], 200),
    TierInput("PLATINUM", "Platinum", Decimal(2000), Decimal(2), [], 1000),
]


def config_input(**changes: object) -> ConfigInput:
    base = ConfigInput(
        tiers=LADDER,
        metric=Metric.QUALIFYING_POINTS,
        window=Window.ROLLING_12_MONTHS,
        downgrade=DowngradePolicy.ONE_TIER,
        grace_days=30,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def member_id(services: Services) -> str:
    services.program.update(ADMIN, SettingsChange(return_window_days=0))
    services.tiers.update(ADMIN, config_input())
    return enroll(services)


def tier_of(member_id: str) -> str | None:
    return stored_member(member_id).tier.code


def test_an_order_that_skips_tiers_passes_through_each_in_its_own_transaction(
    services: Services, member_id: str
) -> None:
    with count_requests() as calls:
        result = order(services, "o-1", "600")  # 600 base points: Bronze -> Gold
    assert dict(calls) == {"BatchGetItem": 1, "TransactWriteItems": 1}
    assert tier_of(member_id) == "GOLD"
    assert result.entry.points == 600  # Bronze's multiplier: the tier held at the order
    assert (result.entry.base_points, result.entry.multiplier) == (600, Decimal(1))
    kinds = [(e.kind, e.points, e.reason) for e in ledger_entries(member_id)]
    assert kinds == [
        (EntryKind.EARN, 600, None),
        (EntryKind.TIER_BONUS, 50, "Entry bonus: Silver"),
        (EntryKind.TIER_BONUS, 200, "Entry bonus: Gold"),
    ]
    history = services.tiers.history(member("cust-1"), member_id, 10, None)
    assert [(c.from_code, c.to_code, c.reason, c.order_id) for c in history.changes] == [
        ("SILVER", "GOLD", ChangeReason.QUALIFIED, "o-1"),
        ("BRONZE", "SILVER", ChangeReason.QUALIFIED, "o-1"),
    ]
    # The next order earns Gold's multiplier, and no bonus again.
    second = order(services, "o-2", "100")
    assert (second.entry.points, second.entry.multiplier) == (150, Decimal("1.5"))
    assert len(ledger_entries(member_id)) == 4
    assert_ledger_consistent(member_id)


def test_entry_bonuses_are_once_per_tier_ever(services: Services, member_id: str) -> None:
    order(services, "o-1", "150")  # Silver
    services.refunds.refund_order(SERVICE, RefundInput("r-1", "o-1", Decimal(150), "EUR"))
    services.program.advance_clock(ADMIN, days=31)  # grace: the refund's review is due
    services.maintenance.run()
    assert tier_of(member_id) == "BRONZE"
    order(services, "o-2", "150")  # Silver again: no second bonus
    bonuses = [e for e in ledger_entries(member_id) if e.kind is EntryKind.TIER_BONUS]
    assert [e.points for e in bonuses] == [50]
    assert tier_of(member_id) == "SILVER"
    assert_ledger_consistent(member_id)


def test_a_full_refund_of_the_promoting_order_downgrades_at_review_after_grace(
    services: Services, member_id: str
) -> None:
    order(services, "o-1", "80")
    order(services, "o-2", "520")  # 600: Gold
    assert tier_of(member_id) == "GOLD"
    services.refunds.refund_order(SERVICE, RefundInput("r-1", "o-2", Decimal(520), "EUR"))
    state = stored_member(member_id).tier
    config = read_config()
    now = services.program.current_time()
    assert credit.value(state, config, now) == 80  # its credit is gone at once
    assert tier_of(member_id) == "GOLD"  # but the tier waits for the review
    assert state.review_at == now + 30 * DAY  # brought forward to the end of grace
    assert stored_due_at(member_id) == state.review_at
    services.program.advance_clock(ADMIN, days=29)
    services.maintenance.run()
    assert tier_of(member_id) == "GOLD"  # grace honoured
    services.program.advance_clock(ADMIN, days=1)
    report = services.maintenance.run()
    assert (report.tiers_reviewed, report.tiers_lowered) == (1, 1)
    assert tier_of(member_id) == "SILVER"  # ONE_TIER; Bronze is what 80 qualifies for
    again = services.maintenance.run()  # a second review changes nothing
    assert (again.members_due, again.members_changed) == (0, 0)
    history = services.tiers.history(ADMIN, member_id, 1, None).changes
    assert (history[0].from_code, history[0].to_code, history[0].reason) == (
        "GOLD",
        "SILVER",
        ChangeReason.REVIEW,
    )


def test_to_qualified_goes_straight_down_but_never_below_the_remaining_credit(
    services: Services, member_id: str
) -> None:
    services.tiers.update(ADMIN, config_input(downgrade=DowngradePolicy.TO_QUALIFIED))
    order(services, "o-1", "150")
    order(services, "o-2", "2000")  # Platinum
    services.refunds.refund_order(SERVICE, RefundInput("r-1", "o-2", Decimal(2000), "EUR"))
    services.program.advance_clock(ADMIN, days=30)
    services.maintenance.run()
    assert tier_of(member_id) == "SILVER"  # what the remaining 150 qualifies for


def test_a_tier_kept_at_review_lasts_another_year_and_a_lapsed_one_drops(
    services: Services, member_id: str
) -> None:
    order(services, "o-1", "150")  # Silver until a year from now (+30 days grace)
    review_at = stored_member(member_id).tier.review_at
    assert review_at is not None
    services.program.advance_clock(ADMIN, days=200)
    order(services, "o-2", "120", placed_at=services.program.current_time())  # counts: kept
    services.program.advance_clock(ADMIN, days=366 + 30 - 200)
    services.maintenance.run()
    state = stored_member(member_id).tier
    assert state.code == "SILVER"
    assert state.review_at is not None
    assert state.review_at > review_at + 300 * DAY
    services.program.advance_clock(ADMIN, days=400)  # nothing in the last 12 months
    services.maintenance.run()
    assert tier_of(member_id) == "BRONZE"


def test_a_changed_configuration_never_downgrades_before_the_review(
    services: Services, member_id: str
) -> None:
    order(services, "o-1", "150")  # Silver at 100
    raised = [replace(t, threshold=t.threshold * 10) for t in LADDER]
    services.tiers.update(ADMIN, config_input(tiers=raised))
    order(services, "o-2", "10")
    assert tier_of(member_id) == "SILVER"
    services.maintenance.run()
    assert tier_of(member_id) == "SILVER"


def test_the_test_clock_moves_members_through_reviews(services: Services, member_id: str) -> None:
    order(services, "o-1", "600")
    assert tier_of(member_id) == "GOLD"
    for _ in range(3):  # Gold -> Silver -> Bronze, one tier a review
        services.program.advance_clock(ADMIN, days=400)
        services.maintenance.run()
    assert tier_of(member_id) == "BRONZE"
    assert stored_member(member_id).tier.review_at is None  # the base tier is never reviewed
    assert stored_due_at(member_id) is None or stored_member(member_id).points.lots


def test_an_admin_sets_a_tier_until_a_date_then_it_is_reviewed(
    services: Services, member_id: str
) -> None:
    until = services.program.current_time() + 90 * DAY
    data = SetTierInput("PLATINUM", "Influencer deal", until, "set-1", customer_id="cust-1")
    updated, change = services.tiers.set_member_tier(ADMIN, data)
    assert updated.tier.code == "PLATINUM"
    assert (change.reason, change.note, change.actor) == (
        ChangeReason.MANUAL,
        "Influencer deal",
        ADMIN.actor,
    )
    assert services.tiers.set_member_tier(ADMIN, data) == (updated, change)  # a replay
    with pytest.raises(IdempotencyConflict):
        services.tiers.set_member_tier(ADMIN, replace(data, tier="GOLD"))
    assert order(services, "o-1", "10").entry.multiplier == 2  # Platinum's
    services.program.advance_clock(ADMIN, days=89)
    services.maintenance.run()
    assert tier_of(member_id) == "PLATINUM"  # held until its end date
    services.program.advance_clock(ADMIN, days=1)
    services.maintenance.run()
    assert tier_of(member_id) == "GOLD"  # then reviewed: one tier down
    with pytest.raises(Forbidden):
        services.tiers.set_member_tier(SERVICE, replace(data, idempotency_key="set-2"))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"tier": "DIAMOND"}, "tier"),
        ({"until": "past"}, "until"),
        ({"reason": " "}, "reason"),
        ({"idempotency_key": "a b"}, "idempotencyKey"),
        ({"customer_id": "nobody"}, None),
    ],
)
def test_setting_a_tier_by_hand_refuses_bad_input(
    services: Services, member_id: str, changes: dict[str, str], field: str | None
) -> None:
    now = services.program.current_time()
    values: dict[str, object] = {
        "tier": "GOLD",
        "reason": "VIP",
        "until": now + DAY,
        "idempotency_key": "k",
        "customer_id": "cust-1",
    }
    values.update(changes)
    if values["until"] == "past":
        values["until"] = now - DAY
    before = stored_member(member_id)
    with pytest.raises((InvalidInput, MemberNotFound)) as error:
        services.tiers.set_member_tier(ADMIN, SetTierInput(**values))  # type: ignore[arg-type]
    assert getattr(error.value, "field", None) == field
    assert stored_member(member_id) == before


@pytest.mark.parametrize(
    ("tiers", "changes", "field"),
    [
        ([TierInput("BASE", "Base", Decimal(5))], {}, "tiers[0].threshold"),
        (
            [TierInput("A", "A", Decimal(0)), TierInput("B", "B", Decimal(0))],
            {},
            "tiers[1].threshold",
        ),
        (
            [TierInput("A", "A", Decimal(0)), TierInput("B", "a", Decimal(10))],
            {},
            "tiers[1].name",
        ),
        (
            [TierInput("A", "A", Decimal(0)), TierInput("A", "B", Decimal(10))],
            {},
            "tiers[1].code",
        ),
        (
            [TierInput("A", "A", Decimal(0)), TierInput("B", "B", Decimal(10), Decimal(11))],
            {},
            "tiers[1].multiplier",
        ),
        (
            [TierInput("A", "A", Decimal(0)), TierInput("B", "B", Decimal(10), Decimal("0.5"))],
            {},
            "tiers[1].multiplier",
        ),
        (
            [TierInput("A", "A", Decimal(0)), TierInput("B", "B", Decimal("10.5"))],
            {},
            "tiers[1].threshold",
        ),
        ([TierInput("A", "A", Decimal(0), entry_bonus=5)], {}, "tiers[0].entryBonus"),
        ([TierInput("lower", "A", Decimal(0))], {}, "tiers[0].code"),
        ([TierInput("A", "A\x00", Decimal(0))], {}, "tiers[0].name"),
        ([TierInput("A", "A", Decimal("NaN"))], {}, "tiers[0].threshold"),
        (LADDER, {"grace_days": 366}, "graceDays"),
        (LADDER, {"spend_currency": "XYZ"}, "spendCurrency"),
        ([TierInput(f"T{i}", f"T{i}", Decimal(i)) for i in range(11)], {}, "tiers"),
    ],
)
def test_invalid_configurations_are_refused_and_nothing_is_written(
    services: Services, tiers: list[TierInput], changes: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        services.tiers.update(ADMIN, config_input(tiers=tiers, **changes))
    assert error.value.field == field
    assert read_config().version is None


def test_tiers_cannot_be_removed_once_configured(services: Services, member_id: str) -> None:
    with pytest.raises(InvalidInput, match="GOLD"):
        services.tiers.update(ADMIN, config_input(tiers=[t for t in LADDER if t.code != "GOLD"]))
    spend = services.tiers.update(ADMIN, config_input(metric=Metric.SPEND, tiers=LADDER))
    assert (spend.metric, spend.spend_currency) == (Metric.SPEND, "EUR")
    with pytest.raises(Forbidden):
        services.tiers.update(SERVICE, config_input())


def test_spend_and_orders_metrics_count_net_of_refunds(services: Services, member_id: str) -> None:
    services.tiers.update(ADMIN, config_input(metric=Metric.SPEND))
    order(services, "o-1", "99.99")
    order(services, "o-2", "25.00", currency="USD")  # another currency: not SPEND in EUR
    config = read_config()
    now = services.program.current_time()
    assert credit.value(stored_member(member_id).tier, config, now) == Decimal("99.99")
    services.refunds.refund_order(SERVICE, RefundInput("r-1", "o-1", Decimal("9.99"), "EUR"))
    assert credit.value(stored_member(member_id).tier, config, now) == Decimal("90.00")
    orders = replace(config, metric=Metric.ORDERS)
    assert credit.value(stored_member(member_id).tier, orders, now) == 2
    services.refunds.refund_order(SERVICE, RefundInput("r-2", "o-2", Decimal("25"), "USD"))
    assert credit.value(stored_member(member_id).tier, orders, now) == 1  # fully refunded


def test_the_earn_preview_reads_once_and_writes_nothing(services: Services, member_id: str) -> None:
    order(services, "o-1", "90")
    me = member("cust-1")
    with count_requests() as calls:
        preview = services.tiers.preview(me, member_id, Decimal("20"), "EUR")
    assert dict(calls) == {"BatchGetItem": 1}
    assert (preview.earning.points, preview.earning.multiplier) == (20, Decimal(1))
    assert preview.tier_now is not None
    assert preview.tier_after is not None
    assert (preview.tier_now.code, preview.tier_after.code) == ("BRONZE", "SILVER")
    assert len(ledger_entries(member_id)) == 1
    with pytest.raises(Forbidden):
        services.tiers.preview(member("cust-2"), member_id, Decimal("20"), "EUR")
    with pytest.raises(InvalidInput):
        services.tiers.preview(me, member_id, Decimal("-1"), "EUR")


def test_the_home_view_with_tier_stays_one_request(services: Services, member_id: str) -> None:
    order(services, "o-1", "150")
    services.tiers.config()  # the container's cache, warm
    with count_requests() as calls:
        view = services.member_views.view(member("cust-1"), member_id, 5)
        assert view is not None
        progress = rules.progress(view.member.tier, services.tiers.config(), view.now)
    assert dict(calls) == {"Query": 1, "GetItem": 1}  # + the test clock's settings (dev)
    assert progress is not None
    assert progress.next_tier is not None
    assert (progress.value, progress.next_tier.code, progress.to_next) == (
        Decimal(150),
        "GOLD",
        Decimal(350),
    )
    # The review is a year and 30 days of grace away: today's order will have left the
    # 12-month window by then, so all 100 points are still to earn to keep Silver.
    assert (progress.value_at_review, progress.to_keep) == (Decimal(0), Decimal(100))


def test_tier_history_pages_with_cursors(services: Services, member_id: str) -> None:
    order(services, "o-1", "2500")  # three changes
    first = services.tiers.history(ADMIN, member_id, 2, None)
    assert [c.to_code for c in first.changes] == ["PLATINUM", "GOLD"]
    assert first.has_next
    from api.tiers.service import cursor  # noqa: PLC0415

    rest = services.tiers.history(ADMIN, member_id, 2, cursor(first.changes[-1]))
    assert [c.to_code for c in rest.changes] == ["SILVER"]
    assert not rest.has_next
    with pytest.raises(InvalidInput):
        services.tiers.history(ADMIN, member_id, 2, "bm90LWEtY3Vyc29y")


def test_members_per_tier_come_from_the_stream_once_per_record(
    services: Services, member_id: str
) -> None:
    enroll(services, "cust-2")
    order(services, "o-1", "600")  # cust-1: Bronze -> Silver -> Gold
    from api.store.base import TableItem  # noqa: PLC0415
    from api.store.reads import load  # noqa: PLC0415

    items = [load(raw) for raw in TableItem._get_connection().scan()["Items"]]
    changes = [Change(f"event-{i}", None, item) for i, item in enumerate(items)]
    for change in changes + changes:  # every record delivered twice
        services.reactions.dispatch(change)
    counts = {c.tier.code: c.members for c in services.tiers.distribution(ADMIN)}
    assert counts == {"BRONZE": 1, "SILVER": 0, "GOLD": 1, "PLATINUM": 0}
    assert member_id == member_id_for("cust-1")
