"""Admin: the program's nudge settings (`nudgeSettings`) and their partial update
(`updateNudgeSettings`). Every kind's trigger is shown with what applies to it, configured or
not, so an admin UI needs no copy of the defaults."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated

import strawberry

from api.members.model import Channel
from api.nudges import model, settings
from api.nudges.rules_model import DEFAULT_STALENESS, NudgeKind
from schema.context import Info
from schema.errors import ConcurrentUpdate, InvalidInput, VersionConflict, mutation

strawberry.enum(
    NudgeKind,
    description="What a nudge is about. Listed in priority order: when frequency caps leave "
    "room for fewer nudges than are due, earlier kinds go first.",
)

_HOUR = timedelta(hours=1)


@strawberry.type(description="A kind's days threshold: what it counts and its range.")
class NudgeDaysThreshold:
    meaning: str
    default: int
    min: int
    max: int


@strawberry.type(description="When one kind of nudge is due, where it goes and with what.")
class NudgeTrigger:
    kind: NudgeKind
    configured: bool = strawberry.field(
        description="false: never set by an admin; everything below is the kind's default."
    )
    enabled: bool
    channels: list[Channel] = strawberry.field(description="In order of preference.")
    days: int | None = strawberry.field(description="As set; null: the kind's default.")
    days_threshold: NudgeDaysThreshold | None = strawberry.field(
        description="null: the kind has no days threshold."
    )
    lead_days: int | None = strawberry.field(
        description="The days threshold that applies (null: the kind has none)."
    )
    percent: Decimal | None = strawberry.field(
        description="CLOSE_TO_NEXT_TIER, as set; null: the default."
    )
    close_percent: Decimal | None = strawberry.field(
        description="CLOSE_TO_NEXT_TIER: within this percent of the next tier's threshold "
        "(the one that applies); null for other kinds."
    )
    bonus_points: int = strawberry.field(description="BIRTHDAY: points given once a year.")
    template: str = strawberry.field(description='As set; "": the kind\'s default template.')
    template_name: str = strawberry.field(description="The template that applies.")

    @classmethod
    def from_domain(cls, config: model.NudgeConfig, kind: NudgeKind) -> NudgeTrigger:
        t = config.trigger(kind)
        spec = model.DAYS[kind]
        close = kind is NudgeKind.CLOSE_TO_NEXT_TIER
        return cls(
            kind=kind,
            configured=any(c.kind is kind for c in config.triggers),
            enabled=t.enabled,
            channels=list(t.channels),
            days=t.days,
            days_threshold=None
            if spec is None
            else NudgeDaysThreshold(meaning=spec[0], default=spec[1], min=spec[2], max=spec[3]),
            lead_days=None if spec is None else t.lead.days,
            percent=t.percent,
            close_percent=t.close_percent if close else None,
            bonus_points=t.bonus_points,
            template=t.template,
            template_name=t.template_name,
        )


@strawberry.type(description="The members' local wall times when nothing is sent.")
class NudgeQuietHours:
    start: str = strawberry.field(description='"HH:MM"; quiet from here...')
    end: str = strawberry.field(description='"HH:MM"; ...to here (wraps midnight if earlier).')


@strawberry.type(description="At most maxCount nudges in any rolling window of windowHours.")
class NudgeFrequencyCap:
    max_count: int
    window_hours: int
    channel: Channel | None = strawberry.field(description="null: all channels together.")


@strawberry.type(description="The control group: never sent anything, to measure lift.")
class NudgeHoldout:
    salt: str = strawberry.field(description="A new salt draws a new group.")
    percent: Decimal = strawberry.field(description="Of members, 0 to 50, 0.01 steps.")


@strawberry.type(description="How long after becoming due a delayed nudge still goes out.")
class NudgeStaleness:
    kind: NudgeKind
    hours: int = strawberry.field(description="What applies.")
    default_hours: int
    overridden: bool


@strawberry.type(description="The program's nudges: triggers, rules and attribution.")
class NudgeSettings:
    triggers: list[NudgeTrigger] = strawberry.field(description="Every kind, in priority order.")
    quiet_hours: NudgeQuietHours
    caps: list[NudgeFrequencyCap]
    holdout: NudgeHoldout
    staleness: list[NudgeStaleness] = strawberry.field(description="Every kind.")
    attribution_days: int = strawberry.field(
        description="An order this many days after a nudge counts as its conversion."
    )
    version: int = strawberry.field(description="0: never saved (the defaults).")
    updated_at: datetime | None

    @classmethod
    def from_domain(cls, config: model.NudgeConfig) -> NudgeSettings:
        rules = config.rules
        overrides = dict(rules.staleness.overrides)
        return cls(
            triggers=[NudgeTrigger.from_domain(config, kind) for kind in NudgeKind],
            quiet_hours=NudgeQuietHours(
                start=rules.quiet.start.strftime("%H:%M"), end=rules.quiet.end.strftime("%H:%M")
            ),
            caps=[
                NudgeFrequencyCap(
                    max_count=c.max_count, window_hours=c.window // _HOUR, channel=c.channel
                )
                for c in rules.caps
            ],
            holdout=NudgeHoldout(salt=rules.holdout.salt, percent=rules.holdout.percent),
            staleness=[
                NudgeStaleness(
                    kind=kind,
                    hours=overrides.get(kind, DEFAULT_STALENESS[kind]) // _HOUR,
                    default_hours=DEFAULT_STALENESS[kind] // _HOUR,
                    overridden=kind in overrides,
                )
                for kind in NudgeKind
            ],
            attribution_days=config.attribution.days,
            version=config.version,
            updated_at=config.updated_at,
        )


@strawberry.input(description="One kind's trigger, whole: it replaces what that kind had.")
class NudgeTriggerInput:
    kind: NudgeKind
    enabled: bool = True
    channels: list[Channel] = strawberry.field(
        default_factory=lambda: [Channel.EMAIL, Channel.PUSH],
        description="One to three distinct channels, in order of preference.",
    )
    days: int | None = strawberry.field(
        default=None, description="The kind's days threshold (see daysThreshold); null: default."
    )
    percent: Decimal | None = strawberry.field(
        default=None, description="CLOSE_TO_NEXT_TIER only: above 0, at most 50, 1 decimal."
    )
    bonus_points: int = strawberry.field(default=0, description="BIRTHDAY only.")
    template: str = strawberry.field(
        default="", description='Letters, digits, - and _; "": the kind\'s default.'
    )

    def to_domain(self) -> settings.TriggerChange:
        return settings.TriggerChange(
            kind=self.kind,
            enabled=self.enabled,
            channels=tuple(self.channels),
            days=self.days,
            percent=self.percent,
            bonus_points=self.bonus_points,
            template=self.template,
        )


@strawberry.input(description='Local wall times "HH:MM" (24-hour); start and end differ.')
class NudgeQuietHoursInput:
    start: str
    end: str


@strawberry.input
class NudgeFrequencyCapInput:
    max_count: int = strawberry.field(description="1 to 100.")
    window_hours: int = strawberry.field(description="1 to 8760 (365 days).")
    channel: Channel | None = strawberry.field(
        default=None, description="null: all channels together."
    )


@strawberry.input(description="Omitted fields stay as they are.")
class NudgeHoldoutInput:
    salt: str | None = strawberry.field(default=None, description="1 to 128 characters.")
    percent: Decimal | None = strawberry.field(default=None, description="0 to 50, 0.01 steps.")


@strawberry.input
class NudgeStalenessInput:
    kind: NudgeKind
    hours: int | None = strawberry.field(description="1 to 720; null: back to the default.")


@strawberry.input(description="Omitted fields stay as they are.")
class NudgeSettingsInput:
    expected_version: int | None = strawberry.field(
        default=None,
        description="The version the edit was made from (0: the defaults); another saved "
        "meanwhile gives VersionConflict. null: save regardless.",
    )
    triggers: list[NudgeTriggerInput] | None = strawberry.field(
        default=None, description="Each replaces its kind's trigger; other kinds stay."
    )
    quiet_hours: NudgeQuietHoursInput | None = None
    caps: list[NudgeFrequencyCapInput] | None = strawberry.field(
        default=None, description="The whole list, at most 10 ([]: no caps)."
    )
    holdout: NudgeHoldoutInput | None = None
    staleness: list[NudgeStalenessInput] | None = strawberry.field(
        default=None, description="Per kind given; other kinds stay."
    )
    attribution_days: int | None = strawberry.field(default=None, description="1 to 90.")

    def to_domain(self) -> settings.NudgeConfigChange:
        holdout = self.holdout or NudgeHoldoutInput()
        return settings.NudgeConfigChange(
            triggers=tuple(t.to_domain() for t in self.triggers or ()),
            quiet_hours=None
            if self.quiet_hours is None
            else (self.quiet_hours.start, self.quiet_hours.end),
            caps=None
            if self.caps is None
            else tuple(
                settings.CapChange(c.max_count, c.window_hours, c.channel) for c in self.caps
            ),
            holdout_salt=holdout.salt,
            holdout_percent=holdout.percent,
            staleness_hours=tuple((s.kind, s.hours) for s in self.staleness or ()),
            attribution_days=self.attribution_days,
        )


@strawberry.type
class NudgeSettingsUpdated:
    settings: NudgeSettings


UpdateNudgeSettingsResult = Annotated[
    NudgeSettingsUpdated | InvalidInput | VersionConflict | ConcurrentUpdate,
    strawberry.union("UpdateNudgeSettingsResult"),
]


@strawberry.type
class NudgeSettingsQuery:
    @strawberry.field(description="Admin: the program's nudge settings, defaults included.")
    def nudge_settings(self, info: Info) -> NudgeSettings:
        ctx = info.context
        return NudgeSettings.from_domain(ctx.services.nudge_config.read(ctx.principal))


@strawberry.type
class NudgeSettingsMutation:
    @mutation(
        "Admin: change the nudge settings; only what the input names changes. Jobs see it "
        "within a minute."
    )
    def update_nudge_settings(
        self, info: Info, input: NudgeSettingsInput
    ) -> UpdateNudgeSettingsResult:
        ctx = info.context
        saved = ctx.services.nudge_config.update(
            ctx.principal, input.to_domain(), input.expected_version
        )
        return NudgeSettingsUpdated(settings=NudgeSettings.from_domain(saved))
