"""The read side of ``CcxtPerpExchange``: the calls into ccxt, symbols and market rules from
the loaded markets, order records (by client order id, open orders, fills), positions,
collateral, marks, books, funding, markets, fees. Marks and books are socket-first where the
instance watches them (``_watch``, ``wrappers.ccxt_watch``), REST otherwise.

A filled order's record lacks the fill price, fee or realised PnL where ccxt's order has none
(Hyperliquid's ``orderStatus`` carries no ``avgPx`` and no fee): ``_with_fills`` reads them
from the order's fills as the venue listed them (``fetchMyTrades``), never computing a price.

``CcxtReads`` holds no state of its own: ``CcxtPerpExchange.__init__`` / ``init`` set every
attribute declared below. Every call into ccxt goes through ``_call``, which maps ccxt's
errors onto ours (``wrappers.ccxt_errors``); a call that only reads goes through ``_read``,
whose requests are retried after a rate limit, a transport failure or a 5xx
(``wrappers.ccxt_http``). Writes (orders, cancels, leverage) use ``_call``: never retried.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from mpdex.config import check_seconds
from mpdex.errors import BadSymbol, ConfigError, ExchangeError, MpdexError, NotSupported, OrderNotFound, RequestTimeout
from mpdex.orders import MarketRules
from mpdex.types import Collateral, FundingRate, MarketInfo, OpenOrder, OrderBook, OrderRecord, Position, TradingFees

from . import ccxt_parsers as P
from .ccxt_errors import map_ccxt_error
from .ccxt_http import safe_reads
from .ccxt_venues import CcxtVenue
from .ccxt_watch import CcxtWatch, parse_book

__all__ = ["CcxtReads"]

log = logging.getLogger("mpdex.ccxt")

#: fills are listed from this long before the order's timestamp (a venue's clocks may differ)
_FILL_LOOKBACK_MS = 1000


class CcxtReads:
    """What ``CcxtPerpExchange`` reads (it sets every attribute below)."""

    name: str
    _who: str  # the account, short (never a secret)
    entry: CcxtVenue
    exchange: Any
    _markets: dict[str, dict[str, Any]]
    _native_by_unified: dict[str, str]
    _rules: dict[str, MarketRules]
    _watch: CcxtWatch | None  # ccxt.pro's sockets, when some reads are socket-first
    ws_max_age: float

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return await getattr(self.exchange, method)(*args, **kwargs)
        except MpdexError:
            raise
        except Exception as exc:
            raise map_ccxt_error(exc, self.name) from exc

    async def _read(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """``_call`` for a call that only reads: its requests may be retried (``wrappers.ccxt_http``)."""
        with safe_reads():
            return await self._call(method, *args, **kwargs)

    def _has(self, feature: str) -> bool:
        return self.exchange.has.get(feature) in (True, "emulated")


    # -- symbols and rules -------------------------------------------------------------

    def _native_of_market(self, market: Mapping[str, Any]) -> str | None:
        rule = self.entry.native
        if rule.startswith("info:"):
            value = (market.get("info") or {}).get(rule[5:])
        else:
            value = market.get(rule)
        return str(value) if value not in (None, "") else None

    def _native_of_unified(self, symbol: Any) -> str | None:
        return self._native_by_unified.get(symbol) if isinstance(symbol, str) else None

    def resolve_symbol(self, coin_or_symbol: str) -> str:
        """A native symbol, a ccxt unified symbol or a bare coin → the native symbol."""
        if not self._markets:
            raise ConfigError(f"{self.name}: init() has not loaded the markets yet")
        if not isinstance(coin_or_symbol, str) or not coin_or_symbol.strip():
            raise BadSymbol(f"symbol must be a non-empty string, got {coin_or_symbol!r}")
        text = coin_or_symbol.strip()
        if text in self._markets:
            return text
        if text in self._native_by_unified:
            return self._native_by_unified[text]
        folded = {n.lower(): n for n in self._markets}
        if text.lower() in folded:
            return folded[text.lower()]
        coin = text.upper()
        found = [n for n, m in self._markets.items()
                 if str(m.get("base") or "").upper() == coin or str(m.get("baseName") or "").upper() == coin]
        if len(found) > 1:
            found = [n for n in found if self._markets[n].get("settle") == self.entry.collateral] or found
        if len(found) == 1:
            return found[0]
        close = sorted(n for n in self._markets if coin in n.upper())[:5]
        hint = f"; close matches: {', '.join(close)}" if close else ""
        raise BadSymbol(f"{self.name} has no perpetual market {coin_or_symbol!r}{hint}")

    def _market(self, symbol: str) -> tuple[str, dict[str, Any]]:
        native = self.resolve_symbol(symbol)
        return native, self._markets[native]

    def market_rules(self, symbol: str) -> MarketRules:
        native, market = self._market(symbol)
        rules = self._rules.get(native)
        if rules is None:
            rules = self._rules[native] = P.market_rules(
                market, native, self.exchange.precisionMode, price_grid=self.entry.price_grid,
                limit_tifs=self.entry.limit_tifs, quote=self.entry.collateral)
        return rules

    def get_perp_quote(self, symbol: str, *, is_basic_coll: bool = False) -> str:
        _, market = self._market(symbol)
        return str(market.get("settle") or self.entry.collateral)

    # -- orders ------------------------------------------------------------------------

    def _record(self, order: Mapping[str, Any]) -> OrderRecord:
        return P.parse_order(order, self._native_of_unified, self.entry.collateral)

    async def _with_fills(self, record: OrderRecord, unified: str | None) -> OrderRecord:
        """``record`` completed from its fills, as the venue recorded them, where ccxt's order
        lacks the fill price, the fee or the realised PnL (``P.fill_facts``: nothing computed,
        nothing taken from a partial list). Unchanged when nothing filled or nothing is
        missing; a failed read of the fills is logged: the order itself is known."""
        if not P.lacks_fill_facts(record, self.entry.fill_pnl):
            return record
        unified = unified or (self._markets[record["symbol"]]["symbol"] if record["symbol"] in self._markets else None)
        if not self._has("fetchMyTrades") or unified is None:
            return record
        since = record["created_at"] - _FILL_LOOKBACK_MS if record["created_at"] else None
        try:
            trades = await self._read("fetch_my_trades", unified, since)
            facts = P.fill_facts(trades if isinstance(trades, list) else [], record["id"],
                                 P.dec(record["filled_size"]) or Decimal(0), self.entry.collateral,
                                 self.entry.fill_pnl)
        except (MpdexError, ArithmeticError, TypeError, ValueError) as exc:
            log.warning("%s %s order %s: its fills could not be read (%s)", self.name, self._who, record["id"],
                        type(exc).__name__)
            return record
        if facts is None:
            log.info("%s %s order %s: its fills are not all listed yet; price/fee left as ccxt gave them", self.name,
                     self._who, record["id"])
            return record
        out: OrderRecord = {**record}
        for key, value in zip(("avg_price", "fee", "realized_pnl"), facts, strict=True):
            if out.get(key) is None and value is not None:
                out[key] = float(value)  # type: ignore[literal-required]
        return out

    async def _find_by_client_id(self, cid: str, unified: str | None) -> OrderRecord | None:
        if self.entry.lookup == "fetch_order":
            try:
                order = await self._read("fetch_order", None, unified, {"clientOrderId": cid})
            except OrderNotFound:
                return None
            except ExchangeError as exc:
                if any(code in str(exc) for code in self.entry.not_found_codes):
                    return None
                raise
            if not order or order.get("id") in (None, ""):
                return None  # e.g. Hyperliquid's {"status": "unknownOid"}
            record = self._record(order)
            if record["client_order_id"] not in (None, cid):
                raise ExchangeError(f"{self.name} answered order {record['id']} with client id "
                                    f"{record['client_order_id']} for a lookup of {cid}", raw=record["raw"])
            return record
        sources = ["fetch_open_orders"]
        if self._has("fetchClosedOrders"):
            sources.append("fetch_closed_orders")
        elif self._has("fetchOrders"):
            sources.append("fetch_orders")
        for source in sources:
            for order in await self._read(source, unified):
                if str(order.get("clientOrderId")) == cid:
                    return self._record(order)
        return None

    async def get_open_orders(self, symbol: str | None = None) -> list[OpenOrder]:
        unified = self._markets[self.resolve_symbol(symbol)]["symbol"] if symbol is not None else None
        orders = await self._read("fetch_open_orders", unified)
        out = []
        for order in orders:
            record = self._record(order)
            if record["symbol"] in self._markets:
                out.append(P.as_open_order(record))
        out.sort(key=lambda o: (o["created_at"] or 0, o["id"]))
        return out

    # -- account ---------------------------------------------------------------------

    async def get_positions(self) -> list[Position]:
        if not self._has("fetchPositions"):
            raise NotSupported(f"{self.name}: ccxt cannot read positions here")
        out = []
        for raw in await self._read("fetch_positions"):
            native = self._native_of_unified(raw.get("symbol"))
            if native is None:
                continue
            position = P.parse_position(raw, native)
            if position is not None:
                out.append(position)
        return sorted(out, key=lambda p: p["symbol"])

    async def get_position(self, symbol: str) -> Position | None:
        native = self.resolve_symbol(symbol)
        for position in await self.get_positions():
            if position["symbol"] == native:
                return position
        return None


    async def get_collateral(self) -> Collateral:
        """``available_collateral`` / ``total_collateral`` in the venue's collateral currency:
        ccxt's balance (free / total), or the venue's account summary where ccxt's balance
        has no free figure (``account_summary`` in the venue entry)."""
        summary = self.entry.account_summary
        if not summary:
            return P.parse_collateral(await self._read("fetch_balance"), self.entry.collateral)
        if summary.get("auth"):
            await self._read(summary["auth"])
        raw = await self._read(summary["method"])
        if summary.get("root") and isinstance(raw, Mapping):
            raw = raw.get(summary["root"])
        values = {k: P.dec(raw.get(summary[k])) if isinstance(raw, Mapping) else None
                  for k in ("available", "total", "margin_used") if k in summary}
        if values.get("available") is None or values.get("total") is None:
            raise ExchangeError(f"{self.name}: the account summary has no {summary['available']}/{summary['total']}",
                                raw=raw)
        out: Collateral = {"available_collateral": float(values["available"]),  # type: ignore[arg-type]
                           "total_collateral": float(values["total"]), "raw": raw}  # type: ignore[arg-type]
        if values.get("margin_used") is not None:
            out["margin_used"] = float(values["margin_used"])  # type: ignore[arg-type]
        return out

    # -- market data -------------------------------------------------------------------

    def _socket(self, read: str) -> CcxtWatch | None:
        watch = self._watch
        return watch if watch is not None and read in watch.reads else None

    async def _mark_decimal(self, native: str, max_age: float | None = None) -> Decimal:
        """The mark: the socket's while younger than ``max_age`` (default ``ws_max_age``), else REST."""
        watch = self._socket("get_mark_price")
        if watch is None:
            return await self._rest_mark(native)
        return await watch.mark(native, self.ws_max_age if max_age is None else max_age,
                                lambda: self._rest_mark(native))

    async def _rest_mark(self, native: str) -> Decimal:
        unified = self._markets[native]["symbol"]
        mark = None
        if self._has("fetchTicker"):
            ticker = await self._read("fetch_ticker", unified)
            mark = P.dec(ticker.get("markPrice"))
        if mark is None and (self._has("fetchFundingRate") or self._has("fetchFundingRates")):
            mark = P.dec((await self._funding(native)).get("markPrice"))
        if mark is None or mark <= 0:
            raise ExchangeError(f"{self.name}: ccxt gives no positive mark price for {native}")
        return mark

    async def get_mark_price(self, symbol: str) -> float:
        return float(await self._mark_decimal(self.resolve_symbol(symbol)))

    async def get_orderbook(self, symbol: str, timeout: float = 5.0) -> OrderBook:
        """Best first; from the socket while fresh where it serves books, else REST; bounded
        by ``timeout``."""
        timeout = check_seconds(timeout, "timeout")
        native = self.resolve_symbol(symbol)
        watch = self._socket("get_orderbook")
        try:
            if watch is not None:
                return await asyncio.wait_for(watch.orderbook(native, timeout=timeout / 2, max_age=self.ws_max_age),
                                              timeout)
            book = await asyncio.wait_for(self._rest_book(native), timeout)
        except asyncio.TimeoutError:
            raise RequestTimeout(f"no order book for {native} within {timeout:g}s") from None
        return parse_book(book, time.time_ns() // 1_000_000)

    async def _rest_book(self, native: str) -> Any:
        return await self._read("fetch_order_book", self._markets[native]["symbol"])

    async def unsubscribe_orderbook(self, symbol: str) -> None:
        """Stop this instance's book watcher of ``symbol`` (nothing to do over REST)."""
        watch = self._socket("get_orderbook")
        if watch is not None:
            await watch.release_book(self.resolve_symbol(symbol))

    async def get_funding_rate(self, symbol: str) -> FundingRate:
        """The current rate with ccxt's reported interval (``interval_hours``) and its
        per-hour value; ``NotSupported`` when ccxt does not say what the interval is."""
        native = self.resolve_symbol(symbol)
        return P.parse_funding_rate(await self._funding(native), native, self.name)

    async def _funding(self, native: str) -> Mapping[str, Any]:
        unified = self._markets[native]["symbol"]
        if self._has("fetchFundingRate"):
            rate: Mapping[str, Any] = await self._read("fetch_funding_rate", unified)
            return rate
        if self._has("fetchFundingRates"):
            rates = await self._read("fetch_funding_rates", [unified])
            found = rates.get(unified) if isinstance(rates, Mapping) else None
            if found is None:
                raise ExchangeError(f"{self.name}: ccxt returned no funding rate for {native}")
            return found  # type: ignore[no-any-return]
        raise NotSupported(f"{self.name}: ccxt {self.entry.ccxt_id} reads no funding rates")

    async def get_markets(self) -> list[MarketInfo]:
        """Every loaded perpetual's rules as the adapter applies them (``market_rules``) and
        ccxt's market flags (``active`` → TRADING/HALT, leverage limits, fee rates)."""
        out: list[MarketInfo] = []
        for native in sorted(self._markets):
            market, rules = self._markets[native], self.market_rules(native)
            grid = rules.price_grid
            tick = getattr(grid, "tick", None)
            lev = ((market.get("limits") or {}).get("leverage") or {}).get("max")
            active = market.get("active")
            out.append({
                "symbol": native, "base": str(market.get("base") or native), "quote": rules.quote,
                "status": "UNKNOWN" if active is None else "TRADING" if active else "HALT",
                "size_step": float(rules.size_step), "min_size": float(rules.min_size),
                "tick": float(tick) if isinstance(tick, Decimal) else None, "price_rule": grid.describe(),
                "min_notional": None if rules.min_notional is None else float(rules.min_notional),
                "max_leverage": int(lev) if isinstance(lev, (int, float)) and lev > 0 else None,
                "taker_fee": P.num(market.get("taker")), "maker_fee": P.num(market.get("maker")),
            })
        return out

    async def get_trading_fees(self, symbol: str) -> TradingFees:
        """The account's fees when ccxt can read them (``fetchTradingFee``), else the market's."""
        native, market = self._market(symbol)
        source: Mapping[str, Any] = market
        if self._has("fetchTradingFee"):
            source = await self._read("fetch_trading_fee", market["symbol"])
        maker, taker = P.dec(source.get("maker")), P.dec(source.get("taker"))
        if maker is None or taker is None:
            raise ExchangeError(f"{self.name}: ccxt gives no maker/taker fee for {native}")
        return {"symbol": native, "maker": float(maker), "taker": float(taker)}
