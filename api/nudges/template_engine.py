"""The template engine: Jinja2 in a sandbox, checked before a template is saved, with
locale-aware filters (Babel). Imported only when a template is checked or rendered, so that
importing the GraphQL handler loads neither Jinja2 nor Babel.

Admins write these templates, and what they write reaches members' inboxes, so a template may
only show values:
- Parsed, then refused (InvalidInput naming the part, with the line) if it uses anything but
  output, `{% if %}`, literals, operators, the allowed variables, `links.<unsubscribe|shop|
  action>` and the allowed filters and tests: no include, import, extends, macros, blocks,
  `{% set %}`, `{% with %}`, `{% filter %}`, `{% for %}`, `{% autoescape %}`, and no calls (of
  functions or methods), other attributes or items, nor `**`.
- The sandbox (immutable) guards at run time what a static check cannot see: `*` and `%` only
  on numbers (a string or list times 10**9 would allocate gigabytes). Intercepting them also
  turns off Jinja's compile-time constant folding, which would otherwise compute
  `'a' * 10**9` while the template is compiled at save.
- The HTML part is autoescaped (values cannot inject markup; `|safe` is not allowed) and its
  source must not run or fetch anything: no `<script>`, `on...=` handlers, `javascript:` URLs,
  embedded frames or objects, nor resources (src, srcset, background, CSS url(), @import)
  other than `data:` and `cid:`.
- StrictUndefined: a missing value is an error at save (rendered with the samples), never an
  empty string sent to a member. Rendered sizes are bounded (templates_model.MAX_RENDERED).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal
from jinja2 import (
    StrictUndefined,
    Template,
    TemplateError,
    TemplateRuntimeError,
    TemplateSyntaxError,
    nodes,
    pass_context,
)
from jinja2.exceptions import SecurityError
from jinja2.filters import FILTERS
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.tests import TESTS

from api.errors import InvalidInput
from api.nudges.rules_model import NudgeKind
from api.nudges.templates_model import LINKS, MAX_RENDERED, MAX_SOURCE, Part, variables

FALLBACK_LOCALE = "en"
FORMATTER = "_format"  # the render's Formatter, in the context: no template can name it


class TemplateEnv(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        numbers = all(
            isinstance(x, int | float | Decimal) and not isinstance(x, bool) for x in (left, right)
        )
        if operator == "**" or not numbers:
            raise SecurityError(f"the operator {operator} is only for numbers in templates")
        return super().call_binop(context, operator, left, right)


@dataclass(frozen=True)
class Formatter:
    """How values look for one member: their locale (or the fallback's), zone and currency."""

    locale: Locale
    zone: ZoneInfo
    currency: str

    def number(self, value: object) -> str:
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise TemplateRuntimeError("number: the value is not a number")
        return format_decimal(value, locale=self.locale)

    def money(self, value: object) -> str:
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise TemplateRuntimeError("money: the value is not an amount")
        return format_currency(Decimal(value), self.currency, locale=self.locale)

    def day(self, value: object) -> str:
        if isinstance(value, datetime):
            value = self._local(value).date()
        if not isinstance(value, date):
            raise TemplateRuntimeError("date: the value is not a date")
        return format_date(value, format="long", locale=self.locale)

    def moment(self, value: object) -> str:
        if not isinstance(value, datetime):
            raise TemplateRuntimeError("datetime: the value is not a date and time")
        return format_datetime(self._local(value), format="medium", locale=self.locale)

    def _local(self, value: datetime) -> datetime:
        if value.utcoffset() is None:
            raise TemplateRuntimeError("datetime: the value has no time zone")
        return value.astimezone(self.zone)


@lru_cache(maxsize=256)
def babel_locale(tags: tuple[str, ...]) -> Locale:
    """The first of `tags` (BCP 47) Babel has data for: the Lambda artifact keeps only some
    languages (infra/build.py), so a member's locale may have none. English at worst."""
    for tag in (*tags, FALLBACK_LOCALE):
        try:
            return Locale.parse(tag, sep="-")
        except (UnknownLocaleError, ValueError, TypeError):
            continue
    raise AssertionError("Babel always has English")  # pragma: no cover


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")  # members' zones are checked at enrolment: a defensive default


def formatter(locales: tuple[str, ...], time_zone: str, currency: str) -> Formatter:
    return Formatter(babel_locale(locales), zone(time_zone), currency)


def _formatting(method: Callable[[Formatter, object], str]) -> Callable[..., str]:
    @pass_context
    def apply(context: Context, value: object) -> str:
        fmt: Formatter = context[FORMATTER]
        return method(fmt, value)

    return apply


FORMATTING: dict[str, Callable[[Formatter, object], str]] = {
    "number": Formatter.number,
    "money": Formatter.money,
    "date": Formatter.day,
    "datetime": Formatter.moment,
}


SAFE_FILTERS = ("default", "d", "upper", "lower", "title", "capitalize", "length", "join", "e")
SAFE_TESTS = ("defined", "undefined", "none", "number", "string", "even", "odd", "divisibleby")
FILTER_NAMES = frozenset({*FORMATTING, *SAFE_FILTERS})


def _env(autoescape: bool) -> TemplateEnv:
    env = TemplateEnv(
        autoescape=autoescape,
        undefined=StrictUndefined,
        auto_reload=False,
    )
    env.globals.clear()
    env.filters = {name: FILTERS[name] for name in SAFE_FILTERS}
    env.filters.update({name: _formatting(method) for name, method in FORMATTING.items()})
    env.tests = {name: TESTS[name] for name in SAFE_TESTS}
    return env


HTML_ENV = _env(autoescape=True)
TEXT_ENV = _env(autoescape=False)

_FORBIDDEN: dict[type[nodes.Node], str] = {
    nodes.Extends: "{% extends %}",
    nodes.Include: "{% include %}",
    nodes.Import: "{% import %}",
    nodes.FromImport: "{% from ... import %}",
    nodes.Macro: "{% macro %}",
    nodes.CallBlock: "{% call %}",
    nodes.Block: "{% block %}",
    nodes.Call: "Calling a function or method",
    nodes.Assign: "{% set %}",
    nodes.AssignBlock: "{% set %}",
    nodes.FilterBlock: "{% filter %}",
    nodes.With: "{% with %}",
    nodes.For: "{% for %}",
    nodes.ScopedEvalContextModifier: "{% autoescape %}",
    nodes.EvalContextModifier: "{% autoescape %}",
    nodes.Pow: "The operator **",
    nodes.Scope: "A scope",  # last: it wraps {% autoescape %}, which says more
}

# Markup that runs or fetches something (emails must be self-contained and inert).
_UNSAFE_HTML: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), what)
    for pattern, what in (
        (r"<\s*script", "<script> elements"),
        (r"<\s*(?:iframe|frame|object|embed|applet|base|link|form)\b", "embedded objects"),
        (r"<\s*meta\b[^>]*http-equiv", "<meta http-equiv> elements"),
        (r"[\s/\"']on[a-z]+\s*=", "on...= event attributes"),
        (r"(?:java|vb)script\s*:", "javascript: URLs"),
        (
            r"\b(?:src|srcset|background|poster|lowsrc|dynsrc)\s*=\s*[\"']?\s*(?!data:|cid:)",
            "external resources (sources other than data: and cid:)",
        ),
        (r"url\s*\(\s*[\"']?\s*(?!data:|cid:)", "external resources in CSS url()"),
        (r"@import", "CSS @import rules"),
        (r"expression\s*\(", "CSS expressions"),
    )
)


