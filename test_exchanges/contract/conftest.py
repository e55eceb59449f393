"""Fixtures of the contract suite: one paper venue per parameter, and an exchange on it the
two ways users run one (REST only, and the default socket-backed client)."""
from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from exchange_factory import create_exchange
from mpdex.paper.harness import PaperVenue

from .venues import VENUES, ContractVenue

#: a short socket cache bound, so a price move is visible after this long instead of 5 s
STALE = 0.25


@pytest.fixture(params=VENUES, ids=lambda v: v.name)
def venue(request: pytest.FixtureRequest) -> ContractVenue:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
async def paper(venue: ContractVenue) -> AsyncIterator[PaperVenue]:
    async with venue.paper() as p:
        p.set_price(venue.symbol(), venue.price)
        yield p


@pytest.fixture
async def key(paper: PaperVenue) -> Any:
    return await paper.create_account(usdc=10_000)


@pytest.fixture(params=[{"use_ws": False}, {"ws_max_age": STALE}], ids=["rest", "ws"])
async def ex(venue: ContractVenue, key: Any, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    exchange = await create_exchange(venue.name, key, **request.param)
    yield exchange
    await exchange.close()
