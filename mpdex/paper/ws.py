"""The paper server's WebSocket endpoint ``/ws-api``: handshake checks, SUBSCRIBE /
UNSUBSCRIBE / PING, channel fan-out and the documented close codes.

Connection rules (vest-api.md §5):

* ``version`` must be ``1.0``, else close 4000 WRONG_VERSION;
* ``xwebsocketserver`` must be ``restserver{g}`` for an existing group g: missing or an
  unknown group → 4001 ACCOUNT_GROUP_NOT_FOUND, malformed (or not the listen key's
  account group) → 4002 ACCOUNT_GROUP_INVALID;
* ``listenKey`` (optional at connect): unknown → 4004, expired → 4005; SUBSCRIBE to
  ``account_private`` without one → 4003. A socket whose key expires (or is deleted)
  while open is closed with 4005 (4004).

Unknown channels are acknowledged like known ones and never carry data (the v2 server
does the same for refused depth streams). Each socket has its own send queue so a slow
reader never blocks the venue; a reader more than 10 000 frames behind is closed with 1011.
"""
from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from .faults import Faults

__all__ = ["Hub", "Conn"]

log = logging.getLogger("mpdex.paper.ws")

_GROUP = re.compile(r"^restserver([0-9]+)$")
_QUEUE_LIMIT = 10_000


@dataclass(eq=False)
class Conn:
    ws: web.WebSocketResponse
    group: int
    listen_key: str | None = None
    account_id: int | None = None
    channels: list[str] = field(default_factory=list)
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(_QUEUE_LIMIT))
    writer: asyncio.Task[None] | None = None


