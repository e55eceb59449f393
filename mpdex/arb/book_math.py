"""Pure arithmetic of the arbitrage layer: walking a book to a size, bps, fees, funding edge
and payback. ``Decimal`` in, ``Decimal`` out; no I/O, no clock.

Definitions (the monitor and the executor use exactly these):

* A book side is ``[[price, size], ...]`` best first. Walking it for ``Q`` takes the levels
  in order, each for ``min(remaining, level size)``. The **average price** is
  ``Σ price·taken / Q``; the **worst price** is the last level touched. A side holding less
  than ``Q`` in total is **thin**: no average is given (it would be a guess), only how much
  is there (``available``).
* Every bps figure is relative to the **long leg's entry notional**, i.e. to ``long_price``
  (the average price of buying ``Q`` on the long venue); 1 bp = 10⁻⁴.
* ``gross_bps = (short_price − long_price) / long_price × 10⁴``: what crossing both books
  pays at entry (positive: you sell higher than you buy).
* ``fees_bps`` is the **round trip**: both legs' taker fee paid on entry and again on exit,
  the exit taken at the entry prices:
  ``2 × (fee_long × long_price + fee_short × short_price) / long_price × 10⁴``.
* ``net_bps = gross_bps − fees_bps``: what is kept if the spread closes to zero by the exit.
* Funding rates are per hour, as fractions of notional, positive when longs pay shorts.
  A long on L pays ``rate_L``, a short on S receives ``rate_S``; both legs have the same size
  and (to within the spread) the same notional, so
  ``funding_edge_bps_per_hour = (rate_S − rate_L) × 10⁴``.
* ``payback_hours = fees_bps / funding_edge_bps_per_hour``: the hours of funding edge that
  pay the round-trip fees; ``None`` when the edge is not positive.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = [
    "BPS",
    "Walk",
    "dec",
    "walk",
    "depth_within",
    "bps",
    "gross_bps",
    "fees_bps",
    "funding_edge_bps_per_hour",
    "payback_hours",
    "Edge",
    "edge",
]

BPS = Decimal(10_000)
_ZERO = Decimal(0)
_TWO = Decimal(2)


def dec(value: Any) -> Decimal:
    """A book number as an exact Decimal: floats through their shortest repr (``0.1`` is
    ``Decimal("0.1")``), strings and ints as written."""
    if isinstance(value, float):
        return Decimal(float.__repr__(value))
    if isinstance(value, Decimal):
        return value
    if isinstance(value, (int, str)) and not isinstance(value, bool):
        return Decimal(value)
    raise TypeError(f"not a book number: {value!r}")


@dataclass(frozen=True)
class Walk:
    """The result of walking one book side for ``size``."""

    size: Decimal  # what was asked
    available: Decimal  # total size on the side (when thin) or ``size`` (when complete)
    avg_price: Decimal | None  # None when thin
    worst_price: Decimal | None  # last level touched; None on an empty side
    levels: int  # levels touched

    @property
    def complete(self) -> bool:
        return self.avg_price is not None


def walk(levels: Sequence[Sequence[Any]], size: Decimal) -> Walk:
    """Walk a book side (best first) for ``size`` > 0. Levels of size ≤ 0 are skipped."""
    if size <= 0:
        raise ValueError("size must be positive")
    remaining = size
    notional = _ZERO
    worst: Decimal | None = None
    touched = 0
    for level in levels:
        qty = dec(level[1])
        if qty <= 0:
            continue
        price = dec(level[0])
        take = qty if qty < remaining else remaining
        notional += price * take
        remaining -= take
        worst = price
        touched += 1
        if remaining == 0:
            return Walk(size, size, notional / size, worst, touched)
    return Walk(size, size - remaining, None, worst, touched)


def depth_within(levels: Sequence[Sequence[Any]], band: Decimal) -> Decimal:
    """Total size on a side (best first) priced within ``band`` (a fraction, e.g. 0.005)
    of its best price: the depth an order capped at that slippage can reach."""
    total = _ZERO
    best: Decimal | None = None
    for level in levels:
        qty = dec(level[1])
        if qty <= 0:
            continue
        price = dec(level[0])
        if best is None:
            best = price
        if abs(price - best) > best * band:
            break
        total += qty
    return total


def bps(delta: Decimal, reference: Decimal) -> Decimal:
    """``delta / reference × 10⁴``."""
    if reference <= 0:
        raise ValueError("a bps reference must be positive")
    return delta / reference * BPS


def gross_bps(long_price: Decimal, short_price: Decimal) -> Decimal:
    return bps(short_price - long_price, long_price)


def fees_bps(long_price: Decimal, short_price: Decimal, long_taker: Decimal, short_taker: Decimal) -> Decimal:
    """Round trip: both taker legs, on entry and on exit (at the entry prices)."""
    return bps(_TWO * (long_taker * long_price + short_taker * short_price), long_price)


def funding_edge_bps_per_hour(long_rate_per_hour: Decimal, short_rate_per_hour: Decimal) -> Decimal:
    return (short_rate_per_hour - long_rate_per_hour) * BPS


def payback_hours(fees: Decimal, funding_edge: Decimal | None) -> Decimal | None:
    """Hours of ``funding_edge`` (bps/h) that pay ``fees`` (bps); None unless the edge > 0."""
    if funding_edge is None or funding_edge <= 0:
        return None
    return fees / funding_edge


@dataclass(frozen=True)
class Edge:
    """The figures of one long/short pair, exact."""

    gross_bps: Decimal
    fees_bps: Decimal | None  # None when a venue's taker fee is unknown
    net_bps: Decimal | None
    funding_edge_bps_per_hour: Decimal | None  # None when a venue's funding is unknown
    payback_hours: Decimal | None


def edge(
    long_price: Decimal,
    short_price: Decimal,
    *,
    long_taker: Decimal | None,
    short_taker: Decimal | None,
    long_funding: Decimal | None,
    short_funding: Decimal | None,
) -> Edge:
    """Every figure of a long-on-L / short-on-S pair (see the module docstring)."""
    gross = gross_bps(long_price, short_price)
    fees = None if long_taker is None or short_taker is None else fees_bps(long_price, short_price, long_taker, short_taker)
    net = None if fees is None else gross - fees
    funding = (None if long_funding is None or short_funding is None
               else funding_edge_bps_per_hour(long_funding, short_funding))
    payback = None if fees is None else payback_hours(fees, funding)
    return Edge(gross, fees, net, funding, payback)
