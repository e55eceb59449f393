"""Paper WebSocket: handshake close codes, acks, PONG, channel shapes (compared with the
samples), account_private ORDER events, listen-key expiry and socket faults."""
from __future__ import annotations

import asyncio

import aiohttp
import pytest

from mpdex.paper import PaperVest
from test_exchanges.conftest import load_sample
from test_exchanges.paper_helpers import RawClient, recv_json, recv_until

pytest_plugins = ("test_exchanges.paper_helpers",)


def shape(frame: dict) -> dict:
    """Keys and JSON types, recursively (values differ from the samples, shapes must not)."""
    if isinstance(frame, dict):
        return {k: shape(v) for k, v in frame.items()}
    if isinstance(frame, list):
        return [shape(frame[0])] if frame and isinstance(frame[0], (dict, list)) else type(frame).__name__
    return type(frame).__name__


async def close_code(session: aiohttp.ClientSession, url: str, send: dict | None = None) -> int | None:
    async with session.ws_connect(url) as ws:
        if send is not None:
            await ws.send_json(send)
        msg = await ws.receive(timeout=2)
        while msg.type == aiohttp.WSMsgType.TEXT:
            msg = await ws.receive(timeout=2)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
        return ws.close_code


async def test_handshake_close_codes(client: RawClient, paper: PaperVest, session: aiohttp.ClientSession) -> None:
    base = f"ws://127.0.0.1:{paper.port}/ws-api"
    assert await close_code(session, f"{base}?version=2.0&xwebsocketserver=restserver0") == 4000
    assert await close_code(session, f"{base}?xwebsocketserver=restserver0") == 4000
    assert await close_code(session, f"{base}?version=1.0&xwebsocketserver=restserver7") == 4001
    assert await close_code(session, f"{base}?version=1.0&xwebsocketserver=server0") == 4002
    assert await close_code(session, client.ws_url("deadbeef")) == 4004
    key = (await client.post("/account/listenKey"))[1]["listenKey"]
    wrong_group = client.ws_url(key).replace("restserver1", "restserver0")
    assert await close_code(session, wrong_group) == 4002
    sub = {"method": "SUBSCRIBE", "params": ["account_private"], "id": 1}
    assert await close_code(session, client.ws_url(), sub) == 4003
    paper.expire_listen_keys()
    assert await close_code(session, client.ws_url(key)) == 4005


async def test_ack_pong_and_subscription_bookkeeping(client: RawClient, paper: PaperVest, session: aiohttp.ClientSession) -> None:
    async with session.ws_connect(client.ws_url()) as ws:
        await ws.send_json(load_sample("ws_ping_request.json"))
        assert await recv_json(ws) == load_sample("ws_pong.json")
        await ws.send_json({"method": "SUBSCRIBE", "params": ["BTC-PERP@trades"], "id": 7})
        assert await recv_json(ws) == load_sample("ws_subscribe_ack.json")
        await ws.send_json({"method": "SUBSCRIBE", "params": ["BTC-PERP@trades", "ETH-PERP@trades"], "id": 8})
        assert await recv_json(ws) == {"result": None, "id": 8}
        assert paper.ws_subscriptions() == [["BTC-PERP@trades", "BTC-PERP@trades", "ETH-PERP@trades"]]
        await ws.send_json(load_sample("ws_unsubscribe_request.json"))
        assert await recv_json(ws) == {"result": None, "id": 8}
        assert paper.ws_subscriptions() == [["ETH-PERP@trades"]]
        assert paper.stats["ws_open"] == 1


async def test_public_channel_shapes_match_the_samples(client: RawClient, paper: PaperVest, session: aiohttp.ClientSession) -> None:
    async with session.ws_connect(client.ws_url()) as ws:
        await ws.send_json(load_sample("ws_subscribe_request.json"))  # BTC depth, trades, tickers
        assert await recv_json(ws) == {"result": None, "id": 7}
        depth = await recv_until(ws, lambda f: f.get("channel") == "BTC-PERP@depth")
        assert shape(depth) == shape(load_sample("ws_depth.json"))
        assert len(depth["data"]["bids"]) == 20
        bids = [float(p) for p, _ in depth["data"]["bids"]]
        asks = [float(p) for p, _ in depth["data"]["asks"]]
        assert bids == sorted(bids, reverse=True) and asks == sorted(asks) and bids[0] < asks[0]
        tickers = await recv_until(ws, lambda f: f.get("channel") == "tickers")
        assert shape(tickers) == shape(load_sample("ws_tickers.json"))
        assert len(tickers["data"]) == len(paper.markets)
        await ws.send_json({"method": "SUBSCRIBE", "params": ["BTC-PERP@kline_1m"], "id": 9})
        assert (await client.place(size="0.0100"))[0] == 200  # prints a public trade
        trade = await recv_until(ws, lambda f: f.get("channel") == "BTC-PERP@trades")
        assert shape(trade) == shape(load_sample("ws_trades.json"))
        assert trade["data"]["qty"] == "0.0100" and trade["data"]["id"].startswith("0x")
        paper.tick()
        kline = await recv_until(ws, lambda f: f.get("channel") == "BTC-PERP@kline_1m")
        assert [type(x) for x in kline["data"]] == [type(x) for x in load_sample("ws_kline_1m.json")["data"]]


