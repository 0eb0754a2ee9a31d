"""Package the stack as `make package` does, offline, for dev and prod, once per session."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
OSLS = ROOT / "node_modules" / ".bin" / "osls"
TEMPLATES = ROOT / ".build" / "templates"
STAGES = ("dev", "prod")


@pytest.fixture(scope="session")
def artifact() -> Path:
    """.build/function.zip, built by infra/build.py (downloads the pinned wheels)."""
    subprocess.run([sys.executable, "-m", "infra.build"], cwd=ROOT, check=True, capture_output=True)
    return ROOT / ".build" / "function.zip"


# Push set up: SNS platform applications as moto names them (tests/infra/test_template.py).
PUSH_PARAMS = (
    "apnsPlatformArn=arn:aws:sns:us-east-1:123456789012:app/APNS/loyalty-ios",
    "fcmPlatformArn=arn:aws:sns:us-east-1:123456789012:app/GCM/loyalty-android",
)


def _package(name: str, stage: str, home: Path, *params: str) -> dict[str, Any]:
    if not OSLS.exists():
        pytest.skip("osls not installed: run `npm ci` (make test does)")
    if shutil.which("node") is None:
        pytest.skip("osls needs Node.js")
    TEMPLATES.mkdir(parents=True, exist_ok=True)
    out = ROOT / ".build" / f"package-{name}"
    # No AWS credentials and an empty home: packaging must not need an account.
    env = {
        "PATH": str(Path(shutil.which("node") or "node").parent),
        "HOME": str(home),
        "SLS_TELEMETRY_DISABLED": "1",
        "SLS_NOTIFICATIONS_MODE": "off",
    }
    command = [str(OSLS), "package", "--stage", stage, "--package", str(out)]
    for param in params:
        command += ["--param", param]
    result = subprocess.run(command, cwd=ROOT, env=env, check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    template = out / "cloudformation-template-update-stack.json"
    shutil.copy(template, TEMPLATES / f"{name}.json")
    found: dict[str, Any] = json.loads(template.read_text())
    return found


@pytest.fixture(scope="session")
def templates(
    artifact: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Any]]:
    """The CloudFormation template `osls package` generates for each stage."""
    return {stage: _package(stage, stage, tmp_path_factory.mktemp("home")) for stage in STAGES}


@pytest.fixture(scope="session")
def push_template(artifact: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The dev stack with push set up on both platforms (--param, as README shows)."""
    return _package("dev-push", "dev", tmp_path_factory.mktemp("home"), *PUSH_PARAMS)
