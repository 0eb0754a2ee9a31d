"""Points leave or enter a balance outside orders: redemptions (members, or the shop for a
member) and admin adjustments, each idempotent on the caller's key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from api import validation as v
from api.auth import Permission, Principal
from api.clock import Clock
from api.config import Config
from api.errors import Forbidden, InsufficientPoints
from api.idempotency import Keyed, Plan, fingerprint, keyed_write
from api.observability import count
from api.points import ledger
from api.points.lots import Funding, Lot, LotStatus, PointsState, credit, debit
from api.points.model import AdjustInput, Entry, EntryKind, RedeemInput
from api.points.store import entry_to_item
from api.program.service import ProgramService
from api.store.reads import Snapshot
from api.store.records import record_key

# Decides a change: (state as read, the entry's seq) -> (new points, the entry).
Change = Callable[[ledger.State, int], tuple[PointsState, Entry]]


class SpendingService:
    def __init__(self, config: Config, clock: Clock, program: ProgramService) -> None:
        self._clock = clock
        self._program = program
        self._keep = timedelta(days=config.idempotency_days)

    def redeem(self, actor: Principal, data: RedeemInput) -> Entry:
        member_id = _redeeming_member(actor, data)
        points = v.points("points", data.points)
        reference = v.external_id("reference", data.reference)
        key = v.external_id("idempotencyKey", data.idempotency_key)
        reason = None if data.reason is None else v.text("reason", data.reason, 500)

        def change(state: ledger.State, seq: int) -> tuple[PointsState, Entry]:
            return ledger.spend(
                state, points, seq, by=actor.actor, reference=reference, reason=reason
            )

        payload = {"points": points, "reference": reference, "reason": reason}
        return self._keyed("REDEEM", member_id, key, payload, change)

    def adjust(self, actor: Principal, data: AdjustInput) -> Entry:
        actor.require(Permission.ADJUST_POINTS)
        member_id = v.member_ref(data.member_id, data.customer_id)
        points = v.points("points", data.points, signed=True)
        reason = v.text("reason", data.reason, 500)
        key = v.external_id("idempotencyKey", data.idempotency_key)

        def change(state: ledger.State, seq: int) -> tuple[PointsState, Entry]:
            current, now = state.member.points, state.now
            lot = None
            funding: list[Funding] = []
            if points > 0:
                validity = state.settings.lot_validity
                lot = Lot(
                    id=f"{member_id}-{seq}",
                    points=points,
                    remaining=points,
                    activates_at=now,
                    expires_at=None if validity is None else now + validity,
                    status=LotStatus.ACTIVE,
                )
                new_state = credit(current, lot)
            else:
                result = debit(current, -points, now, include_pending=True)
                if result is None:
                    raise InsufficientPoints(-points, current.available(now) + current.pending(now))
                new_state, funding = result
            return new_state, Entry(
                member_id=member_id,
                seq=seq,
                kind=EntryKind.ADJUST,
                points=points,
                balance_after=new_state.balance,
                created_at=now,
                actor=actor.actor,
                reason=reason,
                lot=lot,
                funding=tuple(funding),
            )

        return self._keyed("ADJUST", member_id, key, {"points": points, "reason": reason}, change)

    def _keyed(
        self, operation: str, member_id: str, key: str, payload: dict[str, object], change: Change
    ) -> Entry:
        keyed = Keyed(
            record_key(operation, f"{member_id}#{key}"), fingerprint(payload), "idempotencyKey"
        )

        def decide(snapshot: Snapshot) -> Plan[Entry]:
            state = ledger.state(snapshot, member_id, self._program)
            new_state, entry = change(state, state.member.next_seq)
            metric = (
                "PointsRedeemed"
                if entry.kind is EntryKind.REDEEM
                else "AdjustmentCredits"
                if entry.points > 0
                else "AdjustmentDebits"
            )
            return Plan(
                entry,
                new=[
                    ledger.record(
                        keyed.record, keyed.fingerprint, entry, state.now, keep=self._keep
                    ),
                    entry_to_item(entry),
                ],
                changed=[ledger.member_item(state, new_state, [entry])],
                on_commit=lambda: count(metric, abs(entry.points)),
            )

        return keyed_write(
            self._clock, keyed, ledger.reads(member_id), decide, ledger.recorded_entry
        )


def _redeeming_member(actor: Principal, data: RedeemInput) -> str:
    if data.member_id is None and data.customer_id is None:
        actor.require(Permission.REDEEM_OWN_POINTS)
        assert actor.member_id is not None
        return actor.member_id
    if actor.member_id is None:
        actor.require(Permission.REDEEM_ANY_POINTS)
    member_id = v.member_ref(data.member_id, data.customer_id)
    if actor.member_id is not None and member_id != actor.member_id:
        raise Forbidden()  # a member spends only their own points
    return member_id
