"""Redeeming a reward, and taking a redemption back (cancel) or seeing it through (fulfil).

A redemption is one read and one transaction: the member, settings and tiers, the reward,
its stock, the member's limit counters and (pools) the next codes in one BatchGetItem; then
the REDEEM entry, the member, the redemption, the stock and limit counters (conditional
ADDs: never beyond stock or limit however many members race), and the code issued or
claimed, all or nothing. The key is the member's: the same key again returns the first
redemption, another reward under it is IdempotencyConflict.

Cancelling gives the points back as a RETURN entry in a new lot, spendable at once and valid
as the program says (the lots that paid may have expired since: those points come back
fresh rather than not at all), voids an issued code (refused once it is used or held by a
checkout), and returns the stock and the member's limit. An imported code does not go back
to the pool: it was shown to the member, and the shop should disable it on its platform.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from api import validation as v
from api.auth import Permission, Principal
from api.clock import Clock
from api.config import Config
from api.errors import Forbidden, InvalidInput, NotFound, RewardUnavailable
from api.idempotency import Keyed, Plan, fingerprint, keyed_write, versioned_write
from api.observability import count, logger
from api.points import ledger
from api.points.store import entry_to_item
from api.program.service import ProgramService
from api.promotions import issued
from api.promotions.admin import Catalog
from api.promotions.model import Promotion, Status
from api.rewards import checks, periods, store
from api.rewards.admin import RewardCatalog
from api.rewards.model import (
    RedeemInput,
    Redemption,
    RedemptionStatus,
    Reward,
    RewardType,
    Stock,
    Unavailable,
)
from api.store import reads
from api.store.base import Key, RecordItem, TableItem
from api.store.reads import Snapshot
from api.store.records import record_key
from api.store.tx import Add, Retry

WINDOW = 8  # pool codes read ahead of the last claim this container saw
_ID = re.compile(r"rdm_([0-9a-f]{26})_([0-9]{1,12})")


def redemption_id(member_id: str, seq: int) -> str:
    return f"rdm_{member_id.removeprefix('mbr_')}_{seq}"


def parse_id(value: str, field: str = "id") -> tuple[str, int]:
    """The member and entry seq a redemption id stands for."""
    match = _ID.fullmatch(value)
    if match is None:
        raise InvalidInput(field, "Not a redemption id returned by this API.")
    return f"mbr_{match.group(1)}", int(match.group(2))


def issuing(reward: Reward, live: Sequence[Promotion], now: datetime) -> Promotion | None:
    """A DISCOUNT_CODE reward's promotion, if its codes would work now: active, not ended."""
    promotion = next((p for p in live if p.id == reward.promotion_id), None)
    if promotion is None or promotion.status is not Status.ACTIVE:
        return None
    ends = promotion.schedule.ends_at
    return None if ends is not None and now >= ends else promotion


def unavailable(
    reward: Reward,
    stock: Stock,
    uses: int,
    tier_rank: int,
    ranks: dict[str, int],
    *,
    now: datetime,
    promotions: Sequence[Promotion],
) -> Unavailable | None:
    """Why the member cannot redeem it now, points aside (None: they can)."""
    if (
        not reward.active
        or reward.archived
        or (reward.starts_at is not None and now < reward.starts_at)
        or (reward.ends_at is not None and now >= reward.ends_at)
        or (reward.type is RewardType.DISCOUNT_CODE and issuing(reward, promotions, now) is None)
    ):
        return Unavailable.NOT_AVAILABLE
    if reward.min_tier is not None and tier_rank < ranks.get(reward.min_tier, 10**6):
        return Unavailable.TIER_TOO_LOW
    if reward.member_limit is not None and uses >= reward.member_limit.count:
        return Unavailable.LIMIT_REACHED
    remaining = stock.remaining(reward)
    if remaining is not None and remaining <= 0:
        return Unavailable.OUT_OF_STOCK
    return None


MESSAGES = {
    Unavailable.NOT_AVAILABLE: "This reward is not available now.",
    Unavailable.TIER_TOO_LOW: "This reward needs a higher tier.",
    Unavailable.LIMIT_REACHED: "The member has redeemed this reward as often as allowed for now.",
    Unavailable.OUT_OF_STOCK: "This reward is out of stock.",
}


def limit_keys(reward: Reward, member_id: str, now: datetime) -> list[Key]:
    """The member's limit counters the member may be counting in now (any time zone)."""
    if reward.member_limit is None:
        return []
    found = periods.candidates(reward.member_limit.period, now)
    return [store.member_limit_key(reward.id, member_id, p) for p in sorted(found)]


