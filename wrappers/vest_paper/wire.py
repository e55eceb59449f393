"""Vest v2 wire shapes of the paper server: number formatting and the JSON objects it returns
(orders, ORDER events, the account, tickers, books, trades, klines), field order as in the
docs and the samples.

Numbers are strings with exactly the market's decimals (half up, never ``-0``); averages
and entry prices that fall between ticks keep up to 8 decimals. Public trades have a
negative ``qty`` when the taker sold; REST trade ids are integers, socket ids ``0x…``
strings (as in the samples). ``numTrades`` in a kline is a string on the socket.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from mpdex.paper.ledger import Account, Order
from mpdex.paper.markets import Market
from mpdex.paper.prices import Bar, Trade
from mpdex.paper.simulator import Simulator

from .errors import reason_code

__all__ = [
    "fmt", "fmt_min", "ratio", "order_json", "order_event", "account_json", "ticker_latest", "tickers_ws",
    "ticker_24h", "depth_json", "trade_json", "kline_json",
]


def fmt(value: Decimal, decimals: int) -> str:
    """Fixed-point with exactly ``decimals`` places (half up), never ``-0``."""
    q = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return f"{abs(q) if q == 0 else q:f}"


def fmt_min(value: Decimal, decimals: int, max_decimals: int = 8) -> str:
    """At least ``decimals`` places, more (up to ``max_decimals``) when the value needs
    them — for averages and entry prices that may fall between ticks."""
    q = value.quantize(Decimal(1).scaleb(-max_decimals), rounding=ROUND_HALF_UP).normalize()
    places = max(decimals, -int(q.as_tuple().exponent))
    return fmt(q, places)


def ratio(value: Decimal) -> str:
    return fmt(value, 4)


def _opt(value: Decimal | None, decimals: int) -> str | None:
    return None if value is None else fmt(value, decimals)


def _nonce(o: Order) -> int:
    return int(o.client_id or 0)


def order_json(o: Order, m: Market) -> dict[str, Any]:
    """The ``GET /orders`` object (field order as in the docs)."""
    filled = o.filled > 0
    return {
        "id": o.id,
        "nonce": _nonce(o),
        "symbol": o.symbol,
        "isBuy": o.is_buy,
        "orderType": o.order_type,
        "limitPrice": o.limit_price,
        "markPrice": fmt(o.mark_price, m.price_decimals),
        "size": o.size,
        "status": o.status,
        "reduceOnly": o.reduce_only,
        "initMarginRatio": ratio(o.init_margin_ratio),
        "code": reason_code(o.reason) if o.status == "REJECTED" else None,
        "lastFilledSize": _opt(o.last_filled_size, m.size_decimals),
        "lastFilledPrice": None if o.last_filled_price is None else fmt_min(o.last_filled_price, m.price_decimals),
        "lastFilledTime": o.last_filled_time,
        "avgFilledPrice": None if o.avg_price is None else fmt_min(o.avg_price, m.price_decimals),
        "settledFunding": fmt(o.settled_funding or Decimal(0), 6) if filled else None,
        "fees": fmt(o.fees, 6),
        "realizedPnl": fmt(o.realized_pnl or Decimal(0), 6) if filled else None,
        "postTime": o.post_time,
        "tpPrice": None,
        "slPrice": None,
    }


def order_event(o: Order, m: Market) -> dict[str, Any]:
    """``account_private`` ORDER args for the order's current status (vest-api.md §5.4)."""
    if o.status == "CANCELLED":
        args: dict[str, Any] = {"id": o.id, "status": o.status, "postTime": o.post_time, "nonce": _nonce(o)}
    elif o.status == "REJECTED":
        args = {"id": o.id, "status": o.status, "code": reason_code(o.reason), "postTime": o.post_time, "nonce": _nonce(o)}
    else:
        args = {
            "id": o.id,
            "symbol": o.symbol,
            "isBuy": o.is_buy,
            "orderType": o.order_type,
            "limitPrice": o.limit_price,
            "size": o.size,
            "reduceOnly": o.reduce_only,
            "initMarginRatio": ratio(o.init_margin_ratio),
            "status": o.status,
        }
        if o.status in ("FILLED", "PARTIALLY_FILLED"):
            args.update(
                lastFilledSize=_opt(o.last_filled_size, m.size_decimals),
                lastFilledPrice=None if o.last_filled_price is None else fmt_min(o.last_filled_price, m.price_decimals),
                lastFilledTime=o.last_filled_time,
                avgFilledPrice=None if o.avg_price is None else fmt_min(o.avg_price, m.price_decimals),
                cumFunding=fmt(o.settled_funding or Decimal(0), 6),
                fees=fmt(o.fees, 6),
            )
        args.update(postTime=o.post_time, nonce=_nonce(o))
    return {"event": "ORDER", "args": args}


