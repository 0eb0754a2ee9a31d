"""GraphQL layer: Strawberry types, queries and mutations. Thin: map in and out, call api/."""
