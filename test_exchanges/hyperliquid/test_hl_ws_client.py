"""HyperliquidWSClient against a Hyperliquid-like loopback server and an in-memory REST fake:
the hello skipped, pings, marks (not mids) fresh or from REST, books per holder, the private
stream (orderUpdates, userFills) with reconcile after every reconnect, waiters, the pool."""
from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from mpdex.errors import RequestTimeout
from test_exchanges.ws_helpers import eventually, leftover_tasks
from wrappers.hyperliquid_keys import make_hyperliquid_key
from wrappers.hyperliquid_ws_client import POOL, HyperliquidWSClient, topic

from .hl_fakes import WALLET, key_fields
from .hl_ws_server import FakeHLRest, HLLikeServer, hl_order

FAST = dict(connect_timeout=1.0, ping_interval=0.1, recv_timeout=0.5, reconnect_min=0.05, reconnect_max=0.4)
CLOID = f"0x{7:032x}"


def make_key(server: HLLikeServer, **kw: Any) -> Any:
    return make_hyperliquid_key(**key_fields(ws_url=server.url, **kw))


async def start_client(server: HLLikeServer, rest: FakeHLRest, **kw: Any) -> HyperliquidWSClient:
    client = HyperliquidWSClient(make_key(server), rest, **{**FAST, **kw})
    assert await client.start()
    return client


async def test_the_hello_is_skipped_the_user_streams_are_subscribed_and_pings_flow(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.WARNING)
    async with HLLikeServer() as server:
        rest = FakeHLRest()
        client = await start_client(server, rest)
        user = WALLET.lower()
        assert await eventually(lambda: server.live_types() == [["orderUpdates", "userFills"]])
        assert [s["user"] for s in server.subs[server.open_connections()[0]]] == [user, user]
        assert await eventually(lambda: server.pings >= 3)
        assert await eventually(lambda: client.private_live)
        assert client._errors_seen == 0 and "undecodable" not in caplog.text
        assert rest.count("frontend_open_orders") == 1 and rest.count("clearinghouse_state") == 1  # reconcile
        await client.close()
        assert rest.closed is False  # not ours to close


async def test_marks_are_streamed_marks_not_mids_and_stale_data_falls_back_to_rest(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO, logger="mpdex.hyperliquid.ws")
    async with HLLikeServer() as server:
        rest = FakeHLRest()
        rest.marks["BTC"] = "99000.0"
        server.marks["BTC"], server.mids["BTC"] = "100123.0", "100500.0"
        client = await start_client(server, rest, max_age=0.3)
        assert await client.get_mark_price("BTC") == 99000.0  # first read: subscribe, REST until a frame
        assert rest.count("meta_and_asset_ctxs") == 1
        # the REST answer is cached with its send time; the first frame replaces it
        assert await eventually(lambda: (client.asset_ctx("BTC") or {}).get("markPx") == "100123.0")
        assert await client.get_mark_price("BTC") == 100123.0  # the mark, not the 100500 mid
        assert rest.count("meta_and_asset_ctxs") == 1
        server.silence(5)
        await asyncio.sleep(0.35)
        assert client.asset_ctx("BTC") is None  # older than the bound: not served
        rest.marks["BTC"] = "101000.0"
        assert await client.get_mark_price("BTC") == 101000.0 and rest.count("meta_and_asset_ctxs") == 2
        assert "using REST" in caplog.text
        await client.close()


async def test_after_a_lost_socket_the_rest_fallback_is_read_again_never_an_older_answer():
    async with HLLikeServer() as server:
        rest = FakeHLRest()
        rest.marks["BTC"] = "99000.0"
        server.marks["BTC"] = "100123.0"
        client = await start_client(server, rest, reconnect_min=2.0, reconnect_max=2.0)  # stays down after a drop
        assert await client.get_mark_price("BTC") == 99000.0  # REST until the first frame
        assert await eventually(lambda: (client.asset_ctx("BTC") or {}).get("markPx") == "100123.0")
        assert await client.get_mark_price("BTC") == 100123.0
        await server.drop_all()
        assert await eventually(lambda: not client.connected)
        rest.marks["BTC"] = "100500.0"
        # the frame came over the lost socket: not served; the REST answer from before it is
        # older still: not served either — REST is read again
        assert await client.get_mark_price("BTC") == 100500.0 and rest.count("meta_and_asset_ctxs") == 2
        await client.close()


async def test_books_are_held_per_holder_and_released(caplog: pytest.LogCaptureFixture):
    async with HLLikeServer() as server:
        rest = FakeHLRest()
        client = await start_client(server, rest)
        book = await client.get_orderbook("ETH", "ex1", timeout=2)
        assert book["bids"] == [[2999.0, 1.5]] and book["asks"] == [[3001.0, 2.0]] and rest.count("l2_book") == 0
        await client.get_orderbook("ETH", "ex2", timeout=2)
        await client.unsubscribe_orderbook("ETH", "ex1")
        assert "l2Book:ETH" in server.live_types()[0]
        await client.release_holder("ex2")
        assert await eventually(lambda: "l2Book:ETH" not in server.live_types()[0])
        await client.close()


