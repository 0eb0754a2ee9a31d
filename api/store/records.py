"""The idempotency record: the first answer to a keyed request, kept under its key.

Its `answer` is a small JSON object each domain defines (where to read the result back);
api/idempotency.py compares the fingerprint and hands the answer to the domain's replay.
"""

from __future__ import annotations

from pynamodb.attributes import UTCDateTimeAttribute

from api.store.base import JSONAttribute, Key, RecordItem


def record_key(operation: str, key: str) -> Key:
    """One key space per operation. Member-scoped keys include the member id, so two
    members may use the same idempotency key without meeting."""
    return (f"IDEM#{operation}#{key}", "IDEM")


class IdempotencyItem(RecordItem, discriminator="idempotency"):
    answer = JSONAttribute()
    created_at = UTCDateTimeAttribute()
