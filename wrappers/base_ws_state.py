"""Private state a socket keeps for one account, exchange-neutral: versioned REST snapshots,
the order tracker with its waiters, the account's private state, and the socket-first /
REST-fallback read (logged). Market data (timed caches, book streams) is ``base_ws_cache``.

Decisions:
* Private state (``PrivateState``) is served from memory only while the private stream is
  live (reconciled on this socket, heard from within the bound) and no change we could not
  see (our own request, a fill, a gap) happened since its snapshot was taken (versions).
  Otherwise a REST snapshot answers whose request was sent after the read began; one
  request in flight per snapshot, shared by every reader.
* The order tracker keeps open orders by id, a bounded window of recent final orders, an
  index by client order id, event sequence numbers (a REST snapshot never overwrites newer
  events) and status ranks (a late NEW never revives a final order). A venue supplies a
  small ``OrderCodec``: ids, status rank, merge, parse to ``OrderRecord``.
* Every REST fallback, private or market data, is counted and logged by one ``FallbackLog``
  (at most one line per kind per interval).
"""
from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from typing import Any, Generic, Protocol, TypeVar, cast

from mpdex.clock import Clock
from mpdex.errors import ExchangeError, MpdexError, NetworkError, RequestTimeout
from mpdex.types import OrderRecord

__all__ = [
    "FallbackLog",
    "FieldOrderCodec",
    "OrderCodec",
    "OrderTracker",
    "PrivateState",
    "RestSnapshot",
    "Spawn",
    "StreamLink",
]

log = logging.getLogger("mpdex.ws.state")

T = TypeVar("T")
_T = TypeVar("_T")


class Spawn(Protocol):
    """Runs a coroutine as a task owned by someone who cancels it on close."""

    def __call__(self, coro: Coroutine[Any, Any, _T], name: str) -> asyncio.Task[_T]: ...


def _plain_spawn(coro: Coroutine[Any, Any, _T], name: str) -> asyncio.Task[_T]:
    task = asyncio.get_running_loop().create_task(coro, name=name)
    task.add_done_callback(lambda t: t.cancelled() or t.exception())  # retrieved: no warning
    return task



# ========================================================================= snapshots
class RestSnapshot(Generic[T]):
    """One state read over REST (an account, the open-order list), versioned.

    ``invalidate()`` bumps the version; a snapshot whose request was sent at an older
    version is never ``current``. One request is in flight at a time (``refresh``)."""

    def __init__(
        self, fetch: Callable[[], Awaitable[T]], *, clock: Clock, spawn: Spawn | None = None, name: str = "refresh"
    ) -> None:
        self._fetch = fetch
        self.clock = clock
        self._spawn: Spawn = spawn or _plain_spawn
        self.name = name
        self.version = 1
        self._value: T | None = None
        self._taken: tuple[float, int] | None = None  # (request sent at, version then)
        self._task: asyncio.Task[T] | None = None

    @property
    def value(self) -> T | None:
        return self._value

    @property
    def taken_at(self) -> float | None:
        """``clock.monotonic()`` at which the stored snapshot's request was sent."""
        return None if self._taken is None else self._taken[0]

    def invalidate(self) -> None:
        """Something changed that the stream may not show: stored snapshots are outdated."""
        self.version += 1

    mark_gap = invalidate

    def current(self) -> bool:
        return self._taken is not None and self._taken[1] == self.version

    def fresh(self, max_age: float) -> bool:
        taken = self._taken
        return taken is not None and taken[1] == self.version and self.clock.monotonic() - taken[0] <= max_age

    def put(self, value: T, sent_at: float, version: int) -> bool:
        """Store a snapshot observed at ``sent_at`` under ``version`` unless a newer one is stored."""
        taken = self._taken
        if taken is not None and (taken[1], taken[0]) > (version, sent_at):
            return False
        self._value, self._taken = value, (sent_at, version)
        return True

    def refresh(self) -> asyncio.Task[T]:
        """The request in flight, or a new one."""
        task = self._task
        if task is None or task.done():
            task = self._task = self._spawn(self._run(), self.name)
        return task

    async def _run(self) -> T:
        sent, version = self.clock.monotonic(), self.version
        value = await self._fetch()
        self.put(value, sent, version)
        return value

    async def ensure(self, max_age: float, *, since: float | None = None) -> T:
        """A snapshot taken at the version of this call (or later), younger than ``max_age``,
        and — with ``since`` — whose request was sent at or after ``since``. Joins the
        request in flight; at most one more is started after it."""
        target, entered = self.version, self.clock.monotonic()
        while True:
            taken = self._taken
            if taken is not None and taken[1] >= target and (since is None or taken[0] >= since) and (
                self.clock.monotonic() - taken[0] <= max_age or taken[0] >= entered
            ):
                return cast(T, self._value)
            await asyncio.shield(self.refresh())


