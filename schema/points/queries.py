"""Orders as the shop backend and admins read them."""

from __future__ import annotations

import strawberry

from schema.context import Info
from schema.points.types import Order


@strawberry.type
class PointsQuery:
    @strawberry.field(description="Shop backend and admin: an order as recorded, or null.")
    def order(self, info: Info, id: str) -> Order | None:
        ctx = info.context
        found = ctx.services.orders.get_order(ctx.principal, id)
        return None if found is None else Order.from_domain(found)
