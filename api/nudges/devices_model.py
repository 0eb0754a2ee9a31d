"""A member's push device, as the sender and the API see it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from api.nudges.channels import Platform


@dataclass(frozen=True)
class Device:
    id: str  # the token's id (a hash: the token itself stays in SNS)
    platform: Platform
    endpoint_arn: str  # SNS's platform endpoint: where the sender publishes
    registered_at: datetime  # the last registration (apps register at each start)