def _line(source: str, position: int) -> int:
    return source.count("\n", 0, position) + 1


def _refuse(part: Part, line: int | None, message: str) -> InvalidInput:
    return InvalidInput(part.value, f"Line {line}: {message}" if line else message)


def _check_html(source: str) -> None:
    for pattern, what in _UNSAFE_HTML:
        found = pattern.search(source)
        if found is not None:
            raise _refuse(
                Part.EMAIL_HTML,
                _line(source, found.start()),
                f"{found.group(0).strip()!r}: {what} are not allowed in emails.",
            )


def _check_names(part: Part, tree: nodes.Template, allowed: frozenset[str]) -> None:
    for kind_of, what in _FORBIDDEN.items():
        for node in tree.find_all(kind_of):
            raise _refuse(part, node.lineno, f"{what} is not allowed in templates.")
    for filt in tree.find_all(nodes.Filter):
        if filt.name not in FILTER_NAMES:
            raise _refuse(
                part,
                filt.lineno,
                f"The filter {filt.name!r} is not allowed; use {', '.join(sorted(FILTER_NAMES))}.",
            )
    for test in tree.find_all(nodes.Test):
        if test.name not in SAFE_TESTS:
            raise _refuse(
                part,
                test.lineno,
                f"The test {test.name!r} is not allowed; use {', '.join(sorted(SAFE_TESTS))}.",
            )
    for mul in tree.find_all(nodes.Mul):
        if any(
            isinstance(x, nodes.Const) and isinstance(x.value, str) for x in (mul.left, mul.right)
        ):
            raise _refuse(part, mul.lineno, "Multiplying text is not allowed in templates.")
    links = f"links.{', links.'.join(LINKS)}"
    for access in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if isinstance(access, nodes.Getattr):
            target, key = access.node, access.attr
        else:  # a Getitem
            assert isinstance(access, nodes.Getitem)
            target = access.node
            key = str(access.arg.value) if isinstance(access.arg, nodes.Const) else ""
        if not (isinstance(target, nodes.Name) and target.name == "links" and key in LINKS):
            raise _refuse(part, access.lineno, f"Only {links} may be looked up in templates.")
    # Nothing can assign (no set, for, with, macros): every name read must be a variable,
    # including Jinja's own (`self`, `loop`), which templates have no use for.
    unknown = {name.name for name in tree.find_all(nodes.Name)} - allowed
    if unknown:
        raise _refuse(
            part,
            None,
            f"Unknown variable {sorted(unknown)[0]!r}; this kind has {', '.join(sorted(allowed))}.",
        )


