"""Point every model at the configured table and endpoint (once per container)."""

from __future__ import annotations

from typing import Any

from api.config import Config
from api.store.base import TableItem, item_types


def bind(config: Config) -> None:
    """Call after the domains' store modules are imported (build_services does)."""
    models: tuple[type[TableItem], ...] = (TableItem, *item_types().values())
    for model in models:
        meta: Any = model.Meta  # PynamoDB's Meta protocol omits the settings it reads
        meta.table_name = config.table_name
        meta.region = config.region
        meta.host = config.dynamodb_endpoint
        # An API call should fail fast rather than hold the caller for PynamoDB's 15 s/30 s.
        meta.connect_timeout_seconds = 3
        meta.read_timeout_seconds = 10
    current = TableItem._connection
    if current is None or (
        current.table_name,
        current.connection.host,
        current.connection.region,
    ) != (config.table_name, config.dynamodb_endpoint, config.region):
        TableItem._connection = None
    # All item types share the base model's connection, so one botocore client (~50 ms to
    # build) serves them all.
    connection = TableItem._get_connection()
    for model in models:
        model._connection = connection
