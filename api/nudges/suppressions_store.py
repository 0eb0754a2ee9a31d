"""Email suppression items and their mapping both ways.

| item        | pk                        | sk          |
| ----------- | ------------------------- | ----------- |
| suppression | SUPPRESSED#<address hash> | SUPPRESSED  | written once, never changed

The key is the SHA-256 (hex) of the address in lower case, so keys (and the stream, the
logs that print keys) carry no address; the item keeps the address for admins.
"""

from __future__ import annotations

import hashlib

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute

from api.nudges.suppressions_model import Suppression, SuppressionReason
from api.store.base import Key, TableItem


def normalise(address: str) -> str:
    return address.strip().lower()


def suppression_key(address: str) -> Key:
    digest = hashlib.sha256(normalise(address).encode()).hexdigest()
    return (f"SUPPRESSED#{digest}", "SUPPRESSED")


class SuppressionItem(TableItem, discriminator="email_suppression"):
    address = UnicodeAttribute()
    reason = UnicodeAttribute()
    at = UTCDateTimeAttribute()


def to_item(s: Suppression) -> SuppressionItem:
    return SuppressionItem(
        *suppression_key(s.address), address=s.address, reason=s.reason.value, at=s.at
    )


def from_item(item: SuppressionItem) -> Suppression:
    return Suppression(item.address, SuppressionReason(item.reason), item.at)