async def test_every_subscription_is_restored_once_after_each_reconnect_and_state_reconciled():
    async with HLLikeServer() as server:
        rest = FakeHLRest()
        client = await start_client(server, rest)
        await client.get_orderbook("ETH", "ex1", timeout=2)
        await client.get_asset_ctx("BTC")
        assert await eventually(lambda: client.private_live)
        for _ in range(3):
            gen = client.generation
            await server.drop_all()
            assert await eventually(lambda g=gen: client.generation > g and client.private_live, timeout=3)
            assert await eventually(lambda: client.orderbook("ETH", max_age=0.1) is not None)
        (subs,) = server.live_types()
        assert subs == ["activeAssetCtx:BTC", "l2Book:ETH", "orderUpdates", "userFills"]  # each once
        assert client.stats["reconciles"] == 4 and rest.count("frontend_open_orders") == 4
        await client.close()


async def test_order_updates_keep_open_orders_and_a_fill_wakes_its_waiter_and_refreshes_the_account():
    async with HLLikeServer() as server:
        rest = FakeHLRest()
        client = await start_client(server, rest)
        assert await eventually(lambda: client.private_live)
        waiter = asyncio.ensure_future(client.wait_for_order(CLOID.upper().replace("0X", "0x"), timeout=5))
        await server.push({"channel": "orderUpdates", "data": [hl_order(11, CLOID)]})
        assert await eventually(lambda: client.find_order(CLOID) is not None)
        (order,) = await client.get_open_orders("ETH")
        assert (order["id"], order["client_order_id"], order["status"]) == ("11", CLOID, "NEW")
        accounts = rest.count("clearinghouse_state")
        await server.push({"channel": "orderUpdates", "data": [hl_order(11, CLOID, "filled")]})
        done = await waiter
        assert done["status"] == "FILLED" and done["id"] == "11"
        assert await eventually(lambda: rest.count("clearinghouse_state") > accounts)
        assert await client.get_open_orders() == [] and rest.count("frontend_open_orders") == 1
        await server.push({"channel": "userFills", "data": {"user": WALLET.lower(), "fills": [{"oid": 11}]}})
        assert await eventually(lambda: rest.count("clearinghouse_state") > accounts + 1)
        await client.close()


async def test_wait_for_order_asks_rest_once_at_the_deadline():
    async with HLLikeServer() as server:
        rest = FakeHLRest()
        client = await start_client(server, rest)
        assert await eventually(lambda: client.private_live)  # reconcile done: no waiter is checked by it
        with pytest.raises(RequestTimeout, match="last known status: unknown"):
            await client.wait_for_order(CLOID, timeout=0.2)
        rest.orders.append(hl_order(12, CLOID, "canceled"))
        assert (await client.wait_for_order(CLOID, timeout=0.2))["status"] == "CANCELLED"
        assert rest.count("order_status") == 2
        await client.close()


async def test_open_orders_are_not_served_from_a_silent_socket_or_after_our_own_change():
    async with HLLikeServer() as server:
        rest = FakeHLRest()
        client = await start_client(server, rest, max_age=0.3)
        assert await eventually(lambda: client.private_live)
        await client.get_open_orders()
        assert rest.count("frontend_open_orders") == 1
        client.invalidate_private()  # we just placed or cancelled something
        await client.get_open_orders()
        assert rest.count("frontend_open_orders") == 2
        server.silence(5)
        await asyncio.sleep(0.35)
        await client.get_open_orders()
        assert rest.count("frontend_open_orders") == 3
        await client.close()


async def test_the_pool_shares_one_socket_per_account():
    async with HLLikeServer() as server:
        baseline = set(asyncio.all_tasks())
        key = make_key(server)
        a = await POOL.acquire(key, **FAST)
        b = await POOL.acquire(make_key(server), **FAST)
        other = await POOL.acquire(make_key(server, vault_address="0x" + "cd" * 20), **FAST)
        assert a is b and a is not other and server.connect_count == 2
        await POOL.release(a)
        assert not a.closed
        await POOL.release(b)
        await POOL.release(other)
        assert a.closed and other.closed and a.rest.transport.closed
        assert not leftover_tasks(baseline)


def test_topics_are_the_canonical_subscription_json():
    assert topic("l2Book", coin="BTC") == '{"type":"l2Book","coin":"BTC"}'
    with pytest.raises(Exception, match="ws_url"):
        HyperliquidWSClient(make_hyperliquid_key(**key_fields(ws_url="http://x")))


async def test_a_burst_of_reads_before_the_first_frame_shares_one_rest_read():
    async with HLLikeServer(tick=5) as server:  # no frame soon
        rest = FakeHLRest()
        client = await start_client(server, rest)
        marks = await asyncio.gather(*(client.get_mark_price(c) for c in ("BTC", "ETH", "SOL") * 20))
        assert set(marks) == {100000.0, 3000.0, 150.0} and rest.count("meta_and_asset_ctxs") == 1
        await client.close()