async def test_ticking_server_streams_tickers(session: aiohttp.ClientSession) -> None:
    async with PaperVest(seed=3, tick_interval=0.05, auto_funding=False) as paper:
        url = paper.ws_url + "&xwebsocketserver=restserver0"
        async with session.ws_connect(url) as ws:
            await ws.send_json({"method": "SUBSCRIBE", "params": ["tickers"], "id": 1})
            await recv_json(ws)
            marks = set()
            for _ in range(6):
                frame = await recv_until(ws, lambda f: f.get("channel") == "tickers")
                marks.add(frame["data"][0]["markPrice"])
            assert len(marks) > 1  # the walk moves


async def test_account_private_order_events(client: RawClient, paper: PaperVest, session: aiohttp.ClientSession) -> None:
    key = (await client.post("/account/listenKey"))[1]["listenKey"]
    async with session.ws_connect(client.ws_url(key)) as ws:
        await ws.send_json({"method": "SUBSCRIBE", "params": ["account_private"], "id": 1})
        assert await recv_json(ws) == {"result": None, "id": 1}

        _, placed = await client.place(order_type="LIMIT", limit_price="90000.0", size="0.0100")
        new = await recv_json(ws)
        assert shape(new) == shape(load_sample("ws_account_private_order_new.json"))
        assert new["data"]["args"]["id"] == placed["id"] and new["data"]["args"]["status"] == "NEW"

        assert (await client.post("/orders/cancel", client.cancel(placed["id"])))[0] == 200
        cancelled = await recv_json(ws)
        assert cancelled == {"channel": "account_private", "data": {"event": "ORDER", "args": {
            "id": placed["id"], "status": "CANCELLED", "postTime": new["data"]["args"]["postTime"],
            "nonce": new["data"]["args"]["nonce"]}}}

        _, market = await client.place(size="0.0100")
        assert (await recv_json(ws))["data"]["args"]["status"] == "NEW"
        filled = await recv_json(ws)
        assert shape(filled) == shape(load_sample("ws_account_private_order_filled.json"))
        args = filled["data"]["args"]
        assert args["id"] == market["id"] and args["status"] == "FILLED" and args["lastFilledSize"] == "0.0100"

        # a resting reduce-only sell whose position is gone is REJECTED (3018) when it would fill
        _, resting = await client.place(is_buy=False, order_type="LIMIT", limit_price="99000.0", reduce_only=True)
        await recv_json(ws)  # NEW
        assert (await client.place(is_buy=False, limit_price="1.0"))[0] == 200  # close the long
        await recv_json(ws)
        await recv_json(ws)
        paper.set_price("BTC-PERP", "99500.0")
        rejected = await recv_json(ws)
        assert shape(rejected) == shape(load_sample("ws_account_private_order_rejected.json"))
        assert rejected["data"]["args"]["id"] == resting["id"] and rejected["data"]["args"]["code"] == 3018


async def test_listen_key_expiry_closes_private_sockets(client: RawClient, paper: PaperVest, session: aiohttp.ClientSession) -> None:
    key = (await client.post("/account/listenKey"))[1]["listenKey"]
    async with session.ws_connect(client.ws_url(key)) as ws, session.ws_connect(client.ws_url()) as public:
        await ws.send_json({"method": "SUBSCRIBE", "params": ["account_private"], "id": 1})
        await recv_json(ws)
        assert paper.expire_listen_keys() == 1
        msg = await ws.receive(timeout=2)
        assert msg.type == aiohttp.WSMsgType.CLOSE and ws.close_code == 4005
        await public.send_json({"method": "PING", "params": [], "id": 0})
        assert await recv_json(public) == {"data": "PONG"}  # public sockets stay


async def test_short_listen_key_ttl_expires_by_itself(session: aiohttp.ClientSession) -> None:
    async with PaperVest(tick_interval=None, auto_funding=False, listen_key_ttl=0.3) as paper:
        c = RawClient(await paper.create_account(usdc=100), session)
        key = (await c.post("/account/listenKey"))[1]["listenKey"]
        async with session.ws_connect(c.ws_url(key)) as ws:
            msg = await ws.receive(timeout=3)
            assert msg.type == aiohttp.WSMsgType.CLOSE and ws.close_code == 4005


