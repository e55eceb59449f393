"""The read side of ``CcxtPerpExchange``: the calls into ccxt, symbols and market rules from
the loaded markets, positions, collateral, leverage, marks, books, funding, markets, fees.

``CcxtReads`` holds no state of its own: ``CcxtPerpExchange.__init__`` / ``init`` set every
attribute declared below. Every call into ccxt goes through ``_call``, which maps ccxt's
errors onto ours (``wrappers.ccxt_errors``); a call that only reads goes through ``_read``,
whose requests are retried after a rate limit, a transport failure or a 5xx
(``wrappers.ccxt_http``). Writes (orders, cancels, leverage) use ``_call``: never retried.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any

from mpdex.config import check_seconds
from mpdex.errors import BadSymbol, ConfigError, ExchangeError, MpdexError, NotSupported, RequestTimeout
from mpdex.orders import MarketRules
from mpdex.types import Collateral, FundingRate, LeverageInfo, MarketInfo, OrderBook, Position, TradingFees

from . import ccxt_parsers as P
from .ccxt_errors import map_ccxt_error
from .ccxt_http import safe_reads
from .ccxt_venues import CcxtVenue

__all__ = ["CcxtReads"]


class CcxtReads:
    """What ``CcxtPerpExchange`` reads (it sets every attribute below)."""

    name: str
    entry: CcxtVenue
    exchange: Any
    _markets: dict[str, dict[str, Any]]
    _native_by_unified: dict[str, str]
    _rules: dict[str, MarketRules]

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

    async def get_leverage_info(self, symbol: str) -> LeverageInfo:
        """The account's leverage and margin mode on ``symbol`` from the first source that has
        them: ccxt's ``fetchLeverage`` / ``fetchLeverages``, then the venue's own read named in
        its entry (``leverage_read``: Hyperliquid's ``activeAssetData``). When none has it,
        ``leverage`` is None and ``message`` says why. A position's ``leverage`` is not used:
        where the venue reports none, ccxt derives one (1 / initial margin fraction), which is
        not the account's setting."""
        native, market = self._market(symbol)
        maximum = ((market.get("limits") or {}).get("leverage") or {}).get("max")
        info: LeverageInfo = {
            "symbol": native, "leverage": None, "margin_mode": None,
            "max_leverage": int(maximum) if maximum is not None else None,
            "available_margin_modes": ["cross", "isolated"] if self._has("setMarginMode") else [], "status": "ok",
        }
        reads: list[tuple[str, Callable[[str, str], Awaitable[tuple[int | None, str | None]]]]] = []
        if self._has("fetchLeverage") or self._has("fetchLeverages"):
            reads.append(("ccxt's leverage read", self._ccxt_leverage))
        if self.entry.leverage_read:
            reads.append(("the venue's leverage read", self._venue_leverage))
        for _, read in reads:
            lev, mode = await read(native, market["symbol"])
            if lev is not None:
                info["leverage"], info["margin_mode"] = lev, mode
                return info
        why = f"no leverage from {' or '.join(name for name, _ in reads)}" if reads else "ccxt has no leverage read"
        info["message"] = f"the account's leverage on {native} is unknown: {why} ({self.entry.ccxt_id}); " \
                          "max_leverage is the market's"
        return info

    async def _ccxt_leverage(self, native: str, unified: str) -> tuple[int | None, str | None]:
        """ccxt's leverage structure of ``unified``: only one that names this market (ccxt
        4.5.90's GRVT ``fetchLeverages`` keys every entry by None, so keys are not trusted)."""
        if self._has("fetchLeverage"):
            answer = await self._read("fetch_leverage", unified)
            answers = [answer] if isinstance(answer, Mapping) and answer.get("symbol") in (None, unified) else []
        else:
            found = await self._read("fetch_leverages")
            answers = [a for a in (found.values() if isinstance(found, Mapping) else ())
                       if isinstance(a, Mapping) and a.get("symbol") == unified]
        for answer in answers:
            lev = P.leverage_value(answer.get("longLeverage")) or P.leverage_value(answer.get("shortLeverage"))
            if lev is not None:
                return lev, P.margin_mode(answer.get("marginMode"))
        return None, None

    async def _venue_leverage(self, native: str, unified: str) -> tuple[int | None, str | None]:
        """The entry's ``leverage_read``: ccxt's implicit API method with the request filled in."""
        spec = self.entry.leverage_read
        names = {"native": native, "walletAddress": getattr(self.exchange, "walletAddress", "") or ""}
        request = {k: v.format_map(names) if isinstance(v, str) else v for k, v in spec["request"].items()}
        answer = await self._read(spec["method"], request)
        return P.leverage_value(P.dig(answer, spec["leverage"])), P.margin_mode(P.dig(answer, spec["margin_mode"]))

    # -- market data -------------------------------------------------------------------

    async def _mark_decimal(self, native: str) -> Decimal:
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
        timeout = check_seconds(timeout, "timeout")
        native, market = self._market(symbol)
        try:
            book = await asyncio.wait_for(self._read("fetch_order_book", market["symbol"]), timeout)
        except asyncio.TimeoutError:
            raise RequestTimeout(f"no order book for {native} within {timeout:g}s") from None
        return {
            "bids": [[float(p), float(s)] for p, s, *_ in book.get("bids") or []],
            "asks": [[float(p), float(s)] for p, s, *_ in book.get("asks") or []],
            "time": time.time_ns() // 1_000_000,
        }

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
