"""Money: Decimal amounts with an ISO 4217 currency, checked against the currency's minor units."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from api.errors import ErrorCode, InvalidInput

# Active ISO 4217 currencies people pay in (fund and metal codes left out).
ISO_CURRENCIES = frozenset(
    """AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD
    BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN
    ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD
    IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD
    MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD
    OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP
    SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD
    UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG""".split()
)
_ZERO_DECIMALS = frozenset(
    """BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF""".split()
)
_THREE_DECIMALS = frozenset("""BHD IQD JOD KWD LYD OMR TND""".split())

# Anything above this is a bug or an attack, not an order.
MAX_AMOUNT = Decimal("1000000000")


def minor_units(currency: str) -> int:
    if currency in _ZERO_DECIMALS:
        return 0
    return 3 if currency in _THREE_DECIMALS else 2


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def iso_currency(field: str, currency: str) -> str:
    code = currency.strip().upper()
    if code not in ISO_CURRENCIES:
        raise InvalidInput(
            field,
            f"{currency[:8]!r} is not an ISO 4217 currency code.",
            ErrorCode.UNSUPPORTED_CURRENCY,
        )
    return code


def check_currency(field: str, code: str, accepted: Collection[str]) -> None:
    if code not in accepted:
        raise InvalidInput(
            field,
            f"{code} is not accepted by this program (accepted: {', '.join(sorted(accepted))}).",
            ErrorCode.UNSUPPORTED_CURRENCY,
        )


def parse_money(field: str, amount: Decimal, currency: str, *, positive: bool) -> Money:
    """A canonical Money (quantized to the currency's minor units) or InvalidInput.

    Whether the program accepts the currency is checked by the caller, after any replay:
    a replayed order stays valid when the program's currencies change.
    """
    code = iso_currency(f"{field}.currency", currency)
    try:
        finite = amount.is_finite()
    except (AttributeError, InvalidOperation):
        finite = False
    if not finite:
        raise InvalidInput(f"{field}.amount", "Amount must be a finite decimal number.")
    if amount < 0 or (positive and amount == 0):
        raise InvalidInput(
            f"{field}.amount",
            "Amount must be positive." if positive else "Amount cannot be negative.",
        )
    if amount > MAX_AMOUNT:
        raise InvalidInput(f"{field}.amount", f"Amount cannot exceed {MAX_AMOUNT}.")
    places = minor_units(code)
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise InvalidInput(
            f"{field}.amount", f"{code} amounts have at most {places} decimal places."
        )
    return Money(amount.quantize(Decimal(1).scaleb(-places)), code)
