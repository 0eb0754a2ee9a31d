"""Saved nudge templates and their mapping both ways.

| item           | pk               | sk               |
| -------------- | ---------------- | ---------------- |
| nudge template | NUDGETPL#<KIND>  | T#<name>#<locale> |

One Query per kind (`sk BEGINS_WITH T#`) lists them (admins); one Query with
`sk BEGINS_WITH T#<name>#` reads every locale of one template (rendering: names never
contain '#'). Built-in templates are code
(api/nudges/template_defaults.py), never items.
"""

from __future__ import annotations

from collections.abc import Iterable

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute

from api.nudges.rules_model import NudgeKind
from api.nudges.templates_model import NudgeTemplate
from api.store.base import Key, TableItem

PREFIX = "NUDGETPL#"
SK_PREFIX = "T#"


def kind_pk(kind: NudgeKind) -> str:
    return f"{PREFIX}{kind.value}"


def name_prefix(name: str) -> str:
    return f"{SK_PREFIX}{name}#"


def template_key(kind: NudgeKind, name: str, locale: str) -> Key:
    return (kind_pk(kind), f"{name_prefix(name)}{locale}")


class NudgeTemplateItem(TableItem, discriminator="nudge_template"):
    kind = UnicodeAttribute()
    name = UnicodeAttribute()
    locale = UnicodeAttribute()
    email_subject = UnicodeAttribute()
    email_html = UnicodeAttribute()
    email_text = UnicodeAttribute()
    sms_text = UnicodeAttribute()
    push_title = UnicodeAttribute()
    push_body = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute()
    updated_by = UnicodeAttribute()
    version = VersionAttribute()


def from_item(item: NudgeTemplateItem) -> NudgeTemplate:
    return NudgeTemplate(
        kind=NudgeKind(item.kind),
        name=item.name,
        locale=item.locale,
        email_subject=item.email_subject,
        email_html=item.email_html,
        email_text=item.email_text,
        sms_text=item.sms_text,
        push_title=item.push_title,
        push_body=item.push_body,
        updated_at=item.updated_at,
        updated_by=item.updated_by,
        version=item.version,
    )


def to_item(template: NudgeTemplate) -> NudgeTemplateItem:
    """The item to write: a template of version 0 is a new one (PynamoDB then writes it only
    where none exists); any other is written only over that version."""
    assert template.updated_at is not None
    assert template.updated_by is not None
    item = NudgeTemplateItem(
        *template_key(template.kind, template.name, template.locale),
        kind=template.kind.value,
        name=template.name,
        locale=template.locale,
        email_subject=template.email_subject,
        email_html=template.email_html,
        email_text=template.email_text,
        sms_text=template.sms_text,
        push_title=template.push_title,
        push_body=template.push_body,
        updated_at=template.updated_at,
        updated_by=template.updated_by,
    )
    if template.version:
        item.version = template.version
    return item


def templates(items: Iterable[TableItem]) -> list[NudgeTemplate]:
    return [from_item(i) for i in items if isinstance(i, NudgeTemplateItem)]
