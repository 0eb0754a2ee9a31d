"""The program's nudge settings as admins change them, and as the scheduler and sender read
them.

- `get()` is what jobs call, often: from a per-container cache at most CACHE_SECONDS old,
  replaced as soon as any read (or a write through this container) sees a newer version.
- `update()` merges a partial change into the saved settings: only what the change names
  moves; a trigger given replaces its kind's trigger whole; staleness and caps as described
  on NudgeConfigChange. Every refusal is an InvalidInput naming the input's field, before
  anything is written. With `expected_version`, an edit made from a stale read is refused
  (VersionConflict) rather than silently undoing someone else's.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from decimal import Decimal

from api.auth import Permission, Principal
from api.clock import Clock
from api.errors import InvalidInput, VersionConflict
from api.idempotency import Plan, versioned_write
from api.members.model import Channel
from api.nudges import config_store as store
from api.nudges.model import ATTRIBUTION_MAX, NudgeConfig, Trigger
from api.nudges.rules_model import (
    MAX_CAP_WINDOW,
    MAX_CAPS,
    MAX_STALENESS,
    FrequencyCap,
    Holdout,
    NudgeKind,
    QuietHours,
    Staleness,
)
from api.store.reads import Snapshot

CACHE_SECONDS = 60  # a change reaches other containers' jobs within a minute
_WALL_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


@dataclass(frozen=True)
class TriggerChange:
    """One kind's trigger as an admin gives it (checked by Trigger when applied)."""

    kind: NudgeKind
    enabled: bool = True
    channels: tuple[Channel, ...] = (Channel.EMAIL, Channel.PUSH)
    days: int | None = None
    percent: Decimal | None = None
    bonus_points: int = 0
    template: str = ""


@dataclass(frozen=True)
class CapChange:
    max_count: int
    window_hours: int
    channel: Channel | None = None  # None: all channels together


@dataclass(frozen=True)
class NudgeConfigChange:
    """A partial update: None (or empty) leaves a setting as it is."""

    triggers: tuple[TriggerChange, ...] = ()  # each replaces its kind's trigger
    quiet_hours: tuple[str, str] | None = None  # ("HH:MM", "HH:MM"): start, end
    caps: tuple[CapChange, ...] | None = None  # the whole list (() removes every cap)
    holdout_salt: str | None = None
    holdout_percent: Decimal | None = None
    staleness_hours: tuple[tuple[NudgeKind, int | None], ...] = ()  # None: the default again
    attribution_days: int | None = None


def wall_time(field: str, text: str) -> time:
    """A strict "HH:MM", 00:00 to 23:59 (no "9:00", "24:00", seconds or "21h")."""
    match = _WALL_TIME.fullmatch(text)
    if match is None:
        raise InvalidInput(field, 'A 24-hour time "HH:MM", 00:00 to 23:59.')
    return time(int(match[1]), int(match[2]))


def _triggers(current: NudgeConfig, changes: tuple[TriggerChange, ...]) -> tuple[Trigger, ...]:
    given: dict[NudgeKind, Trigger] = {}
    for c in changes:
        if c.kind in given:
            raise InvalidInput("triggers", f"{c.kind} is given twice.")
        given[c.kind] = Trigger(
            kind=c.kind,
            enabled=c.enabled,
            channels=c.channels,
            days=c.days,
            percent=c.percent,
            bonus_points=c.bonus_points,
            template=c.template,
        )
    kept = {t.kind: t for t in current.triggers}
    merged = {**kept, **given}
    return tuple(merged[kind] for kind in NudgeKind if kind in merged)  # in priority order


def _caps(changes: tuple[CapChange, ...]) -> tuple[FrequencyCap, ...]:
    if len(changes) > MAX_CAPS:
        raise InvalidInput("caps", f"At most {MAX_CAPS} caps.")
    caps: list[FrequencyCap] = []
    for i, c in enumerate(changes):
        at = f"caps[{i}]"
        # Checked in hours first: a huge Int would overflow timedelta.
        if not 1 <= c.window_hours <= MAX_CAP_WINDOW // timedelta(hours=1):
            raise InvalidInput(f"{at}.windowHours", "Must be 1 hour to 365 days (8760 hours).")
        try:
            caps.append(FrequencyCap(c.max_count, timedelta(hours=c.window_hours), c.channel))
        except InvalidInput as exc:  # the model names the field without the cap's index
            raise InvalidInput(f"{at}.maxCount", exc.message) from None
    return tuple(caps)


