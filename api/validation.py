"""Input checks shared by every service. Each failure names the field and says what is wrong."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources

from api.errors import InvalidInput
from api.ids import is_external_id, is_member_id, member_id_for

MAX_POINTS = 1_000_000_000
# RFC 5322's dot-atom local part (what mail providers accept in practice) and an ASCII domain:
# no quoted local parts, control, bidi or non-ASCII characters, which mail systems treat
# differently and which can disguise an address.
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_PHONE = re.compile(r"\+[1-9][0-9]{6,14}")
_LOCALE = re.compile(r"[a-z]{2,3}(?:-[A-Z][a-z]{3})?(?:-(?:[A-Z]{2}|[0-9]{3}))?")
# Date-times outside these years are typos or probes; inside, every conversion is safe.
MIN_YEAR, MAX_YEAR = 1900, 9000


def text(field: str, value: str, max_length: int) -> str:
    """Free text: trimmed, non-empty, bounded, without control, format (bidi, zero-width) or
    private-use characters, nor lone surrogates (not Unicode at all)."""
    cleaned = value.strip()
    if not cleaned:
        raise InvalidInput(field, "Must not be empty.")
    if len(cleaned) > max_length:
        raise InvalidInput(field, f"Must be at most {max_length} characters.")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in cleaned):
        raise InvalidInput(field, "Must not contain control or invisible characters.")
    return cleaned


def external_id(field: str, value: str) -> str:
    if not is_external_id(value):
        raise InvalidInput(
            field,
            "Must be 1-128 characters: letters, digits and . _ : / # @ + - "
            "(starting with a letter or digit).",
        )
    return value


def member_ref(member_id: str | None, customer_id: str | None) -> str:
    """Exactly one of memberId / customerId, resolved to a member id without a lookup."""
    if (member_id is None) == (customer_id is None):
        raise InvalidInput("memberId", "Give exactly one of memberId and customerId.")
    if member_id is not None:
        if not is_member_id(member_id):
            raise InvalidInput(
                "memberId", "Not a member id (mbr_ followed by 26 hexadecimal digits)."
            )
        return member_id
    assert customer_id is not None
    return member_id_for(external_id("customerId", customer_id))


def email(field: str, value: str) -> str:
    """As given, untrimmed: an address with spaces around it was not typed as meant."""
    local, _, _ = value.partition("@")
    if len(value) > 254 or len(local) > 64 or not _EMAIL.fullmatch(value):
        raise InvalidInput(field, "Not a valid email address (ASCII, e.g. name@example.com).")
    return value


def phone(field: str, value: str) -> str:
    cleaned = re.sub(r"[\s().-]", "", value)
    if not _PHONE.fullmatch(cleaned):
        raise InvalidInput(field, "Phone numbers are E.164: + and 7 to 15 digits.")
    return cleaned


@cache
def _zone_names() -> frozenset[str]:
    """The IANA zones of the pinned tzdata package: the same list on every machine (the
    system's zoneinfo folder also holds folders, `localtime`, `posix/...` and data files)."""
    names = resources.files("tzdata").joinpath("zones").read_text().split()
    return frozenset(names) - {"Factory"}


def time_zone(field: str, value: str) -> str:
    if value not in _zone_names():
        raise InvalidInput(field, f"Unknown IANA time zone {value[:64]!r} (e.g. Europe/Paris).")
    return value


def locale(field: str, value: str) -> str:
    if not _LOCALE.fullmatch(value):
        raise InvalidInput(field, "Not a BCP 47 locale (e.g. fr-FR, en, pt-BR).")
    return value


def birthday(field: str, value: date, today: date) -> date:
    if value > today or value.year < 1900:
        raise InvalidInput(field, "Birthday must be after 1900 and not in the future.")
    return value


def aware(field: str, value: datetime) -> datetime:
    """In UTC. Bounded first: converting 0001-01-01T00:00+01:00 to UTC would overflow."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(field, "Needs a time zone offset (e.g. 2026-01-31T10:00:00Z).")
    if not MIN_YEAR < value.year < MAX_YEAR:
        raise InvalidInput(field, f"Must be between the years {MIN_YEAR} and {MAX_YEAR}.")
    return value.astimezone(UTC)


def points(field: str, value: int, *, signed: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field, "Must be a whole number of points.")
    if value == 0 or (value < 0 and not signed):
        raise InvalidInput(
            field,
            "Must be a non-zero number of points."
            if signed
            else "Must be a positive number of points.",
        )
    if abs(value) > MAX_POINTS:
        raise InvalidInput(field, f"At most {MAX_POINTS} points at a time.")
    return value


def multiline_text(field: str, value: str, max_length: int) -> str:
    """As `text`, for text that may span lines (notes): newlines and tabs are its only
    control characters."""
    cleaned = value.strip()
    text(field, cleaned.replace("\n", " ").replace("\t", " "), max_length)
    return cleaned
