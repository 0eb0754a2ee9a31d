"""Build the one artifact `osls package` deploys for both functions: .build/function.zip.

    python -m infra.build      (make package runs it)

It holds api/, schema/ and handlers/ (not local/: the dev server, its tokens, demo data and
table creation are for local use and need dev packages; nor tests), and at its root the
packages of infra/requirements.lambda.txt for Python 3.13 on arm64: pure-Python wheels, not
the AWS SDK the runtime already has. (A Serverless layer would need AWS credentials just to
package: osls compares it with the deployed one.)

Everything is compiled to bytecode by Python 3.13 when it is on the machine: Lambda's code
directory is read-only, so without .pyc files each cold start recompiles every module.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / ".build"
STAGING = BUILD / "function"
FUNCTION_ZIP = BUILD / "function.zip"
REQUIREMENTS = ROOT / "infra" / "requirements.lambda.txt"
RUNTIME = "3.13"
CODE = ("api", "schema", "handlers")
FIXED_TIME = (2026, 1, 1, 0, 0, 0)  # reproducible zips


def runtime_python() -> str | None:
    """A working Python 3.13 (on PATH, or one pyenv installed but has not activated)."""
    candidates = [shutil.which(f"python{RUNTIME}")]
    candidates += sorted(
        str(p) for p in Path.home().glob(f".pyenv/versions/{RUNTIME}*/bin/python3")
    )
    for candidate in candidates:
        if (
            candidate
            and subprocess.run(
                [candidate, "-c", "pass"], capture_output=True, check=False
            ).returncode
            == 0
        ):
            return candidate
    return None


def compile_tree(path: Path, python: str | None) -> None:
    if python is None:
        print(f"python{RUNTIME} not found: shipping sources only (slower cold starts)")
        return
    subprocess.run(
        [
            python,
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            str(path),
        ],
        check=True,
    )


def install_dependencies() -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--only-binary=:all:",
            "--no-compile",
            "--platform",
            "manylinux2014_aarch64",
            "--implementation",
            "cp",
            "--python-version",
            RUNTIME,
            "--target",
            str(STAGING),
            "-r",
            str(REQUIREMENTS),
        ],
        check=True,
    )
    shutil.rmtree(STAGING / "bin", ignore_errors=True)
    trim_babel()


# Babel ships data for ~1150 locales (35 MB). Messages are formatted in these languages'
# locales; any other falls back to the template's language (api/nudges/templates.py).
BABEL_LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pt")


def trim_babel() -> None:
    for path in (STAGING / "babel" / "locale-data").glob("*.dat"):
        language = path.stem.split("_")[0]
        if path.stem != "root" and language not in BABEL_LANGUAGES:
            path.unlink()


def code_files() -> list[Path]:
    return [path for top in CODE for path in sorted((ROOT / top).rglob("*.py"))]


def build() -> None:
    shutil.rmtree(STAGING, ignore_errors=True)
    install_dependencies()
    for path in code_files():
        target = STAGING / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    compile_tree(STAGING, runtime_python())
    FUNCTION_ZIP.unlink(missing_ok=True)
    with zipfile.ZipFile(FUNCTION_ZIP, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in STAGING.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(STAGING).as_posix(), FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())


if __name__ == "__main__":
    BUILD.mkdir(exist_ok=True)
    build()
    size = FUNCTION_ZIP.stat().st_size / 2**20
    print(f"built {FUNCTION_ZIP.relative_to(ROOT)}: {size:.1f} MiB")
