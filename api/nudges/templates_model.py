"""Nudge message templates, the data: one template per (kind, name, locale), its six parts
and their size limits, and what each kind's template may show. Dataclasses only; the engine
(api/nudges/template_engine.py) checks and renders them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from api.nudges.model import Value
from api.nudges.rules_model import NudgeKind


class Part(StrEnum):
    """A template's parts; the value is the GraphQL field an error names."""

    EMAIL_SUBJECT = "emailSubject"
    EMAIL_HTML = "emailHtml"
    EMAIL_TEXT = "emailText"
    SMS_TEXT = "smsText"
    PUSH_TITLE = "pushTitle"
    PUSH_BODY = "pushBody"

    @property
    def html(self) -> bool:
        """Autoescaped: the only part a mail client renders as HTML."""
        return self is Part.EMAIL_HTML


# Source sizes (characters), bounded so that saving and compiling stay cheap.
MAX_SOURCE: dict[Part, int] = {
    Part.EMAIL_SUBJECT: 500,
    Part.EMAIL_HTML: 50_000,
    Part.EMAIL_TEXT: 10_000,
    Part.SMS_TEXT: 2_000,
    Part.PUSH_TITLE: 500,
    Part.PUSH_BODY: 2_000,
}
# Rendered sizes, checked at save with the sample values: SMS is 4 concatenated GSM segments
# at most (4 x 160), push what the platforms show without truncating.
MAX_RENDERED: dict[Part, int] = {
    Part.EMAIL_SUBJECT: 200,
    Part.EMAIL_HTML: 100_000,
    Part.EMAIL_TEXT: 20_000,
    Part.SMS_TEXT: 640,
    Part.PUSH_TITLE: 100,
    Part.PUSH_BODY: 300,
}

# Every template may show these (see api/nudges/templates.py for the whole contract).
COMMON_VARIABLES = frozenset({"member_name", "shop_name", "links"})
LINKS = ("unsubscribe", "shop", "action")

# Per kind, the values MessageContext.values carries and a sample of each: what templates are
# checked with at save, and what a preview shows when no real values are at hand.
SAMPLE_VALUES: dict[NudgeKind, dict[str, Value]] = {
    NudgeKind.POINTS_EXPIRING: {
        "points": 12345,
        "expires_on": date(2026, 3, 29),
        "balance": 20480,
    },
    NudgeKind.TIER_AT_RISK: {"tier": "Gold", "review_on": date(2026, 3, 29), "points_needed": 850},
    NudgeKind.REWARD_AFFORDABLE: {"reward": "Free shipping", "cost": 1500, "balance": 1620},
    NudgeKind.CLOSE_TO_NEXT_TIER: {"tier": "Platinum", "points_needed": 300},
    NudgeKind.BIRTHDAY: {"bonus_points": 500, "balance": 2500},
    NudgeKind.WIN_BACK: {"days_inactive": 90, "balance": 1200},
    NudgeKind.REVIEW_REQUEST: {
        "order_id": "o-1001",
        "products": "sku-tea, sku-mug",
        "product_count": 2,
    },
    NudgeKind.NPS_SURVEY: {},
}


def variables(kind: NudgeKind) -> frozenset[str]:
    """The names a template of this kind may use."""
    return COMMON_VARIABLES | SAMPLE_VALUES[kind].keys()


def default_name(kind: NudgeKind) -> str:
    """The template a trigger uses unless it names another (Trigger.template_name)."""
    return kind.lower().replace("_", "-")


@dataclass(frozen=True)
class NudgeTemplate:
    """One template. `version` 0 is a built-in default (never saved); a saved one overrides
    the default of the same kind, name and locale."""

    kind: NudgeKind
    name: str
    locale: str  # BCP 47: "fr", "fr-CA"
    email_subject: str
    email_html: str
    email_text: str
    sms_text: str
    push_title: str
    push_body: str
    updated_at: datetime | None = None
    updated_by: str | None = None  # the admin (Principal.actor)
    version: int = 0

    @property
    def builtin(self) -> bool:
        return self.version == 0

    def source(self, part: Part) -> str:
        return {
            Part.EMAIL_SUBJECT: self.email_subject,
            Part.EMAIL_HTML: self.email_html,
            Part.EMAIL_TEXT: self.email_text,
            Part.SMS_TEXT: self.sms_text,
            Part.PUSH_TITLE: self.push_title,
            Part.PUSH_BODY: self.push_body,
        }[part]


@dataclass(frozen=True)
class TemplateInput:
    """An admin's template. `version`: the one they edited (0 or None for a new one); a
    save over a newer version is refused rather than losing someone else's edit."""

    kind: NudgeKind
    name: str
    locale: str
    email_subject: str
    email_html: str
    email_text: str
    sms_text: str
    push_title: str
    push_body: str
    version: int | None = None


@dataclass(frozen=True)
class TemplateSlot:
    """One (kind, name, locale) as admins list it: the saved template, the built-in one, or
    both (the saved one is used)."""

    kind: NudgeKind
    name: str
    locale: str
    saved: NudgeTemplate | None
    default: NudgeTemplate | None
