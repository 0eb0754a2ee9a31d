"""Query cost: what a request may ask for, counted before it runs.

Depth, alias and token limits bound a document's shape, not its work: 30 aliases of a
100-entry history page pass all three and cost ~40 times one page. The cost counts every
field once per object it is resolved for, where a field with a `first` argument (a Relay
connection) returns that many objects: cost(field) = 1 + first * cost(its selections),
`first` taken from the arguments, the variables or the schema's default. Fragments count
where they are spread; on a union or interface, every type condition counts (an upper bound).
The limit sits above anything the apps need: the member home query costs about 250, a full
100-entry history page with every field about 2 700.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    value_from_ast_untyped,
)
from graphql.type import GraphQLInterfaceType, GraphQLObjectType
from strawberry.extensions import SchemaExtension

MAX_COST = 5000
QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"


class _Cost:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        defaults: Mapping[str, Any],
    ) -> None:
        self._schema = schema
        self._fragments = fragments
        self._variables = {**defaults, **variables}

    def of(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType | None,
        spreading: frozenset[str] = frozenset(),
    ) -> int:
        total = 0
        for node in selection_set.selections if selection_set else ():
            if isinstance(node, FieldNode):
                total += self._field(node, parent, spreading)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                on = parent if condition is None else self._schema.get_type(condition.name.value)
                total += self.of(node.selection_set, on, spreading)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = self._fragments.get(name)
                if fragment is not None and name not in spreading:
                    on = self._schema.get_type(fragment.type_condition.name.value)
                    total += self.of(fragment.selection_set, on, spreading | {name})
        return total

    def _field(
        self, node: FieldNode, parent: GraphQLNamedType | None, spreading: frozenset[str]
    ) -> int:
        fields = (
            parent.fields if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType) else {}
        )
        definition = fields.get(node.name.value)
        if definition is None or node.selection_set is None:
            return 1  # a leaf, __typename, or a field validation already refused
        size = 1
        if "first" in definition.args:
            size = self._first(node, definition.args["first"].default_value)
        return 1 + size * self.of(node.selection_set, get_named_type(definition.type), spreading)

    def _first(self, node: FieldNode, default: Any) -> int:
        argument = next((a for a in node.arguments or () if a.name.value == "first"), None)
        value = default
        if argument is not None:
            value = (
                self._variables.get(argument.value.name.value)
                if isinstance(argument.value, VariableNode)
                else value_from_ast_untyped(argument.value)
            )
        # Anything but a sane int fails coercion or the resolver's own check later.
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1


def query_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any] | None,
) -> int:
    defaults = {
        d.variable.name.value: value_from_ast_untyped(d.default_value)
        for d in operation.variable_definitions or ()
        if d.default_value is not None
    }
    root = schema.get_root_type(operation.operation)
    return _Cost(schema, fragments, variables or {}, defaults).of(operation.selection_set, root)


class QueryCostLimiter(SchemaExtension):
    """Refuses an operation whose cost exceeds MAX_COST, as a validation error. Listed after
    ValidationCache: it runs on documents that passed validation."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and not context.pre_execution_errors:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            named = [
                op
                for op in operations
                if context.operation_name is None
                or (op.name is not None and op.name.value == context.operation_name)
            ]
            if len(named) == 1:  # otherwise the operation itself is an error, reported as such
                fragments = {
                    d.name.value: d
                    for d in document.definitions
                    if isinstance(d, FragmentDefinitionNode)
                }
                variables = context.variables if isinstance(context.variables, dict) else None
                cost = query_cost(context.schema._schema, named[0], fragments, variables)
                if cost > MAX_COST:
                    context.pre_execution_errors = [
                        GraphQLError(
                            f"This query costs {cost}, above the limit of {MAX_COST}: each "
                            "field counts once per object it returns (`first` objects for a "
                            "connection). Ask for smaller pages or fewer fields.",
                            extensions={"code": QUERY_TOO_COSTLY, "cost": cost, "limit": MAX_COST},
                        )
                    ]
        yield
