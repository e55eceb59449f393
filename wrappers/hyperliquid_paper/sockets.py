"""Hyperliquid's WebSocket protocol on the paper server (``/ws``) and what the simulator's
changes publish on it (hyperliquid-api.md §5).

* On connect the server sends the text frame ``Websocket connection established.``.
* ``{"method":"ping"}`` → ``{"channel":"pong"}``; ``subscribe`` / ``unsubscribe`` are acked
  with ``{"channel":"subscriptionResponse","data":{"method", "subscription"}}`` echoing the
  subscription as sent. A subscription of an unknown type, with unknown or missing fields, an
  unknown coin or interval, or a user that is not an address gets ``{"channel":"error",
  "data":"Invalid subscription <json>"}``; subscribing twice ``Already subscribed: <json>``,
  unsubscribing what is not subscribed ``Already unsubscribed: <json>``; a frame that is not
  JSON or has an unknown ``method`` ``Invalid request: <text>``.
* ``post`` (§5.3): ``info`` and ``action`` requests answered on channel ``post`` with the
  request's ``id``, exactly as ``/info`` and ``/exchange`` answer them over HTTP; an HTTP-level
  refusal comes back as ``{"type":"error","payload":"<status> <reason>: <text>"}``. REST
  faults (and lost responses) do not apply to posts.
* A socket from which the client sent nothing (no text frame) for ``idle_timeout`` seconds
  (60 by default) is closed with 1000; the shared socket faults (drops, silence, refused
  handshakes: HTTP 429 with body ``null``) come from the core hub.

Channels and when they speak: ``l2Book`` (a full snapshot at subscribe and after every market
move: each tick, ``set_price``), ``bbo`` (when it changed), ``allMids``, ``activeAssetCtx``,
``candle`` (the current bar), ``trades`` (every print: the model's and paper fills; there is
no counterparty or transaction, so ``users`` is the zero address twice and ``hash`` zero); per user — the account (master)
address; an agent's address hears nothing, as it reads empty state — ``orderUpdates`` (every
status change; nothing at subscribe), ``userFills`` (``isSnapshot`` first, then each
execution), ``userEvents`` on channel ``user`` (fills, funding, ``nonUserCancel`` for orders
cancelled for margin or by the dead-man switch), ``userFundings`` (snapshot, then each hourly
payment), ``activeAssetData`` (snapshot, then on the account's orders, fills and leverage),
``notification`` (accepted; the paper exchange has nothing to notify).
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import orjson
from aiohttp import web

from mpdex.paper.faults import Faults
from mpdex.paper.harness import json_response
from mpdex.paper.ledger import Fill, FundingPayment, Order
from mpdex.paper.prices import INTERVALS_MS, Trade
from mpdex.paper.rules import Reason
from mpdex.paper.simulator import Listener, Simulator
from mpdex.paper.sockets import Conn, SocketHub

from . import wire as W
from .errors import SCHEDULED_CANCEL, HttpError
from .store import HlStore

__all__ = ["HlHub", "HlListener", "HELLO", "parse_subscription"]

log = logging.getLogger("mpdex.paper.ws")

HELLO = "Websocket connection established."
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_ZERO_ADDRESS = "0x" + "00" * 20
_REASONS = {400: "Bad Request", 422: "Unprocessable Entity", 500: "Internal Server Error"}
#: subscription type → (required fields, optional fields)
_SUBS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "allMids": ((), ("dex",)),
    "l2Book": (("coin",), ("nSigFigs", "mantissa")),
    "trades": (("coin",), ()),
    "bbo": (("coin",), ()),
    "candle": (("coin", "interval"), ()),
    "activeAssetCtx": (("coin",), ()),
    "activeAssetData": (("user", "coin"), ()),
    "orderUpdates": (("user",), ()),
    "userFills": (("user",), ("aggregateByTime",)),
    "userEvents": (("user",), ()),
    "userFundings": (("user",), ()),
    "notification": (("user",), ()),
}

Handler = Callable[[Any], Any]


def _frame(channel: str, data: Any) -> str:
    return orjson.dumps({"channel": channel, "data": data}).decode()


def _valid(key: str, value: Any, markets: Mapping[str, Any]) -> Any:
    """The canonical value of one subscription field, or ``None`` when it is not valid."""
    if key == "coin":
        return value if isinstance(value, str) and value in markets else None
    if key == "user":
        return value.lower() if isinstance(value, str) and _ADDRESS.fullmatch(value) else None
    if key == "interval":
        return value if value in W.HL_INTERVALS else None
    if key == "nSigFigs":
        return value if value in (2, 3, 4, 5) and not isinstance(value, bool) else None
    if key == "mantissa":
        return value if value in (2, 5) and not isinstance(value, bool) else None
    if key == "aggregateByTime":
        return value if isinstance(value, bool) else None
    return value if value == "" else None  # dex: the main dex only


def parse_subscription(sub: Any, markets: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """``(key, canonical subscription)``, or ``None`` for an invalid one. The key is the
    canonical object as sorted JSON: null, ``dex: ""`` and ``aggregateByTime: false`` drop out."""
    if not isinstance(sub, dict) or not isinstance(sub.get("type"), str) or sub["type"] not in _SUBS:
        return None
    required, optional = _SUBS[sub["type"]]
    if any(k != "type" and k not in required and k not in optional for k in sub):
        return None
    canon: dict[str, Any] = {"type": sub["type"]}
    for k in (*required, *optional):
        value = sub.get(k)
        if value is None:
            if k in required:
                return None
            continue
        good = _valid(k, value, markets)
        if good is None:
            return None
        if good not in ("", False):
            canon[k] = good
    if "mantissa" in canon and canon.get("nSigFigs") != 5:
        return None
    return orjson.dumps(canon, option=orjson.OPT_SORT_KEYS).decode(), canon


class HlHub(SocketHub):
    def __init__(self, faults: Faults, stats: dict[str, int], *, markets: Mapping[str, Any],
                 snapshot: Callable[[dict[str, Any]], list[str]], account_id: Callable[[str], int | None],
                 info: Handler, exchange: Handler, idle_timeout: float = 60.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        super().__init__(faults, stats)
        self.markets = markets
        self.subs: dict[str, dict[str, Any]] = {}
        self._snapshot = snapshot
        self._account_id = account_id
        self._info = info
        self._exchange = exchange
        self.idle_timeout = idle_timeout
        self._monotonic = monotonic

    def active(self, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(key, subscription)`` of type ``kind`` that some open socket holds."""
        seen: set[str] = set()
        for c in self.conns:
            for key in c.channels:
                if key not in seen and self.subs[key]["type"] == kind:
                    seen.add(key)
                    yield key, self.subs[key]

    # --- hooks ----------------------------------------------------------------------------

    def on_open(self, conn: Conn) -> None:
        conn.data["rx"] = self._monotonic()
        self.send(conn, HELLO)

    def reject_response(self, status: int, retry_after: float | None) -> web.StreamResponse:
        return json_response(None, status)

    def _error(self, conn: Conn, text: str) -> None:
        self.send(conn, _frame("error", text))

    async def on_text(self, conn: Conn, text: str) -> None:
        conn.data["rx"] = self._monotonic()
        try:
            msg = orjson.loads(text)
        except orjson.JSONDecodeError:
            msg = None
        method = msg.get("method") if isinstance(msg, dict) else None
        if method == "ping":
            self.send(conn, '{"channel":"pong"}')
        elif method in ("subscribe", "unsubscribe"):
            assert isinstance(msg, dict)
            self._subscription(conn, method, msg.get("subscription"))
        elif method == "post":
            assert isinstance(msg, dict)
            self._post(conn, msg)
        else:
            self._error(conn, f"Invalid request: {text}")

    def _subscription(self, conn: Conn, method: str, sub: Any) -> None:
        shown = orjson.dumps(sub).decode()
        parsed = parse_subscription(sub, self.markets)
        if parsed is None:
            self._error(conn, f"Invalid subscription {shown}")
            return
        key, canon = parsed
        if method == "subscribe":
            if key in conn.channels:
                self._error(conn, f"Already subscribed: {shown}")
                return
            self.subs[key] = canon
            self.subscribe(conn, [key])
            if "user" in canon and conn.account_id is None:
                conn.account_id = self._account_id(canon["user"])
        elif key not in conn.channels:
            self._error(conn, f"Already unsubscribed: {shown}")
            return
        else:
            self.unsubscribe(conn, [key])
        self.send(conn, _frame("subscriptionResponse", {"method": method, "subscription": sub}))
        if method == "subscribe":
            for frame in self._snapshot(canon):
                self.send(conn, frame)

    def _post(self, conn: Conn, msg: dict[str, Any]) -> None:
        req_id, request = msg.get("id"), msg.get("request")
        if (not isinstance(req_id, int) or isinstance(req_id, bool) or not isinstance(request, dict)
                or request.get("type") not in ("info", "action") or not isinstance(request.get("payload"), dict)):
            self._error(conn, f"Invalid request: {orjson.dumps(msg).decode()}")
            return
        payload = request["payload"]
        response: dict[str, Any]
        try:
            if request["type"] == "info":
                response = {"type": "info", "payload": {"type": payload.get("type"), "data": self._info(payload)}}
            else:
                response = {"type": "action", "payload": self._exchange(payload)}
        except HttpError as exc:
            text = "null" if exc.body is None else str(exc.body)
            response = {"type": "error", "payload": f"{exc.status} {_REASONS.get(exc.status, '')}: {text}"}
        self.send(conn, _frame("post", {"id": req_id, "response": response}))

    def check_idle(self) -> int:
        """Close sockets whose client has been silent for ``idle_timeout``; returns how many."""
        now = self._monotonic()
        return self.close_where(lambda c: now - c.data.get("rx", now) > self.idle_timeout, 1000, "idle timeout")


