"""Identifiers: how the shop's ids become ours, and the format of caller-supplied ids."""

from __future__ import annotations

import hashlib
import re

# Order ids, refund ids, idempotency keys, references, customer ids: printable ASCII that shop
# platforms use in ids (Shopify's gid://shopify/Order/1, "#1001", emails as customer ids).
_EXTERNAL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/#@+\-]{0,127}")
_MEMBER_ID = re.compile(r"mbr_[0-9a-f]{26}")


def is_external_id(value: str) -> bool:
    return _EXTERNAL_ID.fullmatch(value) is not None


def is_member_id(value: str) -> bool:
    return _MEMBER_ID.fullmatch(value) is not None


def member_id_for(customer_id: str) -> str:
    """A member's id is derived from the shop's customer id.

    Any call can therefore name a member either way without a lookup, enrolment is naturally
    idempotent, and logs carry this opaque id rather than a customer id that may be an email.
    """
    return "mbr_" + hashlib.sha256(customer_id.encode()).hexdigest()[:26]  # 104 bits
