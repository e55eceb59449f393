"""Pure parsers: Vest JSON → the contract's shapes. Shared by REST and the socket layer.

Numbers leave as ``float`` (or ``None`` where Vest gave null); the raw payload rides along.
Malformed payloads raise ``ExchangeError`` naming the field — never a silent default.
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from mpdex.errors import ExchangeError
from mpdex.precision import payload_decimal
from mpdex.types import Collateral, FundingEntry, FundingRate, OrderBook, OrderRecord, Position

__all__ = [
    "TERMINAL_STATUSES",
    "OPEN_STATUSES",
    "dec",
    "opt_float",
    "parse_position",
    "position_for",
    "parse_collateral",
    "parse_order",
    "parse_orderbook",
    "find_ticker",
    "parse_funding_rate",
    "parse_funding_history",
    "parse_kline",
    "parse_klines",
    "parse_ticker_24h",
    "leverage_for",
]

OPEN_STATUSES = frozenset({"NEW", "PARTIALLY_FILLED"})
TERMINAL_STATUSES = frozenset({"FILLED", "CANCELLED", "REJECTED"})


def dec(value: Any, field: str = "value") -> Decimal:
    """Exact Decimal of a Vest decimal string (or number); ``ExchangeError`` if it is not one."""
    return payload_decimal(value, field, "Vest")


def _f(raw: Mapping[str, Any], field: str) -> float:
    if field not in raw:
        raise ExchangeError(f"Vest payload has no '{field}'", raw=dict(raw))
    return float(dec(raw[field], field))


def opt_float(value: Any, field: str = "value") -> float | None:
    return None if value is None or value == "" else float(dec(value, field))


# -- account ------------------------------------------------------------------------


def parse_position(raw: Mapping[str, Any], leverage: int | None = None) -> Position | None:
    """One ``/account`` position → ``Position``; ``None`` when its size is zero. ``leverage``
    is the account's setting for the market (``/account.leverages``); ``margin_used`` is the
    position's ``initMargin``."""
    size = dec(raw.get("size"), "size")
    if size == 0:
        return None
    is_long = raw.get("isLong")
    if not isinstance(is_long, bool):
        # some feeds sign the size instead of sending isLong
        is_long = size > 0
    return {
        "symbol": str(raw.get("symbol")),
        "side": "long" if is_long else "short",
        "size": float(abs(size)),
        "entry_price": _f(raw, "entryPrice"),
        "unrealized_pnl": float(dec(raw.get("unrealizedPnl", "0"), "unrealizedPnl")),
        "liquidation_price": _liquidation_price(raw.get("liqPrice")),
        "raw_data": raw,
        "leverage": leverage,
        "margin_mode": "cross",
        "margin_used": opt_float(raw.get("initMargin"), "initMargin"),
    }


def _liquidation_price(value: Any) -> float | None:
    # Vest reports "0" when the account can absorb any move (no liquidation price)
    px = opt_float(value, "liqPrice")
    return px if px is not None and px > 0 else None


def positions_of(account: Mapping[str, Any]) -> list[Position]:
    """Every open position in a ``/account`` body, sorted by symbol."""
    parsed = (parse_position(raw, leverage_for(account, str(raw.get("symbol"))))
              for raw in account.get("positions") or [] if isinstance(raw, dict))
    return sorted((p for p in parsed if p is not None), key=lambda p: p["symbol"])


def position_for(account: Mapping[str, Any], symbol: str) -> Position | None:
    """The open position in ``symbol`` from a ``/account`` body, ``None`` when flat."""
    for raw in account.get("positions") or []:
        if isinstance(raw, dict) and raw.get("symbol") == symbol:
            pos = parse_position(raw, leverage_for(account, symbol))
            if pos is not None:
                return pos
    return None


def parse_collateral(account: Mapping[str, Any]) -> Collateral:
    """``/account`` → ``Collateral``.

    * ``available_collateral`` = ``withdrawable`` (free USDC: not locked by positions or orders)
    * ``total_collateral``     = ``totalAccountValue`` (balance + unrealized PnL)
    * ``unrealized_pnl``       = Σ ``positions[].unrealizedPnl`` (includes funding)
    * ``margin_used``          = Σ ``positions[].initMargin`` + ``openOrderMargin``
    """
    positions = [p for p in account.get("positions") or [] if isinstance(p, dict)]
    upnl = sum((dec(p.get("unrealizedPnl", "0"), "unrealizedPnl") for p in positions), Decimal(0))
    used = sum((dec(p.get("initMargin", "0"), "initMargin") for p in positions), Decimal(0))
    used += dec(account.get("openOrderMargin", "0"), "openOrderMargin")
    return {
        "available_collateral": _f(account, "withdrawable"),
        "total_collateral": _f(account, "totalAccountValue"),
        "unrealized_pnl": float(upnl),
        "margin_used": float(used),
        "raw": account,
    }


