"""Socket-first market data of the ccxt adapter: ccxt.pro's ``watch*`` feeding the shared
gap-aware caches of ``wrappers.base_ws_cache`` (the staleness rule of our own sockets).

* One watcher task per (stream, symbol) of one ``CcxtPerpExchange`` (one account), started
  by the first read of that symbol: ``watch_order_book`` for books (``BookStreams``, held per
  symbol), ``watch_ticker`` for marks (a ``TimedCache``), the mark read where the venue entry
  says its watched ticker carries it (``ws_mark``), never a last trade or a mid.
* A gap is any exception out of a watch call and every socket ccxt.pro closes or loses (its
  ``on_close`` / ``on_error`` hooks): it marks every cache, so nothing received before it is
  fresh until the socket delivers again or REST answers a request sent after it. A value whose
  watch call spanned a gap is dropped (it may predate it). ccxt.pro reconnects and resubscribes
  when the watcher calls again (after ``RETRY_DELAY``, doubling up to ``RETRY_MAX``).
* Missing or stale (older than ``max_age``) → REST, counted and logged by ``FallbackLog``; a
  REST answer is cached with the time its request was sent and never replaces a newer frame.
* Sockets are not paced by our limiter (it paces REST only); ccxt.pro's own throttle is off
  with ccxt's (``enableRateLimit=False``). Frames are stamped when the watcher receives them.
* ``close()`` cancels and awaits every watcher before the exchange closes its sockets.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from mpdex.clock import SYSTEM_CLOCK, Clock
from mpdex.redact import redact_secrets
from mpdex.types import OrderBook

from .base_ws_cache import BookStreams, TimedCache
from .base_ws_state import FallbackLog

__all__ = ["CcxtWatch", "WATCH_METHODS", "RETRY_DELAY", "RETRY_MAX"]

log = logging.getLogger("mpdex.ccxt.ws")

#: contract read -> the ccxt.pro capability that feeds it
WATCH_METHODS = {"get_orderbook": "watchOrderBook", "get_mark_price": "watchTicker"}
#: seconds before a failed watch is called again (doubling per failure, at most ``RETRY_MAX``)
RETRY_DELAY = 0.1
RETRY_MAX = 5.0
#: seconds ``unsubscribe_orderbook`` waits for the venue to end a book subscription
UNWATCH_TIMEOUT = 2.0

_BOOK, _TICKER = "orderbook", "ticker"


def _levels(side: Any) -> list[list[Any]]:
    return [[level[0], level[1]] for level in side or []]


def parse_book(raw: Mapping[str, Any], received_ms: int) -> OrderBook:
    """A ccxt order book (socket copy or REST answer) in the contract's shape, best first."""
    return {"bids": [[float(p), float(s)] for p, s, *_ in raw.get("bids") or []],
            "asks": [[float(p), float(s)] for p, s, *_ in raw.get("asks") or []], "time": received_ms}


def mark_of(ticker: Mapping[str, Any], field: str) -> Decimal | None:
    """The mark at ``field`` (``markPrice`` or ``info:<field>``) of a watched ticker."""
    value = (ticker.get("info") or {}).get(field[5:]) if field.startswith("info:") else ticker.get(field)
    if value is None or isinstance(value, bool):
        return None
    try:
        mark = Decimal(str(value))
    except InvalidOperation:
        return None
    return mark if mark.is_finite() and mark > 0 else None