class Hub:
    """Open sockets and their subscriptions; implements the venue's ``Publisher``."""

    def __init__(
        self,
        faults: Faults,
        stats: dict[str, int],
        groups: int,
        listen_key_state: Callable[[str], tuple[str, int | None, int | None]],
        snapshot: Callable[[str], Any | None],
    ) -> None:
        self.faults = faults
        self.stats = stats
        self.groups = groups
        self._listen_key_state = listen_key_state
        self._snapshot = snapshot
        self.conns: list[Conn] = []
        self._closers: set[asyncio.Task[Any]] = set()

    # --- Publisher --------------------------------------------------------------

    def wants(self, channel: str) -> bool:
        return any(channel in c.channels for c in self.conns)

    def publish(self, channel: str, data: Any) -> None:
        frame = orjson.dumps({"channel": channel, "data": data}).decode()
        for c in self.conns:
            if channel in c.channels:
                self._send(c, frame)

    def publish_account(self, account_id: int, data: Any) -> None:
        frame = None
        for c in self.conns:
            if c.account_id == account_id and "account_private" in c.channels:
                frame = frame or orjson.dumps({"channel": "account_private", "data": data}).decode()
                self._send(c, frame)

    def close_private(self, code: int, listen_key: str | None = None) -> int:
        victims = [c for c in self.conns if c.listen_key and (listen_key is None or c.listen_key == listen_key)]
        for c in victims:
            self.close(c, code)
        return len(victims)

    # --- control ----------------------------------------------------------------

    def subscriptions(self) -> list[list[str]]:
        return [list(c.channels) for c in self.conns]

    def close(self, conn: Conn, code: int, reason: str = "") -> None:
        if conn in self.conns:
            self.conns.remove(conn)
            self.stats["ws_open"] = len(self.conns)
        task = asyncio.ensure_future(conn.ws.close(code=code, message=reason.encode()))
        self._closers.add(task)
        task.add_done_callback(self._closers.discard)

    def drop_all(self, code: int) -> int:
        conns = list(self.conns)
        for c in conns:
            self.close(c, code, "dropped")
        return len(conns)

    def check_listen_keys(self) -> None:
        """Close private sockets whose key expired or vanished since they connected."""
        for c in list(self.conns):
            if c.listen_key:
                state = self._listen_key_state(c.listen_key)[0]
                if state != "ok":
                    self.close(c, 4005 if state == "expired" else 4004, f"listen key {state}")

    async def shutdown(self, code: int = 1001) -> None:
        self.drop_all(code)
        if self._closers:
            await asyncio.wait(list(self._closers), timeout=2)

    def _send(self, conn: Conn, frame: str) -> None:
        if self.faults.ws_silenced():
            return
        try:
            conn.queue.put_nowait(frame)
        except asyncio.QueueFull:
            log.warning("paper ws: reader too slow, closing with 1011")
            self.close(conn, 1011, "reader too slow")

    async def _writer(self, conn: Conn) -> None:
        while True:
            frame = await conn.queue.get()
            if self.faults.ws_silenced() or conn.ws.closed:
                continue
            try:
                await conn.ws.send_str(frame)
                self.stats["ws_frames_sent"] = self.stats.get("ws_frames_sent", 0) + 1
            except (ConnectionError, RuntimeError):
                return

    # --- the endpoint -----------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        rejected = self.faults.take_ws_reject()
        if rejected is not None:
            status, retry_after = rejected
            self.stats["ws_rejected"] = self.stats.get("ws_rejected", 0) + 1
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            return web.json_response({"code": status, "msg": "Rate limited" if status == 429 else "Unavailable"},
                                     status=status, headers=headers)
        ws = web.WebSocketResponse(autoping=False, max_msg_size=1 << 20)
        await ws.prepare(request)
        self.stats["ws_connects"] = self.stats.get("ws_connects", 0) + 1
        refusal = self._handshake_refusal(request.query)
        if isinstance(refusal, tuple):
            code, reason = refusal
            log.info("paper ws: closing new socket with %d (%s)", code, reason)
            await ws.close(code=code, message=reason.encode())
            return ws
        conn = refusal
        conn.ws = ws
        conn.writer = asyncio.ensure_future(self._writer(conn))
        self.conns.append(conn)
        self.stats["ws_open"] = len(self.conns)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self._on_text(conn, msg.data)
                elif msg.type == WSMsgType.BINARY:
                    await self._on_text(conn, msg.data.decode("utf-8", "replace"))
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

    def _handshake_refusal(self, query: Any) -> Conn | tuple[int, str]:
        if query.get("version") != "1.0":
            return 4000, "WRONG_VERSION"
        server = query.get("xwebsocketserver")
        if server is None:
            return 4001, "ACCOUNT_GROUP_NOT_FOUND"
        match = _GROUP.match(server)
        if not match:
            return 4002, "ACCOUNT_GROUP_INVALID"
        group = int(match.group(1))
        if group >= self.groups:
            return 4001, "ACCOUNT_GROUP_NOT_FOUND"
        conn = Conn(ws=None, group=group)  # type: ignore[arg-type]
        key = query.get("listenKey")
        if key is not None:
            state, account_id, account_group = self._listen_key_state(key)
            if state == "unknown":
                return 4004, "LISTEN_KEY_NOT_FOUND"
            if state == "expired":
                return 4005, "LISTEN_KEY_EXPIRED"
            if account_group != group:
                return 4002, "ACCOUNT_GROUP_INVALID"
            conn.listen_key, conn.account_id = key, account_id
        return conn

    async def _on_text(self, conn: Conn, text: str) -> None:
        try:
            msg = orjson.loads(text)
        except orjson.JSONDecodeError:
            log.debug("paper ws: ignoring a frame that is not JSON")
            return
        if not isinstance(msg, dict):
            return
        method = str(msg.get("method", "")).upper()
        req_id = msg.get("id")
        params = msg.get("params") or []
        if method == "PING":
            self._send(conn, '{"data":"PONG"}')
            return
        if method not in ("SUBSCRIBE", "UNSUBSCRIBE") or not isinstance(params, list):
            log.debug("paper ws: ignoring method %r", method)
            return
        channels = [p for p in params if isinstance(p, str)]
        if method == "SUBSCRIBE":
            if "account_private" in channels:
                if conn.listen_key is None:
                    self.close(conn, 4003, "LISTEN_KEY_REQUIRED")
                    return
                state = self._listen_key_state(conn.listen_key)[0]
                if state != "ok":
                    self.close(conn, 4005 if state == "expired" else 4004, f"listen key {state}")
                    return
            conn.channels.extend(channels)
        else:
            conn.channels[:] = [c for c in conn.channels if c not in channels]
        self._send(conn, orjson.dumps({"result": None, "id": req_id}).decode())
        if method == "SUBSCRIBE":
            for ch in channels:
                data = self._snapshot(ch)
                if data is not None:
                    self._send(conn, orjson.dumps({"channel": ch, "data": data}).decode())
