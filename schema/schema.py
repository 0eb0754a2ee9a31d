"""The schema: root types, limits, caches, error codes and error masking.

Every error a client sees carries `extensions.code`. Resolvers' own errors already do
(UNAUTHENTICATED, FORBIDDEN, ...; unexpected ones are masked as INTERNAL_SERVER_ERROR); the
errors of the steps before execution get theirs here, by step:

- GRAPHQL_PARSE_FAILED: the document is not GraphQL (syntax, or over the token limit);
- GRAPHQL_VALIDATION_FAILED: it does not fit the schema (unknown fields, literal values of
  the wrong type, depth and alias limits, introspection where it is off);
- BAD_USER_INPUT: a variable's value does not fit its type.

(schema/http.py adds the HTTP layer's own codes and OPERATION_RESOLUTION_FAILURE.)

A schema without introspection gives no suggestions either ("Did you mean 'name'?" would
tell what introspection hides): not in validation, nor in coercing variables.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from functools import cache, lru_cache
from typing import Any

import strawberry
from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    validate,
)
from graphql.pyutils import inspect
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.types.scalar import DEFAULT_SCALAR_REGISTRY
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType
from strawberry.types.scalar import ScalarDefinition, ScalarWrapper

from api.errors import DomainError
from api.observability import count, count_error, logger
from schema.common import SCALARS
from schema.feedback.followups import FollowUpMutation, FollowUpQuery
from schema.feedback.mutations import FeedbackMutation
from schema.feedback.queries import FeedbackQuery
from schema.feedback.surveys import SurveyMutation, SurveyQuery
from schema.limits import QueryCostLimiter
from schema.members.mutations import MemberMutation
from schema.members.queries import MemberQuery
from schema.nudges.admin import NudgeAdminMutation, NudgeAdminQuery
from schema.nudges.devices import DeviceMutation, DeviceQuery
from schema.nudges.queries import NudgeQuery
from schema.nudges.settings import NudgeSettingsMutation, NudgeSettingsQuery
from schema.nudges.templates import NudgeTemplateMutation, NudgeTemplateQuery
from schema.points.mutations import PointsMutation
from schema.points.queries import PointsQuery
from schema.program.mutations import ProgramMutation
from schema.program.queries import ProgramQuery
from schema.promotions.mutations import PromotionMutation
from schema.promotions.queries import PromotionQuery
from schema.referrals.queries import ReferralQuery
from schema.rewards.mutations import RewardMutation
from schema.rewards.queries import RewardQuery
from schema.tiers.mutations import TierMutation
from schema.tiers.queries import TierQuery

# One line each per domain: its Query and Mutation roots.
Query = merge_types(
    "Query",
    (
        MemberQuery,
        PointsQuery,
        ProgramQuery,
        TierQuery,
        PromotionQuery,
        RewardQuery,
        ReferralQuery,
        FeedbackQuery,
        SurveyQuery,
        FollowUpQuery,
        NudgeQuery,
        NudgeSettingsQuery,
        NudgeAdminQuery,
        DeviceQuery,
        NudgeTemplateQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        MemberMutation,
        PointsMutation,
        ProgramMutation,
        TierMutation,
        PromotionMutation,
        RewardMutation,
        FeedbackMutation,
        SurveyMutation,
        FollowUpMutation,
        NudgeSettingsMutation,
        NudgeAdminMutation,
        DeviceMutation,
        NudgeTemplateMutation,
    ),
)

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 2000
CACHE_SIZE = 256

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


def is_expected(error: GraphQLError) -> bool:
    """Parse/validation errors and our coded errors are shown; anything else is a bug.
    (A GraphQLError raised by a resolver arrives wrapped, as the original error.)"""
    return error.original_error is None or isinstance(
        error.original_error, DomainError | GraphQLError
    )


def _is_syntax_error(error: GraphQLError) -> bool:
    return isinstance(error, GraphQLSyntaxError) or isinstance(
        error.original_error, GraphQLSyntaxError
    )


def _with_code(error: GraphQLError, code: str) -> None:
    if not (error.extensions or {}).get("code"):
        error.extensions = {**(error.extensions or {}), "code": code}


class MaskUnexpectedErrors(MaskErrors):
    """Hide unexpected errors behind "Unexpected error." with the request id to quote."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: not is_expected(error))

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        request_id = getattr(self.execution_context.context, "request_id", None)
        masked.extensions = {"code": INTERNAL_SERVER_ERROR, "requestId": request_id}
        return masked


