"""The ``hedge`` and ``unhedge`` modules: two legs on two venues through ``mpdex.arb``'s
executor, shown as they will be signed before anything is sent, finished even through a
Ctrl-C.

Decisions:

* First what will be sent — each leg as its venue would sign it now (``prepare_order``,
  capability ``prepare``: size, price cap, every rounding), the books walked for the size,
  fees and the crossing cost — then, live and without ``--yes``, a question, then
  ``HedgePlan.execute``. Legs that would be signed with different sizes are refused before
  anything is sent (the executor would repair the mismatch with another order).
* A first Ctrl-C while the legs are out does not abandon them (``finish_despite_interrupt``):
  the executor finishes (unwinding where it must) and the real status is printed and returned.
* Exit codes (``modules``): 0 hedged / closed, 1 unwound (and any exchange or input error),
  3 naked (each line names venue, symbol, side and size, and the command that closes it),
  4 refused (nothing placed).
"""
from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from mpdex.arb import (
    HedgePlan,
    HedgeRefused,
    HedgeResult,
    NakedExposure,
    PlanPreview,
    describe_exposure,
    hedge_imbalance,
    plan_close,
    plan_open,
)

from . import session
from .arguments import invocation, positive_decimal
from .modules import EXIT_NAKED, EXIT_OK, EXIT_REFUSED, EXIT_UNWOUND
from .output import (
    Write,
    exact_decimal,
    fmt_bp,
    fmt_money,
    fmt_num,
    fmt_places,
    fmt_price,
    format_table,
    to_jsonable,
    wrap_lines,
)
from .progress import Activity, uncancel
from .trading import describe_plan
from .venues import OpenVenue, market_symbol, paper_flag

__all__ = ["finish_despite_interrupt", "Leg", "cmd_hedge"]

T = TypeVar("T")


async def finish_despite_interrupt(work: Coroutine[Any, Any, T], say: Write) -> tuple[T, bool]:
    """Await ``work`` to the end even when the awaiting task is cancelled (a first Ctrl-C):
    a hedge whose legs are out is finished, never abandoned half-way. Returns the result and
    whether an interrupt arrived. (A second Ctrl-C stops the event loop itself.)"""
    task = asyncio.ensure_future(work)
    interrupted = False
    while True:
        try:
            return await asyncio.shield(task), interrupted
        except asyncio.CancelledError:
            if task.done():
                raise
            if not interrupted:
                say("interrupted: the legs are out; finishing the hedge first (unwinding where it must) so "
                    "nothing is left half-done — Ctrl-C again abandons it")
            interrupted = True
            uncancel()


@dataclass
class Leg:
    name: str  # "long" | "short"
    venue: OpenVenue
    symbol: str


async def _prepared(legs: Sequence[Leg], preview: PlanPreview, slippage: Decimal | None,
                    strict: bool) -> list[Any]:
    """Each leg's order as its venue would sign it now (``None`` without capability 'prepare')."""
    async def one(leg: Leg, plan: Mapping[str, Any]) -> Any:
        if "prepare" not in leg.venue.capabilities:
            return None
        return await leg.venue.exchange.prepare_order(
            leg.symbol, plan["side"], exact_decimal(plan["size"]), None, "market", is_reduce_only=plan["reduce_only"],
            slippage=slippage, strict=strict)

    return list(await asyncio.gather(*(one(leg, p) for leg, p in zip(legs, preview["legs"], strict=True))))


def _plan_lines(action: str, coin: str, legs: Sequence[Leg], preview: PlanPreview,
                prepared: Sequence[Any]) -> list[str]:
    title = "hedge" if action == "open" else "unhedge"
    lines = wrap_lines(f"What will be sent: {title} {coin}, long on {legs[0].venue.name}, short on "
                       f"{legs[1].venue.name}; market orders, legs sent {preview['send']}", "")
    rows = []
    for p, op in zip(preview["legs"], prepared, strict=True):
        size = op.size if op is not None else exact_decimal(p["size"])
        rows.append((p["leg"], p["venue"], p["symbol"], p["side"], fmt_num(size),
                     fmt_price(op.price) if op is not None else "-", fmt_price(p["best_price"]),
                     fmt_price(p["avg_price"]), fmt_bp(p["taker_fee"], 2), "yes" if p["reduce_only"] else "no"))
    lines += format_table(("leg", "venue", "symbol", "side", "size", "price cap", "best", "book avg", "taker bp",
                           "r/o"), rows)
    for leg, p, op in zip(legs, preview["legs"], prepared, strict=True):
        if op is None:
            lines += wrap_lines(f"{leg.name}: {leg.venue.name} cannot show an order before sending it (capability "
                                "'prepare'): it rounds the size and sets the cap itself when the order is sent", "  ")
        else:
            lines += [line for note in op.adjustments for line in wrap_lines(f"{leg.name}: {note}", "  ")]
        for field, why in sorted(p["unavailable"].items()):
            lines += wrap_lines(f"{leg.name}: {field} unknown: {why}", "  ")
        if "orders" not in leg.venue.capabilities:
            lines += wrap_lines(f"{leg.name}: {leg.venue.name} has no order lookup (capability 'orders'): an order "
                                "whose outcome is unknown cannot be reconciled there and is reported naked", "  ")
    if any(op is not None for op in prepared):
        lines += wrap_lines("each venue sets its cap again on its own mark at the moment the order is sent", "  ")
    limit = preview["max_spread_bps"]
    lines += wrap_lines(f"crossing both books for the size costs {fmt_places(preview['crossing_bps'], 2)} bp"
                        + (f" (limit {fmt_num(limit)} bp)" if limit is not None else " (no limit: --max-spread-bps)")
                        + f"; the taker fees of these two orders {fmt_places(preview['fees_bps_one_way'], 2)} bp",
                        "  ")
    return lines


