"""Hyperliquid market data and history reads of ``HyperliquidExchange`` (a mixin): market
rules, marks, books, funding (now, predicted, history), candles and fee rates, socket-first
where the pooled socket streams them (``ws_client``), REST otherwise.

* Marks are ``markPx`` (never the mid); funding is the hourly rate (``interval_hours`` 1).
* Time-range reads default to the latest 500 rows (at most 5000), paging 500 at a time.
* ``get_markets`` states the rules orders are checked against (size step, the significant-
  figure price grid, the $10 minimum); fee rates are the account's, so they are ``None``
  there (``get_trading_fees`` reads them).
* Fees are the account's (``userFees``) or, when Hyperliquid refuses that read or answers
  without rates, the published base tier (maker 0.015 %, taker 0.045 %), logged as such.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from mpdex.config import check_seconds, positive_int
from mpdex.errors import BadRequest, ExchangeError, RequestTimeout
from mpdex.types import FundingEntry, FundingRate, MarketInfo, OrderBook, TradingFees

from . import hyperliquid_parsers as P
from .hyperliquid_markets import MIN_NOTIONAL, HyperliquidMarket

if TYPE_CHECKING:
    from .hyperliquid_rest import HyperliquidRestClient
    from .hyperliquid_ws_client import HyperliquidWSClient

__all__ = ["HyperliquidMarketData", "KLINE_INTERVALS", "DEFAULT_ROWS", "MAX_ROWS"]

log = logging.getLogger("mpdex.hyperliquid")

_MINUTE = 60_000
KLINE_INTERVALS: dict[str, int] = {
    "1m": _MINUTE, "3m": 3 * _MINUTE, "5m": 5 * _MINUTE, "15m": 15 * _MINUTE, "30m": 30 * _MINUTE,
    "1h": 60 * _MINUTE, "2h": 120 * _MINUTE, "4h": 240 * _MINUTE, "8h": 480 * _MINUTE, "12h": 720 * _MINUTE,
    "1d": 1440 * _MINUTE, "3d": 4320 * _MINUTE, "1w": 10080 * _MINUTE, "1M": 43200 * _MINUTE,
}
DEFAULT_ROWS = 500
MAX_ROWS = 5000



class HyperliquidMarketData:
    """The reads below need these of the exchange they are mixed into."""

    rest: HyperliquidRestClient
    markets: dict[str, HyperliquidMarket]
    ws_client: HyperliquidWSClient | None
    ws_max_age: float
    _clock_ms: Callable[[], int]
    _who: str

    if TYPE_CHECKING:
        def resolve_symbol(self, coin_or_symbol: str) -> str: ...
        async def _ctx(self, symbol: str, ws_max_age: float) -> Mapping[str, Any]: ...

    async def get_markets(self) -> list[MarketInfo]:
        """Every market's rules (delisted markets say ``DELISTED``)."""
        return [{
            "symbol": m.symbol, "base": m.symbol, "quote": m.quote, "status": "DELISTED" if m.delisted else "TRADING",
            "size_step": float(m.size_step), "min_size": float(m.size_step), "tick": None,
            "price_rule": m.price_grid.describe(), "min_notional": float(MIN_NOTIONAL), "max_leverage": m.max_leverage,
            "taker_fee": None, "maker_fee": None,
        } for m in sorted(self.markets.values(), key=lambda m: m.symbol)]

    async def get_trading_fees(self, symbol: str) -> TradingFees:
        """The account's rates from ``userFees``; when Hyperliquid refuses that read or
        answers without rates, the published base tier (maker 0.015 %, taker 0.045 %),
        logged as such. Transport failures raise."""
        native = self.resolve_symbol(symbol)
        try:
            return P.parse_trading_fees(await self.rest.user_fees(), native)
        except ExchangeError as exc:
            log.info("hyperliquid %s userFees unavailable (%s): base tier fees", self._who, exc)
            return {"symbol": native, "maker": float(P.BASE_FEES["maker"]), "taker": float(P.BASE_FEES["taker"])}

    async def get_mark_price(self, symbol: str) -> float:
        """The mark (``markPx``, never the mid): the socket's ``activeAssetCtx`` while fresh,
        else ``metaAndAssetCtxs`` (REST answers are reused for at most ``CTX_REUSE`` s)."""
        native = self.resolve_symbol(symbol)
        return float(P.dec((await self._ctx(native, self.ws_max_age)).get("markPx"), "markPx"))

    async def get_orderbook(self, symbol: str, timeout: float = 5.0) -> OrderBook:
        """``l2Book`` (up to 20 levels a side), best first; bounded by ``timeout``."""
        timeout = check_seconds(timeout, "timeout")
        native = self.resolve_symbol(symbol)
        try:
            if self.ws_client is not None:
                return await asyncio.wait_for(self.ws_client.get_orderbook(
                    native, self, timeout=timeout / 2, max_age=self.ws_max_age), timeout)
            body = await asyncio.wait_for(self.rest.l2_book(native), timeout)
        except asyncio.TimeoutError:
            raise RequestTimeout(f"no order book for {native} within {timeout:g}s") from None
        if body is None:
            raise ExchangeError(f"Hyperliquid has no book for {native}")
        return P.parse_orderbook(body, self._clock_ms())

    async def unsubscribe_orderbook(self, symbol: str) -> None:
        """Release this instance's hold on the ``l2Book`` stream (the pooled socket
        unsubscribes when no instance holds it any more)."""
        if self.ws_client is not None:
            await self.ws_client.unsubscribe_orderbook(self.resolve_symbol(symbol), self)

    async def get_funding_rate(self, symbol: str) -> FundingRate:
        """The current hourly rate (``interval_hours`` = 1), with mark and oracle prices."""
        native = self.resolve_symbol(symbol)
        return P.parse_funding_rate(native, await self._ctx(native, self.ws_max_age))

    async def get_predicted_funding(self, symbol: str) -> FundingRate:
        """Hyperliquid's predicted next hourly rate and its time (``predictedFundings``)."""
        return P.parse_predicted_funding(await self.rest.predicted_fundings(), self.resolve_symbol(symbol))

    async def get_funding_history(self, symbol: str, *, start_time: int | None = None, end_time: int | None = None,
                                  limit: int | None = None) -> list[FundingEntry]:
        """Funding rates ``[{symbol, time, funding_rate, interval_hours}]`` oldest first (at
        most ``limit`` ≤ 5000, default 500; from ``start_time``, default ``limit`` hours ago)."""
        native = self.resolve_symbol(symbol)
        count = positive_int(limit, "limit", maximum=MAX_ROWS) if limit is not None else DEFAULT_ROWS
        end = positive_int(end_time, "end_time") if end_time is not None else None
        start = (positive_int(start_time, "start_time") if start_time is not None
                 else (end or self._clock_ms()) - count * 3_600_000)
        return P.parse_funding_history(await self.rest.funding_history_pages(native, start, end, count))[:count]

    async def get_klines(self, symbol: str, interval: str = "1m", *, limit: int | None = None) -> list[dict[str, Any]]:
        """The latest ``limit`` candles (default 500, at most 5000) oldest first, in Vest's
        shape (``quote_volume`` is ``None``: Hyperliquid publishes base volume only)."""
        native = self.resolve_symbol(symbol)
        step = KLINE_INTERVALS.get(interval)
        if step is None:
            raise BadRequest(f"interval must be one of {', '.join(KLINE_INTERVALS)}, got {interval!r}")
        count = positive_int(limit, "limit", maximum=MAX_ROWS) if limit is not None else DEFAULT_ROWS
        end = self._clock_ms()
        rows = await self.rest.candle_snapshot(native, interval, end - count * step, end)
        return P.parse_candles(rows)[-count:]