class CcxtWatch:
    """The sockets of one ccxt.pro exchange object, for the reads in ``reads``.

    ``unified(native)`` names a market as ccxt does; ``rest_book(native)`` is the REST read a
    book falls back to. ``stats``: ``book_frames``, ``mark_frames`` (received), ``gaps``,
    ``rest_fallbacks``."""

    def __init__(self, exchange: Any, *, label: str, reads: frozenset[str], mark_field: str,
                 unified: Callable[[str], str], rest_book: Callable[[str], Awaitable[Any]],
                 clock: Clock = SYSTEM_CLOCK) -> None:
        self.exchange, self.label, self.reads, self.mark_field = exchange, label, reads, mark_field
        self.clock = clock
        self._unified = unified
        self.stats: dict[str, int] = {"book_frames": 0, "mark_frames": 0, "gaps": 0}
        self.fallback = FallbackLog(log, label, clock, self.stats)
        self.marks: TimedCache[str, Decimal] = TimedCache(clock)
        self.books: BookStreams[Mapping[str, Any]] = BookStreams(
            self, topic=lambda s: (_BOOK, s), parse=parse_book, fetch=rest_book, fallback=self.fallback)
        self.retry_delay, self.retry_max = RETRY_DELAY, RETRY_MAX
        self._tasks: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._open: set[int] = set()  # ids of ccxt.pro clients connected now
        self._gen = 0  # gaps so far (a watch call that spanned one is dropped)
        self._closing = False
        self._hook()

    # -- ccxt.pro's connection events (its Client reads these when it is created) -----------

    def _hook(self) -> None:
        ex = self.exchange
        on_connected, on_close, on_error = ex.on_connected, ex.on_close, ex.on_error

        def connected(client: Any, message: Any = None) -> Any:
            self._open.add(id(client))
            self.books.connected()
            return on_connected(client, message)

        def closed(client: Any, error: Any) -> Any:
            self._lost(client, f"socket closed ({error})")
            return on_close(client, error)

        def failed(client: Any, error: Any) -> Any:
            self._lost(client, f"socket error ({type(error).__name__})")
            return on_error(client, error)

        ex.on_connected, ex.on_close, ex.on_error = connected, closed, failed

    def _lost(self, client: Any, why: str) -> None:
        self._open.discard(id(client))
        self.gap(why)

    def gap(self, why: str) -> None:
        """Nothing cached so far counts as fresh any more."""
        self._gen += 1
        self.stats["gaps"] += 1
        self.marks.mark_gap()
        self.books.mark_gap()
        log.debug("%s: socket gap: %s", self.label, why)

    # -- what BookStreams needs of its link (base_ws_cache.Subscriber) ----------------------

    @property
    def connected(self) -> bool:
        return bool(self._open)

    async def subscribe(self, *topics: Hashable) -> None:
        for topic in topics:
            kind, native = cast(tuple[str, str], topic)
            self._start(kind, native)

    async def unsubscribe(self, *topics: Hashable) -> None:
        """Stop the watcher, then ccxt.pro's subscription where it can end one (``unWatch*``),
        so a later hold subscribes afresh and gets the venue's snapshot."""
        for topic in topics:
            kind, native = cast(tuple[str, str], topic)
            task = self._tasks.pop((kind, native), None)
            if task is None:
                continue
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            if kind == _BOOK and self.exchange.has.get("unWatchOrderBook") is True:
                try:
                    await asyncio.wait_for(self.exchange.un_watch_order_book(self._unified(native)), UNWATCH_TIMEOUT)
                except Exception as exc:  # the subscription may linger: a later read waits, then asks REST
                    log.info("%s: ccxt.pro could not end the %s book subscription (%s)", self.label, native,
                             type(exc).__name__)

    # -- reads ---------------------------------------------------------------------------

    async def mark(self, native: str, max_age: float, rest: Callable[[], Awaitable[Decimal]]) -> Decimal:
        """The socket's mark while fresh, else ``rest()`` (logged; cached, never over a newer frame)."""
        self._start(_TICKER, native)
        return await self.fallback.read(self.marks.get(native, max_age),
                                        lambda: self.marks.fetch(native, rest, max_age), "mark", native)

    async def orderbook(self, native: str, *, timeout: float, max_age: float) -> OrderBook:
        """The socket's book while fresh (waiting up to ``timeout`` for the first frame of a
        new subscription while connected), else REST."""
        return await self.books.get(native, self, timeout=timeout, max_age=max_age)

    async def release_book(self, native: str) -> None:
        await self.books.release(native, self)

    # -- watchers --------------------------------------------------------------------------

    def _start(self, kind: str, native: str) -> None:
        key = (kind, native)
        task = self._tasks.get(key)
        if self._closing or (task is not None and not task.done()):
            return
        self._tasks[key] = asyncio.get_running_loop().create_task(
            self._run(kind, native, self._unified(native)), name=f"ccxt-watch {self.label} {kind} {native}")

    def _stopping(self) -> bool:
        task = asyncio.current_task()
        cancelling = getattr(task, "cancelling", None)  # Python ≥ 3.11
        return self._closing or (callable(cancelling) and cancelling() > 0)

    async def _run(self, kind: str, native: str, unified: str) -> None:
        watch = self.exchange.watch_order_book if kind == _BOOK else self.exchange.watch_ticker
        failures = 0
        while True:
            gen = self._gen
            try:
                value = await watch(unified)
                error: str | None = None
            except asyncio.CancelledError:
                if self._stopping():
                    raise
                value, error = None, "watch cancelled by ccxt.pro"
            except Exception as exc:  # ccxt.pro reconnects on the next call
                value, error = None, f"{type(exc).__name__}: {redact_secrets(str(exc))}"
            if error is not None:
                self.gap(f"{kind} {native}: {error}")
                failures += 1
                if failures == 1 or failures % 20 == 0:
                    log.info("%s: %s %s watch failed (%s); REST answers until the socket delivers again",
                             self.label, kind, native, error[:200])
                await asyncio.sleep(min(self.retry_max, self.retry_delay * 2 ** (failures - 1)))
                continue
            if gen != self._gen:
                continue  # a gap while this call waited: the value may be from before it
            failures = 0
            self._deliver(kind, native, value, self.clock.monotonic())

    def _deliver(self, kind: str, native: str, value: Any, at: float) -> None:
        if not isinstance(value, Mapping):
            return
        if kind == _BOOK:
            self.stats["book_frames"] += 1
            # a copy: ccxt.pro updates its order book object in place
            self.books.on_frame(native, {"bids": _levels(value.get("bids")), "asks": _levels(value.get("asks"))}, at)
            return
        self.stats["mark_frames"] += 1
        mark = mark_of(value, self.mark_field)
        if mark is None:
            log.debug("%s: ticker frame for %s without a mark at %s", self.label, native, self.mark_field)
            return
        self.marks.put_live(native, mark, at)

    @property
    def running(self) -> list[str]:
        """The watchers alive now, ``"<stream> <symbol>"``."""
        return sorted(f"{k} {n}" for (k, n), t in self._tasks.items() if not t.done())

    async def close(self) -> None:
        """Cancel and await every watcher (the exchange closes its sockets afterwards)."""
        self._closing = True
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
