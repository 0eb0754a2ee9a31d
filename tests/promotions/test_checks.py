"""An admin's promotion and code batch input, checked: every broken rule is an InvalidInput
naming its field; what passes comes back normalised."""

from __future__ import annotations

from decimal import Decimal

import pytest

from api.errors import InvalidInput
from api.promotions import checks
from api.promotions.codes import SAFE_CHARSET, check_pattern
from api.promotions.model import Effect, EffectKind, PromotionInput, Target

TIERS = ("BRONZE", "SILVER", "GOLD")
LOOK_ALIKES = "0O1IL5S2Z8B"  # 0/O, 1/I/L, 5/S, 2/Z, 8/B
ACCEPTED = ("EUR",)


def check(effect: Effect) -> PromotionInput:
    return checks.check(PromotionInput("p-1", "P", effect, currency="EUR"), TIERS, ACCEPTED)


def multiplier(value: str) -> Effect:
    return Effect(EffectKind.POINTS_MULTIPLIER, Target.LINES, multiplier=Decimal(value))


@pytest.mark.parametrize("value", ["1.01", "1.5", "1.50", "2", "2.25", "10", "10.00"])
def test_a_points_multiplier_in_range_with_at_most_two_decimals_passes(value: str) -> None:
    assert check(multiplier(value)).effect.multiplier == Decimal(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1.005", "decimal places"),
        ("1.333333333333333333", "decimal places"),
        ("2.001", "decimal places"),
        ("1", "more than 1"),
        ("0.5", "more than 1"),
        ("-2", "more than 1"),
        ("10.01", "at most 10"),
        ("1E+3", "at most 10"),
        ("NaN", "more than 1"),
        ("Infinity", "more than 1"),
    ],
)
def test_a_points_multiplier_out_of_range_or_too_precise_is_refused(
    value: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        check(multiplier(value))
    assert refused.value.field == "effect.multiplier"
    assert message in str(refused.value).lower()


def test_a_points_multiplier_is_required() -> None:
    with pytest.raises(InvalidInput) as refused:
        check(Effect(EffectKind.POINTS_MULTIPLIER, Target.LINES))
    assert refused.value.field == "effect.multiplier"


@pytest.mark.parametrize(
    ("effect", "ok"),
    [
        (Effect(EffectKind.PERCENT_OFF, percent=Decimal("12.5")), True),
        (Effect(EffectKind.PERCENT_OFF, percent=Decimal("12.50")), True),
        (Effect(EffectKind.PERCENT_OFF, percent=Decimal("99.99")), True),
        (Effect(EffectKind.PERCENT_OFF, percent=Decimal("12.505")), False),
        (Effect(EffectKind.PERCENT_OFF, percent=Decimal("33.333")), False),
        (
            Effect(EffectKind.BUY_X_GET_Y, Target.LINES, Decimal("50.125"), buy=1, get=1),
            False,
        ),
    ],
)
def test_a_percent_has_at_most_two_decimals(effect: Effect, ok: bool) -> None:
    if ok:
        assert check(effect).effect.percent == effect.percent
        return
    with pytest.raises(InvalidInput) as refused:
        check(effect)
    assert refused.value.field == "effect.percent"


# ---- code batch charsets -------------------------------------------------------------------


def test_the_default_charset_has_no_look_alikes_and_passes() -> None:
    assert not set(SAFE_CHARSET) & set(LOOK_ALIKES)
    assert check_pattern("", 10, None, 100).charset == SAFE_CHARSET
    assert check_pattern("", 10, SAFE_CHARSET.lower(), 100).charset == SAFE_CHARSET


@pytest.mark.parametrize(
    ("charset", "named"),
    [
        ("ACDEFGHJK0", "0"),
        ("ACDEFGHJKO", "O"),
        ("ACDEFGHJK1", "1"),
        ("ACDEFGHJKI", "I"),
        ("ACDEFGHJKL", "L"),
        ("ACDEFGHJK5", "5"),
        ("ACDEFGHJKS", "S"),
        ("ACDEFGHJK2", "2"),
        ("ACDEFGHJKZ", "Z"),
        ("ACDEFGHJK8", "8"),
        ("ACDEFGHJKB", "B"),
        ("acdefghjkl", "L"),  # codes are case-insensitive: a lower-case l is an L
        ("acdefghjko", "O"),
        ("0123456789", "0, 1, 2, 5, 8"),
        ("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "B, I, L, O, S, Z"),
    ],
)
def test_a_custom_charset_with_look_alikes_is_refused_naming_them(charset: str, named: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_pattern("", 10, charset, 10)
    assert refused.value.field == "charset"
    assert f"look-alike characters: {named}." in str(refused.value)


def test_a_custom_charset_without_look_alikes_passes_upper_cased() -> None:
    assert check_pattern("VIP-", 12, "acdefghjk3", 10).charset == "ACDEFGHJK3"
    assert check_pattern("", 8, "34679ACDEF", 10).charset == "34679ACDEF"
