"""Points as GraphQL types: balances, lots, the ledger history (a Relay connection) and
orders."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import strawberry
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLResolveInfo,
    InlineFragmentNode,
    SelectionSetNode,
    value_from_ast_untyped,
)
from graphql.execution.values import VariableValues

from api import errors
from api.auth import Principal
from api.members.view import HistoryPage, encode_cursor
from api.points import lots as domain_lots
from api.points import model
from schema.common import Money, PageInfo
from schema.context import Context, Info

strawberry.enum(domain_lots.LotStatus)
strawberry.enum(
    model.EntryKind,
    description=(
        "EARN: an order's points. REFUND: a refund's clawback. REDEEM: points spent. "
        "ADJUST: an admin correction. EXPIRE: lots that reached their expiry. TIER_BONUS: a "
        "tier's entry bonus. PROMOTION: points a promotion gave an order. RETURN: points "
        "paid with and given back. REFERRAL: a referrer's reward, once their referee's first "
        "order outlived its return window. GOODWILL: an admin's goodwill points on resolving "
        "a follow-up (reference: the follow-up)."
    ),
)
DEFAULT_PAGE = 20


@strawberry.type(
    description="Points earned together (one order or credit), spent earliest-expiry first."
)
class Lot:
    id: strawberry.ID
    points: int = strawberry.field(description="As earned.")
    remaining: int
    status: domain_lots.LotStatus = strawberry.field(description="At the time of the request.")
    activates_at: datetime = strawberry.field(description="End of the return window.")
    expires_at: datetime | None
    order_id: str | None

    @classmethod
    def from_domain(cls, lot: domain_lots.Lot, now: datetime) -> Lot:
        return cls(
            id=strawberry.ID(lot.id),
            points=lot.points,
            remaining=lot.remaining,
            status=lot.status_at(now),
            activates_at=lot.activates_at,
            expires_at=lot.expires_at,
            order_id=lot.order_id,
        )


@strawberry.type(description="A lot as it was created by a credit entry.")
class CreditedLot:
    id: strawberry.ID
    points: int
    activates_at: datetime
    expires_at: datetime | None


@strawberry.type(description="The part of a debit taken from one lot.")
class LotFunding:
    lot_id: strawberry.ID
    points: int


@strawberry.type(description="One immutable ledger entry.")
class PointsEntry:
    id: strawberry.ID
    kind: model.EntryKind
    points: int = strawberry.field(description="Signed: credits positive, debits negative.")
    balance_after: int
    created_at: datetime
    order_id: str | None
    refund_id: str | None
    reference: str | None
    reason: str | None
    amount: Money | None = strawberry.field(description="The order total or refund amount.")
    lot: CreditedLot | None = strawberry.field(description="The lot a credit created.")
    funding: list[LotFunding] = strawberry.field(description="For debits: the lots used.")
    shortfall: int = strawberry.field(
        description="Points a refund could not take back (stop-at-zero policy)."
    )

    @classmethod
    def from_domain(cls, entry: model.Entry) -> PointsEntry:
        lot = entry.lot
        return cls(
            id=strawberry.ID(entry.id),
            kind=entry.kind,
            points=entry.points,
            balance_after=entry.balance_after,
            created_at=entry.created_at,
            order_id=entry.order_id,
            refund_id=entry.refund_id,
            reference=entry.reference,
            reason=entry.reason,
            amount=None if entry.amount is None else Money.from_domain(entry.amount),
            lot=None
            if lot is None
            else CreditedLot(
                id=strawberry.ID(lot.id),
                points=lot.points,
                activates_at=lot.activates_at,
                expires_at=lot.expires_at,
            ),
            funding=[
                LotFunding(lot_id=strawberry.ID(f.lot_id), points=f.points) for f in entry.funding
            ],
            shortfall=entry.shortfall,
        )


@strawberry.type
class PointsEntryEdge:
    node: PointsEntry
    cursor: str


@strawberry.type
class PointsEntryConnection:
    edges: list[PointsEntryEdge]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: HistoryPage, first: int) -> PointsEntryConnection:
        entries = page.entries[:first]
        has_next = len(page.entries) > first or page.has_next
        edges = [
            PointsEntryEdge(node=PointsEntry.from_domain(e), cursor=encode_cursor(e.seq))
            for e in entries
        ]
        return cls(
            edges=edges,
            page_info=PageInfo.forward([e.cursor for e in edges], has_next),
        )


@strawberry.type(description="A member's points at the time of the request.")
class Points:
    balance: int = strawberry.field(
        description="Sum of all ledger entries: available + pending + not yet recorded "
        "expiries - debt. Negative when a refund clawed back spent points."
    )
    available: int = strawberry.field(description="Active, unexpired points: spendable now.")
    pending: int = strawberry.field(description="Points still in their return window.")
    member_id: strawberry.Private[str]
    now: strawberry.Private[datetime]
    state: strawberry.Private[domain_lots.PointsState]
    principal: strawberry.Private[Principal]
    prefetched: strawberry.Private[HistoryPage | None]
    prefetched_first: strawberry.Private[int]

    @strawberry.field(description="Open lots, earliest expiry first.")
    def lots(self) -> list[Lot]:
        return [
            Lot.from_domain(lot, self.now)
            for lot in sorted(self.state.lots, key=domain_lots.Lot.spend_order)
        ]

    @strawberry.field(description="Open lots expiring within the next `withinDays` days.")
    def expiring(self, within_days: int = 30) -> list[Lot]:
        if not 0 <= within_days <= 3660:
            raise errors.InvalidInput("withinDays", "Between 0 and 3660.")
        until = self.now + timedelta(days=within_days)
        return [Lot.from_domain(lot, self.now) for lot in self.state.expiring(self.now, until)]

    @strawberry.field(description="Ledger entries, newest first (a Relay connection).")
    def history(
        self, info: Info, first: int = DEFAULT_PAGE, after: str | None = None
    ) -> PointsEntryConnection:
        page = self.prefetched
        if page is None or after is not None or first > self.prefetched_first:
            page = info.context.services.member_views.history(
                self.principal, self.member_id, first, after
            )
        return PointsEntryConnection.from_page(page, first)


def history_first(info: Info) -> int | None:
    """How many entries `points { history(first:) }` asks for without a cursor, so that the
    member and that page are read in one Query. Walks the query's syntax tree (through
    fragments): Strawberry's `selected_fields` would convert the whole tree on every request.
    """
    raw = info._raw_info
    return _history_first(raw.field_nodes[0].selection_set, raw, in_points=False)


def _history_first(
    selection_set: SelectionSetNode | None, raw: GraphQLResolveInfo[Context], *, in_points: bool
) -> int | None:
    best: int | None = None
    for node in selection_set.selections if selection_set else ():
        found: int | None = None
        if isinstance(node, FieldNode):
            name = node.name.value
            if in_points and name == "history":
                found = _first_without_cursor(node, raw)
            elif not in_points and name == "points":
                found = _history_first(node.selection_set, raw, in_points=True)
        elif isinstance(node, InlineFragmentNode):
            found = _history_first(node.selection_set, raw, in_points=in_points)
        elif isinstance(node, FragmentSpreadNode) and node.name.value in raw.fragments:
            fragment = raw.fragments[node.name.value]
            found = _history_first(fragment.selection_set, raw, in_points=in_points)
        if found is not None:
            best = max(best or 0, found)
    return best


def _first_without_cursor(node: FieldNode, raw: GraphQLResolveInfo[Context]) -> int | None:
    # graphql-core 3.3 declares VariableValues; some execution paths still hand over a dict.
    variables: Any = raw.variable_values
    coerced = variables.coerced if isinstance(variables, VariableValues) else variables
    args = {
        arg.name.value: value_from_ast_untyped(arg.value, coerced) for arg in node.arguments or ()
    }
    first = args.get("first", DEFAULT_PAGE)
    if args.get("after") is not None or not isinstance(first, int) or not 1 <= first <= 100:
        return None
    return first


@strawberry.type(
    description="An order as recorded, with what it earned and what refunds took back."
)
class Order:
    id: strawberry.ID
    member_id: strawberry.ID
    total: Money
    refunded: Money
    placed_at: datetime
    points_earned: int
    points_reversed: int
    lot_id: strawberry.ID | None

    @classmethod
    def from_domain(cls, order: model.Order) -> Order:
        return cls(
            id=strawberry.ID(order.order_id),
            member_id=strawberry.ID(order.member_id),
            total=Money.from_domain(order.total),
            refunded=Money.from_domain(order.refunded),
            placed_at=order.placed_at,
            points_earned=order.points_earned,
            points_reversed=order.points_reversed,
            lot_id=None if order.lot_id is None else strawberry.ID(order.lot_id),
        )