@lru_cache(maxsize=CACHE_SIZE)
def _validate(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
    hide_suggestions: bool,
) -> list[GraphQLError]:
    # Strawberry's own validate_document (the same two rules of its own added), plus
    # hide_suggestions, which it does not pass on.
    rules = (*rules, MaybeNullValidationRule, OneOfInputValidationRule)
    errors = validate(schema, document, rules, hide_suggestions=hide_suggestions)
    for error in errors:
        _with_code(error, VALIDATION_FAILED)
    return errors


class CachedValidation(SchemaExtension):
    """Strawberry's ValidationCache, with or without suggestions. The cache is keyed on the
    schema, the document (the parser cache returns the same object for the same text), the
    rule classes and the flag."""

    def __init__(self, *, hide_suggestions: bool) -> None:
        self.hide_suggestions = hide_suggestions

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None
        context.pre_execution_errors = _validate(
            context.schema._schema,
            context.graphql_document,
            tuple(context.validation_rules),
            self.hide_suggestions,
        )
        yield


class OperationNotFound(RuntimeError):
    """The document does not say which operation to run (GraphQL's GetOperation())."""


class _OneOperationContext(ExecutionContext):
    """Strawberry runs the first operation of a document when no operationName is given;
    GraphQL runs it only when it is the only one (GetOperation()). Raising here makes
    Strawberry refuse the request (CannotGetOperationTypeError, caused by this error) before
    validation: schema/http.py answers it as a request error."""

    def _operations(self) -> list[OperationDefinitionNode]:
        document = self.graphql_document
        definitions = document.definitions if document is not None else ()
        return [d for d in definitions if isinstance(d, OperationDefinitionNode)]

    @property
    def operation_name(self) -> str | None:
        if self._provided_operation_name is not None:
            return self._provided_operation_name
        operations = self._operations()
        if len(operations) == 1 and operations[0].name is not None:
            return operations[0].name.value
        return None

    @property
    def operation_type(self) -> OperationType:
        operations = self._operations()
        name = self._provided_operation_name
        if name is None:
            if len(operations) != 1:
                raise OperationNotFound(
                    "The document has no operation to run."
                    if not operations
                    else "The document has several operations: say which to run with operationName."
                )
            return OperationType(operations[0].operation.value)
        for operation in operations:
            if operation.name is not None and operation.name.value == name:
                return OperationType(operation.operation.value)
        raise OperationNotFound(f"The document has no operation named {inspect(name)}.")


