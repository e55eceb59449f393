"""The arbitrage modules: ``spread`` (a table across venues) and ``hedge`` / ``unhedge`` (two
legs through ``mpdex.arb``'s executor).

Decisions:

* Venues come from the registry. Each named venue is opened exactly as the single-venue
  modules open one (``session.open_session``): live, its ``keys/pk_<venue>.py``; with
  ``--paper``, its registry paper class on its own ledger with a funded default account, its
  price path seeded per venue (``paper_seed``: a stable hash of the name) so two venues of
  one dialect drift apart.
* ``spread``: one ``SpreadMonitor`` per coin, so each coin has its own size: ``--amount``, or
  by default the largest minimum order size among the venues (top of book; ``get_markets``).
  On a terminal the table is redrawn in place (ANSI cursor-up and clear); elsewhere each
  refresh is a block of lines and a blank line. ``--json --once`` prints one document;
  ``--json`` alone one compact document per line, one line per refresh. Ctrl-C ends it (130).
* ``hedge`` / ``unhedge``: first what will be sent — each leg as its venue would sign it now
  (``prepare_order``, capability ``prepare``: size, price cap, every rounding), the books
  walked for the size, fees and the crossing cost — then, live and without ``--yes``, a
  question, then ``HedgePlan.execute``. Legs that would be signed with different sizes are
  refused before anything is sent (the executor would repair the mismatch with another
  order). A first Ctrl-C while the legs are out does not abandon them: the executor finishes
  (unwinding where it must) and the real status is printed and returned.
* Exit codes: 0 hedged / closed, 1 unwound (and any exchange or input error), 3 naked (each
  line names venue, symbol, side and size, and the command that closes it), 4 refused
  (nothing placed).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import sys
import zlib
from collections.abc import AsyncIterator, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import exchange_factory
from mpdex.arb import (
    HedgePlan,
    HedgeRefused,
    HedgeResult,
    NakedExposure,
    PlanPreview,
    SpreadMonitor,
    describe_exposure,
    hedge_imbalance,
    plan_close,
    plan_open,
)
from mpdex.errors import BadSymbol, ConfigError

from . import session
from .arguments import invocation, load_venue, positive_decimal
from .modules import SPREAD_INTERVAL
from .output import (
    Secrets,
    Write,
    exact_decimal,
    fmt_bp,
    fmt_money,
    fmt_num,
    fmt_places,
    fmt_price,
    fmt_time,
    format_table,
    to_jsonable,
    wrap_lines,
)
from .progress import Activity, uncancel
from .session import Context, banner, open_session
from .trading import describe_plan

__all__ = [
    "MODULES",
    "EXIT_OK",
    "EXIT_UNWOUND",
    "EXIT_NAKED",
    "EXIT_REFUSED",
    "EXIT_INTERRUPTED",
    "paper_seed",
    "open_venues",
    "spread_lines",
    "finish_despite_interrupt",
    "run",
]

MODULES = ("spread", "hedge", "unhedge")
EXIT_OK, EXIT_UNWOUND, EXIT_NAKED, EXIT_REFUSED, EXIT_INTERRUPTED = 0, 1, 3, 4, 130

T = TypeVar("T")


def paper_seed(name: str) -> int:
    """The paper price-path seed of venue ``name``: stable across runs, different per venue."""
    return zlib.crc32(name.encode())


# --------------------------------------------------------------------------- the venues


@dataclass
class OpenVenue:
    """One venue of the command, opened like a single-venue module's."""

    name: str
    ctx: Context

    @property
    def exchange(self) -> Any:
        return self.ctx.exchange

    @property
    def where(self) -> str:
        return self.ctx.where

    @property
    def capabilities(self) -> frozenset[str]:
        return frozenset(self.ctx.exchange.CAPABILITIES)


