#!/usr/bin/env python3
"""mpdex-vest command line: check an account, trade, close, register — live or on paper.

    python main.py --paper --module check                      # embedded paper exchange, no keys
    python main.py --module order --coin ETH --side buy --amount 0.05
    python main.py --module close --coin ETH

All printing lives here; the library only logs (to stderr). stdout carries only the
result — aligned tables, or one JSON document with ``--json``. Exit codes: 0 success,
1 exchange or input error (one ``error: …`` line on stderr), 2 usage error, 130 Ctrl-C.
A failed command is never retried by this tool.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import getpass
import importlib.util
import json
import logging
import math
import os
import sys
import tempfile
import textwrap
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import exchange_factory
from mpdex.errors import (
    ConfigError,
    InvalidOrder,
    MpdexError,
    NotSupported,
    OrderStateUnknown,
)

log = logging.getLogger("mpdex.cli")

ROOT = Path(__file__).resolve().parent
PAPER_USDC = 10_000
PRIMARY_KEY_ENV = "VEST_PRIMARY_PRIVATE_KEY"
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

MODULES: dict[str, str] = {
    "check": "collateral (total, available, unrealized PnL), open positions and open orders",
    "order": "place an order: --coin, --side, --amount [--price for a limit order] "
    "[--reduce-only] [--tif GTC|FOK] [--slippage]; prints the result and the position after it",
    "close": "close the position in --coin (or --all) with a reduce-only market order "
    "[--cancel-orders cancels that market's open orders first]",
    "price": "mark price, index price and hourly funding rate of --coin",
    "book": "top --depth levels (default 10) of the order book of --coin",
    "orders": "open orders (all markets, or --coin)",
    "cancel": "cancel open orders: all of --coin, one by --order-id, or --all markets",
    "leverage": "show the leverage of --coin, or set it with --leverage N",
    "symbols": "markets: symbol, status, size step, tick, minimum size, max leverage, fee",
    "funding": "current funding rate of --coin and its last --limit (default 10) entries",
    "register": "create a signing key, sign its registration with your primary wallet key "
    f"(${PRIMARY_KEY_ENV} or a hidden prompt) and write the keys file (mode 0600)",
}

#: module-specific options each module accepts; anything else given is a usage error
_MODULE_OPTIONS: dict[str, set[str]] = {
    "check": {"coin"},
    "order": {"coin", "side", "amount", "price", "reduce_only", "tif", "slippage"},
    "close": {"coin", "all", "cancel_orders"},
    "price": {"coin"},
    "book": {"coin", "depth"},
    "orders": {"coin"},
    "cancel": {"coin", "all", "order_id"},
    "leverage": {"coin", "leverage"},
    "symbols": set(),
    "funding": {"coin", "limit"},
    "register": {"network", "expiry_days", "force"},
}
_REQUIRED: dict[str, tuple[str, ...]] = {
    "order": ("coin", "side", "amount"),
    "price": ("coin",),
    "book": ("coin",),
    "leverage": ("coin",),
    "funding": ("coin",),
}
_OPTION_NAMES = {
    "coin": "--coin/--symbol",
    "side": "--side",
    "amount": "--amount",
    "price": "--price",
    "reduce_only": "--reduce-only",
    "tif": "--tif",
    "slippage": "--slippage",
    "all": "--all",
    "cancel_orders": "--cancel-orders",
    "depth": "--depth",
    "order_id": "--order-id",
    "leverage": "--leverage",
    "limit": "--limit",
    "network": "--network",
    "expiry_days": "--expiry-days",
    "force": "--force",
}


class Aborted(Exception):
    """The user declined a confirmation; nothing was sent."""


# --------------------------------------------------------------------------- arguments


def build_parser() -> argparse.ArgumentParser:
    modules = "\n".join(
        textwrap.fill(text, width=96, initial_indent=f"  {name:<9} ", subsequent_indent=" " * 12, break_on_hyphens=False)
        for name, text in MODULES.items()
    )
    parser = argparse.ArgumentParser(
        prog="main.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Trade perpetual DEXs through the mpdex-vest library (first exchange: Vest). "
        "--paper runs everything against an embedded paper exchange: no keys, no money.",
        epilog=f"modules:\n{modules}\n\n"
        "examples:\n"
        "  python main.py --paper --module check\n"
        "  python main.py --paper --module order --coin BTC --side buy --amount 0.01\n"
        "  python main.py --paper --module close --coin BTC\n"
        "  python main.py --module register            # then trade live with keys/pk_vest.py\n\n"
        "exit codes: 0 ok, 1 exchange or input error, 2 usage error, 130 interrupted. "
        "Live order/close ask for confirmation unless --yes; a failed command is never retried.",
    )
    parser.add_argument(
        "--exchange", default="vest", type=str.lower, choices=exchange_factory.implemented_venues(),
        help="exchange to use (default: vest)",
    )
    parser.add_argument(
        "--module", "-m", required=True, choices=list(MODULES), metavar="MODULE",
        help="what to do: " + ", ".join(MODULES) + " (described below)",
    )

    market = parser.add_argument_group("market")
    market.add_argument("--coin", "--symbol", dest="coin", metavar="COIN",
                        help="coin (BTC) or native symbol (BTC-PERP)")
    market.add_argument("--all", action="store_true", help="close / cancel: every market")
    market.add_argument("--depth", type=int, metavar="N", help="book: levels per side (default 10)")
    market.add_argument("--limit", type=int, metavar="N", help="funding: history entries (default 10)")

    order = parser.add_argument_group("order")
    order.add_argument("--side", type=str.lower, choices=("buy", "sell"))
    order.add_argument("--amount", metavar="SIZE", help="size in base units (e.g. 0.01 BTC)")
    order.add_argument("--price", metavar="PRICE", help="limit price; without it the order is a market order")
    order.add_argument("--reduce-only", action="store_true", help="only ever reduce the position")
    order.add_argument("--tif", type=str.upper, choices=("GTC", "FOK"),
                       help="time in force of a limit order (default GTC)")
    order.add_argument("--slippage", metavar="FRACTION",
                       help="market order price cap as a fraction of mark, e.g. 0.01 = 1%% "
                       "(default: the exchange's)")
    order.add_argument("--cancel-orders", action="store_true",
                       help="close: cancel the market's open orders first")
    order.add_argument("--order-id", metavar="ID", help="cancel: this order id or client order id")
    order.add_argument("--leverage", type=int, metavar="N", help="leverage: set it to N")
    order.add_argument("--yes", "-y", action="store_true",
                       help="do not ask before a live order or close")

    reg = parser.add_argument_group("register")
    reg.add_argument("--network", type=str.lower, choices=("prod", "dev"),
                     help="network to register on (default prod; --paper uses the paper exchange)")
    reg.add_argument("--expiry-days", type=int, metavar="DAYS",
                     help="validity of the signing key in days (default 7)")
    reg.add_argument("--force", action="store_true", help="replace an existing keys file")

    conn = parser.add_argument_group("keys and connection")
    conn.add_argument("--keys", metavar="PATH", type=Path,
                      help="keys file defining VEST_KEY (default: keys/pk_<exchange>.py); "
                      "register writes it")
    conn.add_argument("--paper", action="store_true",
                      help="run against the embedded paper exchange (no keys, no money)")
    conn.add_argument("--paper-db", metavar="PATH", type=Path,
                      help=f"paper ledger (default: {default_paper_db()})")

    out = parser.add_argument_group("output")
    out.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    out.add_argument("--verbose", "-v", action="store_true", help="log INFO to stderr")
    out.add_argument("--debug", action="store_true", help="log DEBUG to stderr; tracebacks on errors")
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse and cross-check the options; usage errors exit 2 through argparse."""
    parser = build_parser()
    args = parser.parse_args(argv)
    module = args.module
    allowed = _MODULE_OPTIONS[module]
    for dest, flag in _OPTION_NAMES.items():
        if getattr(args, dest) not in (None, False) and dest not in allowed:
            parser.error(f"{flag} is not used by --module {module}")
    missing = [_OPTION_NAMES[d] for d in _REQUIRED.get(module, ()) if getattr(args, d) is None]
    if missing:
        parser.error(f"--module {module} needs {', '.join(missing)}")
    if module in ("close", "cancel"):
        given = sum(1 for v in (args.coin, args.all) if v)
        if given > 1:
            parser.error(f"--module {module}: give --coin or --all, not both")
        if module == "close" and not given:
            parser.error("--module close needs --coin or --all")
        if module == "cancel" and not given and args.order_id is None:
            parser.error("--module cancel needs --coin, --order-id or --all")
    if args.tif is not None and args.price is None:
        parser.error("--tif applies to limit orders: give --price too")
    if args.paper_db is not None and not args.paper:
        parser.error("--paper-db needs --paper")
    if args.paper and args.exchange != "vest":
        parser.error("--paper is only available for --exchange vest")
    if module == "register":
        if args.paper and args.keys is None:
            parser.error("--paper --module register needs --keys PATH "
                         "(a paper key must not replace your real keys file)")
        if args.paper and args.network is not None:
            parser.error("--network does not apply with --paper (the paper exchange picks it)")
    return args