class LoyaltySchema(strawberry.Schema):
    def __init__(self, *args: Any, hide_suggestions: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hide_suggestions = hide_suggestions

    def process_errors(
        self,
        errors: list[GraphQLError],
        execution_context: ExecutionContext | None = None,  # noqa: ARG002
    ) -> None:
        """Log unexpected errors once, with the stack trace. Expected ones are not news, but
        get their code here if they have none: every error passes here once, before
        MaskUnexpectedErrors (validation errors already have theirs, from _validate)."""
        for error in errors:
            if isinstance(error.original_error, DomainError):
                count_error(error.original_error.code)  # a query's; mutations count their own
            elif not is_expected(error):
                count("UnexpectedErrors")
                logger.error("Unexpected error at %s", error.path, exc_info=error.original_error)
            elif _is_syntax_error(error):
                _with_code(error, PARSE_FAILED)
            elif error.path is None:
                # Not a resolver's (field errors have a path): graphql-core refused the
                # variables before execution began.
                _with_code(error, BAD_USER_INPUT)

    # Two of Strawberry's hooks (underscored: the tests pin their effect, and the version).

    def _create_execution_context(  # noqa: PLR0917
        self,
        query: str | None,
        allowed_operation_types: Iterable[OperationType],
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionContext:
        return _OneOperationContext(
            query=query,
            schema=self,
            allowed_operations=allowed_operation_types,
            context=context_value,
            root_value=root_value,
            variables=variable_values,
            provided_operation_name=operation_name,
            operation_extensions=operation_extensions,
        )

    def _get_custom_context_kwargs(
        self, operation_extensions: dict[str, Any] | None = None, *, sync: bool = False
    ) -> dict[str, Any]:
        # What Strawberry passes to graphql-core's execute(), which coerces the variables.
        kwargs = super()._get_custom_context_kwargs(operation_extensions, sync=sync)
        return {**kwargs, "hide_suggestions": self.hide_suggestions}


# What a value of each of Strawberry's scalars looks like, for error messages.
_SCALAR_FORMS = {
    "Date": 'a calendar date YYYY-MM-DD, e.g. "2026-03-01"',
    "DateTime": 'an ISO 8601 date-time with an offset, e.g. "2026-03-01T12:00:00Z"',
    "Time": 'a time HH:MM:SS, e.g. "12:30:00"',
    "Decimal": 'a decimal number as a string, e.g. "42.50"',
    "UUID": 'a UUID, e.g. "123e4567-e89b-12d3-a456-426614174000"',
}


def clean_parse_errors(definition: ScalarDefinition) -> ScalarDefinition:
    """The same scalar, whose parse errors say what the value should look like, never a
    parser's exception text ("invalid literal for int() with base 10: b'1x'", as
    Strawberry's built-in DateTime says). A plain GraphQLError passes as it is: that is a
    message written for clients."""
    parse = definition.parse_value
    if parse is None or definition.implementation is not None:
        return definition
    form = _SCALAR_FORMS.get(definition.name) or f"a valid {definition.name}"

    def parse_value(value: Any) -> Any:
        try:
            return parse(value)
        except GraphQLError as error:
            if type(error) is GraphQLError:
                raise
        except Exception:  # replaced by the message below
            pass
        raise GraphQLError(f"{definition.name} must be {form}; got {inspect(value)}.")

    return dataclasses.replace(definition, parse_value=parse_value)


def scalar_overrides(
    overrides: Mapping[object, ScalarDefinition | ScalarWrapper] | None = None,
) -> dict[object, ScalarDefinition]:
    """Strawberry's scalars, replaced by `overrides` where given, all with clean parse
    errors (graphql-core's own, such as Int and ID, have clean ones already)."""
    registry: dict[object, ScalarDefinition | ScalarWrapper] = {
        **DEFAULT_SCALAR_REGISTRY,
        **(overrides or {}),
    }
    cleaned: dict[object, ScalarDefinition] = {}
    for key, value in registry.items():
        definition = value._scalar_definition if isinstance(value, ScalarWrapper) else value
        if definition.implementation is None and definition.parse_value is not None:
            cleaned[key] = clean_parse_errors(definition)
    return cleaned


@cache
def build_schema(*, introspection: bool) -> LoyaltySchema:
    """The schema, with introspection or without it and without suggestions (prod)."""
    # Built once: validation rule classes must be the same objects on every request, or the
    # validation cache (keyed on them) never hits.
    rules: list[Any] = [
        *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
        *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
    ]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    hide_suggestions = not introspection
    return LoyaltySchema(
        query=Query,
        mutation=Mutation,
        scalar_overrides=scalar_overrides(SCALARS),
        hide_suggestions=hide_suggestions,
        extensions=[
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            lambda: ParserCache(maxsize=CACHE_SIZE),
            lambda: AddValidationRules(rules),
            lambda: CachedValidation(hide_suggestions=hide_suggestions),
            QueryCostLimiter,  # after validation: costs only documents that passed it
            MaskUnexpectedErrors,
        ],
    )
