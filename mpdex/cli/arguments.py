"""Building and cross-checking the CLI's parser for the chosen venue, from the tables in
``modules``.

Parsing is two-pass: ``--exchange`` is read first, then the parser is built from that
venue's registry entry (``exchange_factory.VenueSpec``) and its exchange class's declared
``CAPABILITIES``: the time-in-force choices, the networks, the optional modules
(``funding`` needs the ``funding`` capability, ``register`` is in ``spec.extra_modules``)
and whether ``--paper`` exists. The arbitrage modules (``ARB_MODULES``) span several venues:
they name them with ``--exchanges`` / ``--long`` / ``--short``, never with ``--exchange``.
Every combination argparse cannot express is checked after parsing (exit 2), and bad values
before any connection is opened (exit 1). The only venue named here is the default.
"""
from __future__ import annotations

import argparse
import json
import sys
import textwrap
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import NoReturn

import exchange_factory
import mpdex
from exchange_factory import VenueSpec
from mpdex.errors import ConfigError, InvalidOrder

from .modules import (
    ARB_EXIT_CODES,
    ARB_MODULES,
    MODULE_CAPABILITY,
    MODULE_HELP,
    MODULE_OPTIONS,
    MODULES,
    OPTIONAL_MODULES,
    REQUIRED,
    SPREAD_COINS,
    option_table,
)

__all__ = [
    "DEFAULT_EXCHANGE",
    "invocation",
    "Venue",
    "load_venue",
    "build_parser",
    "parse_args",
    "positive_decimal",
    "validate_inputs",
]

DEFAULT_EXCHANGE = "vest"