def default_paper_db() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mpdex-vest" / "paper.sqlite3"


def default_keys_path(exchange: str) -> Path:
    return ROOT / "keys" / f"pk_{exchange}.py"


def keys_variable(exchange: str) -> str:
    return f"{exchange.upper()}_KEY"


# --------------------------------------------------------------------------- input values


def positive_decimal(text: str | None, name: str) -> Decimal | None:
    """``text`` as a positive finite Decimal (``None`` passes through), else InvalidOrder."""
    if text is None:
        return None
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise InvalidOrder(f"{name} is not a number: {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise InvalidOrder(f"{name} must be a positive number, got {text!r}")
    return value


def validate_inputs(args: argparse.Namespace) -> None:
    """Reject bad values before any connection is opened (exit 1, nothing sent)."""
    positive_decimal(args.amount, "amount")
    positive_decimal(args.price, "price")
    slippage = positive_decimal(args.slippage, "slippage")
    if slippage is not None and slippage >= 1:
        raise InvalidOrder(f"slippage is a fraction of the mark price (0.01 = 1%), got {args.slippage!r}")
    for name in ("depth", "limit", "leverage", "expiry_days"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            raise ConfigError(f"--{name.replace('_', '-')} must be a positive integer, got {value}")


# --------------------------------------------------------------------------- secrets


class Secrets:
    """Known secret strings; every line this tool writes passes through ``redact``."""

    def __init__(self) -> None:
        self._values: set[str] = set()

    def add(self, value: Any) -> None:
        if not isinstance(value, str) or len(value.strip()) < 8:
            return
        value = value.strip()
        self._values.add(value)
        bare = value[2:] if value.lower().startswith("0x") else value
        if len(bare) >= 8:
            self._values.update({bare, bare.lower(), bare.upper()})

    def add_key(self, key: Any) -> None:
        for field in ("api_key", "signing_private_key", "secret", "private_key"):
            self.add(getattr(key, field, None) if not isinstance(key, dict) else key.get(field))

    def redact(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, "<redacted>")
        return text


class RedactingFormatter(logging.Formatter):
    def __init__(self, fmt: str, secrets: Secrets) -> None:
        super().__init__(fmt)
        self.secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        return self.secrets.redact(super().format(record))


def setup_logging(args: argparse.Namespace, secrets: Secrets) -> None:
    # By default only the result and one ``error:`` line reach the user; the library's
    # warnings (an order refusal, a retried read) repeat that line or are noise here.
    level = logging.DEBUG if args.debug else logging.INFO if args.verbose else logging.ERROR
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s", secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    if not args.debug:  # the paper server's access log is noise below --debug
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


# --------------------------------------------------------------------------- formatting


def fmt_num(value: Any) -> str:
    """A number as a plain decimal string without float noise or exponent; ``-`` for None."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        value = Decimal(f"{value:.15g}")
    if isinstance(value, Decimal):
        text = format(value, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    return str(value)


def fmt_time(ms: Any) -> str:
    if not isinstance(ms, (int, float)) or isinstance(ms, bool) or ms <= 0:
        return "-"
    stamp = dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc)
    return stamp.strftime("%Y-%m-%d %H:%M:%SZ")


def _is_numeric(text: str) -> bool:
    try:
        Decimal(text)
    except InvalidOperation:
        return False
    return True


def format_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, indent: str = "  ") -> list[str]:
    """Aligned plain-text table: numeric columns right-aligned, the rest left-aligned."""
    cells = [[c if isinstance(c, str) else fmt_num(c) for c in row] for row in rows]
    if not cells:
        return [f"{indent}(none)"]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    right = [
        all(cell == "-" or _is_numeric(cell) for cell in (row[i] for row in cells))
        and any(_is_numeric(row[i]) for row in cells)
        for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right, strict=True)]
        return (indent + "  ".join(parts)).rstrip()

    return [line(headers)] + [line(row) for row in cells]


def format_pairs(pairs: Sequence[tuple[str, Any]], *, indent: str = "  ") -> list[str]:
    width = max(len(k) for k, _ in pairs)
    return [f"{indent}{k.ljust(width)}  {v if isinstance(v, str) else fmt_num(v)}" for k, v in pairs]


_DROP_KEYS = {"raw", "raw_data", "exception"}


def to_jsonable(value: Any) -> Any:
    """Results as plain JSON: raw payloads dropped, Decimals as numbers, no float noise."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items() if k not in _DROP_KEYS}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else str(value)
    if isinstance(value, float):
        return float(f"{value:.15g}") if math.isfinite(value) else None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    return str(value)


def short_address(address: Any) -> str:
    text = str(address or "")
    return f"{text[:6]}…{text[-4:]}" if len(text) > 12 else text or "-"


# --------------------------------------------------------------------------- results


@dataclasses.dataclass
class Report:
    """What a module produced: JSON-able data and the lines of the text rendering."""

    data: dict[str, Any]
    lines: list[str]
    #: set when the module ran but part of it failed (printed, then exit 1)
    failure: str | None = None


@dataclasses.dataclass
class Progress:
    """What state-changing request was under way, for the message after a Ctrl-C."""

    sending: str | None = None


@dataclasses.dataclass
class Context:
    """Everything a module needs: the options, the open exchange and how to ask the user."""

    args: argparse.Namespace
    secrets: Secrets
    exchange: Any = None  # None only for register
    key: Any = None  # the account's key object (never printed)
    paper: Any = None  # the PaperVest instance in paper mode
    paper_db: Path | None = None
    progress: Progress = dataclasses.field(default_factory=Progress)
    confirm: Callable[[str], Awaitable[bool]] = dataclasses.field(default=lambda prompt: ask_confirmation(prompt))

    @property
    def live(self) -> bool:
        return self.paper is None


async def resolve_symbol(ex: Any, coin: str) -> str:
    resolver = getattr(ex, "resolve_symbol", None)
    if resolver is not None:
        return str(resolver(coin))
    return exchange_factory.symbol_create(getattr(ex, "name", "") or "vest", coin)


async def all_positions(ex: Any, symbol: str | None = None) -> list[dict[str, Any]]:
    """Open positions (of one market, or of all)."""
    if symbol is not None:
        pos = await ex.get_position(symbol)
        return [pos] if pos else []
    getter = getattr(ex, "get_positions", None)  # one account read for every market, where offered
    if getter is not None:
        return [dict(p) for p in await getter() if p]
    symbols = (await ex.get_available_symbols()).get("perp", [])
    found = await asyncio.gather(*(ex.get_position(s) for s in symbols))
    return [p for p in found if p]


def position_table(positions: Sequence[dict[str, Any]], marks: dict[str, Any]) -> list[str]:
    return format_table(
        ("symbol", "side", "size", "entry", "mark", "uPnL", "liq. price"),
        [
            (p["symbol"], p["side"], p["size"], p.get("entry_price"), marks.get(p["symbol"]),
             p.get("unrealized_pnl"), p.get("liquidation_price"))
            for p in positions
        ],
    )


def short_id(value: Any) -> str:
    text = str(value or "-")
    return f"{text[:10]}…{text[-4:]}" if len(text) > 18 else text


def orders_table(orders: Sequence[dict[str, Any]], *, full_ids: bool = True) -> list[str]:
    shown: Callable[[Any], str] = (lambda v: str(v or "-")) if full_ids else short_id
    return format_table(
        ("symbol", "side", "type", "size", "filled", "price", "reduce", "status", "order id", "client id", "created"),
        [
            (o.get("symbol"), o.get("side"), o.get("order_type"), o.get("size"), o.get("filled_size"),
             o.get("price"), "yes" if o.get("reduce_only") else "no", o.get("status"),
             shown(o.get("order_id") or o.get("id")), str(o.get("client_order_id") or "-"),
             fmt_time(o.get("created_at")))
            for o in orders
        ],
    )


def order_result_lines(res: dict[str, Any]) -> list[str]:
    kind = res.get("order_type", "")
    pairs: list[tuple[str, Any]] = [
        ("order", f"{res.get('side')} {fmt_num(res.get('size'))} {res.get('symbol')} {kind}"),
        ("status", str(res.get("status"))),
    ]
    if "filled_size" in res:
        filled = fmt_num(res.get("filled_size"))
        if res.get("avg_price") is not None:
            filled += f" @ {fmt_num(res.get('avg_price'))}"
        pairs.append(("filled", filled))
    pairs.append(("price cap" if kind == "market" else "limit price", res.get("price")))
    pairs.append(("order id", str(res.get("order_id") or res.get("id") or "-")))
    pairs.append(("client order id", str(res.get("client_order_id") or "-")))
    return format_pairs(pairs)


async def marks_for(ex: Any, symbols: Iterable[str]) -> dict[str, float]:
    unique = sorted(set(symbols))
    prices = await asyncio.gather(*(ex.get_mark_price(s) for s in unique))
    return dict(zip(unique, prices, strict=True))


# --------------------------------------------------------------------------- modules


async def cmd_check(ctx: Context) -> Report:
    ex = ctx.exchange
    symbol = await resolve_symbol(ex, ctx.args.coin) if ctx.args.coin else None
    collateral, positions, orders = await asyncio.gather(
        ex.get_collateral(), all_positions(ex, symbol), ex.get_open_orders(symbol)
    )
    marks = await marks_for(ex, (p["symbol"] for p in positions))
    quote = getattr(ex, "PERP_QUOTE", "USDC")
    lines = [f"Collateral ({quote})"]
    lines += format_table(
        ("total", "available", "unrealized PnL"),
        [(collateral.get("total_collateral"), collateral.get("available_collateral"),
          collateral.get("unrealized_pnl"))],
    )
    lines += ["", "Positions" + (f" ({symbol})" if symbol else "")]
    lines += position_table(positions, marks)
    lines += ["", "Open orders" + (f" ({symbol})" if symbol else "")]
    lines += orders_table(orders, full_ids=False)
    data = {
        "collateral": dict(collateral, quote=quote),
        "positions": [dict(p, mark_price=marks.get(p["symbol"])) for p in positions],
        "open_orders": orders,
    }
    return Report(data, lines)


async def cmd_order(ctx: Context) -> Report:
    ex, a = ctx.exchange, ctx.args
    amount = positive_decimal(a.amount, "amount")
    price = positive_decimal(a.price, "price")
    slippage = positive_decimal(a.slippage, "slippage")
    symbol = await resolve_symbol(ex, a.coin)
    kind = "limit" if price is not None else "market"
    if ctx.live and not a.yes:
        mark = await ex.get_mark_price(symbol)
        what = f"{kind} {a.side} {fmt_num(amount)} {symbol}"
        if price is not None:
            what += f" at {fmt_num(price)}" + (f" {a.tif}" if a.tif else "")
        if a.reduce_only:
            what += " reduce-only"
        if not await ctx.confirm(f"LIVE {what} (mark {fmt_num(mark)}). Send it?"):
            raise Aborted
    ctx.progress.sending = f"sending the {kind} {a.side} order for {fmt_num(amount)} {symbol}"
    result = await ex.create_order(
        symbol, a.side, amount, price, kind,
        is_reduce_only=bool(a.reduce_only), time_in_force=a.tif, slippage=slippage,
    )
    position = await ex.get_position(symbol)
    marks = await marks_for(ex, [symbol]) if position else {}
    lines = ["Order"] + order_result_lines(result)
    lines += ["", f"Position after the order ({symbol})"]
    lines += position_table([position], marks) if position else ["  flat"]
    data = {"order": result, "position": dict(position, mark_price=marks.get(symbol)) if position else None}
    return Report(data, lines)


async def cmd_close(ctx: Context) -> Report:
    ex, a = ctx.exchange, ctx.args
    symbol = await resolve_symbol(ex, a.coin) if a.coin else None
    positions = await all_positions(ex, symbol)
    orders = await ex.get_open_orders(symbol) if a.cancel_orders else []
    if ctx.live and not a.yes and (positions or orders):
        parts = [f"{p['side']} {fmt_num(p['size'])} {p['symbol']}" for p in positions]
        what = "close " + ", ".join(parts) if parts else "no position to close"
        if orders:
            what += f"; cancel {len(orders)} open order(s) first"
        if not await ctx.confirm(f"LIVE {what} (market, reduce-only). Proceed?"):
            raise Aborted
    lines: list[str] = []
    cancelled: list[dict[str, Any]] = []
    failure = None
    ctx.progress.sending = "cancelling orders and closing positions"
    if a.cancel_orders:
        by_symbol: dict[str, list[dict[str, Any]]] = {}
        for o in orders:
            by_symbol.setdefault(o["symbol"], []).append(o)
        for sym, group in sorted(by_symbol.items()):
            cancelled += await ex.cancel_orders(sym, group)
        lines += ["Cancelled orders"] + cancel_table(cancelled) + [""]
        errors = [c for c in cancelled if c.get("status") != "ok"]
        if errors:  # a close with the orders still resting could reopen the position
            failure = f"{len(errors)} of {len(cancelled)} cancels failed; nothing was closed"
            return Report({"cancelled": cancelled, "closed": []}, lines, failure)
    closed: list[dict[str, Any]] = []
    for pos in positions:
        result = await ex.close_position(pos["symbol"], pos)
        closed.append({"symbol": pos["symbol"], "position": pos, "order": result})
    if closed:
        lines.append("Closed")
        lines += format_table(
            ("symbol", "was", "size", "order", "status", "filled", "avg price", "client order id"),
            [
                (c["symbol"], c["position"]["side"], c["position"]["size"],
                 f"{(c['order'] or {}).get('side', '-')} market",
                 (c["order"] or {}).get("status", "-"), (c["order"] or {}).get("filled_size"),
                 (c["order"] or {}).get("avg_price"), str((c["order"] or {}).get("client_order_id") or "-"))
                for c in closed
            ],
        )
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


def cancel_table(results: Sequence[dict[str, Any]]) -> list[str]:
    return format_table(
        ("symbol", "order id", "status", "error"),
        [(r.get("symbol"), str(r.get("order_id") or r.get("id") or "-"), r.get("status"), r.get("error") or "")
         for r in results],
    )


async def cmd_cancel(ctx: Context) -> Report:
    ex, a = ctx.exchange, ctx.args
    symbol = await resolve_symbol(ex, a.coin) if a.coin else None
    orders = await ex.get_open_orders(symbol)
    if a.order_id is not None:
        wanted = str(a.order_id)
        orders = [o for o in orders if wanted in (str(o.get("order_id")), str(o.get("id")),
                                                  str(o.get("client_order_id")))]
        if not orders:
            raise ConfigError(f"no open order with id {wanted}" + (f" in {symbol}" if symbol else ""))
    by_symbol: dict[str, list[dict[str, Any]]] = {}
    for o in orders:
        by_symbol.setdefault(o["symbol"], []).append(o)
    results: list[dict[str, Any]] = []
    ctx.progress.sending = "cancelling orders"
    for sym, group in sorted(by_symbol.items()):
        results += await ex.cancel_orders(sym, group)
    errors = [r for r in results if r.get("status") != "ok"]
    if not results:
        return Report({"cancelled": []}, [f"No open orders{' in ' + symbol if symbol else ''}; nothing to cancel."])
    lines = ["Cancelled orders"] + cancel_table(results)
    failure = f"{len(errors)} of {len(results)} cancels failed" if errors else None
    return Report({"cancelled": results}, lines, failure)


async def cmd_orders(ctx: Context) -> Report:
    symbol = await resolve_symbol(ctx.exchange, ctx.args.coin) if ctx.args.coin else None
    orders = await ctx.exchange.get_open_orders(symbol)
    return Report({"open_orders": orders}, ["Open orders" + (f" ({symbol})" if symbol else "")] + orders_table(orders))


async def cmd_price(ctx: Context) -> Report:
    ex = ctx.exchange
    symbol = await resolve_symbol(ex, ctx.args.coin)
    getter = getattr(ex, "get_funding_rate", None)
    if getter is not None:
        info = dict(await getter(symbol))
    else:
        info = {"symbol": symbol, "mark_price": await ex.get_mark_price(symbol),
                "index_price": None, "funding_rate": None}
    lines = format_pairs([
        ("symbol", symbol),
        ("mark", info.get("mark_price")),
        ("index", info.get("index_price")),
        ("funding (1h)", info.get("funding_rate")),
    ])
    return Report(info, lines)


async def cmd_book(ctx: Context) -> Report:
    ex = ctx.exchange
    depth = ctx.args.depth or 10
    symbol = await resolve_symbol(ex, ctx.args.coin)
    book = await ex.get_orderbook(symbol)
    bids, asks = list(book.get("bids", []))[:depth], list(book.get("asks", []))[:depth]
    rows = []
    for i in range(max(len(bids), len(asks))):
        bid = bids[i] if i < len(bids) else (None, None)
        ask = asks[i] if i < len(asks) else (None, None)
        rows.append((bid[1], bid[0], ask[0], ask[1]))
    lines = [f"Order book {symbol} (top {depth}, {fmt_time(book.get('time'))})"]
    lines += format_table(("bid size", "bid", "ask", "ask size"), rows)
    return Report({"symbol": symbol, "bids": bids, "asks": asks, "time": book.get("time")}, lines)


async def cmd_leverage(ctx: Context) -> Report:
    ex, a = ctx.exchange, ctx.args
    symbol = await resolve_symbol(ex, a.coin)
    failure = None
    data: dict[str, Any] = {}
    if a.leverage is not None:
        ctx.progress.sending = f"setting the leverage of {symbol}"
        update = dict(await ex.update_leverage(symbol, a.leverage))
        data["update"] = update
        if update.get("status") != "ok":
            failure = f"leverage not changed: {update.get('message') or update.get('status')}"
    info = dict(await ex.get_leverage_info(symbol))
    data["leverage"] = info
    lines = format_pairs([
        ("symbol", symbol),
        ("leverage", info.get("leverage")),
        ("max leverage", info.get("max_leverage")),
        ("margin mode", info.get("margin_mode") or "-"),
    ])
    return Report(data, lines, failure)


async def cmd_symbols(ctx: Context) -> Report:
    ex = ctx.exchange
    symbols = (await ex.get_available_symbols()).get("perp", [])
    markets = getattr(ex, "markets", None) or {}
    rows, data = [], []
    for sym in symbols:
        m = markets.get(sym)
        row = {
            "symbol": sym,
            "status": getattr(m, "status", None),
            "size_step": getattr(m, "size_step", None),
            "tick": getattr(m, "tick", None),
            "min_size": getattr(m, "min_size", None),
            "max_leverage": getattr(m, "max_leverage", None),
            "taker_fee": getattr(m, "taker_fee", None),
        }
        data.append(row)
        rows.append(tuple(row.values()))
    lines = format_table(("symbol", "status", "size step", "tick", "min size", "max lev.", "taker fee"), rows)
    return Report({"symbols": data}, [f"{len(symbols)} markets"] + lines)


async def cmd_funding(ctx: Context) -> Report:
    ex = ctx.exchange
    symbol = await resolve_symbol(ex, ctx.args.coin)
    limit = ctx.args.limit or 10
    current_getter = getattr(ex, "get_funding_rate", None)
    history_getter = getattr(ex, "get_funding_history", None)
    if current_getter is None or history_getter is None:
        raise NotSupported(f"{getattr(ex, 'name', 'this exchange')} does not report funding rates")
    current, history = await asyncio.gather(current_getter(symbol), history_getter(symbol, limit=limit))
    history = sorted(history, key=lambda h: h.get("time") or 0, reverse=True)[:limit]
    rate = current.get("funding_rate")
    yearly = Decimal(f"{rate:.15g}") * 24 * 365 if isinstance(rate, float) else None
    lines = format_pairs([
        ("symbol", symbol),
        ("funding (1h)", rate),
        ("annualised", f"{fmt_num(yearly * 100)}%" if yearly is not None else "-"),
    ])
    if history:
        lines += ["", f"Last {len(history)} funding entries"]
        lines += format_table(("time", "rate (1h)"), [(fmt_time(h.get("time")), h.get("funding_rate")) for h in history])
    else:
        lines += ["", "No funding history yet."]
    return Report({"current": current, "history": history}, lines)


# --------------------------------------------------------------------------- register


def read_primary_key() -> str:
    """The primary wallet key from $VEST_PRIMARY_PRIVATE_KEY or a hidden prompt (never echoed)."""
    value = os.environ.get(PRIMARY_KEY_ENV)
    if value:
        return value.strip()
    if not sys.stdin or not sys.stdin.isatty():
        raise ConfigError(f"no primary key: set {PRIMARY_KEY_ENV} or run register from a terminal")
    value = getpass.getpass("Primary wallet private key (hidden, used once to sign the registration): ")
    if not value.strip():
        raise ConfigError("no primary key given")
    return value.strip()


def render_keys_file(key: Any, variable: str, note: str) -> str:
    """Python source defining ``variable`` as the key dataclass, like keys/copy.pk_vest.py."""
    cls = type(key)
    fields = ",\n".join(f"    {f.name}={getattr(key, f.name)!r}" for f in dataclasses.fields(key))
    return (
        f'"""{note}\n\nSecret: keep it private (mode 0600; keys/pk_*.py is git-ignored). '
        f"repr({variable}) redacts the secrets.\n\"\"\"\n"
        f"from {cls.__module__} import {cls.__name__}\n\n"
        f"{variable} = {cls.__name__}(\n{fields},\n)\n"
    )


def write_private_file(path: Path, text: str, *, force: bool) -> None:
    """Write ``text`` to ``path`` atomically with mode 0600; refuse to replace unless ``force``."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            os.fchmod(fh.fileno(), 0o600)
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if force:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # atomic and never replaces an existing file
            except FileExistsError:
                raise ConfigError(f"{path} already exists; pass --force to replace it") from None
    finally:
        tmp.unlink(missing_ok=True)


async def cmd_register(ctx: Context) -> Report:
    a = ctx.args
    cls = exchange_factory.load_exchange_class(a.exchange)
    register = getattr(cls, "register", None)
    if register is None:
        raise NotSupported(f"{a.exchange} has no registration")
    target = a.keys if a.keys is not None else default_keys_path(a.exchange)
    if target.exists() and not a.force:
        raise ConfigError(f"{target} already exists; pass --force to replace it")
    primary = read_primary_key()
    ctx.secrets.add(primary)
    days = a.expiry_days or 7
    if ctx.paper is not None:
        network, rest_url = getattr(ctx.paper, "network", "dev"), ctx.paper.rest_url
    else:
        network, rest_url = a.network or "prod", None
    ctx.progress.sending = "registering (no keys file was written)"
    key = await register(primary, network=network, expiry_days=days, rest_url=rest_url)
    ctx.secrets.add_key(key)
    expires = fmt_time(int((time.time() + days * 86400) * 1000))
    where = f"the paper exchange ({ctx.paper.rest_url})" if ctx.paper is not None else f"{a.exchange} {network}"
    note = (f"{a.exchange} keys written by `python main.py --module register` for {where}; "
            f"signing key valid until about {expires}.")
    if ctx.paper is not None:
        note += "\nPaper account: it exists only in that paper ledger."
    write_private_file(target, render_keys_file(key, keys_variable(a.exchange), note), force=bool(a.force))
    signing_address = None
    if a.exchange == "vest":
        from wrappers.vest_auth import address_of

        signing_address = address_of(key.signing_private_key)
    data = {
        "keys_file": str(target),
        "mode": "0600",
        "network": network,
        "primary_address": key.primary_address,
        "signing_address": signing_address,
        "account_group": getattr(key, "account_group", None),
        "expires_approx": expires,
    }
    lines = ["Registered"] + format_pairs([
        ("primary address", key.primary_address),
        ("signing address", signing_address or "-"),
        ("account group", data["account_group"]),
        ("network", network),
        ("key valid until", f"about {expires}"),
        ("keys file", f"{target} (mode 0600)"),
    ])
    if ctx.paper is None:
        lines += ["", f"Next: python main.py --module check{'' if a.keys is None else f' --keys {target}'}"]
    return Report(data, lines)


COMMANDS: dict[str, Callable[[Context], Awaitable[Report]]] = {
    "check": cmd_check,
    "order": cmd_order,
    "close": cmd_close,
    "price": cmd_price,
    "book": cmd_book,
    "orders": cmd_orders,
    "cancel": cmd_cancel,
    "leverage": cmd_leverage,
    "symbols": cmd_symbols,
    "funding": cmd_funding,
    "register": cmd_register,
}


# --------------------------------------------------------------------------- keys and sessions


def load_keys(path: Path, exchange: str) -> Any:
    """Import a keys file (``pk_vest.py`` style) and return its ``<EXCHANGE>_KEY``.

    Errors name the file and the problem, never a value from it (a mistyped secret
    would otherwise appear in a NameError).
    """
    variable = keys_variable(exchange)
    if not path.is_file():
        raise ConfigError(
            f"no keys file at {path}: create it with `python main.py --module register` "
            f"(or copy keys/copy.pk_{exchange}.py there and fill it in), or pass --keys PATH; "
            "--paper needs no keys"
        )
    spec = importlib.util.spec_from_file_location(f"_mpdex_keys_{exchange}", path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"cannot load keys file {path}")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        line = getattr(exc, "lineno", None)
        if line is None:
            frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
            line = frames[-1].lineno if frames else None
        at = f" at line {line}" if line else ""
        raise ConfigError(f"keys file {path} failed to load: {type(exc).__name__}{at}") from None
    if not hasattr(module, variable):
        raise ConfigError(f"keys file {path} does not define {variable}")
    return getattr(module, variable)


@contextlib.asynccontextmanager
async def open_exchange(name: str, key: Any) -> AsyncIterator[Any]:
    ex = await exchange_factory.create_exchange(name, key)
    try:
        yield ex
    finally:
        await ex.close()


@contextlib.asynccontextmanager
async def open_session(args: argparse.Namespace, secrets: Secrets, progress: Progress) -> AsyncIterator[Context]:
    """Yield a ``Context`` with the exchange open (paper server too); all closed on the way out."""
    ctx = Context(args=args, secrets=secrets, progress=progress)
    if args.paper:
        from mpdex.paper import PaperVest

        if args.keys is not None and args.module != "register":
            log.warning("--keys is ignored with --paper (paper mode uses the ledger's account)")
        ctx.paper_db = (args.paper_db or default_paper_db()).expanduser()
        ctx.paper_db.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        async with PaperVest(db_path=str(ctx.paper_db), port=0) as paper:
            ctx.paper = paper
            if args.module == "register":
                yield ctx
                return
            ctx.key = await paper.default_account(usdc=PAPER_USDC)
            secrets.add_key(ctx.key)
            async with open_exchange(args.exchange, ctx.key) as ctx.exchange:
                yield ctx
        return
    if args.module == "register":
        yield ctx
        return
    path = (args.keys or default_keys_path(args.exchange)).expanduser()
    ctx.key = load_keys(path, args.exchange)
    secrets.add_key(ctx.key)
    try:
        exchange = await exchange_factory.create_exchange(args.exchange, ctx.key)
    except ConfigError as exc:  # name the file the bad field came from
        raise ConfigError(f"{exc} (keys file {path})") from None
    try:
        ctx.exchange = exchange
        yield ctx
    finally:
        await exchange.close()


async def ask_confirmation(prompt: str) -> bool:
    """Ask on the terminal (stderr/stdin) without blocking the event loop; Ctrl-C cancels."""
    if not sys.stdin or not sys.stdin.isatty():
        raise ConfigError("this is a live trade and stdin is not a terminal: re-run with --yes to confirm")
    sys.stderr.write(f"{prompt} [y/N] ")
    sys.stderr.flush()
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()

    def on_readable() -> None:
        if not answer.done():
            answer.set_result(sys.stdin.readline())

    try:
        loop.add_reader(sys.stdin.fileno(), on_readable)
    except (NotImplementedError, ValueError, OSError):  # e.g. Windows proactor loop
        line = sys.stdin.readline()
    else:
        try:
            line = await answer
        finally:
            loop.remove_reader(sys.stdin.fileno())
    return line.strip().lower() in ("y", "yes")


def banner(ctx: Context) -> str | None:
    """The first line of text output: paper or live, and which account."""
    account = short_address(getattr(ctx.key, "primary_address", None))
    if ctx.paper is not None:
        where = ctx.paper.rest_url.split("//", 1)[-1].split("/", 1)[0]
        who = f", account {account}" if ctx.key is not None else ""
        return f"[PAPER] paper exchange on {where}, ledger {ctx.paper_db}{who} — no real money"
    if ctx.key is None:
        return None
    network = getattr(ctx.key, "network", None)
    return f"[LIVE] {ctx.args.exchange}{' ' + network if network else ''} account {account}"


async def run(args: argparse.Namespace, secrets: Secrets, progress: Progress, out: Callable[[str], None]) -> int:
    async with open_session(args, secrets, progress) as ctx:
        head = banner(ctx)
        if head and args.json and ctx.paper is not None:
            sys.stderr.write(secrets.redact(head) + "\n")
        report = await COMMANDS[args.module](ctx)
    if args.json:
        doc = {"exchange": args.exchange, "paper": ctx.paper is not None, "module": args.module}
        doc.update(to_jsonable(report.data))
        if report.failure:
            doc["error"] = report.failure
        out(json.dumps(doc, indent=2))
    else:
        out("\n".join(([head, ""] if head else []) + report.lines))
    if report.failure:
        sys.stderr.write(secrets.redact(f"error: {report.failure}") + "\n")
        return EXIT_ERROR
    return EXIT_OK


def error_line(exc: BaseException) -> str:
    if isinstance(exc, OrderStateUnknown):
        return (f"error: order state unknown (client order id {exc.client_order_id}): {exc} — "
                "do not resend; check it with --module orders / --module check")
    if isinstance(exc, Aborted):
        return "aborted: nothing was sent"
    text = str(exc).strip() or type(exc).__name__
    return f"error: {' '.join(text.split())}"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    secrets = Secrets()
    progress = Progress()
    setup_logging(args, secrets)

    def out(text: str) -> None:
        sys.stdout.write(secrets.redact(text) + "\n")
        sys.stdout.flush()

    def fail(exc: BaseException, line: str, code: int) -> int:
        if args.debug:
            sys.stderr.write(secrets.redact("".join(traceback.format_exception(exc))))
        sys.stderr.write(secrets.redact(line) + "\n")
        return code

    try:
        validate_inputs(args)
        return asyncio.run(run(args, secrets, progress, out))
    except KeyboardInterrupt:
        newline = "\n" if sys.stdin and sys.stdin.isatty() else ""  # end the prompt or ^C line first
        if progress.sending:
            sys.stderr.write(f"{newline}interrupted while {progress.sending}: it may have reached the exchange; "
                             "check with --module orders / --module check\n")
        else:
            sys.stderr.write(f"{newline}interrupted: nothing was sent\n")
        return EXIT_INTERRUPTED
    except (MpdexError, Aborted) as exc:
        return fail(exc, error_line(exc), EXIT_ERROR)
    except BrokenPipeError:  # stdout went away (e.g. piped into head): say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR
    except Exception as exc:  # a bug or an unwrapped library error: still one line
        return fail(exc, f"error: unexpected {type(exc).__name__}: {exc} (run with --debug for details)", EXIT_ERROR)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # before the event loop started (parsing, logging setup)
        sys.stderr.write("interrupted\n")
        sys.exit(EXIT_INTERRUPTED)