def _prompt(action: str, legs: Sequence[Leg], prepared: Sequence[Any], preview: PlanPreview) -> str:
    parts = []
    for leg, op, p in zip(legs, prepared, preview["legs"], strict=True):
        what = (describe_plan(op) if op is not None
                else f"market {p['side']} {fmt_num(p['size'])} {p['symbol']}")
        parts.append(f"{what} on {leg.venue.name}")
    rounded = "; ".join(n for op in prepared if op is not None for n in op.adjustments)
    return (f"LIVE {'hedge' if action == 'open' else 'unhedge'}: " + " and ".join(parts)
            + (f"; {rounded}" if rounded else "") + ". Send both legs?")


def _order_lines(result: HedgeResult, quote: str) -> list[str]:
    orders = [o for leg in (result["long"], result["short"]) for o in leg["orders"]]
    table = format_table(
        ("leg", "venue", "order", "side", "size", "state", "filled", "avg price", f"fee {quote}"),
        [(o["leg"], o["venue"], o["purpose"], o["side"], o["size"], o["state"], o["filled_size"],
          fmt_price(o["avg_price"]), fmt_money(o["fee"])) for o in orders],
    )
    lines = ["Orders", table[0]]
    for row, o in zip(table[1:], orders, strict=True):  # under each order: its client id and what decided it
        lines.append(row)
        lines += wrap_lines(f"client order id {o['client_order_id'] or '-'}"
                            + (f"; {o['error']}" if o["error"] else ""), "    ")
    return lines


def _status_lines(result: HedgeResult, coin: str, quote: str) -> list[str]:
    fees = f"{fmt_money(result['fees'])} {quote}" if result["fees"] is not None else "unknown (a venue did not say)"
    lines = [f"Status {result['status'].upper()}: matched {fmt_num(result['matched_size'])} {coin}, fees {fees}, "
             f"captured {fmt_places(result['captured_bps'], 2)} bp, {result['elapsed_ms']:.0f} ms"]
    lines += [line for note in result["notes"] for line in wrap_lines(f"note: {note}", "  ")]
    return lines


def _position_lines(imbalance: Mapping[str, Any] | None, problem: str | None) -> list[str]:
    if imbalance is None:
        return ["Positions now", f"  not read: {problem}"]
    rows = [(p["venue"], p["symbol"], "long" if p["position"] > 0 else "short" if p["position"] < 0 else "flat",
             abs(p["position"])) for p in (imbalance["long"], imbalance["short"])]
    lines = ["Positions now"] + format_table(("venue", "symbol", "side", "size"), rows)
    lines.append(f"  net {fmt_num(imbalance['net'])} ({'balanced' if imbalance['balanced'] else 'NOT balanced'})")
    return lines


def _failed_legs(result: HedgeResult) -> str:
    """Which leg did not fill, and why (the error that decided its main order's fate)."""
    failed = []
    for leg in (result["long"], result["short"]):
        if leg["state"] == "filled":
            continue
        error = leg["orders"][0]["error"] if leg["orders"] else None
        failed.append(f"the {leg['leg']} leg on {leg['venue']} was {leg['state'].replace('_', ' ')}"
                      + (f" ({error})" if error else ""))
    return "; ".join(failed) or "the legs did not match"


