"""Expected failures as schema types: each mutation's result union lists the ones it can return.

Authentication and authorization failures are not union members but top-level GraphQL errors
with `extensions.code`, like validation errors: clients handle them in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import strawberry
from graphql import GraphQLError

from api import errors
from api.observability import count_error
from schema.common import Money

strawberry.enum(errors.ErrorCode, description="Stable codes for expected failures.")


@strawberry.interface(description="An expected failure: a stable code and a readable message.")
class UserError:
    code: errors.ErrorCode
    message: str


@strawberry.type(description="The input is invalid; `field` is its path in the input.")
class InvalidInput(UserError):
    field: str


@strawberry.type
class MemberNotFound(UserError):
    pass


@strawberry.type
class OrderNotFound(UserError):
    pass


@strawberry.type(description="The key was used before with a different request.")
class IdempotencyConflict(UserError):
    pass


@strawberry.type
class InsufficientPoints(UserError):
    requested: int
    available: int


@strawberry.type
class RefundExceedsOrder(UserError):
    refundable: Money


@strawberry.type(description="Too many concurrent changes; retrying with the same key is safe.")
class ConcurrentUpdate(UserError):
    pass


@strawberry.type
class TestClockDisabled(UserError):
    __test__ = False


def to_user_error(exc: errors.DomainError) -> UserError:
    code = exc.code
    match exc:
        case errors.InvalidInput():
            return InvalidInput(code=code, message=exc.message, field=exc.field)
        case errors.InsufficientPoints():
            return InsufficientPoints(
                code=code, message=exc.message, requested=exc.requested, available=exc.available
            )
        case errors.RefundExceedsOrder():
            return RefundExceedsOrder(
                code=code, message=exc.message, refundable=Money.of(exc.refundable, exc.currency)
            )
    simple: dict[type[errors.DomainError], type[UserError]] = {
        errors.MemberNotFound: MemberNotFound,
        errors.OrderNotFound: OrderNotFound,
        errors.IdempotencyConflict: IdempotencyConflict,
        errors.ConcurrentUpdate: ConcurrentUpdate,
        errors.TestClockDisabled: TestClockDisabled,
    }
    return simple[type(exc)](code=code, message=exc.message)


def to_graphql_error(exc: errors.DomainError) -> GraphQLError:
    extensions: dict[str, object] = {"code": exc.code.value}
    if isinstance(exc, errors.InvalidInput):
        extensions["field"] = exc.field
    return GraphQLError(exc.message, extensions=extensions)


T = TypeVar("T")


def mutate(operation: Callable[[], T]) -> T | UserError:
    """Run a mutation: expected failures become union members, auth failures GraphQL errors."""
    try:
        return operation()
    except errors.AuthError as exc:
        count_error(exc.code)
        raise to_graphql_error(exc) from None
    except errors.DomainError as exc:
        count_error(exc.code)
        return to_user_error(exc)


def query(operation: Callable[[], T]) -> T:
    """Run a query resolver: any expected failure is a GraphQL error with its code."""
    try:
        return operation()
    except errors.DomainError as exc:
        count_error(exc.code)
        raise to_graphql_error(exc) from None
