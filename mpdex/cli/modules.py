"""What the CLI offers: every module with its ``--help`` line, which options each module takes
and needs, every option with its flags and help text, and what the exit codes mean.

Tables only; ``arguments`` builds the parser from them and cross-checks what was given. The
option choices that differ per venue (time in force, networks) come from the venue's
registry entry (``option_table(spec)``); the arbitrage modules (``ARB_MODULES``) name their
venues with ``--exchanges`` / ``--long`` / ``--short``, whose choices are the registry's
implemented venues. Nothing here names a venue.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

import exchange_factory
from exchange_factory import VenueSpec

__all__ = [
    "MODULES",
    "ARB_MODULES",
    "MODULE_CAPABILITY",
    "OPTIONAL_MODULES",
    "MODULE_OPTIONS",
    "REQUIRED",
    "MODULE_HELP",
    "SPREAD_INTERVAL",
    "Option",
    "option_table",
    "ARB_EXIT_CODES",
    "EXIT_OK",
    "EXIT_UNWOUND",
    "EXIT_NAKED",
    "EXIT_REFUSED",
    "EXIT_INTERRUPTED",
]

#: every module, with the one line ``--help`` shows for it
MODULES: dict[str, str] = {
    "check": "collateral (total, available, unrealized PnL), open positions and open orders",
    "order": "place an order: --coin, --side, --amount [--price for a limit order] "
    "[--reduce-only] [--tif] [--slippage] [--strict]; shows any rounding before sending; prints the fill, "
    "fee, realised PnL and the position after it",
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
    "(from the venue's environment variable or a hidden prompt) and write the keys file (mode 0600)",
    "spread": "cross-venue table, refreshed in place: --exchanges A,B (with --paper: every paper venue) "
    "[--coins BTC,ETH] [--amount SIZE] "
    "[--interval S] [--once]: each venue's prices for the size, funding per hour, fee, book age, and the "
    "net edge of every long/short pair",
    "hedge": "open a hedge: --coin, --long VENUE, --short VENUE, --amount [--slippage] [--max-spread-bps] "
    "[--sequential | --thinner-first] [--strict]; shows both legs as they will be signed first; "
    "exit 0 hedged, 1 unwound, 3 naked, 4 refused (nothing placed)",
    "unhedge": "close a hedge, reduce-only on both legs: --coin, --long, --short [--amount: default each "
    "whole position]; the same options and exit codes as hedge (0 closed)",
}

#: modules that watch or trade across several venues (``mpdex.cli.arb``)
ARB_MODULES = ("spread", "hedge", "unhedge")

#: modules that exist only where the exchange declares the capability they read
MODULE_CAPABILITY: dict[str, str] = {"funding": "funding"}
#: modules that exist only where the registry lists them in ``extra_modules``
OPTIONAL_MODULES = ("register",)

#: module-specific options each module accepts; anything else given is a usage error
MODULE_OPTIONS: dict[str, tuple[str, ...]] = {
    "check": ("coin",),
    "order": ("coin", "side", "amount", "price", "reduce_only", "tif", "slippage", "strict"),
    "close": ("coin", "all", "cancel_orders"),
    "price": ("coin",),
    "book": ("coin", "depth"),
    "orders": ("coin",),
    "cancel": ("coin", "all", "order_id"),
    "leverage": ("coin", "leverage"),
    "symbols": (),
    "funding": ("coin", "limit"),
    "register": ("network", "expiry_days", "force"),
    "spread": ("exchanges", "coins", "amount", "interval", "once"),
    "hedge": ("coin", "long", "short", "amount", "slippage", "max_spread_bps", "sequential", "thinner_first",
              "strict"),
    "unhedge": ("coin", "long", "short", "amount", "slippage", "max_spread_bps", "sequential", "thinner_first",
                "strict"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "hedge": ("coin", "long", "short", "amount"),
    "unhedge": ("coin", "long", "short"),
    "order": ("coin", "side", "amount"),
    "price": ("coin",),
    "book": ("coin",),
    "leverage": ("coin",),
    "funding": ("coin",),
}


#: seconds between two refreshes of the spread table
SPREAD_INTERVAL = 2.0
#: the coins ``spread`` compares when ``--coins`` is not given
SPREAD_COINS = ("BTC", "ETH")


@dataclass(frozen=True)
class Option:
    flags: tuple[str, ...]
    group: str
    kwargs: dict[str, Any]


def option_table(spec: VenueSpec) -> dict[str, Option]:
    """dest -> option; the choices that differ per venue come from its registry entry ``spec``."""
    implemented = exchange_factory.implemented_venues()
    tif_help = (f"time in force of a limit order: {', '.join(spec.time_in_force)} "
                f"(default {spec.time_in_force[0]})") if spec.time_in_force else "time in force of a limit order"
    net_help = (f"network to register on (default {spec.default_network or spec.networks[0]}; "
                "--paper uses the paper exchange)") if spec.networks else "network to register on"
    return {
        "coin": Option(("--coin", "--symbol"), "market",
                       {"metavar": "COIN", "help": "coin (BTC) or native symbol (BTC-PERP)"}),
        "all": Option(("--all",), "market", {"action": "store_true", "help": "close / cancel: every market"}),
        "depth": Option(("--depth",), "market",
                        {"type": int, "metavar": "N", "help": "book: levels per side (default 10)"}),
        "limit": Option(("--limit",), "market",
                        {"type": int, "metavar": "N", "help": "funding: history entries (default 10)"}),
        "side": Option(("--side",), "order", {"type": str.lower, "choices": ("buy", "sell")}),
        "amount": Option(("--amount",), "order", {"metavar": "SIZE", "help": "size in base units (e.g. 0.01 BTC)"}),
        "price": Option(("--price",), "order",
                        {"metavar": "PRICE", "help": "limit price; without it the order is a market order"}),
        "reduce_only": Option(("--reduce-only",), "order",
                              {"action": "store_true", "help": "only ever reduce the position"}),
        "tif": Option(("--tif",), "order",
                      {"type": str.upper, "choices": spec.time_in_force or None, "help": tif_help}),
        "slippage": Option(("--slippage",), "order", {
            "metavar": "FRACTION",
            "help": "market order price cap as a fraction of mark, e.g. 0.01 = 1%% (default: the exchange's)"}),
        "strict": Option(("--strict",), "order", {
            "action": "store_true",
            "help": "refuse the order if its size or price would be rounded (default: round and say so)"}),
        "cancel_orders": Option(("--cancel-orders",), "order",
                                {"action": "store_true", "help": "close: cancel the market's open orders first"}),
        "order_id": Option(("--order-id",), "order",
                           {"metavar": "ID", "help": "cancel: this order id or client order id"}),
        "leverage": Option(("--leverage",), "order", {"type": int, "metavar": "N", "help": "leverage: set it to N"}),
        "network": Option(("--network",), "register",
                          {"type": str.lower, "choices": spec.networks or None, "help": net_help}),
        "expiry_days": Option(("--expiry-days",), "register",
                              {"type": int, "metavar": "DAYS", "help": "validity of the signing key in days (default 7)"}),
        "force": Option(("--force",), "register", {"action": "store_true", "help": "replace an existing keys file"}),
        "exchanges": Option(("--exchanges",), "arbitrage", {
            "type": _venue_list, "metavar": "A,B",
            "help": f"spread: the venues to compare, comma-separated ({', '.join(implemented)}); "
                    "with --paper the default is every venue that has a paper exchange"}),
        "coins": Option(("--coins",), "arbitrage",
                        {"type": _coin_list, "metavar": "C1,C2", "help": f"spread: coins, comma-separated (default {','.join(SPREAD_COINS)})"}),
        "interval": Option(("--interval",), "arbitrage", {
            "type": float, "metavar": "SECONDS", "help": f"spread: seconds between refreshes (default {SPREAD_INTERVAL:g})"}),
        "once": Option(("--once",), "arbitrage", {"action": "store_true", "help": "spread: one snapshot, then exit"}),
        "long": Option(("--long",), "arbitrage", {
            "type": str.lower, "choices": implemented, "metavar": "VENUE",
            "help": "hedge: the venue that buys; unhedge: the venue that holds the long leg"}),
        "short": Option(("--short",), "arbitrage", {
            "type": str.lower, "choices": implemented, "metavar": "VENUE",
            "help": "hedge: the venue that sells; unhedge: the venue that holds the short leg"}),
        "max_spread_bps": Option(("--max-spread-bps",), "arbitrage", {
            "metavar": "BPS",
            "help": "refuse (nothing sent) when crossing both books for the size costs more than BPS basis points "
            "of the buy price (may be negative: demand a gain)"}),
        "sequential": Option(("--sequential",), "arbitrage", {
            "action": "store_true",
            "help": "send the long leg first and the short leg sized to what it filled (default: both at once)"}),
        "thinner_first": Option(("--thinner-first",), "arbitrage", {
            "action": "store_true",
            "help": "send the leg on the thinner book first, the other sized to what it filled"}),
    }


#: what an option means in one module's help, where that differs from its general help
MODULE_HELP: dict[tuple[str | None, str], str] = {
    ("spread", "amount"): "size in coins the books are walked for (default: the largest minimum order size "
    "among the venues, i.e. the top of the book)",
    ("hedge", "amount"): "size of each leg in coins (e.g. 0.01 BTC)",
    ("unhedge", "amount"): "size to close on each leg (default: each leg's whole position)",
    ("hedge", "coin"): "coin (BTC); each venue's symbol for it comes from the registry",
    ("unhedge", "coin"): "coin (BTC); each venue's symbol for it comes from the registry",
    ("hedge", "slippage"): "each leg's market-order price cap as a fraction of its mark (default: each venue's)",
    ("unhedge", "slippage"): "each leg's market-order price cap as a fraction of its mark (default: each venue's)",
    ("hedge", "strict"): "refuse (nothing sent) if a leg's size would be rounded",
    ("unhedge", "strict"): "refuse (nothing sent) if a leg's size would be rounded",
}


def _venue_list(text: str) -> list[str]:
    """``A,B`` → ``["a", "b"]``: implemented registry venues, each once."""
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    implemented = exchange_factory.implemented_venues()
    for name in names:
        if name not in implemented:
            raise argparse.ArgumentTypeError(f"unknown exchange '{name}' (choose from {', '.join(implemented)})")
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"a venue is named twice in {text!r}")
    return names


def _coin_list(text: str) -> list[str]:
    coins = [c.strip() for c in text.split(",") if c.strip()]
    if not coins:
        raise argparse.ArgumentTypeError(f"no coin in {text!r}")
    if len({c.upper() for c in coins}) != len(coins):
        raise argparse.ArgumentTypeError(f"a coin is named twice in {text!r}")
    return coins


#: what the hedge and unhedge exit codes mean (``mpdex.cli.hedge`` returns them)
ARB_EXIT_CODES = ("0 hedged/closed, 1 unwound (a leg failed; the other was moved back: nothing is held) or an "
                  "exchange/input error, 3 NAKED (a venue holds an unhedged position: the output says which), "
                  "4 refused (nothing placed)")
#: the exit codes of the arbitrage modules (``spread``, ``hedge``, ``unhedge``)
EXIT_OK, EXIT_UNWOUND, EXIT_NAKED, EXIT_REFUSED, EXIT_INTERRUPTED = 0, 1, 3, 4, 130
