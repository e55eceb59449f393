"""The exchange-neutral socket state on its own, with a hand-moved clock: the staleness
rule, parsed caches, holds, versioned single-flight snapshots, the fallback log, the order
tracker and its waiters, and private state's freshness."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

import pytest

from mpdex.errors import ExchangeError, NetworkError, RequestTimeout
from mpdex.types import OrderRecord
from wrappers.base_ws_cache import BookStreams, Holds, ParsedCache, Stamp, TimedCache
from wrappers.base_ws_state import FallbackLog, FieldOrderCodec, OrderTracker, PrivateState, RestSnapshot

from ..conftest import FakeClock

_T = TypeVar("_T")


# ------------------------------------------------------------------------ caches
def test_entries_are_fresh_within_the_bound_and_only_since_the_last_gap(fake_clock: FakeClock) -> None:
    cache: TimedCache[str, str] = TimedCache(fake_clock)
    cache.put_live("BTC", "a", fake_clock.monotonic())
    fake_clock.advance(4.9)
    assert cache.get("BTC", 5.0) == "a"
    fake_clock.advance(0.2)
    assert cache.get("BTC", 5.0) is None and cache.get("BTC", 6.0) == "a"
    cache.put_live("BTC", "b", fake_clock.monotonic())
    cache.mark_gap()  # the socket ended: even a 0 s old entry is not served
    assert cache.get("BTC", 5.0) is None and "BTC" in cache
    cache.put_live("BTC", "c", fake_clock.monotonic())  # the new connection delivered it
    assert cache.get("BTC", 5.0) == "c"


def test_a_rest_value_is_stamped_when_sent_and_never_replaces_a_newer_entry(fake_clock: FakeClock) -> None:
    cache: TimedCache[str, str] = TimedCache(fake_clock)
    sent = cache.stamp()  # the request goes out …
    fake_clock.advance(0.3)
    cache.put_live("BTC", "socket", fake_clock.monotonic())  # … a frame arrives meanwhile …
    fake_clock.advance(0.3)
    assert cache.put("BTC", "rest", sent) is False  # … and the older REST answer is dropped
    assert cache.get("BTC", 5.0) == "socket"
    later = cache.stamp()
    fake_clock.advance(0.1)
    assert cache.put("BTC", "rest2", later) is True and cache.get("BTC", 5.0) == "rest2"
    assert cache.observed_at("BTC") == later
    fake_clock.advance(4.95)  # its age counts from the send, not the answer
    assert cache.get("BTC", 5.0) is None


def test_a_rest_value_sent_before_a_gap_is_not_fresh(fake_clock: FakeClock) -> None:
    cache: TimedCache[str, str] = TimedCache(fake_clock)
    sent = cache.stamp()
    cache.mark_gap()
    assert cache.put("BTC", "rest", sent) is True  # kept (nothing newer) …
    assert cache.get("BTC", 5.0) is None  # … but not served: it may predate what the gap hid
    after = cache.stamp()
    assert cache.put("BTC", "rest-after", after) and cache.get("BTC", 5.0) == "rest-after"
    assert cache.put("BTC", "old", sent) is False  # an older epoch never replaces a newer one


async def test_wait_returns_the_first_live_value_or_none_at_the_deadline(fake_clock: FakeClock) -> None:
    cache: TimedCache[str, str] = TimedCache(fake_clock)
    waiter = asyncio.create_task(cache.wait("BTC", 5.0, fake_clock.monotonic() + 2.0))
    await asyncio.sleep(0)
    cache.put_live("BTC", "x", fake_clock.monotonic())
    assert await waiter == "x"
    assert await cache.wait("ETH", 5.0, fake_clock.monotonic() + 0.02) is None
    assert await cache.wait("ETH", 5.0, fake_clock.monotonic()) is None  # a past deadline: no wait
    assert not cache._waiters


def test_a_parsed_cache_parses_each_frame_once_with_its_receive_time(fake_clock: FakeClock) -> None:
    calls: list[tuple[str, int]] = []

    def parse(raw: str, received_ms: int) -> dict[str, Any]:
        calls.append((raw, received_ms))
        return {"raw": raw, "time": received_ms}

    cache: ParsedCache[str, str, dict[str, Any]] = ParsedCache(fake_clock, parse)
    t0 = fake_clock.now_ms()
    cache.put_live("BTC", "f1", fake_clock.monotonic())
    fake_clock.advance(0.25)
    first = cache.parsed("BTC", 5.0)
    assert first == {"raw": "f1", "time": t0} and cache.parsed("BTC", 5.0) is first
    assert calls == [("f1", t0)]
    cache.put_live("BTC", "f2", fake_clock.monotonic())
    assert cache.parsed("BTC", 5.0) == {"raw": "f2", "time": t0 + 250} and len(calls) == 2
    cache.mark_gap()
    assert cache.parsed("BTC", 5.0) is None and len(calls) == 2


def test_holds_count_holders_per_topic() -> None:
    holds: Holds[str] = Holds()
    assert holds.add("BTC", "ex1") is True and holds.add("BTC", "ex2") is False and holds.add("ETH", "ex1")
    assert holds.topics_of("ex1") == ["BTC", "ETH"] and list(holds) == ["BTC", "ETH"]
    assert holds.remove("BTC", "nobody") is False
    assert holds.remove("BTC", "ex1") is False and "BTC" in holds
    assert holds.remove("BTC", "ex2") is True and "BTC" not in holds
    assert holds.remove("BTC", "ex2") is False


# --------------------------------------------------------------------- snapshots
class Backend:
    """A REST read that answers when told and counts requests."""

    def __init__(self) -> None:
        self.requests = 0
        self.value = 0
        self.gate: asyncio.Event | None = None

    async def fetch(self) -> int:
        self.requests += 1
        value = self.value
        if self.gate is not None:
            await self.gate.wait()
        return value


async def test_snapshot_refreshes_are_single_flight_and_versioned(fake_clock: FakeClock) -> None:
    rest = Backend()
    snap = RestSnapshot(rest.fetch, clock=fake_clock)
    assert not snap.current() and snap.value is None
    rest.gate = asyncio.Event()
    a, b = snap.refresh(), snap.refresh()
    assert a is b
    rest.gate.set()
    assert await a == 0 and rest.requests == 1 and snap.current() and snap.fresh(5.0)
    fake_clock.advance(5.1)
    assert snap.current() and not snap.fresh(5.0)
    snap.invalidate()
    assert not snap.current()


async def test_ensure_never_serves_a_snapshot_requested_before_the_change(fake_clock: FakeClock) -> None:
    rest = Backend()
    snap = RestSnapshot(rest.fetch, clock=fake_clock)
    rest.gate = asyncio.Event()
    in_flight = snap.refresh()  # requested before the change below
    await asyncio.sleep(0)
    rest.value = 1
    snap.invalidate()  # e.g. our own order was accepted
    reader = asyncio.create_task(snap.ensure(5.0))
    await asyncio.sleep(0)
    rest.gate.set()
    await in_flight
    assert await reader == 1  # the in-flight answer (0) was not good enough
    assert rest.requests == 2
    assert await snap.ensure(5.0) == 1 and rest.requests == 2  # fresh: no request


async def test_ensure_with_since_wants_a_request_sent_after_the_read_began(fake_clock: FakeClock) -> None:
    rest = Backend()
    snap = RestSnapshot(rest.fetch, clock=fake_clock)
    await snap.ensure(5.0)
    fake_clock.advance(1.0)
    rest.value = 7
    assert await snap.ensure(5.0) == 0 and rest.requests == 1  # within the bound
    assert await snap.ensure(5.0, since=fake_clock.monotonic()) == 7 and rest.requests == 2


async def test_ensure_returns_a_slow_answer_instead_of_looping(fake_clock: FakeClock) -> None:
    class Slow(Backend):
        async def fetch(self) -> int:
            fake_clock.advance(1.0)  # the answer takes longer than the bound
            return await super().fetch()

    rest = Slow()
    snap = RestSnapshot(rest.fetch, clock=fake_clock)
    assert await snap.ensure(0.5) == 0 and rest.requests == 1


def test_a_stored_snapshot_is_replaced_only_by_a_newer_one(fake_clock: FakeClock) -> None:
    snap: RestSnapshot[int] = RestSnapshot(Backend().fetch, clock=fake_clock)
    assert snap.put(1, 10.0, 1)
    assert not snap.put(0, 9.0, 1) and snap.value == 1
    snap.invalidate()
    assert snap.put(2, 9.5, 2) and snap.value == 2 and snap.current()  # a newer version wins


async def test_a_failed_refresh_reaches_every_reader(fake_clock: FakeClock) -> None:
    async def broken() -> int:
        raise NetworkError("down")

    snap = RestSnapshot(broken, clock=fake_clock)
    results = await asyncio.gather(snap.ensure(1.0), snap.ensure(1.0), return_exceptions=True)
    assert [type(r) for r in results] == [NetworkError, NetworkError]


# --------------------------------------------------------------------- fallbacks
async def test_fallbacks_are_counted_and_logged_at_most_once_per_interval(
    fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="test.fallback")
    stats: dict[str, int] = {}
    note = FallbackLog(logging.getLogger("test.fallback"), "sock", fake_clock, stats, every=10.0)

    async def rest() -> str:
        return "rest"

    assert await note.read("cached", rest, "ticker", "BTC") == "cached" and stats["rest_fallbacks"] == 0
    for _ in range(5):
        assert await note.read(None, rest, "ticker", "BTC") == "rest"
    note("account", "*")
    fake_clock.advance(10.0)
    note("ticker", "ETH")
    lines = [r.getMessage() for r in caplog.records]
    assert stats["rest_fallbacks"] == 7
    assert lines == [
        "sock: ticker BTC: socket data missing or older than the bound; using REST (1 fallbacks so far)",
        "sock: account *: socket data missing or older than the bound; using REST (6 fallbacks so far)",
        "sock: ticker ETH: socket data missing or older than the bound; using REST (7 fallbacks so far)",
    ]


# ------------------------------------------------------------------ order tracker
def parse(raw: Mapping[str, Any]) -> OrderRecord:
    if "size" not in raw:
        raise ExchangeError("partial order", raw=raw)
    return {"id": raw["oid"], "order_id": raw["oid"], "client_order_id": raw.get("cid"), "symbol": raw["sym"],
            "side": "buy", "size": float(raw["size"]), "filled_size": 0.0, "price": None, "order_type": "limit",
            "status": str(raw["st"]).upper(), "reduce_only": False, "created_at": raw.get("t"), "raw": raw}


CODEC = FieldOrderCodec(id_field="oid", client_id_field="cid", status_field="st", symbol_field="sym",
                        ranks={"open": 0, "partial": 1}, final={"filled", "canceled"}, parse=parse)


def order(n: int, st: str = "open", **extra: Any) -> dict[str, Any]:
    return {"oid": f"o{n}", "cid": str(n), "sym": "BTC", "size": "1", "st": st, "t": n, **extra}


def test_a_late_open_never_revives_a_final_order() -> None:
    tracker = OrderTracker(CODEC)
    tracker.apply(order(1))
    tracker.apply(order(1, "filled"))
    assert tracker.apply(order(1, "open")) is None
    assert tracker.find(1)["st"] == "filled" and not tracker.open and list(tracker.final) == ["o1"]
    assert tracker.apply({"oid": "o1", "st": "CANCELED"}) is not None  # an equal rank updates


def test_final_orders_are_a_bounded_window_and_their_index_entries_go_with_them() -> None:
    tracker = OrderTracker(CODEC, recent_final=3)
    for n in range(10):
        tracker.apply(order(n))
        tracker.apply({"oid": f"o{n}", "st": "canceled"})  # partial final events merge
    assert list(tracker.final) == ["o7", "o8", "o9"] and tracker.final["o9"]["size"] == "1"
    assert sorted(tracker.by_client_id) == ["7", "8", "9"] and sorted(tracker.order_seq) == ["o7", "o8", "o9"]
    assert tracker.find(2) is None and tracker.find(9)["st"] == "canceled"


def test_a_rest_snapshot_never_overwrites_newer_events() -> None:
    tracker = OrderTracker(CODEC)
    tracker.apply(order(1))
    tracker.apply(order(2))
    tracker.apply(order(3))
    seq = tracker.seq  # the snapshot is requested now …
    tracker.apply(order(1, "partial", filled="0.5"))  # … events arrive while it is in flight …
    tracker.apply(order(2, "filled"))
    tracker.apply(order(4))
    # … and it answers with what the server had when it read: 1 open, 2 open, 3 gone (ended unseen)
    tracker.snapshot([order(1), order(2)], seq)
    assert sorted(tracker.open) == ["o1", "o4"]
    assert tracker.open["o1"]["st"] == "partial" and tracker.open["o1"]["filled"] == "0.5"
    assert "o3" not in tracker.order_seq and tracker.find(3) is None  # no index entries left
    assert tracker.find(2)["st"] == "filled"
    assert [o["id"] for o in tracker.open_orders()] == ["o1", "o4"] and tracker.open_orders("ETH") == []


async def test_waiters_resolve_from_events_and_ask_rest_once_at_the_deadline() -> None:
    asked: list[str] = []
    rest_rows: dict[str, dict[str, Any]] = {}

    async def lookup(cid: str) -> dict[str, Any] | None:
        asked.append(cid)
        return rest_rows.get(cid)

    tracker = OrderTracker(CODEC, lookup=lookup)
    waiter = asyncio.create_task(tracker.wait_for_order(1, "filled", timeout=2.0))
    await asyncio.sleep(0)
    tracker.apply(order(1))
    await asyncio.sleep(0)
    assert not waiter.done() and tracker.waiting() == ["1"]
    tracker.apply(order(1, "canceled"))  # a different final state also answers
    assert (await waiter)["status"] == "CANCELED" and tracker.waiting() == [] and asked == []
    assert (await tracker.wait_for_order(1, ["open"], timeout=0.01))["status"] == "CANCELED"
    tracker.apply(order(2))
    rest_rows["2"] = order(2, "filled")  # the event was missed; REST knows
    assert (await tracker.wait_for_order(2, "FILLED", timeout=0.02))["status"] == "FILLED"
    assert asked == ["2"] and tracker.find(2)["st"] == "filled"
    tracker.apply(order(3))
    with pytest.raises(RequestTimeout, match=r"order 3 did not reach FILLED within 0.02s \(last known status: OPEN\)"):
        await tracker.wait_for_order(3, "filled", timeout=0.02)


async def test_a_partial_final_event_of_an_unknown_order_is_completed_from_rest() -> None:
    done = asyncio.Event()

    async def lookup(cid: str) -> dict[str, Any] | None:
        done.set()
        return order(5, "canceled")

    def spawn(coro: Coroutine[Any, Any, _T], name: str) -> asyncio.Task[_T]:
        return asyncio.get_running_loop().create_task(coro, name=name)

    tracker = OrderTracker(CODEC, lookup=lookup, spawn=spawn)
    waiter = asyncio.create_task(tracker.wait_for_order(5, "filled", timeout=2.0))
    await asyncio.sleep(0)
    tracker.apply({"oid": "o5", "cid": "5", "st": "canceled"})  # cannot be parsed on its own
    assert (await waiter)["status"] == "CANCELED" and done.is_set()


async def test_closing_fails_every_waiter() -> None:
    tracker = OrderTracker(CODEC)
    waiter = asyncio.create_task(tracker.wait_for_order(9, "filled", timeout=5.0))
    await asyncio.sleep(0)
    tracker.fail_waiters(NetworkError("closed"))
    with pytest.raises(NetworkError):
        await waiter


# ------------------------------------------------------------------ private state
class Link:
    """A socket as private state sees it, moved by hand."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.generation = 1
        self.connected = True
        self.closed = False
        self.last_message_at = clock.monotonic()
        self.recv_timeout = 60.0

    def spawn(self, coro: Coroutine[Any, Any, _T], name: str) -> asyncio.Task[_T]:
        return asyncio.get_running_loop().create_task(coro, name=name)


