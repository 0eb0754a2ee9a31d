"""What members see: the catalog as it stands for them (a page of it), and what they got.

The catalog page is the container's cached rewards plus one BatchGetItem: the member,
settings, tiers, the page's stock counters and the member's limit counters. A member's
redemptions are one Query, newest first, plus one BatchGetItem for the state of their codes
(used at checkout, expired) when the page holds codes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from api.auth import Principal
from api.clock import Clock
from api.errors import MemberNotFound
from api.members import store as members
from api.members.view import authorize_read, decode_cursor, encode_cursor, page_size
from api.program import store as program
from api.program.service import ProgramService
from api.promotions import issued
from api.promotions.admin import Catalog
from api.promotions.model import Code
from api.rewards import store
from api.rewards.admin import RewardCatalog
from api.rewards.model import (
    Offer,
    OfferPage,
    Redemption,
    RedemptionPage,
    RedemptionStatus,
    RewardType,
    Unavailable,
)
from api.rewards.redemptions import limit_keys, member_uses, unavailable
from api.store import reads
from api.store.base import TableItem
from api.store.reads import Snapshot
from api.tiers import store as tiers

CURSOR = "reward"


class RewardReader:
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

    def offers(self, actor: Principal, member_id: str, first: int, after: str | None) -> OfferPage:
        """Active rewards, cheapest first, each as it stands for the member."""
        authorize_read(actor, member_id)
        first = page_size(first)
        start = 0 if after is None else decode_cursor(after, CURSOR) + 1
        live = [r for r in self._catalog.live() if r.active]
        page = live[start : start + first]
        keys = [members.member_key(member_id), program.SETTINGS_KEY, tiers.CONFIG_KEY]
        keys += [store.stock_key(r.id) for r in page]
        approx = self._clock.now()
        keys += [k for r in page for k in limit_keys(r, member_id, approx)]
        snapshot = Snapshot(keys)
        member = members.load(snapshot, member_id)
        if member is None:
            raise MemberNotFound()
        now = self._program.now(program.settings(snapshot))
        ladder = tiers.config(snapshot)
        ranks = {t.code: i for i, t in enumerate(ladder.tiers)}
        rank = ladder.rank(member.tier.code)
        available = member.points.available(now)
        offers = []
        promotions = self._promotions.live()
        for r in page:
            stock = store.stock_from_item(snapshot.get(store.stock_key(r.id), TableItem))
            _, uses = member_uses(snapshot, r, member_id, member.time_zone, now)
            why = unavailable(r, stock, uses, rank, ranks, now=now, promotions=promotions)
            short = max(r.points_cost - available, 0)
            if why is None and short:
                why = Unavailable.INSUFFICIENT_POINTS
            unlocked = r.min_tier is None or rank >= ranks.get(r.min_tier, 10**6)
            offers.append(Offer(r, stock.remaining(r), unlocked, not short, short, why))
        return OfferPage(offers, len(live) > start + first, start)

    def redemptions(
        self, actor: Principal, member_id: str, first: int, after: str | None
    ) -> RedemptionPage:
        """The member's redemptions, newest first, with their codes' state now."""
        authorize_read(actor, member_id)
        first = page_size(first)
        before = decode_cursor(after, "redemption") if after is not None else 10**11
        if before <= 0:
            return RedemptionPage([], False)
        last = store.redemption_key(member_id, before - 1)[1]
        items = reads.query(
            store.redemption_pk(member_id),
            TableItem.sk.between(store.REDEMPTION_PREFIX, last),
            limit=first + 1,
            descending=True,
        )
        found = store.redemptions(items)
        page = found[:first]
        codes = [r.code for r in page if r.type is RewardType.DISCOUNT_CODE and r.code]
        if not codes:
            return RedemptionPage(page, len(found) > first)
        snapshot = Snapshot([program.SETTINGS_KEY, *(issued.key(c) for c in codes)])
        now = self._program.now(program.settings(snapshot))
        shown = [
            r if r.code is None else _as_now(r, issued.read(snapshot, r.code), now) for r in page
        ]
        return RedemptionPage(shown, len(found) > first)


def _as_now(r: Redemption, code: Code, now: datetime) -> Redemption:
    """An issued code's redemption as it stands: used at checkout, or expired unused."""
    if r.status is not RedemptionStatus.ISSUED or r.type is not RewardType.DISCOUNT_CODE:
        return r
    if code.uses:
        return replace(r, status=RedemptionStatus.USED)
    if code.expires_at is not None and now >= code.expires_at:
        return replace(r, status=RedemptionStatus.EXPIRED)
    return r


def redemption_cursor(r: Redemption) -> str:
    return encode_cursor(r.seq, "redemption")


def offer_cursor(index: int) -> str:
    return encode_cursor(index, CURSOR)
