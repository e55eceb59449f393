"""Helpers for the paper-exchange tests: a raw aiohttp client that signs with vest_auth.

Deliberately independent of ``wrappers/vest.py``: these tests pin the server's wire
behaviour, not a client's. Test modules load the fixtures with
``pytest_plugins = ("test_exchanges.paper_helpers",)`` (PYTEST_DONT_REWRITE: the module is
imported before pytest could rewrite it).
"""
from __future__ import annotations

import itertools
import time
from typing import Any

import aiohttp
import pytest

from mpdex.paper import PaperVest
from wrappers.vest import build_order_body
from wrappers.vest_auth import VestSigner
from wrappers.vest_keys import VestKey

_nonces = itertools.count(1)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def fresh_nonce() -> int:
    """Unique, increasing nonces even within one millisecond."""
    return now_ms() * 1000 + next(_nonces) % 1000


class RawClient:
    """Speaks Vest v2 to a paper server with one key; returns ``(status, body)``."""

    def __init__(self, key: VestKey, session: aiohttp.ClientSession) -> None:
        self.key = key
        self.session = session
        self.signer = VestSigner(key.signing_private_key)
        self.base = key.rest_url
        self.headers = {"X-API-KEY": key.api_key, "xrestservermm": f"restserver{key.account_group}"}

    async def request(self, method: str, path: str, *, headers: dict[str, str] | None = None,
                      params: dict[str, Any] | None = None, body: Any = None) -> tuple[int, Any]:
        hdrs = self.headers if headers is None else headers
        async with self.session.request(method, self.base + path, headers=hdrs, params=params, json=body) as resp:
            data = await resp.json(content_type=None)
            return resp.status, data

    async def get(self, path: str, **kw: Any) -> tuple[int, Any]:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        return await self.request("POST", path, body=body, **kw)

    def order(
        self,
        symbol: str = "BTC-PERP",
        is_buy: bool = True,
        size: str = "0.0100",
        limit_price: str = "200000.0",
        order_type: str = "MARKET",
        reduce_only: bool = False,
        *,
        t: int | None = None,
        nonce: int | None = None,
        tif: str | None = None,
        recv_window: int | None = 5000,
        signer: VestSigner | None = None,
    ) -> dict[str, Any]:
        """A signed ``POST /orders`` body (``recv_window=None`` leaves the optional field out)."""
        body = build_order_body(
            signer or self.signer, time_ms=now_ms() if t is None else t,
            nonce=fresh_nonce() if nonce is None else nonce, symbol=symbol, is_buy=is_buy, size=size,
            limit_price=limit_price, order_type=order_type, reduce_only=reduce_only, time_in_force=tif,
            recv_window=5000 if recv_window is None else recv_window,
        )
        if recv_window is None:
            del body["recvWindow"]  # not signed, so the signature stays valid
        return body

    def cancel(self, order_id: str, *, nonce: int | None = None, t: int | None = None) -> dict[str, Any]:
        sent = now_ms() if t is None else t
        c = {"time": sent, "nonce": fresh_nonce() if nonce is None else nonce, "id": order_id}
        return {"order": c, "recvWindow": 5000, "signature": self.signer.sign_cancel(c)}

    async def place(self, **kw: Any) -> tuple[int, Any]:
        return await self.post("/orders", self.order(**kw))

    async def order_by_id(self, order_id: str) -> dict[str, Any]:
        status, rows = await self.get("/orders", params={"id": order_id})
        assert status == 200 and len(rows) == 1, rows
        return rows[0]

    async def account(self) -> dict[str, Any]:
        status, body = await self.get("/account", params={"time": now_ms()})
        assert status == 200, body
        return body

    async def position(self, symbol: str) -> dict[str, Any] | None:
        acc = await self.account()
        return next((p for p in acc["positions"] if p["symbol"] == symbol), None)

    def ws_url(self, listen_key: str | None = None) -> str:
        url = f"{self.key.ws_url}&xwebsocketserver=restserver{self.key.account_group}"
        return url + (f"&listenKey={listen_key}" if listen_key else "")


async def best(client: RawClient, symbol: str) -> tuple[str, str]:
    """``(best bid, best ask)`` price strings from ``/depth``."""
    status, book = await client.get("/depth", params={"symbol": symbol, "limit": 1})
    assert status == 200, book
    return book["bids"][0][0], book["asks"][0][0]


async def recv_json(ws: aiohttp.ClientWebSocketResponse, timeout: float = 2.0) -> Any:
    msg = await ws.receive(timeout=timeout)
    assert msg.type == aiohttp.WSMsgType.TEXT, msg
    return msg.json()


async def recv_until(ws: aiohttp.ClientWebSocketResponse, pred: Any, timeout: float = 3.0) -> Any:
    """The first JSON frame satisfying ``pred`` (other frames are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no matching frame")
        frame = await recv_json(ws, left)
        if pred(frame):
            return frame


# --- fixtures (import them into a test module to use them) ----------------------------

@pytest.fixture
async def paper():
    """A paper server whose prices move only when a test says so."""
    async with PaperVest(seed=7, tick_interval=None, auto_funding=False) as p:
        yield p


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def client(paper, session):
    key = await paper.create_account(usdc=10_000)
    return RawClient(key, session)
