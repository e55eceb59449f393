"""Vest markets: ``/exchangeInfo`` → ``VestMarket`` and coin/symbol resolution. Pure."""
from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from mpdex.errors import BadSymbol, ExchangeError
from mpdex.precision import step_of

__all__ = ["VestMarket", "parse_markets", "with_status", "SymbolResolver", "symbol_for_coin"]


@dataclass(frozen=True)
class VestMarket:
    """One perp market. Steps are exact Decimals; ``size_step == min_size`` on Vest."""

    symbol: str
    display_name: str
    base: str
    quote: str
    size_decimals: int
    price_decimals: int
    size_step: Decimal
    tick: Decimal
    min_size: Decimal
    init_margin_ratio: Decimal
    maint_margin_ratio: Decimal
    taker_fee: Decimal
    status: str  # "TRADING" | "HALT" | … ; "UNKNOWN" when the exchange said nothing
    max_leverage: int
    asset: str | None = None

    @property
    def halted(self) -> bool:
        return self.status == "HALT"


def symbol_for_coin(coin: str, quote: str | None = None) -> str:
    """The registry's perp symbol rule: ``btc`` → ``BTC-PERP``. Native symbols
    (``BTC-PERP``, ``AAPL-USD-PERP``) pass through; mixed case is meaningful on Vest
    (``kBONK``) and kept, one-case input is upper-cased. Equities come back as their display
    name (``AAPL-PERP``), which ``SymbolResolver`` maps to ``AAPL-USD-PERP``. Vest perps all
    settle in USDC, so ``quote`` is ignored."""
    if coin.upper().endswith("-PERP"):
        return coin
    base = coin.upper() if (coin.isupper() or coin.islower()) else coin
    return f"{base}-PERP"


def _dec(raw: Mapping[str, Any], field: str, symbol: str) -> Decimal:
    try:
        value = Decimal(str(raw[field]))
    except (KeyError, InvalidOperation, TypeError):
        raise ExchangeError(f"exchangeInfo: {symbol} has no valid '{field}'", raw=dict(raw)) from None
    if not value.is_finite():
        raise ExchangeError(f"exchangeInfo: {symbol} has a non-finite '{field}'", raw=dict(raw))
    return value


def _int(raw: Mapping[str, Any], field: str, symbol: str) -> int:
    value = raw.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ExchangeError(f"exchangeInfo: {symbol} has no valid '{field}'", raw=dict(raw))
    return value


def _market(raw: Mapping[str, Any], ticker_status: str | None) -> VestMarket:
    symbol = raw.get("symbol")
    if not isinstance(symbol, str) or not symbol:
        raise ExchangeError("exchangeInfo: a market has no symbol", raw=dict(raw))
    size_dp = _int(raw, "sizeDecimals", symbol)
    price_dp = _int(raw, "priceDecimals", symbol)
    imr = _dec(raw, "initMarginRatio", symbol)
    tick = step_of(price_dp)
    if raw.get("minTickSize") is not None:  # the 2026 gateway publishes a coarser tick
        tick = max(tick, _dec(raw, "minTickSize", symbol))
    status = raw.get("tradingStatus") or ticker_status or "UNKNOWN"
    size_step = step_of(size_dp)
    return VestMarket(
        symbol=symbol,
        display_name=str(raw.get("displayName") or raw.get("displaySymbol") or symbol),
        base=str(raw.get("base") or symbol.split("-")[0]),
        quote=str(raw.get("quote") or "USDC"),
        size_decimals=size_dp,
        price_decimals=price_dp,
        size_step=size_step,
        tick=tick,
        min_size=size_step,
        init_margin_ratio=imr,
        maint_margin_ratio=_dec(raw, "maintMarginRatio", symbol),
        taker_fee=_dec(raw, "takerFee", symbol),
        status=str(status).upper(),
        max_leverage=int(Decimal(1) / imr) if imr > 0 else 1,
        asset=raw.get("asset"),
    )


def parse_markets(exchange_info: Any, tickers: Any = None) -> dict[str, VestMarket]:
    """``{symbol: VestMarket}`` from ``/exchangeInfo`` (+ ``/ticker/latest`` for status
    when exchangeInfo carries no ``tradingStatus``)."""
    if not isinstance(exchange_info, dict) or not isinstance(exchange_info.get("symbols"), list):
        raise ExchangeError("exchangeInfo has no 'symbols' list", raw=exchange_info)
    status_of: dict[str, str] = {}
    rows = tickers.get("tickers") if isinstance(tickers, dict) else tickers
    for t in rows or []:
        if isinstance(t, dict) and t.get("symbol") and t.get("status"):
            status_of[t["symbol"]] = str(t["status"])
    markets = {}
    for raw in exchange_info["symbols"]:
        m = _market(raw, status_of.get(raw.get("symbol", "")))
        markets[m.symbol] = m
    return markets


def with_status(market: VestMarket, status: str | None) -> VestMarket:
    """``market`` with a fresher status (from a ticker), unchanged when ``status`` is empty."""
    if not status or str(status).upper() == market.status:
        return market
    return dataclasses.replace(market, status=str(status).upper())


class SymbolResolver:
    """Coin or symbol → native symbol.

    Exact matches (symbol, display name, base) win; otherwise a case-insensitive match is
    used when it is unambiguous (``btc`` → ``BTC-PERP``, ``kbonk`` → ``kBONK-PERP`` unless
    another market differs only by case). ``AAPL`` and ``AAPL-PERP`` → ``AAPL-USD-PERP``.
    """

    def __init__(self, markets: Iterable[VestMarket]) -> None:
        self._exact: dict[str, str] = {}
        self._folded: dict[str, set[str]] = {}
        names: list[str] = []
        for m in markets:
            for alias in (m.symbol, m.display_name, m.base, f"{m.base}-PERP"):
                self._exact.setdefault(alias, m.symbol)
                self._folded.setdefault(alias.upper(), set()).add(m.symbol)
            names.append(m.symbol)
        # symbols themselves always beat aliases of other markets
        for s in names:
            self._exact[s] = s
        self._names = sorted(set(names))

    def resolve(self, text: Any) -> str:
        if not isinstance(text, str) or not text.strip():
            raise BadSymbol(f"symbol must be a non-empty string, got {text!r}")
        key = text.strip()
        if key in self._exact:
            return self._exact[key]
        candidates = self._folded.get(key.upper(), set())
        if len(candidates) == 1:
            return next(iter(candidates))
        if len(candidates) > 1:
            raise BadSymbol(f"'{key}' is ambiguous on Vest: {', '.join(sorted(candidates))}")
        by_upper = {n.upper(): n for n in self._names}
        close = difflib.get_close_matches(key.upper(), list(by_upper) + list(self._folded), n=5, cutoff=0.6)
        suggestions = []
        for c in close:
            for s in sorted(self._folded.get(c, {by_upper.get(c, c)})):
                if s not in suggestions:
                    suggestions.append(s)
        hint = f"; close matches: {', '.join(suggestions[:5])}" if suggestions else ""
        raise BadSymbol(f"unknown Vest symbol '{key}'{hint}")

    @property
    def symbols(self) -> list[str]:
        return list(self._names)
