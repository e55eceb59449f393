"""Market data a socket keeps, exchange-neutral: timed, gap-aware caches and order-book
streams held per symbol.

Decisions:
* One staleness rule (``TimedCache``): an entry is served only while younger than the
  read's bound AND received after the last gap of the socket that feeds it (``mark_gap``:
  the socket ended, messages may be lost). ``put`` (a REST row stamped with the time its
  request was sent) never replaces a newer entry.
* A book stream (``BookStreams``) is subscribed while anyone holds it; a read waits for the
  first frame after a (re)subscription, else asks REST through the fallback log of
  ``base_ws_state`` (``FallbackLog``), and a frame that arrived after that request wins.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterator
from typing import Any, Generic, NamedTuple, Protocol, TypeVar, cast

from mpdex.clock import Clock
from mpdex.types import OrderBook

from .base_ws_state import FallbackLog

__all__ = [
    "BookStreams",
    "Holds",
    "ParsedCache",
    "Stamp",
    "Subscriber",
    "TimedCache",
]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
P = TypeVar("P")
_UNPARSED: Any = object()


class Stamp(NamedTuple):
    """When a value was observed: ``clock.monotonic()`` (request sent / frame received)
    and the cache's gap count at that moment."""

    at: float
    epoch: int


# ============================================================================ caches
class TimedCache(Generic[K, V]):
    """Values by key with the time they were observed; see the staleness rule above."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        #: number of gaps so far; entries from an earlier epoch are never fresh
        self.epoch = 0
        self._entries: dict[K, list[Any]] = {}  # key -> [stamp, epoch, value, parsed]
        self._waiters: dict[K, asyncio.Event] = {}

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def stamp(self) -> Stamp:
        """Take this before sending a request whose answer will be ``put``."""
        return Stamp(self.clock.monotonic(), self.epoch)

    def put_live(self, key: K, value: V, at: float) -> None:
        """A frame received at ``at`` on the current socket: always the newest value."""
        self._entries[key] = [at, self.epoch, value, _UNPARSED]
        if self._waiters:
            waiter = self._waiters.get(key)
            if waiter is not None:
                waiter.set()

    def put(self, key: K, value: V, stamp: Stamp) -> bool:
        """A value observed at ``stamp`` (a REST answer: the stamp taken before sending).
        A newer entry is kept; returns whether ``value`` was stored."""
        old = self._entries.get(key)
        if old is not None and (old[1], old[0]) > (stamp.epoch, stamp.at):
            return False
        self._entries[key] = [stamp.at, stamp.epoch, value, _UNPARSED]
        return True

    def _fresh(self, key: K, max_age: float) -> list[Any] | None:
        entry = self._entries.get(key)
        if entry is None or entry[1] != self.epoch or self.clock.monotonic() - entry[0] > max_age:
            return None
        return entry

    def get(self, key: K, max_age: float) -> V | None:
        """The value if fresh by the rule, else ``None``."""
        entry = self._fresh(key, max_age)
        return None if entry is None else cast(V, entry[2])

    def observed_at(self, key: K) -> Stamp | None:
        """The stamp of the entry (fresh or not)."""
        entry = self._entries.get(key)
        return None if entry is None else Stamp(entry[0], entry[1])

    def newer_than(self, key: K, stamp: Stamp) -> bool:
        """Whether the entry was observed at or after ``stamp`` (e.g. a frame that beat a
        REST answer whose request was sent at ``stamp``)."""
        entry = self._entries.get(key)
        return entry is not None and (entry[1], entry[0]) >= (stamp.epoch, stamp.at)

    async def fetch(self, key: K, fetch: Callable[[], Awaitable[V]], max_age: float) -> V:
        """``await fetch()`` (a REST read) cached with the time its request was sent; the
        newest value is returned: a fresh socket value that arrived meanwhile wins."""
        stamp = self.stamp()
        value = await fetch()
        if not self.put(key, value, stamp):
            newer = self.get(key, max_age)
            if newer is not None:
                return newer
        return value

    def mark_gap(self) -> None:
        """The feeding socket ended: nothing cached so far counts as fresh any more."""
        self.epoch += 1

    def discard(self, key: K) -> None:
        self._entries.pop(key, None)

    async def wait(self, key: K, max_age: float, deadline: float) -> V | None:
        """The fresh value, waiting for a ``put_live`` until ``deadline`` (monotonic)."""
        while True:
            value = self.get(key, max_age)
            remaining = deadline - self.clock.monotonic()
            if value is not None or remaining <= 0:
                return value
            waiter = self._waiters.setdefault(key, asyncio.Event())
            try:
                await asyncio.wait_for(waiter.wait(), remaining)
            except asyncio.TimeoutError:
                return self.get(key, max_age)
            finally:
                if self._waiters.get(key) is waiter:
                    del self._waiters[key]


class ParsedCache(TimedCache[K, V], Generic[K, V, P]):
    """A ``TimedCache`` whose reads parse each stored value once (not once per read).
    ``parse(value, received_ms)`` gets the wall-clock ms at which the value was observed."""

    def __init__(self, clock: Clock, parse: Callable[[V, int], P]) -> None:
        super().__init__(clock)
        self._parse = parse

    def parsed(self, key: K, max_age: float) -> P | None:
        entry = self._fresh(key, max_age)
        if entry is None:
            return None
        if entry[3] is _UNPARSED:
            clock = self.clock
            received_ms = clock.now_ms() - int((clock.monotonic() - entry[0]) * 1000)
            entry[3] = self._parse(cast(V, entry[2]), received_ms)
        return cast(P, entry[3])


class Holds(Generic[K]):
    """Which holders keep which topic (e.g. an order-book stream per exchange instance)."""

    def __init__(self) -> None:
        self._holders: dict[K, set[Hashable]] = {}

    def __contains__(self, topic: object) -> bool:
        return topic in self._holders

    def __iter__(self) -> Iterator[K]:
        return iter(list(self._holders))

    def add(self, topic: K, holder: Hashable) -> bool:
        """Returns whether this is the topic's first holder."""
        holders = self._holders.setdefault(topic, set())
        first = not holders
        holders.add(holder)
        return first

    def remove(self, topic: K, holder: Hashable) -> bool:
        """Returns whether ``holder`` was the topic's last holder."""
        holders = self._holders.get(topic)
        if not holders or holder not in holders:
            return False
        holders.discard(holder)
        if holders:
            return False
        del self._holders[topic]
        return True

    def topics_of(self, holder: Hashable) -> list[K]:
        return [t for t, h in self._holders.items() if holder in h]