async def test_fault_drop_and_close_private(client: RawClient, paper: PaperVest, session: aiohttp.ClientSession) -> None:
    key = (await client.post("/account/listenKey"))[1]["listenKey"]
    async with session.ws_connect(client.ws_url(key)) as private, session.ws_connect(client.ws_url()) as public:
        await public.send_json({"method": "PING", "params": [], "id": 0})
        await recv_json(public)
        assert paper.faults.close_private(4005) == 1
        assert (await private.receive(timeout=2)).type == aiohttp.WSMsgType.CLOSE and private.close_code == 4005
        assert paper.faults.drop_websockets(code=1012) == 1
        assert (await public.receive(timeout=2)).type == aiohttp.WSMsgType.CLOSE and public.close_code == 1012
    assert paper.ws_subscriptions() == []


async def test_fault_silence(client: RawClient, paper: PaperVest, session: aiohttp.ClientSession) -> None:
    async with session.ws_connect(client.ws_url()) as ws:
        paper.faults.silence_websockets(0.4)
        await ws.send_json({"method": "PING", "params": [], "id": 0})
        with pytest.raises(asyncio.TimeoutError):
            await ws.receive(timeout=0.2)
        assert not ws.closed
        await asyncio.sleep(0.3)
        await ws.send_json({"method": "PING", "params": [], "id": 0})
        assert await recv_json(ws) == {"data": "PONG"}


async def test_fault_reject_connects(client: RawClient, paper: PaperVest, session: aiohttp.ClientSession) -> None:
    paper.faults.reject_ws_connects(2, status=429, retry_after=1)
    for _ in range(2):
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await session.ws_connect(client.ws_url())
        assert info.value.status == 429 and info.value.headers["Retry-After"] == "1"
    async with session.ws_connect(client.ws_url()) as ws:
        await ws.send_json({"method": "PING", "params": [], "id": 0})
        assert await recv_json(ws) == {"data": "PONG"}
    assert paper.stats["ws_rejected"] == 2 and paper.stats["ws_connects"] == 1


async def test_partially_filled_event_has_the_filled_shape(client: RawClient, paper: PaperVest, session: aiohttp.ClientSession) -> None:
    paper.set_price("BTC-PERP", "97000.0")
    ask_px, ask_qty = (await client.get("/depth", params={"symbol": "BTC-PERP", "limit": 1}))[1]["asks"][0]
    key = (await client.post("/account/listenKey"))[1]["listenKey"]
    async with session.ws_connect(client.ws_url(key)) as ws:
        await ws.send_json({"method": "SUBSCRIBE", "params": ["account_private"], "id": 1})
        await recv_json(ws)
        size = f"{float(ask_qty) + 0.05:.4f}"
        _, placed = await client.place(size=size, order_type="LIMIT", limit_price=ask_px)
        assert (await recv_json(ws))["data"]["args"]["status"] == "NEW"
        partial = await recv_json(ws)
        assert shape(partial) == shape(load_sample("ws_account_private_order_filled.json"))
        args = partial["data"]["args"]
        assert (args["status"], args["lastFilledSize"], args["size"]) == ("PARTIALLY_FILLED", ask_qty, size)
        paper.set_price("BTC-PERP", "96000.0")
        done = (await recv_json(ws))["data"]["args"]
        assert (done["status"], done["lastFilledSize"], done["lastFilledPrice"]) == ("FILLED", "0.0500", ask_px)


async def test_public_streams_without_xwebsocketserver(client: RawClient, paper: PaperVest, session: aiohttp.ClientSession) -> None:
    """Public channels are served without the group parameter; account_private still needs
    the listen key, and a group that is given must be the key's."""
    base = f"ws://127.0.0.1:{paper.port}/ws-api?version=1.0"
    async with session.ws_connect(base) as ws:
        await ws.send_json({"method": "PING", "params": [], "id": 0})
        assert await recv_json(ws) == {"data": "PONG"}
        await ws.send_json({"method": "SUBSCRIBE", "params": ["tickers", "BTC-PERP@depth"], "id": 3})
        assert await recv_json(ws) == {"result": None, "id": 3}
        tickers = await recv_until(ws, lambda f: f.get("channel") == "tickers")
        assert len(tickers["data"]) == len(paper.markets)
        assert (await recv_until(ws, lambda f: f.get("channel") == "BTC-PERP@depth"))["data"]["bids"]
    sub = {"method": "SUBSCRIBE", "params": ["account_private"], "id": 1}
    assert await close_code(session, base, sub) == 4003  # no listen key: no private stream
    key = (await client.post("/account/listenKey"))[1]["listenKey"]
    assert await close_code(session, f"{base}&listenKey={key}&xwebsocketserver=restserver0") == 4002
    assert await close_code(session, f"{base}&listenKey=deadbeef") == 4004
    async with session.ws_connect(f"{base}&listenKey={key}") as ws:  # the key alone binds the account
        await ws.send_json(sub)
        assert await recv_json(ws) == {"result": None, "id": 1}
        _, placed = await client.place(order_type="LIMIT", limit_price="90000.0")
        event = await recv_json(ws)
        assert event["channel"] == "account_private" and event["data"]["args"]["id"] == placed["id"]