@contextlib.asynccontextmanager
async def open_venues(args: argparse.Namespace, names: Sequence[str], secrets: Secrets, activity: Activity, *,
                      root: Path | None, prog: str) -> AsyncIterator[dict[str, OpenVenue]]:
    """Open every venue in ``names`` (all closed on the way out, the opened ones too when a
    later one fails); ``activity.where`` then names every host."""
    opened: dict[str, OpenVenue] = {}
    async with contextlib.AsyncExitStack() as stack:
        for name in names:
            one = argparse.Namespace(**{**vars(args), "exchange": name, "venue": load_venue(name), "keys": None,
                                        "paper_db": None, "paper_url": None})
            activity.where = None
            ctx = await stack.enter_async_context(
                open_session(one, secrets, activity, root=root, prog=prog, paper_seed=paper_seed(name)))
            ctx.activity = Activity()  # remembers this venue's host (the shared one moves on)
            ctx.activity.where = activity.where or name
            opened[name] = OpenVenue(name, ctx)
        activity.where = ", ".join(dict.fromkeys(v.where for v in opened.values()))
        yield opened


def banner_lines(venues: Mapping[str, OpenVenue]) -> list[str]:
    """Paper or live, host and account of every venue (the single-venue banner, named)."""
    lines: list[str] = []
    for name, v in venues.items():
        head = banner(v.ctx)
        if head is None:
            continue
        if head.startswith("[PAPER] "):
            head = f"[PAPER] {name}: " + head.removeprefix("[PAPER] ")
        lines += head.splitlines()
    return lines


def _paper_flag(args: argparse.Namespace) -> str:
    return " --paper" if args.paper else ""


async def market_symbol(v: OpenVenue, coin: str, args: argparse.Namespace, prog: str) -> str:
    """``coin`` as ``v``'s native symbol (the registry's symbol rule, checked against the
    venue's markets); ``BadSymbol`` naming the venue and how to list its markets."""
    listed = (await v.exchange.get_available_symbols()).get("perp", [])
    candidate = exchange_factory.symbol_create(v.name, coin)
    if not listed:
        return coin  # the venue resolves it (or refuses it) itself
    if candidate in listed:
        return candidate
    if coin in listed:
        return coin
    raise BadSymbol(f"{v.name} has no market for {coin!r} ({candidate}); list its markets with "
                    f"`{invocation(prog)} --exchange {v.name}{_paper_flag(args)} --module symbols`")


# --------------------------------------------------------------------------- spread


async def _spread_sizes(args: argparse.Namespace, venues: Mapping[str, OpenVenue],
                        symbols: Mapping[str, Mapping[str, str]]) -> dict[str, Decimal]:
    """The size each coin's books are walked for: ``--amount``, or the largest minimum order
    size among the venues (read with ``get_markets``, capability ``markets``)."""
    amount = positive_decimal(args.amount, "amount")
    if amount is not None:
        return {coin: amount for coin in args.coins}
    markets: dict[str, dict[str, Any]] = {}
    for name, v in venues.items():
        if "markets" not in v.capabilities:
            raise ConfigError(f"--module spread needs --amount SIZE: {name} does not report its minimum order "
                              "sizes (capability 'markets')")
        markets[name] = {m["symbol"]: m for m in await v.exchange.get_markets()}
    sizes: dict[str, Decimal] = {}
    for coin in args.coins:
        minimums = []
        for name in venues:
            market = markets[name].get(symbols[coin][name])
            minimum = exact_decimal(market.get("min_size")) if market else None
            if minimum is None or minimum <= 0:
                raise ConfigError(f"--module spread needs --amount SIZE: {name} reports no minimum order size "
                                  f"for {symbols[coin][name]}")
            minimums.append(minimum)
        sizes[coin] = max(minimums)
    return sizes


def _rank(opp: Mapping[str, Any]) -> tuple[bool, float, float]:
    """Best first: the highest net edge (unknown last), then the highest funding edge."""
    net, edge = opp.get("net_bps"), opp.get("funding_edge_bps_per_hour")
    return net is None, -(net if net is not None else 0.0), -(edge if edge is not None else float("-inf"))


