"""``VestWSClient``: one self-healing Vest socket per account, and the pool that shares it.

One socket carries ``tickers`` (mark/index price, funding), ``{symbol}@depth`` (full book
snapshots) and ``account_private`` (order events; the URL holds a listen key). Every cache
entry keeps the ``time.monotonic()`` it was received; a read never serves anything older
than the caller's bound — it falls back to REST (through the client's own REST client) and
logs that it did.

Private state: orders are a REST snapshot (taken after every connect and whenever a caller
marked them dirty) kept current by ``ORDER`` events; positions and collateral are REST
``/account`` snapshots, refreshed on every fill event, never served older than the bound.
``wait_for_order`` resolves from the stream (with one REST check at its deadline).

Listen key: ``POST`` before every connect (a re-POST extends a live key and replaces an
expired one), ``PUT`` every ``keepalive_interval``; a ``1125`` answer or a ``4003``/``4004``/
``4005`` close gets a fresh key and a reconnect; ``DELETE`` on close. Keys are secrets:
only a short prefix is ever logged.

The pool (``acquire(key, loop)`` / ``release(client)``) hands the same client to every
``VestExchange`` of one account on one event loop and closes it with the last release.
"""
from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Mapping
from typing import Any, Protocol

from mpdex.errors import ConfigError, ExchangeError, MpdexError, NetworkError, RequestTimeout
from mpdex.types import OrderBook, OrderRecord

from . import vest_parsers as parsers
from .base_ws_client import BaseWSClient
from .vest_errors import INVALID_LISTEN_KEY
from .vest_keys import VestKey

__all__ = [
    "VestRestLike",
    "VestWSClient",
    "VestWSPool",
    "WS_URLS",
    "POOL",
    "acquire",
    "release",
]

log = logging.getLogger("mpdex.vest.ws")

WS_URLS = {
    "prod": "wss://ws-prod.hz.vestmarkets.com/ws-api?version=1.0",
    "dev": "wss://ws-dev.hz.vestmarkets.com/ws-api?version=1.0",
}

#: close codes that mean "this listen key is gone": fetch a fresh one, reconnect at once
LISTEN_KEY_CLOSE_CODES = frozenset({4003, 4004, 4005})
#: close codes that mean a configuration problem: keep trying, but slowly and loudly
CONFIG_CLOSE_CODES = frozenset({4000, 4001, 4002})
_FINAL = parsers.TERMINAL_STATUSES
_RANK = {"NEW": 0, "PARTIALLY_FILLED": 1}  # anything else is final (rank 2)
_RECENT_FINAL_ORDERS = 2000
_FALLBACK_LOG_EVERY = 10.0  # seconds between two fallback log lines of one kind


class VestRestLike(Protocol):
    """The REST calls the socket client needs (``wrappers.vest_rest.VestRestClient``)."""

    async def create_listen_key(self) -> str: ...
    async def keepalive_listen_key(self) -> str: ...
    async def delete_listen_key(self) -> None: ...
    async def get_account(self) -> Any: ...
    async def get_orders(self, **filters: Any) -> Any: ...
    async def get_ticker_latest(self, symbols: Any = None) -> Any: ...
    async def get_depth(self, symbol: str, *, limit: int | None = None) -> Any: ...
    async def close(self) -> None: ...


def _key_prefix(listen_key: str | None) -> str:
    return f"{listen_key[:4]}…" if listen_key else "none"


def _rank(status: Any) -> int:
    return _RANK.get(str(status or "").upper(), 2)