class Account:
    def __init__(self) -> None:
        self.orders: list[dict[str, Any]] = []
        self.account: dict[str, Any] = {"positions": []}
        self.calls: list[str] = []

    async def open_orders(self) -> list[dict[str, Any]]:
        self.calls.append("orders")
        return [dict(o) for o in self.orders]

    async def get_account(self) -> dict[str, Any]:
        self.calls.append("account")
        return dict(self.account)

    async def lookup(self, cid: str) -> dict[str, Any] | None:
        self.calls.append(f"lookup {cid}")
        return next((dict(o) for o in self.orders if o["cid"] == cid), None)


def private_state(clock: FakeClock, link: Link, venue: Account) -> PrivateState:
    stats: dict[str, int] = {}
    return PrivateState(CODEC, link, fetch_open_orders=venue.open_orders, fetch_account=venue.get_account,
                        lookup_order=venue.lookup, fallback=FallbackLog(logging.getLogger("t"), "t", clock, stats),
                        stats=stats, max_age=5.0)


async def test_private_state_is_served_live_after_reconcile_and_rebuilt_after_our_own_change(
    fake_clock: FakeClock,
) -> None:
    link, venue = Link(fake_clock), Account()
    venue.orders = [order(1)]
    state = private_state(fake_clock, link, venue)
    assert not state.live
    await state.reconcile(1)
    assert state.live and state.stats["reconciles"] == 1 and sorted(venue.calls) == ["account", "orders"]
    venue.calls.clear()
    state.on_event(order(2))
    assert [o["id"] for o in await state.get_open_orders()] == ["o1", "o2"] and venue.calls == []
    assert await state.get_account() == {"positions": []} and venue.calls == []
    venue.orders.append(order(3))
    state.invalidate()  # e.g. we placed order 3 over REST
    assert [o["id"] for o in await state.get_open_orders()] == ["o1", "o3"] and venue.calls == ["orders"]
    fake_clock.advance(5.1)
    link.last_message_at = fake_clock.monotonic()
    await state.get_account()  # the account snapshot ages even on a live stream
    assert venue.calls == ["orders", "account"]


