"""Referral codes: 8 characters of the look-alike-free charset, derived from the member id.

A member's code is the first of a few candidates (hashes of the member id and an attempt
number) that no other member holds: derived, so enrolling again derives the same ones, and
a collision (about 1 in 10^5 at a million members) moves on to the next. Codes are
case-insensitive, stored and compared upper-case.
"""

from __future__ import annotations

import hashlib
import re

from api.errors import InvalidInput
from api.promotions.codes import SAFE_CHARSET

LENGTH = 8
CANDIDATES = 4  # all four held by others: about 1 in 10^17 at ten million members
_CODE = re.compile(f"[{SAFE_CHARSET}]{{{LENGTH}}}")


def candidate(member_id: str, attempt: int) -> str:
    number = int.from_bytes(hashlib.sha256(f"referral:{member_id}:{attempt}".encode()).digest())
    chars = []
    for _ in range(LENGTH):
        number, k = divmod(number, len(SAFE_CHARSET))
        chars.append(SAFE_CHARSET[k])
    return "".join(chars)


def candidates(member_id: str) -> list[str]:
    return [candidate(member_id, n) for n in range(CANDIDATES)]


def normalise(field: str, value: str) -> str:
    code = value.strip().upper() if value.isascii() else value
    if not _CODE.fullmatch(code):
        raise InvalidInput(
            field, f"A referral code is {LENGTH} letters and digits of {SAFE_CHARSET}."
        )
    return code
