"""Rewards under real concurrency (DynamoDB Local): never a unit of stock, a pool code or a
member's points beyond what there is, however many members race for them."""

from __future__ import annotations

from collections import Counter
from functools import partial

import pytest

from api.errors import RewardUnavailable
from api.points.model import AdjustInput
from api.rewards import store
from api.rewards.model import RedeemInput, Redemption, RewardInput, RewardType
from api.services import Services
from api.store.reads import get
from api.stream import Change
from tests.ddb_local.test_concurrency import all_at_once
from tests.support import ADMIN, SERVICE, assert_ledger_consistent, enroll, stored_member

pytestmark = pytest.mark.ddb_local


def members(s: Services, count: int, points: int = 100) -> list[str]:
    customers = [f"cust-{i}" for i in range(count)]
    for customer in customers:
        enroll(s, customer)
        s.spending.adjust(ADMIN, AdjustInput(points, "seed", "seed", customer_id=customer))
    return customers


def redeem(s: Services, reward: str, customer: str, key: str) -> Redemption:
    return s.redemptions.redeem(SERVICE, RedeemInput(reward, key, customer_id=customer))


def test_thirty_members_race_for_ten_in_stock(local_services: Services) -> None:
    s = local_services
    s.rewards.create(ADMIN, RewardInput("tote", "Tote", 30, RewardType.PERK, stock=10))
    customers = members(s, 30)
    results = all_at_once([partial(redeem, s, "tote", c, "k") for c in customers])
    outcomes = Counter(type(r).__name__ for r in results)
    assert outcomes == {"Redemption": 10, "RewardUnavailable": 20}
    assert all(r.reason == "OUT_OF_STOCK" for r in results if isinstance(r, RewardUnavailable))
    assert s.rewards.get(ADMIN, "tote").stock.claimed == 10
    balances = sorted(
        stored_member(r.member_id).balance for r in results if isinstance(r, Redemption)
    )
    assert balances == [70] * 10


def test_a_double_tap_redeems_once(local_services: Services) -> None:
    s = local_services
    s.rewards.create(ADMIN, RewardInput("tote", "Tote", 30, RewardType.PERK))
    [customer] = members(s, 1)
    results = all_at_once([partial(redeem, s, "tote", customer, "same-key") for _ in range(10)])
    assert len({r.id for r in results if isinstance(r, Redemption)}) == 1
    redeemed = [r for r in results if isinstance(r, Redemption)]
    assert stored_member(redeemed[0].member_id).balance == 70
    assert_ledger_consistent(redeemed[0].member_id)


def test_one_member_cannot_spend_the_same_points_twice(local_services: Services) -> None:
    s = local_services
    s.rewards.create(ADMIN, RewardInput("tote", "Tote", 60, RewardType.PERK))
    [customer] = members(s, 1)
    results = all_at_once([partial(redeem, s, "tote", customer, f"k-{i}") for i in range(8)])
    redeemed = [r for r in results if isinstance(r, Redemption)]
    assert len(redeemed) == 1  # 100 points: one 60-point reward
    assert stored_member(redeemed[0].member_id).balance == 40
    assert_ledger_consistent(redeemed[0].member_id)


def test_the_last_imported_code_is_claimed_once(local_services: Services) -> None:
    s = local_services
    s.rewards.create(ADMIN, RewardInput("gift", "Gift", 10, RewardType.IMPORTED_CODE))
    upload = s.reward_pools.upload(ADMIN, "gift", ["GIFT-0001", "GIFT-0002", "GIFT-0003"], "u")
    item = get(store.upload_key("gift", upload.id), store.UploadItem)
    assert item is not None
    s.reactions.dispatch(Change("e-1", None, item))
    customers = members(s, 12)
    results = all_at_once([partial(redeem, s, "gift", c, "k") for c in customers])
    codes = [r.code or "" for r in results if isinstance(r, Redemption)]
    assert sorted(codes) == ["GIFT-0001", "GIFT-0002", "GIFT-0003"]  # each once
    assert s.rewards.get(ADMIN, "gift").remaining == 0