# ========================================================================= logging
class FallbackLog:
    """Counts REST fallbacks (``stats["rest_fallbacks"]``) and logs at most one line per
    kind every ``every`` seconds; also the socket-first / REST-fallback read itself."""

    def __init__(
        self, logger: logging.Logger, label: str, clock: Clock, stats: dict[str, int], every: float = 10.0
    ) -> None:
        self.logger, self.label, self.clock, self.stats, self.every = logger, label, clock, stats, every
        self.stats.setdefault("rest_fallbacks", 0)
        self._last: dict[str, float] = {}

    def __call__(self, kind: str, what: str) -> None:
        self.stats["rest_fallbacks"] += 1
        now = self.clock.monotonic()
        last = self._last.get(kind)
        if last is None or now - last >= self.every:
            self._last[kind] = now
            self.logger.info("%s: %s %s: socket data missing or older than the bound; using REST "
                             "(%d fallbacks so far)", self.label, kind, what, self.stats["rest_fallbacks"])

    async def read(self, cached: T | None, fetch: Callable[[], Awaitable[T]], kind: str, what: str) -> T:
        """``cached`` when the socket had it fresh, else ``await fetch()`` (logged)."""
        if cached is not None:
            return cached
        self(kind, what)
        return await fetch()


# =================================================================== order tracking
class OrderCodec(Protocol):
    """What the tracker needs to know about one venue's order objects (raw mappings as the
    stream and REST deliver them, and the merged dicts the tracker keeps)."""

    def order_id(self, raw: Mapping[str, Any]) -> str | None: ...
    def client_id(self, raw: Mapping[str, Any]) -> str | None: ...
    def status(self, raw: Mapping[str, Any]) -> str: ...
    def canon(self, status: str) -> str:
        """A caller's status name in the form ``status()`` returns."""
        ...
    def rank(self, status: str) -> int:
        """Order of life: an update of lower rank than the known state is ignored."""
        ...
    def is_final(self, status: str) -> bool: ...
    def symbol(self, raw: Mapping[str, Any]) -> str | None: ...
    def merge(self, previous: Mapping[str, Any] | None, event: Mapping[str, Any]) -> dict[str, Any]: ...
    def parse(self, raw: Mapping[str, Any]) -> OrderRecord:
        """Raises ``ExchangeError`` for an incomplete object (a partial event)."""
        ...


