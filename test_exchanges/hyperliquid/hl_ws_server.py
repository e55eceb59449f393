"""A Hyperliquid-like loopback WebSocket server (on the shared ``ControlledServer``) and an
in-memory stand-in for the REST reads the socket client falls back to."""
from __future__ import annotations

import asyncio
from typing import Any

import orjson
from websockets.asyncio.server import ServerConnection

from test_exchanges.ws_helpers import ControlledServer
from wrappers.hyperliquid_ws_client import HELLO

from .hl_fakes import MARKS, UNIVERSE, ctx


def sub_key(subscription: dict[str, Any]) -> str:
    return orjson.dumps(subscription, option=orjson.OPT_SORT_KEYS).decode()


class HLLikeServer(ControlledServer):
    """Sends the text hello on connect, answers ``{"method":"ping"}`` with
    ``{"channel":"pong"}``, acks (un)subscriptions, and every ``tick`` publishes an
    ``activeAssetCtx`` / ``l2Book`` frame per subscribed coin; private frames are pushed."""

    def __init__(self, tick: float = 0.05) -> None:
        super().__init__(tick)
        self.marks = dict(MARKS)
        self.mids: dict[str, str] = {}
        self.pings = 0
        self.subs: dict[ServerConnection, list[dict[str, Any]]] = {}

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    async def _handler(self, ws: ServerConnection) -> None:
        await ws.send(HELLO)
        self.subs[ws] = []
        await super()._handler(ws)

    async def _answer(self, ws: ServerConnection, raw: str | bytes) -> None:
        msg = orjson.loads(raw)
        method = msg.get("method")
        if method == "ping":
            self.pings += 1
            await ws.send('{"channel":"pong"}')
        elif method in ("subscribe", "unsubscribe"):
            sub = msg["subscription"]
            if method == "subscribe":
                self.subs[ws].append(sub)
                self.subscriptions[ws].append(sub_key(sub))
            else:
                self.subs[ws] = [s for s in self.subs[ws] if sub_key(s) != sub_key(sub)]
                self.subscriptions[ws] = [k for k in self.subscriptions[ws] if k != sub_key(sub)]
            await ws.send(orjson.dumps({"channel": "subscriptionResponse",
                                        "data": {"method": method, "subscription": sub}}).decode())

    def frame(self, sub: dict[str, Any], seq: int) -> dict[str, Any] | None:
        coin = sub.get("coin")
        if sub["type"] == "activeAssetCtx" and coin in self.marks:
            data = ctx(self.marks[coin])
            data["midPx"] = self.mids.get(coin, data["midPx"])
            return {"channel": "activeAssetCtx", "data": {"coin": coin, "ctx": data}}
        if sub["type"] == "l2Book" and coin in self.marks:
            px = float(self.marks[coin])
            return {"channel": "l2Book", "data": {"coin": coin, "time": seq, "levels": [
                [{"px": f"{px - 1:g}", "sz": "1.5", "n": 1}], [{"px": f"{px + 1:g}", "sz": "2", "n": 2}]]}}
        return None

    async def _publish(self) -> None:
        seq = 0
        while True:
            await asyncio.sleep(self.tick)
            seq += 1
            for ws in self.open_connections():
                if self.is_silent(ws):
                    continue
                for sub in list(self.subs.get(ws, ())):
                    frame = self.frame(sub, seq)
                    if frame is not None:
                        try:
                            await ws.send(orjson.dumps(frame).decode())
                        except Exception:
                            break

    async def push(self, frame: dict[str, Any]) -> int:
        live = [c for c in self.open_connections() if not self.is_silent(c)]
        for c in live:
            await c.send(orjson.dumps(frame).decode())
        return len(live)

    def live_types(self) -> list[list[str]]:
        return [sorted(s["type"] + (":" + s["coin"] if "coin" in s else "") for s in self.subs[c])
                for c in self.open_connections()]


def hl_order(oid: int, cloid: str | None, status: str = "open", *, coin: str = "ETH", sz: str = "0.01",
             orig: str = "0.01") -> dict[str, Any]:
    order = {"coin": coin, "side": "B", "limitPx": "2900", "sz": sz, "oid": oid, "timestamp": 1, "origSz": orig}
    if cloid:
        order["cloid"] = cloid
    return {"order": order, "status": status, "statusTimestamp": 2}


class FakeHLRest:
    """The REST reads of ``HyperliquidRestLike``, in memory; records every call."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.marks = dict(MARKS)
        self.orders: list[dict[str, Any]] = []  # orderStatus "order" wrappers
        self.state: dict[str, Any] = {"marginSummary": {"accountValue": "1000", "totalMarginUsed": "0"},
                                      "withdrawable": "1000", "assetPositions": []}
        self.closed = False

    def count(self, name: str) -> int:
        return self.calls.count(name)

    async def meta_and_asset_ctxs(self) -> Any:
        self.calls.append("meta_and_asset_ctxs")
        return [{"universe": UNIVERSE}, [ctx(self.marks[u["name"]]) for u in UNIVERSE]]

    async def l2_book(self, coin: str) -> Any:
        self.calls.append("l2_book")
        return {"coin": coin, "time": 0, "levels": [[{"px": "1", "sz": "1", "n": 1}], [{"px": "2", "sz": "1", "n": 1}]]}

    async def frontend_open_orders(self) -> Any:
        self.calls.append("frontend_open_orders")
        return [o["order"] for o in self.orders if o["status"] == "open"]

    async def clearinghouse_state(self) -> Any:
        self.calls.append("clearinghouse_state")
        return dict(self.state)

    async def order_status(self, oid: int | str) -> Any:
        self.calls.append("order_status")
        for o in self.orders:
            if o["order"].get("cloid") == oid or o["order"]["oid"] == oid:
                return {"status": "order", "order": o}
        return {"status": "unknownOid"}

    async def close(self) -> None:
        self.closed = True
