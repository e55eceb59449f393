"""Read-only smoke test against the real Vest servers.

Runs only when keys are passed explicitly: ``python -m pytest -m live --live-keys keys/pk_vest.py``.
It places no order. Everything else in the suite is offline.
"""
from __future__ import annotations

import importlib.util

import pytest

from exchange_factory import create_exchange, symbol_create

pytestmark = pytest.mark.live


@pytest.fixture
def live_key(request: pytest.FixtureRequest):
    path = request.config.getoption("--live-keys")
    spec = importlib.util.spec_from_file_location("live_keys", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.VEST_KEY


async def test_live_reads(live_key):
    async with await create_exchange("vest", live_key) as ex:
        sym = symbol_create("vest", "BTC")
        assert sym in (await ex.get_available_symbols())["perp"]
        assert await ex.get_mark_price(sym) > 0
        book = await ex.get_orderbook(sym)
        assert book["bids"] and book["asks"] and book["bids"][0][0] < book["asks"][0][0]
        coll = await ex.get_collateral()
        assert coll["total_collateral"] >= 0
        assert isinstance(await ex.get_open_orders(), list)
