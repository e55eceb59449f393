"""Fixtures: two paper venues "a" and "b" in one process, independent markets and ledgers,
for every pair in ``paper_venues.PAIRS``."""
from __future__ import annotations

import pytest

from .paper_venues import DIALECTS, PAIRS


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
