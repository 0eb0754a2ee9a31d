"""The program item: settings and the test clock offset, one item."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)

from api.program.model import (
    EarningRule,
    NegativeBalancePolicy,
    ProgramSettings,
    ReferralSettings,
    Rounding,
    SurveySettings,
)
from api.store.base import IntegerAttribute, JSONAttribute, Key, TableItem
from api.store.reads import Snapshot

SETTINGS_KEY: Key = ("PROGRAM", "SETTINGS")


class ProgramItem(TableItem, discriminator="program"):
    points_per_unit = UnicodeAttribute()
    rounding = UnicodeAttribute()
    min_points = IntegerAttribute()
    max_points = IntegerAttribute(null=True)
    currencies = UnicodeSetAttribute()
    return_window_days = IntegerAttribute()
    lot_validity_days = IntegerAttribute(null=True)
    negative_balance = UnicodeAttribute()
    reservation_minutes = IntegerAttribute(default=30)
    refund_returns_promotions = BooleanAttribute(default=True)
    referrals = JSONAttribute(null=True)  # absent: ReferralSettings' defaults
    reward_cancel_hours = IntegerAttribute(default=24)
    review_reward_points = IntegerAttribute(default=0)
    review_reward_verified_only = BooleanAttribute(default=False)
    surveys = JSONAttribute(null=True)  # absent: SurveySettings' defaults
    clock_offset_seconds = IntegerAttribute(default=0)
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()


def settings_from_item(item: ProgramItem | None) -> ProgramSettings:
    if item is None:
        return ProgramSettings()
    return ProgramSettings(
        earning_rule=EarningRule(
            points_per_unit=Decimal(item.points_per_unit),
            rounding=Rounding(item.rounding),
            min_points_per_order=item.min_points,
            max_points_per_order=None if item.max_points is None else item.max_points,
        ),
        accepted_currencies=tuple(sorted(item.currencies)),
        return_window_days=item.return_window_days,
        lot_validity_days=None if item.lot_validity_days is None else item.lot_validity_days,
        negative_balance_policy=NegativeBalancePolicy(item.negative_balance),
        reservation_minutes=item.reservation_minutes,
        refund_returns_promotions=item.refund_returns_promotions,
        referrals=ReferralSettings() if item.referrals is None else _referrals(item.referrals),
        reward_cancel_hours=item.reward_cancel_hours,
        review_reward_points=item.review_reward_points,
        review_reward_verified_only=item.review_reward_verified_only,
        surveys=SurveySettings() if item.surveys is None else SurveySettings(**item.surveys),
        clock_offset=timedelta(seconds=item.clock_offset_seconds),
        updated_at=item.updated_at,
        version=item.version,
    )


def settings_to_item(settings: ProgramSettings, now: datetime) -> ProgramItem:
    rule = settings.earning_rule
    item = ProgramItem(
        *SETTINGS_KEY,
        points_per_unit=str(rule.points_per_unit),
        rounding=rule.rounding.value,
        min_points=rule.min_points_per_order,
        max_points=rule.max_points_per_order,
        currencies=set(settings.accepted_currencies),
        return_window_days=settings.return_window_days,
        lot_validity_days=settings.lot_validity_days,
        negative_balance=settings.negative_balance_policy.value,
        reservation_minutes=settings.reservation_minutes,
        refund_returns_promotions=settings.refund_returns_promotions,
        referrals=_referrals_json(settings.referrals),
        reward_cancel_hours=settings.reward_cancel_hours,
        review_reward_points=settings.review_reward_points,
        review_reward_verified_only=settings.review_reward_verified_only,
        surveys=asdict(settings.surveys),
        clock_offset_seconds=int(settings.clock_offset.total_seconds()),
        updated_at=now,
    )
    if settings.version is not None:  # a first save: PynamoDB then expects no item yet
        item.version = settings.version
    return item


def _referrals(data: dict[str, Any]) -> ReferralSettings:
    return ReferralSettings(
        enabled=data["enabled"],
        referrer_points=data["referrer_points"],
        monthly_cap=data["monthly_cap"],
        welcome_promotion_id=data["welcome_promotion_id"],
        welcome_validity_days=data["welcome_validity_days"],
        link_format=data["link_format"],
    )


def _referrals_json(r: ReferralSettings) -> dict[str, Any]:
    return {
        "enabled": r.enabled,
        "referrer_points": r.referrer_points,
        "monthly_cap": r.monthly_cap,
        "welcome_promotion_id": r.welcome_promotion_id,
        "welcome_validity_days": r.welcome_validity_days,
        "link_format": r.link_format,
    }


def settings(snapshot: Snapshot) -> ProgramSettings:
    """The settings in a snapshot that read SETTINGS_KEY (the defaults if never saved)."""
    return settings_from_item(snapshot.get(SETTINGS_KEY, ProgramItem))
