"""Account modules: ``check`` (collateral, positions, open orders) and ``orders``, with the
position and order tables the trading modules reuse.

Reads go through the contract; ``get_positions`` (one account read for every market) is
used where the exchange declares the ``positions`` capability.
"""
from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

import exchange_factory

from .output import fmt_money, fmt_price, fmt_time, format_table
from .session import Context, Report

__all__ = [
    "capabilities",
    "resolve_symbol",
    "all_positions",
    "marks_for",
    "position_table",
    "orders_table",
    "cmd_check",
    "cmd_orders",
]


def capabilities(ex: Any) -> frozenset[str]:
    """The optional capabilities the exchange declares (``MultiPerpDex.CAPABILITIES``)."""
    return frozenset(ex.CAPABILITIES)


async def resolve_symbol(ctx: Context, coin: str) -> str:
    """``coin`` as the venue's native symbol when the registry's symbol rule finds it among
    the exchange's markets; otherwise passed on as given — every method resolves coins
    itself, and an unknown one is refused there with ``BadSymbol``."""
    listed = (await ctx.exchange.get_available_symbols()).get("perp", [])
    candidate = exchange_factory.symbol_create(ctx.venue.name, coin)
    if candidate in listed:
        return candidate
    return coin


async def all_positions(ex: Any, symbol: str | None = None) -> list[dict[str, Any]]:
    """Open positions (of one market, or of all)."""
    if symbol is not None:
        pos = await ex.get_position(symbol)
        return [pos] if pos else []
    if "positions" in capabilities(ex):  # one account read for every market
        return [dict(p) for p in await ex.get_positions() if p]
    symbols = (await ex.get_available_symbols()).get("perp", [])
    found = await asyncio.gather(*(ex.get_position(s) for s in symbols))
    return [p for p in found if p]


async def marks_for(ex: Any, symbols: Iterable[str]) -> dict[str, float]:
    unique = sorted(set(symbols))
    prices = await asyncio.gather(*(ex.get_mark_price(s) for s in unique))
    return dict(zip(unique, prices, strict=True))


def position_table(positions: Sequence[dict[str, Any]], marks: dict[str, Any]) -> list[str]:
    """One row per position, with the leverage and the margin it holds (``-`` where the
    venue does not report them)."""
    return format_table(
        ("symbol", "side", "size", "entry", "mark", "uPnL", "liq. price", "lev.", "margin"),
        [
            (p["symbol"], p["side"], p["size"], fmt_price(p.get("entry_price")), fmt_price(marks.get(p["symbol"])),
             fmt_money(p.get("unrealized_pnl")), fmt_price(p.get("liquidation_price")), p.get("leverage"),
             fmt_money(p.get("margin_used")))
            for p in positions
        ],
    )


def orders_table(orders: Sequence[dict[str, Any]]) -> list[str]:
    """One row per order and, under it, its full order id and client order id — both are
    accepted by ``--module cancel --order-id``."""
    return format_table(
        ("symbol", "side", "type", "size", "filled", "price", "r/o", "status", "created"),
        [
            (o.get("symbol"), o.get("side"), o.get("order_type"), o.get("size"), o.get("filled_size"),
             fmt_price(o.get("price")), "yes" if o.get("reduce_only") else "no", o.get("status"),
             fmt_time(o.get("created_at")))
            for o in orders
        ],
        notes=[f"id {o.get('order_id') or o.get('id') or '-'}  client {o.get('client_order_id') or '-'}"
               for o in orders],
    )


async def collateral_quote(ex: Any, positions: Sequence[dict[str, Any]]) -> str:
    """The collateral currency, as the contract's ``get_perp_quote`` names it for a market
    the account trades (or the first market)."""
    symbols = [p["symbol"] for p in positions] or (await ex.get_available_symbols()).get("perp", [])
    return str(ex.get_perp_quote(symbols[0])) if symbols else "-"


async def cmd_check(ctx: Context) -> Report:
    ex = ctx.exchange
    symbol = await resolve_symbol(ctx, ctx.args.coin) if ctx.args.coin else None
    collateral, positions, orders = await asyncio.gather(
        ex.get_collateral(), all_positions(ex, symbol), ex.get_open_orders(symbol)
    )
    marks = await marks_for(ex, (p["symbol"] for p in positions))
    quote = await collateral_quote(ex, positions)
    lines = [f"Collateral ({quote})"]
    lines += format_table(
        ("total", "available", "unrealized PnL", "margin used"),
        [(fmt_money(collateral.get("total_collateral")), fmt_money(collateral.get("available_collateral")),
          fmt_money(collateral.get("unrealized_pnl")), fmt_money(collateral.get("margin_used")))],
    )
    lines += ["", "Positions" + (f" ({symbol})" if symbol else "")]
    lines += position_table(positions, marks)
    lines += ["", "Open orders" + (f" ({symbol})" if symbol else "")]
    lines += orders_table(orders)
    data = {
        "collateral": dict(collateral, quote=quote),
        "positions": [dict(p, mark_price=marks.get(p["symbol"])) for p in positions],
        "open_orders": orders,
    }
    return Report(data, lines)


async def cmd_orders(ctx: Context) -> Report:
    symbol = await resolve_symbol(ctx, ctx.args.coin) if ctx.args.coin else None
    orders = await ctx.exchange.get_open_orders(symbol)
    return Report({"open_orders": orders}, ["Open orders" + (f" ({symbol})" if symbol else "")] + orders_table(orders))
