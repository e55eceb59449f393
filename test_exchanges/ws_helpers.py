"""Loopback helpers for the socket tests: a controllable WebSocket server that speaks the
Vest frame protocol, a counting HTTP CONNECT proxy, and a task-hygiene check."""
from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterable
from typing import Any

import orjson
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response


class ControlledServer:
    """A WebSocket server on 127.0.0.1:0 that acks ``SUBSCRIBE``, answers ``PING`` with
    ``{"data":"PONG"}``, publishes a frame per subscribed channel every ``tick`` seconds,
    and misbehaves on request: drop every socket, go silent, reject handshakes."""

    def __init__(self, tick: float = 0.05) -> None:
        self.tick = tick
        self.server: Server | None = None
        self.port = 0
        self.connections: list[ServerConnection] = []
        #: channels subscribed per connection, in order, duplicates included
        self.subscriptions: dict[ServerConnection, list[str]] = {}
        self.connect_count = 0
        self.rejected = 0
        self.paths: list[str] = []
        self._reject: list[tuple[int, float | None]] = []
        self._silenced: dict[ServerConnection, float] = {}
        self._seq = itertools.count(1)
        self._publisher: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws-api?version=1.0"

    async def __aenter__(self) -> ControlledServer:
        self.server = await serve(
            self._handler, "127.0.0.1", 0, process_request=self._process_request, ping_interval=None
        )
        self.port = self.server.sockets[0].getsockname()[1]
        self._publisher = asyncio.create_task(self._publish())
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self._publisher:
            self._publisher.cancel()
            await asyncio.gather(self._publisher, return_exceptions=True)
        if self.server:
            self.server.close()
            await self.server.wait_closed()

    # --- faults
    def reject_next(self, n: int, status: int = 429, retry_after: float | None = None) -> None:
        self._reject.extend([(status, retry_after)] * n)

    async def drop_all(self, code: int = 1012) -> int:
        live = [c for c in self.connections if c.close_code is None]
        await asyncio.gather(*(c.close(code) for c in live), return_exceptions=True)
        return len(live)

    def silence(self, seconds: float) -> None:
        """The sockets open now stay open but send nothing (no data, no PONG)."""
        until = asyncio.get_running_loop().time() + seconds
        for c in self.open_connections():
            self._silenced[c] = until

    def is_silent(self, ws: ServerConnection) -> bool:
        return asyncio.get_running_loop().time() < self._silenced.get(ws, 0.0)

    async def broadcast_raw(self, data: str | bytes) -> None:
        for c in self.open_connections():
            await c.send(data)

    def open_connections(self) -> list[ServerConnection]:
        return [c for c in self.connections if c.close_code is None]

    def live_subscriptions(self) -> list[list[str]]:
        return [self.subscriptions[c] for c in self.open_connections()]

    # --- internals
    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        self.paths.append(request.path)
        if self._reject:
            status, retry_after = self._reject.pop(0)
            self.rejected += 1
            headers = Headers()
            if retry_after is not None:
                headers["Retry-After"] = str(retry_after)
            body = json.dumps({"code": status, "msg": "Rate limited"}).encode()
            return Response(status, "Rejected", headers, body)
        return None

    async def _handler(self, ws: ServerConnection) -> None:
        self.connect_count += 1
        self.connections.append(ws)
        self.subscriptions[ws] = []
        try:
            async for raw in ws:
                if not self.is_silent(ws):
                    await self._answer(ws, raw)
        except ConnectionClosed:
            pass

    async def _answer(self, ws: ServerConnection, raw: str | bytes) -> None:
        msg = orjson.loads(raw)
        method = msg.get("method")
        if method == "PING":
            await ws.send('{"data":"PONG"}')
        elif method == "SUBSCRIBE":
            self.subscriptions[ws].extend(msg["params"])
            await ws.send(orjson.dumps({"result": None, "id": msg.get("id")}).decode())
        elif method == "UNSUBSCRIBE":
            for ch in msg["params"]:
                if ch in self.subscriptions[ws]:
                    self.subscriptions[ws].remove(ch)
            await ws.send(orjson.dumps({"result": None, "id": msg.get("id")}).decode())

    def payload(self, channel: str, seq: int) -> Any:
        """The ``data`` of the next frame on ``channel`` (``None``: send nothing)."""
        return {"seq": seq}

    async def _publish(self) -> None:
        while True:
            await asyncio.sleep(self.tick)
            seq = next(self._seq)
            for ws in self.open_connections():
                if self.is_silent(ws):
                    continue
                for ch in dict.fromkeys(self.subscriptions.get(ws, ())):
                    data = self.payload(ch, seq)
                    if data is None:
                        continue
                    try:
                        await ws.send(orjson.dumps({"channel": ch, "data": data}).decode())
                    except Exception:
                        break


