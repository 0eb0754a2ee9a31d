"""DynamoDB persistence: one table (defined in infra/table.yml), PynamoDB models, key builders."""
