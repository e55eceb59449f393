"""Vest's reads behind the contract: socket first, REST otherwise.

``VestReads`` is the half of ``VestExchange`` that only reads: symbol resolution, orders by
id or client id, positions, collateral, leverage, marks, books, funding, markets, fees,
klines, and the socket-first / REST-fallback dispatch (a socket value is served only while
the pooled client counts it fresh — ``wrappers.base_ws_cache``'s rule — else REST answers).
It also tells the socket state what our own writes changed (``_ws_changed``).
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mpdex.config import check_seconds, positive_int
from mpdex.errors import BadRequest, ConfigError, ExchangeError, OrderNotFound, RequestTimeout
from mpdex.ratelimit import Sleep
from mpdex.types import (
    Collateral,
    FundingEntry,
    FundingRate,
    LeverageInfo,
    MarketInfo,
    OpenOrder,
    OrderBook,
    OrderRecord,
    Position,
    TradingFees,
)

from . import vest_parsers as P
from .vest_markets import SymbolResolver, VestMarket
from .vest_orders import check_client_id, pick
from .vest_rest import VestRestClient
from .vest_ws_client import VestWSClient

__all__ = ["VestReads", "KLINE_INTERVALS"]

KLINE_INTERVALS = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M")



class VestReads:
    """The read side of ``VestExchange`` (which sets every attribute below in ``__init__``)."""

    rest: VestRestClient
    ws_client: VestWSClient | None
    markets: dict[str, VestMarket]
    ws_max_age: float
    _resolver: SymbolResolver | None
    _clock_ms: Callable[[], int]
    _monotonic: Callable[[], float]
    _sleep: Sleep

    def resolve_symbol(self, coin_or_symbol: str) -> str:
        """``BTC``/``btc``/``BTC-PERP`` → ``BTC-PERP``; ``AAPL``/``AAPL-PERP`` → ``AAPL-USD-PERP``.
        Unknown → ``BadSymbol`` listing close matches."""
        if self._resolver is None:
            raise ConfigError("VestExchange.init() has not loaded the markets yet")
        return self._resolver.resolve(coin_or_symbol)

    def _market(self, symbol: str) -> VestMarket:
        return self.markets[self.resolve_symbol(symbol)]


    async def get_order(self, *, order_id: str | None = None, client_order_id: Any | None = None) -> OrderRecord:
        """One order by exchange id or by client order id (the nonce): ``OpenOrder`` plus
        ``avg_price``, ``fees``, ``code``, ``raw``. ``OrderNotFound`` when it does not exist."""
        if (order_id is None) == (client_order_id is None):
            raise BadRequest("give exactly one of order_id and client_order_id")
        if order_id is not None:
            if not isinstance(order_id, str) or not order_id.strip():
                raise BadRequest(f"order_id must be a non-empty string, got {order_id!r}")
            rows = await self.rest.get_orders(id=order_id.strip())
            found = pick(rows, "id", order_id.strip())
        else:
            nonce = check_client_id(client_order_id)
            rows = await self.rest.get_orders(nonce=nonce)
            found = pick(rows, "nonce", nonce)
        if found is None:
            raise OrderNotFound(f"Vest has no order {order_id or client_order_id}")
        return P.parse_order(found)

    async def get_open_orders(self, symbol: str | None = None) -> list[OpenOrder]:
        """NEW and PARTIALLY_FILLED orders (all markets when ``symbol`` is None), oldest first."""
        native = self.resolve_symbol(symbol) if symbol is not None else None
        return await self._open_orders(native)


    async def get_position(self, symbol: str) -> Position | None:
        """The position in ``symbol``; ``None`` when flat."""
        native = self.resolve_symbol(symbol)
        return P.position_for(await self._account(), native)

    async def get_positions(self) -> list[Position]:
        """Every open position (sorted by symbol) from one ``/account`` snapshot — the socket's
        when fresh, else REST — instead of one ``get_position`` per market."""
        return P.positions_of(await self._account())

    async def get_collateral(self) -> Collateral:
        """From ``GET /account``: ``available_collateral`` = ``withdrawable``,
        ``total_collateral`` = ``totalAccountValue``, ``unrealized_pnl`` = Σ
        ``positions[].unrealizedPnl``, ``margin_used`` = Σ ``positions[].initMargin`` +
        ``openOrderMargin``; ``raw`` is the account body."""
        return P.parse_collateral(await self._account())


    async def get_leverage_info(self, symbol: str) -> LeverageInfo:
        """``leverage`` is the account's setting for the market (``None`` if never set);
        ``max_leverage`` = ⌊1 / initMarginRatio⌋."""
        market = self._market(symbol)
        lev = P.leverage_for(await self._rest_account(), market.symbol)
        info: LeverageInfo = {
            "symbol": market.symbol, "leverage": lev, "margin_mode": "cross", "max_leverage": market.max_leverage,
            "available_margin_modes": ["cross"], "status": "ok",
        }
        if lev is None:
            info["message"] = "no leverage set on the account for this market; Vest applies its default"
        return info

    def get_perp_quote(self, symbol: str, *, is_basic_coll: bool = False) -> str:
        return self._market(symbol).quote

    # -- market data -------------------------------------------------------------------

    async def get_mark_price(self, symbol: str) -> float:
        """From the socket's ``tickers`` cache when fresh (``ws_max_age``), else REST."""
        native = self.resolve_symbol(symbol)
        if self.ws_client is not None:
            return await self.ws_client.get_mark_price(native, self.ws_max_age)
        return await self._rest_mark_price(native)

    async def get_orderbook(self, symbol: str, timeout: float = 5.0) -> OrderBook:
        """With the socket: the first call subscribes ``{symbol}@depth`` (held until
        ``unsubscribe_orderbook``) and waits up to half of ``timeout`` for its first
        snapshot; a book older than ``ws_max_age`` is never served — REST answers instead.
        The whole call is bounded by ``timeout`` (``RequestTimeout``); a timeout that is not
        a positive finite number is a ``ConfigError`` (a ``ValueError``)."""
        timeout = check_seconds(timeout, "timeout")
        native = self.resolve_symbol(symbol)
        if self.ws_client is not None:
            read = self.ws_client.get_orderbook(native, self, timeout=timeout / 2, max_age=self.ws_max_age)
        else:
            read = self._rest_orderbook(native)
        try:
            return await asyncio.wait_for(read, timeout)
        except asyncio.TimeoutError:
            raise RequestTimeout(f"no order book for {native} within {timeout:g}s") from None

    async def unsubscribe_orderbook(self, symbol: str) -> None:
        """Release this instance's hold on the ``{symbol}@depth`` stream (the pooled socket
        unsubscribes when no instance holds it any more)."""
        if self.ws_client is not None:
            await self.ws_client.unsubscribe_orderbook(self.resolve_symbol(symbol), self)

    async def wait_for_order(self, client_order_id: Any, status: str | Sequence[str] = "FILLED",
                             timeout: float = 10.0) -> OrderRecord:
        """Wait until the order with this client order id (the nonce) reaches ``status``
        (one status or several) or a final state (FILLED, CANCELLED, REJECTED) — check the
        returned ``status``. Returns the parsed order (``OpenOrder`` + ``avg_price``,
        ``fees``, ``code``, ``raw``). With the socket, the ``account_private`` stream
        reports it (REST is asked once at the deadline); without it, REST is polled.
        ``RequestTimeout`` if it has not got there within ``timeout`` seconds."""
        nonce = check_client_id(client_order_id)
        if nonce is None:
            raise BadRequest("client_order_id is required")
        if self.ws_client is not None:
            return await self.ws_client.wait_for_order(nonce, status, timeout)
        wanted = {status.upper()} if isinstance(status, str) else {str(s).upper() for s in status}
        deadline = self._monotonic() + timeout
        delay, found = 0.05, None
        while True:
            found = pick(await self.rest.get_orders(nonce=nonce), "nonce", nonce)
            state = str(found.get("status")).upper() if found else None
            if found is not None and (state in wanted or state in P.TERMINAL_STATUSES):
                return P.parse_order(found)
            remaining = deadline - self._monotonic()
            if remaining <= 0:
                raise RequestTimeout(f"order {nonce} did not reach {'/'.join(sorted(wanted))} within {timeout}s "
                                     f"(last known status: {state or 'unknown'})")
            await self._sleep(min(delay, remaining))
            delay = min(delay * 2, 0.5)

    async def get_funding_rate(self, symbol: str) -> FundingRate:
        """``{symbol, funding_rate, interval_hours, funding_rate_per_hour, mark_price,
        index_price}``; Vest reports a one-hour rate (``oneHrFundingRate``). From the socket's
        ticker when fresh, else REST."""
        native = self.resolve_symbol(symbol)
        return P.parse_funding_rate(await self._ticker(native, self.ws_max_age))

    async def get_markets(self) -> list[MarketInfo]:
        """Every market's rules from ``/exchangeInfo`` (status as last seen in a ticker)."""
        return [{
            "symbol": m.symbol, "base": m.base, "quote": m.quote, "status": m.status,
            "size_step": float(m.size_step), "min_size": float(m.min_size), "tick": float(m.tick),
            "price_rule": f"tick {m.tick}", "min_notional": None, "max_leverage": m.max_leverage,
            "taker_fee": float(m.taker_fee), "maker_fee": float(m.taker_fee),
        } for m in sorted(self.markets.values(), key=lambda m: m.symbol)]

    async def get_trading_fees(self, symbol: str) -> TradingFees:
        """Vest publishes one ``takerFee`` per market; resting (maker) fills are charged the
        same rate here, as the paper exchange and the filled-order sample do."""
        market = self._market(symbol)
        return {"symbol": market.symbol, "maker": float(market.taker_fee), "taker": float(market.taker_fee)}

    async def get_funding_history(
        self, symbol: str, *, start_time: int | None = None, end_time: int | None = None,
        limit: int | None = None,
    ) -> list[FundingEntry]:
        """Hourly funding rates ``[{symbol, time, funding_rate}]`` oldest first (``limit`` ≤ 1000)."""
        native = self.resolve_symbol(symbol)
        for name, value in (("start_time", start_time), ("end_time", end_time)):
            if value is not None:
                positive_int(value, name)
        if limit is not None:
            positive_int(limit, "limit", maximum=1000)
        rows = await self.rest.get_funding_history(native, start_time=start_time, end_time=end_time, limit=limit,
                                                   interval="1h")
        return P.parse_funding_history(rows)

    async def get_klines(self, symbol: str, interval: str = "1m", *, limit: int | None = None) -> list[dict[str, Any]]:
        """Candles ``[{open_time, open, high, low, close, close_time, volume, quote_volume,
        trades}]`` oldest first. (v2 returns the latest bars; it ignores time ranges.)"""
        native = self.resolve_symbol(symbol)
        if interval not in KLINE_INTERVALS:
            raise BadRequest(f"interval must be one of {', '.join(KLINE_INTERVALS)}, got {interval!r}")
        if limit is not None:
            positive_int(limit, "limit", maximum=1000)
        return P.parse_klines(await self.rest.get_klines(native, interval=interval, limit=limit))

    async def get_ticker_24h(self, symbol: str) -> dict[str, Any]:
        """24-hour statistics: open/high/low/close, volume, quote_volume, price_change(_percent), times."""
        native = self.resolve_symbol(symbol)
        return P.parse_ticker_24h(P.find_ticker(await self.rest.get_ticker_24h([native]), native))

    # -- listen keys (for the private socket) -------------------------------------------

    async def create_listen_key(self) -> str:
        return await self.rest.create_listen_key()

    async def keepalive_listen_key(self) -> str:
        return await self.rest.keepalive_listen_key()

    async def delete_listen_key(self) -> None:
        await self.rest.delete_listen_key()

    # -- socket-first reads, and what our own requests tell the socket state ---------------

    async def _ticker(self, symbol: str, max_age: float) -> Mapping[str, Any]:
        if self.ws_client is not None:
            return await self.ws_client.get_ticker(symbol, max_age)
        return await self._rest_ticker(symbol)

    async def _account(self) -> Mapping[str, Any]:
        if self.ws_client is not None:
            account = await self.ws_client.get_account(self.ws_max_age)
            if not isinstance(account, dict):
                raise ExchangeError("GET /account did not return an object", raw=account)
            return account
        return await self._rest_account()

    async def _open_orders(self, symbol: str | None) -> list[OpenOrder]:
        if self.ws_client is not None:
            return list(await self.ws_client.get_open_orders(symbol, self.ws_max_age))
        return await self._rest_open_orders(symbol)

    def _ws_changed(self, order: Mapping[str, Any] | None = None) -> None:
        """Our request changed orders or margin: tell the socket state before the stream
        does, so a read right after this call cannot serve the state from before it."""
        client = self.ws_client
        if client is None:
            return
        if order is not None:
            client.apply_order(order)
            client.invalidate_private(orders=False)
        else:
            client.invalidate_private()

    # -- REST reads the socket layer falls back to ---------------------------------------

    async def _rest_ticker(self, symbol: str) -> dict[str, Any]:
        return P.find_ticker(await self.rest.get_ticker_latest([symbol]), symbol)

    async def _rest_mark_price(self, symbol: str) -> float:
        ticker = await self._rest_ticker(symbol)
        return float(P.dec(ticker.get("markPrice"), "markPrice"))

    async def _rest_orderbook(self, symbol: str) -> OrderBook:
        return P.parse_orderbook(await self.rest.get_depth(symbol), self._clock_ms())

    async def _rest_account(self) -> dict[str, Any]:
        account = await self.rest.get_account()
        if not isinstance(account, dict):
            raise ExchangeError("GET /account did not return an object", raw=account)
        return account

    async def _rest_open_orders(self, symbol: str | None = None) -> list[OpenOrder]:
        batches = await asyncio.gather(*(self.rest.get_orders(symbol=symbol, status=s) for s in ("NEW", "PARTIALLY_FILLED")))
        seen: dict[str, dict[str, Any]] = {}
        for rows in batches:
            if not isinstance(rows, list):
                raise ExchangeError("GET /orders did not return a list", raw=rows)
            for raw in rows:
                if (isinstance(raw, dict) and str(raw.get("status")).upper() in P.OPEN_STATUSES
                        and (symbol is None or raw.get("symbol") == symbol)):
                    seen[str(raw.get("id"))] = raw
        orders = [P.parse_order(r) for r in seen.values()]
        orders.sort(key=lambda o: (o["created_at"] or 0, o["id"]))
        return orders  # type: ignore[return-value]
