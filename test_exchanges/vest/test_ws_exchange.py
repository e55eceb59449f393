"""``VestExchange`` with its pooled socket, end to end against the paper exchange: truthful
``ws_supported``, shared sockets that survive each other's ``close()``, stale-cache REST
fallback, fills reaching ``wait_for_order`` and the position, and task hygiene."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from exchange_factory import create_exchange
from mpdex.errors import RequestTimeout
from mpdex.paper import PaperVest
from wrappers.vest import VestExchange

from ..ws_helpers import eventually, leftover_tasks

WS_FAST = dict(connect_timeout=2.0, ping_interval=0.1, recv_timeout=0.5, reconnect_min=0.05, reconnect_max=0.5)
FAST_REST = {"private": (1000.0, 1000.0), "public": (1000.0, 1000.0), "order": (1000.0, 1000.0)}


@pytest.fixture
async def paper() -> AsyncIterator[PaperVest]:
    async with PaperVest(seed=1, tick_interval=0.1) as p:
        yield p


async def open_exchange(key: Any, **options: Any) -> VestExchange:
    options = {"use_ws": True, "ws_options": WS_FAST, "rate_limits": FAST_REST, **options}
    ex = VestExchange(**vars(key), **options)
    return await ex.init()


async def test_ws_supported_is_truthful(paper: PaperVest) -> None:
    key = await paper.create_account(usdc=10_000)
    ex = await open_exchange(key)
    rest_only = await open_exchange(key, use_ws=False)
    try:
        assert ex.ws_client is not None and ex.ws_client.connected
        assert ex.ws_supported == {
            "get_mark_price": True, "get_position": True, "get_open_orders": True, "get_collateral": True,
            "get_orderbook": True, "create_order": False, "cancel_orders": False, "update_leverage": False,
        }
        assert rest_only.ws_client is None and not any(rest_only.ws_supported.values())
        assert paper.stats["ws_open"] == 1
    finally:
        await ex.close()
        await rest_only.close()
    assert ex.ws_client is None


async def test_reads_come_from_the_socket_without_rest_calls(paper: PaperVest) -> None:
    key = await paper.create_account(usdc=10_000)
    ex = await open_exchange(key)
    try:
        assert await eventually(lambda: ex.ws_client.private_live and ex.ws_client.mark_price("BTC-PERP"))
        await ex.get_orderbook("BTC")
        await ex.get_collateral()  # the reconcile's snapshot
        before = paper.stats["rest_requests"]
        for _ in range(20):
            assert await ex.get_mark_price("BTC") > 0
            book = await ex.get_orderbook("BTC-PERP")
            assert book["bids"][0][0] < book["asks"][0][0]
            assert await ex.get_open_orders() == []
            assert await ex.get_position("BTC") is None
        assert paper.stats["rest_requests"] == before
    finally:
        await ex.close()


async def test_two_instances_share_one_socket_and_survive_each_others_close(paper: PaperVest) -> None:
    baseline = leftover_tasks()
    key = await paper.create_account(usdc=10_000)
    a, b = await asyncio.gather(open_exchange(key), open_exchange(key))
    assert a.ws_client is b.ws_client and paper.stats["ws_open"] == 1
    await a.get_orderbook("BTC")
    await b.get_orderbook("BTC")
    await b.get_orderbook("ETH")
    assert paper.ws_subscriptions() == [["tickers", "account_private", "BTC-PERP@depth", "ETH-PERP@depth"]]
    client = b.ws_client
    await a.close()
    await a.close()  # idempotent: one release only
    assert client.connected and paper.stats["ws_open"] == 1
    assert paper.ws_subscriptions() == [["tickers", "account_private", "BTC-PERP@depth", "ETH-PERP@depth"]]
    res = await b.create_order("BTC", "buy", 0.01)
    assert (await b.wait_for_order(res["client_order_id"], timeout=2))["status"] == "FILLED"
    paper.faults.drop_websockets()
    assert await eventually(lambda: client.generation == 2 and client.private_live, timeout=2)
    assert await b.get_mark_price("BTC") > 0
    c = await open_exchange(key)  # and the survivor can be joined again
    assert c.ws_client is client
    await c.close()
    await b.close()
    assert client.closed
    assert await eventually(lambda: paper.stats["ws_open"] == 0)
    assert await eventually(lambda: not leftover_tasks(baseline), timeout=1), leftover_tasks(baseline)


async def test_unsubscribe_orderbook_releases_the_depth_stream(paper: PaperVest) -> None:
    key = await paper.create_account(usdc=10_000)
    ex = await open_exchange(key)
    try:
        await ex.get_orderbook("SOL")
        assert "SOL-PERP@depth" in paper.ws_subscriptions()[0]
        await ex.unsubscribe_orderbook("SOL")
        assert await eventually(lambda: paper.ws_subscriptions() == [["tickers", "account_private"]])
    finally:
        await ex.close()


async def test_stale_cache_falls_back_to_rest_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mpdex.vest.ws")
    async with PaperVest(seed=1, tick_interval=None) as paper:  # no ticks: the cache only ages
        key = await paper.create_account(usdc=10_000)
        ex = await open_exchange(key, ws_max_age=0.2)
        try:
            assert await eventually(lambda: ex.ws_client.mark_price("BTC-PERP") is not None)
            before = paper.stats["rest_requests"]
            await asyncio.sleep(0.3)
            assert ex.ws_client.mark_price("BTC-PERP", ex.ws_max_age) is None
            assert await ex.get_mark_price("BTC") == float(paper.price("BTC-PERP"))
            assert paper.stats["rest_requests"] == before + 1
            assert "ticker BTC-PERP: socket data missing or older than the bound; using REST" in caplog.text
            paper.set_price("BTC-PERP", "90000.5")  # published at once: fresh from the socket again
            assert await eventually(lambda: ex.ws_client.mark_price("BTC-PERP") == 90000.5)
            assert await ex.get_mark_price("BTC") == 90000.5
        finally:
            await ex.close()


async def test_fill_reaches_wait_for_order_and_the_position(paper: PaperVest) -> None:
    key = await paper.create_account(usdc=10_000)
    ex = await open_exchange(key)
    try:
        assert await eventually(lambda: ex.ws_client.private_live)
        mark = await ex.get_mark_price("ETH")
        res = await ex.create_order("ETH", "buy", 0.5, price=round(mark * 0.9, 2))
        assert res["status"] == "NEW"
        cid = res["client_order_id"]
        assert [o["client_order_id"] for o in await ex.get_open_orders("ETH")] == [cid]
        waiter = asyncio.create_task(ex.wait_for_order(cid, status="FILLED", timeout=3))
        await asyncio.sleep(0.1)
        assert not waiter.done()
        paper.set_price("ETH-PERP", str(round(mark * 0.85, 2)))  # the book crosses the resting bid
        order = await waiter
        assert order["status"] == "FILLED" and order["filled_size"] == 0.5
        pos = await ex.get_position("ETH")
        assert pos is not None and pos["side"] == "long" and pos["size"] == 0.5
        assert await ex.get_open_orders("ETH") == []
        # a market order's effect is visible at once, before its events arrive
        await ex.create_order("ETH", "sell", 0.2)
        pos = await ex.get_position("ETH")
        assert pos is not None and pos["size"] == pytest.approx(0.3)
    finally:
        await ex.close()


async def test_cancel_is_visible_in_open_orders_at_once(paper: PaperVest) -> None:
    key = await paper.create_account(usdc=10_000)
    ex = await open_exchange(key)
    try:
        mark = await ex.get_mark_price("BTC")
        res = await ex.create_order("BTC", "buy", 0.01, price=round(mark * 0.8, 1))
        assert [o["id"] for o in await ex.get_open_orders()] == [res["id"]]
        coll = await ex.get_collateral()
        assert coll["available_collateral"] < 10_000  # the resting order reserves margin
        out = await ex.cancel_orders("BTC")
        assert [r["status"] for r in out] == ["ok"]
        assert await ex.get_open_orders() == []
        assert (await ex.wait_for_order(res["client_order_id"], "CANCELLED", timeout=2))["status"] == "CANCELLED"
    finally:
        await ex.close()


async def test_wait_for_order_times_out_on_a_resting_order(paper: PaperVest) -> None:
    key = await paper.create_account(usdc=10_000)
    ex = await open_exchange(key)
    try:
        mark = await ex.get_mark_price("BTC")
        res = await ex.create_order("BTC", "buy", 0.01, price=round(mark * 0.8, 1))
        with pytest.raises(RequestTimeout):
            await ex.wait_for_order(res["client_order_id"], "FILLED", timeout=0.3)
        assert (await ex.wait_for_order(res["client_order_id"], "NEW", timeout=0.3))["status"] == "NEW"
    finally:
        await ex.close()


async def test_wait_for_order_without_a_socket_polls_rest(paper: PaperVest) -> None:
    key = await paper.create_account(usdc=10_000)
    ex = await open_exchange(key, use_ws=False)
    try:
        res = await ex.create_order("BTC", "buy", 0.01)
        assert (await ex.wait_for_order(res["client_order_id"], timeout=2))["status"] == "FILLED"
        with pytest.raises(RequestTimeout):
            await ex.wait_for_order("123456", timeout=0.2)
    finally:
        await ex.close()


async def test_factory_builds_a_socket_exchange_and_close_releases_it(paper: PaperVest) -> None:
    key = await paper.create_account(usdc=10_000)
    async with await create_exchange("vest", key, ws_options=WS_FAST) as ex:  # the socket is the default
        assert ex.ws_client is not None and await ex.get_mark_price("BTC") > 0
        client = ex.ws_client
    assert client.closed and ex.ws_client is None
    assert await eventually(lambda: paper.stats["ws_open"] == 0)
