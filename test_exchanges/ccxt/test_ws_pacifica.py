"""pacifica's socket books: ccxt.pro's Pacifica code against a tiny loopback server speaking
Pacifica's ``book`` channel (full aggregated snapshots, the frame shape of Pacifica's docs as
ccxt.pro parses it) and its REST ``/api/v1/info`` and ``/api/v1/book``. Marks stay REST:
ccxt.pro's Pacifica ticker comes from the all-markets ``prices`` broadcast."""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import WSMsgType, web

from exchange_factory import create_exchange
from test_exchanges.ccxt.test_pacifica import INFO, KEYS, PRICES
from test_exchanges.ccxt.test_ws_paper import until


def levels(bid: str, ask: str) -> list[list[dict[str, Any]]]:
    return [[{"p": bid, "a": "1.5", "n": 2}], [{"p": ask, "a": "0.25", "n": 1}]]


class PacificaServer:
    """REST (markets, prices, the book) and ``/ws`` (``subscribe`` to ``book`` → ack + snapshot)."""

    def __init__(self) -> None:
        self.book = levels("100000", "100001")
        self.rest_hits: list[str] = []
        self.subscribes: list[dict[str, Any]] = []
        self.conns: list[web.WebSocketResponse] = []
        self.url = ""

    def frame(self, symbol: str = "BTC") -> str:
        return json.dumps({"channel": "book", "data": {"l": self.book, "s": symbol, "t": 1749051881187, "li": 7}})

    async def rest(self, request: web.Request) -> web.Response:
        self.rest_hits.append(request.path)
        if request.path == "/api/v1/book":
            return web.json_response({"success": True, "data": {"s": request.query["symbol"], "l": self.book,
                                                                "t": 1749051881187}, "error": None, "code": None})
        return web.json_response(PRICES if request.path.endswith("/prices") else INFO)

    async def ws(self, request: web.Request) -> web.WebSocketResponse:
        conn = web.WebSocketResponse()
        await conn.prepare(request)
        self.conns.append(conn)
        async for msg in conn:
            if msg.type != WSMsgType.TEXT:
                continue
            body = json.loads(msg.data)
            if body.get("method") == "ping":
                await conn.send_str(json.dumps({"channel": "pong"}))
            elif body.get("method") == "subscribe" and body["params"].get("source") == "book":
                self.subscribes.append(body["params"])
                await conn.send_str(json.dumps({"channel": "subscribe", "data": body["params"]}))
                await conn.send_str(self.frame(body["params"]["symbol"]))
        self.conns.remove(conn)
        return conn

    async def push(self, bid: str, ask: str) -> None:
        self.book = levels(bid, ask)
        for conn in list(self.conns):
            await conn.send_str(self.frame())

    async def drop(self) -> None:
        for conn in list(self.conns):
            await conn.close(code=1012)


@pytest.fixture
async def server() -> AsyncIterator[PacificaServer]:
    srv = PacificaServer()
    app = web.Application()
    app.router.add_get("/ws", srv.ws)
    app.router.add_get("/api/v1/{tail:.*}", srv.rest)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    srv.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    yield srv
    await runner.cleanup()


async def test_pacifica_books_from_the_socket_gap_aware_marks_over_rest(server):
    ex = await create_exchange("pacifica", {**KEYS, "rest_url": server.url})
    ex._watch.retry_delay = 0.02
    try:
        assert {k for k, v in ex.ws_supported.items() if v} == {"get_orderbook"}
        assert ex.exchange.urls["api"]["ws"]["public"] == server.url.replace("http", "ws") + "/ws"
        first = await ex.get_orderbook("BTC")  # REST or the subscription's snapshot
        assert (first["bids"], first["asks"]) == ([[100000.0, 1.5]], [[100001.0, 0.25]])
        await until(lambda: ex._watch.stats["book_frames"] >= 1)
        assert server.subscribes == [{"source": "book", "symbol": "BTC", "agg_level": 1}]
        hits = len(server.rest_hits)
        await server.push("100010", "100012")
        await until(lambda: ex._watch.stats["book_frames"] >= 2)
        book = await ex.get_orderbook("BTC")
        assert (book["bids"], book["asks"]) == ([[100010.0, 1.5]], [[100012.0, 0.25]])
        assert len(server.rest_hits) == hits  # served from the socket

        gaps = ex._watch.stats["gaps"]
        await server.drop()
        await until(lambda: ex._watch.stats["gaps"] > gaps)
        server.book = levels("100020", "100021")  # what REST says now; the pre-drop book is never served
        book = await ex.get_orderbook("BTC", timeout=0.2)
        assert book["bids"] == [[100020.0, 1.5]]  # REST, or the new socket's snapshot: never 100010
        await until(lambda: len(server.subscribes) == 2)  # resubscribed on a new socket
        await until(lambda: ex._watch.books.book("BTC", 5) is not None)
        assert (await ex.get_orderbook("BTC"))["bids"] == [[100020.0, 1.5]]

        await ex.get_mark_price("BTC")  # the mark: REST (/api/v1/info/prices), no ticker watcher
        assert server.rest_hits[-1] == "/api/v1/info/prices" and ex._watch.running == ["orderbook BTC"]
    finally:
        await ex.close()
    assert ex._watch.running == [] and ex.exchange.clients == {}
    await asyncio.sleep(0)