class VestWSClient(BaseWSClient):
    """The Vest socket of one account (or an anonymous public one with ``private=False``).

    ``rest`` is any object with the ``VestRestLike`` methods; by default the client builds
    and owns a ``VestRestClient`` for ``key``, so it never depends on the lifetime of any
    single ``VestExchange``. ``max_age`` is the default freshness bound (seconds) of every
    read; each read may pass its own.
    """

    PING_INTERVAL = 20.0
    RECV_TIMEOUT = 60.0
    #: seconds between two listen-key keepalives (the key lives 60 min)
    LISTEN_KEY_KEEPALIVE = 30 * 60.0
    #: default read bound: older cache entries are not served
    MAX_AGE = 5.0
    LOG_NAME = "vest-ws"

    def __init__(
        self,
        key: VestKey,
        rest: VestRestLike | None = None,
        *,
        private: bool = True,
        max_age: float | None = None,
        keepalive_interval: float | None = None,
        **options: Any,
    ) -> None:
        base = key.ws_url or WS_URLS.get(key.network)
        if not base:
            raise ConfigError("ws_url is required for this network")
        if not base.startswith(("ws://", "wss://")):
            raise ConfigError("ws_url must be a ws:// or wss:// URL")
        sep = "&" if "?" in base else "?"
        url = f"{base}{sep}xwebsocketserver=restserver{key.account_group}"
        options.setdefault("proxy", key.proxy)
        super().__init__(url, **options)
        self.key = key
        self.private = private
        self.max_age = float(max_age if max_age is not None else self.MAX_AGE)
        self.keepalive_interval = float(
            keepalive_interval if keepalive_interval is not None else self.LISTEN_KEY_KEEPALIVE
        )
        if self.max_age <= 0 or self.keepalive_interval <= 0:
            raise ValueError("max_age and keepalive_interval must be positive")
        if rest is None:
            from .vest_rest import VestRestClient

            rest = VestRestClient(key)
            self._owns_rest = True
        else:
            self._owns_rest = False
        self.rest: VestRestLike = rest
        self.account_tag = key.primary_address[:8]
        self.LOG_NAME = f"vest-ws[{self.account_tag}]"

        self._listen_key: str | None = None
        self._fresh_key: str | None = None  # fetched by start(), used by the first connect
        # subscriptions: wanted channels (ordered) and those sent on the current socket
        self._channels: dict[str, None] = {"tickers": None}
        if private:
            self._channels["account_private"] = None
        self._sent: set[str] = set()
        self._request_id = 0
        # market data: symbol -> (monotonic received, raw row / raw book)
        self._tickers: dict[str, tuple[float, Mapping[str, Any]]] = {}
        self._books: dict[str, tuple[float, Mapping[str, Any]]] = {}
        self._depth_holders: dict[str, set[Hashable]] = {}
        self._depth_since: dict[str, float] = {}
        self._book_waiters: dict[str, asyncio.Event] = {}
        # private state
        self._orders: dict[str, dict[str, Any]] = {}  # open orders by id (raw, merged)
        self._final: OrderedDict[str, dict[str, Any]] = OrderedDict()  # recent final orders by id
        self._id_by_nonce: dict[str, str] = {}
        self._event_seq = 0
        self._order_seq: dict[str, int] = {}
        self._orders_at = 0.0  # monotonic time of the last orders snapshot
        # versions: bumped when something we cannot see on the stream may have changed
        # the state; a snapshot taken at an older version is not served
        self._orders_version = 1
        self._orders_snapshot_version = 0
        self._synced_generation = -1
        self._account: tuple[float, Mapping[str, Any], int] | None = None
        self._account_version = 1
        self._account_refresh: asyncio.Task[Mapping[str, Any]] | None = None
        self._orders_refresh: asyncio.Task[None] | None = None
        self._fill_refresh: asyncio.Task[None] | None = None  # one refresher serves every fill
        self._waiters: dict[str, list[tuple[frozenset[str], asyncio.Future[OrderRecord]]]] = {}
        self._fallback_logged: dict[str, float] = {}
        self.stats.update({"listen_keys": 0, "reconciles": 0, "rest_fallbacks": 0, "order_events": 0})

    def __repr__(self) -> str:
        return (
            f"VestWSClient(account={self.account_tag}…, group={self.key.account_group}, "
            f"connected={self.connected}, channels={list(self._channels)})"
        )

    # ------------------------------------------------------------ life cycle
    async def start(self, wait: bool = True) -> bool:
        """Fetch the first listen key (a refused key raises here, e.g. a bad API key),
        then connect. Transport failures are retried in the background instead."""
        if self.private and self._supervisor is None:
            try:
                self._fresh_key = await self.rest.create_listen_key()
                self.stats["listen_keys"] += 1
            except ExchangeError:
                await self._close_rest()
                raise
            except MpdexError as exc:
                log.warning("%s: listen key not available yet (%s); will retry", self.LOG_NAME, exc)
            self.spawn(self._keepalive(), "listen-key-keepalive")
        return await super().start(wait)

    async def close(self) -> None:
        """Close the socket and every task, ``DELETE`` the listen key, close owned REST."""
        if self.closed:
            return
        await super().close()
        err: BaseException = NetworkError("the socket client was closed")
        for waiters in self._waiters.values():
            for _, fut in waiters:
                if not fut.done():
                    fut.set_exception(err)
        self._waiters.clear()
        if self.private and self._listen_key:
            try:
                await asyncio.wait_for(self.rest.delete_listen_key(), 5.0)
            except (MpdexError, asyncio.TimeoutError, OSError) as exc:
                log.info("%s: listen key delete failed (%s); it expires on its own", self.LOG_NAME, exc)
            self._listen_key = None
        await self._close_rest()

    async def _close_rest(self) -> None:
        if self._owns_rest:
            await self.rest.close()

    # ----------------------------------------------------------------- hooks
    async def _connect_url(self) -> str:
        if not self.private:
            return self.url
        key, self._fresh_key = self._fresh_key, None
        if key is None:
            key = await self.rest.create_listen_key()
            self.stats["listen_keys"] += 1
        if key != self._listen_key:
            log.info("%s: using listen key %s", self.LOG_NAME, _key_prefix(key))
        self._listen_key = key
        return f"{self.url}&listenKey={key}"

    def _build_ping_message(self) -> Any:
        return '{"method":"PING","params":[],"id":0}'

    async def _resubscribe(self) -> None:
        self._sent = set()
        await self._send_subscribe(list(self._channels))

    async def _on_connected(self) -> None:
        # events may have been missed while the socket was down: rebuild from REST
        for symbol in self._depth_holders:
            self._depth_since[symbol] = time.monotonic()
        if self.private:
            self.invalidate_private()
            self.spawn(self._reconcile(self.generation), "reconcile")

    def _on_disconnected(self, code: int | None, reason: str) -> None:
        self._synced_generation = -1
        if code in LISTEN_KEY_CLOSE_CODES and self.private:
            log.info("%s: listen key %s refused (close %s); fetching a new one",
                     self.LOG_NAME, _key_prefix(self._listen_key), code)

    def _retry_delay_for_close(self, code: int | None) -> float | None:
        if code in CONFIG_CLOSE_CODES:
            log.error("%s: server refused the connection (close %s): check ws_url / account_group",
                      self.LOG_NAME, code)
            return self.reconnect_max
        return None

    def _handle_message(self, msg: Any) -> None:
        channel = msg.get("channel") if type(msg) is dict else None
        if channel is None:
            return  # acks ({"result":…,"id":…}), PONG ({"data":"PONG"}), unknown frames
        data = msg.get("data")
        if channel.endswith("@depth"):
            symbol = channel[:-6]
            if symbol not in self._depth_holders:
                return  # a frame still in flight after the last holder let go
            self._books[symbol] = (self._last_recv, data)
            if self._book_waiters:
                waiter = self._book_waiters.get(symbol)
                if waiter is not None:
                    waiter.set()
        elif channel == "tickers":
            now = self._last_recv
            rows = data if type(data) is list else (data,)
            tickers = self._tickers
            for row in rows:
                if type(row) is dict:
                    symbol = row.get("symbol")
                    if symbol:
                        tickers[symbol] = (now, row)
        elif channel == "account_private":
            if type(data) is dict and data.get("event") == "ORDER" and type(data.get("args")) is dict:
                self._on_order_event(data["args"])

    # ---------------------------------------------------------- subscriptions
    async def _send_subscribe(self, channels: list[str]) -> None:
        todo = [c for c in channels if c not in self._sent]
        if not todo or not self.connected:
            return
        self._sent.update(todo)  # before the await: a concurrent call cannot send them again
        self._request_id += 1
        if not await self.send({"method": "SUBSCRIBE", "params": todo, "id": self._request_id}):
            self._sent.difference_update(todo)

    async def subscribe_orderbook(self, symbol: str, holder: Hashable) -> None:
        """Hold ``{symbol}@depth`` on behalf of ``holder`` (subscribed on the first hold)."""
        holders = self._depth_holders.setdefault(symbol, set())
        holders.add(holder)
        channel = f"{symbol}@depth"
        if channel not in self._channels:
            self._channels[channel] = None
            self._depth_since[symbol] = time.monotonic()
            await self._send_subscribe([channel])

    async def unsubscribe_orderbook(self, symbol: str, holder: Hashable) -> None:
        """Drop ``holder``'s hold; the last one unsubscribes and forgets the book."""
        holders = self._depth_holders.get(symbol)
        if not holders or holder not in holders:
            return
        holders.discard(holder)
        if holders:
            return
        del self._depth_holders[symbol]
        self._depth_since.pop(symbol, None)
        self._books.pop(symbol, None)
        channel = f"{symbol}@depth"
        self._channels.pop(channel, None)
        if channel in self._sent:
            self._sent.discard(channel)
            self._request_id += 1
            await self.send({"method": "UNSUBSCRIBE", "params": [channel], "id": self._request_id})

    async def release_holder(self, holder: Hashable) -> None:
        """Drop every hold of ``holder`` (an exchange that closes)."""
        for symbol in [s for s, h in self._depth_holders.items() if holder in h]:
            await self.unsubscribe_orderbook(symbol, holder)

    @property
    def channels(self) -> list[str]:
        """The channels this client keeps subscribed (replayed after every reconnect)."""
        return list(self._channels)

    # ------------------------------------------------------------ market data
    def mark_price(self, symbol: str, max_age: float | None = None) -> float | None:
        """The cached mark price, or ``None`` when absent or older than the bound."""
        entry = self._tickers.get(symbol)
        if entry is None or time.monotonic() - entry[0] > (self.max_age if max_age is None else max_age):
            return None
        try:
            return float(entry[1]["markPrice"])
        except (KeyError, TypeError, ValueError):
            return None

    def ticker(self, symbol: str, max_age: float | None = None) -> Mapping[str, Any] | None:
        """The cached raw ticker row (mark, index, funding…), ``None`` when stale."""
        entry = self._tickers.get(symbol)
        if entry is None or time.monotonic() - entry[0] > (self.max_age if max_age is None else max_age):
            return None
        return entry[1]

    def orderbook(self, symbol: str, max_age: float | None = None) -> OrderBook | None:
        """The cached book (best first), or ``None`` when absent or older than the bound."""
        entry = self._books.get(symbol)
        if entry is None:
            return None
        age = time.monotonic() - entry[0]
        if age > (self.max_age if max_age is None else max_age):
            return None
        return parsers.parse_orderbook(entry[1], int((time.time() - age) * 1000))

    async def get_ticker(self, symbol: str, max_age: float | None = None) -> Mapping[str, Any]:
        """The ticker row from the socket when fresh, else from REST (cached with its time)."""
        row = self.ticker(symbol, max_age)
        if row is not None:
            return row
        self._log_fallback("ticker", symbol)
        payload = await self.rest.get_ticker_latest(symbols=[symbol])
        row = parsers.find_ticker(payload, symbol)
        self._tickers[symbol] = (time.monotonic(), row)
        return row

    async def get_mark_price(self, symbol: str, max_age: float | None = None) -> float:
        price = self.mark_price(symbol, max_age)
        if price is not None:
            return price
        row = await self.get_ticker(symbol, max_age)
        return float(parsers.dec(row.get("markPrice"), "markPrice"))

    async def get_orderbook(
        self, symbol: str, holder: Hashable, *, timeout: float = 5.0, max_age: float | None = None
    ) -> OrderBook:
        """Hold the depth stream for ``holder`` and return a fresh book: from the socket,
        waiting for the first snapshot up to ``timeout`` after subscribing, else REST."""
        await self.subscribe_orderbook(symbol, holder)
        book = self.orderbook(symbol, max_age)
        if book is not None:
            return book
        deadline = self._depth_since.get(symbol, 0.0) + timeout
        remaining = deadline - time.monotonic()
        if remaining > 0 and self._supervisor is not None:
            waiter = self._book_waiters.setdefault(symbol, asyncio.Event())
            try:
                await asyncio.wait_for(waiter.wait(), remaining)
            except asyncio.TimeoutError:
                pass
            finally:
                if self._book_waiters.get(symbol) is waiter:
                    del self._book_waiters[symbol]
            book = self.orderbook(symbol, max_age)
            if book is not None:
                return book
        self._log_fallback("orderbook", symbol)
        raw = await self.rest.get_depth(symbol)
        return parsers.parse_orderbook(raw, int(time.time() * 1000))

    # ---------------------------------------------------------- private state
    @property
    def private_live(self) -> bool:
        """The stream is connected, reconciled for this socket and heard from recently."""
        return (
            self._synced_generation == self.generation
            and self.connected
            and time.monotonic() - self._last_recv <= self.recv_timeout
        )

    def invalidate_private(self, *, orders: bool = True, account: bool = True) -> None:
        """Our own request changed orders/positions: the next read re-reads REST (this
        closes the window before the stream reports the change)."""
        if orders:
            self._orders_version += 1
        if account:
            self._account_version += 1

    def _orders_fresh(self, max_age: float) -> bool:
        if self._orders_snapshot_version != self._orders_version:
            return False
        now = time.monotonic()
        # the streamed state is only as recent as the last frame: silence counts as age
        return (self.private_live and now - self._last_recv <= max_age) or now - self._orders_at <= max_age

    def _account_fresh(self, max_age: float) -> bool:
        snap = self._account
        return snap is not None and snap[2] == self._account_version and time.monotonic() - snap[0] <= max_age

    async def get_open_orders(self, symbol: str | None = None, max_age: float | None = None) -> list[OrderRecord]:
        """Open orders (parsed, ``vest_parsers.parse_order`` shape), live or from REST."""
        bound = self.max_age if max_age is None else max_age
        if not self._orders_fresh(bound):
            self._log_fallback("open_orders", symbol or "*")
            # a refresh already in flight may predate the change that made us stale
            for _ in range(3):
                await asyncio.shield(self._refresh_orders())
                if self._orders_snapshot_version == self._orders_version:
                    break
        orders = [parsers.parse_order(o) for o in self._orders.values() if symbol is None or o.get("symbol") == symbol]
        orders.sort(key=lambda o: (o["created_at"] or 0, o["id"]))  # oldest first, as the REST path
        return orders

    async def get_account(self, max_age: float | None = None) -> Mapping[str, Any]:
        """The raw ``/account`` snapshot, never older than the bound (REST otherwise)."""
        bound = self.max_age if max_age is None else max_age
        if not self._account_fresh(bound):
            self._log_fallback("account", "*")
            for _ in range(3):
                await asyncio.shield(self._refresh_account())
                if self._account_fresh(bound):
                    break
        assert self._account is not None
        return self._account[1]

    async def get_position(self, symbol: str, max_age: float | None = None) -> Any:
        return parsers.position_for(await self.get_account(max_age), symbol)

    async def get_collateral(self, max_age: float | None = None) -> Any:
        return parsers.parse_collateral(await self.get_account(max_age))

    def _refresh_account(self) -> asyncio.Task[Mapping[str, Any]]:
        """One ``GET /account`` in flight at a time; callers share its result."""
        task = self._account_refresh
        if task is None or task.done():
            task = self.spawn(self._fetch_account(), "account-refresh")
            self._account_refresh = task
        return task

    async def _fetch_account(self) -> Mapping[str, Any]:
        started, version = time.monotonic(), self._account_version
        account: Mapping[str, Any] = await self.rest.get_account()
        self._account = (started, account, version)  # a fill during the request bumped the version
        return account

    def _refresh_orders(self) -> asyncio.Task[None]:
        task = self._orders_refresh
        if task is None or task.done():
            task = self.spawn(self._fetch_orders(), "orders-refresh")
            self._orders_refresh = task
        return task

    async def _fetch_orders(self) -> None:
        """Replace the open-order snapshot from REST, keeping events newer than the request."""
        started, seq, version = time.monotonic(), self._event_seq, self._orders_version
        batches = await asyncio.gather(
            self.rest.get_orders(status="NEW"), self.rest.get_orders(status="PARTIALLY_FILLED")
        )
        snapshot: dict[str, dict[str, Any]] = {}
        for batch in batches:
            for row in batch if isinstance(batch, list) else ():
                if isinstance(row, dict) and row.get("id"):
                    snapshot[str(row["id"])] = dict(row)
        # events that arrived while the request was in flight are newer than the snapshot
        for oid, order in self._orders.items():
            if self._order_seq.get(oid, 0) > seq:
                snapshot[oid] = {**snapshot.get(oid, {}), **order}
        for oid in list(snapshot):
            if oid in self._final and self._order_seq.get(oid, 0) > seq:
                del snapshot[oid]
        for oid, order in self._orders.items():
            if oid not in snapshot and oid not in self._final:  # ended unseen: forget its index entries
                self._order_seq.pop(oid, None)
                if self._id_by_nonce.get(str(order.get("nonce"))) == oid:
                    del self._id_by_nonce[str(order.get("nonce"))]
        self._orders = snapshot
        for oid, order in snapshot.items():
            if order.get("nonce") is not None:
                self._id_by_nonce[str(order["nonce"])] = oid
        self._orders_at = started
        self._orders_snapshot_version = version

    async def _reconcile(self, gen: int) -> None:
        """After a (re)connect: orders, account and pending waiters from REST."""
        try:
            await asyncio.gather(asyncio.shield(self._refresh_orders()), asyncio.shield(self._refresh_account()))
            for nonce in list(self._waiters):
                await self._check_order_rest(nonce)
        except MpdexError as exc:
            log.warning("%s: reconcile after connect failed (%s); reads use REST until it succeeds",
                        self.LOG_NAME, exc)
            return
        if gen == self.generation:
            self._synced_generation = gen
            self.stats["reconciles"] += 1

    def _on_order_event(self, args: dict[str, Any], from_rest: bool = False) -> None:
        oid = args.get("id")
        if not oid:
            return
        oid = str(oid)
        self.stats["order_events"] += 1
        self._event_seq += 1
        self._order_seq[oid] = self._event_seq
        status = str(args.get("status") or "").upper()
        previous = self._orders.get(oid) or self._final.get(oid) or {}
        if previous and _rank(previous.get("status")) > _rank(status):
            return  # a late NEW after the order already ended
        order = {**previous, **args}
        if order.get("nonce") is not None:
            self._id_by_nonce[str(order["nonce"])] = oid
        if status in _FINAL:
            self._orders.pop(oid, None)
            self._final[oid] = order
            self._final.move_to_end(oid)
            while len(self._final) > _RECENT_FINAL_ORDERS:
                old_id, old = self._final.popitem(last=False)  # bounded memory over days
                self._order_seq.pop(old_id, None)
                if self._id_by_nonce.get(str(old.get("nonce"))) == old_id:
                    del self._id_by_nonce[str(old.get("nonce"))]
        else:
            self._orders[oid] = order
        if status in ("FILLED", "PARTIALLY_FILLED") or args.get("lastFilledSize") is not None:
            self._account_version += 1  # positions/collateral changed: refresh now
            task = self._fill_refresh
            if task is None or task.done():  # a running one loops until it has seen this version
                self._fill_refresh = self.spawn(self._refresh_after_fill(), "account-refresh-on-fill")
        self._resolve_waiters(order, ask_rest=not from_rest)

    async def _refresh_after_fill(self) -> None:
        try:
            while not self._account_fresh(self.max_age) and not self.closed:
                await asyncio.shield(self._refresh_account())
        except MpdexError as exc:
            log.warning("%s: account refresh after a fill failed (%s)", self.LOG_NAME, exc)

    def apply_order(self, raw: Mapping[str, Any]) -> None:
        """Merge an order object known from REST (e.g. our own create) as if streamed."""
        self._on_order_event(dict(raw), from_rest=True)

    # ----------------------------------------------------------- order waiters
    def find_order(self, client_order_id: Any) -> dict[str, Any] | None:
        """The latest known raw order for a client order id (nonce), if any."""
        oid = self._id_by_nonce.get(str(client_order_id))
        if oid is None:
            return None
        return self._orders.get(oid) or self._final.get(oid)

    async def wait_for_order(
        self, client_order_id: Any, status: str | Iterable[str] = "FILLED", timeout: float = 10.0
    ) -> OrderRecord:
        """Wait until the stream reports the order (by client order id = nonce) in one of
        ``status``, or in a final state (FILLED, CANCELLED, REJECTED) — check the returned
        ``status``. At the deadline REST is asked once; if the order is still elsewhere,
        ``RequestTimeout`` is raised."""
        wanted = frozenset({status.upper()} if isinstance(status, str) else {s.upper() for s in status})
        nonce = str(client_order_id)
        known = self.find_order(nonce)
        if known is not None and self._matches(known, wanted):
            return parsers.parse_order(known)
        fut: asyncio.Future[OrderRecord] = asyncio.get_running_loop().create_future()
        entry = (wanted, fut)
        self._waiters.setdefault(nonce, []).append(entry)
        try:
            return await asyncio.wait_for(asyncio.shield(fut), timeout)
        except asyncio.TimeoutError:
            pass
        finally:
            waiters = self._waiters.get(nonce)
            if waiters and entry in waiters:
                waiters.remove(entry)
                if not waiters:
                    del self._waiters[nonce]
        order = await self._check_order_rest(nonce)
        if order is not None and self._matches(order, wanted):
            self._log_fallback("wait_for_order", nonce)
            return parsers.parse_order(order)
        raise RequestTimeout(
            f"order {nonce} did not reach {'/'.join(sorted(wanted))} within {timeout}s "
            f"(last known status: {order.get('status') if order else 'unknown'})"
        )

    @staticmethod
    def _matches(order: Mapping[str, Any], wanted: frozenset[str]) -> bool:
        status = str(order.get("status") or "").upper()
        return status in wanted or status in _FINAL

    def _resolve_waiters(self, order: Mapping[str, Any], ask_rest: bool) -> None:
        nonce = order.get("nonce")
        if nonce is None or not self._waiters:
            return
        waiters = self._waiters.get(str(nonce))
        if not waiters:
            return
        parsed: OrderRecord | None = None
        for wanted, fut in list(waiters):
            if not fut.done() and self._matches(order, wanted):
                if parsed is None:
                    try:
                        parsed = parsers.parse_order(order)
                    except ExchangeError:
                        # a partial event (e.g. CANCELLED of an order we never saw): ask REST
                        if ask_rest:
                            self.spawn(self._check_order_quietly(str(nonce)), "order-check")
                        return
                fut.set_result(parsed)

    async def _check_order_quietly(self, nonce: str) -> None:
        try:
            await self._check_order_rest(nonce)
        except MpdexError as exc:
            log.warning("%s: order %s lookup failed (%s)", self.LOG_NAME, nonce, exc)

    async def _check_order_rest(self, nonce: str) -> dict[str, Any] | None:
        """``GET /orders?nonce=`` folded into the state (resolves waiters it satisfies)."""
        rows = await self.rest.get_orders(nonce=nonce)
        for row in rows if isinstance(rows, list) else ():
            if isinstance(row, dict) and str(row.get("nonce")) == nonce and row.get("id"):
                oid = str(row["id"])
                known = self._orders.get(oid) or self._final.get(oid)
                if known is None or _rank(row.get("status")) >= _rank(known.get("status")):
                    self._on_order_event(dict(row), from_rest=True)
                return self.find_order(nonce)
        return None

    # ---------------------------------------------------------------- internals
    async def _keepalive(self) -> None:
        delay = self.keepalive_interval
        while True:
            await asyncio.sleep(delay)
            delay = self.keepalive_interval
            if not self._listen_key:
                continue
            try:
                key = await self.rest.keepalive_listen_key()
            except ExchangeError as exc:
                if exc.code == INVALID_LISTEN_KEY:
                    log.info("%s: listen key %s expired; reconnecting with a fresh one",
                             self.LOG_NAME, _key_prefix(self._listen_key))
                    self._listen_key = None
                    self.request_reconnect("listen key expired")
                    continue
                log.warning("%s: listen key keepalive refused (%s)", self.LOG_NAME, exc)
                delay = min(60.0, self.keepalive_interval)
                continue
            except MpdexError as exc:
                log.warning("%s: listen key keepalive failed (%s); retrying", self.LOG_NAME, exc)
                delay = min(60.0, self.keepalive_interval)
                continue
            except Exception:  # a bug must not end renewal for the socket's whole life
                log.exception("%s: listen key keepalive raised unexpectedly; retrying", self.LOG_NAME)
                delay = min(60.0, self.keepalive_interval)
                continue
            if key and key != self._listen_key:
                log.info("%s: server replaced listen key; reconnecting", self.LOG_NAME)
                self._listen_key = key
                self._fresh_key = key
                self.request_reconnect("listen key replaced")

    def _log_fallback(self, kind: str, what: str) -> None:
        self.stats["rest_fallbacks"] += 1
        now = time.monotonic()
        if now - self._fallback_logged.get(kind, -_FALLBACK_LOG_EVERY) >= _FALLBACK_LOG_EVERY:
            self._fallback_logged[kind] = now
            log.info("%s: %s %s: socket data missing or older than the bound; using REST "
                     "(%d fallbacks so far)", self.LOG_NAME, kind, what, self.stats["rest_fallbacks"])


