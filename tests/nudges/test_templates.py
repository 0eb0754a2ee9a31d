"""Nudge templates: rendered per kind, locale and channel with the member's formatting; picked
by locale fallback; checked at save (every refusal typed, naming the part and the line);
saved under versions, deleted back to the built-in ones, previewed for a real member."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import babel.localedata
import pytest
from jinja2 import TemplateRuntimeError

from api.auth import Principal
from api.clock import ManualClock
from api.config import Config
from api.errors import Forbidden, InvalidInput, MemberNotFound, NotFound
from api.members.model import Channel, EnrollInput, Member
from api.members.view import MemberReader
from api.nudges import template_engine
from api.nudges.model import MessageContext, Value
from api.nudges.rules_model import NudgeKind
from api.nudges.template_defaults import DEFAULTS, LOCALES
from api.nudges.templates import TemplateRenderError, TemplateService, check
from api.nudges.templates_model import SAMPLE_VALUES, TemplateInput, default_name
from api.services import Services
from infra.build import BABEL_LANGUAGES
from tests.support import ADMIN, SERVICE, count_requests, member

K = NudgeKind
LINKS = {
    "unsubscribe": "https://api.example.com/unsubscribe?token=v1.abc",
    "shop": "https://shop.example.com",
    "action": "https://shop.example.com/rewards",
}
NNBSP = "\u202f"  # Babel's French thousands separator


def context(
    kind: NudgeKind = K.POINTS_EXPIRING,
    channel: Channel = Channel.EMAIL,
    locale: str = "en",
    name: str | None = "Ann",
    values: dict[str, Value] | None = None,
    time_zone: str = "Europe/Paris",
) -> MessageContext:
    return MessageContext(
        kind=kind,
        channel=channel,
        locale=locale,
        time_zone=time_zone,
        member_name=name,
        shop_name="Demo Shop",
        currency="EUR",
        values=SAMPLE_VALUES[kind] if values is None else values,
        links=LINKS,
    )


def template_input(
    kind: NudgeKind = K.POINTS_EXPIRING,
    name: str = "points-expiring",
    locale: str = "en",
    **parts: Any,
) -> TemplateInput:
    """A valid POINTS_EXPIRING template, with `parts` (and version) replaced."""
    base = {
        "email_subject": "Saved {{ points|number }}",
        "email_html": "<p>Saved for {{ member_name|default('you', true) }}: "
        '{{ points|number }} <a href="{{ links.unsubscribe }}">stop</a></p>',
        "email_text": "Saved {{ points|number }} {{ links.unsubscribe }}",
        "sms_text": "Saved {{ points|number }} {{ links.unsubscribe }}",
        "push_title": "Saved",
        "push_body": "Saved {{ points|number }}",
    }
    return TemplateInput(kind=kind, name=name, locale=locale, **{**base, **parts})


# Rendering.


def test_german_numbers_and_dates(services: Services) -> None:
    rendered = services.templates.render("points-expiring", context(locale="de-AT"))
    assert rendered.locale == "de"
    assert rendered.subject == "12.345 Punkte verfallen am 29. März 2026"
    assert rendered.text.startswith("Hallo Ann,\n\n12.345 Ihrer Punkte verfallen am 29. März 2026.")
    assert "insgesamt 20.480 Punkte" in rendered.text
    assert rendered.html is not None
    assert 'lang="de"' in rendered.html


def test_french_push_and_sms(services: Services) -> None:
    push = services.templates.render("points-expiring", context(channel=Channel.PUSH, locale="fr"))
    assert push.subject == "Vos points expirent bientôt"
    assert push.text == (
        f"12{NNBSP}345 points expirent le 29 mars 2026. Utilisez-les avant qu\u2019il ne soit "
        "trop tard."
    )
    assert push.html is None
    sms = services.templates.render("points-expiring", context(channel=Channel.SMS, locale="fr"))
    assert sms.text == (
        f"Demo Shop\u00a0: 12{NNBSP}345 de vos points expirent le 29 mars 2026. "
        f"Utilisez-les\u00a0: {LINKS['action']} STOP\u00a0: {LINKS['unsubscribe']}"
    )
    assert sms.subject is None
    assert sms.html is None


def test_english_email(services: Services) -> None:
    rendered = services.templates.render("points-expiring", context(name=None))
    assert rendered.subject == "12,345 points expire on March 29, 2026"
    assert rendered.text.splitlines()[:3] == [
        "Hi,",
        "",
        "12,345 of your points expire on March 29, 2026. You have 20,480 points in total: use "
        "them before then so none go to waste.",
    ]
    assert f"Unsubscribe: {LINKS['unsubscribe']}" in rendered.text
    assert f'href="{LINKS["unsubscribe"]}"' in rendered.html  # type: ignore[operator]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", list(K))
def test_every_default_renders_on_every_channel(
    services: Services, kind: NudgeKind, locale: str
) -> None:
    for name in (None, "Ann"):
        email = services.templates.render(
            default_name(kind), context(kind, locale=locale, name=name)
        )
        sms = services.templates.render(
            default_name(kind), context(kind, Channel.SMS, locale, name=name)
        )
        push = services.templates.render(
            default_name(kind), context(kind, Channel.PUSH, locale, name=name)
        )
        assert {email.locale, sms.locale, push.locale} == {locale}
        assert email.subject
        assert email.html
        assert email.text
        assert push.subject
        assert push.text
        for text in (email.html, email.text, sms.text):
            assert LINKS["unsubscribe"] in text
        assert LINKS["action"] in email.html
        assert LINKS["action"] in sms.text
        assert ("Ann" in email.text) == (name is not None)
        assert len(sms.text) <= 640
        assert len(push.subject) <= 100
        assert len(push.text) <= 300
        assert "{{" not in email.html + email.text + sms.text + push.text


def test_birthday_without_bonus_points(services: Services) -> None:
    values: dict[str, Value] = {"bonus_points": 0, "balance": 2500}
    push = services.templates.render("birthday", context(K.BIRTHDAY, Channel.PUSH, values=values))
    assert push.text == "Have a wonderful day, from all of us at Demo Shop."


def test_values_are_escaped_in_html_only(services: Services) -> None:
    rendered = services.templates.render("points-expiring", context(name="Ann <b>&"))
    assert "Hi Ann &lt;b&gt;&amp;," in rendered.html  # type: ignore[operator]
    assert "<b>" not in rendered.html  # type: ignore[operator]
    assert rendered.text.startswith("Hi Ann <b>&,")
    assert rendered.subject is not None
    assert "&lt;" not in rendered.subject


def test_a_locale_babel_lacks_falls_back_to_the_templates(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The Lambda artifact keeps Babel's data for BABEL_LANGUAGES only.
    exists = babel.localedata.exists
    monkeypatch.setattr(
        babel.localedata,
        "exists",
        lambda name: exists(name) and (name == "root" or name.split("_")[0] in BABEL_LANGUAGES),
    )
    template_engine.babel_locale.cache_clear()
    try:
        ja = services.templates.render("points-expiring", context(locale="ja-JP"))
        assert ja.locale == "en"
        assert ja.subject == "12,345 points expire on March 29, 2026"
        unknown = services.templates.render("points-expiring", context(locale="xx-YY"))
        assert unknown.subject == ja.subject
    finally:
        template_engine.babel_locale.cache_clear()


def test_a_member_locale_formats_a_fallback_template(services: Services) -> None:
    # German member, no German template of this name: the English words, German numbers.
    services.templates.save(ADMIN, template_input(name="spring"))
    rendered = services.templates.render("spring", context(locale="de-DE", channel=Channel.PUSH))
    assert (rendered.locale, rendered.text) == ("en", "Saved 12.345")


def test_datetime_and_money_filters_use_the_zone_and_currency() -> None:
    fmt = template_engine.formatter(("fr-FR",), "America/New_York", "EUR")
    moment = datetime(2026, 3, 29, 3, 30, tzinfo=UTC)
    assert fmt.moment(moment) == "28 mars 2026, 23:30:00"
    assert fmt.day(moment) == "28 mars 2026"  # the member's day, not UTC's
    assert fmt.money(Decimal("1234.5")) == f"1{NNBSP}234,50\u00a0€"
    assert template_engine.formatter(("de",), "UTC", "USD").money(Decimal(5)) == "5,00\u00a0$"
    with pytest.raises(TemplateRuntimeError):
        fmt.moment(datetime(2026, 3, 29))
    with pytest.raises(TemplateRuntimeError):
        fmt.number("12")


def test_values_that_break_the_contract_fail_loudly(services: Services) -> None:
    with pytest.raises(TemplateRenderError, match="POINTS_EXPIRING"):
        services.templates.render("points-expiring", context(values={"points": 5}))
    with pytest.raises(TemplateRenderError, match="number"):
        services.templates.render(
            "points-expiring",
            context(values={**SAMPLE_VALUES[K.POINTS_EXPIRING], "points": "many"}),
        )


# Fallback.


def test_the_fallback_chain(services: Services) -> None:
    def used(locale: str) -> tuple[str, str]:
        rendered = services.templates.render(
            "points-expiring", context(channel=Channel.PUSH, locale=locale)
        )
        return rendered.locale, rendered.subject or ""

    assert used("fr-CA") == ("fr", "Vos points expirent bientôt")  # built-in language
    assert used("ja") == ("en", "Your points expire soon")  # built-in English
    services.templates.save(ADMIN, template_input(locale="en", push_title="Saved en"))
    assert used("ja") == ("en", "Saved en")  # saved English before built-in English
    assert used("fr-CA")[1] == "Vos points expirent bientôt"  # a built-in fr before saved en
    services.templates.save(ADMIN, template_input(locale="fr", push_title="Saved fr"))
    assert used("fr-CA") == ("fr", "Saved fr")  # saved language before built-in
    services.templates.save(ADMIN, template_input(locale="fr-CA", push_title="Saved fr-CA"))
    assert used("fr-CA") == ("fr-CA", "Saved fr-CA")  # saved exact first
    assert used("fr-FR") == ("fr", "Saved fr")


def test_an_unknown_name_falls_back_to_the_kinds_default(services: Services) -> None:
    rendered = services.templates.render(
        "no-such-template", context(channel=Channel.PUSH, locale="de")
    )
    assert (rendered.locale, rendered.subject) == ("de", "Ihre Punkte verfallen bald")


def test_saved_templates_are_read_once_per_cache_period(
    services: Services, config: Config, clock: ManualClock
) -> None:
    other = TemplateService(clock, config, services.program, MemberReader(services.program))
    assert (
        other.render("points-expiring", context(channel=Channel.PUSH)).subject
        == "Your points expire soon"
    )
    with count_requests() as calls:
        for _ in range(5):
            other.render("points-expiring", context(channel=Channel.PUSH, locale="de"))
    assert calls == {}
    services.templates.save(ADMIN, template_input(push_title="Saved"))
    # This container sees its own save at once; another one within CACHE_SECONDS.
    assert (
        services.templates.render("points-expiring", context(channel=Channel.PUSH)).subject
        == "Saved"
    )
    assert other.render("points-expiring", context(channel=Channel.PUSH)).subject != "Saved"
    clock.advance(timedelta(seconds=61))
    with count_requests() as calls:
        assert other.render("points-expiring", context(channel=Channel.PUSH)).subject == "Saved"
    assert calls == {"Query": 1}


# Checks at save.

REFUSED = [
    ("email_subject", "{{ points|number }", "Line 1:"),
    ("email_text", "Hi\n\n{% if points %}\nno end", "Line 3: Unexpected end of template"),
    ("email_text", "{% include 'other' %}", "{% include %}"),
    ("email_text", "{% import 'x' as y %}", "{% import %}"),
    ("email_text", "{% from 'x' import y %}", "{% from ... import %}"),
    ("email_text", "{% extends 'base' %}", "{% extends %}"),
    ("email_text", "{% macro m() %}x{% endmacro %}", "{% macro %}"),
    ("email_text", "{% set x = 1 %}{{ x }}", "{% set %}"),
    ("email_text", "{% set x %}a{% endset %}", "{% set %}"),
    ("email_text", "{% call points() %}x{% endcall %}", "{% call %}"),
    ("email_text", "{% for c in shop_name %}{{ c }}{% endfor %}", "{% for %}"),
    ("email_text", "{% with x = 1 %}{{ x }}{% endwith %}", "{% with %}"),
    ("email_text", "{% filter upper %}x{% endfilter %}", "{% filter %}"),
    ("email_html", "{% autoescape false %}{{ member_name }}{% endautoescape %}", "autoescape"),
    ("email_text", "{% block b %}x{% endblock %}", "{% block %}"),
    ("email_text", "{{ shop_name.upper() }}", "Calling"),
    ("email_text", "{{ member_name.__class__ }}", "links.unsubscribe"),
    ("email_text", "{{ links.__class__ }}", "links.unsubscribe"),
    ("email_text", "{{ links['__init__'] }}", "links.unsubscribe"),
    ("email_text", "{{ links.items }}", "links.unsubscribe"),
    ("email_text", "{{ links.unsubscrbe }}", "links.unsubscribe"),
    ("email_text", "{{ shop_name|attr('__class__') }}", "filter 'attr'"),
    ("email_html", "{{ shop_name|safe }}", "filter 'safe'"),
    ("email_text", "{{ shop_name is callable }}", "test 'callable'"),
    ("email_text", "{{ 'a' * 1000000000 }}", "Multiplying text"),
    ("email_text", "{{ 'a' * 10 ** 9 }}", "**"),
    ("email_text", "{{ 2 ** 1000000 }}", "**"),
    ("email_text", "{{ shop_name * 1000000000 }}", "only for numbers"),
    ("email_text", "{{ '%0999999999d' % points }}", "only for numbers"),
    ("email_text", "{{ range(10) }}", "Calling"),
    ("email_text", "{{ member.name }}", "links.unsubscribe"),
    ("email_text", "{{ nmae }}", "Unknown variable 'nmae'"),
    ("email_text", "{{ tier }}", "Unknown variable 'tier'"),  # not a POINTS_EXPIRING value
    ("email_text", "{{ self }}", "Unknown variable 'self'"),
    ("email_text", "{{ points|date }}", "date: the value is not a date"),
    ("email_subject", "x" * 501, "At most 500 characters"),
    ("email_html", "x" * 50_001, "At most 50000 characters"),
    ("sms_text", "  ", "Must not be empty"),
    ("sms_text", "{{ links.action }} " * 9, "over 640"),
    ("push_title", "Hello {{ member_name|default('', true) }} " + "x" * 80, "over 100"),
    ("push_body", "{{ links.unsubscribe }}" * 3, "over 300"),
    ("email_html", "<p>x</p>\n<script>alert(1)</script>", "Line 2: '<script'"),
    ("email_html", "<SCRIPT src=data:x></SCRIPT>", "<script> elements"),
    ("email_html", '<img src="data:x" onerror="alert(1)">', "event attributes"),
    ("email_html", '<a href="javascript:alert(1)">x</a>', "javascript: URLs"),
    ("email_html", '<img src="https://tracker.example/p.gif">', "external resources"),
    ("email_html", "<img src=//tracker.example/p.gif>", "external resources"),
    ("email_html", '<p style="background:url(https://x.example/a.png)">', "url()"),
    ("email_html", "<style>@import 'https://x.example/a.css';</style>", "@import"),
    ("email_html", '<iframe src="data:text/html,x"></iframe>', "embedded objects"),
    ("email_html", '<meta http-equiv="refresh" content="0;url=x">', "http-equiv"),
]


@pytest.mark.parametrize(("part", "source", "fragment"), REFUSED)
def test_unsafe_or_broken_templates_are_refused(
    services: Services, part: str, source: str, fragment: str
) -> None:
    field = "".join(w.capitalize() if i else w for i, w in enumerate(part.split("_")))
    changed: dict[str, Any] = {part: source}
    with pytest.raises(InvalidInput) as refused:
        services.templates.save(ADMIN, template_input(**changed))
    assert refused.value.field == field
    assert fragment in refused.value.message, refused.value.message
    assert all(s.saved is None for s in services.templates.templates(ADMIN, K.POINTS_EXPIRING))


def test_a_syntax_error_names_its_line(services: Services) -> None:
    with pytest.raises(InvalidInput) as refused:
        services.templates.save(ADMIN, template_input(email_html="<p>\n\n{{ points|number }\n</p>"))
    assert refused.value.field == "emailHtml"
    assert refused.value.message.startswith("Line 3: ")


def test_huge_values_are_never_built(services: Services) -> None:
    # Compile-time constant folding is off and run-time multiplication of text refused: saving
    # these allocates next to nothing.
    tracemalloc.start()
    try:
        for source in (
            "{{ shop_name * 1000000000 }}",
            "{{ [1] * 1000000000 }}",
            "{{ 'a' * 10**9 }}",
        ):
            with pytest.raises(InvalidInput):
                services.templates.save(ADMIN, template_input(email_text=source))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "a#b"}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"locale": "french"}, "locale"),
        ({"locale": "fr_FR"}, "locale"),
        ({"version": -1}, "version"),
    ],
)
def test_bad_names_locales_and_versions(
    services: Services, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        services.templates.save(ADMIN, replace(template_input(), **changes))
    assert refused.value.field == field


def test_every_built_in_template_passes_the_checks() -> None:
    for template in DEFAULTS.values():
        check(template)


# Saving, versions, deleting.


def test_saves_are_versioned(services: Services, clock: ManualClock) -> None:
    first = services.templates.save(ADMIN, template_input(version=0))
    assert (first.version, first.updated_by, first.updated_at) == (1, ADMIN.actor, clock.now())
    second = services.templates.save(ADMIN, template_input(push_title="Two", version=1))
    assert second.version == 2
    with pytest.raises(InvalidInput) as stale:
        services.templates.save(ADMIN, template_input(push_title="Lost", version=1))
    assert stale.value.field == "version"
    assert "version 2" in stale.value.message
    with pytest.raises(InvalidInput):
        services.templates.save(ADMIN, template_input(version=0))  # "new", but one exists
    third = services.templates.save(ADMIN, template_input(push_title="Three"))  # unchecked
    assert third.version == 3
    (slot,) = [
        s
        for s in services.templates.templates(ADMIN, K.POINTS_EXPIRING)
        if (s.name, s.locale) == ("points-expiring", "en")
    ]
    assert slot.saved == third
    assert slot.default == DEFAULTS[(K.POINTS_EXPIRING, "points-expiring", "en")]


def test_delete_brings_the_default_back(services: Services) -> None:
    services.templates.save(ADMIN, template_input(push_title="Saved"))
    push = context(channel=Channel.PUSH)
    assert services.templates.render("points-expiring", push).subject == "Saved"
    slot = services.templates.delete(ADMIN, K.POINTS_EXPIRING, "points-expiring", "en")
    assert slot.saved is None
    assert slot.default is not None
    assert services.templates.render("points-expiring", push).subject == "Your points expire soon"
    with pytest.raises(NotFound):
        services.templates.delete(ADMIN, K.POINTS_EXPIRING, "points-expiring", "en")
    with pytest.raises(InvalidInput):
        services.templates.delete(ADMIN, K.POINTS_EXPIRING, "points expiring", "en")


def test_the_listing(services: Services) -> None:
    every = services.templates.templates(ADMIN)
    assert len(every) == len(DEFAULTS) == len(K) * len(LOCALES)
    assert all(s.saved is None and s.default is not None for s in every)
    services.templates.save(ADMIN, template_input(name="spring", locale="de"))
    italian = TemplateInput(
        K.BIRTHDAY,
        "birthday",
        "it",
        "Auguri",
        '<p>Auguri <a href="{{ links.unsubscribe }}">x</a></p>',
        "Auguri {{ links.unsubscribe }}",
        "Auguri {{ links.unsubscribe }}",
        "A",
        "A",
    )
    birthday = services.templates.save(ADMIN, italian)
    kinds = services.templates.templates(ADMIN, K.POINTS_EXPIRING)
    assert [(s.name, s.locale) for s in kinds] == [
        ("points-expiring", "de"),
        ("points-expiring", "en"),
        ("points-expiring", "fr"),
        ("spring", "de"),
    ]
    assert kinds[-1].default is None
    assert kinds[-1].saved is not None
    assert [s.saved for s in services.templates.templates(ADMIN, K.BIRTHDAY) if s.saved] == [
        birthday
    ]


# Preview.


def enroll(services: Services, name: str | None, locale: str = "fr-FR") -> str:
    data = EnrollInput("cust-1", "Europe/Paris", locale, name=name)
    return services.members.enroll(SERVICE, data).id


def test_preview_for_a_member(services: Services) -> None:
    member_id = enroll(services, "Ann <b>")
    email = services.templates.preview(ADMIN, member_id, K.POINTS_EXPIRING, Channel.EMAIL)
    assert email.locale == "fr"
    assert email.subject == f"12{NNBSP}345 points expirent le 29 mars 2026"
    assert "Bonjour Ann &lt;b&gt;," in email.html  # type: ignore[operator]
    assert email.text.startswith("Bonjour Ann <b>,")
    german = services.templates.preview(ADMIN, member_id, K.WIN_BACK, Channel.PUSH, locale="de-DE")
    assert (german.locale, german.text) == ("de", "Ihre 1.200 Punkte warten bei Demo Shop auf Sie.")
    services.templates.save(ADMIN, template_input(name="spring", locale="fr"))
    spring = services.templates.preview(
        ADMIN, member_id, K.POINTS_EXPIRING, Channel.SMS, name="spring"
    )
    assert spring.text.startswith(f"Saved 12{NNBSP}345 ")


def test_preview_uses_the_values_source(services: Services, config: Config) -> None:
    member_id = enroll(services, None, "en")
    seen: list[tuple[str, NudgeKind]] = []

    def values(m: Member, kind: NudgeKind) -> dict[str, Value] | None:
        seen.append((m.id, kind))
        if kind is K.WIN_BACK:
            return None  # nothing real: the samples
        if kind is K.BIRTHDAY:
            return {"balance": 7}  # bonus_points missing: the template cannot show it
        return {"points": 3, "expires_on": date(2026, 4, 1), "balance": 9}

    service = TemplateService(
        services.clock, config, services.program, MemberReader(services.program), values
    )
    push = service.preview(ADMIN, member_id, K.POINTS_EXPIRING, Channel.PUSH)
    assert push.text == "3 points expire on April 1, 2026. Use them before they are gone."
    sample = service.preview(ADMIN, member_id, K.WIN_BACK, Channel.PUSH)
    assert sample.text == "Your 1,200 points are still waiting for you at Demo Shop."
    with pytest.raises(InvalidInput) as broken:
        service.preview(ADMIN, member_id, K.BIRTHDAY, Channel.PUSH)
    assert broken.value.field == "name"
    assert seen == [
        (member_id, K.POINTS_EXPIRING),
        (member_id, K.WIN_BACK),
        (member_id, K.BIRTHDAY),
    ]


def test_preview_refusals(services: Services) -> None:
    with pytest.raises(MemberNotFound):
        services.templates.preview(ADMIN, "mbr_" + "0" * 26, K.BIRTHDAY, Channel.EMAIL)
    with pytest.raises(InvalidInput) as bad:
        services.templates.preview(ADMIN, "cust-1", K.BIRTHDAY, Channel.EMAIL)
    assert bad.value.field == "memberId"
    member_id = enroll(services, "Ann")
    for changes, field in (({"name": "a b"}, "name"), ({"locale": "klingon"}, "locale")):
        with pytest.raises(InvalidInput) as bad:
            services.templates.preview(ADMIN, member_id, K.BIRTHDAY, Channel.EMAIL, **changes)
        assert bad.value.field == field


# Permissions: admins only, refused before the input is looked at.


@pytest.mark.parametrize("who", [SERVICE, member("cust-1")])
def test_only_admins_manage_templates(services: Services, who: Principal) -> None:
    calls: list[Callable[[], object]] = [
        lambda: services.templates.templates(who),
        lambda: services.templates.save(who, template_input(name="")),
        lambda: services.templates.delete(who, K.BIRTHDAY, "", ""),
        lambda: services.templates.preview(who, "", K.BIRTHDAY, Channel.EMAIL),
    ]
    for call in calls:
        with pytest.raises(Forbidden):
            call()


@pytest.mark.parametrize("part", ["email_html", "email_text", "sms_text"])
def test_emails_and_texts_must_show_the_unsubscribe_link_for_everyone(
    services: Services, part: str
) -> None:
    hidden = {
        "email_html": "{% if member_name %}<a href='{{ links.unsubscribe }}'>x</a>{% endif %}",
        "email_text": "Hello",
        "sms_text": "{{ points|number }} points",
    }[part]
    parts: dict[str, Any] = {part: hidden}
    with pytest.raises(InvalidInput) as refused:
        services.templates.save(ADMIN, template_input(**parts))
    assert refused.value.field == {"email_html": "emailHtml", "email_text": "emailText"}.get(
        part, "smsText"
    )
    assert "links.unsubscribe" in refused.value.message
