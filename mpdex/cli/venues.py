"""The venues of one arbitrage command: opening and naming several venues at once, their
paper seeds, their banners and each venue's symbol for a coin.

Decisions:

* Venues come from the registry. Each named venue is opened exactly as the single-venue
  modules open one (``session.open_session``): live, its ``keys/pk_<venue>.py``; with
  ``--paper``, its registry paper class on its own ledger with a funded default account, its
  price path seeded per venue (``paper_seed``: a stable hash of the name) so two venues of
  one dialect drift apart.
* A coin becomes each venue's native symbol by the registry's symbol rule, checked against
  the venue's markets; an unknown one names the venue and how to list its markets.
"""
from __future__ import annotations

import argparse
import contextlib
import zlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import exchange_factory
from mpdex.errors import BadSymbol

from .arguments import invocation, load_venue
from .output import Secrets
from .progress import Activity
from .session import Context, banner, open_session

__all__ = ["paper_seed", "OpenVenue", "open_venues", "banner_lines", "paper_flag", "market_symbol"]


def paper_seed(name: str) -> int:
    """The paper price-path seed of venue ``name``: stable across runs, different per venue."""
    return zlib.crc32(name.encode())


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


def paper_flag(args: argparse.Namespace) -> str:
    """`` --paper`` when the command runs on paper venues, for the commands a message suggests."""
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
                    f"`{invocation(prog)} --exchange {v.name}{paper_flag(args)} --module symbols`")
