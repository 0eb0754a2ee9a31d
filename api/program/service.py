"""The program's settings as admins change them, and its clock (the test clock outside
production)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from api.auth import Permission, Principal
from api.clock import Clock
from api.config import Config
from api.errors import InvalidInput, TestClockDisabled
from api.idempotency import Plan, versioned_write
from api.program import store
from api.program.model import ProgramSettings, SettingsChange, apply_change
from api.store.reads import Snapshot

MAX_CLOCK_STEP_SECONDS = 3660 * 86400
# The test clock never runs further ahead than this in total: program time stays far from
# year 9999, and the offset fits GraphQL's 32-bit Int. resetClock starts again from zero.
MAX_CLOCK_OFFSET = timedelta(days=20 * 366)


# A check another domain makes of a change before it is saved (the referrals domain: the
# welcome promotion exists). Passed in by the composition root: this domain imports none.
SettingsCheck = Callable[[SettingsChange], None]


class ProgramService:
    def __init__(self, config: Config, clock: Clock, checks: Sequence[SettingsCheck] = ()) -> None:
        self._config = config
        self._clock = clock
        self._checks = tuple(checks)

    def now(self, settings: ProgramSettings) -> datetime:
        """The program's time: the clock, moved forward by the test clock outside production."""
        if self._config.test_clock:
            # Clamped: a stage whose offset was stored before the bound existed still works
            # (and can be reset).
            return self._clock.now() + min(settings.clock_offset, MAX_CLOCK_OFFSET)
        return self._clock.now()

    def load(self) -> ProgramSettings:
        return store.settings(Snapshot([store.SETTINGS_KEY]))

    def current_time(self) -> datetime:
        """Program time for reads; costs a read only where a test clock may be set."""
        return self.now(self.load()) if self._config.test_clock else self._clock.now()

    def get(self, actor: Principal) -> ProgramSettings:
        actor.require(Permission.READ_PROGRAM)
        return self.load()

    def update(self, actor: Principal, change: SettingsChange) -> ProgramSettings:
        actor.require(Permission.UPDATE_PROGRAM)
        for check in self._checks:
            check(change)
        return self._save(lambda settings: apply_change(settings, change))

    def advance_clock(
        self, actor: Principal, seconds: int = 0, *, days: int = 0, hours: int = 0
    ) -> ProgramSettings:
        """Move the program's time forward (never back: the ledger's order follows it)."""
        actor.require(Permission.USE_TEST_CLOCK)
        if not self._config.test_clock:
            raise TestClockDisabled()
        for name, value in (("days", days), ("hours", hours), ("seconds", seconds)):
            if value < 0:
                raise InvalidInput(name, "Cannot be negative: the clock only moves forward.")
        seconds += days * 86400 + hours * 3600
        if not 0 < seconds <= MAX_CLOCK_STEP_SECONDS:
            raise InvalidInput("seconds", "Move the clock forward by up to 10 years.")
        by = timedelta(seconds=seconds)

        def advance(settings: ProgramSettings) -> ProgramSettings:
            offset = settings.clock_offset + by
            if offset > MAX_CLOCK_OFFSET:
                raise InvalidInput(
                    "seconds",
                    f"The test clock runs at most {MAX_CLOCK_OFFSET.days} days ahead; it is "
                    f"{settings.clock_offset.days} days ahead now. Reset it (resetTestClock) "
                    "to start again.",
                )
            return replace(settings, clock_offset=offset)

        return self._save(advance)

    def reset_clock(self, actor: Principal) -> ProgramSettings:
        """Back to real time. What was recorded in program time stays as it was: lots dated
        ahead wait until real time reaches them (pending lots look pending again)."""
        actor.require(Permission.USE_TEST_CLOCK)
        if not self._config.test_clock:
            raise TestClockDisabled()
        return self._save(lambda settings: replace(settings, clock_offset=timedelta(0)))

    def _save(self, change: Callable[[ProgramSettings], ProgramSettings]) -> ProgramSettings:
        def decide(snapshot: Snapshot) -> Plan[ProgramSettings]:
            item = store.settings_to_item(change(store.settings(snapshot)), self._clock.now())
            # The version this write gives the item (PynamoDB bumps it on commit).
            saved = replace(store.settings_from_item(item), version=(item.version or 0) + 1)
            # Never saved before: the item is new; else it is written under its version.
            return Plan(saved, new=[item]) if item.version is None else Plan(saved, changed=[item])

        return versioned_write(self._clock, [store.SETTINGS_KEY], decide)
