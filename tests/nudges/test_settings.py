"""Nudge settings, the service and its item: defaults until saved, an exact round trip,
partial changes, optimistic concurrency and the per-container cache."""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal

import pytest

from api.auth import Principal
from api.clock import ManualClock
from api.config import Config
from api.errors import Forbidden, InvalidInput, VersionConflict
from api.members.model import Channel
from api.nudges import config_store as store
from api.nudges.model import NudgeConfig, Trigger
from api.nudges.rules_model import (
    FrequencyCap,
    Holdout,
    NudgeKind,
    NudgeSettings,
    QuietHours,
    Staleness,
)
from api.nudges.settings import (
    CACHE_SECONDS,
    CapChange,
    NudgeConfigChange,
    TriggerChange,
    wall_time,
)
from api.services import Services, build_services
from tests.support import ADMIN, SERVICE, START, member

EVERYTHING = NudgeConfigChange(
    triggers=(
        TriggerChange(NudgeKind.WIN_BACK, channels=(Channel.SMS,), days=90, template="wb-2"),
        TriggerChange(NudgeKind.CLOSE_TO_NEXT_TIER, enabled=False, percent=Decimal("12.5")),
        TriggerChange(NudgeKind.BIRTHDAY, channels=(Channel.PUSH, Channel.EMAIL), bonus_points=50),
    ),
    quiet_hours=("22:30", "07:15"),
    caps=(CapChange(3, 24 * 7), CapChange(1, 24, Channel.SMS)),
    holdout_salt="spring-2026",
    holdout_percent=Decimal("2.55"),
    staleness_hours=((NudgeKind.NPS_SURVEY, 48), (NudgeKind.BIRTHDAY, 10)),
    attribution_days=14,
)


def test_the_defaults_until_anything_is_saved(services: Services) -> None:
    assert services.nudge_config.get() == NudgeConfig()
    read = services.nudge_config.read(ADMIN)
    assert read == NudgeConfig()
    assert read.version == 0
    assert read.rules.quiet == QuietHours(time(21), time(8))
    assert read.rules.holdout == Holdout("nudges-1", Decimal(5))
    assert read.attribution == timedelta(days=7)
    assert store.read_config() == NudgeConfig()  # nothing was written by reading


def test_every_field_round_trips(services: Services, clock: ManualClock) -> None:
    saved = services.nudge_config.update(ADMIN, EVERYTHING, 0)
    want = NudgeConfig(
        triggers=(  # in priority order, whatever the input's
            Trigger(NudgeKind.CLOSE_TO_NEXT_TIER, enabled=False, percent=Decimal("12.5")),
            Trigger(NudgeKind.BIRTHDAY, channels=(Channel.PUSH, Channel.EMAIL), bonus_points=50),
            Trigger(NudgeKind.WIN_BACK, channels=(Channel.SMS,), days=90, template="wb-2"),
        ),
        rules=NudgeSettings(
            holdout=Holdout("spring-2026", Decimal("2.55")),
            quiet=QuietHours(time(22, 30), time(7, 15)),
            caps=(
                FrequencyCap(3, timedelta(days=7)),
                FrequencyCap(1, timedelta(days=1), Channel.SMS),
            ),
            staleness=Staleness(
                ((NudgeKind.BIRTHDAY, timedelta(hours=10)), (NudgeKind.NPS_SURVEY, timedelta(2)))
            ),
        ),
        attribution=timedelta(days=14),
        version=1,
        updated_at=clock.now(),
    )
    assert saved == want
    assert store.read_config() == want
    assert services.nudge_config.read(ADMIN) == want