class ConnectProxy:
    """A minimal HTTP proxy on 127.0.0.1:0: ``CONNECT`` tunnels (what a WebSocket client
    uses; counted in ``tunnels``) and plain absolute-form requests (what an HTTP client
    sends for ``http://`` targets; counted in ``forwarded``)."""

    def __init__(self) -> None:
        self.tunnels = 0
        self.forwarded = 0
        self.targets: list[str] = []
        self.port = 0
        self._server: asyncio.AbstractServer | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> ConnectProxy:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: Any) -> None:
        assert self._server is not None
        self._server.close()
        for w in list(self._writers):
            w.close()
        for t in list(self._pipes):
            t.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        await self._server.wait_closed()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return
        method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
        elif target.startswith("http://"):
            hostport = target[7:].split("/", 1)[0]
            host, _, port = hostport.partition(":")
            port = port or "80"
        else:
            writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        self._writers.add(up_writer)
        if method == "CONNECT":
            self.tunnels += 1
            self.targets.append(target)
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
        else:
            # HTTP/1.1 servers accept absolute-form; keep-alive requests follow on the pipe
            self.forwarded += 1
            up_writer.write(head)
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(src, dst))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    @staticmethod
    async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            dst.close()


def leftover_tasks(baseline: Iterable[asyncio.Task[Any]] = ()) -> set[asyncio.Task[Any]]:
    """Tasks still alive besides the current one and ``baseline``."""
    skip = set(baseline) | {asyncio.current_task()}
    return {t for t in asyncio.all_tasks() if t not in skip and not t.done()}