class HlListener(Listener):
    """Publishes the simulator's committed changes on the Hyperliquid channels."""

    def __init__(self, sim: Callable[[], Simulator], hub: Callable[[], HlHub], store: Callable[[], HlStore],
                 ctx: Callable[[str], dict[str, Any]]) -> None:
        self._sim = sim
        self._hub = hub
        self._store = store
        self._ctx = ctx
        self._bbo: dict[str, Any] = {}

    def _address(self, account_id: int) -> str:
        return self._sim().ledger.account(account_id).address

    def _to_user(self, kind: str, user: str, channel: str, data: Any, aggregated: Any = None) -> None:
        """``data`` to ``user``'s subscriptions of ``kind`` (``aggregated`` to those with
        ``aggregateByTime``)."""
        hub = self._hub()
        for key, sub in hub.active(kind):
            if sub["user"] == user:
                hub.publish(key, _frame(channel, aggregated if aggregated is not None and sub.get("aggregateByTime") else data))

    # --- what a new subscriber gets at once ------------------------------------------------

    def snapshot(self, sub: dict[str, Any]) -> list[str]:
        sim, kind = self._sim(), sub["type"]
        now = sim.clock_ms()
        if kind in ("l2Book", "allMids", "bbo", "activeAssetCtx", "candle"):
            return [self._market_frame(sub, now)]
        user = sub.get("user", "")
        account = sim.ledger.account_by_address(user)
        if kind == "activeAssetData":
            aid = None if account is None else account.id
            return [_frame(kind, W.active_asset_data(sim, aid, user, sim.markets[sub["coin"]]))]
        if kind == "userFills":
            rows = [] if account is None else list(reversed(sim.ledger.fills(account.id, limit=2000)))
            fills = W.fills_json(sim, rows)
            fills = W.aggregate_fills(fills) if sub.get("aggregateByTime") else fills
            return [_frame(kind, {"isSnapshot": True, "user": user, "fills": fills})]
        if kind == "userFundings":
            rows2 = [] if account is None else sim.ledger.funding_payments(account.id, limit=1_000_000)[-500:]
            return [_frame(kind, {"isSnapshot": True, "user": user, "fundings": [W.funding_delta(p) for p in rows2]})]
        return []

    def _market_frame(self, sub: dict[str, Any], now: int) -> str:
        sim, kind = self._sim(), sub["type"]
        if kind == "allMids":
            return _frame(kind, {"mids": W.mids(sim)})
        coin = sub["coin"]
        if kind == "l2Book":
            return _frame(kind, W.l2_book(sim, coin, now, sub.get("nSigFigs"), sub.get("mantissa")))
        if kind == "bbo":
            return _frame(kind, {"coin": coin, "time": now, "bbo": W.bbo_levels(sim, coin)})
        if kind == "activeAssetCtx":
            return _frame(kind, {"coin": coin, "ctx": self._ctx(coin)})
        step = INTERVALS_MS[sub["interval"]]
        sim.prices.current_bar(coin, now)
        bar = sim.prices.bars(coin, step)[-1]
        return _frame(kind, W.candle(bar, coin, sub["interval"], step))

    # --- the simulator's events ----------------------------------------------------------------

    def market_moved(self, symbols: Sequence[str]) -> None:
        hub, sim = self._hub(), self._sim()
        if not hub.conns:
            return
        now = sim.clock_ms()
        moved = set(symbols)
        for key, sub in hub.active("allMids"):
            hub.publish(key, self._market_frame(sub, now))
        for kind in ("l2Book", "activeAssetCtx", "candle"):
            for key, sub in hub.active(kind):
                if sub["coin"] in moved:
                    hub.publish(key, self._market_frame(sub, now))
        for key, sub in hub.active("bbo"):
            coin = sub["coin"]
            if coin not in moved:
                continue
            levels = W.bbo_levels(sim, coin)
            if levels != self._bbo.get(coin):
                self._bbo[coin] = levels
                hub.publish(key, _frame("bbo", {"coin": coin, "time": now, "bbo": levels}))

    def traded(self, symbol: str, trade: Trade) -> None:
        hub = self._hub()
        for key, sub in hub.active("trades"):
            if sub["coin"] == symbol:
                data = [{"coin": symbol, "side": W.side(trade.qty > 0), "px": W.num(trade.price), "sz": W.num(abs(trade.qty)),
                         "time": trade.time, "hash": "0x" + "00" * 32, "tid": trade.id,
                         "users": [_ZERO_ADDRESS, _ZERO_ADDRESS]}]
                hub.publish(key, _frame("trades", data))

    def order_updated(self, order: Order) -> None:
        if not self._hub().conns:
            return
        user = self._address(order.account_id)
        self._to_user("orderUpdates", user, "orderUpdates", [W.order_update(order)])
        if order.status == "CANCELLED" and order.reason in (Reason.INSUFFICIENT_MARGIN.value, SCHEDULED_CANCEL):
            self._to_user("userEvents", user, "user", {"nonUserCancel": [{"coin": order.symbol, "oid": int(order.id)}]})
        self.account_changed(order.account_id, order.symbol)

    def filled(self, order: Order, fills: Sequence[Fill]) -> None:
        if not self._hub().conns:
            return
        user = self._address(order.account_id)
        rows = W.fills_json(self._sim(), fills)
        self._to_user("userFills", user, "userFills", {"user": user, "fills": rows},
                      {"user": user, "fills": W.aggregate_fills(rows)})
        self._to_user("userEvents", user, "user", {"fills": rows})

    def account_changed(self, account_id: int, coin: str) -> None:
        """Push ``activeAssetData`` of ``coin`` to the account's subscribers."""
        hub = self._hub()
        if not hub.conns:
            return
        user = self._address(account_id)
        for key, sub in hub.active("activeAssetData"):
            if sub["user"] == user and sub["coin"] == coin:
                sim = self._sim()
                hub.publish(key, _frame("activeAssetData", W.active_asset_data(sim, account_id, user, sim.markets[coin])))

    def funded(self, time_ms: int, rates: Mapping[str, Decimal], payments: Sequence[FundingPayment]) -> None:
        sim, store = self._sim(), self._store()
        with sim.ledger.transaction():
            for symbol in rates:
                store.put_premium(symbol, time_ms, W.premium(sim, symbol))
        if not self._hub().conns:
            return
        for p in payments:
            user = self._address(p.account_id)
            delta = W.funding_delta(p)
            self._to_user("userFundings", user, "userFundings", {"user": user, "fundings": [delta]})
            self._to_user("userEvents", user, "user", {"funding": delta})
