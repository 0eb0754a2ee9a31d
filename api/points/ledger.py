"""What every ledger change shares: the member, settings and tier configuration it decides
on, the member's new state, and the records that let a keyed change (refund, redemption,
adjustment) answer its replays."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from api.errors import InsufficientPoints, MemberNotFound
from api.members import store as members
from api.members.model import Member
from api.points import store
from api.points.lots import Lot, LotStatus, PointsState, credit, debit
from api.points.model import Entry, EntryKind
from api.program import store as program
from api.program.model import ProgramSettings
from api.program.service import ProgramService
from api.store.base import Key, RecordItem, TableItem
from api.store.reads import Snapshot
from api.store.records import IdempotencyItem
from api.tiers import store as tiers
from api.tiers.model import Step, TierConfig, TierState


@dataclass(frozen=True)
class State:
    """The member as read, the program's settings and tiers, and the program's time."""

    member: Member
    settings: ProgramSettings
    tiers: TierConfig
    now: datetime


def reads(member_id: str) -> list[Key]:
    """What a change of a member's points decides on: one BatchGetItem."""
    return [members.member_key(member_id), program.SETTINGS_KEY, tiers.CONFIG_KEY]


def state(snapshot: Snapshot, member_id: str, program_service: ProgramService) -> State:
    """From a snapshot of `reads(member_id)`; MemberNotFound if the member is not there."""
    member = members.load(snapshot, member_id)
    if member is None:
        raise MemberNotFound()
    settings = program.settings(snapshot)
    return State(member, settings, tiers.config(snapshot), program_service.now(settings))


def member_item(
    state: State,
    points: PointsState,
    entries: Sequence[Entry],
    tier: TierState | None = None,
) -> TableItem:
    """The member with its new points (and tier), the newest entry's seq, written under the
    version it was read at."""
    member = replace(
        state.member,
        points=points,
        tier=state.member.tier if tier is None else tier,
        last_seq=max((e.seq for e in entries), default=state.member.last_seq),
        updated_at=state.now,
    )
    return members.to_item(member)


def tier_bonuses(
    state: State, points: PointsState, steps: Sequence[Step], first_seq: int, actor: str
) -> tuple[PointsState, list[Entry]]:
    """Each tier's entry bonus a change earned: a new active lot and a TIER_BONUS entry."""
    entries: list[Entry] = []
    validity = state.settings.lot_validity
    now = state.now
    for step in steps:
        if not step.bonus:
            continue
        seq = first_seq + len(entries)
        lot = Lot(
            id=f"{state.member.id}-{seq}",
            points=step.bonus,
            remaining=step.bonus,
            activates_at=now,
            expires_at=None if validity is None else now + validity,
            status=LotStatus.ACTIVE,
        )
        points = credit(points, lot)
        tier = state.tiers.tier(step.change.to_code)
        entries.append(
            Entry(
                member_id=state.member.id,
                seq=seq,
                kind=EntryKind.TIER_BONUS,
                points=step.bonus,
                balance_after=points.balance,
                created_at=now,
                actor=actor,
                order_id=step.change.order_id,
                reason=f"Entry bonus: {step.change.to_code if tier is None else tier.name}",
                lot=lot,
            )
        )
    return points, entries


def tier_items(steps: Sequence[Step]) -> list[TableItem]:
    return [tiers.change_to_item(step.change) for step in steps]


def record(
    key: Key,
    fingerprint: str,
    entry: Entry,
    now: datetime,
    *,
    order_id: str | None = None,
    keep: timedelta | None = None,
) -> IdempotencyItem:
    """The first answer to a keyed change: where its entry is. Kept forever, or `keep`."""
    answer: dict[str, str | int] = {"member": entry.member_id, "seq": entry.seq}
    if order_id is not None:
        answer["order"] = order_id
    return IdempotencyItem(
        *key,
        request_hash=fingerprint,
        answer=answer,
        created_at=now,
        expires=None if keep is None else now + keep,
    )


def recorded_entry(record: RecordItem) -> Entry:
    assert isinstance(record, IdempotencyItem)
    return store.get_entry(record.answer["member"], record.answer["seq"])


def give_back(
    state: State,
    points: PointsState,
    seq: int,
    amount: int,
    *,
    by: str,
    reference: str,
    reason: str,
) -> tuple[PointsState, Entry]:
    """Points paid with and returned (a released reservation, a refunded order paid partly
    with points): a new lot, since the lots that paid may have expired meanwhile."""
    return fresh_credit(
        state, points, seq, amount, kind=EntryKind.RETURN, by=by, reference=reference, reason=reason
    )


def fresh_credit(
    state: State,
    points: PointsState,
    seq: int,
    amount: int,
    *,
    kind: EntryKind,
    by: str,
    reference: str | None,
    reason: str,
) -> tuple[PointsState, Entry]:
    """Points given outside an order (returned, a review reward, goodwill): a new lot,
    spendable at once and valid as the program says, and the entry that records it."""
    validity = state.settings.lot_validity
    lot = Lot(
        id=f"{state.member.id}-{seq}",
        points=amount,
        remaining=amount,
        activates_at=state.now,
        expires_at=None if validity is None else state.now + validity,
        status=LotStatus.ACTIVE,
    )
    after = credit(points, lot)
    entry = Entry(
        member_id=state.member.id,
        seq=seq,
        kind=kind,
        points=amount,
        balance_after=after.balance,
        created_at=state.now,
        actor=by,
        reference=reference,
        reason=reason,
        lot=lot,
    )
    return after, entry


def spend(
    state: State, points: int, seq: int, *, by: str, reference: str, reason: str | None
) -> tuple[PointsState, Entry]:
    """A REDEEM entry: active, unexpired points, earliest expiry first; InsufficientPoints if
    there are not enough."""
    spent = debit(state.member.points, points, state.now, include_pending=False)
    if spent is None:
        raise InsufficientPoints(points, state.member.points.available(state.now))
    after, funding = spent
    return after, Entry(
        member_id=state.member.id,
        seq=seq,
        kind=EntryKind.REDEEM,
        points=-points,
        balance_after=after.balance,
        created_at=state.now,
        actor=by,
        reference=reference,
        reason=reason,
        funding=tuple(funding),
    )