class FieldOrderCodec:
    """An ``OrderCodec`` for flat order objects, declared by field names: statuses are
    compared upper-case; ``ranks`` orders the open statuses, every other status ranks
    above them (a later state); ``final`` lists the statuses after which nothing changes.
    Events merge over what is known (newer fields win)."""

    def __init__(
        self, *, id_field: str, client_id_field: str, status_field: str, symbol_field: str,
        ranks: Mapping[str, int], final: Iterable[str], parse: Callable[[Mapping[str, Any]], OrderRecord],
    ) -> None:
        self.id_field, self.client_id_field = id_field, client_id_field
        self.status_field, self.symbol_field = status_field, symbol_field
        self.ranks = {k.upper(): v for k, v in ranks.items()}
        self._after = max(self.ranks.values(), default=0) + 1
        self.final = frozenset(s.upper() for s in final)
        self._parse = parse

    def order_id(self, raw: Mapping[str, Any]) -> str | None:
        oid = raw.get(self.id_field)
        return str(oid) if oid else None

    def client_id(self, raw: Mapping[str, Any]) -> str | None:
        cid = raw.get(self.client_id_field)
        return None if cid is None else str(cid)

    def status(self, raw: Mapping[str, Any]) -> str:
        return str(raw.get(self.status_field) or "").upper()

    def canon(self, status: str) -> str:
        return str(status).upper()

    def rank(self, status: str) -> int:
        return self.ranks.get(status, self._after)

    def is_final(self, status: str) -> bool:
        return status in self.final

    def symbol(self, raw: Mapping[str, Any]) -> str | None:
        symbol = raw.get(self.symbol_field)
        return None if symbol is None else str(symbol)

    def merge(self, previous: Mapping[str, Any] | None, event: Mapping[str, Any]) -> dict[str, Any]:
        return {**previous, **event} if previous else dict(event)

    def parse(self, raw: Mapping[str, Any]) -> OrderRecord:
        return self._parse(raw)


_Waiter = tuple[frozenset[str], "asyncio.Future[OrderRecord]"]


