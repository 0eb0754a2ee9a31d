"""Admins create, change, pause, resume and archive promotions; checkout reads the live ones
from a per-container cache (Catalog). Batches of unique codes: api/promotions/batches.py."""

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
from api.promotions import checks, codes, store
from api.promotions.model import (
    Code,
    Promotion,
    PromotionInput,
    Status,
    Usage,
)
from api.store import reads
from api.store.base import RecordItem, TableItem
from api.store.cached import Cached
from api.store.reads import Snapshot
from api.store.records import IdempotencyItem, record_key
from api.tiers import store as tiers

CACHE_SECONDS = 30
MAX_LIVE = 500  # live promotions (active and paused) read by the one Query (paged past 1 MB)


class Catalog:
    """The live promotions, read with one Query (more pages past 1 MB) and kept per container
    for CACHE_SECONDS; any write through this container replaces them at once."""

    def __init__(self, clock: Clock) -> None:
        self._cache = Cached(clock, _read_live)

    def live(self) -> tuple[Promotion, ...]:
        return self._cache.get(CACHE_SECONDS)

    def forget(self) -> None:
        self._cache.forget()


def _read_live() -> tuple[Promotion, ...]:
    items = reads.query(
        store.LIVE, TableItem.sk.startswith(store.PROMO_PREFIX), limit=MAX_LIVE, descending=False
    )
    return tuple(store.promotions(items))


@dataclass(frozen=True)
class PromotionView:
    promotion: Promotion
    usage: Usage


