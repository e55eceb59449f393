"""Market modules: ``price``, ``book``, ``symbols`` and ``funding``.

Funding figures are per hour (``funding_rate_per_hour``), whatever interval the venue pays
in, so venues compare; they are read only where the exchange declares the ``funding``
capability (``price`` then shows the mark alone).
"""
from __future__ import annotations

import asyncio
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from mpdex.errors import NotSupported

from .account import capabilities, resolve_symbol
from .output import fmt_num, fmt_price, fmt_time, format_pairs, format_table
from .session import Context, Report

__all__ = ["cmd_price", "cmd_book", "cmd_symbols", "cmd_funding"]


def _per_hour(entry: Any) -> Any:
    """The per-hour rate of a funding rate or history entry."""
    if entry.get("funding_rate_per_hour") is not None:
        return entry["funding_rate_per_hour"]
    rate, hours = entry.get("funding_rate"), entry.get("interval_hours")
    if isinstance(rate, (int, float)) and isinstance(hours, (int, float)) and hours > 0:
        return float(Decimal(f"{rate:.15g}") / Decimal(f"{hours:.15g}"))
    return rate


async def cmd_price(ctx: Context) -> Report:
    ex = ctx.exchange
    symbol = await resolve_symbol(ctx, ctx.args.coin)
    if "funding" in capabilities(ex):
        info = dict(await ex.get_funding_rate(symbol))
    else:
        info = {"symbol": symbol, "mark_price": await ex.get_mark_price(symbol),
                "index_price": None, "funding_rate": None}
    lines = format_pairs([
        ("symbol", info.get("symbol") or symbol),
        ("mark", fmt_price(info.get("mark_price"))),
        ("index", fmt_price(info.get("index_price"))),
        ("funding (1h)", _per_hour(info)),
    ])
    return Report(info, lines)


async def cmd_book(ctx: Context) -> Report:
    ex = ctx.exchange
    depth = ctx.args.depth or 10
    symbol = await resolve_symbol(ctx, ctx.args.coin)
    book = await ex.get_orderbook(symbol)
    bids, asks = list(book.get("bids", []))[:depth], list(book.get("asks", []))[:depth]
    rows = []
    for i in range(max(len(bids), len(asks))):
        bid = bids[i] if i < len(bids) else (None, None)
        ask = asks[i] if i < len(asks) else (None, None)
        rows.append((bid[1], fmt_price(bid[0]), fmt_price(ask[0]), ask[1]))
    lines = [f"Order book {symbol} (top {depth}, {fmt_time(book.get('time'))})"]
    lines += format_table(("bid size", "bid", "ask", "ask size"), rows)
    return Report({"symbol": symbol, "bids": bids, "asks": asks, "time": book.get("time")}, lines)


async def market_details(ex: Any) -> dict[str, Mapping[str, Any]]:
    """Per-market rules from the exchange's ``get_markets`` (capability ``markets``);
    an exchange without it shows its symbols with ``-`` for the details."""
    if "markets" not in capabilities(ex):
        return {}
    return {m["symbol"]: m for m in await ex.get_markets()}


async def cmd_symbols(ctx: Context) -> Report:
    ex = ctx.exchange
    symbols = (await ex.get_available_symbols()).get("perp", [])
    markets = await market_details(ex)
    rows, data = [], []
    for sym in symbols:
        m = markets.get(sym, {})
        row = {
            "symbol": sym,
            "status": m.get("status"),
            "size_step": m.get("size_step"),
            "tick": m.get("tick") if m.get("tick") is not None else m.get("price_rule"),
            "min_size": m.get("min_size"),
            "max_leverage": m.get("max_leverage"),
            "taker_fee": m.get("taker_fee"),
        }
        data.append(row)
        rows.append(tuple(row.values()))
    lines = format_table(("symbol", "status", "size step", "tick", "min size", "max lev.", "taker fee"), rows)
    return Report({"symbols": data}, [f"{len(symbols)} markets"] + lines)


async def cmd_funding(ctx: Context) -> Report:
    ex = ctx.exchange
    symbol = await resolve_symbol(ctx, ctx.args.coin)
    limit = ctx.args.limit or 10
    if "funding" not in capabilities(ex):
        raise NotSupported(f"{ctx.venue.name} does not report funding rates")
    current, history = await asyncio.gather(ex.get_funding_rate(symbol), ex.get_funding_history(symbol, limit=limit))
    history = sorted(history, key=lambda h: h.get("time") or 0, reverse=True)[:limit]
    rate = _per_hour(current)
    yearly = Decimal(f"{rate:.15g}") * 24 * 365 if isinstance(rate, float) else None
    lines = format_pairs([
        ("symbol", current.get("symbol") or symbol),
        ("funding (1h)", rate),
        ("annualised", f"{fmt_num(yearly * 100)}%" if yearly is not None else "-"),
    ])
    if history:
        lines += ["", f"Last {len(history)} funding entries"]
        lines += format_table(("time", "rate (1h)"), [(fmt_time(h.get("time")), _per_hour(h)) for h in history])
    else:
        lines += ["", "No funding history yet."]
    return Report({"current": current, "history": history}, lines)
