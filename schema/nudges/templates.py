"""Admins: nudge message templates (list, save, delete) and a preview for any member. The
variables, filters and fallback are described in api/nudges/templates.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from api.members.model import Channel
from api.nudges import templates_model as model
from api.nudges.model import Rendered
from api.nudges.rules_model import NudgeKind
from schema.context import Info
from schema.errors import ConcurrentUpdate, InvalidInput, NotFound, mutation
from schema.nudges import settings as _  # noqa: F401 - names NudgeKind first


@strawberry.type(name="NudgeTemplate", description="A template: built in (version 0) or saved.")
class NudgeTemplateType:
    kind: NudgeKind
    name: str
    locale: str
    email_subject: str
    email_html: str
    email_text: str
    sms_text: str
    push_title: str
    push_body: str
    updated_at: datetime | None
    updated_by: str | None
    version: int
    builtin: bool

    @classmethod
    def from_domain(cls, t: model.NudgeTemplate) -> NudgeTemplateType:
        return cls(
            kind=t.kind,
            name=t.name,
            locale=t.locale,
            email_subject=t.email_subject,
            email_html=t.email_html,
            email_text=t.email_text,
            sms_text=t.sms_text,
            push_title=t.push_title,
            push_body=t.push_body,
            updated_at=t.updated_at,
            updated_by=t.updated_by,
            version=t.version,
            builtin=t.builtin,
        )


@strawberry.type(description="One kind, name and locale: the saved template is used if any.")
class NudgeTemplateSlot:
    kind: NudgeKind
    name: str
    locale: str
    saved: NudgeTemplateType | None
    default: NudgeTemplateType | None

    @classmethod
    def from_domain(cls, s: model.TemplateSlot) -> NudgeTemplateSlot:
        return cls(
            kind=s.kind,
            name=s.name,
            locale=s.locale,
            saved=None if s.saved is None else NudgeTemplateType.from_domain(s.saved),
            default=None if s.default is None else NudgeTemplateType.from_domain(s.default),
        )


@strawberry.type(description="A message as the member would get it.")
class NudgePreview:
    channel: Channel
    subject: str | None = strawberry.field(description="Email: the subject; push: the title.")
    html: str | None = strawberry.field(description="Email only.")
    text: str
    locale: str = strawberry.field(description="The template's locale used, after fallback.")

    @classmethod
    def from_domain(cls, r: Rendered) -> NudgePreview:
        return cls(channel=r.channel, subject=r.subject, html=r.html, text=r.text, locale=r.locale)


@strawberry.input(description="A template to save; `version` is the one edited (0: new).")
class NudgeTemplateInput:
    kind: NudgeKind
    name: str = strawberry.field(description="Letters, digits, - and _ (a trigger's template).")
    locale: str = strawberry.field(description="BCP 47: en, fr, fr-CA.")
    email_subject: str
    email_html: str
    email_text: str
    sms_text: str
    push_title: str
    push_body: str
    version: int | None = strawberry.field(
        default=None, description="The version edited: a newer one saved meanwhile is refused."
    )

    def to_domain(self) -> model.TemplateInput:
        return model.TemplateInput(
            kind=self.kind,
            name=self.name,
            locale=self.locale,
            email_subject=self.email_subject,
            email_html=self.email_html,
            email_text=self.email_text,
            sms_text=self.sms_text,
            push_title=self.push_title,
            push_body=self.push_body,
            version=self.version,
        )


@strawberry.type
class NudgeTemplateSaved:
    template: NudgeTemplateType


@strawberry.type
class NudgeTemplateDeleted:
    slot: NudgeTemplateSlot


SaveNudgeTemplateResult = Annotated[
    NudgeTemplateSaved | InvalidInput | ConcurrentUpdate,
    strawberry.union("SaveNudgeTemplateResult"),
]
DeleteNudgeTemplateResult = Annotated[
    NudgeTemplateDeleted | InvalidInput | NotFound | ConcurrentUpdate,
    strawberry.union("DeleteNudgeTemplateResult"),
]


@strawberry.type
class NudgeTemplateQuery:
    @strawberry.field(
        description="Admin: the templates of a kind (or of every kind): saved, built in, or both."
    )
    def nudge_templates(self, info: Info, kind: NudgeKind | None = None) -> list[NudgeTemplateSlot]:
        ctx = info.context
        return [
            NudgeTemplateSlot.from_domain(s)
            for s in ctx.services.templates.templates(ctx.principal, kind)
        ]

    @strawberry.field(
        description="Admin: a nudge as a member would get it now (their name, locale and time "
        "zone; sample values where no real ones are at hand). `name`: the template (default: "
        "the kind's); `locale`: instead of the member's. Links are inert placeholders."
    )
    def nudge_preview(  # noqa: PLR0917 - GraphQL arguments
        self,
        info: Info,
        member_id: strawberry.ID,
        kind: NudgeKind,
        channel: Channel,
        name: str | None = None,
        locale: str | None = None,
    ) -> NudgePreview:
        ctx = info.context
        rendered = ctx.services.templates.preview(
            ctx.principal, member_id, kind, channel, name=name, locale=locale
        )
        return NudgePreview.from_domain(rendered)


@strawberry.type
class NudgeTemplateMutation:
    @mutation(
        "Admin: save a template (checked whole: syntax, allowed constructs and variables, safe "
        "HTML, rendered sizes); it replaces the built-in one of that kind, name and locale."
    )
    def save_nudge_template(self, info: Info, input: NudgeTemplateInput) -> SaveNudgeTemplateResult:
        ctx = info.context
        saved = ctx.services.templates.save(ctx.principal, input.to_domain())
        return NudgeTemplateSaved(template=NudgeTemplateType.from_domain(saved))

    @mutation("Admin: delete a saved template; the built-in one (if any) is used again.")
    def delete_nudge_template(
        self, info: Info, kind: NudgeKind, name: str, locale: str
    ) -> DeleteNudgeTemplateResult:
        ctx = info.context
        slot = ctx.services.templates.delete(ctx.principal, kind, name, locale)
        return NudgeTemplateDeleted(slot=NudgeTemplateSlot.from_domain(slot))