def compile_part(part: Part, source: str) -> Template:
    """A part, compiled (no checks: for sources already checked by `check_part`)."""
    env = HTML_ENV if part.html else TEXT_ENV
    return env.from_string(source)


def check_part(kind: NudgeKind, part: Part, source: str) -> Template:
    """The part compiled, or InvalidInput naming it (and the line, where there is one)."""
    if len(source) > MAX_SOURCE[part]:
        raise InvalidInput(part.value, f"At most {MAX_SOURCE[part]} characters.")
    if not source.strip():
        raise InvalidInput(part.value, "Must not be empty.")
    if part.html:
        _check_html(source)
    env = HTML_ENV if part.html else TEXT_ENV
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        raise _refuse(part, exc.lineno, f"{exc.message}") from None
    _check_names(part, tree, variables(kind))
    try:
        return env.from_string(tree)
    except TemplateError as exc:
        raise _refuse(part, getattr(exc, "lineno", None), str(exc)) from None


def render_part(part: Part, template: Template, data: Mapping[str, object], fmt: Formatter) -> str:
    """The part rendered (TemplateError on a value the template cannot show); bounded."""
    try:
        text = template.render({**data, FORMATTER: fmt})
    except (TemplateError, ArithmeticError, ValueError, TypeError) as exc:
        raise TemplateRuntimeError(f"{type(exc).__name__}: {exc}") from None
    text = text if part.html else text.strip()
    if len(text) > MAX_RENDERED[part]:
        raise TemplateRuntimeError(f"rendered to {len(text)} characters, over {MAX_RENDERED[part]}")
    return text


# Parts that must show the member their one-click unsubscribe link, whatever the values:
# the email's footer (both bodies) and the text message (compliance, not taste).
MUST_LINK_UNSUBSCRIBE = frozenset({Part.EMAIL_HTML, Part.EMAIL_TEXT, Part.SMS_TEXT})


def check_render(
    part: Part, template: Template, samples: Iterable[Mapping[str, object]], fmt: Formatter
) -> None:
    """Render with each set of sample values; InvalidInput naming the part if one fails, or
    if a part that must carry the unsubscribe link leaves it out for any of them."""
    for data in samples:
        try:
            text = render_part(part, template, data, fmt)
        except TemplateError as exc:
            raise _refuse(part, None, f"Cannot render with sample values: {exc}") from None
        links = data.get("links")
        link = links.get("unsubscribe") if isinstance(links, Mapping) else None
        if part in MUST_LINK_UNSUBSCRIBE and isinstance(link, str) and link not in text:
            raise _refuse(
                part, None, "Must show {{ links.unsubscribe }}, for every member and value."
            )
