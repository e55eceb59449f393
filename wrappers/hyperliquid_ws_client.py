"""``HyperliquidWSClient``: Hyperliquid's socket for one account — ``activeAssetCtx`` (marks
and funding), ``l2Book``, ``orderUpdates`` and ``userFills`` — plus the pool that shares one
client per account and event loop (``orderUpdates`` frames do not name their user, so one
socket serves one account).

State lives in ``wrappers.base_ws_cache`` / ``base_ws_state`` with Vest's staleness rule: an
entry is served only while younger than the read's bound (``max_age``, default 5 s) and
received on the live socket; otherwise REST answers (logged). Marks are marks, never mids:
``activeAssetCtx`` is subscribed per coin on its first read, and until its first frame a REST
``metaAndAssetCtxs`` answers. Orders are a REST snapshot (``frontendOpenOrders``) after every
connect, kept current by ``orderUpdates``; the account (``clearinghouseState``: positions,
collateral) is a REST snapshot refreshed on every fill. The server's text hello is skipped,
``{"method":"ping"}`` goes every 20 s (the server closes a socket idle for 60 s), a socket
silent for 45 s is treated as dead, and every subscription is replayed once on each new
socket.
"""
from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable, Mapping
from typing import Any, Protocol

import orjson

from mpdex.errors import ConfigError, ExchangeError
from mpdex.types import OrderBook, OrderRecord

from . import hyperliquid_parsers as P
from .base_ws_cache import BookStreams, TimedCache
from .base_ws_client import BaseWSClient
from .base_ws_pool import WSPool
from .base_ws_state import FallbackLog, FieldOrderCodec, PrivateState, RestSnapshot
from .hyperliquid_keys import HyperliquidKey
from .hyperliquid_markets import parse_meta_and_ctxs

__all__ = ["HyperliquidRestLike", "HyperliquidWSClient", "HL_ORDERS", "HELLO", "flat_order", "topic",
           "POOL", "acquire", "release"]

log = logging.getLogger("mpdex.hyperliquid.ws")

#: the text frame the server sends right after connecting (not JSON)
HELLO = "Websocket connection established."
_RECENT_FINAL_ORDERS = 2000


class HyperliquidRestLike(Protocol):
    """The REST calls the socket client needs (``hyperliquid_rest.HyperliquidRestClient``)."""

    async def meta_and_asset_ctxs(self) -> Any: ...
    async def l2_book(self, coin: str) -> Any: ...
    async def frontend_open_orders(self) -> Any: ...
    async def clearinghouse_state(self) -> Any: ...
    async def order_status(self, oid: int | str) -> Any: ...
    async def close(self) -> None: ...


def flat_order(order: Mapping[str, Any], status: Any) -> dict[str, Any]:
    """An order object and its Hyperliquid status as one flat row for the tracker:
    ``state`` is the contract's status, ``cloid`` lower-case (the client order id)."""
    row = dict(order)
    row["status"] = status
    row["state"] = P.parse_open_order(row, status)["status"]
    if isinstance(row.get("cloid"), str):
        row["cloid"] = row["cloid"].lower()
    return row


def _parse_row(row: Mapping[str, Any]) -> OrderRecord:
    return P.parse_open_order(row, row.get("status"))


#: Hyperliquid orders for the tracker: ``oid``, ``cloid`` = client order id, contract statuses
HL_ORDERS = FieldOrderCodec(
    id_field="oid", client_id_field="cloid", status_field="state", symbol_field="coin",
    ranks={"NEW": 0, "PARTIALLY_FILLED": 1}, final=P.TERMINAL_STATUSES, parse=_parse_row,
)


def topic(kind: str, **fields: Any) -> str:
    """One subscription as a hashable topic: its canonical JSON (``{"type": kind, …}``)."""
    return orjson.dumps({"type": kind, **fields}).decode()


