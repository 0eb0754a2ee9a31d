"""Fixtures: a moto-backed table per test (created from infra/table.yml), a manual clock and
the domain services wired to both."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

# Fake credentials before anything builds a client: no test may reach AWS.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
    POWERTOOLS_DEV="false",
    POWERTOOLS_LOG_LEVEL="WARNING",
    MAINTENANCE_WORKERS="1",  # for handlers configured from the environment, as above
)
os.environ.pop("DYNAMODB_ENDPOINT", None)

from api.clock import ManualClock
from api.config import Config, Stage
from api.services import Services, build_services
from local.table import create_table
from tests.support import START

TABLE = "loyalty-test"


@pytest.fixture(scope="session")
def dynamodb_client() -> Any:
    # Built once: moto intercepts clients made before a mock starts (a client costs ~50 ms).
    return boto3.client("dynamodb", region_name="us-east-1")


@pytest.fixture
def aws(dynamodb_client: Any) -> Iterator[None]:
    """A fresh, empty moto backend with the table, for one test."""
    with mock_aws():
        create_table(dynamodb_client, TABLE)
        yield


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def config() -> Config:
    # moto snapshots and restores whole tables around each transaction: not thread-safe, so
    # the daily job runs on one thread here (DynamoDB Local proves it under concurrency).
    return Config(stage=Stage.DEV, table_name=TABLE, maintenance_workers=1)


@pytest.fixture
def services(aws: None, config: Config, clock: ManualClock) -> Services:
    return build_services(config, clock)
