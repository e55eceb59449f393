"""ccxt:hyperliquid's socket path: ccxt.pro's own Hyperliquid code watching the Hyperliquid
paper dialect's real ``/ws`` on loopback, through the adapter's gap-aware caches. REST reads
are counted by the paper server (``stats["rest_requests"]``), so "served from the socket"
means: no request reached the server."""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest

from exchange_factory import create_exchange
from mpdex.paper import PaperHyperliquid

SOCKET_READS = {"get_mark_price", "get_orderbook"}


async def until(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


@pytest.fixture
async def paper() -> AsyncIterator[PaperHyperliquid]:
    async with PaperHyperliquid(seed=11, tick_interval=None, auto_funding=False) as p:
        p.set_price("BTC", "97000")
        yield p


@pytest.fixture
async def key(paper: PaperHyperliquid) -> Any:
    return await paper.create_account(usdc=1000)


async def open_ws(key: Any, **options: Any) -> Any:
    ex = await create_exchange("ccxt:hyperliquid", key, **options)
    ex._watch.retry_delay = 0.02
    return ex


async def warm(ex: Any) -> None:
    """First reads (REST: nothing is on the socket yet), then the subscriptions' first frames."""
    stats = ex._watch.stats
    books, marks = stats["book_frames"], stats["mark_frames"]
    await ex.get_mark_price("BTC")
    await ex.get_orderbook("BTC")
    await until(lambda: stats["book_frames"] > books and stats["mark_frames"] > marks)


def best(book: dict) -> tuple[float, float]:
    return book["bids"][0][0], book["asks"][0][0]


async def test_books_and_marks_are_served_from_the_socket_after_warm_up(paper, key):
    ex = await open_ws(key)
    rest_ex = await create_exchange("ccxt:hyperliquid", key, use_ws=False)
    try:
        assert {k for k, v in ex.ws_supported.items() if v} == SOCKET_READS
        assert not any(rest_ex.ws_supported.values()) and rest_ex._watch is None
        await warm(ex)
        assert sorted(ex._watch.running) == ["orderbook BTC", "ticker BTC"]
        rest_book = await rest_ex.get_orderbook("BTC")
        rest0, fallbacks0 = paper.stats["rest_requests"], ex._watch.stats["rest_fallbacks"]
        for _ in range(20):
            assert await ex.get_mark_price("BTC") == 97000.0
            book = await ex.get_orderbook("BTC")
            assert (book["bids"], book["asks"]) == (rest_book["bids"], rest_book["asks"])  # the same book
        frames = ex._watch.stats["mark_frames"]
        paper.set_price("BTC", "97100")
        await until(lambda: ex._watch.stats["mark_frames"] > frames)
        assert await ex.get_mark_price("BTC") == 97100.0
        await until(lambda: best(ex._watch.books.book("BTC", 5) or {"bids": [[0]], "asks": [[0]]})[0] > 97000)
        bid, ask = best(await ex.get_orderbook("BTC"))
        assert bid < 97100 < ask and bid > 97000
        assert paper.stats["rest_requests"] == rest0  # zero REST reads after warm-up
        assert ex._watch.stats["rest_fallbacks"] == fallbacks0
        assert paper.stats["ws_connects"] == 1  # one socket carries both streams
    finally:
        await ex.close()
        await rest_ex.close()


async def test_after_a_socket_drop_nothing_from_before_it_is_served(paper, key):
    ex = await open_ws(key)
    try:
        await warm(ex)
        assert await ex.get_mark_price("BTC") == 97000.0
        gaps = ex._watch.stats["gaps"]
        paper.faults.reject_ws_connects(10_000, retry_after=None)  # stay down until told
        paper.faults.drop_websockets()
        await until(lambda: ex._watch.stats["gaps"] > gaps)
        paper.set_price("BTC", "97200")  # no socket hears it
        rest0 = paper.stats["rest_requests"]
        # the pre-drop mark and book are younger than ws_max_age (5 s) yet never served
        assert await ex.get_mark_price("BTC") == 97200.0
        bid, ask = best(await ex.get_orderbook("BTC"))
        assert bid < 97200 < ask and bid > 97100
        assert paper.stats["rest_requests"] > rest0
        assert not ex._watch.connected

        paper.faults.reject_ws_connects(0)
        stats = ex._watch.stats
        books, marks = stats["book_frames"], stats["mark_frames"]
        await until(lambda: stats["book_frames"] > books and stats["mark_frames"] > marks)  # resubscribed
        rest1 = paper.stats["rest_requests"]
        paper.set_price("BTC", "97300")
        await until(lambda: stats["mark_frames"] > marks + 1)
        assert await ex.get_mark_price("BTC") == 97300.0
        assert paper.stats["rest_requests"] == rest1  # the socket serves again
    finally:
        await ex.close()


async def test_silence_longer_than_ws_max_age_falls_back_to_rest(paper, key):
    ex = await open_ws(key, ws_max_age=0.3)
    try:
        await warm(ex)
        paper.faults.silence_websockets(0.6)
        paper.set_price("BTC", "97100")  # produced while silent: dropped, never delivered
        await asyncio.sleep(0.35)
        rest0, fallbacks0 = paper.stats["rest_requests"], ex._watch.stats["rest_fallbacks"]
        assert await ex.get_mark_price("BTC") == 97100.0
        bid, _ = best(await ex.get_orderbook("BTC", timeout=0.2))
        assert bid > 97000
        assert paper.stats["rest_requests"] > rest0 and ex._watch.stats["rest_fallbacks"] == fallbacks0 + 2
        await asyncio.sleep(0.3)  # the silence ends; the socket never closed: no gap
        marks = ex._watch.stats["mark_frames"]
        paper.set_price("BTC", "97200")
        await until(lambda: ex._watch.stats["mark_frames"] > marks)
        rest1 = paper.stats["rest_requests"]
        assert await ex.get_mark_price("BTC") == 97200.0
        assert paper.stats["rest_requests"] == rest1
    finally:
        await ex.close()


async def test_a_rest_answer_older_than_a_socket_frame_never_overwrites_it(paper, key):
    ex = await open_ws(key, ws_max_age=0.3)
    try:
        await warm(ex)
        await asyncio.sleep(0.35)  # stale: the next reads ask REST
        stats = ex._watch.stats

        async def mark_answered_late(native: str) -> Decimal:
            marks = stats["mark_frames"]
            paper.set_price("BTC", "97100")  # a frame arrives while the request is out
            await until(lambda: stats["mark_frames"] > marks)
            return Decimal("97000")  # what the server said when the request was sent

        ex._rest_mark = mark_answered_late
        assert await ex.get_mark_price("BTC") == 97100.0
        assert ex._watch.marks.get("BTC", 0.3) == Decimal("97100.0")  # the frame stays

        await asyncio.sleep(0.35)
        real_book = ex._rest_book

        async def book_answered_late(native: str) -> Any:
            old = await real_book(native)
            books = stats["book_frames"]
            paper.set_price("BTC", "97300")
            await until(lambda: stats["book_frames"] > books)
            return old

        ex._rest_book = book_answered_late
        bid, ask = best(await ex.get_orderbook("BTC", timeout=0.2))
        assert bid < 97300 < ask and bid > 97200  # the socket's newer book, not the REST answer
    finally:
        await ex.close()


async def test_close_stops_and_awaits_every_watcher_and_socket(paper, key):
    before = asyncio.all_tasks()
    ex = await open_ws(key)
    await warm(ex)
    await ex.get_orderbook("BTC")
    watchers = [t for t in asyncio.all_tasks() if t.get_name().startswith("ccxt-watch")]
    assert len(watchers) == 2
    await ex.close()
    assert all(t.done() for t in watchers) and ex._watch.running == []
    assert ex.exchange.clients == {} and not any(ex.ws_supported.values())
    await until(lambda: paper.stats["ws_open"] == 0)
    current = asyncio.current_task()
    await until(lambda: not [t for t in asyncio.all_tasks() - before if t is not current and not t.done()], 2.0)
    await ex.close()  # twice is fine


async def test_unsubscribe_orderbook_stops_its_watcher_and_a_later_read_starts_it_again(paper, key):
    ex = await open_ws(key)
    try:
        await warm(ex)
        await ex.unsubscribe_orderbook("BTC")
        assert ex._watch.running == ["ticker BTC"]
        books, rest0 = ex._watch.stats["book_frames"], paper.stats["rest_requests"]
        await ex.get_orderbook("BTC")  # subscribed afresh: the venue's snapshot answers it
        assert "orderbook BTC" in ex._watch.running and ex._watch.stats["book_frames"] == books + 1
        assert paper.stats["rest_requests"] == rest0
    finally:
        await ex.close()


async def test_use_ws_false_and_the_keys_fetch_by_ws_pin_rest(paper, key):
    fields = {f: getattr(key, f) for f in ("wallet_address", "wallet_private_key", "rest_url", "ws_url")}
    for ex in (await create_exchange("ccxt:hyperliquid", key, use_ws=False),
               await create_exchange("ccxt:hyperliquid", {**fields, "fetch_by_ws": False})):
        try:
            assert ex._watch is None and not any(ex.ws_supported.values())
            assert not any(c.__module__.startswith("ccxt.pro") for c in type(ex.exchange).__mro__)
            rest0 = paper.stats["rest_requests"]
            await ex.get_mark_price("BTC")
            await ex.get_orderbook("BTC")
            assert paper.stats["rest_requests"] > rest0
        finally:
            await ex.close()
    assert paper.stats["ws_connects"] == 0