def account_json(sim: Simulator, account: Account) -> dict[str, Any]:
    """``GET /account``."""
    state = sim.state(account.id)
    v = sim.view(state)
    positions = []
    for pv in v.positions:
        m, p = pv.market, pv.position
        positions.append({
            "symbol": p.symbol,
            "isLong": p.size > 0,
            "size": fmt(abs(p.size), m.size_decimals),
            "entryPrice": fmt_min(p.entry_price, m.price_decimals),
            "entryFunding": fmt(p.entry_funding, 12),
            "unrealizedPnl": fmt(pv.unrealized_pnl, 6),
            "settledFunding": fmt(p.settled_funding, 6),
            "markPrice": fmt(pv.mark, m.price_decimals),
            "indexPrice": fmt(sim.prices.states[p.symbol].index, m.price_decimals),
            "liqPrice": fmt(pv.liq_price, m.price_decimals),
            "initMargin": fmt(pv.init_margin, 6),
            "maintMargin": fmt(pv.maint_margin, 6),
            "initMarginRatio": ratio(Decimal(1) / pv.leverage),
        })
    return {
        "address": account.address,
        "balances": [{"asset": "USDC", "total": fmt(v.balance, 6), "locked": fmt(v.margin_used, 6)}],
        "collateral": fmt(v.balance, 6),
        "withdrawable": fmt(v.withdrawable, 6),
        "totalAccountValue": fmt(v.account_value, 6),
        "openOrderMargin": fmt(v.open_order_margin, 6),
        "totalMaintMargin": fmt(v.maint_margin, 6),
        "positions": positions,
        "leverages": [{"symbol": s, "value": state.leverages[s]} for s in sim.markets],
        "lp": {"balance": "0.000000", "shares": "0.000000", "unrealizedPnl": "0.000000"},
        "time": sim.clock_ms(),
        "twitterUsername": None,
        "discordUsername": None,
    }


def ticker_latest(sim: Simulator, symbols: list[str]) -> list[dict[str, Any]]:
    """``GET /ticker/latest`` rows; ``imbalance`` is the paper accounts' net position."""
    imbalance = sim.ledger.net_sizes()
    out = []
    for s in symbols:
        st, m = sim.prices.states[s], sim.markets[s]
        out.append({
            "symbol": s,
            "markPrice": fmt(st.mark, m.price_decimals),
            "indexPrice": fmt(st.index, m.price_decimals),
            "imbalance": fmt(imbalance.get(s, Decimal(0)), m.size_decimals),
            "oneHrFundingRate": f"{sim.funding_rate(s):f}",
            "cumFunding": fmt(st.cum_funding, 12),
            "status": st.status,
        })
    return out


def tickers_ws(sim: Simulator) -> list[dict[str, Any]]:
    """The ``tickers`` channel's data (every market)."""
    now = sim.clock_ms()
    out = []
    for row in ticker_latest(sim, list(sim.markets)):
        m = sim.markets[row["symbol"]]
        stats = sim.prices.stats_24h(row["symbol"], now)
        out.append({
            "symbol": row["symbol"],
            "oneHrFundingRate": row["oneHrFundingRate"],
            "cumFunding": row["cumFunding"],
            "imbalance": row["imbalance"],
            "indexPrice": row["indexPrice"],
            "markPrice": row["markPrice"],
            "priceChange": fmt(stats["change"], m.price_decimals),  # type: ignore[arg-type]
            "priceChangePercent": f"{stats['change_pct']:f}",
            "status": row["status"],
        })
    return out


def ticker_24h(sim: Simulator, symbols: list[str]) -> list[dict[str, Any]]:
    now = sim.clock_ms()
    out = []
    for s in symbols:
        m = sim.markets[s]
        st: dict[str, Any] = sim.prices.stats_24h(s, now)
        out.append({
            "symbol": s,
            "openPrice": fmt(st["open"], m.price_decimals),
            "closePrice": fmt(st["close"], m.price_decimals),
            "highPrice": fmt(st["high"], m.price_decimals),
            "lowPrice": fmt(st["low"], m.price_decimals),
            "quoteVolume": fmt(st["quote_volume"], 6),
            "volume": fmt(st["volume"], m.size_decimals),
            "priceChange": fmt(st["change"], m.price_decimals),
            "priceChangePercent": f"{st['change_pct']:f}",
            "openTime": st["open_time"],
            "closeTime": st["close_time"],
        })
    return out


def depth_json(sim: Simulator, symbol: str, limit: int) -> dict[str, Any]:
    m = sim.markets[symbol]
    bids, asks = sim.prices.book(symbol)

    def side(levels: list[list[Decimal]]) -> list[list[str]]:
        return [[fmt(p, m.price_decimals), fmt(q, m.size_decimals)] for p, q in levels[:limit]]

    return {"bids": side(bids), "asks": side(asks)}


def trade_json(t: Trade, m: Market, *, ws: bool = False) -> dict[str, Any]:
    """A public trade; ``qty`` is negative when the taker sold. REST ids are integers
    (as documented), WS ids ``0x…`` strings (as in the WS sample)."""
    return {
        "id": f"0x{t.id:08x}" if ws else t.id,
        "price": fmt(t.price, m.price_decimals),
        "qty": fmt(t.qty, m.size_decimals),
        "quoteQty": fmt(abs(t.qty) * t.price, 6),
        "time": t.time,
    }


def kline_json(bar: Bar, m: Market, interval_ms: int, *, ws: bool = False) -> list[Any]:
    """``[openTime, open, high, low, close, closeTime, volume, quoteVolume, numTrades]``
    (numTrades a string on WS, as in the docs' example)."""
    return [
        bar.open_time,
        fmt(bar.open, m.price_decimals),
        fmt(bar.high, m.price_decimals),
        fmt(bar.low, m.price_decimals),
        fmt(bar.close, m.price_decimals),
        bar.open_time + interval_ms - 1,
        fmt(bar.volume, m.size_decimals),
        fmt(bar.quote_volume, 6),
        str(bar.trades) if ws else bar.trades,
    ]
