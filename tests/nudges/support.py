"""Nudge test helpers: a settable configuration, a queue that keeps what it is given, the
scheduler wired to the services, and the table's stream dispatched as Lambda would."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from api.clock import ManualClock
from api.members.model import Channel, ConsentInput, EnrollInput
from api.nudges import store
from api.nudges.channels import AwsChannels
from api.nudges.model import NudgeConfig, NudgeRecord, Trigger
from api.nudges.queue import Message
from api.nudges.rules_model import NudgeKind
from api.nudges.scheduler import ConfigSource, NudgeScheduler
from api.points.model import OrderInput, OrderLine
from api.rewards.admin import RewardCatalog
from api.services import Services
from api.stream import change_from_record
from local.stream import TableStream
from tests.support import SERVICE


@dataclass
class Configs:
    config: NudgeConfig = field(default_factory=NudgeConfig)

    def get(self) -> NudgeConfig:
        return self.config


@dataclass
class KeptQueue:
    sent: list[Message] = field(default_factory=list)

    def send(self, messages: Sequence[Message]) -> None:
        self.sent.extend(messages)


def scheduler(services: Services, configs: ConfigSource, queue: KeptQueue | None) -> NudgeScheduler:
    """The services' scheduler but for its configuration and queue, which tests choose."""
    return NudgeScheduler(
        clock=services.clock,
        program=services.program,
        configs=configs,
        tiers=services.tiers,
        rewards=RewardCatalog(services.clock),
        reviews=services.reviews,
        surveys=services.surveys,
        queue=queue,
    )


def flush(stream: TableStream, services: Services, times: int = 1) -> int:
    """Dispatch every new stream record (each `times` times: redeliveries), until the
    reactions' own writes have been delivered too. Returns how many records were read."""
    seen = 0
    while records := stream.read():
        seen += len(records)
        for record in records:
            for _ in range(times):
                services.reactions.dispatch(change_from_record(record))
    return seen


def enroll(
    services: Services,
    customer_id: str = "cust-1",
    *,
    consents: Sequence[Channel] = (Channel.EMAIL,),
    time_zone: str = "Europe/Paris",
    birthday: date | None = None,
    locale: str = "fr-FR",
) -> str:
    given = [ConsentInput(c, True, "checkout") for c in consents]
    data = EnrollInput(
        customer_id,
        time_zone,
        locale,
        email=f"{customer_id}@example.com",
        phone="+33612345678",
        name="Ann <b>",
        birthday=birthday,
        consents=given,
    )
    return services.members.enroll(SERVICE, data).id


def ses_of(nudges: Nudges) -> Any:
    channels = nudges.services.channels
    assert isinstance(channels, AwsChannels)
    return channels.ses


def records(member_id: str) -> list[NudgeRecord]:
    return store.history(member_id)


def by_kind(member_id: str) -> dict[str, NudgeRecord]:
    return {f"{r.kind}#{r.subject}": r for r in records(member_id)}


def raw_records() -> list[dict[str, Any]]:
    return [i.attribute_values for i in store.NudgeItem.scan()]


@dataclass
class Nudges:
    services: Services
    configs: Configs
    queue: KeptQueue
    scheduler: NudgeScheduler
    stream: TableStream

    def configure(self, *triggers: Trigger | NudgeKind, **rules: Any) -> None:
        """Only these triggers on (a kind alone: its defaults); the others off."""
        on = {t.kind: t for t in (Trigger(x) if isinstance(x, NudgeKind) else x for x in triggers)}
        every = tuple(on.get(kind, Trigger(kind, enabled=False)) for kind in NudgeKind)
        base = self.configs.config
        settings = replace(base.rules, **rules) if rules else base.rules
        self.configs.config = replace(base, triggers=every, rules=settings)

    @property
    def clock(self) -> ManualClock:
        clock = self.services.clock
        assert isinstance(clock, ManualClock)
        return clock

    def run(self, after: timedelta = timedelta(0), times: int = 1) -> Any:
        if after:
            self.clock.advance(after)
        flush(self.stream, self.services, times)
        report = self.scheduler.run()
        flush(self.stream, self.services, times)
        return report

    def order(
        self, order_id: str, amount: str, *, customer: str = "cust-1", skus: tuple[str, ...] = ()
    ) -> None:
        self.services.orders.record_order(
            SERVICE,
            OrderInput(
                order_id=order_id,
                customer_id=customer,
                total_amount=Decimal(amount),
                currency="EUR",
                placed_at=self.services.clock.now(),
                lines=[OrderLine(sku, 1, Decimal(amount) / len(skus)) for sku in skus],
            ),
        )
