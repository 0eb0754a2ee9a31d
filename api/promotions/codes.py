"""Promotion codes: how a code is written, checked, compared and generated.

Codes are case-insensitive: stored and compared upper-case. Generated codes use a charset
without the characters people confuse (0/O, 1/I/L, 5/S, 2/Z, 8/B; a custom charset with any
of them is refused), from the OS's random source, and a batch is refused when the pattern's
keyspace cannot hold it with room to spare (a full keyspace would make every new code a
collision).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from api.errors import InvalidInput

SAFE_CHARSET = "ACDEFGHJKMNPQRTUVWXY34679"
# Read as one another (0/O, 1/I/L, 5/S, 2/Z, 8/B): no charset may hold them, the default's
# neither. Upper-case, as codes are compared.
LOOK_ALIKES = "0O1IL5S2Z8B"
MAX_CODE = 40
MAX_BATCH = 100_000
_CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{1,39}")
_PREFIX = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,19}")
# A batch may fill at most this share of its keyspace: beyond it, random draws collide often.
KEYSPACE_SHARE = 0.1


def normalise(field: str, code: str) -> str:
    """Upper-case ASCII letters, digits, - and _; 2 to 40 characters."""
    upper = code.strip().upper() if code.isascii() else code
    if not _CODE.fullmatch(upper):
        raise InvalidInput(
            field,
            "A code is 2-40 letters, digits, - or _ (ASCII), starting with a letter or digit.",
        )
    return upper


@dataclass(frozen=True)
class Pattern:
    prefix: str = ""
    length: int = 10  # random characters after the prefix
    charset: str = SAFE_CHARSET

    def keyspace(self) -> int:
        keyspace: int = len(self.charset) ** self.length
        return keyspace

    def draw(self) -> str:
        return self.prefix + "".join(secrets.choice(self.charset) for _ in range(self.length))


def check_pattern(prefix: str, length: int, charset: str | None, count: int) -> Pattern:
    prefix = prefix.strip().upper()
    if prefix and not _PREFIX.fullmatch(prefix):
        raise InvalidInput(
            "prefix", "Up to 20 letters, digits, - or _, starting with one of the first two."
        )
    if not 4 <= length <= 24 or len(prefix) + length > MAX_CODE:
        raise InvalidInput(
            "length", f"From 4 to 24 random characters, at most {MAX_CODE} with the prefix."
        )
    chars = SAFE_CHARSET if charset is None else charset.upper()
    if (
        not 10 <= len(chars) <= 36
        or len(set(chars)) != len(chars)
        or not all(c.isascii() and c.isalnum() for c in chars)
    ):
        raise InvalidInput("charset", "10 to 36 distinct ASCII letters or digits.")
    if confusing := sorted(set(chars) & set(LOOK_ALIKES)):
        raise InvalidInput(
            "charset",
            f"Leave out the look-alike characters: {', '.join(confusing)}. They are misread "
            f"as one another (0/O, 1/I/L, 5/S, 2/Z, 8/B); the default is {SAFE_CHARSET}.",
        )
    if not 1 <= count <= MAX_BATCH:
        raise InvalidInput("count", f"From 1 to {MAX_BATCH} codes per batch.")
    pattern = Pattern(prefix, length, "".join(chars))
    room = int(pattern.keyspace() * KEYSPACE_SHARE)
    if count > room:
        raise InvalidInput(
            "count",
            f"{count} codes do not fit this pattern: {len(chars)}^{length} combinations allow "
            f"at most {room} (10%). Use a longer length or a larger charset.",
        )
    return pattern
