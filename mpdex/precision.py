"""Exact decimal helpers: parsing user numbers, stepping and fixed-point formatting.

Everything here is pure and works on ``Decimal``; floats are accepted only at the
boundary and converted through ``repr`` so ``0.1`` means ``Decimal("0.1")``.
"""
from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Literal

from .errors import ExchangeError, InvalidOrder

Number = Decimal | int | float | str
Rounding = Literal["down", "up", "nearest"]


def to_decimal(value: Number, name: str = "value") -> Decimal:
    """Convert user input to a finite ``Decimal`` or raise ``InvalidOrder`` naming it."""
    if isinstance(value, bool) or value is None:
        raise InvalidOrder(f"{name} must be a number, got {type(value).__name__}")
    try:
        if isinstance(value, Decimal):
            d = value
        elif isinstance(value, float):
            # float.__repr__, not repr(): numpy's float64 reprs as "np.float64(1.5)"
            d = Decimal(float.__repr__(value))
        elif isinstance(value, (int, str)):
            d = Decimal(value.strip() if isinstance(value, str) else value)
        else:
            raise InvalidOrder(f"{name} must be a number, got {type(value).__name__}")
    except InvalidOperation:
        raise InvalidOrder(f"{name} is not a number: {value!r}") from None
    if not d.is_finite():
        raise InvalidOrder(f"{name} must be finite, got {value!r}")
    return d


def payload_decimal(value: object, field: str, venue: str) -> Decimal:
    """The exact Decimal of a number an exchange sent (a decimal string, or a JSON number),
    or ``ExchangeError`` naming the venue and the field — a malformed payload is never read
    as a silent default."""
    if isinstance(value, bool) or value is None:
        raise ExchangeError(f"{venue} payload: '{field}' is not a number: {value!r}")
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise ExchangeError(f"{venue} payload: '{field}' is not a number: {value!r}") from None
    if not d.is_finite():
        raise ExchangeError(f"{venue} payload: '{field}' is not finite: {value!r}")
    return d


def decimal_or_none(value: object) -> Decimal | None:
    """The exact Decimal of ``value``, or ``None`` when it is absent or not a finite number
    (for comparing recorded fields, where "not readable" simply does not match)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def step_of(decimals: int) -> Decimal:
    """``10 ** -decimals`` as an exact Decimal (``decimals`` may be 0)."""
    return Decimal(1).scaleb(-decimals)


def round_to_step(value: Decimal, step: Decimal, mode: Rounding) -> Decimal:
    """Round ``value`` to a multiple of ``step``.

    ``down`` goes toward -inf, ``up`` toward +inf, ``nearest`` half-up on magnitude.
    A value too large to be stepped exactly (more than 28 significant digits on the grid,
    e.g. ``1e30`` on a 0.0001 step) raises ``InvalidOrder``: it is never rounded silently.
    """
    if step <= 0:
        raise ValueError("step must be positive")
    # divmod is exact (integer part truncated toward zero, exact remainder) or raises;
    # a plain ``value / step`` rounds to the context precision first and could cross a
    # step boundary in the wrong direction before the directed rounding sees it
    try:
        n, rem = divmod(value, step)
    except InvalidOperation:
        raise InvalidOrder(f"{value} is too large to round exactly to a step of {step}") from None
    if mode == "down":
        if rem < 0:
            n -= 1
    elif mode == "up":
        if rem > 0:
            n += 1
    elif abs(rem) * 2 >= step:
        n += 1 if value > 0 else -1
    return n * step


def round_to_sig_figs(value: Decimal, sig_figs: int, max_decimals: int, mode: Rounding) -> Decimal:
    """Round a positive ``value`` to at most ``sig_figs`` significant figures and at most
    ``max_decimals`` places (Hyperliquid's price grid: 5 figures, ``6 − szDecimals`` places),
    in the direction ``mode``. Integers are never cut below their units (an integer price
    keeps all its digits). ``InvalidOrder`` for a non-positive value."""
    if value <= 0:
        raise InvalidOrder(f"price must be positive, got {value}")
    if sig_figs < 1 or max_decimals < 0:
        raise ValueError("sig_figs must be >= 1 and max_decimals >= 0")
    # the place of the last significant figure allowed: 10**(adjusted - sig_figs + 1)
    exponent = max(value.adjusted() - sig_figs + 1, -max_decimals)
    step = Decimal(1).scaleb(min(exponent, 0))
    return round_to_step(value, step, mode)


def fmt_fixed(value: Decimal, decimals: int) -> str:
    """Exactly ``decimals`` places, no exponent, no sign on zero.

    The value must already be on the grid; anything finer is truncated toward zero,
    which callers avoid by rounding first with the direction they need.
    """
    q = value.quantize(step_of(decimals), rounding=ROUND_DOWN)
    if q == 0:
        q = abs(q)
    return f"{q:f}"


def decimals_of(text: str) -> int:
    """Number of places after the point in a decimal string (``"1.50"`` → 2)."""
    _, _, frac = text.partition(".")
    return len(frac)
