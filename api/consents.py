"""Consent to be contacted, per channel: whether, when and where it was given."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Channel(StrEnum):
    EMAIL = "EMAIL"
    SMS = "SMS"
    PUSH = "PUSH"


@dataclass(frozen=True)
class Consent:
    channel: Channel
    granted: bool
    updated_at: datetime  # when it was given or withdrawn
    source: str  # where: "checkout", "signup-form", "app-settings"...
