"""Types shared by several parts of the schema."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from api import money


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
