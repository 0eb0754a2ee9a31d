"""Every built-in email (each kind in each default locale), rendered with the sample values and
opened in a real browser (Debian's Chromium, driven by Playwright) at a phone's width: the
member sees the formatted values, the greeting and the unsubscribe link; the page asks for
nothing over the network, logs no error and never scrolls sideways. Skipped, with the reason,
where Chromium is not installed (.ci/run installs it)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from api.members.model import Channel
from api.nudges.model import MessageContext
from api.nudges.rules_model import NudgeKind
from api.nudges.template_defaults import LOCALES
from api.nudges.template_engine import formatter
from api.nudges.templates_model import SAMPLE_VALUES, default_name
from api.services import Services
from tests.test_graphiql_browser import ARGS, CHROMIUM, TIMEOUT_MS

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium; "
    ".ci/run does) for the email templates browser test",
)

PHONE_WIDTH = 375
LINKS = {
    "unsubscribe": "https://api.example.com/unsubscribe?token=v1.AQEAAAAAbWJy.AAAAAAAA",
    "shop": "https://shop.example.com",
    "action": "https://shop.example.com/account/rewards",
}
GREETING = {"en": "Hi Ann,", "de": "Hallo Ann,", "fr": "Bonjour Ann,"}
UNSUBSCRIBE = {"en": "Unsubscribe", "de": "Abmelden", "fr": "Se désabonner"}


@pytest.fixture(scope="module")
def browser_context() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with tempfile.TemporaryDirectory() as profile, sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
            viewport={"width": PHONE_WIDTH, "height": 800},
        )
        try:
            yield context
        finally:
            context.close()


def shown(kind: NudgeKind, locale: str) -> list[str]:
    """The sample values as the member should see them (numbers and dates in their locale)."""
    fmt = formatter((locale,), "Europe/Paris", "EUR")
    texts: list[str] = []
    for name, value in SAMPLE_VALUES[kind].items():
        if name in ("products", "bonus_points"):  # the copy does not list SKUs; birthday: below
            continue
        if isinstance(value, date):
            texts.append(fmt.day(value))
        elif isinstance(value, int):
            if name == "product_count":
                continue  # shown only for several products (the sample has 2: checked below)
            texts.append(fmt.number(value))
        else:
            texts.append(str(value))
    if kind is NudgeKind.BIRTHDAY:
        texts.append(fmt.number(SAMPLE_VALUES[kind]["bonus_points"]))
    if kind is NudgeKind.REVIEW_REQUEST:
        texts.append(fmt.number(SAMPLE_VALUES[kind]["product_count"]))
    return texts


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", list(NudgeKind))
def test_every_default_email_in_a_browser(
    services: Services, browser_context: Any, kind: NudgeKind, locale: str
) -> None:
    context = MessageContext(
        kind=kind,
        channel=Channel.EMAIL,
        locale=locale,
        time_zone="Europe/Paris",
        member_name="Ann",
        shop_name="Demo Shop",
        currency="EUR",
        values=SAMPLE_VALUES[kind],
        links=LINKS,
    )
    rendered = services.templates.render(default_name(kind), context)
    assert rendered.html is not None

    page = browser_context.new_page()
    requests: list[str] = []
    errors: list[str] = []

    def refuse(route: Any) -> None:
        requests.append(route.request.url)
        route.abort()

    page.route("**/*", refuse)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.set_content(rendered.html, wait_until="load", timeout=TIMEOUT_MS)
        visible = page.inner_text("body")
        for text in [GREETING[locale], "Demo Shop", UNSUBSCRIBE[locale], *shown(kind, locale)]:
            assert text in visible, (text, visible)
        hrefs = page.eval_on_selector_all("a", "links => links.map(a => a.href)")
        assert LINKS["unsubscribe"] in hrefs
        assert any(h.startswith(LINKS["action"]) for h in hrefs)
        unsubscribe = page.locator(f'a[href="{LINKS["unsubscribe"]}"]')
        assert unsubscribe.inner_text() == UNSUBSCRIBE[locale]
        assert unsubscribe.is_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE_WIDTH, f"{width} px wide at a {PHONE_WIDTH} px viewport"
        assert page.evaluate("document.documentElement.lang") == locale
    finally:
        page.close()
    assert requests == []
    assert errors == []
