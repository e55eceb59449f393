"""Fixtures: two paper venues "a" and "b" in one process, independent markets and ledgers,
for every pair in ``paper_venues.PAIRS``.

``_release_stopped_venues``: aiohttp keeps every (handler, app) it built middlewares for in a
module-level ``lru_cache`` (1024 entries), so a stopped paper venue — its app, routes, ledger
and price history — stays in memory; over a few hundred venues the heap grows to ~600 000
objects and a full garbage collection pauses the loop for ~300 ms, longer than the clients'
order attempts here. Clearing that cache after each test lets stopped venues go.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiohttp import web_app

from .paper_venues import DIALECTS, PAIRS


@pytest.fixture(autouse=True)
def _release_stopped_venues() -> Iterator[None]:
    yield
    web_app._cached_build_middleware.cache_clear()


@pytest.fixture(params=PAIRS, ids=["-".join(p) for p in PAIRS])
async def venues(request):
    """REST-only clients: a fault armed before an order meets exactly that order."""
    dialect_a, dialect_b = request.param
    async with DIALECTS[dialect_a]("a", 3) as a, DIALECTS[dialect_b]("b", 4) as b:
        yield a, b


@pytest.fixture(params=PAIRS, ids=["-".join(p) for p in PAIRS])
async def ws_venues(request):
    """The same pair with socket-backed clients (books, marks, positions from the sockets)."""
    dialect_a, dialect_b = request.param
    async with DIALECTS[dialect_a]("a", 3, use_ws=True) as a, DIALECTS[dialect_b]("b", 4, use_ws=True) as b:
        yield a, b
