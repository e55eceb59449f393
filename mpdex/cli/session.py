"""Sessions: what a module runs against — a paper venue started inside the command, or the
live exchange of a keys file — plus the confirmation prompt and the banner.

Paper mode works for any venue whose registry entry names a paper class
(``spec.paper = "module:Class"``, imported only when used) with PaperVest's interface:
``cls(db_path=..., seed=...)``, ``async with``, ``await paper.default_account()`` returning
a key for ``create_exchange``, and ``rest_url``/``ws_url``/``network`` saying where and how
it listens. Each venue keeps its own ledger file (``paper-<venue>.sqlite3`` in the user's
data directory); the ledger of the default venue from before there were several
(``paper.sqlite3``) is used where it exists, so existing paper accounts stay.

``--paper-url`` points at a standalone paper server instead (``python -m mpdex.paper``):
the paper class, built with that ``host``/``port`` and never started, names its URLs; the
account is a keys file registered there, and a keys file that points anywhere else (a
live one above all) is refused before anything is sent.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import os
import sys
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import exchange_factory
from exchange_factory import VenueSpec
from mpdex.errors import ConfigError
from mpdex.redact import short_address

from .arguments import DEFAULT_EXCHANGE, Venue, invocation
from .keys import account_address, check_key_fields, default_keys_path, key_items, load_keys
from .output import Secrets
from .progress import Activity

__all__ = [
    "PAPER_USDC",
    "PAPER_SEED",
    "Aborted",
    "Report",
    "Context",
    "endpoint_of",
    "default_paper_db",
    "open_session",
    "ask_confirmation",
    "banner",
]

log = logging.getLogger("mpdex.cli")

#: what a paper venue funds its default account with (PaperVest's default)
PAPER_USDC = 10_000
PAPER_SEED = 1


class Aborted(Exception):
    """The user declined a confirmation; nothing was sent."""


@dataclasses.dataclass
class Report:
    """What a module produced: JSON-able data and the lines of the text rendering."""

    data: dict[str, Any]
    lines: list[str]
    #: set when the module ran but part of it failed (printed, then exit 1)
    failure: str | None = None


async def _ask(prompt: str) -> bool:
    return await ask_confirmation(prompt)


@dataclasses.dataclass
class Context:
    """Everything a module needs: the options, the open exchange and how to ask the user."""

    args: argparse.Namespace
    secrets: Secrets
    exchange: Any = None  # None only for register
    key: Any = None  # the account's key object (never printed)
    paper: Any = None  # paper mode: the running paper venue, or the PaperServer of --paper-url
    paper_db: Path | None = None
    activity: Activity = dataclasses.field(default_factory=Activity)
    confirm: Callable[[str], Awaitable[bool]] = _ask
    root: Path | None = None  # where keys/ lives (the entry point's directory)
    #: one line for the user on stderr (redacted), e.g. what is about to be rounded
    note: Callable[[str], None] = dataclasses.field(default=lambda text: None)
    prog: str = "mpdex"

    @property
    def live(self) -> bool:
        return self.paper is None

    @property
    def venue(self) -> Venue:
        venue: Venue = self.args.venue
        return venue

    @property
    def where(self) -> str:
        """The host this command talks to (or the venue and network when it is not known)."""
        return self.activity.where or self.venue.name

    @property
    def run(self) -> str:
        """How the user runs this tool, for messages (``python main.py`` or ``mpdex``)."""
        return invocation(self.prog)


def _data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mpdex-vest"


def default_paper_db(exchange: str = DEFAULT_EXCHANGE) -> Path:
    """``<data dir>/paper-<exchange>.sqlite3``; for the default exchange an existing
    ``paper.sqlite3`` (its ledger before there were several venues) is kept in use."""
    per_venue = _data_dir() / f"paper-{exchange}.sqlite3"
    legacy = _data_dir() / "paper.sqlite3"
    if exchange == DEFAULT_EXCHANGE and not per_venue.exists() and legacy.exists():
        return legacy
    return per_venue


@dataclasses.dataclass(frozen=True)
class PaperServer:
    """A standalone paper server the CLI talks to (``--paper-url``)."""

    rest_url: str
    ws_url: str
    network: str

    @classmethod
    def at(cls, paper_cls: Any, url: str) -> PaperServer:
        parts = urllib.parse.urlsplit(url)
        probe = paper_cls(db_path=None, seed=PAPER_SEED, host=parts.hostname, port=parts.port)  # not started
        return cls(rest_url=probe.rest_url, ws_url=probe.ws_url, network=probe.network)


def default_paper_keys_path(exchange: str, root: Path | None = None) -> Path:
    """``keys/pk_<exchange>_paper.py``: an account on a standalone paper server (git-ignored
    like every ``keys/pk_*``), never the live keys file."""
    return default_keys_path(exchange, root).with_name(f"pk_{exchange}_paper.py")


def _paper_class(venue: Venue) -> Any:
    if venue.spec.paper is None:
        raise ConfigError(f"--exchange {venue.name} has no paper venue")
    return exchange_factory._resolve(venue.spec.paper)


def _to_stderr(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _host(url: str) -> str | None:
    parsed = urllib.parse.urlsplit(url)
    return parsed.netloc.rpartition("@")[2] or None if parsed.scheme in ("http", "https") else None


def endpoint_of(key: Any, spec: VenueSpec) -> str | None:
    """The host a key points at: its first ``*url`` field (of the venue's key fields) that
    holds an http(s) URL; ``None`` when the key uses the venue's default servers."""
    fields = dict(key_items(key))
    for name in (*spec.key_fields, *spec.optional_key_fields):
        value = fields.get(name)
        if name.endswith("url") and isinstance(value, str) and _host(value):
            return _host(value)
    return None


def _live_where(key: Any, spec: VenueSpec) -> str:
    network = dict(key_items(key)).get("network") or spec.default_network
    return endpoint_of(key, spec) or (f"{spec.name} {network}" if network else spec.name)


@contextlib.asynccontextmanager
async def _exchange(ctx: Context, key: Any, path: Path | None = None) -> AsyncIterator[Any]:
    with ctx.activity.step(f"connecting to {ctx.where}"):
        try:
            exchange = await exchange_factory.create_exchange(ctx.venue.name, key)
        except ConfigError as exc:  # name the file the bad field came from
            if path is None:
                raise
            raise ConfigError(f"{exc} (keys file {path})") from None
    try:
        ctx.exchange = exchange
        yield exchange
    finally:
        await exchange.close()


@contextlib.asynccontextmanager
async def open_session(args: argparse.Namespace, secrets: Secrets, activity: Activity, *,
                       root: Path | None = None, prog: str = "mpdex",
                       paper_seed: int = PAPER_SEED) -> AsyncIterator[Context]:
    """Yield a ``Context`` with the exchange open (paper venue too); all closed on the way out.
    ``paper_seed`` seeds a paper venue's price path (the arbitrage modules give each venue its own)."""
    ctx = Context(args=args, secrets=secrets, activity=activity, root=root, prog=prog,
                  note=lambda text: _to_stderr(secrets.redact(text)))
    venue: Venue = args.venue
    if args.paper_url is not None:
        async with _paper_server(ctx, args.paper_url):
            yield ctx
        return
    if args.paper:
        paper_cls = _paper_class(venue)
        if args.keys is not None and args.module != "register":
            log.warning("--keys is ignored with --paper (paper mode uses the ledger's account)")
        ctx.paper_db = (args.paper_db or default_paper_db(venue.name)).expanduser()
        ctx.paper_db.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        async with contextlib.AsyncExitStack() as stack:
            with activity.step(f"starting the paper exchange on ledger {ctx.paper_db}"):
                paper = await stack.enter_async_context(paper_cls(db_path=str(ctx.paper_db), seed=paper_seed))
            ctx.paper = paper
            activity.where = _host(paper.rest_url)
            if args.module == "register":
                yield ctx
                return
            ctx.key = await paper.default_account()
            secrets.add_key(ctx.key)
            async with _exchange(ctx, ctx.key):
                yield ctx
        return
    if args.module == "register":
        yield ctx
        return
    path = (args.keys or default_keys_path(venue.name, root)).expanduser()
    named = "" if venue.name == DEFAULT_EXCHANGE else f" --exchange {venue.name}"
    hint = f"{ctx.run}{named} --module register" if "register" in venue.modules else None
    ctx.key = load_keys(path, venue.spec, register_hint=hint)
    secrets.add_key(ctx.key)
    check_key_fields(ctx.key, venue.spec, path, register_hint=hint)
    activity.where = _live_where(ctx.key, venue.spec)
    async with _exchange(ctx, ctx.key, path):
        yield ctx


@contextlib.asynccontextmanager
async def _paper_server(ctx: Context, url: str) -> AsyncIterator[None]:
    venue = ctx.venue
    server = PaperServer.at(_paper_class(venue), url)
    ctx.paper = server
    ctx.activity.where = _host(server.rest_url)
    if ctx.args.module == "register":
        yield
        return
    path = (ctx.args.keys or default_paper_keys_path(venue.name, ctx.root)).expanduser()
    hint = f"{ctx.run} --paper-url {url} --module register" if "register" in venue.modules else None
    ctx.key = load_keys(path, venue.spec, register_hint=hint)
    ctx.secrets.add_key(ctx.key)
    check_key_fields(ctx.key, venue.spec, path, register_hint=hint)
    points_at = endpoint_of(ctx.key, venue.spec)
    if points_at != ctx.where:  # never send a live key's requests to a paper server, or the reverse
        target = f"points at {points_at}" if points_at else f"uses {venue.name}'s own servers (a live keys file?)"
        fix = f"; register an account there with `{hint}`" if hint else ""
        raise ConfigError(f"keys file {path} {target}, not the paper server at {ctx.where}{fix}")
    async with _exchange(ctx, ctx.key, path):
        yield


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
    """The first lines of text output: paper or live, where, and which account."""
    account = short_address(account_address(ctx.key, ctx.venue.spec)) or "-"
    if ctx.paper is not None:
        who = f", account {account}" if ctx.key is not None else ""
        if ctx.paper_db is None:
            return f"[PAPER] paper server at {ctx.where}{who} — no real money"
        return f"[PAPER] paper exchange on {ctx.where}{who} — no real money\n        ledger {ctx.paper_db}"
    if ctx.key is None:
        return None
    network = dict(key_items(ctx.key)).get("network")
    host = endpoint_of(ctx.key, ctx.venue.spec)
    return f"[LIVE] {ctx.args.exchange}{' ' + network if network else ''} account {account}{' on ' + host if host else ''}"
