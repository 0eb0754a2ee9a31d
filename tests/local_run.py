"""`make run` as a newcomer starts it: `python -m local` in a fresh process, with no
DynamoDB endpoint or AWS credentials, read through what it prints."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.server import free_port

ROOT = Path(__file__).resolve().parents[1]
END_OF_BANNER = "Requests ("


def newcomer_env(**extra: str) -> dict[str, str]:
    """This environment without what a newcomer would not have set."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AWS_")
        and k not in ("DYNAMODB_ENDPOINT", "STAGE", "PORT", "POWERTOOLS_METRICS_DISABLED")
    }
    env.update(PYTHONUNBUFFERED="1", **extra)
    return env


@dataclass
class LocalServer:
    process: subprocess.Popen[str]
    port: int
    output: list[str] = field(default_factory=list)  # every line printed so far
    banner_done: threading.Event = field(default_factory=threading.Event)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.origin}/graphql"

    @property
    def banner(self) -> str:
        text = "".join(self.output)
        return text[: text.find(END_OF_BANNER) + len(END_OF_BANNER)]

    def token(self, role: str) -> str:
        """A token the banner printed: member (demo-alice), admin or service."""
        found = re.search(rf"^  {role}\b[^:]*: +(\S+)$", self.banner, re.MULTILINE)
        assert found, self.banner
        return found.group(1)

    @property
    def graphiql_link(self) -> str:
        found = re.search(rf"^  ({re.escape(self.url)}\?\S+)$", self.banner, re.MULTILINE)
        assert found, self.banner
        return found.group(1)

    def requests_log(self) -> list[str]:
        """The lines printed after the banner (one per GraphQL request)."""
        text = "".join(self.output)
        return text[len(self.banner) :].splitlines()

    def post(
        self,
        query: str,
        token: str | None = None,
        variables: Mapping[str, Any] | None = None,
        timeout: float = 10,
    ) -> Any:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        body = json.dumps({"query": query, "variables": variables}).encode()
        request = urllib.request.Request(self.url, body, headers)
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.load(response)

    def wait_for_log(self, text: str, timeout: float = 5) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.requests_log():
                if text in line:
                    return line
            time.sleep(0.02)
        raise AssertionError(f"no {text!r} in {self.requests_log()}")


def _read(server: LocalServer) -> None:
    assert server.process.stdout is not None
    for line in server.process.stdout:
        server.output.append(line)
        if line.startswith(END_OF_BANNER):
            server.banner_done.set()
    server.banner_done.set()  # it ended: let the waiter see why


@contextmanager
def local_server(**env: str) -> Iterator[LocalServer]:
    """Start the server (stage and settings from `env`), wait until it listens, stop it."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "local"],
        cwd=ROOT,
        env=newcomer_env(PORT=str(port), **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = LocalServer(process, port)
    reader = threading.Thread(target=_read, args=(server,), daemon=True)
    reader.start()
    try:
        assert server.banner_done.wait(60), "".join(server.output)
        assert process.poll() is None, "".join(server.output)
        deadline = time.monotonic() + 10  # uvicorn listens just after the banner
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "".join(server.output)
                time.sleep(0.05)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
        reader.join(timeout=5)