def merge_snapshots(snapshots: Sequence[Mapping[str, Any]], sizes: Mapping[str, Decimal]) -> dict[str, Any]:
    """The per-coin monitors' snapshots as one document (the library's keys; ``sizes`` per coin)."""
    quotes: dict[str, Any] = {}
    opportunities: list[Any] = []
    for snap in snapshots:
        quotes.update(snap["quotes"])
        opportunities += snap["opportunities"]
    opportunities.sort(key=_rank)
    return {
        "time": max(s["time"] for s in snapshots),
        "read_ms": max(s["read_ms"] for s in snapshots),
        "venues": list(snapshots[0]["venues"]),
        "coins": [c for s in snapshots for c in s["coins"]],
        "sizes": {coin: float(size) for coin, size in sizes.items()},
        "quotes": quotes,
        "opportunities": opportunities,
    }


def _problems(quote: Mapping[str, Any]) -> str:
    parts = [str(quote["error"])] if quote.get("error") else []
    parts += [f"{field}: {why}" for field, why in sorted((quote.get("unavailable") or {}).items())]
    return "; ".join(parts)


def spread_lines(doc: Mapping[str, Any]) -> list[str]:
    """The spread table: per coin, each venue's prices for the size, funding per hour, taker
    fee and book age; then every long/short pair's edge, best first."""
    lines = [f"Spread at {fmt_time(doc['time'])}, read in {doc['read_ms']:.0f} ms; buy/sell walk each book for the "
             "size"]
    for coin in doc["coins"]:
        lines += ["", f"{coin}, size {fmt_num(doc['sizes'][coin])}"]
        quotes = list(doc["quotes"][coin].values())
        lines += format_table(
            ("venue", "status", "bid", "ask", "buy", "sell", "fund bp/h", "taker bp", "age ms"),
            [(q["venue"], q["status"], fmt_price(q["best_bid"]), fmt_price(q["best_ask"]), fmt_price(q["buy_price"]),
              fmt_price(q["sell_price"]), fmt_bp(q["funding_rate_per_hour"], 4), fmt_bp(q["taker_fee"], 2),
              "-" if q["age_ms"] is None else str(q["age_ms"]))
             for q in quotes],
        )
        for q in quotes:
            problem = _problems(q)
            if problem:
                lines += wrap_lines(f"{q['venue']}: {problem}", "    ")
    lines += ["", "Edges, best first: long buys, short sells; bp (basis points) of the long price; round-trip fees"]
    lines += format_table(
        ("coin", "long", "short", "gross bp", "fees bp", "net bp", "funding bp/h", "payback h"),
        [(o["coin"], o["long_venue"], o["short_venue"], fmt_places(o["gross_bps"], 2), fmt_places(o["fees_bps"], 2),
          fmt_places(o["net_bps"], 2), fmt_places(o["funding_edge_bps_per_hour"], 4), fmt_places(o["payback_hours"], 1))
         for o in doc["opportunities"]],
    )
    if not doc["opportunities"]:
        lines[-1] = "  (none: an edge needs two venues with fresh books for the coin)"
    return lines


class Screen:
    """Where each refresh of the table goes: redrawn in place on a terminal, else appended."""

    def __init__(self, write: Write, *, tty: bool) -> None:
        self._write = write
        self._tty = tty
        self._shown = 0  # lines of the previous block on the terminal

    def show(self, lines: Sequence[str]) -> None:
        if not self._tty:
            self._write("\n".join([*lines, ""]))
            return
        rows = shutil.get_terminal_size().lines
        if self._shown and self._shown < rows:
            prefix = f"\x1b[{self._shown}F\x1b[J"  # back to the block's first line, clear below
        elif self._shown:
            prefix = "\x1b[H\x1b[2J"  # taller than the terminal: redraw from the top
        else:
            prefix = ""
        self._write(prefix + "\n".join(lines))
        self._shown = len(lines)