@dataclass(frozen=True)
class Venue:
    """The registry entry of the chosen exchange and what its class declares."""

    spec: VenueSpec
    capabilities: frozenset[str] = frozenset()
    modules: tuple[str, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return self.spec.name


def load_venue(name: str) -> Venue:
    """The venue ``name`` (registry + exchange class capabilities) and the modules it offers."""
    spec = exchange_factory.venue(name)
    capabilities = frozenset(exchange_factory.load_exchange_class(spec.name).CAPABILITIES)
    modules = tuple(
        m for m in MODULES
        if (m not in MODULE_CAPABILITY or MODULE_CAPABILITY[m] in capabilities)
        and (m not in OPTIONAL_MODULES or m in spec.extra_modules)
    )
    return Venue(spec, capabilities, modules)


class _Parser(argparse.ArgumentParser):
    """argparse, plus a usage error as JSON on stdout when ``--json`` was given."""

    json_errors = False

    def error(self, message: str) -> NoReturn:
        if self.json_errors:
            doc = {"error": {"type": "UsageError", "code": None, "message": message}}
            sys.stdout.write(json.dumps(doc, indent=2) + "\n")
            sys.stdout.flush()
        super().error(message)


def invocation(prog: str) -> str:
    """How the user runs this tool, for messages: ``python main.py`` or ``mpdex``."""
    return "python main.py" if prog == "main.py" else prog


def option_flag(dest: str) -> str:
    """How an option is spelled in messages (``--coin/--symbol``)."""
    flags = {"coin": "--coin/--symbol"}
    return flags.get(dest, "--" + dest.replace("_", "-"))


def _modules_text(venue: Venue) -> str:
    return "\n".join(
        textwrap.fill(MODULES[name], width=96, initial_indent=f"  {name:<9} ", subsequent_indent=" " * 12,
                      break_on_hyphens=False)
        for name in venue.modules
    )


def build_parser(venue: Venue, *, module: str | None = None, prog: str = "mpdex",
                 json_errors: bool = False) -> argparse.ArgumentParser:
    """The parser for ``venue``: every module's options, or (``module`` given) only that
    module's options and the common ones — what ``--module NAME --help`` shows."""
    run = invocation(prog)
    key_file = f"keys/pk_{venue.name}.py"
    if module is None:
        # two registry venues with paper classes for the arbitrage examples (placeholders if fewer)
        papers = [n for n in exchange_factory.implemented_venues() if exchange_factory.venue(n).paper]
        pair = papers[:2] if len(papers) >= 2 else ["A", "B"]
        description = (f"Trade perpetual DEXs through the mpdex-vest library (exchange: {venue.name}). "
                       "--paper runs everything against an embedded paper exchange: no keys, no money.")
        epilog = (
            f"modules:\n{_modules_text(venue)}\n\n"
            f"`{run} --module NAME --help` shows the options of one module.\n\n"
            "examples:\n"
            f"  {run} --paper --module check\n"
            f"  {run} --paper --module order --coin BTC --side buy --amount 0.01\n"
            f"  {run} --paper --module close --coin BTC\n"
            + (f"  {run} --module register            # then trade live with {key_file}\n"
               if "register" in venue.modules else "")
            + f"  {run} --paper --module spread --exchanges {pair[0]},{pair[1]} --coins BTC,ETH --once\n"
            f"  {run} --paper --module hedge --coin BTC --long {pair[0]} --short {pair[1]} --amount 0.01\n"
            + "\n" + textwrap.fill(
                "exit codes: 0 ok, 1 exchange or input error, 2 usage error, 130 interrupted; "
                f"hedge/unhedge: {ARB_EXIT_CODES}. Live order/close/hedge/unhedge ask for confirmation "
                "unless --yes; a failed command is never retried.", width=96, break_on_hyphens=False)
        )
    else:
        description = textwrap.fill(f"--module {module}: {MODULES[module]}", width=96, break_on_hyphens=False)
        codes = ("0 ok, 1 exchange or input error, 2 usage error, 130 interrupted" if module not in ("hedge", "unhedge")
                 else f"{ARB_EXIT_CODES}, 2 usage error, 130 interrupted")
        if module == "spread":
            codes += (" (Ctrl-C ends the live table). With --json and no --once: one JSON document per line, "
                      "one line per refresh")
        epilog = f"`{run} --help` lists every module.\n" + textwrap.fill(f"exit codes: {codes}.", width=96)
    arb = module in ARB_MODULES
    parser = _Parser(prog=prog if module is None else f"{prog} --module {module}",
                     formatter_class=argparse.RawDescriptionHelpFormatter, description=description, epilog=epilog)
    parser.json_errors = json_errors
    if not arb:  # the arbitrage modules name their venues with --exchanges / --long / --short
        parser.add_argument("--exchange", default=DEFAULT_EXCHANGE, type=str.lower,
                            choices=exchange_factory.implemented_venues(),
                            help=f"exchange to use (default: {DEFAULT_EXCHANGE})")
    parser.add_argument("--version", action="version", version=f"mpdex-vest {mpdex.__version__}")
    parser.add_argument("--module", "-m", required=True, choices=list(venue.modules), metavar="MODULE",
                        help="what to do: " + ", ".join(venue.modules)
                        + (" (described below)" if module is None else ""))

    options = option_table(venue.spec)
    wanted = list(options) if module is None else list(MODULE_OPTIONS[module])
    groups: dict[str, argparse._ArgumentGroup] = {}
    for dest in wanted:
        opt = options[dest]
        title = opt.group if module is None else f"--module {module}"
        group = groups.get(title) or groups.setdefault(title, parser.add_argument_group(title))
        kwargs = dict(opt.kwargs)
        if (module, dest) in MODULE_HELP:
            kwargs["help"] = MODULE_HELP[(module, dest)]
        group.add_argument(*opt.flags, dest=dest, **kwargs)

    if module != "spread":  # spread sends nothing
        common = parser.add_argument_group("confirmation")
        common.add_argument("--yes", "-y", action="store_true",
                            help="do not ask before a live order, close, hedge or unhedge")

    conn = parser.add_argument_group("keys and connection")
    if arb:
        conn.add_argument("--paper", action="store_true",
                          help="start one paper venue per named exchange (its own ledger in the user's data "
                          "directory, a funded default account, its own price path): no keys, no money. "
                          "Live: keys/pk_<venue>.py of each venue")
    else:
        conn.add_argument("--keys", metavar="PATH", type=Path,
                          help=f"keys file defining {venue.spec.keys_variable} (default: {key_file}); "
                          "register writes it")
        paper = "" if venue.spec.paper is not None else f" (not available: {venue.name} has no paper venue)"
        conn.add_argument("--paper", action="store_true",
                          help="run against the embedded paper exchange (no keys, no money)" + paper)
        conn.add_argument("--paper-db", metavar="PATH", type=Path,
                          help="paper ledger (default: one file per exchange in the user's data directory)")
        conn.add_argument("--paper-url", metavar="URL",
                          help="use the standalone paper server at URL (`python -m mpdex.paper`, e.g. "
                          f"http://127.0.0.1:8765) with a keys file registered there (default: keys/pk_{venue.name}_paper.py; "
                          "`--paper-url URL --module register` writes it)")

    out = parser.add_argument_group("output")
    out.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    out.add_argument("--verbose", "-v", action="store_true", help="log INFO to stderr")
    out.add_argument("--debug", action="store_true", help="log DEBUG to stderr; tracebacks on errors")
    parser.set_defaults(**{dest: None for dest in options if dest not in wanted})
    return parser


def _pre_parse(argv: Sequence[str]) -> argparse.Namespace:
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--exchange", default=DEFAULT_EXCHANGE, type=str.lower)
    pre.add_argument("--module", "-m")
    pre.add_argument("--help", "-h", action="store_true")
    pre.add_argument("--json", action="store_true")
    known, _ = pre.parse_known_args(list(argv))
    return known


def _venue_for(name: str) -> Venue:
    try:
        return load_venue(name)
    except ConfigError:  # unknown name: the full parser rejects it with the list of choices
        return load_venue(DEFAULT_EXCHANGE)


def parse_args(argv: Sequence[str] | None = None, *, prog: str = "mpdex") -> argparse.Namespace:
    """Parse and cross-check the options; usage errors exit 2 through argparse."""
    raw = list(sys.argv[1:] if argv is None else argv)
    pre = _pre_parse(raw)
    name = pre.exchange if pre.exchange in exchange_factory.implemented_venues() else DEFAULT_EXCHANGE
    venue = _venue_for(name)
    if pre.help and pre.module in venue.modules:
        build_parser(venue, module=pre.module, prog=prog).parse_args(raw)  # prints the module's help, exits 0
    parser = build_parser(venue, prog=prog, json_errors=pre.json)
    args = parser.parse_args(raw)
    args.venue = venue
    _cross_check(parser, args)
    if args.module in ARB_MODULES:
        _cross_check_arb(parser, args, raw)
    return args


def _cross_check_arb(parser: argparse.ArgumentParser, args: argparse.Namespace, raw: Sequence[str]) -> None:
    """The arbitrage modules: their venues, and the single-venue options that do not apply."""
    module = args.module
    venues = "--exchanges" if module == "spread" else "--long and --short"
    given = {a.partition("=")[0] for a in raw}
    for flag, given_it, fix in (
        ("--exchange", "--exchange" in given, f"name the venues with {venues}"),
        ("--keys", args.keys is not None, "each venue's keys file is keys/pk_<venue>.py"),
        ("--paper-db", args.paper_db is not None,
         "each venue keeps its own ledger in the user's data directory (set XDG_DATA_HOME to move them)"),
        ("--paper-url", args.paper_url is not None, "use --paper (one paper venue per exchange)"),
    ):
        if given_it:
            parser.error(f"{flag} does not apply to --module {module}: {fix}")
    if module == "spread":
        if not args.exchanges:
            papers = [n for n in exchange_factory.implemented_venues() if exchange_factory.venue(n).paper]
            if not args.paper:
                parser.error("--module spread needs --exchanges A,B (the live venues to compare; with --paper it "
                             f"defaults to every paper venue: {','.join(papers)})")
            args.exchanges = papers
        if not args.coins:
            args.coins = list(SPREAD_COINS)
    names: list[str] = list(args.exchanges) if module == "spread" else [args.long, args.short]
    if module == "spread":
        if len(names) < 2:
            parser.error("--module spread compares venues: give --exchanges with at least two, e.g. --exchanges A,B")
        if args.once and args.interval is not None:
            parser.error("--interval does not apply with --once")
    elif args.long == args.short:
        parser.error(f"--long and --short are the same venue ({args.long}): a hedge needs two venues")
    if args.sequential and args.thinner_first:
        parser.error("give --sequential or --thinner-first, not both")
    if args.paper:
        lacking = [n for n in names if exchange_factory.venue(n).paper is None]
        if lacking:
            parser.error(f"--paper is not available for {', '.join(lacking)}: no paper venue")


def _cross_check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    module = args.module
    allowed = MODULE_OPTIONS[module]
    for dest in option_table(args.venue.spec):
        if getattr(args, dest) not in (None, False) and dest not in allowed:
            parser.error(f"{option_flag(dest)} is not used by --module {module}")
    missing = [option_flag(d) for d in REQUIRED.get(module, ()) if getattr(args, d) is None]
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
    if args.paper_url is not None:
        url = urllib.parse.urlsplit(args.paper_url)
        try:
            port = url.port
        except ValueError:
            port = None
        if url.scheme not in ("http", "https") or not url.hostname or port is None:
            parser.error(f"--paper-url wants http://HOST:PORT (what `python -m mpdex.paper` prints), got {args.paper_url!r}")
        if args.paper_db is not None:
            parser.error("--paper-db does not apply with --paper-url (the paper server keeps its own ledger)")
        args.paper = True  # a paper server is paper mode
    if args.paper_db is not None and not args.paper:
        parser.error("--paper-db needs --paper")
    if args.paper and args.venue.spec.paper is None and module not in ARB_MODULES:
        parser.error(f"--paper is not available for --exchange {args.exchange}: it has no paper venue")
    if module == "register" and args.paper_url is None:
        if args.paper and args.keys is None:
            parser.error("--paper --module register needs --keys PATH "
                         "(a paper key must not replace your real keys file)")
        if args.paper and args.network is not None:
            parser.error("--network does not apply with --paper (the paper exchange picks it)")


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
    interval = getattr(args, "interval", None)
    if interval is not None and not 0 < interval < float("inf"):
        raise ConfigError(f"--interval must be a positive number of seconds, got {interval:g}")
    bps = getattr(args, "max_spread_bps", None)
    if bps is not None:
        try:
            limit = Decimal(str(bps).strip())
        except InvalidOperation:
            raise InvalidOrder(f"--max-spread-bps is not a number: {bps!r}") from None
        if not limit.is_finite():
            raise InvalidOrder(f"--max-spread-bps must be a finite number of basis points, got {bps!r}")
