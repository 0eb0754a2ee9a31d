"""Nudge settings through the API (API Gateway events, Mangum, the ASGI app): what an admin
sees before anything is saved, a full update read back, every refusal as a typed result
naming its field, and version conflicts."""

from __future__ import annotations

from typing import Any

import pytest

from api.config import Config
from api.nudges import config_store as store
from api.nudges.model import NudgeConfig
from api.services import Services
from schema.app import create_app, gateway_authenticator, lambda_adapter
from tests.graphql.conftest import ADMIN, Invoke, invoker

SETTINGS = """
  triggers { kind configured enabled channels days leadDays percent closePercent bonusPoints
             template templateName daysThreshold { meaning default min max } }
  quietHours { start end }
  caps { maxCount windowHours channel }
  holdout { salt percent }
  staleness { kind hours defaultHours overridden }
  attributionDays version updatedAt
"""
READ = "{ nudgeSettings { " + SETTINGS + " } }"
UPDATE = (
    "mutation($input: NudgeSettingsInput!) { updateNudgeSettings(input: $input) { __typename "
    "... on NudgeSettingsUpdated { settings { " + SETTINGS + " } } "
    "... on UserError { code message } ... on InvalidInput { field } "
    "... on VersionConflict { currentVersion } } }"
)
KINDS = [
    "POINTS_EXPIRING",
    "TIER_AT_RISK",
    "REWARD_AFFORDABLE",
    "CLOSE_TO_NEXT_TIER",
    "BIRTHDAY",
    "WIN_BACK",
    "REVIEW_REQUEST",
    "NPS_SURVEY",
]


@pytest.fixture
def invoke(services: Services, config: Config) -> Invoke:
    return invoker(lambda_adapter(create_app(services, gateway_authenticator(config))))


def update(invoke: Invoke, **fields: Any) -> dict[str, Any]:
    response = invoke(UPDATE, {"input": fields}, ADMIN)
    assert response.body.get("errors") is None, response.raw
    result: dict[str, Any] = response.data["updateNudgeSettings"]
    return result


def by_kind(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["kind"]: item for item in items}


def test_an_admin_sees_the_defaults_before_anything_is_saved(invoke: Invoke) -> None:
    settings = invoke(READ, None, ADMIN).data["nudgeSettings"]
    assert [t["kind"] for t in settings["triggers"]] == KINDS
    triggers = by_kind(settings["triggers"])
    assert triggers["POINTS_EXPIRING"] == {
        "kind": "POINTS_EXPIRING",
        "configured": False,
        "enabled": True,
        "channels": ["EMAIL", "PUSH"],
        "days": None,
        "leadDays": 14,
        "percent": None,
        "closePercent": None,
        "bonusPoints": 0,
        "template": "",
        "templateName": "points-expiring",
        "daysThreshold": {
            "meaning": "days before the expiry date",
            "default": 14,
            "min": 1,
            "max": 90,
        },
    }
    assert (triggers["WIN_BACK"]["leadDays"], triggers["WIN_BACK"]["daysThreshold"]["min"]) == (
        60,
        7,
    )
    assert (triggers["BIRTHDAY"]["leadDays"], triggers["BIRTHDAY"]["daysThreshold"]) == (None, None)
    assert triggers["CLOSE_TO_NEXT_TIER"]["closePercent"] == "10"
    assert settings["quietHours"] == {"start": "21:00", "end": "08:00"}
    assert settings["caps"] == [{"maxCount": 2, "windowHours": 168, "channel": None}]
    assert settings["holdout"] == {"salt": "nudges-1", "percent": "5"}
    staleness = by_kind(settings["staleness"])
    assert [s["kind"] for s in settings["staleness"]] == KINDS
    assert staleness["BIRTHDAY"] == {
        "kind": "BIRTHDAY",
        "hours": 16,
        "defaultHours": 16,
        "overridden": False,
    }
    assert staleness["POINTS_EXPIRING"]["hours"] == 48
    assert (settings["attributionDays"], settings["version"], settings["updatedAt"]) == (
        7,
        0,
        None,
    )


