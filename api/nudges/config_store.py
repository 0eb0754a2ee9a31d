"""The nudge configuration item and its mapping both ways.

| item          | pk     | sk     |
| ------------- | ------ | ------ |
| nudge config  | NUDGES | CONFIG |

One item per program, written under its version. Durations are stored as whole
microseconds and decimals and wall times as strings, so what is read back equals what was
saved, exactly. Never saved: NudgeConfig()'s defaults.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from pynamodb.attributes import UTCDateTimeAttribute, VersionAttribute

from api.members.model import Channel
from api.nudges.model import NudgeConfig, Trigger
from api.nudges.rules_model import (
    FrequencyCap,
    Holdout,
    NudgeKind,
    NudgeSettings,
    QuietHours,
    Staleness,
)
from api.store.base import IntegerAttribute, JSONAttribute, Key, TableItem
from api.store.reads import Snapshot, get

CONFIG_KEY: Key = ("NUDGES", "CONFIG")
_MICROSECOND = timedelta(microseconds=1)


class NudgeConfigItem(TableItem, discriminator="nudge_config"):
    triggers = JSONAttribute()  # {"triggers": [...]}: only the kinds an admin configured
    rules = JSONAttribute()  # quiet hours, caps, holdout, staleness overrides
    attribution_us = IntegerAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()


def _us(value: timedelta) -> int:
    return value // _MICROSECOND


def _trigger_json(t: Trigger) -> dict[str, Any]:
    return {
        "kind": t.kind.value,
        "enabled": t.enabled,
        "channels": [c.value for c in t.channels],
        "days": t.days,
        "percent": None if t.percent is None else str(t.percent),
        "bonus_points": t.bonus_points,
        "template": t.template,
    }


def _trigger(data: dict[str, Any]) -> Trigger:
    return Trigger(
        kind=NudgeKind(data["kind"]),
        enabled=data["enabled"],
        channels=tuple(Channel(c) for c in data["channels"]),
        days=data["days"],
        percent=None if data["percent"] is None else Decimal(data["percent"]),
        bonus_points=data["bonus_points"],
        template=data["template"],
    )


def _rules_json(rules: NudgeSettings) -> dict[str, Any]:
    return {
        "quiet": {"start": rules.quiet.start.isoformat(), "end": rules.quiet.end.isoformat()},
        "caps": [
            {
                "max_count": c.max_count,
                "window_us": _us(c.window),
                "channel": None if c.channel is None else c.channel.value,
            }
            for c in rules.caps
        ],
        "holdout": {"salt": rules.holdout.salt, "percent": str(rules.holdout.percent)},
        "staleness": [[kind.value, _us(limit)] for kind, limit in rules.staleness.overrides],
    }


def _rules(data: dict[str, Any]) -> NudgeSettings:
    return NudgeSettings(
        holdout=Holdout(data["holdout"]["salt"], Decimal(data["holdout"]["percent"])),
        quiet=QuietHours(
            time.fromisoformat(data["quiet"]["start"]), time.fromisoformat(data["quiet"]["end"])
        ),
        caps=tuple(
            FrequencyCap(
                c["max_count"],
                timedelta(microseconds=c["window_us"]),
                None if c["channel"] is None else Channel(c["channel"]),
            )
            for c in data["caps"]
        ),
        staleness=Staleness(
            tuple((NudgeKind(k), timedelta(microseconds=us)) for k, us in data["staleness"])
        ),
    )


def config_from_item(item: NudgeConfigItem | None) -> NudgeConfig:
    if item is None:
        return NudgeConfig()
    return NudgeConfig(
        triggers=tuple(_trigger(t) for t in item.triggers["triggers"]),
        rules=_rules(item.rules),
        attribution=timedelta(microseconds=item.attribution_us),
        version=item.version or 0,
        updated_at=item.updated_at,
    )


def config_to_item(config: NudgeConfig, now: datetime) -> NudgeConfigItem:
    """The item for `config` as read at config.version (0: never saved, so a new item)."""
    item = NudgeConfigItem(
        *CONFIG_KEY,
        triggers={"triggers": [_trigger_json(t) for t in config.triggers]},
        rules=_rules_json(config.rules),
        attribution_us=_us(config.attribution),
        updated_at=now,
    )
    if config.version:
        item.version = config.version
    return item


def config(snapshot: Snapshot) -> NudgeConfig:
    """The configuration in a snapshot that read CONFIG_KEY (the defaults if never saved)."""
    return config_from_item(snapshot.get(CONFIG_KEY, NudgeConfigItem))


def read_config() -> NudgeConfig:
    return config_from_item(get(CONFIG_KEY, NudgeConfigItem))
