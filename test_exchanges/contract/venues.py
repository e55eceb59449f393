"""The venues the contract suite runs over: every exchange with a paper dialect.

An entry says only what the suite cannot learn from the registry: which key field holds the
account's address in the paper ledger, and the market the tests trade. Adding a venue to
the suite is one entry here (its registry entry must name a ``paper`` class).
"""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import exchange_factory
from mpdex.paper.harness import PaperVenue


@dataclass(frozen=True)
class ContractVenue:
    name: str  # the registry name
    address_field: str  # the key field naming the account in the paper ledger
    coin: str = "BTC"  # the market the tests trade
    price: str = "97000"  # where the tests put its mark (on every venue's price grid)
    size: str = "0.01"  # an order size every venue accepts at that price (≥ $10)
    #: the registry entry whose paper dialect serves this client (default: its own)
    paper_of: str | None = None
    #: how the client runs: "rest" (``use_ws=False``) and/or "ws" (the default socket-backed client)
    modes: tuple[str, ...] = ("rest", "ws")

    def symbol(self) -> str:
        return exchange_factory.symbol_create(self.name, self.coin)

    @contextlib.asynccontextmanager
    async def paper(self, **options: Any) -> AsyncIterator[PaperVenue]:
        spec = exchange_factory.venue(self.paper_of or self.name)
        assert spec.paper is not None, f"{spec.name} has no paper dialect"
        cls = exchange_factory._resolve(spec.paper)
        async with cls(seed=11, tick_interval=None, auto_funding=False, **options) as venue:
            yield venue

    def account_id(self, paper: PaperVenue, key: Any) -> int:
        address = key[self.address_field] if isinstance(key, dict) else getattr(key, self.address_field)
        account = paper.ledger.account_by_address(address)
        assert account is not None, f"no paper account for {address}"
        return account.id

    def position(self, paper: PaperVenue, key: Any) -> Decimal:
        """The signed size the paper ledger holds (the truth the client is checked against)."""
        pos = paper.ledger.position(self.account_id(paper, key), self.symbol())
        return pos.size if pos else Decimal(0)


VENUES = [
    ContractVenue("vest", "primary_address"),
    ContractVenue("hyperliquid", "wallet_address"),
    # ccxt's own Hyperliquid code through the generic adapter, against the same strict server;
    # socket mode: marks and books from ccxt.pro's watchers, the other reads REST
    ContractVenue("ccxt:hyperliquid", "wallet_address", paper_of="hyperliquid"),
]
#: every (venue, mode) the suite runs
CASES = [(v, mode) for v in VENUES for mode in v.modes]
