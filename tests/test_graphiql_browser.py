"""GraphiQL in a real browser: Chromium (Debian's, driven by Playwright) opens the pre-filled
link `make run` prints, with nothing but the local server to load it from, and runs the
example query. Skipped, with the reason, where Chromium is not installed (.ci/run installs it).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.server import EXAMPLE_QUERY, graphiql_missing
from tests.local_run import ROOT, LocalServer, local_server

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 20_000

MISSING = graphiql_missing(ROOT / "node_modules")

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium; "
        ".ci/run does) for the GraphiQL browser test",
    ),
    pytest.mark.skipif(
        MISSING is not None,
        reason=f"{MISSING} not installed: npm installs GraphiQL (make test does, with npm)",
    ),
]


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with local_server() as running:
        yield running


@pytest.fixture
def page(server: LocalServer) -> Iterator[Any]:
    """A fresh Chromium profile; every request it makes off the local server is refused."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with tempfile.TemporaryDirectory() as profile, sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        elsewhere: list[str] = []

        def local_only(route: Any) -> None:
            url = route.request.url
            if url.startswith(f"{server.origin}/") or url.startswith("data:"):
                route.continue_()
            else:
                elsewhere.append(url)
                route.abort()

        context.route("**/*", local_only)
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()
        assert not elsewhere, f"GraphiQL asked for files elsewhere: {elsewhere}"


def editor_text(page: Any, selector: str) -> str:
    text: str = page.locator(f"{selector} .CodeMirror").first.evaluate(
        "element => element.CodeMirror.getValue()"
    )
    return text


def test_the_printed_link_opens_graphiql_ready_to_run_the_example(
    server: LocalServer, page: Any
) -> None:
    page.goto(server.graphiql_link, timeout=TIMEOUT_MS)
    page.wait_for_selector(".graphiql-container", timeout=TIMEOUT_MS)
    assert "Loading..." not in page.inner_text("body")
    assert editor_text(page, ".graphiql-query-editor").strip() == EXAMPLE_QUERY.strip()
    headers = json.loads(editor_text(page, ".graphiql-editor-tool .graphiql-editor:not(.hidden)"))
    assert headers == {"Authorization": f"Bearer {server.token('member')}"}

    page.click(".graphiql-execute-button")
    page.wait_for_function(
        """() => {
            const result = document.querySelector('.result-window .CodeMirror');
            return result && result.CodeMirror.getValue().includes('"data"');
        }""",
        timeout=TIMEOUT_MS,
    )
    shown = json.loads(editor_text(page, ".result-window"))
    assert shown["data"]["me"]["name"] == "Alice Martin"
    assert shown == server.post(EXAMPLE_QUERY, server.token("member"))
    server.wait_for_log("query Home { me }  ->  ok")
