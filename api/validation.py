"""Input checks shared by every service. Each failure names the field and says what is wrong."""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from datetime import UTC, date, datetime

from api.errors import InvalidInput
from api.ids import is_external_id, is_member_id, member_id_for

MAX_POINTS = 1_000_000_000
_EMAIL = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,63}")
_PHONE = re.compile(r"\+[1-9][0-9]{6,14}")
_LOCALE = re.compile(r"[a-z]{2,3}(?:-[A-Z][a-z]{3})?(?:-(?:[A-Z]{2}|[0-9]{3}))?")
_TZ_KEY = re.compile(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*")


def text(field: str, value: str, max_length: int) -> str:
    """Free text: trimmed, non-empty, bounded, without control characters."""
    cleaned = value.strip()
    if not cleaned:
        raise InvalidInput(field, "Must not be empty.")
    if len(cleaned) > max_length:
        raise InvalidInput(field, f"Must be at most {max_length} characters.")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in cleaned):
        raise InvalidInput(field, "Must not contain control characters.")
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
    cleaned = value.strip()
    if len(cleaned) > 254 or not _EMAIL.fullmatch(cleaned):
        raise InvalidInput(field, "Not a valid email address.")
    return cleaned


def phone(field: str, value: str) -> str:
    cleaned = re.sub(r"[\s().-]", "", value)
    if not _PHONE.fullmatch(cleaned):
        raise InvalidInput(field, "Phone numbers are E.164: + and 7 to 15 digits.")
    return cleaned


def time_zone(field: str, value: str) -> str:
    if len(value) > 64 or not _TZ_KEY.fullmatch(value):
        raise InvalidInput(field, "Not an IANA time zone (e.g. Europe/Paris).")
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(field, f"Unknown IANA time zone {value!r}.") from exc
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
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(field, "Needs a time zone offset (e.g. 2026-01-31T10:00:00Z).")
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
