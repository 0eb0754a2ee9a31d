"""The query cost limit: list sizes counted through nesting, fragments and variables."""

from __future__ import annotations

from graphql import parse

from schema.limits import MAX_COST, query_cost
from schema.schema import build_schema
from tests.graphql.conftest import HOME, MEMBER, Invoke

PAGE = "history(first: 100) { edges { cursor node { id kind points balanceAfter createdAt } } }"


def cost(document: str, variables: dict[str, object] | None = None) -> int:
    parsed = parse(document)
    operation = parsed.definitions[-1]
    fragments = {d.name.value: d for d in parsed.definitions[:-1]}  # type: ignore[attr-defined]
    schema = build_schema(introspection=False)._schema
    return query_cost(schema, operation, fragments, variables)  # type: ignore[arg-type]


def test_the_home_query_is_far_below_the_limit() -> None:
    assert cost(HOME) < MAX_COST / 10


def test_list_sizes_multiply_through_variables_and_fragments() -> None:
    one = cost("{ me { points { " + PAGE + " } } }")
    assert one > 600  # 100 entries of several fields each
    by_variable = cost(
        "query($n: Int!) { me { points { history(first: $n) { edges { node { id } } } } } }",
        {"n": 100},
    )
    by_default = cost("{ me { points { history { edges { node { id } } } } } }")
    assert 4 * by_default < by_variable < 6 * by_default  # first defaults to 20
    fragment = cost("fragment P on Points { " + PAGE + " } query { me { points { ...P } } }")
    assert fragment == one


def test_aliases_of_large_pages_are_refused_with_a_code(invoke: Invoke) -> None:
    aliases = " ".join(f"a{i}: {PAGE}" for i in range(30))
    response = invoke("{ me { points { " + aliases + " } } }", None, MEMBER)
    assert response.error_codes == ["QUERY_TOO_COSTLY"]
    assert "data" not in response.body or response.data is None
    error = response.body["errors"][0]
    assert error["extensions"]["limit"] == MAX_COST
    assert error["extensions"]["cost"] > MAX_COST
    # Through fragments too: the same work, spelled differently.
    spread = " ".join(f"a{i}: history(first: 100) {{ ...E }}" for i in range(30))
    fragment = "fragment E on PointsEntryConnection { edges { node { id kind points } } }"
    response = invoke(fragment + " query { me { points { " + spread + " } } }", None, MEMBER)
    assert response.error_codes == ["QUERY_TOO_COSTLY"]
    # One page is fine.
    assert invoke("{ me { points { " + PAGE + " } } }", None, MEMBER).status == 200