class OrderTracker:
    """Open and recently final orders of one account, kept from events and REST snapshots,
    and the waiters of ``wait_for_order``. ``lookup(client_id)`` asks REST for one order
    (the row, or ``None``); it backs waiters at their deadline and partial events."""

    def __init__(
        self,
        codec: OrderCodec,
        *,
        lookup: Callable[[str], Awaitable[Mapping[str, Any] | None]] | None = None,
        spawn: Spawn | None = None,
        fallback: FallbackLog | None = None,
        recent_final: int = 2000,
        label: str = "ws",
    ) -> None:
        self.codec = codec
        self._lookup = lookup
        self._spawn: Spawn = spawn or _plain_spawn
        self._fallback = fallback
        self.recent_final = recent_final
        self.label = label
        #: open orders by id (merged raw objects)
        self.open: dict[str, dict[str, Any]] = {}
        #: recent final orders by id, oldest first, at most ``recent_final``
        self.final: OrderedDict[str, dict[str, Any]] = OrderedDict()
        #: order id by client order id
        self.by_client_id: dict[str, str] = {}
        #: the event sequence number of each order's latest event
        self.order_seq: dict[str, int] = {}
        self._seq = 0
        self._waiters: dict[str, list[_Waiter]] = {}

    @property
    def seq(self) -> int:
        """Events applied so far; take it before a REST snapshot is requested."""
        return self._seq

    def get(self, order_id: str) -> dict[str, Any] | None:
        return self.open.get(order_id) or self.final.get(order_id)

    def find(self, client_order_id: Any) -> dict[str, Any] | None:
        """The latest known raw order for a client order id, if any."""
        oid = self.by_client_id.get(str(client_order_id))
        return None if oid is None else self.get(oid)

    def open_orders(self, symbol: str | None = None) -> list[OrderRecord]:
        """Parsed open orders (optionally of one symbol), oldest first."""
        codec = self.codec
        orders = [codec.parse(o) for o in self.open.values() if symbol is None or codec.symbol(o) == symbol]
        orders.sort(key=lambda o: (o["created_at"] or 0, o["id"]))
        return orders

    def apply(self, event: Mapping[str, Any], *, from_rest: bool = False) -> dict[str, Any] | None:
        """Fold one order event (or a REST row) in; returns the merged order, or ``None``
        when it was ignored (no id, or older than what is known)."""
        codec = self.codec
        oid = codec.order_id(event)
        if not oid:
            return None
        self._seq += 1
        self.order_seq[oid] = self._seq
        previous = self.get(oid)
        order = codec.merge(previous, event)
        status = codec.status(order)
        if previous and codec.rank(codec.status(previous)) > codec.rank(status):
            return None  # a late NEW after the order already ended
        cid = codec.client_id(order)
        if cid is not None:
            self.by_client_id[cid] = oid
        if codec.is_final(status):
            self.open.pop(oid, None)
            self.final[oid] = order
            self.final.move_to_end(oid)
            while len(self.final) > self.recent_final:
                old_id, old = self.final.popitem(last=False)  # bounded memory over days
                self._forget(old_id, old)
        else:
            self.open[oid] = order
        self._resolve(order, ask_rest=not from_rest)
        return order

    def snapshot(self, rows: Iterable[Mapping[str, Any]], since_seq: int) -> None:
        """Replace the open orders with a REST snapshot requested when ``seq`` was
        ``since_seq``; events newer than the request win."""
        codec = self.codec
        fresh: dict[str, dict[str, Any]] = {}
        for row in rows:
            oid = codec.order_id(row)
            if oid:
                fresh[oid] = dict(row)
        for oid, order in self.open.items():  # events that arrived while the request was in flight
            if self.order_seq.get(oid, 0) > since_seq:
                fresh[oid] = codec.merge(fresh.get(oid), order)
        for oid in list(fresh):
            if oid in self.final and self.order_seq.get(oid, 0) > since_seq:
                del fresh[oid]
        for oid, order in self.open.items():
            if oid not in fresh and oid not in self.final:  # ended unseen: forget its index entries
                self._forget(oid, order)
        self.open = fresh
        for oid, order in fresh.items():
            cid = codec.client_id(order)
            if cid is not None:
                self.by_client_id[cid] = oid

    def _forget(self, oid: str, order: Mapping[str, Any]) -> None:
        self.order_seq.pop(oid, None)
        cid = self.codec.client_id(order)
        if cid is not None and self.by_client_id.get(cid) == oid:
            del self.by_client_id[cid]

    # ----------------------------------------------------------------- waiters
    def waiting(self) -> list[str]:
        """Client order ids someone is waiting for."""
        return list(self._waiters)

    def _matches(self, order: Mapping[str, Any], wanted: frozenset[str]) -> bool:
        status = self.codec.status(order)
        return status in wanted or self.codec.is_final(status)

    async def wait_for_order(
        self, client_order_id: Any, statuses: str | Iterable[str], timeout: float, *, ask_rest: bool = True
    ) -> OrderRecord:
        """The order once it is in one of ``statuses`` or final (check the returned status).
        At the deadline REST is asked once (``lookup``; not with ``ask_rest=False``);
        ``RequestTimeout`` otherwise."""
        raw = [statuses] if isinstance(statuses, str) else list(statuses)
        wanted = frozenset(self.codec.canon(s) for s in raw)
        cid = str(client_order_id)
        known = self.find(cid)
        if known is not None and self._matches(known, wanted):
            return self.codec.parse(known)
        fut: asyncio.Future[OrderRecord] = asyncio.get_running_loop().create_future()
        entry = (wanted, fut)
        self._waiters.setdefault(cid, []).append(entry)
        try:
            return await asyncio.wait_for(asyncio.shield(fut), timeout)
        except asyncio.TimeoutError:
            pass
        finally:
            waiters = self._waiters.get(cid)
            if waiters and entry in waiters:
                waiters.remove(entry)
                if not waiters:
                    del self._waiters[cid]
        order = await self.check(cid) if ask_rest else self.find(cid)
        if order is not None and self._matches(order, wanted):
            if self._fallback is not None:
                self._fallback("wait_for_order", cid)
            return self.codec.parse(order)
        known = order or self.find(cid)
        last = self.codec.status(known) if known else "unknown"
        raise RequestTimeout(
            f"order {cid} did not reach {'/'.join(sorted(wanted))} within {timeout}s (last known status: {last})"
        )

    async def check(self, client_order_id: str) -> dict[str, Any] | None:
        """Ask REST for the order and fold the answer in (resolving waiters it satisfies)."""
        if self._lookup is None:
            return self.find(client_order_id)
        row = await self._lookup(client_order_id)
        if row is None:
            return None
        oid = self.codec.order_id(row)
        if not oid:
            return None
        known = self.get(oid)
        if known is None or self.codec.rank(self.codec.status(row)) >= self.codec.rank(self.codec.status(known)):
            self.apply(row, from_rest=True)
        return self.find(client_order_id)

    def fail_waiters(self, exc: BaseException) -> None:
        for waiters in self._waiters.values():
            for _, fut in waiters:
                if not fut.done():
                    fut.set_exception(exc)
        self._waiters.clear()

    def _resolve(self, order: Mapping[str, Any], ask_rest: bool) -> None:
        if not self._waiters:
            return
        cid = self.codec.client_id(order)
        waiters = self._waiters.get(cid) if cid is not None else None
        if not waiters:
            return
        parsed: OrderRecord | None = None
        for wanted, fut in list(waiters):
            if not fut.done() and self._matches(order, wanted):
                if parsed is None:
                    try:
                        parsed = self.codec.parse(order)
                    except ExchangeError:
                        # a partial event (e.g. CANCELLED of an order we never saw): ask REST
                        if ask_rest and cid is not None:
                            self._spawn(self._check_quietly(cid), "order-check")
                        return
                fut.set_result(parsed)

    async def _check_quietly(self, cid: str) -> None:
        try:
            await self.check(cid)
        except MpdexError as exc:
            log.warning("%s: order %s lookup failed (%s)", self.label, cid, exc)


