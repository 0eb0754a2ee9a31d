"""An email address nothing is sent to any more, and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class SuppressionReason(StrEnum):
    HARD_BOUNCE = "HARD_BOUNCE"  # a permanent bounce: the address does not exist
    COMPLAINT = "COMPLAINT"  # the recipient marked a message as spam


@dataclass(frozen=True)
class Suppression:
    address: str  # lower case
    reason: SuppressionReason
    at: datetime