class RedemptionService:
    def __init__(
        self,
        config: Config,
        clock: Clock,
        program_service: ProgramService,
        catalog: RewardCatalog,
        promotions: Catalog,
    ) -> None:
        self._clock = clock
        self._program = program_service
        self._catalog = catalog
        self._promotions = promotions
        self._keep = timedelta(days=config.idempotency_days)
        self._lock = threading.Lock()
        self._claimed: dict[str, int] = {}  # reward id -> pool claims last seen

    # ---- redeeming ------------------------------------------------------------------------

    def redeem(self, actor: Principal, data: RedeemInput) -> Redemption:
        member_id = _member(actor, data)
        rid = checks.reward_id(data.reward_id, "rewardId")
        key = v.external_id("idempotencyKey", data.idempotency_key)
        keyed = Keyed(
            record_key("REDEEM_REWARD", f"{member_id}#{key}"),
            fingerprint({"reward": rid}),
            "idempotencyKey",
        )
        cached = next((r for r in self._catalog.live() if r.id == rid), None)

        def decide(snapshot: Snapshot) -> Plan[Redemption]:
            state = ledger.state(snapshot, member_id, self._program)
            reward = self._fresh(snapshot, rid, cached)
            member, now = state.member, state.now
            stock = store.stock_from_item(snapshot.get(store.stock_key(rid), TableItem))
            period, uses = member_uses(snapshot, reward, member_id, member.time_zone, now)
            ranks = {t.code: i for i, t in enumerate(state.tiers.tiers)}
            rank = state.tiers.rank(member.tier.code)
            live = self._promotions.live()
            why = unavailable(reward, stock, uses, rank, ranks, now=now, promotions=live)
            if why is not None:
                raise RewardUnavailable(why.value, MESSAGES[why])
            seq = member.next_seq
            rdm_id = redemption_id(member_id, seq)
            points, entry = ledger.spend(
                state, reward.points_cost, seq, by=actor.actor, reference=rdm_id, reason=reward.name
            )
            given = self._deliver(snapshot, reward, stock, member_id, now)
            redemption = Redemption(
                id=rdm_id,
                member_id=member_id,
                seq=seq,
                reward_id=rid,
                reward_name=reward.name,
                type=reward.type,
                points=reward.points_cost,
                status=given.status,
                created_at=now,
                updated_at=now,
                code=given.code,
                expires_at=given.expires_at,
                period=period,
            )
            added = [*given.added, *_limit_adds(reward, member_id, period)]
            new = [
                *given.new,
                ledger.record(keyed.record, keyed.fingerprint, entry, now, keep=self._keep),
                entry_to_item(entry),
                store.redemption_to_item(redemption),
            ]
            return Plan(
                replace(redemption, version=1),
                new=new,
                changed=[ledger.member_item(state, points, [entry])],
                added=added,
                on_commit=lambda: self._redeemed(reward, stock),
            )

        def replay(record: RecordItem) -> Redemption:
            entry = ledger.recorded_entry(record)
            found = reads.get(
                store.redemption_key(entry.member_id, entry.seq), store.RedemptionItem
            )
            assert found is not None  # written with the record
            return store.redemption_from_item(found)

        return keyed_write(self._clock, keyed, self._keys(member_id, rid, cached), decide, replay)

    def _keys(self, member_id: str, rid: str, cached: Reward | None) -> list[Key]:
        """One BatchGetItem: the ledger's reads, the reward, its stock, the member's limit
        counters and, for a pool, the next codes after the last claim this container saw."""
        keys = [*ledger.reads(member_id), store.reward_key(rid), store.stock_key(rid)]
        if cached is not None:
            keys += limit_keys(cached, member_id, self._clock.now())
            if cached.type is RewardType.IMPORTED_CODE:
                with self._lock:
                    seen = self._claimed.get(rid, 0)
                keys += [store.pool_key(rid, n) for n in range(seen, seen + WINDOW)]
        return keys

    def _fresh(self, snapshot: Snapshot, rid: str, cached: Reward | None) -> Reward:
        item = snapshot.get(store.reward_key(rid), store.RewardItem)
        if item is None:
            raise NotFound("reward")
        reward = store.reward_from_item(item)
        if cached is None or cached.member_limit != reward.member_limit:
            self._catalog.forget()  # read with the wrong limit keys: read again
            raise Retry()
        return reward

    def _deliver(
        self, snapshot: Snapshot, reward: Reward, stock: Stock, member_id: str, now: datetime
    ) -> _Given:
        """What the member gets, and the writes that take it from stock."""
        if reward.type is RewardType.PERK:
            return _Given(RedemptionStatus.REQUESTED, None, None, [], [_stock_add(reward)])
        if reward.type is RewardType.DISCOUNT_CODE:
            promotion = issuing(reward, self._promotions.live(), now)
            if promotion is None:  # checked by unavailable() already
                raise RewardUnavailable(
                    Unavailable.NOT_AVAILABLE.value, MESSAGES[Unavailable.NOT_AVAILABLE]
                )
            expires = now + timedelta(days=reward.validity_days or 0)
            if promotion.schedule.ends_at is not None:
                expires = min(expires, promotion.schedule.ends_at)
            issue, code_item = issued.issue(promotion, member_id, expires)
            return _Given(
                RedemptionStatus.ISSUED, issue.code, expires, [code_item], [_stock_add(reward)]
            )
        # A pool: the n-th code uploaded, claimed by moving `claimed` from exactly n.
        n = stock.claimed
        pool = snapshot.get(store.pool_key(reward.id, n), store.PoolCodeItem)
        if pool is None:  # past the window this container read ahead
            pool = reads.get(store.pool_key(reward.id, n), store.PoolCodeItem)
        if pool is None:  # uploaded codes not added yet
            raise RewardUnavailable(
                Unavailable.OUT_OF_STOCK.value, MESSAGES[Unavailable.OUT_OF_STOCK]
            )
        claimed = store.StockItem.claimed == n
        if n == 0:
            claimed = claimed | store.StockItem.claimed.does_not_exist()
        add = Add(store.StockItem(*store.stock_key(reward.id)), {"claimed": 1}, claimed)
        return _Given(RedemptionStatus.ISSUED, pool.code, None, [], [add])

    def _redeemed(self, reward: Reward, stock: Stock) -> None:
        count("RewardsRedeemed")
        count("RewardPointsSpent", reward.points_cost)
        if reward.type is RewardType.IMPORTED_CODE:
            with self._lock:
                self._claimed[reward.id] = max(self._claimed.get(reward.id, 0), stock.claimed + 1)
        left = stock.remaining(reward)
        if left is not None and reward.low_stock is not None and left - 1 <= reward.low_stock:
            count("RewardLowStock")
            logger.warning("Reward stock low", extra={"reward": reward.id, "remaining": left - 1})

    # ---- after redeeming ------------------------------------------------------------------

    def cancel(self, actor: Principal, redemption_id_: str) -> Redemption:
        """An unused reward taken back: points, stock and limit return, an issued code is
        voided. Members cancel their own within the program's `rewardCancelHours`; admins and
        the shop backend any time. Cancelling again returns the cancelled redemption."""
        member_id, seq = parse_id(redemption_id_)
        own = actor.member_id is not None
        if own:
            actor.require(Permission.REDEEM_OWN_POINTS)
            if actor.member_id != member_id:
                raise NotFound("redemption")  # another member's: as if absent
        else:
            actor.require(Permission.FULFIL_REWARDS)
        key = store.redemption_key(member_id, seq)
        # Its code is read with the rest: the redemption says which (it never changes).
        first = reads.get(key, store.RedemptionItem)
        code = (
            None if first is None or first.reward_type != RewardType.DISCOUNT_CODE else first.code
        )

        def decide(snapshot: Snapshot) -> Plan[Redemption]:
            found = snapshot.get(key, store.RedemptionItem)
            if found is None:
                raise NotFound("redemption")
            r = store.redemption_from_item(found)
            if r.status is RedemptionStatus.CANCELLED:
                return Plan(r)
            if r.status is RedemptionStatus.FULFILLED:
                raise InvalidInput("id", "A fulfilled perk cannot be cancelled.")
            state = ledger.state(snapshot, member_id, self._program)
            now = state.now
            if own and now >= r.created_at + timedelta(hours=state.settings.reward_cancel_hours):
                raise InvalidInput(
                    "id",
                    f"Members may cancel a reward within {state.settings.reward_cancel_hours} "
                    "hours; ask the shop.",
                )
            added: list[Add] = []
            if r.type is RewardType.DISCOUNT_CODE and r.code is not None:
                if issued.read(snapshot, r.code).uses:
                    raise InvalidInput("id", "Its code was used (or is in a checkout).")
                added.append(issued.void(r.code))
            if r.type is not RewardType.IMPORTED_CODE:
                added.append(Add(store.StockItem(*store.stock_key(r.reward_id)), {"claimed": -1}))
            if r.period is not None:
                limit = store.member_limit_key(r.reward_id, member_id, r.period)
                added.append(Add(store.MemberLimitItem(*limit), {"uses": -1}))
            seq_back = state.member.next_seq
            points, entry = ledger.give_back(
                state,
                state.member.points,
                seq_back,
                r.points,
                by=actor.actor,
                reference=r.id,
                reason=f"Cancelled: {r.reward_name}",
            )
            done = replace(
                r, status=RedemptionStatus.CANCELLED, updated_at=now, returned_seq=seq_back
            )
            return Plan(
                replace(done, version=(r.version or 0) + 1),
                new=[entry_to_item(entry)],
                changed=[
                    store.redemption_to_item(done),
                    ledger.member_item(state, points, [entry]),
                ],
                added=added,
                on_commit=lambda: count("RewardsCancelled"),
            )

        keys = [key, *ledger.reads(member_id), *([] if code is None else [issued.key(code)])]
        return versioned_write(self._clock, keys, decide)

    def fulfil(self, actor: Principal, redemption_id_: str) -> Redemption:
        """A perk delivered (the shop backend or an admin). Again: the same answer."""
        actor.require(Permission.FULFIL_REWARDS)
        member_id, seq = parse_id(redemption_id_)
        key = store.redemption_key(member_id, seq)

        def decide(snapshot: Snapshot) -> Plan[Redemption]:
            found = snapshot.get(key, store.RedemptionItem)
            if found is None:
                raise NotFound("redemption")
            r = store.redemption_from_item(found)
            if r.type is not RewardType.PERK:
                raise InvalidInput("id", "Only perks are fulfilled; codes are issued at once.")
            if r.status is RedemptionStatus.FULFILLED:
                return Plan(r)
            if r.status is not RedemptionStatus.REQUESTED:
                raise InvalidInput("id", "This perk was cancelled.")
            now = self._program.now(self._program.load())
            done = replace(r, status=RedemptionStatus.FULFILLED, updated_at=now)
            return Plan(
                replace(done, version=(r.version or 0) + 1),
                changed=[store.redemption_to_item(done)],
                on_commit=lambda: count("PerksFulfilled"),
            )

        return versioned_write(self._clock, [key], decide)


