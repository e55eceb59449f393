"""HyperliquidExchange on the pooled socket (REST mocked, socket on loopback): truthful
``ws_supported``, socket-first reads with REST fallback, our own orders making the private
state outdated, everything working with the socket unreachable, ``use_ws=False`` pinning REST."""
from __future__ import annotations

import socket

from test_exchanges.ws_helpers import eventually
from wrappers import hyperliquid_ws_client as W

from .conftest import sample
from .hl_fakes import FakeHyperliquid, key_fields, make_exchange
from .hl_ws_server import HLLikeServer, hl_order

FAST = dict(connect_timeout=1.0, ping_interval=0.1, recv_timeout=0.5, reconnect_min=0.05, reconnect_max=0.4)
READS = {"get_mark_price", "get_orderbook", "get_open_orders", "get_position", "get_collateral"}


def _fake(http) -> FakeHyperliquid:
    fake = FakeHyperliquid(http)
    fake.info_answers["clearinghouseState"] = sample("info_clearinghouseState_response")
    return fake


async def test_reads_come_from_the_socket_while_fresh_and_our_orders_outdate_it(http, clock):
    async with HLLikeServer() as server:
        fake = _fake(http)
        server.marks["ETH"] = "3005.5"
        ex = await make_exchange(http, clock, fake, keys=key_fields(ws_url=server.url), use_ws=True, ws_options=FAST)
        assert ex.ws_client is not None and {k for k, v in ex.ws_supported.items() if v} == READS
        assert await eventually(lambda: ex.ws_client.private_live)
        await ex.get_mark_price("ETH")  # subscribes activeAssetCtx
        assert await eventually(lambda: ex.ws_client.asset_ctx("ETH", 0.2) is not None
                                and ex.ws_client.asset_ctx("ETH")["markPx"] == "3005.5")
        assert await ex.get_mark_price("ETH") == 3005.5 and (await ex.get_funding_rate("ETH"))["mark_price"] == 3005.5
        book = await ex.get_orderbook("ETH")
        assert book["bids"] == [[3004.5, 1.5]] and "l2Book" not in fake.info_types()
        states = fake.info_types().count("clearinghouseState")
        coll = await ex.get_collateral()
        assert coll["available_collateral"] == 11292.922399 and [p["symbol"] for p in await ex.get_positions()] == [
            "ETH", "SOL"]
        assert fake.info_types().count("clearinghouseState") == states  # the socket's snapshot served it
        opens = fake.info_types().count("frontendOpenOrders")
        res = await ex.create_order("ETH", "buy", "0.01", 2900, client_id=7)
        (mine,) = await ex.get_open_orders("ETH")  # our own order: the next read asks REST
        assert mine["id"] == res["id"] and fake.info_types().count("frontendOpenOrders") == opens + 1
        await server.push({"channel": "orderUpdates", "data": [hl_order(int(res["id"]), res["client_order_id"],
                                                                        "filled")]})
        assert (await ex.wait_for_order(7, timeout=2))["status"] == "FILLED"
        await ex.unsubscribe_orderbook("ETH")
        client = ex.ws_client
        await ex.close()
        assert client.closed and ex.ws_client is None and not any(ex.ws_supported.values())


async def test_everything_works_with_the_socket_unreachable(http, clock):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    fake = _fake(http)
    ex = await make_exchange(http, clock, fake, keys=key_fields(ws_url=f"ws://127.0.0.1:{port}/ws"), use_ws=True,
                             ws_options={**FAST, "connect_timeout": 0.2})
    assert ex.ws_client is not None and not ex.ws_client.connected
    assert await ex.get_mark_price("ETH") == 3000.0
    fake.info_answers["l2Book"] = sample("info_l2Book_response")
    assert (await ex.get_orderbook("ETH", timeout=1.0))["bids"][0] == [2.111, 134.4]
    assert (await ex.get_collateral())["total_collateral"] == 11524.216934
    res = await ex.create_order("ETH", "buy", "0.01", 2900)
    assert [o["id"] for o in await ex.get_open_orders()] == [res["id"]]
    assert (await ex.cancel_orders("ETH"))[0]["status"] == "ok"
    await ex.close()


async def test_use_ws_false_pins_rest_and_opens_no_socket(http, clock):
    async with HLLikeServer() as server:
        fake = _fake(http)
        ex = await make_exchange(http, clock, fake, keys=key_fields(ws_url=server.url, fetch_by_ws=True), use_ws=False)
        assert ex.ws_client is None and not any(ex.ws_supported.values())
        assert await ex.get_mark_price("ETH") == 3000.0
        await ex.close()
        assert server.connect_count == 0


async def test_fetch_by_ws_decides_when_use_ws_is_not_given(http, clock):
    async with HLLikeServer() as server:
        fake = _fake(http)
        ex = await make_exchange(http, clock, fake, keys=key_fields(ws_url=server.url, fetch_by_ws=False), use_ws=None)
        assert ex.ws_client is None and server.connect_count == 0
        await ex.close()
        ex = await make_exchange(http, clock, fake, keys=key_fields(ws_url=server.url), use_ws=None, ws_options=FAST)
        client = ex.ws_client
        assert isinstance(client, W.HyperliquidWSClient) and server.connect_count == 1
        await ex.close()
        assert client.closed
