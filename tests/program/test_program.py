"""Program settings and the test clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from api.clock import ManualClock
from api.config import Config, Stage
from api.errors import Forbidden, InvalidInput, TestClockDisabled
from api.program.model import NegativeBalancePolicy, ProgramSettings, Rounding, SettingsChange
from api.program.service import MAX_CLOCK_OFFSET, MAX_CLOCK_STEP_SECONDS
from api.program.store import settings_to_item
from api.services import Services, build_services
from tests.support import ADMIN, SERVICE, member


def test_defaults_until_an_admin_saves(services: Services) -> None:
    assert services.program.get(SERVICE) == ProgramSettings()
    saved = services.program.update(
        ADMIN,
        SettingsChange(
            points_per_unit=Decimal("1.5"),
            rounding=Rounding.NEAREST,
            min_points_per_order=5,
            max_points_per_order=1000,
            accepted_currencies=["usd", "EUR", "USD"],
            return_window_days=30,
            lot_validity_days=730,
            negative_balance_policy=NegativeBalancePolicy.STOP_AT_ZERO,
        ),
    )
    assert saved == services.program.get(ADMIN)
    assert saved.accepted_currencies == ("EUR", "USD")
    assert saved.earning_rule.points_per_unit == Decimal("1.5")
    assert saved.version == 1
    cleared = services.program.update(
        ADMIN, SettingsChange(clear_max_points_per_order=True, lots_never_expire=True)
    )
    assert cleared.earning_rule.max_points_per_order is None
    assert cleared.lot_validity_days is None
    assert cleared.return_window_days == 30


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (SettingsChange(points_per_unit=Decimal(0)), "earningRule.pointsPerUnit"),
        (SettingsChange(points_per_unit=Decimal("NaN")), "earningRule.pointsPerUnit"),
        (SettingsChange(points_per_unit=Decimal("0.00001")), "earningRule.pointsPerUnit"),
        (SettingsChange(min_points_per_order=-1), "earningRule.minPointsPerOrder"),
        (
            SettingsChange(min_points_per_order=10, max_points_per_order=5),
            "earningRule.maxPointsPerOrder",
        ),
        (SettingsChange(accepted_currencies=[]), "acceptedCurrencies"),
        (SettingsChange(accepted_currencies=["EUR", "ABC"]), "acceptedCurrencies"),
        (SettingsChange(return_window_days=-1), "returnWindowDays"),
        (SettingsChange(lot_validity_days=0), "lotValidityDays"),
    ],
)
def test_invalid_settings_are_refused(
    services: Services, change: SettingsChange, field: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        services.program.update(ADMIN, change)
    assert error.value.field == field
    assert services.program.get(ADMIN).version is None


def test_only_admins_change_settings(services: Services) -> None:
    for actor in (SERVICE, member("cust-1")):
        with pytest.raises(Forbidden):
            services.program.update(actor, SettingsChange(return_window_days=1))


def test_the_test_clock_moves_program_time(services: Services) -> None:
    before = services.program.current_time()
    services.program.advance_clock(ADMIN, 86400 * 3)
    assert services.program.current_time() - before == timedelta(days=3)
    with pytest.raises(InvalidInput):
        services.program.advance_clock(ADMIN, 0)
    with pytest.raises(Forbidden):
        services.program.advance_clock(SERVICE, 60)


def test_there_is_no_test_clock_in_production(aws: None, clock: ManualClock) -> None:
    prod = build_services(Config(stage=Stage.PROD, table_name="loyalty-test"), clock)
    with pytest.raises(TestClockDisabled):
        prod.program.advance_clock(ADMIN, 60)
    assert prod.program.current_time() == clock.now()


def test_the_test_clock_is_bounded_in_total_and_can_be_reset(services: Services) -> None:
    real = services.clock.now()
    step = MAX_CLOCK_STEP_SECONDS
    while services.program.load().clock_offset + timedelta(seconds=step) <= MAX_CLOCK_OFFSET:
        services.program.advance_clock(ADMIN, step)
    offset = services.program.load().clock_offset
    with pytest.raises(InvalidInput) as refused:
        services.program.advance_clock(ADMIN, step)
    assert refused.value.field == "seconds"
    assert "resetTestClock" in refused.value.message
    assert services.program.load().clock_offset == offset  # nothing written
    assert offset.total_seconds() < 2**31  # GraphQL's Int holds it
    with pytest.raises(InvalidInput):
        services.program.advance_clock(ADMIN, days=1, seconds=-1)
    with pytest.raises(Forbidden):
        services.program.reset_clock(SERVICE)
    services.program.reset_clock(ADMIN)
    assert services.program.current_time() == real


def test_an_offset_stored_before_the_bound_is_clamped_and_resettable(services: Services) -> None:
    """Stages whose offset ran past year 9999 before the bound existed still answer."""
    item = settings_to_item(
        replace(ProgramSettings(), clock_offset=timedelta(days=3_000_000)), services.clock.now()
    )
    item.save()
    assert services.program.current_time() == services.clock.now() + MAX_CLOCK_OFFSET
    services.program.reset_clock(ADMIN)
    assert services.program.current_time() == services.clock.now()