async def test_a_fill_starts_one_account_refresh_that_readers_share(fake_clock: FakeClock) -> None:
    link, venue = Link(fake_clock), Account()
    state = private_state(fake_clock, link, venue)
    await state.reconcile(1)
    venue.calls.clear()
    venue.account = {"positions": [{"symbol": "BTC"}]}
    for _ in range(50):
        state.on_fill()
    assert await state.get_account() == {"positions": [{"symbol": "BTC"}]}
    await asyncio.sleep(0)
    assert venue.calls == ["account"]


async def test_reconcile_of_an_older_socket_does_not_make_the_stream_live(fake_clock: FakeClock) -> None:
    link, venue = Link(fake_clock), Account()
    state = private_state(fake_clock, link, venue)
    link.generation = 2  # a newer socket opened while generation 1 reconciled
    await state.reconcile(1)
    assert not state.live and state.stats["reconciles"] == 0


async def test_after_a_gap_only_a_request_sent_after_the_read_is_served(fake_clock: FakeClock) -> None:
    link, venue = Link(fake_clock), Account()
    state = private_state(fake_clock, link, venue)
    await state.reconcile(1)
    venue.calls.clear()
    state.mark_gap()  # the socket ended: the stream may have missed events
    link.connected = False
    assert not state.live
    venue.orders = [order(8)]
    orders, account, again = await asyncio.gather(state.get_open_orders(), state.get_account(), state.get_account())
    assert [o["id"] for o in orders] == ["o8"] and account == again
    assert sorted(venue.calls) == ["account", "orders"]  # readers of one moment share a request
    fake_clock.advance(0.001)
    venue.orders = []
    assert await state.get_open_orders() == []  # a snapshot 1 ms old is still from before this read
    assert sorted(venue.calls) == ["account", "orders", "orders"]
    link.generation, link.connected = 2, True  # a new socket, not reconciled yet: still REST
    await state.get_account()
    assert venue.calls.count("account") == 2
    await state.reconcile(2)
    venue.calls.clear()
    assert await state.get_open_orders() == [] and venue.calls == []  # live again