class Subscriber(Protocol):
    """What a book stream needs of its socket (``BaseWSClient`` is one)."""

    @property
    def clock(self) -> Clock: ...
    @property
    def connected(self) -> bool: ...
    async def subscribe(self, *topics: Hashable) -> None: ...
    async def unsubscribe(self, *topics: Hashable) -> None: ...


class BookStreams(Generic[V]):
    """Order books streamed per symbol (each frame a full snapshot), held by holders.

    The first hold subscribes ``topic(symbol)``, the last release unsubscribes and forgets
    the book. Each frame is parsed once (``parse(raw, received_ms)``), each read gets a copy.
    ``get`` serves a fresh book, waits for the first frame up to ``timeout`` after the
    (re)subscription while connected, else asks REST (``fetch(symbol)``, logged) — unless a
    frame arrived after that request went out. The venue calls ``on_frame`` from its
    handler and ``connected()`` on every new socket; ``mark_gap`` is wired with ``track``."""

    def __init__(
        self, link: Subscriber, *, topic: Callable[[str], Hashable], parse: Callable[[V, int], OrderBook],
        fetch: Callable[[str], Awaitable[V]], fallback: FallbackLog,
    ) -> None:
        self.link, self._topic, self._parse, self._fetch, self._fallback = link, topic, parse, fetch, fallback
        self.cache: ParsedCache[str, V, OrderBook] = ParsedCache(link.clock, parse)
        self.holds: Holds[str] = Holds()
        self._since: dict[str, float] = {}  # when each symbol's current subscription began

    def __contains__(self, symbol: object) -> bool:
        return symbol in self.holds

    @property
    def held(self) -> list[str]:
        return list(self.holds)

    def on_frame(self, symbol: str, raw: V, at: float) -> None:
        """A snapshot received at ``at``; dropped once nobody holds the symbol (a frame in flight)."""
        if symbol in self.holds:
            self.cache.put_live(symbol, raw, at)

    def mark_gap(self) -> None:
        self.cache.mark_gap()

    def connected(self) -> None:
        now = self.link.clock.monotonic()
        for symbol in self.holds:
            self._since[symbol] = now

    def book(self, symbol: str, max_age: float) -> OrderBook | None:
        """The fresh book (best first), a copy the caller may edit; ``None`` when not fresh."""
        book = self.cache.parsed(symbol, max_age)
        if book is None:
            return None
        return {"bids": [lv[:] for lv in book["bids"]], "asks": [lv[:] for lv in book["asks"]], "time": book["time"]}

    async def hold(self, symbol: str, holder: Hashable) -> None:
        if self.holds.add(symbol, holder):
            self._since[symbol] = self.link.clock.monotonic()
            await self.link.subscribe(self._topic(symbol))

    async def release(self, symbol: str, holder: Hashable) -> None:
        if self.holds.remove(symbol, holder):
            self._since.pop(symbol, None)
            self.cache.discard(symbol)
            await self.link.unsubscribe(self._topic(symbol))

    async def release_holder(self, holder: Hashable) -> None:
        for symbol in self.holds.topics_of(holder):
            await self.release(symbol, holder)

    async def get(self, symbol: str, holder: Hashable, *, timeout: float, max_age: float) -> OrderBook:
        await self.hold(symbol, holder)
        book = self.book(symbol, max_age)
        if book is not None:
            return book
        deadline = self._since.get(symbol, 0.0) + timeout
        if self.link.connected and await self.cache.wait(symbol, max_age, deadline) is not None:
            book = self.book(symbol, max_age)
            if book is not None:
                return book
        self._fallback("orderbook", symbol)
        stamp, sent_ms = self.cache.stamp(), self.link.clock.now_ms()
        raw = await self._fetch(symbol)
        newer = self.book(symbol, max_age) if self.cache.newer_than(symbol, stamp) else None
        return newer or self._parse(raw, sent_ms)