class PromotionAdmin:
    def __init__(self, clock: Clock, program_service: ProgramService, catalog: Catalog) -> None:
        self._clock = clock
        self._program = program_service
        self._catalog = catalog

    def _checked(self, snapshot: Snapshot, data: PromotionInput) -> PromotionInput:
        ladder = [t.code for t in tiers.config(snapshot).tiers]
        return checks.check(data, ladder, program.settings(snapshot).accepted_currencies)

    def create(self, actor: Principal, data: PromotionInput) -> Promotion:
        """Idempotent on the promotion's id: the same request again returns the promotion;
        another request with the id is IdempotencyConflict."""
        actor.require(Permission.MANAGE_PROMOTIONS)
        pid = checks.promotion_id(data.id)
        keyed = Keyed(record_key("CREATE_PROMOTION", pid), fingerprint({"input": repr(data)}), "id")
        code_keys = (
            [] if data.code is None else [store.code_key(codes.normalise("code", data.code))]
        )

        def decide(snapshot: Snapshot) -> Plan[Promotion]:
            checked = self._checked(snapshot, data)
            if snapshot.get(store.promotion_key(pid), store.PromotionItem) or snapshot.get(
                store.promotion_key(pid, archived=True), store.PromotionItem
            ):
                raise InvalidInput("id", f"A promotion {pid} exists already.")
            if code_keys and snapshot.get(code_keys[0], store.CodeItem) is not None:
                raise InvalidInput("code", "This code is in use.")
            # Checkout reads at most MAX_LIVE live ones: one more would
            # silently never apply.
            self._catalog.forget()
            if len(self._catalog.live()) >= MAX_LIVE:
                raise InvalidInput("id", f"At most {MAX_LIVE} live promotions: archive some.")
            now = self._program.now(program.settings(snapshot))
            promotion = _from_input(checked, now)
            new: list[TableItem] = [
                store.promotion_to_item(promotion),
                IdempotencyItem(
                    *keyed.record,
                    request_hash=keyed.fingerprint,
                    answer={"id": pid},
                    created_at=now,
                ),
            ]
            if promotion.code is not None:
                new.append(store.code_item(Code(promotion.code, pid, max_uses=None)))
            return Plan(replace(promotion, version=1), new=new, on_commit=self._catalog.forget)

        def replay(_: RecordItem) -> Promotion:
            found = self.get(actor, pid)
            return found.promotion

        reads_ = [
            tiers.CONFIG_KEY,
            program.SETTINGS_KEY,
            store.promotion_key(pid),
            store.promotion_key(pid, archived=True),
            *code_keys,
        ]
        return keyed_write(self._clock, keyed, reads_, decide, replay)

    def update(self, actor: Principal, data: PromotionInput) -> Promotion:
        """Everything but the id and the generic code; a live promotion only."""
        actor.require(Permission.MANAGE_PROMOTIONS)
        pid = checks.promotion_id(data.id)

        def decide(snapshot: Snapshot) -> Plan[Promotion]:
            current = live_promotion(snapshot, pid)
            checked = self._checked(snapshot, data)
            if checked.code != current.code:
                raise InvalidInput("code", "The generic code cannot change; create a promotion.")
            now = self._program.now(program.settings(snapshot))
            changed = replace(
                _from_input(checked, now),
                status=current.status,
                created_at=current.created_at,
                version=current.version,
            )
            written = replace(changed, version=(current.version or 0) + 1)
            return Plan(
                written, changed=[store.promotion_to_item(changed)], on_commit=self._catalog.forget
            )

        keys = [store.promotion_key(pid), tiers.CONFIG_KEY, program.SETTINGS_KEY]
        return versioned_write(self._clock, keys, decide)

    def set_status(self, actor: Principal, promotion_id: str, status: Status) -> Promotion:
        """Pause, resume or archive (final: the promotion moves out of the live list)."""
        actor.require(Permission.MANAGE_PROMOTIONS)
        pid = checks.promotion_id(promotion_id)

        def decide(snapshot: Snapshot) -> Plan[Promotion]:
            archived = snapshot.get(store.promotion_key(pid, archived=True), store.PromotionItem)
            if archived is not None:  # archiving again is a replay; the rest come too late
                if status is Status.ARCHIVED:
                    return Plan(store.promotion_from_item(archived))
                raise InvalidInput("id", "This promotion is archived: that is final.")
            current = live_promotion(snapshot, pid)
            now = self._program.now(program.settings(snapshot))
            changed = replace(current, status=status, updated_at=now)
            if status is Status.ARCHIVED:
                moved = replace(changed, version=None)
                return Plan(
                    replace(moved, version=1),
                    new=[store.promotion_to_item(moved)],
                    deleted=[store.promotion_to_item(current)],
                    on_commit=self._catalog.forget,
                )
            written = replace(changed, version=(current.version or 0) + 1)
            return Plan(
                written, changed=[store.promotion_to_item(changed)], on_commit=self._catalog.forget
            )

        reads = [store.promotion_key(pid), store.promotion_key(pid, archived=True)]
        return versioned_write(self._clock, [*reads, program.SETTINGS_KEY], decide)

    def get(self, actor: Principal, promotion_id: str) -> PromotionView:
        actor.require(Permission.MANAGE_PROMOTIONS)
        pid = checks.promotion_id(promotion_id)
        snapshot = Snapshot(
            [
                store.promotion_key(pid),
                store.promotion_key(pid, archived=True),
                store.usage_key(pid),
            ]
        )
        item = snapshot.get(store.promotion_key(pid), store.PromotionItem) or snapshot.get(
            store.promotion_key(pid, archived=True), store.PromotionItem
        )
        if item is None:
            raise NotFound("promotion")
        return PromotionView(
            store.promotion_from_item(item),
            store.usage_from_item(snapshot.get(store.usage_key(pid), TableItem)),
        )

    def live(self, actor: Principal) -> Sequence[Promotion]:
        """The live promotions (active and paused), highest priority first."""
        actor.require(Permission.MANAGE_PROMOTIONS)
        return sorted(self._catalog.live(), key=lambda p: (-p.priority, p.id))


def live_promotion(snapshot: Snapshot, pid: str) -> Promotion:
    item = snapshot.get(store.promotion_key(pid), store.PromotionItem)
    if item is None:
        raise NotFound("promotion")
    return store.promotion_from_item(item)


def _from_input(data: PromotionInput, now: datetime) -> Promotion:
    return Promotion(
        id=data.id,
        name=data.name,
        description=data.description,
        effect=data.effect,
        activation=data.activation,
        code=data.code,
        conditions=data.conditions,
        schedule=data.schedule,
        limits=data.limits,
        stacking=data.stacking,
        priority=data.priority,
        currency=data.currency,
        created_at=now,
        updated_at=now,
    )