async def cmd_hedge(args: argparse.Namespace, venues: Mapping[str, OpenVenue], out: Write, say: Write,
                    activity: Activity, *, prog: str, head: Sequence[str]) -> int:
    action = "open" if args.module == "hedge" else "close"
    coin = args.coin
    legs = [Leg(name, venues[venue], await market_symbol(venues[venue], coin, args, prog))
            for name, venue in (("long", args.long), ("short", args.short))]
    amount = positive_decimal(args.amount, "amount")
    slippage = positive_decimal(args.slippage, "slippage")
    limit = None if args.max_spread_bps is None else Decimal(str(args.max_spread_bps).strip())
    sequential: Any = "thinner_first" if args.thinner_first else bool(args.sequential)
    arg_long = (legs[0].venue.exchange, legs[0].symbol, legs[0].venue.name)
    arg_short = (legs[1].venue.exchange, legs[1].symbol, legs[1].venue.name)
    plan: HedgePlan
    if action == "open":
        plan = plan_open(arg_long, arg_short, amount, slippage=slippage, max_entry_spread_bps=limit,
                         sequential=sequential)
    else:
        plan = plan_close(arg_long, arg_short, amount, slippage=slippage, max_exit_spread_bps=limit,
                          sequential=sequential)
    quote = str(legs[0].venue.exchange.get_perp_quote(legs[0].symbol))
    doc: dict[str, Any] = {"module": args.module, "paper": bool(args.paper), "coin": coin, "long": args.long,
                           "short": args.short}

    def finish(lines: list[str], status: str, code: int, error: tuple[str, str] | None = None) -> int:
        doc["status"] = status
        if args.json:
            if error is not None:
                doc["error"] = {"type": error[0], "code": None, "message": error[1]}
            out(json.dumps(to_jsonable(doc), indent=2))
        else:
            out("\n".join(lines))
        if error is not None:
            say(f"error: {error[1]}")
        return code

    try:
        with activity.step(f"reading the books and fee rates of {activity.where}"):
            preview = await plan.preview()
            prepared = await _prepared(legs, preview, slippage, bool(args.strict))
    except HedgeRefused as exc:  # unhedge with nothing to close
        return finish([*head, *([""] if head else []), *wrap_lines(f"Refused, nothing placed: {exc}", "")],
                      "refused", EXIT_REFUSED, (type(exc).__name__, f"refused, nothing placed: {exc}"))
    doc["plan"] = {"preview": preview, "orders": prepared}
    plan_text = [*head, *([""] if head else []), *_plan_lines(action, coin, legs, preview, prepared)]
    sizes = {op.size for op in prepared if op is not None}
    refusal = None
    if amount is not None and len(sizes) > 1:
        signed = ", ".join(f"{leg.venue.name} {fmt_num(op.size)}" for leg, op in zip(legs, prepared, strict=True))
        refusal = (f"the legs would be signed with different sizes ({signed}): give an --amount both venues "
                   f"can trade exactly, e.g. {fmt_num(min(sizes))}")
    elif preview["would_refuse"]:
        refusal = str(preview["would_refuse"])
    if refusal is not None:
        return finish([*plan_text, "", *wrap_lines(f"Refused, nothing sent: {refusal}", "")], "refused",
                      EXIT_REFUSED, ("HedgeRefused", f"refused, nothing sent: {refusal}"))
    if not args.json:  # what will be sent is on the screen before it is sent
        out("\n".join(plan_text))
        plan_text = []
    if not args.paper and not args.yes:
        with activity.step(None):
            if not await session.ask_confirmation(_prompt(action, legs, prepared, preview)):
                raise session.Aborted
    naked: NakedExposure | None = None
    sending = f"the {args.module} orders on {legs[0].venue.name} and {legs[1].venue.name}"
    with activity.step(f"waiting for {activity.where} to confirm both legs", sending=sending):
        try:
            result, interrupted = await finish_despite_interrupt(plan.execute(), say)
        except NakedExposure as exc:
            naked, result, interrupted = exc, exc.result, False
        except HedgeRefused as exc:
            doc["orders_tried"] = exc.orders
            return finish([*plan_text, "", *wrap_lines(f"Refused, nothing placed: {exc}", "")], "refused",
                          EXIT_REFUSED, (type(exc).__name__, f"refused, nothing placed: {exc}"))
    doc["result"] = result
    try:
        imbalance: Any = await hedge_imbalance(arg_long, arg_short)
        problem = None
    except Exception as exc:  # the result stands; the read-back is for the person
        imbalance, problem = None, f"{type(exc).__name__}: {exc}"
    doc["positions"] = imbalance
    lines = [*plan_text, "", *_order_lines(result, quote), "",
             *_status_lines(result, coin, quote), "", *_position_lines(imbalance, problem)]
    if interrupted:
        lines += ["", "(interrupted: the hedge was finished first; the status above is what the venues hold)"]
    status = result["status"]
    if naked is not None:
        fixes = [f"NAKED: {describe_exposure(e)}" for e in result["exposures"]]
        closes = sorted({e["venue"] for e in result["exposures"]})
        run = invocation(prog)
        fix = "; ".join(f"`{run} --exchange {name}{paper_flag(args)} --module close --coin {coin}`" for name in closes)
        lines += ["", *[line for f in fixes for line in wrap_lines(f, "")], *wrap_lines(f"close it with {fix}", "")]
        return finish(lines, status, EXIT_NAKED, ("NakedExposure", f"{naked}; close it with {fix}"))
    if status == "unwound":
        text = f"hedge unwound: {_failed_legs(result)}; the other leg was moved back, nothing is held"
        return finish(lines, status, EXIT_UNWOUND, ("HedgeUnwound", text))
    return finish(lines, status, EXIT_OK)
