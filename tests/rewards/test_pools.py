"""Pools of imported codes: uploaded whole, added by the stream in the background without
duplicates, handed out in upload order, the last one once."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from api.errors import IdempotencyConflict, InvalidInput, RewardUnavailable
from api.rewards.model import RedeemInput, RedemptionStatus, UploadStatus
from api.services import Services
from local.stream import TableStream, stream_event
from tests.rewards.conftest import credit
from tests.support import ADMIN, count_requests, member
from tests.test_stream import CONTEXT, item_type, load_stream_handler

ME = member("cust-1")


@pytest.fixture
def stream(services: Services, dynamodb_client: Any) -> TableStream:
    return TableStream(dynamodb_client, services.config.table_name)


@pytest.fixture
def handler(services: Services, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    # Small chunks and steps: the same paths (several chunks, steps and records per upload)
    # with few codes, as moto copies the table for every transaction.
    monkeypatch.setattr("api.rewards.pools.CHUNK", 10)
    monkeypatch.setattr("api.rewards.pools.STEP", 4)
    return load_stream_handler(monkeypatch, "dev", services.config.table_name)


def deliver(stream: TableStream, handler: ModuleType, *, twice: bool = False) -> int:
    """Every upload record until none is new (each delivered twice if asked)."""
    delivered = 0
    while records := [r for r in stream.read() if item_type(r) == "reward_upload"]:
        for record in records:
            for _ in range(2 if twice else 1):
                assert handler.handler(stream_event([record]), CONTEXT) == {"batchItemFailures": []}
        delivered += len(records)
    return delivered


def test_codes_join_the_pool_in_the_background_without_duplicates(
    shop: Services, stream: TableStream, handler: ModuleType
) -> None:
    codes = [f"GC-{i:05d}" for i in range(25)]
    first = shop.reward_pools.upload(ADMIN, "gift-10", [*codes, codes[0]], "up-1")
    assert (first.status, first.received, first.repeated) == (UploadStatus.PENDING, 25, 1)
    assert shop.reward_pools.upload(ADMIN, "gift-10", [*codes, codes[0]], "up-1") == first
    with pytest.raises(IdempotencyConflict):
        shop.reward_pools.upload(ADMIN, "gift-10", codes[:5], "up-1")
    deliver(stream, handler, twice=True)
    [done] = shop.reward_pools.uploads(ADMIN, "gift-10")
    assert (done.status, done.processed, done.added, done.duplicates) == (
        UploadStatus.DONE,
        25,
        25,
        0,
    )
    # A second upload overlapping the first: only the new codes join.
    shop.reward_pools.upload(ADMIN, "gift-10", [*codes[-10:], "GC-NEW-1", "GC-NEW-2"], "up-2")
    deliver(stream, handler)
    [second] = [u for u in shop.reward_pools.uploads(ADMIN, "gift-10") if u.received == 12]
    assert (second.status, second.added, second.duplicates) == (UploadStatus.DONE, 2, 10)
    view = shop.rewards.get(ADMIN, "gift-10")
    assert (view.stock.pooled, view.remaining) == (27, 27)


def test_pool_codes_are_handed_out_in_order_and_the_last_one_once(
    shop: Services, stream: TableStream, handler: ModuleType
) -> None:
    shop.reward_pools.upload(ADMIN, "gift-10", ["GIFT-AAAA", "GIFT-BBBB"], "up-1")
    deliver(stream, handler)
    credit(shop, "cust-1", 1000, "more")
    got = [shop.redemptions.redeem(ME, RedeemInput("gift-10", f"k-{i}")) for i in range(2)]
    assert [(r.code, r.status) for r in got] == [
        ("GIFT-AAAA", RedemptionStatus.ISSUED),
        ("GIFT-BBBB", RedemptionStatus.ISSUED),
    ]
    with pytest.raises(RewardUnavailable) as refused:
        shop.redemptions.redeem(ME, RedeemInput("gift-10", "k-2"))
    assert refused.value.reason == "OUT_OF_STOCK"
    cancelled = shop.redemptions.cancel(ADMIN, got[1].id)  # the code is not pooled again
    assert cancelled.status is RedemptionStatus.CANCELLED
    assert shop.rewards.get(ADMIN, "gift-10").remaining == 0


def test_a_pool_redemption_is_one_read_and_one_transaction(
    shop: Services, stream: TableStream, handler: ModuleType
) -> None:
    shop.reward_pools.upload(ADMIN, "gift-10", [f"GIFT-{i:04d}" for i in range(20)], "up-1")
    deliver(stream, handler)
    credit(shop, "cust-1", 5000, "more")
    shop.redemptions.redeem(ME, RedeemInput("gift-10", "warm"))
    with count_requests() as calls:
        got = shop.redemptions.redeem(ME, RedeemInput("gift-10", "k-1"))
    assert dict(calls) == {"BatchGetItem": 1, "TransactWriteItems": 1}
    assert got.code == "GIFT-0001"


@pytest.mark.parametrize(
    ("codes", "field"),
    [
        ([], "codes"),
        (["ok-code", "no spaces"], "codes[1]"),
        (["\u00e9t\u00e9-code"], "codes[0]"),
        (["abc"], "codes[0]"),
        (["x" * 65], "codes[0]"),
    ],
)
def test_bad_uploads_are_refused_whole(shop: Services, codes: list[str], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        shop.reward_pools.upload(ADMIN, "gift-10", codes, "up-1")
    assert refused.value.field == field
    assert shop.reward_pools.uploads(ADMIN, "gift-10") == []


def test_an_oversized_upload_and_a_wrong_reward_are_refused(shop: Services) -> None:
    with pytest.raises(InvalidInput) as refused:
        shop.reward_pools.upload(ADMIN, "gift-10", ["CODE"] * 100_001, "up-1")
    assert refused.value.field == "codes"
    with pytest.raises(InvalidInput) as refused:
        shop.reward_pools.upload(ADMIN, "tote", ["CODE-1"], "up-1")
    assert refused.value.field == "rewardId"
