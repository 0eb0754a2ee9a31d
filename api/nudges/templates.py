"""Nudge message templates: rendering a nudge for a member, and the admins' editing and preview.

**What a template may show** (the scheduler fills MessageContext with it):
- `member_name`: the member's name, or None (greet them without it:
  `{% if member_name %}Hi {{ member_name }},{% else %}Hi,{% endif %}`);
- `shop_name`;
- `links`: `links.unsubscribe` (email and SMS: the member's one-click link), `links.shop`,
  `links.action` (where the nudge's button leads, per kind);
- the kind's values (MessageContext.values; templates_model.SAMPLE_VALUES has an example each):
  POINTS_EXPIRING points, expires_on (date), balance; TIER_AT_RISK tier (its name),
  review_on (date), points_needed; REWARD_AFFORDABLE reward (its name), cost, balance;
  CLOSE_TO_NEXT_TIER tier (the next one's name), points_needed; BIRTHDAY bonus_points (0:
  none), balance; WIN_BACK days_inactive, balance; REVIEW_REQUEST order_id, products (SKUs,
  comma-separated), product_count; NPS_SURVEY nothing else. Numbers are ints.

**Filters**, in the member's locale (when Babel has its data; else the template's, else
English) and time zone: `number` (12.345 in German), `money` (a Decimal amount in the
program's currency), `date` (long: "29 mars 2026"), `datetime` (an aware datetime, shown in
the member's zone); and `default`, `upper`, `lower`, `title`, `capitalize`, `length`, `join`,
`e`. Nothing else: the engine's rules are in api/nudges/template_engine.py.

**Which template**: for the nudge's kind and template name, the first of: saved in the
member's locale ("fr-CA"), saved in its language ("fr"), built in for either, saved in
English, built in in English; a name with none of those falls back to the kind's default
name. Rendered.locale says which was used.

**Caching**: a container reads the saved templates of one (kind, name) with one Query and
keeps them CACHE_SECONDS (a save through the container drops its copy at once; other
containers see it within CACHE_SECONDS); compiled templates are kept by their source.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from api import validation as v
from api.auth import Permission, Principal
from api.clock import Clock
from api.config import Config
from api.errors import InvalidInput, MemberNotFound, NotFound
from api.idempotency import Plan, versioned_write
from api.members.model import Channel, Member
from api.members.view import MemberReader
from api.nudges import templates_store as store
from api.nudges.model import MAX_TEMPLATE_NAME, MessageContext, Rendered, Value
from api.nudges.rules_model import NudgeKind
from api.nudges.template_defaults import DEFAULTS
from api.nudges.templates_model import (
    SAMPLE_VALUES,
    NudgeTemplate,
    Part,
    TemplateInput,
    TemplateSlot,
    default_name,
)
from api.program.service import ProgramService
from api.store import reads
from api.store.base import TableItem
from api.store.reads import Snapshot

if TYPE_CHECKING:
    from jinja2 import Template

CACHE_SECONDS = 60
MAX_PER_KIND = 200  # saved templates of one kind (names x locales): one Query lists them
FALLBACK_LOCALE = "en"
_NAME = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_TEMPLATE_NAME}}}")
PARTS: dict[Channel, tuple[Part, ...]] = {
    Channel.EMAIL: (Part.EMAIL_SUBJECT, Part.EMAIL_HTML, Part.EMAIL_TEXT),
    Channel.SMS: (Part.SMS_TEXT,),
    Channel.PUSH: (Part.PUSH_TITLE, Part.PUSH_BODY),
}
# What templates are checked with at save: links as long as real ones, with and without a name.
SAMPLE_LINKS = {
    "unsubscribe": "https://api.example.com/unsubscribe?token=v1.AQEAAAAAbWJyXzAxMjM0NTY3ODlh"
    "YmNkZWYwMTIzNDU2Nzg5YWI.AAAAAAAAAAAAAAAAAAAAAA",
    "shop": "https://shop.example.com",
    "action": "https://shop.example.com/account/rewards?utm_source=loyalty&utm_medium=nudge",
}
SAMPLE_NAMES = (None, "Maximiliane Alexandra Wolkenstein-Trostberg")
SAMPLE_SHOP = "Demo Shop"

ValuesSource = Callable[[Member, NudgeKind], dict[str, Value] | None]


class TemplateRenderError(RuntimeError):
    """A template could not show the values it was given (a value missing or of the wrong
    type): the caller's values break the contract above. Never a member's fault."""


@lru_cache(maxsize=512)
def _compiled(part: Part, source: str) -> Template:
    # Keyed by the source itself: a new version of a template is a new entry.
    from api.nudges.template_engine import compile_part  # noqa: PLC0415 - loads Jinja2

    return compile_part(part, source)


def _language(locale: str) -> str:
    return locale.split("-", 1)[0]


@dataclass
class _Saved:
    at: datetime
    templates: dict[str, NudgeTemplate]  # by locale


class TemplateService:
    def __init__(
        self,
        clock: Clock,
        config: Config,
        program: ProgramService,
        members: MemberReader,
        values_source: ValuesSource | None = None,
    ) -> None:
        self._clock = clock
        self._config = config
        self._program = program
        self._members = members
        self._values_source = values_source
        self._lock = threading.Lock()
        self._saved: dict[tuple[NudgeKind, str], _Saved] = {}

    # Rendering.

    def render(self, name: str, context: MessageContext) -> Rendered:
        """The nudge's message for context.channel, from the template picked by locale
        fallback. TemplateRenderError if the values do not fit the template."""
        template = self._pick(context.kind, name, context.locale)
        return self._render(template, context)

    def _saved_templates(self, kind: NudgeKind, name: str) -> dict[str, NudgeTemplate]:
        now = self._clock.now()
        with self._lock:
            cached = self._saved.get((kind, name))
        if cached is not None and now - cached.at < timedelta(seconds=CACHE_SECONDS):
            return cached.templates
        items = reads.query(
            store.kind_pk(kind),
            TableItem.sk.startswith(store.name_prefix(name)),
            limit=MAX_PER_KIND,
            descending=False,
        )
        found = {t.locale: t for t in store.templates(items) if t.name == name}
        with self._lock:
            self._saved[(kind, name)] = _Saved(now, found)
        return found

    def _forget(self, kind: NudgeKind, name: str) -> None:
        with self._lock:
            self._saved.pop((kind, name), None)

    def _pick(self, kind: NudgeKind, name: str, locale: str) -> NudgeTemplate:
        for candidate in dict.fromkeys((name, default_name(kind))):
            saved = self._saved_templates(kind, candidate)
            chain = (
                saved.get(locale),
                saved.get(_language(locale)),
                DEFAULTS.get((kind, candidate, locale)),
                DEFAULTS.get((kind, candidate, _language(locale))),
                saved.get(FALLBACK_LOCALE),
                DEFAULTS.get((kind, candidate, FALLBACK_LOCALE)),
            )
            for template in chain:
                if template is not None:
                    return template
        raise AssertionError(f"{kind} has no built-in {FALLBACK_LOCALE} template")

    def _render(self, template: NudgeTemplate, context: MessageContext) -> Rendered:
        from jinja2 import TemplateError  # noqa: PLC0415 - loaded with the first message

        from api.nudges.template_engine import formatter, render_part  # noqa: PLC0415

        fmt = formatter((context.locale, template.locale), context.time_zone, context.currency)
        data = {
            **context.values,
            "member_name": context.member_name,
            "shop_name": context.shop_name,
            "links": context.links,
        }
        out: dict[Part, str] = {}
        for part in PARTS[context.channel]:
            try:
                out[part] = render_part(part, _compiled(part, template.source(part)), data, fmt)
            except TemplateError as exc:
                raise TemplateRenderError(
                    f"{template.kind} template {template.name!r} ({template.locale}), "
                    f"{part.value}: {exc}"
                ) from exc
        if context.channel is Channel.EMAIL:
            return Rendered(
                Channel.EMAIL,
                out[Part.EMAIL_TEXT],
                subject=out[Part.EMAIL_SUBJECT],
                html=out[Part.EMAIL_HTML],
                locale=template.locale,
            )
        if context.channel is Channel.SMS:
            return Rendered(Channel.SMS, out[Part.SMS_TEXT], locale=template.locale)
        return Rendered(
            Channel.PUSH, out[Part.PUSH_BODY], subject=out[Part.PUSH_TITLE], locale=template.locale
        )

    # Admins.

    def templates(self, actor: Principal, kind: NudgeKind | None = None) -> list[TemplateSlot]:
        """Every template of a kind (or of all kinds): saved, built in, or both (one Query
        per kind)."""
        actor.require(Permission.MANAGE_NUDGES)
        kinds = list(NudgeKind) if kind is None else [kind]
        saved: dict[tuple[NudgeKind, str, str], NudgeTemplate] = {}
        for k in kinds:
            items = reads.query(
                store.kind_pk(k),
                TableItem.sk.startswith(store.SK_PREFIX),
                limit=MAX_PER_KIND,
                descending=False,
            )
            saved.update({(t.kind, t.name, t.locale): t for t in store.templates(items)})
        keys = {*saved, *(key for key in DEFAULTS if key[0] in kinds)}
        return [
            TemplateSlot(
                k, name, locale, saved.get((k, name, locale)), DEFAULTS.get((k, name, locale))
            )
            for k, name, locale in sorted(keys, key=lambda key: (key[0].priority, key[1], key[2]))
        ]

    def save(self, actor: Principal, data: TemplateInput) -> NudgeTemplate:
        """Checked whole (every part parsed, refused constructs, known variables, rendered
        with the sample values within the size limits), then written under the version the
        admin edited: a save over someone else's newer one is refused, never lost."""
        actor.require(Permission.MANAGE_NUDGES)
        name = _name(data.name)
        locale = v.locale("locale", data.locale)
        if data.version is not None and data.version < 0:
            raise InvalidInput("version", "Must be 0 (a new template) or the version edited.")
        candidate = NudgeTemplate(
            kind=data.kind,
            name=name,
            locale=locale,
            email_subject=data.email_subject,
            email_html=data.email_html,
            email_text=data.email_text,
            sms_text=data.sms_text,
            push_title=data.push_title,
            push_body=data.push_body,
        )
        check(candidate)
        key = store.template_key(data.kind, name, locale)

        def decide(snapshot: Snapshot) -> Plan[NudgeTemplate]:
            item = snapshot.get(key, store.NudgeTemplateItem)
            current = 0 if item is None else item.version
            if data.version is not None and data.version != current:
                raise InvalidInput(
                    "version",
                    f"Version {data.version} is not the saved one: "
                    + (
                        "none is saved (0 saves a new one)."
                        if item is None
                        else f"{item.updated_by} saved version {current} at "
                        f"{item.updated_at.isoformat()}; reload it and apply your changes again."
                    ),
                )
            if item is None and self._count(data.kind) >= MAX_PER_KIND:
                raise InvalidInput("name", f"At most {MAX_PER_KIND} saved templates per kind.")
            written = replace(
                candidate,
                updated_at=self._program.current_time(),
                updated_by=actor.actor,
                version=current,
            )
            return Plan(
                replace(written, version=current + 1),
                changed=[store.to_item(written)],
                on_commit=lambda: self._forget(data.kind, name),
            )

        return versioned_write(self._clock, [key], decide)

    def _count(self, kind: NudgeKind) -> int:
        items = reads.query(
            store.kind_pk(kind),
            TableItem.sk.startswith(store.SK_PREFIX),
            limit=MAX_PER_KIND,
            descending=False,
        )
        return len(items)

    def delete(self, actor: Principal, kind: NudgeKind, name: str, locale: str) -> TemplateSlot:
        """The saved template removed: the built-in one (if any) is used again. NotFound
        where none is saved."""
        actor.require(Permission.MANAGE_NUDGES)
        name = _name(name)
        locale = v.locale("locale", locale)
        key = store.template_key(kind, name, locale)

        def decide(snapshot: Snapshot) -> Plan[TemplateSlot]:
            item = snapshot.get(key, store.NudgeTemplateItem)
            if item is None:
                raise NotFound("saved nudge template")
            return Plan(
                TemplateSlot(kind, name, locale, None, DEFAULTS.get((kind, name, locale))),
                deleted=[item],
                on_commit=lambda: self._forget(kind, name),
            )

        return versioned_write(self._clock, [key], decide)

    def preview(
        self,
        actor: Principal,
        member_id: str,
        kind: NudgeKind,
        channel: Channel,
        *,
        name: str | None = None,
        locale: str | None = None,
    ) -> Rendered:
        """The message a member would get now: their name, locale (or `locale`) and zone,
        with the values source's values for them, else the kind's sample values. Links
        are inert placeholders (a preview never carries a working unsubscribe link)."""
        actor.require(Permission.MANAGE_NUDGES)
        member_id = v.member_ref(member_id, None)
        name = default_name(kind) if name is None else _name(name)
        if locale is not None:
            locale = v.locale("locale", locale)
        view = self._members.view(actor, member_id, None)
        if view is None:
            raise MemberNotFound()
        member = view.member
        values = self._values_source(member, kind) if self._values_source else None
        shop = self._config.shop_url.rstrip("/")
        context = MessageContext(
            kind=kind,
            channel=channel,
            locale=locale or member.locale,
            time_zone=member.time_zone,
            member_name=member.name,
            shop_name=self._config.shop_name,
            currency=self._program.load().accepted_currencies[0],
            values=SAMPLE_VALUES[kind] if values is None else values,
            links={"unsubscribe": f"{shop}/#unsubscribe-preview", "shop": shop, "action": shop},
        )
        try:
            return self.render(name, context)
        except TemplateRenderError as exc:
            raise InvalidInput(
                "name", f"The template cannot show this member's values: {exc}"
            ) from None


def _name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise InvalidInput("name", f"Letters, digits, - and _, 1 to {MAX_TEMPLATE_NAME}.")
    return value


def check(template: NudgeTemplate) -> None:
    """Every part of the template checked and rendered with the sample values (for both a
    named and an anonymous member); InvalidInput naming the first part that fails."""
    from api.nudges.template_engine import check_part, check_render, formatter  # noqa: PLC0415

    fmt = formatter((template.locale,), "Europe/Paris", "EUR")
    samples = [
        {
            **SAMPLE_VALUES[template.kind],
            "member_name": member_name,
            "shop_name": SAMPLE_SHOP,
            "links": SAMPLE_LINKS,
        }
        for member_name in SAMPLE_NAMES
    ]
    for part in Part:
        compiled = check_part(template.kind, part, template.source(part))
        check_render(part, compiled, samples, fmt)