def test_the_item_keeps_odd_values_exactly(aws: None, config: Config) -> None:
    build_services(config)  # binds the table
    odd = NudgeConfig(
        triggers=(Trigger(NudgeKind.POINTS_EXPIRING, days=1, channels=(Channel.EMAIL,)),),
        rules=NudgeSettings(
            holdout=Holdout("sälz 🧂", Decimal("0.01")),
            quiet=QuietHours(time(23, 59, 59, 999999), time(0, 0, 0, 1)),
            caps=(FrequencyCap(100, timedelta(days=364, seconds=1, microseconds=7)),),
            staleness=Staleness(((NudgeKind.WIN_BACK, timedelta(hours=1, microseconds=3)),)),
        ),
        attribution=timedelta(days=89, microseconds=1),
    )
    store.config_to_item(odd, START).save()
    assert store.read_config() == NudgeConfig(
        triggers=odd.triggers,
        rules=odd.rules,
        attribution=odd.attribution,
        version=1,
        updated_at=START,
    )


def test_a_change_moves_only_what_it_names(services: Services) -> None:
    first = services.nudge_config.update(ADMIN, EVERYTHING, 0)
    win_back = TriggerChange(NudgeKind.WIN_BACK, days=30)  # replaces the kind's trigger whole
    second = services.nudge_config.update(
        ADMIN,
        NudgeConfigChange(
            triggers=(win_back,),
            holdout_percent=Decimal(10),
            staleness_hours=((NudgeKind.BIRTHDAY, None), (NudgeKind.WIN_BACK, 100)),
        ),
        1,
    )
    assert second.trigger(NudgeKind.WIN_BACK) == Trigger(NudgeKind.WIN_BACK, days=30)
    assert second.trigger(NudgeKind.BIRTHDAY) == first.trigger(NudgeKind.BIRTHDAY)
    assert second.trigger(NudgeKind.CLOSE_TO_NEXT_TIER) == first.trigger(
        NudgeKind.CLOSE_TO_NEXT_TIER
    )
    assert second.trigger(NudgeKind.POINTS_EXPIRING) == Trigger(NudgeKind.POINTS_EXPIRING)
    assert second.rules.holdout == Holdout("spring-2026", Decimal(10))  # the salt stays
    assert second.rules.staleness == Staleness(
        ((NudgeKind.WIN_BACK, timedelta(hours=100)), (NudgeKind.NPS_SURVEY, timedelta(hours=48)))
    )
    assert (second.rules.quiet, second.rules.caps) == (first.rules.quiet, first.rules.caps)
    assert second.attribution == first.attribution
    assert second.version == 2
    third = services.nudge_config.update(ADMIN, NudgeConfigChange(caps=()), None)
    assert third.rules.caps == ()  # no caps at all
    assert store.read_config() == third


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (NudgeConfigChange(quiet_hours=("9:00", "08:00")), "quietHours.start"),
        (NudgeConfigChange(quiet_hours=("21:00", "24:00")), "quietHours.end"),
        (NudgeConfigChange(quiet_hours=("08:00", "08:00")), "quietHours.end"),
        (NudgeConfigChange(caps=(CapChange(2, 24), CapChange(0, 24))), "caps[1].maxCount"),
        (NudgeConfigChange(caps=(CapChange(2, 2**31 - 1),)), "caps[0].windowHours"),
        (NudgeConfigChange(caps=(CapChange(1, 1),) * 11), "caps"),
        (NudgeConfigChange(holdout_percent=Decimal("50.01")), "holdout.percent"),
        (NudgeConfigChange(holdout_percent=Decimal("NaN")), "holdout.percent"),
        # 29 significant digits: a product rounded to 28 would hide the third decimal.
        (
            NudgeConfigChange(holdout_percent=Decimal("2.00000000000000000000000000001")),
            "holdout.percent",
        ),
        (
            NudgeConfigChange(
                triggers=(
                    TriggerChange(
                        NudgeKind.CLOSE_TO_NEXT_TIER,
                        percent=Decimal("7.50000000000000000000000000001"),
                    ),
                )
            ),
            "triggers.CLOSE_TO_NEXT_TIER.percent",
        ),
        (NudgeConfigChange(holdout_salt=""), "holdout.salt"),
        (NudgeConfigChange(attribution_days=2**31 - 1), "attributionDays"),
        (NudgeConfigChange(staleness_hours=((NudgeKind.BIRTHDAY, 2**31 - 1),)), "staleness"),
        (
            NudgeConfigChange(
                staleness_hours=((NudgeKind.BIRTHDAY, 5), (NudgeKind.BIRTHDAY, None))
            ),
            "staleness",
        ),
        (
            NudgeConfigChange(
                triggers=(TriggerChange(NudgeKind.BIRTHDAY), TriggerChange(NudgeKind.BIRTHDAY))
            ),
            "triggers",
        ),
        (
            NudgeConfigChange(triggers=(TriggerChange(NudgeKind.TIER_AT_RISK, days=91),)),
            "triggers.TIER_AT_RISK.days",
        ),
    ],
)
def test_a_refused_change_writes_nothing(
    services: Services, change: NudgeConfigChange, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        services.nudge_config.update(ADMIN, change, None)
    assert refused.value.field.startswith(field)
    assert store.read_config() == NudgeConfig()


def test_strict_wall_times() -> None:
    assert wall_time("t", "00:00") == time(0)
    assert wall_time("t", "23:59") == time(23, 59)
    for text in (
        "9:00",
        "24:00",
        "21:00:00",
        "21h",
        "21:60",
        " 21:00",
        "21:00\n",
        "\uff12\uff11:\uff10\uff10",
        "",
    ):
        with pytest.raises(InvalidInput):
            wall_time("t", text)


def test_an_edit_from_a_stale_read_is_refused(services: Services) -> None:
    services.nudge_config.update(ADMIN, NudgeConfigChange(attribution_days=3), 0)
    with pytest.raises(VersionConflict) as conflict:
        services.nudge_config.update(ADMIN, NudgeConfigChange(attribution_days=5), 0)
    assert conflict.value.current == 1
    with pytest.raises(VersionConflict):
        services.nudge_config.update(ADMIN, NudgeConfigChange(attribution_days=5), 2)
    assert store.read_config().attribution == timedelta(days=3)
    assert services.nudge_config.update(ADMIN, NudgeConfigChange(), 1).version == 2


def test_two_containers_merge_their_changes(
    services: Services, config: Config, clock: ManualClock
) -> None:
    other = build_services(config, clock)
    services.nudge_config.update(ADMIN, NudgeConfigChange(attribution_days=3), None)
    other.nudge_config.update(ADMIN, NudgeConfigChange(holdout_percent=Decimal(1)), None)
    saved = store.read_config()
    assert (saved.attribution, saved.rules.holdout.percent, saved.version) == (
        timedelta(days=3),
        Decimal(1),
        2,
    )


def test_jobs_read_from_the_cache_until_it_is_old_or_outdated(
    services: Services, config: Config, clock: ManualClock
) -> None:
    assert services.nudge_config.get().version == 0  # cached now
    other = build_services(config, clock)  # another container saves
    other.nudge_config.update(ADMIN, NudgeConfigChange(attribution_days=3), 0)
    clock.advance(timedelta(seconds=CACHE_SECONDS - 1))
    assert services.nudge_config.get().version == 0  # still fresh enough
    clock.advance(timedelta(seconds=1))
    assert services.nudge_config.get().attribution == timedelta(days=3)
    # A write through this container is seen at once by its own jobs.
    services.nudge_config.update(ADMIN, NudgeConfigChange(attribution_days=4), 1)
    assert services.nudge_config.get().attribution == timedelta(days=4)
    assert other.nudge_config.get().version == 2  # its copy (its own write) is a minute old


@pytest.mark.parametrize("who", [SERVICE, member("cust-1")])
def test_only_admins(services: Services, who: Principal) -> None:
    with pytest.raises(Forbidden):
        services.nudge_config.read(who)
    with pytest.raises(Forbidden):
        services.nudge_config.update(who, NudgeConfigChange(holdout_salt=""), None)
    assert store.read_config() == NudgeConfig()
