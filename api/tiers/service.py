"""Tiers as admins configure them and members see them; tiers set by hand; the earn preview.

The configuration is read with every order (in the same BatchGetItem) and, for the home
query, from a per-container cache: at most CACHE_SECONDS old, replaced as soon as any read
sees a newer version.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from api import validation as v
from api.auth import Permission, Principal
from api.clock import Clock
from api.errors import InvalidInput, MemberNotFound
from api.idempotency import Keyed, Plan, fingerprint, keyed_write, versioned_write
from api.members import store as members
from api.members.model import Member
from api.members.view import authorize_read, decode_cursor, encode_cursor, page_size
from api.money import parse_money
from api.program import store as program
from api.program.service import ProgramService
from api.store import reads
from api.store.base import RecordItem, TableItem
from api.store.reads import Snapshot
from api.store.records import IdempotencyItem, record_key
from api.tiers import config as checks
from api.tiers import credit, rules, store
from api.tiers.credit import Earning, earning, order_credit
from api.tiers.model import (
    ConfigInput,
    Manual,
    Occasion,
    SetTierInput,
    Tier,
    TierChange,
    TierConfig,
)

CACHE_SECONDS = 60
MAX_MANUAL = timedelta(days=3660)


@dataclass(frozen=True)
class Preview:
    earning: Earning
    tier_now: Tier | None
    tier_after: Tier | None  # the tier this order would reach (the same if none)


@dataclass(frozen=True)
class HistoryPage:
    changes: list[TierChange]
    has_next: bool


@dataclass(frozen=True)
class TierCount:
    tier: Tier
    members: int


class TierService:
    def __init__(self, clock: Clock, program_service: ProgramService) -> None:
        self._clock = clock
        self._program = program_service
        self._lock = threading.Lock()
        self._cached: tuple[datetime, TierConfig] | None = None

    # ---- configuration ---------------------------------------------------------------------

    def config(self) -> TierConfig:
        """The configuration, from the container's cache when fresh enough."""
        now = self._clock.now()
        with self._lock:
            cached = self._cached
        if cached is not None and now - cached[0] < timedelta(seconds=CACHE_SECONDS):
            return cached[1]
        return self.seen(store.read_config())

    def seen(self, config: TierConfig) -> TierConfig:
        """Remember a configuration any read returned, unless the cache holds a newer one."""
        with self._lock:
            cached = self._cached
            if cached is None or (config.version or 0) >= (cached[1].version or 0):
                self._cached = (self._clock.now(), config)
        return config

    def get(self, actor: Principal) -> TierConfig:
        actor.require(Permission.READ_TIERS)
        return self.config()

    def update(self, actor: Principal, data: ConfigInput) -> TierConfig:
        """Applies to future orders and reviews: nobody is downgraded before their review."""
        actor.require(Permission.UPDATE_TIERS)

        def decide(snapshot: Snapshot) -> Plan[TierConfig]:
            current = store.config(snapshot)
            currencies = program.settings(snapshot).accepted_currencies
            checked = checks.check(data, current, currencies[0])
            item = store.config_to_item(checked, self._clock.now())
            saved = replace(store.config_from_item(item), version=(checked.version or 0) + 1)

            def remember() -> None:
                self.seen(saved)

            if checked.version is None:
                return Plan(saved, new=[item], on_commit=remember)
            return Plan(saved, changed=[item], on_commit=remember)

        return versioned_write(self._clock, [store.CONFIG_KEY, program.SETTINGS_KEY], decide)

    # ---- members ---------------------------------------------------------------------------

    def set_member_tier(self, actor: Principal, data: SetTierInput) -> tuple[Member, TierChange]:
        """An admin's decision: the tier holds until `until`, then the usual review."""
        actor.require(Permission.SET_MEMBER_TIER)
        member_id = v.member_ref(data.member_id, data.customer_id)
        reason = v.text("reason", data.reason, 500)
        until = v.aware("until", data.until)
        key = v.external_id("idempotencyKey", data.idempotency_key)
        keyed = Keyed(
            record_key("SET_TIER", f"{member_id}#{key}"),
            fingerprint({"tier": data.tier, "reason": reason, "until": until.isoformat()}),
            "idempotencyKey",
        )

        def decide(snapshot: Snapshot) -> Plan[tuple[Member, TierChange]]:
            member = members.load(snapshot, member_id)
            if member is None:
                raise MemberNotFound()
            config = self.seen(store.config(snapshot))
            tier = next((t for t in config.tiers if t.code == data.tier), None)
            if tier is None:
                raise InvalidInput("tier", f"No tier {data.tier[:40]!r} in the configuration.")
            now = self._program.now(program.settings(snapshot))
            if not now < until <= now + MAX_MANUAL:
                raise InvalidInput("until", "Must be in the future, at most 10 years ahead.")
            at = Occasion(member_id, now, actor.actor)
            state, change = rules.set_by_hand(
                member.tier, config, at, tier, Manual(reason, until, actor.actor)
            )
            changed = replace(member, tier=state, updated_at=now)
            record = IdempotencyItem(
                *keyed.record,
                request_hash=keyed.fingerprint,
                answer={"member": member_id, "change": change.seq},
                created_at=now,
            )
            return Plan(
                (members.as_written(changed), change),
                new=[record, store.change_to_item(change)],
                changed=[members.to_item(changed)],
            )

        def replay(record: RecordItem) -> tuple[Member, TierChange]:
            assert isinstance(record, IdempotencyItem)
            member = members.load(Snapshot([members.member_key(member_id)]), member_id)
            item = reads.get(store.change_key(member_id, record.answer["change"]), TableItem)
            change = store.change_in(item)
            assert member is not None  # written with the record
            assert change is not None
            return member, change

        reads_ = [members.member_key(member_id), store.CONFIG_KEY, program.SETTINGS_KEY]
        return keyed_write(self._clock, keyed, reads_, decide, replay)

    def history(
        self, actor: Principal, member_id: str, first: int, after: str | None
    ) -> HistoryPage:
        """Tier changes, newest first."""
        authorize_read(actor, member_id)
        first = page_size(first)
        before = decode_cursor(after, "tier") if after is not None else 10**12
        if before <= 0:
            return HistoryPage([], False)
        start, end = store.change_key(member_id, 0), store.change_key(member_id, before - 1)
        items = reads.query(
            start[0], TableItem.sk.between(start[1], end[1]), limit=first + 1, descending=True
        )
        found = store.changes(items)
        return HistoryPage(found[:first], len(found) > first)

    def preview(
        self, actor: Principal, member_id: str, total_amount: Decimal, currency: str
    ) -> Preview:
        """What an order of this total would earn the member now, and the tier it would
        reach: for product and cart pages. Reads the member, settings and tiers at once."""
        authorize_read(actor, member_id)
        total = parse_money("total", total_amount, currency, positive=False)
        snapshot = Snapshot([members.member_key(member_id), program.SETTINGS_KEY, store.CONFIG_KEY])
        member = members.load(snapshot, member_id)
        if member is None:
            raise MemberNotFound()
        settings = program.settings(snapshot)
        config = self.seen(store.config(snapshot))
        now = self._program.now(settings)
        earned = earning(settings.earning_rule, total, credit.multiplier(member.tier, config))
        state, _ = rules.on_order(
            member.tier,
            config,
            Occasion(member_id, now, actor.actor),
            now.date(),
            order_credit(earned.base, total),
        )
        return Preview(earned, config.tier(member.tier.code), config.tier(state.code))

    def distribution(self, actor: Principal) -> list[TierCount]:
        """Members per tier, as the stream reaction counted them (one Query)."""
        actor.require(Permission.READ_TIER_STATS)
        config = self.config()
        items = reads.query(
            store.CONFIG_KEY[0],
            TableItem.sk.startswith(store.COUNT_PREFIX),
            limit=1000,
            descending=False,
        )
        counts = store.counts(items)
        above = [TierCount(t, max(0, counts.get(t.code, 0))) for t in config.tiers[1:]]
        if not config.tiers:
            return []
        base = max(0, counts.get(store.MEMBERS, 0) - sum(c.members for c in above))
        return [TierCount(config.tiers[0], base), *above]


def cursor(change: TierChange) -> str:
    return encode_cursor(change.seq, "tier")
