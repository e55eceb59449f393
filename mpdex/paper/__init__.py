"""The paper exchange: a venue-neutral exchange simulator plus one wire dialect per venue.

    from mpdex.paper import PaperVest, PaperHyperliquid
    async with PaperVest(db_path=None, seed=1) as paper:      # the Vest dialect
        key = await paper.create_account(usdc=10_000)
        paper.set_price("BTC-PERP", "97000.5")
    async with PaperHyperliquid(seed=1) as paper:             # the Hyperliquid dialect
        key = await paper.create_account(usdc=10_000)

This package is the simulator core and imports no venue: ``import mpdex.paper`` loads no
``wrappers`` module (names are resolved on first use, from ``_LAZY``). Its modules, one job
each:

* ``harness.py`` — ``PaperVenue``: the loopback server a dialect subclasses (ledger, price
  model, simulator, aiohttp app, tick and housekeeping loops, REST faults, start/stop);
* ``simulator.py`` — ``Simulator``: accounts, leverage, placement against the synthetic
  book (sweep, resting fills, IOC, FOK, post-only, reduce-only, minimum notional, margin),
  cancels, ticks, funding; ``Listener``: what a dialect hears after each commit;
* ``rules.py`` — ``OrderRequest``, ``Rules`` (where venues differ), the neutral outcomes
  ``Reason`` / ``Refused``;
* ``engine.py`` — pure fill, PnL, funding, margin and liquidation-price arithmetic;
* ``ledger.py`` — the SQLite ledger (core tables; a dialect adds its own via ``Schema``);
* ``prices.py`` — the seedable market model (marks, index, books, trades, bars);
* ``markets.py`` — ``Market`` (sizes, price grid incl. significant figures, margins, fees);
* ``replay.py`` — the market while a venue was down (run when it restarts);
* ``faults.py`` — failure injection; ``sockets.py`` — ``SocketHub``, the socket half.

Dialects (``DIALECTS``, what ``python -m mpdex.paper --venue NAME`` serves) live with their
venue, e.g. ``wrappers/vest_paper/`` and ``wrappers/hyperliquid_paper/``. Several venues run
in one process at once, each with its own accounts, marks, seed, faults and ledger. A venue restarted on an existing ledger
first replays the market for the time it was down (``replay.py``: seeded, bounded at
2 000 model steps plus one funding event per missed hour), filling the resting orders that
were crossed and applying the funding that came due.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers only: nothing below is imported at run time
    from wrappers.hyperliquid_paper import PaperHyperliquid
    from wrappers.vest_paper import PaperVest
    from wrappers.vest_paper.markets import VEST_MARKETS as DEFAULT_MARKETS

    from .faults import Faults
    from .harness import PaperVenue, WireError
    from .ledger import Ledger, Schema
    from .markets import Market
    from .rules import OrderRequest, Reason, Refused, Rules, TimeInForce
    from .simulator import Listener, Simulator
    from .sockets import Conn, SocketHub

__all__ = [
    "PaperVest", "PaperHyperliquid", "PaperVenue", "WireError", "Simulator", "Listener", "SocketHub", "Conn",
    "Faults", "Market", "Ledger", "Schema", "Rules", "Reason", "Refused", "OrderRequest", "TimeInForce", "DEFAULT_MARKETS",
    "DIALECTS", "dialect",
]

#: paper dialects by venue name: ``"module:Class"`` of a ``PaperVenue`` subclass
DIALECTS: dict[str, str] = {
    "vest": "wrappers.vest_paper:PaperVest",
    "hyperliquid": "wrappers.hyperliquid_paper:PaperHyperliquid",
}

#: names importable from this package, resolved (imported) on first use
_LAZY: dict[str, str] = {
    "PaperVest": DIALECTS["vest"],
    "PaperHyperliquid": DIALECTS["hyperliquid"],
    "DEFAULT_MARKETS": "wrappers.vest_paper.markets:VEST_MARKETS",
    "PaperVenue": "mpdex.paper.harness:PaperVenue",
    "WireError": "mpdex.paper.harness:WireError",
    "Simulator": "mpdex.paper.simulator:Simulator",
    "Listener": "mpdex.paper.simulator:Listener",
    "SocketHub": "mpdex.paper.sockets:SocketHub",
    "Conn": "mpdex.paper.sockets:Conn",
    "Faults": "mpdex.paper.faults:Faults",
    "Market": "mpdex.paper.markets:Market",
    "Ledger": "mpdex.paper.ledger:Ledger",
    "Schema": "mpdex.paper.ledger:Schema",
    "Rules": "mpdex.paper.rules:Rules",
    "Reason": "mpdex.paper.rules:Reason",
    "Refused": "mpdex.paper.rules:Refused",
    "OrderRequest": "mpdex.paper.rules:OrderRequest",
    "TimeInForce": "mpdex.paper.rules:TimeInForce",
}


def _resolve(path: str) -> Any:
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


def dialect(name: str) -> Any:
    """The ``PaperVenue`` subclass serving venue ``name`` (``ValueError`` naming the known ones)."""
    path = DIALECTS.get(name)
    if path is None:
        raise ValueError(f"no paper dialect for {name!r}; known: {', '.join(DIALECTS)}")
    return _resolve(path)


def __getattr__(name: str) -> Any:
    path = _LAZY.get(name)
    if path is None:
        raise AttributeError(f"module 'mpdex.paper' has no attribute {name!r}")
    value = _resolve(path)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
