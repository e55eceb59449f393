"""Fixtures of the contract suite: one paper venue per parameter, and an exchange on it the
two ways users run one (REST only, and the default socket-backed client)."""
from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from exchange_factory import create_exchange
from mpdex.paper.harness import PaperVenue

from .venues import CASES, ContractVenue

#: a short socket cache bound, so a price move is visible after this long instead of 5 s
STALE = 0.25


@pytest.fixture(params=CASES, ids=[f"{v.name}-{mode}" for v, mode in CASES])
def case(request: pytest.FixtureRequest) -> tuple[ContractVenue, str]:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def venue(case: tuple[ContractVenue, str]) -> ContractVenue:
    return case[0]


@pytest.fixture
async def paper(venue: ContractVenue) -> AsyncIterator[PaperVenue]:
    async with venue.paper() as p:
        p.set_price(venue.symbol(), venue.price)
        yield p


@pytest.fixture
async def key(paper: PaperVenue) -> Any:
    return await paper.create_account(usdc=10_000)


MODE_OPTIONS: dict[str, dict[str, Any]] = {"rest": {"use_ws": False}, "ws": {"ws_max_age": STALE}}


@pytest.fixture
async def ex(case: tuple[ContractVenue, str], key: Any) -> AsyncIterator[Any]:
    venue, mode = case
    options = MODE_OPTIONS[mode] if "ws" in venue.modes else {}
    exchange = await create_exchange(venue.name, key, **options)
    yield exchange
    await exchange.close()
