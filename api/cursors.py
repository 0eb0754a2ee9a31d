"""Opaque cursors for Relay connections: `<tag>:<position>`, base64url without padding.

A client sees only an opaque string. Decoding checks the tag, so a cursor of one list is
refused by another, and anything that is not a cursor this API returned (undecodable, too
long, another tag) is InvalidInput on `after`, never a 500. Each list then checks the
position itself (its key prefix, its number).
"""

from __future__ import annotations

import base64
import binascii

from api.errors import InvalidInput

NOT_A_CURSOR = "Not a cursor returned by this API."


def encode(tag: str, position: str) -> str:
    return base64.urlsafe_b64encode(f"{tag}:{position}".encode()).decode().rstrip("=")


def decode(cursor: str, tag: str, max_length: int = 400) -> str:
    """The position a cursor of this tag stands for."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    if len(cursor) > max_length or not text.startswith(f"{tag}:"):
        raise InvalidInput("after", NOT_A_CURSOR)
    return text.removeprefix(f"{tag}:")
