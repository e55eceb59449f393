"""The socket half of a paper server, venue-neutral: open connections, their subscriptions,
one send queue per socket, fan-out, closing (one, all, or those carrying an account's private
stream) and the socket faults (refused handshakes, silence, drops).

A dialect subclasses ``SocketHub`` and implements its protocol in hooks:
``handshake(request)`` (accept with a ``Conn`` or refuse with ``(close code, reason)``),
``on_open(conn)`` (e.g. a greeting frame), ``on_text(conn, text)`` (subscribe, unsubscribe,
ping …; it calls ``subscribe`` / ``unsubscribe`` / ``send``) and ``reject_response`` (the
body of a handshake refused by a fault). Subscriptions are opaque string keys the dialect chooses (Vest:
the channel name; a venue with object subscriptions: a canonical string of the object);
``publish(key, frame)`` sends a pre-encoded frame to every socket subscribed to ``key``, and
``publish_account`` to the sockets bound to an account (``Conn.account_id``).

A reader more than 10 000 frames behind is closed with 1011, so a slow client never blocks
the simulator. Protocol-level pings are answered unless the sockets are silenced.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from .faults import Faults

__all__ = ["SocketHub", "Conn", "QUEUE_LIMIT"]

log = logging.getLogger("mpdex.paper.ws")

QUEUE_LIMIT = 10_000


@dataclass(eq=False)
class Conn:
    """One open socket. ``account_id`` binds it to an account's private stream;
    ``data`` holds whatever else the dialect tracks per socket."""

    ws: web.WebSocketResponse | None = None
    account_id: int | None = None
    channels: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    writer: asyncio.Task[None] | None = None


class SocketHub:
    """Open sockets and their subscriptions (subclass it; see the module docstring)."""

    def __init__(self, faults: Faults, stats: dict[str, int]) -> None:
        self.faults = faults
        self.stats = stats
        self.conns: list[Conn] = []
        self._closers: set[asyncio.Task[Any]] = set()

    # --- dialect hooks --------------------------------------------------------------

    def handshake(self, request: web.Request) -> Conn | tuple[int, str]:
        """Accept a new socket (``Conn``) or refuse it with ``(close code, reason)``."""
        return Conn()

    def on_open(self, conn: Conn) -> None:
        """The socket is accepted and registered (frames sent from here are delivered)."""

    async def on_text(self, conn: Conn, text: str) -> None:
        """One text (or UTF-8 binary) frame from the client."""

    def reject_response(self, status: int, retry_after: float | None) -> web.StreamResponse:
        """The HTTP answer to a handshake refused by ``Faults.reject_ws_connects``."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return web.json_response({"code": status, "msg": "Rate limited" if status == 429 else "Unavailable"},
                                 status=status, headers=headers)

    # --- subscriptions and publishing ---------------------------------------------------

    def subscribe(self, conn: Conn, keys: list[str]) -> None:
        conn.channels.extend(keys)

    def unsubscribe(self, conn: Conn, keys: list[str]) -> None:
        conn.channels[:] = [c for c in conn.channels if c not in keys]

    def wants(self, key: str) -> bool:
        return any(key in c.channels for c in self.conns)

    def publish(self, key: str, frame: str) -> None:
        for c in self.conns:
            if key in c.channels:
                self.send(c, frame)

    def publish_account(self, account_id: int, key: str, make_frame: Callable[[], str]) -> None:
        """``make_frame()`` (built once, only if someone listens) to the sockets bound to
        ``account_id`` that subscribed to ``key``."""
        frame: str | None = None
        for c in self.conns:
            if c.account_id == account_id and key in c.channels:
                frame = frame if frame is not None else make_frame()
                self.send(c, frame)

    def send(self, conn: Conn, frame: str) -> None:
        if self.faults.ws_silenced():
            return
        try:
            conn.queue.put_nowait(frame)
        except asyncio.QueueFull:
            log.warning("paper ws: reader too slow, closing with 1011")
            self.close(conn, 1011, "reader too slow")

    def send_json(self, conn: Conn, data: Any) -> None:
        self.send(conn, orjson.dumps(data).decode())

    def subscriptions(self) -> list[list[str]]:
        """Keys per open socket, in subscribe order, duplicates included."""
        return [list(c.channels) for c in self.conns]

    # --- closing --------------------------------------------------------------------

    def close(self, conn: Conn, code: int, reason: str = "") -> None:
        if conn in self.conns:
            self.conns.remove(conn)
            self.stats["ws_open"] = len(self.conns)
        if conn.ws is None:
            return
        task = asyncio.ensure_future(conn.ws.close(code=code, message=reason.encode()))
        self._closers.add(task)
        task.add_done_callback(self._closers.discard)

    def close_where(self, pred: Callable[[Conn], bool], code: int, reason: str = "") -> int:
        victims = [c for c in self.conns if pred(c)]
        for c in victims:
            self.close(c, code, reason)
        return len(victims)

    def drop_all(self, code: int) -> int:
        return self.close_where(lambda c: True, code, "dropped")

    def close_private(self, code: int) -> int:
        """Close every socket bound to an account."""
        return self.close_where(lambda c: c.account_id is not None, code)

    async def shutdown(self, code: int = 1001) -> None:
        self.drop_all(code)
        if self._closers:
            await asyncio.wait(list(self._closers), timeout=2)

    # --- the endpoint ---------------------------------------------------------------

    async def _writer(self, conn: Conn) -> None:
        assert conn.ws is not None
        while True:
            frame = await conn.queue.get()
            if self.faults.ws_silenced() or conn.ws.closed:
                continue
            try:
                await conn.ws.send_str(frame)
                self.stats["ws_frames_sent"] = self.stats.get("ws_frames_sent", 0) + 1
            except (ConnectionError, RuntimeError):
                return

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """The aiohttp handler a dialect routes its socket path to."""
        rejected = self.faults.take_ws_reject()
        if rejected is not None:
            self.stats["ws_rejected"] = self.stats.get("ws_rejected", 0) + 1
            return self.reject_response(*rejected)
        ws = web.WebSocketResponse(autoping=False, max_msg_size=1 << 20)
        await ws.prepare(request)
        self.stats["ws_connects"] = self.stats.get("ws_connects", 0) + 1
        accepted = self.handshake(request)
        if isinstance(accepted, tuple):
            code, reason = accepted
            log.info("paper ws: closing new socket with %d (%s)", code, reason)
            await ws.close(code=code, message=reason.encode())
            return ws
        conn = accepted
        conn.ws = ws
        conn.writer = asyncio.ensure_future(self._writer(conn))
        self.conns.append(conn)
        self.stats["ws_open"] = len(self.conns)
        try:
            self.on_open(conn)
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self.on_text(conn, msg.data)
                elif msg.type == WSMsgType.BINARY:
                    await self.on_text(conn, msg.data.decode("utf-8", "replace"))
                elif msg.type == WSMsgType.PING:
                    if not self.faults.ws_silenced():
                        await ws.pong(msg.data)
                if ws.closed:
                    break
        finally:
            if conn in self.conns:
                self.conns.remove(conn)
                self.stats["ws_open"] = len(self.conns)
            conn.writer.cancel()
            await asyncio.gather(conn.writer, return_exceptions=True)
        return ws