def leverage_for(account: Mapping[str, Any], symbol: str) -> int | None:
    """The leverage set for ``symbol`` in ``/account.leverages``, ``None`` when unset."""
    for row in account.get("leverages") or []:
        if isinstance(row, dict) and row.get("symbol") == symbol and isinstance(row.get("value"), int):
            return int(row["value"])
    return None


# -- orders -------------------------------------------------------------------------


def _filled_size(raw: Mapping[str, Any], size: Decimal, status: str) -> Decimal:
    for field in ("filledSize", "cumFilledSize", "executedQty"):  # cumulative, when a feed has it
        if raw.get(field) is not None:
            return dec(raw[field], field)
    if status == "FILLED":
        return size
    if raw.get("lastFilledSize") is not None and status in ("PARTIALLY_FILLED", "CANCELLED"):
        # v2 publishes only the last fill: a lower bound of the cumulative fill
        return dec(raw["lastFilledSize"], "lastFilledSize")
    return Decimal(0)


def _price_pnl(raw: Mapping[str, Any]) -> float | None:
    """The contract's ``realized_pnl`` (price PnL only) from Vest's ``realizedPnl``, which
    includes the fees and the funding settled by the fills: ``realizedPnl + fees −
    settledFunding`` (an opening fill: ``-fee + fee − 0 = 0``)."""
    if raw.get("realizedPnl") is None:
        return None
    total = dec(raw["realizedPnl"], "realizedPnl") + dec(raw.get("fees") or "0", "fees")
    return float(total - dec(raw.get("settledFunding") or "0", "settledFunding"))


def parse_order(raw: Mapping[str, Any]) -> OrderRecord:
    """A ``GET /orders`` object (or a full ORDER event) → ``OrderRecord``: the ``OpenOrder``
    fields plus ``avg_price``, ``fee``, ``realized_pnl``, ``code`` (``None`` unless
    rejected) and ``raw``."""
    if not isinstance(raw, Mapping) or not raw.get("id"):
        raise ExchangeError("Vest order has no 'id'", raw=raw)
    status = str(raw.get("status") or "").upper()
    size = dec(raw.get("size"), "size")
    nonce = raw.get("nonce")
    return {
        "id": str(raw["id"]),
        "order_id": str(raw["id"]),
        "client_order_id": str(nonce) if nonce is not None else None,
        "symbol": str(raw.get("symbol")),
        "side": "buy" if raw.get("isBuy") else "sell",
        "size": float(size),
        "filled_size": float(_filled_size(raw, size, status)),
        "price": opt_float(raw.get("limitPrice"), "limitPrice"),
        "order_type": str(raw.get("orderType") or "").lower(),
        "status": status,
        "reduce_only": bool(raw.get("reduceOnly")),
        "created_at": raw.get("postTime") if isinstance(raw.get("postTime"), int) else None,
        "avg_price": opt_float(raw.get("avgFilledPrice"), "avgFilledPrice"),
        "fee": opt_float(raw.get("fees"), "fees"),
        "realized_pnl": _price_pnl(raw),
        "code": raw.get("code"),
        "raw": raw,
    }


# -- market data ----------------------------------------------------------------------


def _levels(rows: Any, side: str) -> list[list[float]]:
    if not isinstance(rows, list):
        raise ExchangeError(f"Vest depth: '{side}' is not a list", raw=rows)
    out = []
    for row in rows:
        if not isinstance(row, (list, tuple)) or len(row) < 2:
            raise ExchangeError(f"Vest depth: bad {side} level {row!r}")
        out.append((dec(row[0], "price"), dec(row[1], "qty")))
    out.sort(key=lambda lv: lv[0], reverse=(side == "bids"))
    return [[float(p), float(q)] for p, q in out if q != 0]


