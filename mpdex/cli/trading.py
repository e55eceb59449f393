"""Trading modules: ``order``, ``close``, ``cancel`` and ``leverage``.

Live ``order`` and ``close`` say what they will send and ask first (``--yes`` skips the
question); paper never asks. Each module records what state-changing request is under
way, so an interrupted command can say whether something may have reached the exchange.
A close with ``--cancel-orders`` closes nothing when a cancel failed: a resting order left
behind could reopen the position.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mpdex.errors import ConfigError, MpdexError

from .account import all_positions, capabilities, marks_for, position_table, resolve_symbol
from .arguments import positive_decimal
from .output import fmt_money, fmt_num, fmt_price, format_pairs, format_table
from .session import Aborted, Context, Report

__all__ = ["order_result_lines", "cancel_table", "cmd_order", "cmd_close", "cmd_cancel", "cmd_leverage"]


def order_result_lines(res: dict[str, Any], quote: str) -> list[str]:
    """The order as the exchange recorded it: what was adjusted on the way, the fill, the
    fee and the realised PnL (when the venue reports them)."""
    kind = res.get("order_type", "")
    pairs: list[tuple[str, Any]] = [
        ("order", f"{res.get('side')} {fmt_num(res.get('size'))} {res.get('symbol')} {kind}"),
    ]
    for i, note in enumerate(res.get("adjustments") or []):
        pairs.append(("adjusted" if i == 0 else "", note))
    pairs.append(("status", str(res.get("status"))))
    if "filled_size" in res:
        filled = fmt_num(res.get("filled_size"))
        if res.get("avg_price") is not None:
            filled += f" @ {fmt_price(res.get('avg_price'))}"
        pairs.append(("filled", filled))
    pairs += _money_pairs(res, quote)
    pairs.append(("price cap" if kind == "market" else "limit price", fmt_price(res.get("price"))))
    pairs.append(("order id", str(res.get("order_id") or res.get("id") or "-")))
    pairs.append(("client order id", str(res.get("client_order_id") or "-")))
    return format_pairs(pairs)


def _money_pairs(res: dict[str, Any], quote: str) -> list[tuple[str, Any]]:
    return [(label, f"{fmt_money(res[field])} {quote}") for label, field in (("fee", "fee"), ("realised PnL", "realized_pnl"))
            if res.get(field) is not None]


async def with_recorded_money(ex: Any, result: dict[str, Any] | None) -> dict[str, Any] | None:
    """The result with the fee and realised PnL as the exchange recorded them: an order
    confirmed from the socket stream carries no realised PnL (Vest's stream has none), so
    the order's record is read once more when the venue can look orders up."""
    if not result or result.get("realized_pnl") is not None or not result.get("client_order_id") \
            or "orders" not in capabilities(ex):
        return result
    try:
        record = await ex.get_order(client_order_id=result["client_order_id"])
    except MpdexError:
        return result  # the order's own result stands; nothing is guessed
    merged = dict(result)
    for field in ("fee", "realized_pnl"):
        if record.get(field) is not None:
            merged[field] = record[field]
    return merged


def cancel_table(results: Sequence[dict[str, Any]]) -> list[str]:
    return format_table(
        ("symbol", "order id", "status", "error"),
        [(r.get("symbol"), str(r.get("order_id") or r.get("id") or "-"), r.get("status"), r.get("error") or "")
         for r in results],
    )


def _by_symbol(orders: Sequence[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for o in orders:
        groups.setdefault(o["symbol"], []).append(o)
    return sorted(groups.items())


def describe_plan(plan: Any) -> str:
    """``limit sell 0.01 BTC-PERP at 99000.5 FOK reduce-only``: what will be signed."""
    what = f"{plan.order_type} {plan.side} {fmt_num(plan.size)} {plan.symbol}"
    if plan.order_type == "limit":
        what += f" at {fmt_num(plan.price)}" + (f" {plan.time_in_force}" if plan.time_in_force else "")
    if plan.reduce_only:
        what += " reduce-only"
    return what


async def cmd_order(ctx: Context) -> Report:
    ex, a = ctx.exchange, ctx.args
    amount = positive_decimal(a.amount, "amount")
    price = positive_decimal(a.price, "price")
    slippage = positive_decimal(a.slippage, "slippage")
    symbol = await resolve_symbol(ctx, a.coin)
    kind = "limit" if price is not None else "market"
    # the exchange checks and rounds the order exactly as create_order will, sending nothing:
    # every rounding is shown before anything is sent (--strict refuses instead)
    with ctx.activity.step(f"reading the market from {ctx.where}"):
        plan = await ex.prepare_order(symbol, a.side, amount, price, kind, is_reduce_only=bool(a.reduce_only),
                                      time_in_force=a.tif, slippage=slippage, strict=bool(a.strict))
    adjusted = "; ".join(plan.adjustments)
    if ctx.live and not a.yes:
        mark = plan.mark if plan.mark is not None else await ex.get_mark_price(plan.symbol)
        extra = f"; {adjusted}" if adjusted else ""
        with ctx.activity.step(None):
            if not await ctx.confirm(f"LIVE {describe_plan(plan)} (mark {fmt_price(mark)}){extra}. Send it?"):
                raise Aborted
    elif adjusted:
        ctx.note(f"note: {adjusted}")
    sending = f"sending the {kind} {a.side} order for {fmt_num(plan.size)} {plan.symbol}"
    with ctx.activity.step(f"waiting for {ctx.where} to confirm the order", sending=sending):
        result = await ex.create_order(
            symbol, a.side, amount, price, kind,
            is_reduce_only=bool(a.reduce_only), time_in_force=a.tif, slippage=slippage, strict=bool(a.strict),
        )
    result = await with_recorded_money(ex, dict(result)) or result
    symbol = result.get("symbol") or plan.symbol
    position = await ex.get_position(symbol)
    marks = await marks_for(ex, [symbol]) if position else {}
    lines = ["Order"] + order_result_lines(result, ex.get_perp_quote(symbol))
    lines += ["", f"Position after the order ({symbol})"]
    lines += position_table([position], marks) if position else ["  flat"]
    data = {"order": result, "position": dict(position, mark_price=marks.get(symbol)) if position else None}
    return Report(data, lines)


async def cmd_close(ctx: Context) -> Report:
    ex, a = ctx.exchange, ctx.args
    symbol = await resolve_symbol(ctx, a.coin) if a.coin else None
    positions = await all_positions(ex, symbol)
    orders = await ex.get_open_orders(symbol) if a.cancel_orders else []
    if ctx.live and not a.yes and (positions or orders):
        parts = [f"{p['side']} {fmt_num(p['size'])} {p['symbol']}" for p in positions]
        what = "close " + ", ".join(parts) if parts else "no position to close"
        if orders:
            what += f"; cancel {len(orders)} open order(s) first"
        with ctx.activity.step(None):
            if not await ctx.confirm(f"LIVE {what} (market, reduce-only). Proceed?"):
                raise Aborted
    lines: list[str] = []
    cancelled: list[dict[str, Any]] = []
    failure = None
    sending = "cancelling orders and closing positions"
    if a.cancel_orders:
        for sym, group in _by_symbol(orders):
            with ctx.activity.step(f"waiting for {ctx.where} to confirm the cancels in {sym}", sending=sending):
                cancelled += await ex.cancel_orders(sym, group)
        lines += ["Cancelled orders"] + cancel_table(cancelled) + [""]
        errors = [c for c in cancelled if c.get("status") != "ok"]
        if errors:  # a close with the orders still resting could reopen the position
            failure = f"{len(errors)} of {len(cancelled)} cancels failed; nothing was closed"
            return Report({"cancelled": cancelled, "closed": []}, lines, failure)
    closed: list[dict[str, Any]] = []
    for pos in positions:
        with ctx.activity.step(f"waiting for {ctx.where} to confirm the close of {pos['symbol']}", sending=sending):
            result = await with_recorded_money(ex, await ex.close_position(pos["symbol"], pos))
        closed.append({"symbol": pos["symbol"], "position": pos, "order": result})
    if closed:
        lines.append("Closed")
        lines += format_table(
            ("symbol", "was", "size", "order", "status", "filled", "avg price", "client order id"),
            [
                (c["symbol"], c["position"]["side"], c["position"]["size"],
                 f"{(c['order'] or {}).get('side', '-')} market",
                 (c["order"] or {}).get("status", "-"), (c["order"] or {}).get("filled_size"),
                 fmt_price((c["order"] or {}).get("avg_price")),
                 str((c["order"] or {}).get("client_order_id") or "-"))
                for c in closed
            ],
        )
        for c in closed:
            money = _money_pairs(c["order"] or {}, ex.get_perp_quote(c["symbol"]))
            if money:
                lines.append(f"  {c['symbol']}: " + ", ".join(f"{label} {value}" for label, value in money))
    else:
        lines.append(f"No open position{' in ' + symbol if symbol else 's'}; nothing to close.")
    after = await all_positions(ex, symbol)
    remaining = [p for p in after if p["symbol"] in {c["symbol"] for c in closed}]
    if closed:
        lines += ["", "Position after the close"]
        lines += position_table(remaining, await marks_for(ex, (p["symbol"] for p in remaining))) \
            if remaining else ["  flat"]
    data = {"cancelled": cancelled, "closed": closed, "remaining_positions": remaining}
    return Report(data, lines, failure)


async def cmd_cancel(ctx: Context) -> Report:
    ex, a = ctx.exchange, ctx.args
    symbol = await resolve_symbol(ctx, a.coin) if a.coin else None
    orders = await ex.get_open_orders(symbol)
    if a.order_id is not None:
        wanted = str(a.order_id)
        orders = [o for o in orders if wanted in (str(o.get("order_id")), str(o.get("id")),
                                                  str(o.get("client_order_id")))]
        if not orders:
            raise ConfigError(f"no open order with id {wanted}" + (f" in {symbol}" if symbol else ""))
    results: list[dict[str, Any]] = []
    for sym, group in _by_symbol(orders):
        with ctx.activity.step(f"waiting for {ctx.where} to confirm the cancels in {sym}", sending="cancelling orders"):
            results += await ex.cancel_orders(sym, group)
    errors = [r for r in results if r.get("status") != "ok"]
    if not results:
        return Report({"cancelled": []}, [f"No open orders{' in ' + symbol if symbol else ''}; nothing to cancel."])
    lines = ["Cancelled orders"] + cancel_table(results)
    failure = f"{len(errors)} of {len(results)} cancels failed" if errors else None
    return Report({"cancelled": results}, lines, failure)


async def cmd_leverage(ctx: Context) -> Report:
    ex, a = ctx.exchange, ctx.args
    symbol = await resolve_symbol(ctx, a.coin)
    failure = None
    data: dict[str, Any] = {}
    if a.leverage is not None:
        with ctx.activity.step(f"waiting for {ctx.where} to set the leverage of {symbol}",
                               sending=f"setting the leverage of {symbol}"):
            update = dict(await ex.update_leverage(symbol, a.leverage))
        data["update"] = update
        if update.get("status") != "ok":
            failure = f"leverage not changed: {update.get('message') or update.get('status')}"
    info = dict(await ex.get_leverage_info(symbol))
    data["leverage"] = info
    lines = format_pairs([
        ("symbol", info.get("symbol") or symbol),
        ("leverage", info.get("leverage")),
        ("max leverage", info.get("max_leverage")),
        ("margin mode", info.get("margin_mode") or "-"),
    ])
    return Report(data, lines, failure)
