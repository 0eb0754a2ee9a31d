"""How points state is stored: lots and funding as compact JSON attributes. Used by the
points items and by the member item, which carries the member's open lots."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from api.points.lots import Funding, Lot, LotStatus
from api.store.base import CompactJSON


def _lot_encode(lot: Lot) -> dict[str, Any]:
    return {
        "id": lot.id,
        "points": lot.points,
        "remaining": lot.remaining,
        "activates_at": lot.activates_at.isoformat(),
        "expires_at": None if lot.expires_at is None else lot.expires_at.isoformat(),
        "status": lot.status.value,
        "order_id": lot.order_id,
    }


def _lot_decode(data: dict[str, Any]) -> Lot:
    expires = data["expires_at"]
    return Lot(
        id=data["id"],
        points=data["points"],
        remaining=data["remaining"],
        activates_at=datetime.fromisoformat(data["activates_at"]),
        expires_at=None if expires is None else datetime.fromisoformat(expires),
        status=LotStatus(data["status"]),
        order_id=data["order_id"],
    )


class LotAttribute(CompactJSON[Lot]):
    def encode(self, value: Lot) -> Any:
        return _lot_encode(value)

    def decode(self, data: Any) -> Lot:
        return _lot_decode(data)


class LotsAttribute(CompactJSON[tuple[Lot, ...]]):
    def encode(self, value: tuple[Lot, ...]) -> Any:
        return [_lot_encode(lot) for lot in value]

    def decode(self, data: Any) -> tuple[Lot, ...]:
        return tuple(_lot_decode(item) for item in data)


class FundingAttribute(CompactJSON[tuple[Funding, ...]]):
    def encode(self, value: tuple[Funding, ...]) -> Any:
        return [[f.lot_id, f.points] for f in value]

    def decode(self, data: Any) -> tuple[Funding, ...]:
        return tuple(Funding(lot_id, points) for lot_id, points in data)