async def cmd_spread(args: argparse.Namespace, venues: Mapping[str, OpenVenue], out: Write, say: Write,
                     activity: Activity, *, prog: str, head: Sequence[str]) -> int:
    symbols = {coin: {name: await market_symbol(v, coin, args, prog) for name, v in venues.items()}
               for coin in args.coins}
    with activity.step(f"reading the markets of {activity.where}"):
        sizes = await _spread_sizes(args, venues, symbols)
    exchanges = {name: v.exchange for name, v in venues.items()}
    interval = args.interval if args.interval is not None else SPREAD_INTERVAL
    async with contextlib.AsyncExitStack() as stack:
        monitors = [await stack.enter_async_context(
            SpreadMonitor(exchanges, [coin], sizes[coin], symbols={coin: symbols[coin]})) for coin in args.coins]

        async def snapshot() -> dict[str, Any]:
            with activity.step(f"reading the books of {activity.where}"):
                return merge_snapshots(await asyncio.gather(*(m.snapshot() for m in monitors)), sizes)

        def document(doc: dict[str, Any]) -> dict[str, Any]:
            return {"module": "spread", "paper": bool(args.paper), **to_jsonable(doc)}

        if args.once:
            doc = await snapshot()
            out(json.dumps(document(doc), indent=2) if args.json else "\n".join([*head, *([""] if head else []),
                                                                                 *spread_lines(doc)]))
            return EXIT_OK
        if not args.json and head:
            out("\n".join([*head, ""]))
        screen = Screen(out, tty=sys.stdout.isatty())
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        try:
            while True:
                doc = await snapshot()
                if args.json:
                    out(json.dumps(document(doc)))
                else:
                    screen.show(spread_lines(doc))
                next_at += interval
                delay = next_at - loop.time()
                if delay < 0:  # a slow read delays the next refresh; refreshes never pile up
                    next_at, delay = loop.time(), 0.0
                await asyncio.sleep(delay)
        except asyncio.CancelledError:  # Ctrl-C: the main task is cancelled
            uncancel()
            line = "interrupted: nothing was sent"
            if args.json:
                out(json.dumps({"error": {"type": "Interrupted", "code": None, "message": line}}))
            say(line)
            return EXIT_INTERRUPTED


# --------------------------------------------------------------------------- hedge / unhedge


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
                      + f"; the taker fees of these two orders {fmt_places(preview['fees_bps_one_way'], 2)} bp", "  ")
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
        lines += wrap_lines(f"client order id {o['client_order_id'] or '-'}" + (f"; {o['error']}" if o["error"] else ""),
                          "    ")
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
        return finish([*head, *([""] if head else []), *wrap_lines(f"Refused, nothing placed: {exc}", "")], "refused",
                      EXIT_REFUSED,
                      (type(exc).__name__, f"refused, nothing placed: {exc}"))
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
        return finish([*plan_text, "", *wrap_lines(f"Refused, nothing sent: {refusal}", "")], "refused", EXIT_REFUSED,
                      ("HedgeRefused", f"refused, nothing sent: {refusal}"))
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
            return finish([*plan_text, "", *wrap_lines(f"Refused, nothing placed: {exc}", "")], "refused", EXIT_REFUSED,
                          (type(exc).__name__, f"refused, nothing placed: {exc}"))
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
        fix = "; ".join(f"`{run} --exchange {name}{_paper_flag(args)} --module close --coin {coin}`" for name in closes)
        lines += ["", *[line for f in fixes for line in wrap_lines(f, "")], *wrap_lines(f"close it with {fix}", "")]
        return finish(lines, status, EXIT_NAKED, ("NakedExposure", f"{naked}; close it with {fix}"))
    if status == "unwound":
        text = f"hedge unwound: {_failed_legs(result)}; the other leg was moved back, nothing is held"
        return finish(lines, status, EXIT_UNWOUND, ("HedgeUnwound", text))
    return finish(lines, status, EXIT_OK)


# --------------------------------------------------------------------------- one run


async def run(args: argparse.Namespace, secrets: Secrets, activity: Activity, out: Write, *, root: Path | None,
              prog: str) -> int:
    """Open the venues the module names, run it, close them; returns the exit code."""
    names = list(args.exchanges) if args.module == "spread" else [args.long, args.short]

    def say(text: str) -> None:
        sys.stderr.write(secrets.redact(text) + "\n")
        sys.stderr.flush()

    async with open_venues(args, names, secrets, activity, root=root, prog=prog) as venues:
        head = banner_lines(venues)
        if head and args.json:  # stdout is the document; the banner still tells a human where
            say("\n".join(head))
            head = []
        command = cmd_spread if args.module == "spread" else cmd_hedge
        return await command(args, venues, out, say, activity, prog=prog, head=head)