def test_an_update_is_read_back_whole(invoke: Invoke, services: Services) -> None:
    result = update(
        invoke,
        expectedVersion=0,
        triggers=[
            {"kind": "WIN_BACK", "channels": ["SMS", "EMAIL"], "days": 120, "template": "wb-v2"},
            {"kind": "CLOSE_TO_NEXT_TIER", "enabled": False, "percent": "7.5"},
            {"kind": "BIRTHDAY", "channels": ["PUSH"], "bonusPoints": 100},
        ],
        quietHours={"start": "22:00", "end": "07:30"},
        caps=[
            {"maxCount": 3, "windowHours": 168},
            {"maxCount": 1, "windowHours": 24, "channel": "SMS"},
        ],
        holdout={"salt": "spring", "percent": "2.5"},
        staleness=[{"kind": "BIRTHDAY", "hours": 12}],
        attributionDays=14,
    )
    assert result["__typename"] == "NudgeSettingsUpdated", result
    settings = result["settings"]
    assert settings == invoke(READ, None, ADMIN).data["nudgeSettings"]
    triggers = by_kind(settings["triggers"])
    assert triggers["WIN_BACK"] == {
        "kind": "WIN_BACK",
        "configured": True,
        "enabled": True,
        "channels": ["SMS", "EMAIL"],
        "days": 120,
        "leadDays": 120,
        "percent": None,
        "closePercent": None,
        "bonusPoints": 0,
        "template": "wb-v2",
        "templateName": "wb-v2",
        "daysThreshold": {"meaning": "days without an order", "default": 60, "min": 7, "max": 730},
    }
    close = triggers["CLOSE_TO_NEXT_TIER"]
    assert (close["percent"], close["closePercent"], close["enabled"]) == ("7.5", "7.5", False)
    assert (triggers["BIRTHDAY"]["channels"], triggers["BIRTHDAY"]["bonusPoints"]) == (
        ["PUSH"],
        100,
    )
    assert not triggers["NPS_SURVEY"]["configured"]
    assert settings["quietHours"] == {"start": "22:00", "end": "07:30"}
    assert settings["caps"] == [
        {"maxCount": 3, "windowHours": 168, "channel": None},
        {"maxCount": 1, "windowHours": 24, "channel": "SMS"},
    ]
    assert settings["holdout"] == {"salt": "spring", "percent": "2.5"}
    birthday = by_kind(settings["staleness"])["BIRTHDAY"]
    assert (birthday["hours"], birthday["defaultHours"], birthday["overridden"]) == (12, 16, True)
    assert (settings["attributionDays"], settings["version"]) == (14, 1)
    assert settings["updatedAt"] == services.clock.now().isoformat()
    # The scheduler's view is the same settings.
    assert services.nudge_config.get() == store.read_config()
    assert services.nudge_config.get().version == 1


def test_a_partial_update_keeps_the_rest(invoke: Invoke) -> None:
    update(invoke, holdout={"salt": "a"}, staleness=[{"kind": "WIN_BACK", "hours": 200}])
    result = update(
        invoke,
        expectedVersion=1,
        holdout={"percent": "0"},
        staleness=[{"kind": "WIN_BACK", "hours": None}],
    )
    settings = result["settings"]
    assert settings["holdout"] == {"salt": "a", "percent": "0"}
    assert not by_kind(settings["staleness"])["WIN_BACK"]["overridden"]
    assert settings["quietHours"] == {"start": "21:00", "end": "08:00"}
    assert settings["version"] == 2


def test_an_edit_from_a_stale_read_gets_a_version_conflict(invoke: Invoke) -> None:
    update(invoke, expectedVersion=0, attributionDays=10)
    result = update(invoke, expectedVersion=0, attributionDays=20)
    assert result == {
        "__typename": "VersionConflict",
        "code": "VERSION_CONFLICT",
        "message": result["message"],
        "currentVersion": 1,
    }
    assert result["message"]
    assert invoke(READ, None, ADMIN).data["nudgeSettings"]["attributionDays"] == 10


def trigger(kind: str, **fields: Any) -> dict[str, Any]:
    return {"triggers": [{"kind": kind, **fields}]}