class HyperliquidWSClient(BaseWSClient):
    """The Hyperliquid socket of one account. ``rest`` is any object with the
    ``HyperliquidRestLike`` methods; by default the client builds and owns a REST client for
    ``key`` (so it never depends on the lifetime of one exchange instance). ``max_age`` is the
    default freshness bound (s) of every read. Other options: ``BaseWSClient``'s."""

    PING_INTERVAL = 20.0
    RECV_TIMEOUT = 45.0
    MAX_AGE = 5.0
    IGNORED_TEXT_FRAMES = frozenset({HELLO})
    LOG_NAME = "hyperliquid-ws"

    def __init__(self, key: HyperliquidKey, rest: HyperliquidRestLike | None = None, *,
                 max_age: float | None = None, **options: Any) -> None:
        url = key.websocket_url
        if not url.startswith(("ws://", "wss://")):
            raise ConfigError("ws_url must be a ws:// or wss:// URL")
        options.setdefault("proxy", key.proxy)
        super().__init__(url, **options)
        self.key = key
        self.user = key.account_address
        self.max_age = float(max_age if max_age is not None else self.MAX_AGE)
        if self.max_age <= 0:
            raise ValueError("max_age must be positive")
        self._owns_rest = rest is None
        if rest is None:
            from .hyperliquid_rest import HyperliquidRestClient

            rest = HyperliquidRestClient(key)
        self.rest: HyperliquidRestLike = rest
        self.LOG_NAME = f"hyperliquid-ws[{self.user[:8]}]"
        self._wanted.update(dict.fromkeys([topic("orderUpdates", user=self.user), topic("userFills", user=self.user)]))
        self._fallback = FallbackLog(log, self.LOG_NAME, self.clock, self.stats)
        self._ctxs: TimedCache[str, Mapping[str, Any]] = TimedCache(self.clock)
        #: one REST ``metaAndAssetCtxs`` in flight at a time, shared by every coin's fallback
        self._rest_ctxs: RestSnapshot[dict[str, dict[str, Any]]] = RestSnapshot(
            self._load_ctxs, clock=self.clock, name="asset-ctxs")
        self.books: BookStreams[Mapping[str, Any]] = BookStreams(
            self, topic=lambda coin: topic("l2Book", coin=coin), parse=P.parse_orderbook, fetch=self._rest_book,
            fallback=self._fallback,
        )
        self.state = PrivateState(
            HL_ORDERS, self, fetch_open_orders=self._rest_open_orders, fetch_account=self._rest_account,
            lookup_order=self._rest_order, fallback=self._fallback, stats=self.stats, max_age=self.max_age,
            recent_final=_RECENT_FINAL_ORDERS, label=self.LOG_NAME, logger=log,
        )
        # a lost socket may have missed messages: none of it is fresh; and a REST ctx snapshot
        # taken before the gap may be older than frames already served: it is read again
        for state in (self._ctxs, self._rest_ctxs, self.books, self.state):
            self.track(state)

    def __repr__(self) -> str:
        return f"HyperliquidWSClient(account={self.user[:8]}…, connected={self.connected}, topics={len(self.topics)})"

    async def close(self) -> None:
        """Close the socket and every task, wake waiters, close an owned REST client."""
        if self.closed:
            return
        await super().close()
        self.state.close()
        if self._owns_rest:
            await self.rest.close()

    # ----------------------------------------------------------------- hooks
    def _build_ping_message(self) -> Any:
        return '{"method":"ping"}'

    def _subscribe_messages(self, topics: list[Hashable]) -> list[Any]:
        return [{"method": "subscribe", "subscription": orjson.loads(str(t))} for t in topics]

    def _unsubscribe_messages(self, topics: list[Hashable]) -> list[Any]:
        return [{"method": "unsubscribe", "subscription": orjson.loads(str(t))} for t in topics]

    async def _on_connected(self) -> None:
        self.books.connected()
        self.state.connected()

    def _handle_message(self, msg: Any) -> bool:
        channel = msg.get("channel") if type(msg) is dict else None
        data = msg.get("data") if channel else None
        if channel == "l2Book" and type(data) is dict and data.get("coin"):
            self.books.on_frame(data["coin"], data, self._last_recv)
        elif channel == "activeAssetCtx" and type(data) is dict and type(data.get("ctx")) is dict:
            self._ctxs.put_live(str(data.get("coin")), data["ctx"], self._last_recv)
        elif channel == "orderUpdates" and type(data) is list:
            for update in data:
                if type(update) is dict and type(update.get("order")) is dict:
                    self._on_order_update(update)
        elif channel == "userFills" and type(data) is dict:
            if not data.get("isSnapshot") and data.get("fills"):
                self.state.on_fill()  # positions and collateral changed
        elif channel == "error":
            log.warning("%s: server error frame: %s", self.LOG_NAME, str(data)[:200])
            return False
        else:
            return False  # subscriptionResponse, pong, post answers, unknown channels
        return True

    def _on_order_update(self, update: Mapping[str, Any]) -> None:
        try:
            row = flat_order(update["order"], update.get("status"))
        except ExchangeError as exc:
            log.warning("%s: unreadable order update dropped (%s)", self.LOG_NAME, exc)
            return
        if row["state"] == "FILLED" or row.get("origSz") != row.get("sz"):
            self.state.on_fill()  # before waiters wake: their next read must not see the old account
        self.state.on_event(row)

    # ------------------------------------------------------------ market data
    def _bound(self, max_age: float | None) -> float:
        return self.max_age if max_age is None else max_age

    def asset_ctx(self, coin: str, max_age: float | None = None) -> Mapping[str, Any] | None:
        """The streamed asset context (mark, oracle, funding), ``None`` when not fresh."""
        return self._ctxs.get(coin, self._bound(max_age))

    async def get_asset_ctx(self, coin: str, max_age: float | None = None) -> Mapping[str, Any]:
        """The coin's context from the socket when fresh, else REST (``metaAndAssetCtxs``:
        one read in flight, shared by every caller, caching every coin with the time it was
        sent); the first read subscribes ``activeAssetCtx`` for the coin."""
        await self.subscribe(topic("activeAssetCtx", coin=coin))
        bound = self._bound(max_age)
        cached = self._ctxs.get(coin, bound)
        if cached is not None:
            return cached
        self._fallback("asset context", coin)
        ctxs = await self._rest_ctxs.ensure(bound)
        newer = self._ctxs.get(coin, bound)  # a frame that beat the answer, or the answer itself
        ctx = newer if newer is not None else ctxs.get(coin)
        if ctx is None:
            raise ExchangeError(f"metaAndAssetCtxs has no context for {coin}")
        return ctx

    async def _load_ctxs(self) -> dict[str, dict[str, Any]]:
        stamp = self._ctxs.stamp()
        ctxs = parse_meta_and_ctxs(await self.rest.meta_and_asset_ctxs())[1]
        for coin, ctx in ctxs.items():
            self._ctxs.put(coin, ctx, stamp)
        return ctxs

    async def get_mark_price(self, coin: str, max_age: float | None = None) -> float:
        """The mark (``markPx``, never the mid)."""
        return float(P.dec((await self.get_asset_ctx(coin, max_age)).get("markPx"), "markPx"))

    def orderbook(self, coin: str, max_age: float | None = None) -> OrderBook | None:
        return self.books.book(coin, self._bound(max_age))

    async def get_orderbook(self, coin: str, holder: Hashable, *, timeout: float = 5.0,
                            max_age: float | None = None) -> OrderBook:
        """Hold the ``l2Book`` stream for ``holder`` and return a fresh book: from the socket,
        waiting for the first snapshot up to ``timeout`` after subscribing, else REST."""
        return await self.books.get(coin, holder, timeout=timeout, max_age=self._bound(max_age))

    async def unsubscribe_orderbook(self, coin: str, holder: Hashable) -> None:
        await self.books.release(coin, holder)

    async def release_holder(self, holder: Hashable) -> None:
        await self.books.release_holder(holder)

    # ---------------------------------------------------------- private state
    @property
    def private_live(self) -> bool:
        return self.state.live

    def invalidate_private(self, *, orders: bool = True, account: bool = True) -> None:
        """Our own request changed orders/positions: the next read re-reads REST."""
        self.state.invalidate(orders=orders, account=account)

    async def get_open_orders(self, coin: str | None = None, max_age: float | None = None) -> list[OrderRecord]:
        return await self.state.get_open_orders(coin, max_age)

    async def get_account(self, max_age: float | None = None) -> Mapping[str, Any]:
        """The raw ``clearinghouseState``: live, or from a REST request sent after this call."""
        return await self.state.get_account(max_age)

    def find_order(self, client_order_id: Any) -> dict[str, Any] | None:
        return self.state.tracker.find(str(client_order_id).lower())

    async def wait_for_order(self, cloid: str, status: str | Iterable[str] = "FILLED",
                             timeout: float = 10.0) -> OrderRecord:
        """Wait until the stream reports the order (by cloid) in one of ``status`` or a final
        state; at the deadline REST is asked once, then ``RequestTimeout``."""
        return await self.state.tracker.wait_for_order(cloid.lower(), status, timeout)

    # ----------------------------------------------------------- REST reads
    async def _rest_book(self, coin: str) -> Mapping[str, Any]:
        body = await self.rest.l2_book(coin)
        if not isinstance(body, dict):
            raise ExchangeError(f"Hyperliquid has no book for {coin}", raw=body)
        return body

    async def _rest_open_orders(self) -> list[Mapping[str, Any]]:
        rows = await self.rest.frontend_open_orders()
        if not isinstance(rows, list):
            raise ExchangeError("frontendOpenOrders did not return a list", raw=rows)
        return [flat_order(r, "open") for r in rows if isinstance(r, dict) and r.get("oid")]

    async def _rest_account(self) -> Mapping[str, Any]:
        state = await self.rest.clearinghouse_state()
        if not isinstance(state, dict):
            raise ExchangeError("clearinghouseState did not return an object", raw=state)
        return state

    async def _rest_order(self, cloid: str) -> Mapping[str, Any] | None:
        body = await self.rest.order_status(cloid)
        if not isinstance(body, dict) or body.get("status") != "order" or not isinstance(body.get("order"), dict):
            return None
        wrapper = body["order"]
        return flat_order(wrapper.get("order") or {}, wrapper.get("status"))


# ======================================================================== pool
def pool_key(key: HyperliquidKey) -> tuple[Any, ...]:
    """What identifies one account's socket (kept in memory only, never logged)."""
    return (key.network, key.base_url, key.websocket_url, key.account_address, key.proxy)


#: the process-wide pool used by ``HyperliquidExchange``
POOL: WSPool[HyperliquidKey, HyperliquidWSClient] = WSPool(HyperliquidWSClient, pool_key)
acquire = POOL.acquire
release = POOL.release
