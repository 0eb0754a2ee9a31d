"""The `nudges` fixture: the scheduler on the services' table, a settable configuration
that the stream's reactions read too, a queue that keeps what it is given; and `sent`:
what the sender asked SES to send."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from api.nudges.model import NudgeConfig
from api.nudges.rules_model import Holdout, NudgeKind, NudgeSettings
from api.program.model import SettingsChange
from api.services import Services
from local.stream import TableStream
from tests.nudges.support import Configs, KeptQueue, Nudges, scheduler, ses_of
from tests.support import ADMIN


@pytest.fixture
def nudges(services: Services, dynamodb_client: Any) -> Nudges:
    # Lots active at once and valid 30 days: expiries come within a test's reach.
    services.program.update(ADMIN, SettingsChange(return_window_days=0, lot_validity_days=30))
    configs = Configs(NudgeConfig(rules=NudgeSettings(Holdout("t", Decimal(0)))))
    # The services' reactions read the services' configuration: these tests set their own.
    services.nudge_config.get = configs.get  # type: ignore[method-assign]
    queue = KeptQueue()
    found = Nudges(
        services,
        configs,
        queue,
        scheduler(services, configs, queue),
        TableStream(dynamodb_client, services.config.table_name),
    )
    found.configure(NudgeKind.POINTS_EXPIRING)
    return found


@pytest.fixture
def sent(nudges: Nudges) -> Iterator[list[dict[str, Any]]]:
    """What the sender asked SES to send (moto keeps less: no headers, one body)."""
    ses = ses_of(nudges)
    ses.create_email_identity(EmailIdentity="no-reply@example.com")
    seen: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        seen.append(params)

    ses.meta.events.register("before-parameter-build.sesv2.SendEmail", record)
    yield seen
    ses.meta.events.unregister("before-parameter-build.sesv2.SendEmail", record)
