"""The arbitrage layer's typed errors, on the library's two roots.

* ``HedgeRefused`` is an ``ExchangeError``: nothing was left on any venue — either nothing
  was sent (bad spread, unreadable book, nothing to close) or every order sent was refused
  or proven absent. ``EntrySpreadExceeded`` is the price-protection case.
* ``NakedExposure`` is neither a refusal nor an unknown outcome: orders were placed and the
  two venues no longer balance (or an order's fate could not be established). It carries the
  result and says exactly which venue holds what, so a bot can alert a person.
"""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from mpdex.errors import ExchangeError, MpdexError

if TYPE_CHECKING:
    from .results import Exposure, HedgeResult, OrderAttempt

__all__ = ["HedgeRefused", "EntrySpreadExceeded", "NakedExposure", "describe_exposure", "why"]


def why(exc: BaseException) -> str:
    """``"Type: message"`` of an error, for results and logs (library errors carry no secrets)."""
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return "TimeoutError: no answer within the bound"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class HedgeRefused(ExchangeError):
    """Nothing is left on either venue. ``orders`` lists what was tried (empty when nothing
    was sent at all), each with the state that proves it left nothing."""

    def __init__(self, message: str, *, orders: list[OrderAttempt] | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.orders: list[OrderAttempt] = list(orders or [])


class EntrySpreadExceeded(HedgeRefused):
    """The live books cost more to cross than ``max_*_spread_bps`` allows; nothing was sent."""

    def __init__(self, message: str, *, spread_bps: float, limit_bps: float, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.spread_bps = spread_bps
        self.limit_bps = limit_bps


def describe_exposure(e: Exposure) -> str:
    """One line a person can act on: ``venue b holds short 0.01 BTC-PERP unhedged (why);
    the venue reports a position of -0.01``."""
    size = f"{e['size']:.12g}"
    if e["certain"]:
        text = f"venue {e['venue']} holds {e['side']} {size} {e['symbol']} unhedged"
    else:
        text = (f"venue {e['venue']} may hold up to {size} {e['symbol']} more {e['side']} than counted "
                "(order outcome unknown)")
    if e.get("detail"):
        text += f" ({e['detail']})"
    if e.get("venue_position") is not None:
        text += f"; the venue reports a position of {e['venue_position']:+.12g}"
    return text


class NakedExposure(MpdexError):
    """The hedge is not balanced and the executor could not repair it within its budget.

    ``exposures`` lists each venue's unhedged holding (venue, symbol, side, size, whether it
    is certain); ``result`` is the full ``HedgeResult`` (status ``"naked"``).
    """

    def __init__(self, result: HedgeResult) -> None:
        self.result = result
        self.exposures: list[Exposure] = list(result["exposures"])
        lines = "; ".join(describe_exposure(e) for e in self.exposures) or "exposure unknown"
        super().__init__(f"NAKED after {result['action']}_hedge: {lines}", raw=None)