def parse_orderbook(raw: Mapping[str, Any], time_ms: int) -> OrderBook:
    """``/depth`` body or a ``{symbol}@depth`` frame's ``data`` → best-first book."""
    if not isinstance(raw, Mapping):
        raise ExchangeError("Vest depth is not an object", raw=raw)
    return {"bids": _levels(raw.get("bids"), "bids"), "asks": _levels(raw.get("asks"), "asks"), "time": int(time_ms)}


def find_ticker(payload: Any, symbol: str) -> dict[str, Any]:
    """The ticker of ``symbol`` in ``{"tickers": [...]}`` or a bare list."""
    rows = payload.get("tickers") if isinstance(payload, dict) else payload
    for row in rows or []:
        if isinstance(row, dict) and row.get("symbol") == symbol:
            return row
    raise ExchangeError(f"Vest returned no ticker for {symbol}", raw=payload)


#: Vest names its funding field by its interval: ``oneHrFundingRate`` is a one-hour rate
FUNDING_INTERVAL_HOURS = 1.0


def parse_funding_rate(ticker: Mapping[str, Any]) -> FundingRate:
    """A latest ticker (REST or WS) → ``FundingRate``: ``oneHrFundingRate`` is the rate of
    one hour, so ``funding_rate == funding_rate_per_hour``."""
    rate = _f(ticker, "oneHrFundingRate")
    return {
        "symbol": str(ticker.get("symbol")),
        "funding_rate": rate,
        "interval_hours": FUNDING_INTERVAL_HOURS,
        "funding_rate_per_hour": rate / FUNDING_INTERVAL_HOURS,
        "mark_price": _f(ticker, "markPrice"),
        "index_price": _f(ticker, "indexPrice"),
    }


def parse_funding_history(rows: Any) -> list[FundingEntry]:
    """``/funding/history`` → ``[{symbol, time, funding_rate, interval_hours}]`` oldest first."""
    if not isinstance(rows, list):
        raise ExchangeError("Vest funding history is not a list", raw=rows)
    parsed = sorted(
        (int(r["time"]), str(r.get("symbol")), _f(r, "oneHrFundingRate"))
        for r in rows
        if isinstance(r, dict) and "time" in r
    )
    return [{"symbol": s, "time": t, "funding_rate": rate, "interval_hours": FUNDING_INTERVAL_HOURS}
            for t, s, rate in parsed]


def parse_kline(row: Any) -> dict[str, Any]:
    """One 9-element kline, read **by JSON type** (the docs and one live collector disagree
    on the column order): integers are times / trade count in order of appearance, strings
    are open, high, low, close, volume, quote volume. The WS form may send the trade count
    as a string (then it is the 7th string)."""
    if not isinstance(row, (list, tuple)) or len(row) < 8:
        raise ExchangeError(f"Vest kline is not a 9-element array: {row!r}")
    ints = [v for v in row if isinstance(v, int) and not isinstance(v, bool)]
    strs = [v for v in row if isinstance(v, str)]
    if len(ints) == 2 and len(strs) == 7:
        strs, trades_text = strs[:6], strs[6]
        ints.append(int(dec(trades_text, "trades")))
    if len(ints) != 3 or len(strs) != 6:
        raise ExchangeError(f"Vest kline has unexpected types: {row!r}")
    open_time, close_time, trades = ints
    o, h, low, c, vol, qvol = (float(dec(s, "kline")) for s in strs)
    return {
        "open_time": open_time, "open": o, "high": h, "low": low, "close": c,
        "close_time": close_time, "volume": vol, "quote_volume": qvol, "trades": trades,
    }


def parse_klines(rows: Any) -> list[dict[str, Any]]:
    if not isinstance(rows, list):
        raise ExchangeError("Vest klines is not a list", raw=rows)
    return sorted((parse_kline(r) for r in rows), key=lambda k: k["open_time"])


def parse_ticker_24h(t: Mapping[str, Any]) -> dict[str, Any]:
    """A ``/ticker/24hr`` row → floats with snake_case names (+ ``raw``)."""
    return {
        "symbol": str(t.get("symbol")),
        "open": _f(t, "openPrice"),
        "high": _f(t, "highPrice"),
        "low": _f(t, "lowPrice"),
        "close": _f(t, "closePrice"),
        "volume": _f(t, "volume"),
        "quote_volume": _f(t, "quoteVolume"),
        "price_change": opt_float(t.get("priceChange"), "priceChange"),
        "price_change_percent": opt_float(t.get("priceChangePercent"), "priceChangePercent"),
        "open_time": t.get("openTime"),
        "close_time": t.get("closeTime"),
        "raw": t,
    }