# ======================================================================== pool
class _Entry:
    __slots__ = ("client", "refs", "ready")

    def __init__(self, client: VestWSClient, ready: asyncio.Future[None]) -> None:
        self.client = client
        self.refs = 1
        self.ready = ready


def pool_key(key: VestKey) -> tuple[Any, ...]:
    """What identifies one account's socket (kept in memory only, never logged)."""
    return (
        key.network, key.rest_url, key.ws_url, key.account_group,
        key.primary_address.lower(), key.api_key, key.proxy,
    )


class VestWSPool:
    """Reference-counted ``VestWSClient`` instances keyed by account and event loop."""

    def __init__(self) -> None:
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[Any, ...], _Entry]] = (
            weakref.WeakKeyDictionary()
        )

    def _entries(self, loop: asyncio.AbstractEventLoop) -> dict[tuple[Any, ...], _Entry]:
        entries = self._by_loop.get(loop)
        if entries is None:
            entries = self._by_loop[loop] = {}
        return entries

    async def acquire(
        self, key: VestKey, loop: asyncio.AbstractEventLoop | None = None, **options: Any
    ) -> VestWSClient:
        """The account's client, started on first use; each call needs one ``release``.
        ``options`` (VestWSClient settings) apply only when this call creates the client."""
        loop = loop or asyncio.get_running_loop()
        entries = self._entries(loop)
        pk = pool_key(key)
        entry = entries.get(pk)
        if entry is not None and not entry.client.closed:
            entry.refs += 1
            try:
                await asyncio.shield(entry.ready)
            except BaseException:
                entry.refs -= 1
                raise
            return entry.client
        client = VestWSClient(key, **options)
        ready: asyncio.Future[None] = loop.create_future()
        entry = entries[pk] = _Entry(client, ready)
        try:
            await client.start()
        except BaseException as exc:
            if entries.get(pk) is entry:
                del entries[pk]
            ready.set_exception(exc)
            ready.exception()  # retrieved: later sharers re-raise it, nobody warns
            await client.close()
            raise
        ready.set_result(None)
        return client

    async def release(self, client: VestWSClient) -> None:
        """Drop one reference; the last one closes the client. Unknown clients are closed."""
        for entries in list(self._by_loop.values()):
            for pk, entry in list(entries.items()):
                if entry.client is client:
                    entry.refs -= 1
                    if entry.refs > 0:
                        return
                    del entries[pk]
                    await client.close()
                    return
        await client.close()

    def refs(self, client: VestWSClient) -> int:
        for entries in self._by_loop.values():
            for entry in entries.values():
                if entry.client is client:
                    return entry.refs
        return 0


#: the process-wide pool used by ``VestExchange``
POOL = VestWSPool()
acquire = POOL.acquire
release = POOL.release
