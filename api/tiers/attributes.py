"""How a member's tier state is stored on the member item: compact JSON, since the home
Query decodes it on every read."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from api.store.base import CompactJSON
from api.tiers.model import Credit, Manual, TierState


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _credit(data: list[Any]) -> Credit:
    points, orders, spend = data
    return Credit(points, orders, spend)


def _credit_data(credit: Credit) -> list[Any]:
    return [credit.points, credit.orders, dict(credit.spend)]


class TierStateAttribute(CompactJSON[TierState]):
    def encode(self, value: TierState) -> Any:
        manual = value.manual
        return {
            "code": value.code,
            "since": _iso(value.since),
            "valid_until": _iso(value.valid_until),
            "review_at": _iso(value.review_at),
            "credits": {d.isoformat(): _credit_data(c) for d, c in sorted(value.credits.items())},
            "lifetime": _credit_data(value.lifetime),
            "bonuses": sorted(value.bonuses),
            "manual": None
            if manual is None
            else [manual.reason, manual.until.isoformat(), manual.actor],
            "changes": value.changes,
        }

    def decode(self, data: Any) -> TierState:
        manual = data["manual"]
        return TierState(
            code=data["code"],
            since=_time(data["since"]),
            valid_until=_time(data["valid_until"]),
            review_at=_time(data["review_at"]),
            credits={date.fromisoformat(d): _credit(c) for d, c in data["credits"].items()},
            lifetime=_credit(data["lifetime"]),
            bonuses=frozenset(data["bonuses"]),
            manual=None
            if manual is None
            else Manual(manual[0], datetime.fromisoformat(manual[1]), manual[2]),
            changes=data["changes"],
        )
