"""Points: balances, lots, history, orders, and the mutations that move points."""

from schema.points.mutations import PointsMutation
from schema.points.queries import PointsQuery

__all__ = ["PointsMutation", "PointsQuery"]
