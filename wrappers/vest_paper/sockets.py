"""Vest's WebSocket protocol on the paper server (``/ws-api``): handshake checks,
SUBSCRIBE / UNSUBSCRIBE / PING, the public channels and ``account_private``, and what the
simulator's changes publish.

Connection rules (vest-api.md §5):

* ``version`` must be ``1.0``, else close 4000 WRONG_VERSION;
* ``xwebsocketserver`` is optional: public streams work without it (clients that evidently
  ran never sent it, vest-api.md §5.1). When present it must be ``restserver{g}`` for an
  existing group g: an unknown group → 4001 ACCOUNT_GROUP_NOT_FOUND, malformed (or not the
  listen key's account group) → 4002 ACCOUNT_GROUP_INVALID;
* ``listenKey`` (optional at connect): unknown → 4004, expired → 4005; SUBSCRIBE to
  ``account_private`` without one → 4003 (the listen key is what binds a socket to an
  account, with or without ``xwebsocketserver``). A socket whose key expires (or is
  deleted) while open is closed with 4005 (4004).

Channels: ``tickers`` (all markets), ``{symbol}@depth`` (20 levels, a snapshot right after
the ack and on every move), ``{symbol}@trades``, ``{symbol}@kline_1m``, ``account_private``
(ORDER events: NEW first, then PARTIALLY_FILLED/FILLED per execution with ``lastFilled*`` =
that execution and ``avgFilledPrice`` over the order, CANCELLED, REJECTED — the documented
field sets). Unknown channels are acknowledged like known ones and never carry data (the v2
server does the same for refused depth streams).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from aiohttp import web

from mpdex.paper.faults import Faults
from mpdex.paper.ledger import Order
from mpdex.paper.prices import Trade
from mpdex.paper.simulator import Listener, Simulator
from mpdex.paper.sockets import Conn, SocketHub

from . import wire
from .auth import group_of_header
from .store import ACCOUNT_GROUPS

__all__ = ["VestHub", "VestListener"]

log = logging.getLogger("mpdex.paper.ws")

PRIVATE = "account_private"
DEPTH_LEVELS = 20

ListenKeyState = Callable[[str], tuple[str, "int | None", "int | None"]]


def _frame(channel: str, data: Any) -> str:
    return orjson.dumps({"channel": channel, "data": data}).decode()


class VestHub(SocketHub):
    def __init__(self, faults: Faults, stats: dict[str, int], listen_key_state: ListenKeyState,
                 snapshot: Callable[[str], Any | None]) -> None:
        super().__init__(faults, stats)
        self._listen_key_state = listen_key_state
        self._snapshot = snapshot

    def handshake(self, request: web.Request) -> Conn | tuple[int, str]:
        query = request.query
        if query.get("version") != "1.0":
            return 4000, "WRONG_VERSION"
        server = query.get("xwebsocketserver")
        group: int | None = None
        if server is not None:
            group = group_of_header(server)
            if group is None:
                return 4002, "ACCOUNT_GROUP_INVALID"
            if group >= ACCOUNT_GROUPS:
                return 4001, "ACCOUNT_GROUP_NOT_FOUND"
        conn = Conn(data={"group": group})
        key = query.get("listenKey")
        if key is not None:
            state, account_id, account_group = self._listen_key_state(key)
            if state == "unknown":
                return 4004, "LISTEN_KEY_NOT_FOUND"
            if state == "expired":
                return 4005, "LISTEN_KEY_EXPIRED"
            if group is not None and account_group != group:
                return 4002, "ACCOUNT_GROUP_INVALID"
            conn.data["listen_key"], conn.account_id = key, account_id
        return conn

    async def on_text(self, conn: Conn, text: str) -> None:
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
            self.send(conn, '{"data":"PONG"}')
            return
        if method not in ("SUBSCRIBE", "UNSUBSCRIBE") or not isinstance(params, list):
            log.debug("paper ws: ignoring method %r", method)
            return
        channels = [p for p in params if isinstance(p, str)]
        if method == "SUBSCRIBE":
            if PRIVATE in channels:
                listen_key = conn.data.get("listen_key")
                if listen_key is None:
                    self.close(conn, 4003, "LISTEN_KEY_REQUIRED")
                    return
                state = self._listen_key_state(listen_key)[0]
                if state != "ok":
                    self.close(conn, 4005 if state == "expired" else 4004, f"listen key {state}")
                    return
            self.subscribe(conn, channels)
        else:
            self.unsubscribe(conn, channels)
        self.send_json(conn, {"result": None, "id": req_id})
        if method == "SUBSCRIBE":
            for ch in channels:
                data = self._snapshot(ch)
                if data is not None:
                    self.send(conn, _frame(ch, data))

    def close_listen_key(self, code: int, listen_key: str | None = None) -> int:
        """Close the sockets opened with ``listen_key`` (any listen key when ``None``)."""
        return self.close_where(
            lambda c: "listen_key" in c.data and (listen_key is None or c.data["listen_key"] == listen_key), code
        )

    def check_listen_keys(self) -> None:
        """Close private sockets whose key expired or vanished since they connected."""
        for c in list(self.conns):
            key = c.data.get("listen_key")
            if key:
                state = self._listen_key_state(key)[0]
                if state != "ok":
                    self.close(c, 4005 if state == "expired" else 4004, f"listen key {state}")


class VestListener(Listener):
    """Publishes the simulator's committed changes on the Vest channels."""

    def __init__(self, sim: Callable[[], Simulator], hub: VestHub) -> None:
        self._sim = sim
        self.hub = hub

    def snapshot(self, channel: str) -> Any | None:
        """The data a new subscriber gets at once (tickers and depth), else ``None``."""
        sim = self._sim()
        if channel == "tickers":
            return wire.tickers_ws(sim)
        symbol, _, kind = channel.partition("@")
        if symbol in sim.markets and kind == "depth":
            return wire.depth_json(sim, symbol, DEPTH_LEVELS)
        return None

    def order_updated(self, order: Order) -> None:
        m = self._sim().markets[order.symbol]
        self.hub.publish_account(order.account_id, PRIVATE, lambda: _frame(PRIVATE, wire.order_event(order, m)))

    def traded(self, symbol: str, trade: Trade) -> None:
        channel = f"{symbol}@trades"
        if self.hub.wants(channel):
            self.hub.publish(channel, _frame(channel, wire.trade_json(trade, self._sim().markets[symbol], ws=True)))

    def market_moved(self, symbols: Sequence[str]) -> None:
        sim = self._sim()
        now = sim.clock_ms()
        if self.hub.wants("tickers"):
            self.hub.publish("tickers", _frame("tickers", wire.tickers_ws(sim)))
        for s in symbols:
            for channel in (f"{s}@depth", f"{s}@kline_1m"):
                if not self.hub.wants(channel):
                    continue
                if channel.endswith("@depth"):
                    data: Any = wire.depth_json(sim, s, DEPTH_LEVELS)
                else:
                    data = wire.kline_json(sim.prices.current_bar(s, now), sim.markets[s], 60_000, ws=True)
                self.hub.publish(channel, _frame(channel, data))
