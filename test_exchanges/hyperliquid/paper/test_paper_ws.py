"""``/ws`` on the Hyperliquid paper server: the hello frame, ping/pong, subscribe/unsubscribe
acks and errors, market and per-user channels (snapshots first where the data is history),
``post``, the idle close and the shared socket faults."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from mpdex.paper import PaperHyperliquid
from wrappers.hyperliquid_wire import limit_type, order_action, order_wire

from .conftest import BTC, HlClient


async def frame(ws: aiohttp.ClientWebSocketResponse, channel: str | None = None, timeout: float = 2.0) -> Any:
    """The next JSON frame (of ``channel``, skipping others)."""
    while True:
        msg = await ws.receive(timeout=timeout)
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        data = msg.json()
        if channel is None or data.get("channel") == channel:
            return data


async def nothing(ws: aiohttp.ClientWebSocketResponse, timeout: float = 0.15) -> None:
    with pytest.raises(asyncio.TimeoutError):
        await ws.receive(timeout=timeout)


@pytest.fixture
async def ws(client: HlClient) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    async with client.session.ws_connect(client.paper.ws_url) as sock:
        hello = await sock.receive(timeout=2)
        assert (hello.type, hello.data) == (aiohttp.WSMsgType.TEXT, "Websocket connection established.")
        yield sock


async def sub(ws: aiohttp.ClientWebSocketResponse, subscription: dict[str, Any], method: str = "subscribe") -> None:
    await ws.send_json({"method": method, "subscription": subscription})
    ack = await frame(ws)
    assert ack == {"channel": "subscriptionResponse", "data": {"method": method, "subscription": subscription}}


async def test_protocol_frames(client: HlClient, ws: aiohttp.ClientWebSocketResponse) -> None:
    await ws.send_json({"method": "ping"})
    assert await frame(ws) == {"channel": "pong"}
    book_sub = {"type": "l2Book", "coin": "BTC", "nSigFigs": None, "mantissa": None}
    await sub(ws, book_sub)
    book = await frame(ws, "l2Book")
    assert book["data"]["coin"] == "BTC" and len(book["data"]["levels"][0]) == 20
    assert book["data"]["levels"][0][0] == {"px": "96995.0", "sz": book["data"]["levels"][0][0]["sz"], "n": 1}
    client.paper.set_price("BTC", "96000")
    moved = await frame(ws, "l2Book")
    assert moved["data"]["levels"][1][0]["px"] == "96005.0"  # a full snapshot after every move
    await ws.send_json({"method": "subscribe", "subscription": {"type": "l2Book", "coin": "BTC"}})
    assert await frame(ws) == {"channel": "error", "data": 'Already subscribed: {"type":"l2Book","coin":"BTC"}'}
    for bad in ({"type": "l2Book", "coin": "NOPE"}, {"type": "trades"}, {"type": "orderUpdates", "user": "bob"},
                {"type": "candle", "coin": "BTC", "interval": "6h"}, {"type": "warp"}, {"type": "bbo", "coin": "BTC", "x": 1}):
        await ws.send_json({"method": "subscribe", "subscription": bad})
        error = await frame(ws)
        assert error["channel"] == "error" and error["data"].startswith("Invalid subscription {")
    await ws.send_str("not json")
    assert await frame(ws) == {"channel": "error", "data": "Invalid request: not json"}
    await sub(ws, book_sub, "unsubscribe")
    await ws.send_json({"method": "unsubscribe", "subscription": book_sub})
    assert (await frame(ws))["data"].startswith("Already unsubscribed: ")
    client.paper.set_price("BTC", "97000")
    await nothing(ws)
    assert client.paper.ws_subscriptions() == [[]]


async def test_market_channels(client: HlClient, ws: aiohttp.ClientWebSocketResponse) -> None:
    await sub(ws, {"type": "allMids"})
    assert (await frame(ws, "allMids"))["data"]["mids"]["BTC"] == "97000.0"
    await sub(ws, {"type": "bbo", "coin": "BTC"})
    assert [lv["px"] for lv in (await frame(ws, "bbo"))["data"]["bbo"]] == ["96995.0", "97005.0"]
    await sub(ws, {"type": "activeAssetCtx", "coin": "BTC"})
    ctx = await frame(ws, "activeAssetCtx")
    assert ctx["data"]["coin"] == "BTC" and ctx["data"]["ctx"]["markPx"] == "97000.0"
    await sub(ws, {"type": "candle", "coin": "BTC", "interval": "1m"})
    bar = (await frame(ws, "candle"))["data"]
    assert (bar["s"], bar["i"], bar["T"] - bar["t"]) == ("BTC", "1m", 59_999)
    await sub(ws, {"type": "trades", "coin": "BTC"})
    await client.order(BTC, True, "98000", "0.001", "Ioc")
    (trade,) = (await frame(ws, "trades"))["data"]
    assert (trade["coin"], trade["side"], trade["px"], trade["sz"]) == ("BTC", "B", "97005.0", "0.001")
    assert set(trade) == {"coin", "side", "px", "sz", "time", "hash", "tid", "users"}
    client.paper.set_price("BTC", "98000")
    seen = {(await frame(ws))["channel"] for _ in range(4)}
    assert seen == {"allMids", "bbo", "activeAssetCtx", "candle"}


async def test_user_channels(client: HlClient, ws: aiohttp.ClientWebSocketResponse) -> None:
    await client.order(BTC, True, "98000", "0.001", "Ioc")  # history before subscribing
    user = client.user
    await sub(ws, {"type": "orderUpdates", "user": user})
    await nothing(ws)  # nothing at subscribe
    await sub(ws, {"type": "userFills", "user": user})
    snap = (await frame(ws, "userFills"))["data"]
    assert snap["isSnapshot"] is True and snap["user"] == user.lower() and len(snap["fills"]) == 1
    await sub(ws, {"type": "userEvents", "user": user})
    await sub(ws, {"type": "userFundings", "user": user})
    assert (await frame(ws, "userFundings"))["data"] == {"isSnapshot": True, "user": user.lower(), "fundings": []}
    await sub(ws, {"type": "activeAssetData", "user": user, "coin": "BTC"})
    assert (await frame(ws, "activeAssetData"))["data"]["leverage"] == {"type": "cross", "value": 20}
    await sub(ws, {"type": "notification", "user": user})

    cloid = "0x" + "0a" * 16
    await client.order(BTC, True, "96000", "0.001", cloid=cloid)
    (update,) = (await frame(ws, "orderUpdates"))["data"]
    assert update["status"] == "open" and update["order"] == {
        "coin": "BTC", "side": "B", "limitPx": "96000.0", "sz": "0.001", "oid": 2, "timestamp": update["order"]["timestamp"],
        "origSz": "0.001", "cloid": cloid}
    client.paper.set_price("BTC", "95500")
    filled = await frame(ws, "orderUpdates")
    assert filled["data"][0]["status"] == "filled"
    fills = (await frame(ws, "userFills"))["data"]
    assert "isSnapshot" not in fills and fills["fills"][0]["oid"] == 2 and fills["fills"][0]["cloid"] == cloid
    assert (await frame(ws, "user"))["data"]["fills"][0]["oid"] == 2
    client.paper.set_funding_rate("BTC", "0.0001")
    client.paper.apply_funding()
    (paid,) = (await frame(ws, "userFundings"))["data"]["fundings"]
    assert (paid["coin"], paid["szi"], paid["fundingRate"]) == ("BTC", "0.002", "0.0001") and paid["usdc"].startswith("-")
    assert (await frame(ws, "user"))["data"]["funding"] == paid


async def test_an_agent_address_hears_nothing(client: HlClient, ws: aiohttp.ClientWebSocketResponse) -> None:
    assert client.agent is not None
    await sub(ws, {"type": "orderUpdates", "user": client.agent.address})
    await sub(ws, {"type": "userFills", "user": client.agent.address})
    assert (await frame(ws, "userFills"))["data"]["fills"] == []
    await client.order(BTC, True, "98000", "0.001", "Ioc")
    await nothing(ws)


async def test_post_requests(client: HlClient, ws: aiohttp.ClientWebSocketResponse) -> None:
    await ws.send_json({"method": "post", "id": 7, "request": {"type": "info", "payload": {"type": "allMids"}}})
    answer = await frame(ws, "post")
    assert answer["data"]["id"] == 7 and answer["data"]["response"]["type"] == "info"
    assert answer["data"]["response"]["payload"] == {"type": "allMids", "data": await client.info("allMids")}
    body = client.signed(order_action([order_wire(BTC, True, 96000, Decimal("0.001"), order_type=limit_type("Gtc"))]))
    await ws.send_json({"method": "post", "id": 8, "request": {"type": "action", "payload": body}})
    assert (await frame(ws, "post"))["data"] == {"id": 8, "response": {"type": "action", "payload": {
        "status": "ok", "response": {"type": "order", "data": {"statuses": [{"resting": {"oid": 1}}]}}}}}
    await ws.send_json({"method": "post", "id": 9, "request": {"type": "action", "payload": {"action": {}}}})
    assert (await frame(ws, "post"))["data"] == {"id": 9, "response": {
        "type": "error", "payload": "422 Unprocessable Entity: Failed to deserialize the JSON body into the target type"}}


async def test_idle_sockets_are_closed_and_a_pinging_one_is_not(session: aiohttp.ClientSession) -> None:
    async with PaperHyperliquid(tick_interval=None, auto_funding=False, ws_idle_timeout=0.4) as paper:
        async with session.ws_connect(paper.ws_url) as idle, session.ws_connect(paper.ws_url) as busy:
            for _ in range(6):
                await busy.send_json({"method": "ping"})
                await asyncio.sleep(0.15)
            hello, close = await idle.receive(timeout=1), await idle.receive(timeout=1)
            assert hello.data == "Websocket connection established."
            assert (close.type, close.data, close.extra) == (aiohttp.WSMsgType.CLOSE, 1000, "idle timeout")
            assert not busy.closed


async def test_socket_faults(client: HlClient) -> None:
    paper, session = client.paper, client.session
    paper.faults.reject_ws_connects(1)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await session.ws_connect(paper.ws_url)
    assert refused.value.status == 429
    async with session.ws_connect(paper.ws_url) as ws:
        await ws.receive(timeout=2)
        paper.faults.silence_websockets(0.3)
        await ws.send_json({"method": "ping"})
        await nothing(ws, 0.2)
        await asyncio.sleep(0.15)
        await ws.send_json({"method": "ping"})
        assert await frame(ws) == {"channel": "pong"}
        assert paper.faults.drop_websockets(1012) == 1
        msg = await ws.receive(timeout=2)
        assert msg.type == aiohttp.WSMsgType.CLOSE and ws.close_code == 1012
