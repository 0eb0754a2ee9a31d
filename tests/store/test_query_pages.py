"""reads.query follows LastEvaluatedKey past DynamoDB's 1 MB page, up to its limit."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from api.clock import ManualClock
from api.promotions import admin
from api.promotions import store as promo_store
from api.promotions.model import Effect, EffectKind, PromotionInput
from api.services import Services
from api.store import reads
from api.store.base import TableItem
from tests.support import ADMIN, count_requests

PAD = "x" * 40_000  # ~40 KB an item: 30 of them need two 1 MB Query pages
COUNT = 30
PK = "TEST#PAGES"


def _pad(pk: str, sk: str) -> None:
    """Make a stored item ~40 KB with an attribute the models do not read."""
    connection = TableItem._get_connection()
    connection.connection.client.update_item(
        TableName=connection.table_name,
        Key={"pk": {"S": pk}, "sk": {"S": sk}},
        UpdateExpression="SET padding = :pad",
        ExpressionAttributeValues={":pad": {"S": PAD}},
    )


def _fill(count: int = COUNT) -> list[str]:
    """`count` padded items of a real type in one partition, in sort key order."""
    connection = TableItem._get_connection()
    sks = [f"P#p-{i:03d}" for i in range(count)]
    for sk in sks:
        connection.connection.client.put_item(
            TableName=connection.table_name,
            Item={"pk": {"S": PK}, "sk": {"S": sk}, "type": {"S": "promotion"}},
        )
        _pad(PK, sk)
    return sks


def _sks(items: list[TableItem]) -> list[str]:
    return [i.sk for i in items]


def test_query_reads_every_page_of_a_partition_over_1_mb(services: Services) -> None:
    sks = _fill()
    with count_requests() as calls:
        items = reads.query(PK, TableItem.sk.startswith("P#"), limit=1000, descending=False)
    assert _sks(items) == sks
    assert calls["Query"] >= 2  # DynamoDB (moto too) stops a page at 1 MB
    items = reads.query(PK, TableItem.sk.startswith("P#"), limit=1000, descending=True)
    assert _sks(items) == sks[::-1]


def test_query_stops_at_its_limit_across_pages(services: Services) -> None:
    sks = _fill()
    items = reads.query(PK, TableItem.sk.startswith("P#"), limit=27, descending=False)
    assert _sks(items) == sks[:27]
    items = reads.query(PK, TableItem.sk.startswith("P#"), limit=25, descending=True)
    assert _sks(items) == sks[::-1][:25]


def test_query_within_one_page_is_one_request(services: Services) -> None:
    connection = TableItem._get_connection()
    for i in range(5):
        connection.connection.client.put_item(
            TableName=connection.table_name,
            Item={"pk": {"S": PK}, "sk": {"S": f"P#s-{i}"}, "type": {"S": "promotion"}},
        )
    with count_requests() as calls:
        short = reads.query(PK, TableItem.sk.startswith("P#"), limit=3, descending=False)
        whole = reads.query(PK, TableItem.sk.startswith("P#"), limit=100, descending=False)
    assert _sks(short) == ["P#s-0", "P#s-1", "P#s-2"]
    assert len(whole) == 5
    assert calls["Query"] == 2  # one each


def test_catalog_reads_live_promotions_past_one_page(
    services: Services, clock: ManualClock
) -> None:
    """The catalog (checkout's offers, the MAX_LIVE guard) sees every live promotion."""
    for i in range(COUNT):
        effect = Effect(EffectKind.PERCENT_OFF, percent=Decimal(5))
        services.promotions.create(ADMIN, PromotionInput(f"p-{i:03d}", f"Promo {i}", effect))
        _pad(*promo_store.promotion_key(f"p-{i:03d}"))
    clock.advance(timedelta(seconds=admin.CACHE_SECONDS + 1))  # the cache expires
    live = services.promotions.live(ADMIN)
    assert sorted(p.id for p in live) == [f"p-{i:03d}" for i in range(COUNT)]
