"""The schema: root types, limits, caches and error masking."""

from __future__ import annotations

from functools import cache
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from api.errors import DomainError
from api.observability import count, count_error, logger
from schema.common import SCALARS
from schema.limits import QueryCostLimiter
from schema.members import MemberMutation, MemberQuery
from schema.points import PointsMutation, PointsQuery
from schema.program import ProgramMutation, ProgramQuery

Query = merge_types("Query", (MemberQuery, PointsQuery, ProgramQuery))
Mutation = merge_types("Mutation", (MemberMutation, PointsMutation, ProgramMutation))

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 2000
CACHE_SIZE = 256


def _is_expected(error: GraphQLError) -> bool:
    """Parse/validation errors and our coded errors are shown; anything else is a bug.
    (A GraphQLError raised by a resolver arrives wrapped, as the original error.)"""
    return error.original_error is None or isinstance(
        error.original_error, DomainError | GraphQLError
    )


class MaskUnexpectedErrors(MaskErrors):
    """Hide unexpected errors behind "Unexpected error." with the request id to quote."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: not _is_expected(error))

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        request_id = getattr(self.execution_context.context, "request_id", None)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
        return masked


class LoyaltySchema(strawberry.Schema):
    def process_errors(
        self,
        errors: list[GraphQLError],
        execution_context: ExecutionContext | None = None,  # noqa: ARG002
    ) -> None:
        """Log unexpected errors once, with the stack trace; count expected ones by code
        (mutations count those they return as union members themselves)."""
        for error in errors:
            if isinstance(error.original_error, DomainError):
                count_error(error.original_error.code)
            elif not _is_expected(error):
                count("UnexpectedErrors")
                logger.error("Unexpected error at %s", error.path, exc_info=error.original_error)


@cache
def build_schema(*, introspection: bool) -> strawberry.Schema:
    # Built once: validation rule classes must be the same objects on every request, or the
    # validation cache (keyed on them) never hits.
    rules: list[Any] = [
        *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
        *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
    ]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return LoyaltySchema(
        query=Query,
        mutation=Mutation,
        scalar_overrides=SCALARS,
        extensions=[
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            lambda: ParserCache(maxsize=CACHE_SIZE),
            lambda: AddValidationRules(rules),
            lambda: ValidationCache(maxsize=CACHE_SIZE),
            QueryCostLimiter,  # after ValidationCache: costs documents that passed validation
            MaskUnexpectedErrors,
        ],
    )