@dataclass(frozen=True)
class _Given:
    status: RedemptionStatus
    code: str | None
    expires_at: datetime | None
    new: list[TableItem]
    added: list[Add]


def member_uses(
    snapshot: Snapshot, reward: Reward, member_id: str, time_zone: str, now: datetime
) -> tuple[str | None, int]:
    """The member-limit period the member is in now, and their uses in it. The snapshot read
    the periods of the container's clock; a test clock moved far ahead needs one more read."""
    if reward.member_limit is None:
        return None, 0
    period = periods.current(reward.member_limit.period, now, time_zone)
    key = store.member_limit_key(reward.id, member_id, period)
    if snapshot.has(key):
        return period, store.member_uses(snapshot.get(key, TableItem))
    return period, store.member_uses(reads.get(key, TableItem))


def _limit_adds(reward: Reward, member_id: str, period: str | None) -> list[Add]:
    if reward.member_limit is None or period is None:
        return []
    item = store.MemberLimitItem(*store.member_limit_key(reward.id, member_id, period))
    within = store.MemberLimitItem.uses.does_not_exist() | (
        store.MemberLimitItem.uses < reward.member_limit.count
    )
    return [Add(item, {"uses": 1}, within)]


def _stock_add(reward: Reward) -> Add:
    item = store.StockItem(*store.stock_key(reward.id))
    if reward.stock is None:
        return Add(item, {"claimed": 1})
    room = store.StockItem.claimed.does_not_exist() | (store.StockItem.claimed < reward.stock)
    return Add(item, {"claimed": 1}, room)


def _member(actor: Principal, data: RedeemInput) -> str:
    """Members redeem for themselves; the shop backend for any member."""
    if data.member_id is None and data.customer_id is None:
        actor.require(Permission.REDEEM_OWN_POINTS)
        if actor.member_id is None:
            raise InvalidInput("memberId", "Give memberId or customerId.")
        return actor.member_id
    if actor.member_id is None:
        actor.require(Permission.REDEEM_ANY_POINTS)
    member_id = v.member_ref(data.member_id, data.customer_id)
    if actor.member_id is not None and member_id != actor.member_id:
        raise Forbidden()
    return member_id