async def eventually(predicate: Any, timeout: float = 3.0, interval: float = 0.01) -> bool:
    """Poll ``predicate()`` until true or ``timeout``; returns its last value."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        value = predicate()
        if value or loop.time() >= end:
            return bool(value)
        await asyncio.sleep(interval)


# ----------------------------------------------------------------------------- Vest-like
class VestLikeServer(ControlledServer):
    """``ControlledServer`` speaking Vest's channels: ``tickers`` (array rows with a mark
    price per symbol), ``{symbol}@depth`` snapshots, and ``account_private`` events pushed
    by the test to sockets opened with a valid ``listenKey`` (others are closed 4004)."""

    def __init__(self, tick: float = 0.05, symbols: tuple[str, ...] = ("BTC-PERP", "ETH-PERP")) -> None:
        super().__init__(tick)
        self.marks = {s: "100.5" for s in symbols}
        self.depth_symbols = set(symbols)  # others: subscription accepted, no frames (like stocks)
        self.valid_keys: set[str] = set()
        self.private: dict[ServerConnection, str] = {}

    async def _handler(self, ws: ServerConnection) -> None:
        path = ws.request.path if ws.request else ""
        key = path.split("listenKey=", 1)[1].split("&", 1)[0] if "listenKey=" in path else None
        if key is not None:
            if key not in self.valid_keys:
                await ws.close(4004, "LISTEN_KEY_NOT_FOUND")
                return
            self.private[ws] = key
        await super()._handler(ws)

    def payload(self, channel: str, seq: int) -> Any:
        if channel == "tickers":
            return [
                {"symbol": s, "markPrice": m, "indexPrice": m, "oneHrFundingRate": "0.0000125",
                 "cumFunding": "1.0", "imbalance": "0", "status": "TRADING"}
                for s, m in self.marks.items()
            ]
        if channel.endswith("@depth") and channel[:-6] in self.depth_symbols:
            return {"bids": [["99.0", "1.5"], ["99.5", "2"]], "asks": [["101.0", "1"], ["100.5", "3"]]}
        return None

    async def push_order_event(self, args: dict[str, Any]) -> int:
        """Send an ``ORDER`` event to every subscribed private socket; returns how many."""
        frame = orjson.dumps({"channel": "account_private", "data": {"event": "ORDER", "args": args}}).decode()
        sent = 0
        for ws in self.open_connections():
            if ws in self.private and "account_private" in self.subscriptions.get(ws, ()):
                await ws.send(frame)
                sent += 1
        return sent

    async def expire_keys(self, code: int = 4005) -> None:
        self.valid_keys.clear()
        live = [ws for ws in self.open_connections() if ws in self.private]
        await asyncio.gather(*(ws.close(code, "LISTEN_KEY_EXPIRED") for ws in live), return_exceptions=True)


class FakeVestRest:
    """In-memory stand-in for ``VestRestClient`` sharing listen keys with a
    ``VestLikeServer``; records every call; order rows and the account are test-controlled."""

    def __init__(self, server: VestLikeServer) -> None:
        self.server = server
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.orders: list[dict[str, Any]] = []
        self.account: dict[str, Any] = {
            "withdrawable": "1000", "totalAccountValue": "1000", "openOrderMargin": "0", "positions": [],
        }
        self.current_key: str | None = None
        self.deleted: list[str] = []
        self.closed = False
        self.fail_listen_key: BaseException | None = None
        self.account_delay = 0.0
        self.ticker_delay = 0.0  # seconds between reading the state and answering
        self.depth_delay = 0.0
        self._n = 0

    def count(self, name: str) -> int:
        return sum(1 for c, _ in self.calls if c == name)

    async def create_listen_key(self) -> str:
        self.calls.append(("create_listen_key", {}))
        if self.fail_listen_key is not None:
            raise self.fail_listen_key
        if self.current_key not in self.server.valid_keys:
            self._n += 1
            self.current_key = f"lk{self._n:02d}secretsecretsecret"
            self.server.valid_keys.add(self.current_key)
        return self.current_key  # type: ignore[return-value]

    async def keepalive_listen_key(self) -> str:
        from mpdex.errors import AuthenticationError

        self.calls.append(("keepalive_listen_key", {}))
        if self.current_key not in self.server.valid_keys:
            raise AuthenticationError("Vest INVALID_LISTEN_KEY: expired", code=1125, http_status=400)
        return self.current_key  # type: ignore[return-value]

    async def delete_listen_key(self) -> None:
        self.calls.append(("delete_listen_key", {}))
        if self.current_key:
            self.deleted.append(self.current_key)
            self.server.valid_keys.discard(self.current_key)

    async def get_account(self) -> Any:
        self.calls.append(("get_account", {}))
        if self.account_delay:
            await asyncio.sleep(self.account_delay)
        return json.loads(json.dumps(self.account))

    async def get_orders(self, **filters: Any) -> Any:
        self.calls.append(("get_orders", filters))
        rows = self.orders
        for field in ("status", "nonce", "id", "symbol"):
            if filters.get(field) is not None:
                rows = [r for r in rows if str(r.get(field)) == str(filters[field])]
        return json.loads(json.dumps(rows))

    async def get_ticker_latest(self, symbols: Any = None) -> Any:
        self.calls.append(("get_ticker_latest", {"symbols": symbols}))
        answer = {"tickers": [{"symbol": s, "markPrice": m, "indexPrice": m, "oneHrFundingRate": "0.0000125"}
                              for s, m in self.server.marks.items() if not symbols or s in symbols]}
        if self.ticker_delay:
            await asyncio.sleep(self.ticker_delay)
        return answer

    async def get_depth(self, symbol: str, *, limit: int | None = None) -> Any:
        self.calls.append(("get_depth", {"symbol": symbol}))
        if self.depth_delay:
            await asyncio.sleep(self.depth_delay)
        return {"bids": [["98.0", "1"]], "asks": [["102.0", "1"]]}

    async def close(self) -> None:
        self.closed = True


def vest_order(nonce: int, status: str = "NEW", *, oid: str | None = None, symbol: str = "BTC-PERP",
               size: str = "0.5", filled: bool = False) -> dict[str, Any]:
    """A ``GET /orders`` / full ``ORDER`` event row."""
    row: dict[str, Any] = {
        "id": oid or f"0x{nonce:064x}", "nonce": nonce, "symbol": symbol, "isBuy": True, "orderType": "LIMIT",
        "limitPrice": "100.00", "size": size, "reduceOnly": False, "initMarginRatio": "0.1",
        "status": status, "postTime": 1_767_225_600_000 + nonce % 1000, "code": None,
    }
    if filled:
        row.update({"lastFilledSize": size, "lastFilledPrice": "100.00", "lastFilledTime": 1_767_225_601_000,
                    "avgFilledPrice": "100.00", "fees": "0.01"})
    return row
