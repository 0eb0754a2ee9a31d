"""Program settings: the earning rule, currencies, windows and policies. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from urllib.parse import urlsplit

from api.errors import InvalidInput
from api.money import ISO_CURRENCIES, Money
from api.validation import MAX_POINTS


class Rounding(StrEnum):
    DOWN = "DOWN"
    UP = "UP"
    NEAREST = "NEAREST"  # halves round up


_DECIMAL_ROUNDING = {
    Rounding.DOWN: ROUND_FLOOR,
    Rounding.UP: ROUND_CEILING,
    Rounding.NEAREST: ROUND_HALF_UP,
}


class NegativeBalancePolicy(StrEnum):
    ALLOW_NEGATIVE = "ALLOW_NEGATIVE"  # a clawback of spent points leaves a debt
    STOP_AT_ZERO = "STOP_AT_ZERO"  # the clawback stops at zero; the shortfall is recorded


@dataclass(frozen=True)
class EarningRule:
    points_per_unit: Decimal = Decimal(1)
    rounding: Rounding = Rounding.DOWN
    min_points_per_order: int = 0  # orders that would earn fewer points earn none
    max_points_per_order: int | None = None

    def points_for(self, total: Money) -> int:
        raw = (total.amount * self.points_per_unit).to_integral_value(
            _DECIMAL_ROUNDING[self.rounding]
        )
        points = int(raw)
        if points < self.min_points_per_order:
            return 0
        if self.max_points_per_order is not None:
            points = min(points, self.max_points_per_order)
        if points > MAX_POINTS:
            raise InvalidInput(
                "total.amount",
                f"This order would earn more than {MAX_POINTS} points; check the amount.",
            )
        return points


# The link members share: https, a fixed host, and only characters a URL may carry as they
# are (RFC 3986: no quotes, angle brackets, backslashes or braces; {code} aside).
_LINK = re.compile(r"https://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
MAX_LINK = 500


@dataclass(frozen=True)
class ReferralSettings:
    """Referrals (api/referrals/): off until an admin turns them on."""

    enabled: bool = False
    referrer_points: int = 100  # credited when the referee's first order outlives its window
    monthly_cap: int = 10  # accepted referrals per referrer per calendar month (UTC)
    welcome_promotion_id: str | None = None  # a CODE promotion: the referee's welcome code
    welcome_validity_days: int = 30
    link_format: str = "https://shop.example/r/{code}"

    def link(self, code: str) -> str:
        return self.link_format.replace("{code}", code)


@dataclass(frozen=True)
class ReferralChange:
    """A partial update of the referral settings: None leaves a setting as it is."""

    enabled: bool | None = None
    referrer_points: int | None = None
    monthly_cap: int | None = None
    welcome_promotion_id: str | None = None
    clear_welcome_promotion: bool = False
    welcome_validity_days: int | None = None
    link_format: str | None = None


@dataclass(frozen=True)
class SurveySettings:
    """Surveys and their closed loop (api/feedback/): how often members are asked, how many,
    and how soon an unhappy answer is followed up."""

    recontact_days: int = 90  # a member is asked NPS at most once in this many days
    nps_sample_percent: int = 100  # of members otherwise due, the share asked NPS
    csat_sample_percent: int = 100  # of orders and support contacts, the share asked CSAT
    follow_up_hours: int = 48  # a detractor's or an unhappy CSAT's follow-up is due in this


@dataclass(frozen=True)
class SurveyChange:
    """A partial update of the survey settings: None leaves a setting as it is."""

    recontact_days: int | None = None
    nps_sample_percent: int | None = None
    csat_sample_percent: int | None = None
    follow_up_hours: int | None = None


@dataclass(frozen=True)
class ProgramSettings:
    earning_rule: EarningRule = field(default_factory=EarningRule)
    accepted_currencies: tuple[str, ...] = ("EUR", "USD")
    return_window_days: int = 14
    lot_validity_days: int | None = 365
    negative_balance_policy: NegativeBalancePolicy = NegativeBalancePolicy.ALLOW_NEGATIVE
    reservation_minutes: int = 30  # a checkout reservation holds its promotions this long
    refund_returns_promotions: bool = True  # a full refund gives back uses and budget
    referrals: ReferralSettings = field(default_factory=ReferralSettings)
    reward_cancel_hours: int = 24  # a member may cancel an unused reward this long
    review_reward_points: int = 0  # for a member's first approved review of a product; 0: off
    review_reward_verified_only: bool = False  # only verified reviews earn it
    surveys: SurveySettings = field(default_factory=SurveySettings)
    clock_offset: timedelta = timedelta(0)
    updated_at: datetime | None = None
    version: int | None = None  # None: never saved, the defaults apply

    @property
    def return_window(self) -> timedelta:
        return timedelta(days=self.return_window_days)

    @property
    def lot_validity(self) -> timedelta | None:
        return None if self.lot_validity_days is None else timedelta(days=self.lot_validity_days)


@dataclass(frozen=True)
class SettingsChange:
    """A partial update: None leaves a setting as it is."""

    points_per_unit: Decimal | None = None
    rounding: Rounding | None = None
    min_points_per_order: int | None = None
    max_points_per_order: int | None = None
    clear_max_points_per_order: bool = False
    accepted_currencies: list[str] | None = None
    return_window_days: int | None = None
    lot_validity_days: int | None = None
    lots_never_expire: bool = False
    negative_balance_policy: NegativeBalancePolicy | None = None
    reservation_minutes: int | None = None
    refund_returns_promotions: bool | None = None
    referrals: ReferralChange | None = None
    reward_cancel_hours: int | None = None
    review_reward_points: int | None = None
    review_reward_verified_only: bool | None = None
    surveys: SurveyChange | None = None


def _fixed_host(link: str) -> bool:
    """The code only after the host (in the path or query), and no credentials."""
    try:
        parts = urlsplit(link.replace("{code}", "CODE"))
        _ = parts.port  # ValueError when out of range
    except ValueError:
        return False
    return (
        bool(parts.hostname)
        and parts.username is None
        and "CODE" not in parts.netloc
        and "'" not in link
    )


def _bounded(field_name: str, value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise InvalidInput(field_name, f"Must be between {low} and {high}.")
    return value


def _review_rewards(settings: ProgramSettings, change: SettingsChange) -> ProgramSettings:
    if change.review_reward_points is not None:
        points = _bounded("reviewRewardPoints", change.review_reward_points, 0, 100_000)
        settings = replace(settings, review_reward_points=points)
    if change.review_reward_verified_only is not None:
        settings = replace(settings, review_reward_verified_only=change.review_reward_verified_only)
    return settings


def apply_change(settings: ProgramSettings, change: SettingsChange) -> ProgramSettings:
    rule = settings.earning_rule
    if change.points_per_unit is not None:
        rate = change.points_per_unit
        try:
            ok = rate.is_finite() and Decimal(0) < rate <= Decimal(10000)
            ok = ok and -int(rate.normalize().as_tuple().exponent) <= 4
        except (InvalidOperation, TypeError):
            ok = False
        if not ok:
            raise InvalidInput(
                "earningRule.pointsPerUnit",
                "Must be more than 0 and at most 10000, with up to 4 decimals.",
            )
        rule = replace(rule, points_per_unit=rate)
    if change.rounding is not None:
        rule = replace(rule, rounding=change.rounding)
    if change.min_points_per_order is not None:
        rule = replace(
            rule,
            min_points_per_order=_bounded(
                "earningRule.minPointsPerOrder", change.min_points_per_order, 0, MAX_POINTS
            ),
        )
    if change.clear_max_points_per_order:
        rule = replace(rule, max_points_per_order=None)
    elif change.max_points_per_order is not None:
        rule = replace(
            rule,
            max_points_per_order=_bounded(
                "earningRule.maxPointsPerOrder", change.max_points_per_order, 1, MAX_POINTS
            ),
        )
    if (
        rule.max_points_per_order is not None
        and rule.max_points_per_order < rule.min_points_per_order
    ):
        raise InvalidInput("earningRule.maxPointsPerOrder", "Must not be below minPointsPerOrder.")
    new = replace(settings, earning_rule=rule)
    if change.accepted_currencies is not None:
        codes = [c.strip().upper() for c in change.accepted_currencies]
        unknown = [c for c in codes if c not in ISO_CURRENCIES]
        if unknown or not codes or len(codes) > 50:
            raise InvalidInput(
                "acceptedCurrencies",
                "Give 1 to 50 ISO 4217 currency codes"
                + (f"; unknown: {', '.join(c[:8] for c in unknown[:5])}." if unknown else "."),
            )
        new = replace(new, accepted_currencies=tuple(sorted(set(codes))))
    if change.return_window_days is not None:
        new = replace(
            new, return_window_days=_bounded("returnWindowDays", change.return_window_days, 0, 365)
        )
    if change.lots_never_expire:
        new = replace(new, lot_validity_days=None)
    elif change.lot_validity_days is not None:
        new = replace(
            new, lot_validity_days=_bounded("lotValidityDays", change.lot_validity_days, 1, 3650)
        )
    if change.negative_balance_policy is not None:
        new = replace(new, negative_balance_policy=change.negative_balance_policy)
    if change.reservation_minutes is not None:
        minutes = _bounded("reservationMinutes", change.reservation_minutes, 1, 1440)
        new = replace(new, reservation_minutes=minutes)
    if change.refund_returns_promotions is not None:
        new = replace(new, refund_returns_promotions=change.refund_returns_promotions)
    if change.reward_cancel_hours is not None:
        hours = _bounded("rewardCancelHours", change.reward_cancel_hours, 0, 24 * 365)
        new = replace(new, reward_cancel_hours=hours)
    new = _review_rewards(new, change)
    if change.surveys is not None:
        new = replace(new, surveys=_surveys(new.surveys, change.surveys))
    if change.referrals is not None:
        new = replace(new, referrals=_referrals(new.referrals, change.referrals))
    return new


def _surveys(settings: SurveySettings, change: SurveyChange) -> SurveySettings:
    new = settings
    if change.recontact_days is not None:
        days = _bounded("surveys.recontactDays", change.recontact_days, 1, 3660)
        new = replace(new, recontact_days=days)
    if change.nps_sample_percent is not None:
        share = _bounded("surveys.npsSamplePercent", change.nps_sample_percent, 0, 100)
        new = replace(new, nps_sample_percent=share)
    if change.csat_sample_percent is not None:
        share = _bounded("surveys.csatSamplePercent", change.csat_sample_percent, 0, 100)
        new = replace(new, csat_sample_percent=share)
    if change.follow_up_hours is not None:
        hours = _bounded("surveys.followUpHours", change.follow_up_hours, 1, 24 * 30)
        new = replace(new, follow_up_hours=hours)
    return new


def _referrals(settings: ReferralSettings, change: ReferralChange) -> ReferralSettings:
    """The referral settings with the change applied, each field checked. Whether the
    welcome promotion exists is checked by the referrals domain (ProgramService's checks)."""
    new = settings
    if change.enabled is not None:
        new = replace(new, enabled=change.enabled)
    if change.referrer_points is not None:
        points = _bounded("referrals.referrerPoints", change.referrer_points, 1, MAX_POINTS)
        new = replace(new, referrer_points=points)
    if change.monthly_cap is not None:
        new = replace(
            new, monthly_cap=_bounded("referrals.monthlyCap", change.monthly_cap, 1, 10_000)
        )
    if change.clear_welcome_promotion:
        new = replace(new, welcome_promotion_id=None)
    elif change.welcome_promotion_id is not None:
        new = replace(new, welcome_promotion_id=change.welcome_promotion_id)
    if change.welcome_validity_days is not None:
        days = _bounded("referrals.welcomeValidityDays", change.welcome_validity_days, 1, 3660)
        new = replace(new, welcome_validity_days=days)
    if change.link_format is not None:
        link = change.link_format
        # The pattern admits no braces: {code} must be the only ones.
        if (
            len(link) > MAX_LINK
            or link.count("{code}") != 1
            or not _LINK.fullmatch(link.replace("{code}", "CODE"))
            or not _fixed_host(link)
        ):
            raise InvalidInput(
                "referrals.linkFormat",
                f"An https URL of at most {MAX_LINK} characters with {{code}} once, e.g. "
                "https://shop.example/r/{code}.",
            )
        new = replace(new, link_format=link)
    return new
