"""An unsubscribe link in a real browser: `make run`'s server mints one for Alice's email as
the shop, Chromium (Debian's, driven by Playwright) opens it, the member clicks the button,
and her email consent is withdrawn. Skipped, with the reason, where Chromium is not installed
(.ci/run installs it)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

from tests.local_run import LocalServer, local_server
from tests.test_graphiql_browser import ARGS, CHROMIUM, TIMEOUT_MS

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium; "
    ".ci/run does) for the unsubscribe browser test",
)

LINK = '{ unsubscribeLink(customerId: "demo-alice", channel: EMAIL) { url } }'
CONSENTS = '{ member(customerId: "demo-alice") { consents { channel granted source } } }'


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with local_server() as running:
        yield running


@pytest.fixture
def page() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with tempfile.TemporaryDirectory() as profile, sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def consents(server: LocalServer) -> dict[str, tuple[bool, str]]:
    member = server.post(CONSENTS, server.token("service"))["data"]["member"]
    return {c["channel"]: (c["granted"], c["source"]) for c in member["consents"]}


def test_a_member_opens_the_link_and_clicks_unsubscribe(server: LocalServer, page: Any) -> None:
    url = server.post(LINK, server.token("service"))["data"]["unsubscribeLink"]["url"]
    assert url.startswith(f"{server.origin}/unsubscribe?token=v1.")  # make run's own port

    response = page.goto(url, timeout=TIMEOUT_MS)
    assert response.status == 200
    assert page.inner_text("h1") == "Unsubscribe?"
    assert "Stop receiving emails from us?" in page.inner_text("body")
    assert consents(server)["EMAIL"] == (True, "signup-form")  # opening it changed nothing

    with page.expect_navigation(timeout=TIMEOUT_MS):
        page.click("button[type=submit]")
    assert page.inner_text("h1") == "Unsubscribed"
    assert "You will no longer receive emails." in page.inner_text("body")
    assert page.url == url  # the POST went to the link itself, and nothing redirected
    assert consents(server) == {"EMAIL": (False, "unsubscribe link"), "PUSH": (True, "app")}
