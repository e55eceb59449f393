"""Venues for the arbitrage CLI tests: ``vest2`` (a copy of Vest's registry entry under another
name, registered by the test) and paper classes with one behaviour each, named by their
registry entry the way any venue's paper class is.

* ``QuietPaperVest``: no background ticks, so the books a snapshot read are still the books
  afterwards (``QuietPaperVest.started`` keeps every instance for the test to read);
* ``DearerPaperVest``: quiet, and BTC marked 0.3 % above the reference: a spread to see;
* ``CoarsePaperVest``: BTC in steps of 0.001, ten times Vest's;
* ``PoorPaperVest``: the default account holds 1 USDC, so the venue refuses an opening order
  for margin (a reduce-only one passes);
* ``BareVest`` (an exchange class, not a paper one): Vest's client declaring no order preview,
  order lookup or market rules, whose ETH book cannot be read;
* ``HaltingPaperVest``: every market halts right after the first order is booked, so the
  venue refuses whatever comes next (an unwind, say).

``python -m test_exchanges.cli.arb_venues ARGS`` is ``main.py ARGS`` with ``vest2`` registered
(``ARB_VEST2_PAPER`` names its paper class), for the tests that need a real subprocess.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import exchange_factory
from mpdex.cli.keys import account_address
from mpdex.errors import ExchangeUnavailable
from mpdex.paper import PaperVest
from wrappers.vest import VestExchange

HERE = "test_exchanges.cli.arb_venues"
PLAIN = "mpdex.paper:PaperVest"
SYMBOL = "BTC-PERP"


def vest2_spec(paper: str = PLAIN, **changes: Any) -> exchange_factory.VenueSpec:
    """Vest's registry entry under the name ``vest2`` (its own keys variable)."""
    return dataclasses.replace(exchange_factory.venue("vest"), name="vest2", keys_variable="VEST2_KEY", paper=paper,
                               extra_modules=(), **changes)


class QuietPaperVest(PaperVest):
    started: ClassVar[list[PaperVest]] = []

    def __init__(self, db_path: str | None = None, seed: int = 1) -> None:
        super().__init__(db_path=db_path, seed=seed, tick_interval=None, auto_funding=False)
        QuietPaperVest.started.append(self)


class DearerPaperVest(QuietPaperVest):
    def on_started(self) -> None:
        super().on_started()
        self.set_price(SYMBOL, self.markets[SYMBOL].ref_price * Decimal("1.003"))


class CoarsePaperVest(PaperVest):
    """BTC traded in steps of 0.001 (Vest's own step is 0.0001)."""

    MARKETS = tuple(dataclasses.replace(m, size_decimals=3) if m.symbol == SYMBOL else m for m in PaperVest.MARKETS)


class PoorPaperVest(PaperVest):
    async def default_account(self, usdc: Any = 10_000) -> Any:
        return await super().default_account(usdc=1)


class HaltingPaperVest(PaperVest):
    def on_started(self) -> None:
        super().on_started()
        trading = self.trading
        place = trading.place_order

        def place_then_halt(*args: Any) -> Any:
            order = place(*args)
            for symbol in self.markets:
                self.set_market_status(symbol, "HALT")
            return order

        trading.place_order = place_then_halt  # type: ignore[method-assign]


def ledger_path(xdg: Path, venue: str) -> Path:
    return xdg / "mpdex-vest" / f"paper-{venue}.sqlite3"


def ledger_state(path: Path, venue: str = "vest", coin: str = "BTC") -> tuple[Decimal, list[dict[str, Any]]]:
    """The default account's signed position in ``coin`` and its orders there, read from the
    ledger file itself: the venue's registry paper class (the plain one for ``vest2``'s
    stand-ins) opened on it quietly, no replay; the account is the key's address field."""
    spec = exchange_factory.venue(venue)
    paper_path = PLAIN if venue in ("vest", "vest2") else spec.paper
    assert paper_path is not None
    paper_cls = exchange_factory._resolve(paper_path)
    symbol = exchange_factory.symbol_create(venue, coin)

    async def read() -> tuple[Decimal, list[dict[str, Any]]]:
        async with paper_cls(db_path=str(path), tick_interval=None, auto_funding=False, replay=False) as paper:
            key = await paper.default_account()
            account = paper.ledger.account_by_address(account_address(key, spec))
            assert account is not None
            pos = paper.ledger.position(account.id, symbol)
            orders = [{"client_order_id": o.client_id, "side": "buy" if o.is_buy else "sell", "size": Decimal(o.size),
                       "filled": o.filled, "reduce_only": o.reduce_only, "status": o.status}
                      for o in reversed(paper.ledger.find_orders(account.id, symbol=symbol))]
            return (pos.size if pos else Decimal(0)), orders

    return asyncio.run(read())


@contextlib.contextmanager
def registered(**specs: exchange_factory.VenueSpec) -> Iterator[None]:
    """``specs`` in the registry for the duration (subprocess use; tests use monkeypatch)."""
    saved = dict(exchange_factory.VENUES)
    exchange_factory.VENUES.update(specs)
    try:
        yield
    finally:
        exchange_factory.VENUES.clear()
        exchange_factory.VENUES.update(saved)


if __name__ == "__main__":
    from mpdex.cli import run

    with registered(vest2=vest2_spec(os.environ.get("ARB_VEST2_PAPER", PLAIN))):
        sys.exit(run(root=Path.cwd(), prog="main.py"))


class BareVest(VestExchange):
    """Vest's client declaring none of the optional capabilities the CLI reads itself
    (no order preview, no order lookup, no market rules), and a book that cannot be read for ETH."""

    CAPABILITIES = frozenset({"funding", "fees", "positions"})

    async def get_orderbook(self, symbol: str, timeout: float = 5.0) -> Any:
        if self.resolve_symbol(symbol) == "ETH-PERP":
            raise ExchangeUnavailable("ETH book unavailable (test)")
        return await super().get_orderbook(symbol, timeout)
