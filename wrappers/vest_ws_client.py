"""``VestWSClient``: Vest's socket — the ``tickers``, ``{symbol}@depth`` and
``account_private`` channels, their frames, and the listen key — plus the pool that shares
one client per account and event loop.

State lives in ``wrappers.base_ws_cache`` (the staleness rule) and ``base_ws_state`` (private
snapshots, the order tracker): marks and books are served while fresh by that rule, else
REST answers (logged); orders are a REST snapshot after every connect kept current by
``ORDER`` events; the account is a REST snapshot refreshed on every fill event.

Listen key: ``POST`` before every connect (a re-POST extends a live key and replaces an
expired one), ``PUT`` every ``keepalive_interval``. A ``1125`` answer or a ``4003``/``4004``/
``4005`` close gets a fresh key, at once if the socket had been delivering data (else with
backoff). All API keys of one account share its listen key, so ``close()`` sends ``DELETE``
only when no other live socket of the account in this process uses it. Keys are secrets:
only a short prefix is ever logged.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable, Iterable, Mapping
from typing import Any, Protocol

from mpdex.errors import ConfigError, ExchangeError, MpdexError
from mpdex.types import OrderBook, OrderRecord, Position

from . import vest_parsers as parsers
from .base_ws_cache import BookStreams, TimedCache
from .base_ws_client import BaseWSClient
from .base_ws_pool import Census, WSPool
from .base_ws_state import FallbackLog, FieldOrderCodec, PrivateState
from .vest_errors import INVALID_LISTEN_KEY
from .vest_keys import VestKey

__all__ = ["VestRestLike", "VestWSClient", "VestWSPool", "WS_URLS", "POOL", "acquire", "release"]

log = logging.getLogger("mpdex.vest.ws")

WS_URLS = {
    "prod": "wss://ws-prod.hz.vestmarkets.com/ws-api?version=1.0",
    "dev": "wss://ws-dev.hz.vestmarkets.com/ws-api?version=1.0",
}

#: close codes that mean "this listen key is gone": fetch a fresh one, reconnect at once
LISTEN_KEY_CLOSE_CODES = frozenset({4003, 4004, 4005})
#: close codes that mean a configuration problem: keep trying, but slowly and loudly
CONFIG_CLOSE_CODES = frozenset({4000, 4001, 4002})
_RECENT_FINAL_ORDERS = 2000


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


#: Vest order objects for the tracker: ``id``, ``nonce`` = client order id, upper-case statuses
VEST_ORDERS = FieldOrderCodec(
    id_field="id", client_id_field="nonce", status_field="status", symbol_field="symbol",
    ranks={"NEW": 0, "PARTIALLY_FILLED": 1}, final=parsers.TERMINAL_STATUSES, parse=parsers.parse_order,
)


def _key_prefix(listen_key: str | None) -> str:
    return f"{listen_key[:4]}…" if listen_key else "none"


#: live private sockets per account: they share the account's listen key (see close())
LISTEN_KEY_USERS = Census()


def _account_of(key: VestKey) -> tuple[Any, ...]:
    return (key.network, key.rest_url, key.primary_address.lower())


class VestWSClient(BaseWSClient):
    """The Vest socket of one account (or an anonymous public one with ``private=False``).

    ``rest`` is any object with the ``VestRestLike`` methods; by default the client builds
    and owns a ``VestRestClient`` for ``key``, so it never depends on the lifetime of any
    single ``VestExchange``. ``max_age`` is the default freshness bound (seconds) of every
    read; each read may pass its own. Other options: ``BaseWSClient``'s (timings, ``clock``).
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
        options.setdefault("proxy", key.proxy)
        super().__init__(f"{base}{sep}xwebsocketserver=restserver{key.account_group}", **options)
        self.key = key
        self.private = private
        self.max_age = float(max_age if max_age is not None else self.MAX_AGE)
        self.keepalive_interval = float(
            keepalive_interval if keepalive_interval is not None else self.LISTEN_KEY_KEEPALIVE
        )
        if self.max_age <= 0 or self.keepalive_interval <= 0:
            raise ValueError("max_age and keepalive_interval must be positive")
        self._owns_rest = rest is None
        if rest is None:
            from .vest_rest import VestRestClient

            rest = VestRestClient(key)
        self.rest: VestRestLike = rest
        self.account_tag = key.primary_address[:8]
        self.LOG_NAME = f"vest-ws[{self.account_tag}]"

        self._listen_key: str | None = None
        self._fresh_key: str | None = None  # fetched by start(), used by the first connect
        self._key_lost = False  # the server refused our listen key: recover at once
        self._wanted.update(dict.fromkeys(["tickers", "account_private"] if private else ["tickers"]))
        self.stats.update({"listen_keys": 0})
        self._fallback = FallbackLog(log, self.LOG_NAME, self.clock, self.stats)
        self._tickers: TimedCache[str, Mapping[str, Any]] = TimedCache(self.clock)
        self.books: BookStreams[Mapping[str, Any]] = BookStreams(
            self, topic=lambda symbol: f"{symbol}@depth", parse=parsers.parse_orderbook,
            fetch=self.rest.get_depth, fallback=self._fallback,
        )
        self.state = PrivateState(
            VEST_ORDERS, self, fetch_open_orders=self._rest_open_orders, fetch_account=self.rest.get_account,
            lookup_order=self._rest_order, fallback=self._fallback, stats=self.stats, max_age=self.max_age,
            recent_final=_RECENT_FINAL_ORDERS, label=self.LOG_NAME, logger=log,
        )
        for state in (self._tickers, self.books, self.state):
            self.track(state)  # a lost socket may have missed messages: none of it is fresh

    def __repr__(self) -> str:
        return (
            f"VestWSClient(account={self.account_tag}…, group={self.key.account_group}, "
            f"connected={self.connected}, channels={self.channels})"
        )

    # ------------------------------------------------------------ life cycle
    async def start(self, wait: bool = True) -> bool:
        """Fetch the first listen key (a refused key raises here, e.g. a bad API key),
        then connect. Transport failures are retried in the background instead."""
        if self.private and self._supervisor is None:
            LISTEN_KEY_USERS.join(_account_of(self.key), self)
            try:
                self._fresh_key = await self.rest.create_listen_key()
                self.stats["listen_keys"] += 1
            except ExchangeError:
                LISTEN_KEY_USERS.leave(_account_of(self.key), self)
                await self._close_rest()
                raise
            except MpdexError as exc:
                log.warning("%s: listen key not available yet (%s); will retry", self.LOG_NAME, exc)
            self.spawn(self._keepalive(), "listen-key-keepalive")
        return await super().start(wait)

    async def close(self) -> None:
        """Close the socket and every task, ``DELETE`` the listen key unless another live
        socket of this account uses it, close an owned REST client."""
        if self.closed:
            return
        await super().close()
        self.state.close()
        others = LISTEN_KEY_USERS.leave(_account_of(self.key), self)
        if self.private and self._listen_key:
            if others:
                log.info("%s: listen key %s kept: %d other socket(s) of this account use it",
                         self.LOG_NAME, _key_prefix(self._listen_key), others)
            else:
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

    def _subscribe_messages(self, topics: list[Hashable]) -> list[Any]:
        return [{"method": "SUBSCRIBE", "params": topics, "id": self.next_request_id()}]

    def _unsubscribe_messages(self, topics: list[Hashable]) -> list[Any]:
        return [{"method": "UNSUBSCRIBE", "params": topics, "id": self.next_request_id()}]

    async def _on_connected(self) -> None:
        self.books.connected()
        if self.private:
            self.state.connected()

    def _on_disconnected(self, code: int | None, reason: str) -> None:
        if code in LISTEN_KEY_CLOSE_CODES and self.private:
            self._key_lost = True
            log.info("%s: listen key %s refused (close %s); fetching a new one",
                     self.LOG_NAME, _key_prefix(self._listen_key), code)

    def _retry_delay_for_close(self, code: int | None) -> float | None:
        if code in CONFIG_CLOSE_CODES:
            log.error("%s: server refused the connection (close %s): check ws_url / account_group",
                      self.LOG_NAME, code)
            return self.reconnect_max
        if self._key_lost:
            self._key_lost = False
            if self.delivered_data:  # a healthy socket lost its key: no backoff (a refused new key backs off)
                return 0.0
        return None

    def _handle_message(self, msg: Any) -> bool:
        channel = msg.get("channel") if type(msg) is dict else None
        if channel is None:
            return False  # acks ({"result":…,"id":…}), PONG ({"data":"PONG"}), unknown frames
        data = msg.get("data")
        if channel.endswith("@depth"):
            self.books.on_frame(channel[:-6], data, self._last_recv)
        elif channel == "tickers":
            now, put = self._last_recv, self._tickers.put_live
            for row in data if type(data) is list else (data,):
                if type(row) is dict:
                    symbol = row.get("symbol")
                    if symbol:
                        put(symbol, row, now)
        elif channel == "account_private":
            if type(data) is dict and data.get("event") == "ORDER" and type(data.get("args")) is dict:
                self._on_order_event(data["args"])
        else:
            return False
        return True

    # ---------------------------------------------------------- subscriptions
    async def subscribe_orderbook(self, symbol: str, holder: Hashable) -> None:
        """Hold ``{symbol}@depth`` on behalf of ``holder`` (subscribed on the first hold)."""
        await self.books.hold(symbol, holder)

    async def unsubscribe_orderbook(self, symbol: str, holder: Hashable) -> None:
        """Drop ``holder``'s hold; the last one unsubscribes and forgets the book."""
        await self.books.release(symbol, holder)

    async def release_holder(self, holder: Hashable) -> None:
        """Drop every hold of ``holder`` (an exchange that closes)."""
        await self.books.release_holder(holder)

    @property
    def channels(self) -> list[str]:
        """The channels this client keeps subscribed (replayed after every reconnect)."""
        return [str(t) for t in self.topics]

    # ------------------------------------------------------------ market data
    def _bound(self, max_age: float | None) -> float:
        return self.max_age if max_age is None else max_age

    def mark_price(self, symbol: str, max_age: float | None = None) -> float | None:
        """The cached mark price, or ``None`` when absent or not fresh."""
        row = self._tickers.get(symbol, self._bound(max_age))
        try:
            return None if row is None else float(row["markPrice"])
        except (KeyError, TypeError, ValueError):
            return None

    def ticker(self, symbol: str, max_age: float | None = None) -> Mapping[str, Any] | None:
        """The cached raw ticker row (mark, index, funding…), ``None`` when not fresh."""
        return self._tickers.get(symbol, self._bound(max_age))

    def orderbook(self, symbol: str, max_age: float | None = None) -> OrderBook | None:
        """The cached book (best first; parsed once per frame, a copy per read), or ``None``."""
        return self.books.book(symbol, self._bound(max_age))

    async def get_ticker(self, symbol: str, max_age: float | None = None) -> Mapping[str, Any]:
        """The ticker row from the socket when fresh, else from REST; a REST row is cached
        with the time its request was sent and never replaces a newer socket row."""
        async def rest() -> Mapping[str, Any]:
            return parsers.find_ticker(await self.rest.get_ticker_latest(symbols=[symbol]), symbol)

        bound = self._bound(max_age)
        return await self._fallback.read(self._tickers.get(symbol, bound),
                                         lambda: self._tickers.fetch(symbol, rest, bound), "ticker", symbol)

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
        return await self.books.get(symbol, holder, timeout=timeout, max_age=self._bound(max_age))

    # ---------------------------------------------------------- private state
    @property
    def private_live(self) -> bool:
        """The stream is connected, reconciled for this socket and heard from recently."""
        return self.private and self.state.live

    def invalidate_private(self, *, orders: bool = True, account: bool = True) -> None:
        """Our own request changed orders/positions: the next read re-reads REST (this
        closes the window before the stream reports the change)."""
        self.state.invalidate(orders=orders, account=account)

    async def get_open_orders(self, symbol: str | None = None, max_age: float | None = None) -> list[OrderRecord]:
        """Open orders (parsed, ``vest_parsers.parse_order`` shape), live or from REST."""
        return await self.state.get_open_orders(symbol, max_age)

    async def get_account(self, max_age: float | None = None) -> Mapping[str, Any]:
        """The raw ``/account`` snapshot: live, or from a REST request sent after this call."""
        return await self.state.get_account(max_age)

    async def get_position(self, symbol: str, max_age: float | None = None) -> Position | None:
        return parsers.position_for(await self.get_account(max_age), symbol)

    async def get_collateral(self, max_age: float | None = None) -> Any:
        return parsers.parse_collateral(await self.get_account(max_age))

    def apply_order(self, raw: Mapping[str, Any]) -> None:
        """Merge an order object known from REST (e.g. our own create) as if streamed."""
        self._on_order_event(dict(raw), from_rest=True)

    def find_order(self, client_order_id: Any) -> dict[str, Any] | None:
        """The latest known raw order for a client order id (nonce), if any."""
        return self.state.tracker.find(client_order_id)

    async def wait_for_order(
        self, client_order_id: Any, status: str | Iterable[str] = "FILLED", timeout: float = 10.0,
        *, ask_rest: bool = True,
    ) -> OrderRecord:
        """Wait until the stream reports the order (by client order id = nonce) in one of
        ``status``, or in a final state (FILLED, CANCELLED, REJECTED) — check the returned
        ``status``. At the deadline REST is asked once (unless ``ask_rest=False``); if the
        order is still elsewhere, ``RequestTimeout`` is raised."""
        return await self.state.tracker.wait_for_order(client_order_id, status, timeout, ask_rest=ask_rest)

    def _on_order_event(self, args: Mapping[str, Any], from_rest: bool = False) -> None:
        if str(args.get("status") or "").upper() in ("FILLED", "PARTIALLY_FILLED") \
                or args.get("lastFilledSize") is not None:
            self.state.on_fill()  # before waiters wake: their next read must not see the old account
        self.state.on_event(args, from_rest=from_rest)

    # ----------------------------------------------------------- REST reads
    async def _rest_open_orders(self) -> list[Mapping[str, Any]]:
        batches = await asyncio.gather(
            self.rest.get_orders(status="NEW"), self.rest.get_orders(status="PARTIALLY_FILLED")
        )
        return [row for batch in batches for row in (batch if isinstance(batch, list) else ())
                if isinstance(row, dict) and row.get("id")]

    async def _rest_order(self, nonce: str) -> Mapping[str, Any] | None:
        rows = await self.rest.get_orders(nonce=nonce)
        for row in rows if isinstance(rows, list) else ():
            if isinstance(row, dict) and str(row.get("nonce")) == nonce and row.get("id"):
                return row
        return None

    # ------------------------------------------------------------ listen key
    async def _keepalive(self) -> None:
        delay = self.keepalive_interval
        while True:
            await asyncio.sleep(delay)
            delay = self.keepalive_interval
            if not self._listen_key:
                continue
            try:
                key = await self.rest.keepalive_listen_key()
            except Exception as exc:  # refused, transport, or a bug: renewal goes on for the socket's life
                if isinstance(exc, ExchangeError) and exc.code == INVALID_LISTEN_KEY:
                    log.info("%s: listen key %s expired; reconnecting with a fresh one",
                             self.LOG_NAME, _key_prefix(self._listen_key))
                    self._listen_key, self._key_lost = None, True
                    self.request_reconnect("listen key expired")
                else:
                    log.warning("%s: listen key keepalive failed (%s); retrying", self.LOG_NAME, exc,
                                exc_info=not isinstance(exc, MpdexError))
                    delay = min(60.0, self.keepalive_interval)
                continue
            if key and key != self._listen_key:
                log.info("%s: server replaced listen key; reconnecting", self.LOG_NAME)
                self._listen_key = key
                self._fresh_key = key
                self.request_reconnect("listen key replaced")


# ======================================================================== pool
def pool_key(key: VestKey) -> tuple[Any, ...]:
    """What identifies one account's socket (kept in memory only, never logged)."""
    return (
        key.network, key.rest_url, key.ws_url, key.account_group,
        key.primary_address.lower(), key.api_key, key.proxy,
    )


class VestWSPool(WSPool[VestKey, VestWSClient]):
    """Reference-counted ``VestWSClient`` instances keyed by account and event loop."""

    def __init__(self) -> None:
        super().__init__(VestWSClient, pool_key)


#: the process-wide pool used by ``VestExchange``
POOL = VestWSPool()
acquire = POOL.acquire
release = POOL.release