# ===================================================================== private state
class StreamLink(Protocol):
    """What private state needs to know about its socket (``BaseWSClient`` is one)."""

    @property
    def clock(self) -> Clock: ...
    @property
    def generation(self) -> int: ...
    @property
    def connected(self) -> bool: ...
    @property
    def closed(self) -> bool: ...
    @property
    def last_message_at(self) -> float: ...
    @property
    def recv_timeout(self) -> float: ...
    def spawn(self, coro: Coroutine[Any, Any, _T], name: str) -> asyncio.Task[_T]: ...


class PrivateState:
    """An account's orders and account snapshot as one socket's private stream keeps them.

    The venue supplies the codec and three REST reads: ``fetch_open_orders()`` (rows of
    every open order), ``fetch_account()`` (the raw account: positions, collateral) and
    ``lookup_order(client_id)`` (one order row or ``None``). It calls ``on_event`` for each
    order event, ``on_fill`` when positions/collateral changed, ``connected()`` on every new
    socket; ``mark_gap`` is wired with ``BaseWSClient.track``."""

    def __init__(
        self,
        codec: OrderCodec,
        link: StreamLink,
        *,
        fetch_open_orders: Callable[[], Awaitable[Iterable[Mapping[str, Any]]]],
        fetch_account: Callable[[], Awaitable[Mapping[str, Any]]],
        lookup_order: Callable[[str], Awaitable[Mapping[str, Any] | None]],
        fallback: FallbackLog,
        stats: dict[str, int],
        max_age: float,
        recent_final: int = 2000,
        label: str = "ws",
        logger: logging.Logger = log,
    ) -> None:
        self.link, self.max_age, self.stats, self.label, self._log = link, max_age, stats, label, logger
        self._fallback = fallback
        self._fetch_open = fetch_open_orders
        self.tracker = OrderTracker(codec, lookup=lookup_order, spawn=link.spawn, fallback=fallback,
                                    recent_final=recent_final, label=label)
        self.orders: RestSnapshot[None] = RestSnapshot(self._fetch_orders, clock=link.clock, spawn=link.spawn,
                                                       name="orders-refresh")
        self.account: RestSnapshot[Mapping[str, Any]] = RestSnapshot(
            fetch_account, clock=link.clock, spawn=link.spawn, name="account-refresh")
        #: the socket generation whose reconcile completed (-1: none since the last gap)
        self.synced_generation = -1
        self._fill_refresh: asyncio.Task[None] | None = None  # one refresher serves every fill
        for name in ("reconciles", "order_events"):
            stats.setdefault(name, 0)

    # ----------------------------------------------------------------- freshness
    @property
    def live(self) -> bool:
        """Reconciled on the current socket, connected, heard from within the watchdog bound."""
        link = self.link
        return (self.synced_generation == link.generation and link.connected
                and link.clock.monotonic() - link.last_message_at <= link.recv_timeout)

    def heard_within(self, max_age: float) -> bool:
        """Live and heard from within ``max_age``: the stream would have shown a change."""
        return self.live and self.link.clock.monotonic() - self.link.last_message_at <= max_age

    def invalidate(self, *, orders: bool = True, account: bool = True) -> None:
        """A change the stream may not have shown yet (e.g. our own request)."""
        if orders:
            self.orders.invalidate()
        if account:
            self.account.invalidate()

    def mark_gap(self) -> None:
        self.synced_generation = -1
        self.invalidate()

    # ---------------------------------------------------------------- reads
    async def get_open_orders(self, symbol: str | None = None, max_age: float | None = None) -> list[OrderRecord]:
        bound = self.max_age if max_age is None else max_age
        if not (self.orders.current() and self.heard_within(bound)):
            self._fallback("open_orders", symbol or "*")
            await self.orders.ensure(bound, since=self._since())
        return self.tracker.open_orders(symbol)

    async def get_account(self, max_age: float | None = None) -> Mapping[str, Any]:
        bound = self.max_age if max_age is None else max_age
        if self.account.fresh(bound) and self.heard_within(bound):
            return cast(Mapping[str, Any], self.account.value)
        self._fallback("account", "*")
        return await self.account.ensure(bound, since=self._since())

    def _since(self) -> float | None:
        # without a live stream nothing keeps a snapshot current: only one requested now counts
        return None if self.live else self.link.clock.monotonic()

    # -------------------------------------------------------------- stream input
    def on_event(self, raw: Mapping[str, Any], *, from_rest: bool = False) -> dict[str, Any] | None:
        self.stats["order_events"] += 1
        return self.tracker.apply(raw, from_rest=from_rest)

    def on_fill(self) -> None:
        """Positions/collateral changed: the account snapshot is outdated; refresh it now."""
        self.account.invalidate()
        task = self._fill_refresh
        if task is None or task.done():  # a running one loops until it has seen this version
            self._fill_refresh = self.link.spawn(self._refresh_after_fill(), "account-refresh-on-fill")

    async def _refresh_after_fill(self) -> None:
        try:
            while not self.account.current() and not self.link.closed:
                await self.account.ensure(self.max_age)
        except MpdexError as exc:
            self._log.warning("%s: account refresh after a fill failed (%s)", self.label, exc)

    async def _fetch_orders(self) -> None:
        seq = self.tracker.seq
        rows = await self._fetch_open()
        self.tracker.snapshot(rows, seq)

    def connected(self) -> None:
        """A new socket: rebuild from REST (events may have been missed meanwhile)."""
        self.invalidate()
        gen = self.link.generation
        self.link.spawn(self.reconcile(gen), "reconcile")

    async def reconcile(self, generation: int) -> None:
        """Orders, account and pending waiters from REST; then the stream counts as live."""
        try:
            await asyncio.gather(self.orders.ensure(self.max_age), self.account.ensure(self.max_age))
            for cid in self.tracker.waiting():
                await self.tracker.check(cid)
        except MpdexError as exc:
            self._log.warning("%s: reconcile after connect failed (%s); reads use REST until it succeeds",
                              self.label, exc)
            return
        if generation == self.link.generation:  # (a dead socket is not live anyway)
            self.synced_generation = generation
            self.stats["reconciles"] += 1

    def close(self) -> None:
        self.tracker.fail_waiters(NetworkError("the socket client was closed"))
