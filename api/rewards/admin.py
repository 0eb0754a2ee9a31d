"""Admins create, change and archive rewards; members' reads take the live ones from a
per-container cache (RewardCatalog), the stock always fresh."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from api.auth import Permission, Principal
from api.clock import Clock
from api.errors import InvalidInput, NotFound
from api.idempotency import Keyed, Plan, fingerprint, keyed_write, versioned_write
from api.program import store as program
from api.program.service import ProgramService
from api.promotions.admin import Catalog
from api.rewards import checks, store
from api.rewards.model import Reward, RewardInput, Stock
from api.store import reads
from api.store.base import RecordItem, TableItem
from api.store.cached import Cached
from api.store.reads import Snapshot
from api.store.records import IdempotencyItem, record_key
from api.tiers import store as tiers

CACHE_SECONDS = 30
MAX_LIVE = 500  # live rewards: the catalog a member pages through


class RewardCatalog:
    """The live rewards, read with one Query and kept per container for CACHE_SECONDS; any
    write through this container replaces them at once. Stock is never cached."""

    def __init__(self, clock: Clock) -> None:
        self._cache = Cached(clock, _read_live)

    def live(self) -> tuple[Reward, ...]:
        return self._cache.get(CACHE_SECONDS)

    def forget(self) -> None:
        self._cache.forget()


def _read_live() -> tuple[Reward, ...]:
    items = reads.query(
        store.LIVE, TableItem.sk.startswith(store.REWARD_PREFIX), limit=MAX_LIVE, descending=False
    )
    return tuple(sorted(store.rewards(items), key=lambda r: (r.points_cost, r.id)))


@dataclass(frozen=True)
class RewardView:
    reward: Reward
    stock: Stock

    @property
    def remaining(self) -> int | None:
        return self.stock.remaining(self.reward)

    @property
    def low(self) -> bool:
        """At or below its low-stock signal."""
        left = self.remaining
        return (
            self.reward.low_stock is not None and left is not None and left <= self.reward.low_stock
        )


class RewardAdmin:
    def __init__(
        self,
        clock: Clock,
        program_service: ProgramService,
        catalog: RewardCatalog,
        promotions: Catalog,
    ) -> None:
        self._clock = clock
        self._program = program_service
        self._catalog = catalog
        self._promotions = promotions

    def _checked(self, snapshot: Snapshot, data: RewardInput) -> RewardInput:
        ladder = [t.code for t in tiers.config(snapshot).tiers]
        return checks.check(data, ladder, self._promotions.live())

    def create(self, actor: Principal, data: RewardInput) -> Reward:
        """Idempotent on the reward's id: the same request again returns the reward; another
        request with the id is IdempotencyConflict."""
        actor.require(Permission.MANAGE_REWARDS)
        rid = checks.reward_id(data.id)
        keyed = Keyed(record_key("CREATE_REWARD", rid), fingerprint({"input": repr(data)}), "id")

        def decide(snapshot: Snapshot) -> Plan[Reward]:
            checked = self._checked(snapshot, data)
            if snapshot.get(store.reward_key(rid), store.RewardItem) or snapshot.get(
                store.reward_key(rid, archived=True), store.RewardItem
            ):
                raise InvalidInput("id", f"A reward {rid} exists already.")
            self._catalog.forget()
            if len(self._catalog.live()) >= MAX_LIVE:
                raise InvalidInput("id", f"At most {MAX_LIVE} live rewards: archive some.")
            now = self._program.now(program.settings(snapshot))
            reward = _from_input(checked, now)
            record = IdempotencyItem(
                *keyed.record, request_hash=keyed.fingerprint, answer={"id": rid}, created_at=now
            )
            return Plan(
                replace(reward, version=1),
                new=[store.reward_to_item(reward), record],
                on_commit=self._catalog.forget,
            )

        def replay(_: RecordItem) -> Reward:
            return self.get(actor, rid).reward

        keys = [
            tiers.CONFIG_KEY,
            program.SETTINGS_KEY,
            store.reward_key(rid),
            store.reward_key(rid, archived=True),
        ]
        return keyed_write(self._clock, keyed, keys, decide, replay)

    def update(self, actor: Principal, data: RewardInput) -> Reward:
        """Everything but the id and the type; a live reward only. Redemptions made keep
        what they got."""
        actor.require(Permission.MANAGE_REWARDS)
        rid = checks.reward_id(data.id)

        def decide(snapshot: Snapshot) -> Plan[Reward]:
            current = _live(snapshot, rid)
            checked = self._checked(snapshot, data)
            if checked.type is not current.type:
                raise InvalidInput("type", "The type cannot change; create a reward.")
            now = self._program.now(program.settings(snapshot))
            changed = replace(
                _from_input(checked, now), created_at=current.created_at, version=current.version
            )
            written = replace(changed, version=(current.version or 0) + 1)
            return Plan(
                written, changed=[store.reward_to_item(changed)], on_commit=self._catalog.forget
            )

        keys = [
            store.reward_key(rid),
            store.reward_key(rid, archived=True),
            tiers.CONFIG_KEY,
            program.SETTINGS_KEY,
        ]
        return versioned_write(self._clock, keys, decide)

    def archive(self, actor: Principal, reward_id: str) -> Reward:
        """Final: the reward leaves the catalog; its redemptions stay as they are. Archiving
        again is a replay."""
        actor.require(Permission.MANAGE_REWARDS)
        rid = checks.reward_id(reward_id)

        def decide(snapshot: Snapshot) -> Plan[Reward]:
            archived = snapshot.get(store.reward_key(rid, archived=True), store.RewardItem)
            if archived is not None:
                return Plan(store.reward_from_item(archived))
            current = _live(snapshot, rid)
            now = self._program.now(program.settings(snapshot))
            moved = replace(current, archived=True, active=False, updated_at=now, version=None)
            return Plan(
                replace(moved, version=1),
                new=[store.reward_to_item(moved)],
                deleted=[store.reward_to_item(current)],
                on_commit=self._catalog.forget,
            )

        keys = [store.reward_key(rid), store.reward_key(rid, archived=True), program.SETTINGS_KEY]
        return versioned_write(self._clock, keys, decide)

    def get(self, actor: Principal, reward_id: str) -> RewardView:
        """A reward, archived ones too, with its stock."""
        actor.require(Permission.MANAGE_REWARDS)
        rid = checks.reward_id(reward_id)
        live, archived = store.reward_key(rid), store.reward_key(rid, archived=True)
        snapshot = Snapshot([live, archived, store.stock_key(rid)])
        item = snapshot.get(live, store.RewardItem) or snapshot.get(archived, store.RewardItem)
        if item is None:
            raise NotFound("reward")
        stock = store.stock_from_item(snapshot.get(store.stock_key(rid), TableItem))
        return RewardView(store.reward_from_item(item), stock)

    def catalog(self, actor: Principal) -> Sequence[RewardView]:
        """Admin: every live reward with its stock (one BatchGetItem per 100)."""
        actor.require(Permission.MANAGE_REWARDS)
        live = self._catalog.live()
        found = reads.get_many([store.stock_key(r.id) for r in live])
        return [
            RewardView(r, store.stock_from_item(found.get(store.stock_key(r.id)))) for r in live
        ]


def _live(snapshot: Snapshot, rid: str) -> Reward:
    item = snapshot.get(store.reward_key(rid), store.RewardItem)
    if item is None:
        if snapshot.get(store.reward_key(rid, archived=True), store.RewardItem) is not None:
            raise InvalidInput("id", "This reward is archived: that is final.")
        raise NotFound("reward")
    return store.reward_from_item(item)


def _from_input(data: RewardInput, now: datetime) -> Reward:
    return Reward(
        id=data.id,
        name=data.name,
        points_cost=data.points_cost,
        type=data.type,
        description=data.description,
        image_url=data.image_url,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        min_tier=data.min_tier,
        stock=data.stock,
        member_limit=data.member_limit,
        active=data.active,
        promotion_id=data.promotion_id,
        validity_days=data.validity_days,
        low_stock=data.low_stock,
        created_at=now,
        updated_at=now,
    )
