"""Create the table from infra/table.yml (tests, the local server and DynamoDB Local).

In AWS, CloudFormation creates the table from the same file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

TABLE_FILE = Path(__file__).resolve().parents[1] / "infra" / "table.yml"


def table_properties() -> dict[str, Any]:
    document = yaml.safe_load(TABLE_FILE.read_text())
    properties: dict[str, Any] = document["Resources"]["LoyaltyTable"]["Properties"]
    return properties


def create_table(client: Any, table_name: str) -> None:
    """Create the table (keys, indexes, TTL) with boto3's DynamoDB client; wait until active."""
    props = table_properties()
    client.create_table(
        TableName=table_name,
        BillingMode=props["BillingMode"],
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
        GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"],
        StreamSpecification={"StreamEnabled": True, **props["StreamSpecification"]},
    )
    client.get_waiter("table_exists").wait(TableName=table_name)
    client.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={
            "AttributeName": props["TimeToLiveSpecification"]["AttributeName"],
            "Enabled": True,
        },
    )
