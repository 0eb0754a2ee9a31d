"""Expected failures. Each has a stable code that the GraphQL layer exposes as-is."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID_INPUT = "INVALID_INPUT"
    UNSUPPORTED_CURRENCY = "UNSUPPORTED_CURRENCY"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
    MEMBER_NOT_FOUND = "MEMBER_NOT_FOUND"
    ORDER_NOT_FOUND = "ORDER_NOT_FOUND"
    NOT_FOUND = "NOT_FOUND"
    REFERRAL_CODE_UNKNOWN = "REFERRAL_CODE_UNKNOWN"
    RESERVATION_EXPIRED = "RESERVATION_EXPIRED"
    TOO_MANY_RESERVATIONS = "TOO_MANY_RESERVATIONS"
    REWARD_UNAVAILABLE = "REWARD_UNAVAILABLE"
    OWN_REVIEW = "OWN_REVIEW"  # a member voting on their own review
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    INSUFFICIENT_POINTS = "INSUFFICIENT_POINTS"
    REFUND_EXCEEDS_ORDER = "REFUND_EXCEEDS_ORDER"
    CONCURRENT_UPDATE = "CONCURRENT_UPDATE"
    VERSION_CONFLICT = "VERSION_CONFLICT"  # saved since the version the caller read
    TEST_CLOCK_DISABLED = "TEST_CLOCK_DISABLED"
    ALREADY_RESOLVED = "ALREADY_RESOLVED"
    INVALID_TOKEN = "INVALID_TOKEN"  # an unsubscribe link's: malformed, tampered, expired
    PUSH_NOT_CONFIGURED = "PUSH_NOT_CONFIGURED"  # no SNS platform application for it
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"


class DomainError(Exception):
    code: ErrorCode = ErrorCode.INVALID_INPUT

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def extensions(self) -> dict[str, str]:
        """What a GraphQL error raised from this one carries (graphql-core reads it)."""
        return {"code": self.code.value}


class InvalidInput(DomainError):
    def __init__(self, field: str, message: str, code: ErrorCode = ErrorCode.INVALID_INPUT) -> None:
        super().__init__(message)
        self.field = field
        self.code = code

    @property
    def extensions(self) -> dict[str, str]:
        return {"code": self.code.value, "field": self.field}


class MemberNotFound(DomainError):
    code = ErrorCode.MEMBER_NOT_FOUND

    def __init__(self) -> None:
        super().__init__("No member with that id.")


class OrderNotFound(DomainError):
    code = ErrorCode.ORDER_NOT_FOUND

    def __init__(self) -> None:
        super().__init__("No order with that id.")


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND

    def __init__(self, what: str) -> None:
        super().__init__(f"No {what} with that id.")
        self.what = what


class ReservationExpired(DomainError):
    code = ErrorCode.RESERVATION_EXPIRED

    def __init__(self, status: str) -> None:
        super().__init__(
            f"This reservation is {status}: reserve the cart again (its promotions may have "
            "changed meanwhile)."
        )


class IdempotencyConflict(DomainError):
    code = ErrorCode.IDEMPOTENCY_CONFLICT

    def __init__(self, key_name: str) -> None:
        super().__init__(
            f"This {key_name} was already used with a different request; use a new {key_name}."
        )


class InsufficientPoints(DomainError):
    code = ErrorCode.INSUFFICIENT_POINTS

    def __init__(self, requested: int, available: int) -> None:
        super().__init__(f"{requested} points requested but only {available} are available.")
        self.requested = requested
        self.available = available


class RewardUnavailable(DomainError):
    """A member cannot redeem this reward now; `reason` says why (api/rewards/model.py
    Unavailable: NOT_AVAILABLE, TIER_TOO_LOW, OUT_OF_STOCK, LIMIT_REACHED)."""

    code = ErrorCode.REWARD_UNAVAILABLE

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class RefundExceedsOrder(DomainError):
    code = ErrorCode.REFUND_EXCEEDS_ORDER

    def __init__(self, refundable: str, currency: str) -> None:
        super().__init__(f"Only {refundable} {currency} of this order is left to refund.")
        self.refundable = refundable
        self.currency = currency


class ConcurrentUpdate(DomainError):
    code = ErrorCode.CONCURRENT_UPDATE

    def __init__(self) -> None:
        super().__init__("Too many concurrent changes to this record; retry with the same key.")


class VersionConflict(DomainError):
    """An edit made from a stale read: someone saved in between. Read again, redo the edit."""

    code = ErrorCode.VERSION_CONFLICT

    def __init__(self, current: int) -> None:
        super().__init__(f"Changed meanwhile: now at version {current}. Read it again.")
        self.current = current


class TestClockDisabled(DomainError):
    code = ErrorCode.TEST_CLOCK_DISABLED
    __test__ = False  # not a pytest class

    def __init__(self) -> None:
        super().__init__("The test clock is only available outside production.")


class AuthError(DomainError):
    """Raised before anything is read or written; GraphQL reports it as a top-level error."""


class Unauthenticated(AuthError):
    code = ErrorCode.UNAUTHENTICATED

    def __init__(self) -> None:
        super().__init__("Authentication required.")


class Forbidden(AuthError):
    code = ErrorCode.FORBIDDEN

    def __init__(self) -> None:
        super().__init__("Not allowed for this caller.")