# input -> the InvalidInput's field
REFUSED: dict[str, tuple[dict[str, Any], str]] = {
    **{
        f"{kind} days {days}": (trigger(kind, days=days), f"triggers.{kind}.days")
        for kind, days in (
            ("POINTS_EXPIRING", 0),
            ("POINTS_EXPIRING", 91),
            ("TIER_AT_RISK", 91),
            ("WIN_BACK", 6),
            ("WIN_BACK", 731),
            ("REVIEW_REQUEST", 0),
            ("NPS_SURVEY", -1),
            ("NPS_SURVEY", 2**31 - 1),
            ("BIRTHDAY", 3),  # the kind has no days
            ("REWARD_AFFORDABLE", 1),
        )
    },
    **{
        f"percent {percent}": (
            trigger("CLOSE_TO_NEXT_TIER", percent=percent),
            "triggers.CLOSE_TO_NEXT_TIER.percent",
        )
        for percent in ("0", "-1", "50.1", "12.25", 10**40)
    },
    "percent on the wrong kind": (trigger("WIN_BACK", percent="5"), "triggers.WIN_BACK.percent"),
    "bonus points on the wrong kind": (
        trigger("WIN_BACK", bonusPoints=5),
        "triggers.WIN_BACK.bonusPoints",
    ),
    "negative bonus points": (trigger("BIRTHDAY", bonusPoints=-5), "triggers.BIRTHDAY.bonusPoints"),
    "empty channels": (trigger("BIRTHDAY", channels=[]), "triggers.BIRTHDAY.channels"),
    "duplicate channels": (
        trigger("BIRTHDAY", channels=["EMAIL", "EMAIL"]),
        "triggers.BIRTHDAY.channels",
    ),
    **{
        f"template {name[:12]!r}": (
            trigger("WIN_BACK", template=name),
            "triggers.WIN_BACK.template",
        )
        for name in ("{{ x }}", "../etc", "a b", "é", "x" * 65)
    },
    "duplicate kinds": (
        {"triggers": [{"kind": "WIN_BACK"}, {"kind": "WIN_BACK", "days": 30}]},
        "triggers",
    ),
    **{
        f"quiet start {value!r}": (
            {"quietHours": {"start": value, "end": "08:00"}},
            "quietHours.start",
        )
        for value in ("9:00", "24:00", "21:00:00", "21h", "", "21:00Z", "-1:00")
    },
    "quiet end 24:00": ({"quietHours": {"start": "21:00", "end": "24:00"}}, "quietHours.end"),
    "quiet start == end": ({"quietHours": {"start": "08:00", "end": "08:00"}}, "quietHours.end"),
    "cap count 0": ({"caps": [{"maxCount": 0, "windowHours": 24}]}, "caps[0].maxCount"),
    "cap count 101": (
        {"caps": [{"maxCount": 2, "windowHours": 24}, {"maxCount": 101, "windowHours": 24}]},
        "caps[1].maxCount",
    ),
    "cap window 0": ({"caps": [{"maxCount": 2, "windowHours": 0}]}, "caps[0].windowHours"),
    "cap window > 365 days": (
        {"caps": [{"maxCount": 2, "windowHours": 8761}]},
        "caps[0].windowHours",
    ),
    "cap window beyond timedelta": (
        {"caps": [{"maxCount": 2, "windowHours": 2**31 - 1}]},
        "caps[0].windowHours",
    ),
    "11 caps": ({"caps": [{"maxCount": 1, "windowHours": 1}] * 11}, "caps"),
    **{
        f"holdout percent {percent}": ({"holdout": {"percent": percent}}, "holdout.percent")
        for percent in ("50.01", "-0.01", "2.555", "2.00000000000000000001", 10**40)
    },
    "empty salt": ({"holdout": {"salt": ""}}, "holdout.salt"),
    "huge salt": ({"holdout": {"salt": "s" * 129}}, "holdout.salt"),
    **{
        f"attributionDays {days}": ({"attributionDays": days}, "attributionDays")
        for days in (0, 91, -1, 2**31 - 1)
    },
    **{
        f"staleness {hours}": (
            {"staleness": [{"kind": "BIRTHDAY", "hours": hours}]},
            "staleness.BIRTHDAY",
        )
        for hours in (0, 721, -5, 2**31 - 1)
    },
    "staleness kind twice": (
        {"staleness": [{"kind": "BIRTHDAY", "hours": 5}, {"kind": "BIRTHDAY", "hours": 6}]},
        "staleness",
    ),
}


@pytest.mark.parametrize("case", REFUSED)
def test_bad_input_is_a_typed_result_and_writes_nothing(invoke: Invoke, case: str) -> None:
    fields, field = REFUSED[case]
    result = update(invoke, **fields)
    assert (result["__typename"], result["code"], result["field"]) == (
        "InvalidInput",
        "INVALID_INPUT",
        field,
    ), result
    assert result["message"]
    assert store.read_config() == NudgeConfig()


@pytest.mark.parametrize(
    "fields",
    [
        trigger("GHOSTING"),  # an unknown kind
        {"triggers": [{"channels": ["EMAIL"]}]},  # no kind
        trigger("BIRTHDAY", channels=["FAX"]),
        {"staleness": [{"kind": "NOPE", "hours": 5}]},
        {"quietHours": {"start": "21:00"}},
        {"attributionDays": "7"},
        {"holdout": {"percent": "NaN"}},
        {"caps": [{"maxCount": 2**31, "windowHours": 1}]},
    ],
)
def test_malformed_input_is_a_graphql_error(invoke: Invoke, fields: dict[str, Any]) -> None:
    response = invoke(UPDATE, {"input": fields}, ADMIN)
    errors = response.body["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"] * len(errors)
    assert store.read_config() == NudgeConfig()
