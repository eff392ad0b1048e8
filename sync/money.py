"""Amounts: integers of the currency's ISO 4217 minor unit in the database and for Stripe
(cents; yen have none); decimal strings for PayPal. Never floats.

PayPal also writes HUF and TWD without decimals although they have cents: 1500 HUF is "1500"
there and 150000 here, and an amount with cents cannot go to PayPal at all. The SQL side reads
PayPal's `amount.value` the same way (private.paypal_amount_cents)."""

from __future__ import annotations

import re

# ISO 4217 currencies without a minor unit (Stripe's zero-decimal list).
ZERO_DECIMAL = frozenset(
    {
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    }
)
# Currencies PayPal takes in whole units only although they have cents.
PAYPAL_WHOLE_UNITS = frozenset({"HUF", "TWD"})
_DECIMAL = re.compile(r"^(?P<units>[0-9]+)(?:\.(?P<fraction>[0-9]+))?$")


def decimals(currency: str) -> int:
    return 0 if currency.upper() in ZERO_DECIMAL else 2


def to_decimal_string(amount: int, currency: str) -> str:
    """PayPal's value: 24000 usd -> "240.00"; 1500 jpy -> "1500"; 150000 huf -> "1500"."""
    if amount < 0:
        raise ValueError(f"amount must not be negative, got {amount}")
    if currency.upper() in PAYPAL_WHOLE_UNITS:
        if amount % 100:
            raise ValueError(
                f"PayPal takes {currency.upper()} in whole units only; {amount} is not a whole amount"
            )
        return str(amount // 100)
    places = decimals(currency)
    if places == 0:
        return str(amount)
    scale: int = 10**places
    units, fraction = divmod(amount, scale)
    return f"{units}.{fraction:0{places}d}"


def from_decimal_string(value: str, currency: str) -> int:
    """ "240.00" usd -> 24000; "240.5" -> 24050; more decimals than the currency has: error."""
    match = _DECIMAL.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not a decimal amount")
    places = decimals(currency)
    fraction = match["fraction"] or ""
    if len(fraction.rstrip("0")) > places:
        raise ValueError(f"{value!r} has more than {places} decimals for {currency.upper()}")
    fraction = fraction.rstrip("0").ljust(places, "0")
    units = int(match["units"])
    scale: int = 10**places
    return units * scale + (int(fraction) if fraction else 0)