def _staleness(current: Staleness, changes: tuple[tuple[NudgeKind, int | None], ...]) -> Staleness:
    kinds = [kind for kind, _ in changes]
    if len(set(kinds)) != len(kinds):
        raise InvalidInput("staleness", "Each kind at most once.")
    overrides = dict(current.overrides)
    for kind, hours in changes:
        if hours is None:
            overrides.pop(kind, None)
        elif not 1 <= hours <= MAX_STALENESS // timedelta(hours=1):  # huge Ints overflow
            raise InvalidInput(f"staleness.{kind}", "Must be 1 hour to 30 days (720 hours).")
        else:
            overrides[kind] = timedelta(hours=hours)
    return Staleness(tuple((kind, overrides[kind]) for kind in NudgeKind if kind in overrides))


def apply_change(current: NudgeConfig, change: NudgeConfigChange) -> NudgeConfig:
    """The settings after `change`; InvalidInput (naming the input's field) if any is wrong."""
    rules = current.rules
    if change.quiet_hours is not None:
        start, end = change.quiet_hours
        rules = replace(
            rules,
            quiet=QuietHours(
                wall_time("quietHours.start", start), wall_time("quietHours.end", end)
            ),
        )
    if change.caps is not None:
        rules = replace(rules, caps=_caps(change.caps))
    if change.holdout_salt is not None or change.holdout_percent is not None:
        holdout = rules.holdout
        rules = replace(
            rules,
            holdout=Holdout(
                holdout.salt if change.holdout_salt is None else change.holdout_salt,
                holdout.percent if change.holdout_percent is None else change.holdout_percent,
            ),
        )
    if change.staleness_hours:
        rules = replace(rules, staleness=_staleness(rules.staleness, change.staleness_hours))
    attribution = current.attribution
    if change.attribution_days is not None:
        # Checked in days first: a huge Int would overflow timedelta.
        if not 1 <= change.attribution_days <= ATTRIBUTION_MAX.days:
            raise InvalidInput("attributionDays", f"Must be 1 to {ATTRIBUTION_MAX.days}.")
        attribution = timedelta(days=change.attribution_days)
    return replace(
        current,
        triggers=_triggers(current, change.triggers),
        rules=rules,
        attribution=attribution,
    )


class NudgeConfigs:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[datetime, NudgeConfig] | None = None

    def get(self) -> NudgeConfig:
        """The settings, from the container's cache when fresh enough (for jobs)."""
        now = self._clock.now()
        with self._lock:
            cached = self._cached
        if cached is not None and now - cached[0] < timedelta(seconds=CACHE_SECONDS):
            return cached[1]
        return self._seen(store.read_config())

    def _seen(self, config: NudgeConfig) -> NudgeConfig:
        """Remember settings any read returned, unless the cache holds a newer version."""
        with self._lock:
            cached = self._cached
            if cached is None or config.version >= cached[1].version:
                self._cached = (self._clock.now(), config)
        return config

    def read(self, principal: Principal) -> NudgeConfig:
        """Admin: the settings as saved now (not the cache: an edit starts from here)."""
        principal.require(Permission.MANAGE_NUDGES)
        return self._seen(store.read_config())

    def update(
        self, principal: Principal, change: NudgeConfigChange, expected_version: int | None
    ) -> NudgeConfig:
        """Admin: merge `change` and save. `expected_version`: the version the edit was
        made from (0: the defaults, never saved); None saves over whatever is there."""
        principal.require(Permission.MANAGE_NUDGES)

        def decide(snapshot: Snapshot) -> Plan[NudgeConfig]:
            current = store.config(snapshot)
            if expected_version is not None and expected_version != current.version:
                raise VersionConflict(current.version)
            changed = apply_change(current, change)
            item = store.config_to_item(changed, self._clock.now())
            # The version this write gives the item (PynamoDB bumps it on commit).
            saved = replace(store.config_from_item(item), version=current.version + 1)

            def remember() -> None:
                self._seen(saved)

            if current.version == 0:
                return Plan(saved, new=[item], on_commit=remember)
            return Plan(saved, changed=[item], on_commit=remember)

        return versioned_write(self._clock, [store.CONFIG_KEY], decide)
