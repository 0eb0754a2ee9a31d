"""Types shared by several parts of the schema."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types.scalar import ScalarDefinition, ScalarWrapper

from api import money

# Canonical text forms only: what a client serialises on purpose, never what a lenient parser
# happens to accept ("1_000", " 12.5 ", "١٢", "1e3", "2026-W01", "20261120T1000Z").
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]{0,39})(?:\.[0-9]{1,20})?")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DATE_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))"
)


def _shown(value: object) -> str:
    return repr(value)[:40]


# Scalars raise GraphQLError, whose message graphql-core shows as it is (after the variable
# and the value), rather than wrapping a ValueError's text.


def parse_decimal(value: object) -> Decimal:
    """A decimal string ("42.50", "-3", "0.125") or a JSON integer; never a float, which has
    already lost digits by the time it arrives."""
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return Decimal(value)
    raise GraphQLError(
        f"Decimal must be a string of ASCII digits with an optional sign and decimal point, "
        f'e.g. "42.50"; got {_shown(value)}.'
    )


def parse_date(value: object) -> date:
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise GraphQLError(
        f'Date must be a calendar date YYYY-MM-DD, e.g. "1990-05-17"; got {_shown(value)}.'
    )


def parse_date_time(value: object) -> datetime:
    """RFC 3339 with an offset; fractions beyond microseconds are truncated."""
    match = _DATE_TIME.fullmatch(value) if isinstance(value, str) else None
    if match is not None:
        year, month, day, hour, minute, second, fraction, zulu, sign, oh, om = match.groups()
        try:
            offset = timedelta(hours=int(oh or 0), minutes=int(om or 0))
            if offset >= timedelta(hours=24):
                raise ValueError
            tz = UTC if zulu or not offset else timezone(-offset if sign == "-" else offset)
            return datetime(
                int(year),
                int(month),
                int(day),
                int(hour),
                int(minute),
                int(second),
                int((fraction or "0")[:6].ljust(6, "0")),
                tzinfo=tz,
            )
        except ValueError:
            pass
    raise GraphQLError(
        "DateTime must be RFC 3339 with an offset, e.g. "
        f'"2026-05-01T10:00:00Z" or "2026-05-01T12:00:00+02:00"; got {_shown(value)}.'
    )


def _definition(
    origin: type, name: str, description: str, parse: Any, serialize: Any
) -> ScalarDefinition:
    return ScalarDefinition(
        name=name,
        description=description,
        specified_by_url=None,
        serialize=serialize,
        parse_value=parse,
        parse_literal=None,
        origin=origin,
    )


# Replace Strawberry's lenient built-ins (same names in the SDL): build_schema passes these
# as scalar_overrides.
SCALARS: dict[object, ScalarWrapper | ScalarDefinition] = {
    Decimal: _definition(
        Decimal, "Decimal", 'A decimal number as a string, e.g. "42.50".', parse_decimal, str
    ),
    date: _definition(date, "Date", "A calendar date, YYYY-MM-DD.", parse_date, date.isoformat),
    datetime: _definition(
        datetime,
        "DateTime",
        "An RFC 3339 date-time with an offset, e.g. 2026-05-01T10:00:00Z.",
        parse_date_time,
        datetime.isoformat,
    ),
}


@strawberry.type(description="An amount in an ISO 4217 currency; the amount is a decimal string.")
class Money:
    amount: Decimal
    currency: str

    @classmethod
    def of(cls, amount: str | Decimal, currency: str) -> Money:
        return cls(amount=Decimal(amount), currency=currency)

    @classmethod
    def from_domain(cls, value: money.Money) -> Money:
        return cls(amount=value.amount, currency=value.currency)


@strawberry.input
class MoneyInput:
    amount: Decimal = strawberry.field(description='A decimal string, e.g. "42.50".')
    currency: str = strawberry.field(description="ISO 4217 code, e.g. EUR.")


@strawberry.type(description="Relay page information.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def forward(cls, cursors: list[str], has_next: bool) -> PageInfo:
        """A page read forward from a cursor: there is never a previous page to report."""
        return cls(
            has_next_page=has_next,
            has_previous_page=False,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )
