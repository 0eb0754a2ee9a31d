"""Expected failures, in one place.

- A mutation declared with `mutation(...)` returns its success type or raises a DomainError;
  `ExpectedErrors` turns the error into the union member registered for it (`user_error`),
  counted as an expected error. Authentication and authorization failures are not union
  members: they stay GraphQL errors, like validation errors, so clients handle them once.
- Anything else a resolver raises as a DomainError becomes a GraphQL error whose
  `extensions` (code, and field for InvalidInput) come from the error itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.types import Info

from api import errors
from api.observability import count_error
from schema.common import Money

strawberry.enum(errors.ErrorCode, description="Stable codes for expected failures.")


@strawberry.interface(description="An expected failure: a stable code and a readable message.")
class UserError:
    code: errors.ErrorCode
    message: str

    @classmethod
    def from_domain(cls, exc: Any) -> UserError:
        return cls(code=exc.code, message=exc.message)


_USER_ERRORS: dict[type[errors.DomainError], type[UserError]] = {}
U = TypeVar("U", bound=type[UserError])


def user_error(domain: type[errors.DomainError]) -> Callable[[U], U]:
    """Register the union member that stands for a domain error in mutation results."""

    def register(cls: U) -> U:
        _USER_ERRORS[domain] = cls
        return cls

    return register


def to_user_error(exc: errors.DomainError) -> UserError:
    for kind in type(exc).__mro__:
        if kind in _USER_ERRORS:
            return _USER_ERRORS[kind].from_domain(exc)
    raise exc  # not declared for mutations: a GraphQL error with its code


class ExpectedErrors(FieldExtension):
    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        try:
            return next_(source, info, **kwargs)
        except errors.AuthError as exc:
            count_error(exc.code)
            raise
        except errors.DomainError as exc:
            count_error(exc.code)
            return to_user_error(exc)


def mutation(description: str) -> Any:
    """A mutation whose expected failures are members of its result union."""
    return strawberry.mutation(description=description, extensions=[ExpectedErrors()])


@user_error(errors.InvalidInput)
@strawberry.type(description="The input is invalid; `field` is its path in the input.")
class InvalidInput(UserError):
    field: str

    @classmethod
    def from_domain(cls, exc: Any) -> UserError:
        return cls(code=exc.code, message=exc.message, field=exc.field)


@user_error(errors.MemberNotFound)
@strawberry.type
class MemberNotFound(UserError):
    pass


@user_error(errors.OrderNotFound)
@strawberry.type
class OrderNotFound(UserError):
    pass


@user_error(errors.NotFound)
@strawberry.type(description="Nothing with that id.")
class NotFound(UserError):
    pass


@user_error(errors.ReservationExpired)
@strawberry.type(description="The reservation was released or expired: reserve again.")
class ReservationExpired(UserError):
    pass


@user_error(errors.IdempotencyConflict)
@strawberry.type(description="The key was used before with a different request.")
class IdempotencyConflict(UserError):
    pass


@user_error(errors.InsufficientPoints)
@strawberry.type
class InsufficientPoints(UserError):
    requested: int
    available: int

    @classmethod
    def from_domain(cls, exc: Any) -> UserError:
        return cls(
            code=exc.code, message=exc.message, requested=exc.requested, available=exc.available
        )


@user_error(errors.RefundExceedsOrder)
@strawberry.type
class RefundExceedsOrder(UserError):
    refundable: Money

    @classmethod
    def from_domain(cls, exc: Any) -> UserError:
        return cls(
            code=exc.code, message=exc.message, refundable=Money.of(exc.refundable, exc.currency)
        )


@user_error(errors.ConcurrentUpdate)
@strawberry.type(description="Too many concurrent changes; retrying with the same key is safe.")
class ConcurrentUpdate(UserError):
    pass


@user_error(errors.VersionConflict)
@strawberry.type(description="Saved by someone else since `expectedVersion`: read again.")
class VersionConflict(UserError):
    current_version: int

    @classmethod
    def from_domain(cls, exc: Any) -> UserError:
        return cls(code=exc.code, message=exc.message, current_version=exc.current)


@user_error(errors.TestClockDisabled)
@strawberry.type
class TestClockDisabled(UserError):
    __test__ = False
