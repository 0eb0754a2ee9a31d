"""Codes issued one at a time to a member: reward vouchers, referral welcomes. Each is a
single-use code of a CODE promotion, bound to its member and valid until a time. Other
domains issue and void them inside their own transactions through these functions; only
this domain knows code items.

Issuing puts the code only if absent: a collision (1 in 25^12 per draw) cancels the
transaction, and its retry draws again. Voiding is conditional on the code being unused and
not held by a reservation, so a code cannot be both cancelled and spent.
"""

from __future__ import annotations

from datetime import datetime

from api.errors import InvalidInput
from api.promotions import store
from api.promotions.codes import Pattern
from api.promotions.model import Activation, Code, Promotion, Status
from api.store.base import Key, TableItem
from api.store.reads import Snapshot
from api.store.tx import Add

LENGTH = 12  # random characters after the prefix


def usable(promotion: Promotion, field: str) -> Promotion:
    """The promotion, if codes of it may be issued: live and activated by code."""
    if promotion.activation is not Activation.CODE:
        raise InvalidInput(field, "Issued codes are for CODE promotions.")
    if promotion.status is Status.ARCHIVED:
        raise InvalidInput(field, "This promotion is archived.")
    return promotion


def issue(
    promotion: Promotion, member_id: str, expires_at: datetime | None, prefix: str = ""
) -> tuple[Code, TableItem]:
    """A new code for the member (and its item, to put only if absent)."""
    drawn = Pattern(prefix, LENGTH).draw()
    code = Code(drawn, promotion.id, 0, 1, member_id, expires_at)
    return code, store.code_item(code)


def key(code: str) -> Key:
    return store.code_key(code)


def read(snapshot: Snapshot, code: str) -> Code:
    """The code as the snapshot (which read `key(code)`) has it."""
    return store.code_from_item(code, snapshot.get(store.code_key(code), TableItem))


def void(code: str) -> Add:
    """Cancel an unused code: refused by DynamoDB (the transaction cancels) if it was used,
    is held by a reservation, or was voided already."""
    item = store.CodeItem(*store.code_key(code))
    unused = store.CodeItem.uses.does_not_exist() | (store.CodeItem.uses == 0)
    issued = store.CodeItem.promotion_id.exists() & store.CodeItem.voided.does_not_exist()
    return Add(item, {"voided": 1}, issued & unused)
