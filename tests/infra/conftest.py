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


@pytest.fixture(scope="session")
def templates(
    artifact: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Any]]:
    """The CloudFormation template `osls package` generates for each stage."""
    if not OSLS.exists():
        pytest.skip("osls not installed: run `npm ci` (make test does)")
    if shutil.which("node") is None:
        pytest.skip("osls needs Node.js")
    TEMPLATES.mkdir(parents=True, exist_ok=True)
    found = {}
    for stage in STAGES:
        out = ROOT / ".build" / f"package-{stage}"
        # No AWS credentials and an empty home: packaging must not need an account.
        env = {
            "PATH": str(Path(shutil.which("node") or "node").parent),
            "HOME": str(tmp_path_factory.mktemp("home")),
            "SLS_TELEMETRY_DISABLED": "1",
            "SLS_NOTIFICATIONS_MODE": "off",
        }
        result = subprocess.run(
            [str(OSLS), "package", "--stage", stage, "--package", str(out)],
            cwd=ROOT,
            env=env,
            check=False,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        template = out / "cloudformation-template-update-stack.json"
        shutil.copy(template, TEMPLATES / f"{stage}.json")
        found[stage] = json.loads(template.read_text())
    return found