async def test_fetch_caches_a_rest_value_unless_a_newer_one_arrived_meanwhile(fake_clock: FakeClock) -> None:
    cache: TimedCache[str, str] = TimedCache(fake_clock)

    async def rest() -> str:
        fake_clock.advance(0.1)
        cache.put_live("BTC", "socket", fake_clock.monotonic())  # a frame while REST answers
        return "rest"

    assert await cache.fetch("BTC", rest, 5.0) == "socket" and cache.get("BTC", 5.0) == "socket"
    assert cache.newer_than("BTC", Stamp(fake_clock.monotonic(), cache.epoch))

    async def plain() -> str:
        return "rest"

    fake_clock.advance(0.1)
    assert await cache.fetch("ETH", plain, 5.0) == "rest" and cache.get("ETH", 5.0) == "rest"
    assert not cache.newer_than("ETH", Stamp(fake_clock.monotonic() + 1, cache.epoch))
    assert not cache.newer_than("SOL", cache.stamp())


class Socket:
    """A subscriber moved by hand: records what it was asked to (un)subscribe."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.connected = True
        self.sent: list[str] = []

    async def subscribe(self, *topics: Any) -> None:
        self.sent += [f"+{t}" for t in topics]

    async def unsubscribe(self, *topics: Any) -> None:
        self.sent += [f"-{t}" for t in topics]


def raw_book(bid: str) -> dict[str, Any]:
    return {"b": [[bid, "1"]], "a": [["200", "2"]]}


def parse_book(raw: dict[str, Any], received_ms: int) -> Any:
    return {"bids": [[float(p), float(q)] for p, q in raw["b"]], "asks": [[float(p), float(q)] for p, q in raw["a"]],
            "time": received_ms}


def book_streams(fake_clock: FakeClock, rest_answer: Any = None) -> tuple[BookStreams[Any], Socket, list[str]]:
    socket, asked = Socket(fake_clock), []

    async def fetch(symbol: str) -> Any:
        asked.append(symbol)
        return await rest_answer(symbol) if rest_answer else raw_book("90")

    stats: dict[str, int] = {}
    books: BookStreams[Any] = BookStreams(socket, topic=lambda s: f"{s}@book", parse=parse_book, fetch=fetch,
                                          fallback=FallbackLog(logging.getLogger("t"), "t", fake_clock, stats))
    return books, socket, asked


async def test_book_streams_subscribe_on_the_first_hold_and_unsubscribe_on_the_last(fake_clock: FakeClock) -> None:
    books, socket, _ = book_streams(fake_clock)
    await books.hold("BTC", "ex1")
    await books.hold("BTC", "ex2")
    await books.hold("ETH", "ex1")
    assert socket.sent == ["+BTC@book", "+ETH@book"] and books.held == ["BTC", "ETH"]
    books.on_frame("BTC", raw_book("100"), fake_clock.monotonic())
    await books.release_holder("ex1")
    assert socket.sent == ["+BTC@book", "+ETH@book", "-ETH@book"] and "BTC" in books
    await books.release("BTC", "ex2")
    assert socket.sent[-1] == "-BTC@book" and books.book("BTC", 5.0) is None
    books.on_frame("BTC", raw_book("100"), fake_clock.monotonic())  # in flight after the release
    assert books.book("BTC", 5.0) is None


async def test_book_streams_serve_fresh_copies_wait_for_a_first_frame_then_ask_rest(fake_clock: FakeClock) -> None:
    books, socket, asked = book_streams(fake_clock)
    waiter = asyncio.create_task(books.get("BTC", "ex1", timeout=1.0, max_age=5.0))
    await asyncio.sleep(0)
    books.on_frame("BTC", raw_book("100"), fake_clock.monotonic())
    first = await waiter
    assert first["bids"] == [[100.0, 1.0]] and asked == []
    first["bids"].clear()
    assert (await books.get("BTC", "ex1", timeout=1.0, max_age=5.0))["bids"] == [[100.0, 1.0]]
    fake_clock.advance(5.1)  # stale, and the first-frame wait is long over: REST at once
    book = await books.get("BTC", "ex1", timeout=1.0, max_age=5.0)
    assert book == {"bids": [[90.0, 1.0]], "asks": [[200.0, 2.0]], "time": fake_clock.now_ms()} and asked == ["BTC"]
    books.mark_gap()
    socket.connected = False  # a down socket: no point waiting for a frame
    books.connected()  # (a reconnect restarts the first-frame wait — but we are down)
    assert (await books.get("BTC", "ex1", timeout=60.0, max_age=5.0))["bids"] == [[90.0, 1.0]]
    assert asked == ["BTC", "BTC"]


async def test_a_frame_that_beats_the_rest_answer_is_returned_instead(fake_clock: FakeClock) -> None:
    holder: list[BookStreams[Any]] = []

    async def slow(symbol: str) -> Any:
        fake_clock.advance(0.2)
        holder[0].on_frame(symbol, raw_book("101"), fake_clock.monotonic())
        return raw_book("90")

    books, socket, asked = book_streams(fake_clock, slow)
    holder.append(books)
    socket.connected = False
    assert (await books.get("BTC", "ex1", timeout=1.0, max_age=5.0))["bids"] == [[101.0, 1.0]] and asked == ["BTC"]
