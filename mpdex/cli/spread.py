"""The ``spread`` module: a table of every venue's prices for one size per coin, and the edge
of every long/short pair, through ``mpdex.arb``'s ``SpreadMonitor``.

Decisions:

* One ``SpreadMonitor`` per coin, so each coin has its own size: ``--amount``, or by default
  the largest minimum order size among the venues (top of book; ``get_markets``).
* On a terminal the table is redrawn in place (ANSI cursor-up and clear); elsewhere each
  refresh is a block of lines and a blank line. ``--json --once`` prints one document;
  ``--json`` alone one compact document per line, one line per refresh. A slow read delays
  the next refresh; refreshes never pile up.
* Ctrl-C ends it (exit 130); it sends nothing, so nothing can be left half-done.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import sys
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from mpdex.arb import SpreadMonitor
from mpdex.errors import ConfigError

from .arguments import positive_decimal
from .modules import EXIT_INTERRUPTED, EXIT_OK, SPREAD_INTERVAL
from .output import (
    Write,
    exact_decimal,
    fmt_bp,
    fmt_num,
    fmt_places,
    fmt_price,
    fmt_time,
    format_table,
    to_jsonable,
    wrap_lines,
)
from .progress import Activity, uncancel
from .venues import OpenVenue, market_symbol

__all__ = ["merge_snapshots", "spread_lines", "Screen", "cmd_spread"]


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
          fmt_places(o["net_bps"], 2), fmt_places(o["funding_edge_bps_per_hour"], 4),
          fmt_places(o["payback_hours"], 1))
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
