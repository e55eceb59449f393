"""Truthful state under socket faults, end to end against the paper exchange: after a drop
nothing from before it is served as fresh (orders, positions, marks, books), so calls that
act on state (``cancel_orders(symbol)``, ``close_position(symbol)``) see what another
client did meanwhile — in every trial, not most."""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from mpdex.paper import PaperVest
from wrappers.vest import VestExchange
from wrappers.vest_rest import VestRestClient

from ..ws_helpers import eventually

WS_FAST = dict(connect_timeout=2.0, ping_interval=0.1, recv_timeout=0.5, reconnect_min=0.02, reconnect_max=0.1)
FAST_REST = {"private": (1000.0, 1000.0), "public": (1000.0, 1000.0), "order": (1000.0, 1000.0)}
TRIALS = 10


@pytest.fixture
async def paper() -> AsyncIterator[PaperVest]:
    async with PaperVest(seed=3, tick_interval=0.1) as p:
        yield p


@pytest.fixture
async def paper_pair(paper: PaperVest) -> AsyncIterator[tuple[VestExchange, VestExchange]]:
    async with pair(paper) as both:
        yield both


@contextlib.asynccontextmanager
async def pair(paper: PaperVest) -> AsyncIterator[tuple[VestExchange, VestExchange]]:
    """Our bot (socket on, default 5 s bound) and another client of the same account."""
    key = await paper.create_account(usdc=100_000)
    # the socket's own REST client (listen key per connect attempt, reconciles) gets a
    # large budget too: a socket that is refused every 20 ms would drain the default one
    rest = VestRestClient(key, rate_limits=FAST_REST)
    bot = VestExchange(**vars(key), ws_options={**WS_FAST, "rest": rest}, rate_limits=FAST_REST)
    other = VestExchange(**vars(key), use_ws=False, rate_limits=FAST_REST)
    try:
        await bot.init()
        await other.init()
        yield bot, other
    finally:
        await bot.close()
        await other.close()
        await rest.close()


async def socket_down(paper: PaperVest, bot: VestExchange) -> None:
    """Drop the socket and keep it down (every reconnect refused) until ``socket_up``."""
    client = bot.ws_client
    assert client is not None
    paper.faults.reject_ws_connects(1_000_000, status=503, retry_after=0.02)
    paper.faults.drop_websockets()
    assert await eventually(lambda: not client.connected)


async def socket_up(paper: PaperVest, bot: VestExchange) -> None:
    client = bot.ws_client
    assert client is not None
    paper.faults.clear()
    assert await eventually(lambda: client.private_live and client.mark_price("BTC-PERP") is not None, timeout=3)


async def test_after_a_drop_cancel_orders_sees_an_order_placed_meanwhile(
    paper: PaperVest, paper_pair: tuple[VestExchange, VestExchange]
) -> None:
    bot, other = paper_pair
    cancelled: list[bool] = []
    for _ in range(TRIALS):
        await socket_up(paper, bot)
        assert await bot.get_open_orders("BTC") == []  # served live from the stream
        await socket_down(paper, bot)
        mark = await other.get_mark_price("BTC")
        placed = await other.create_order("BTC", "buy", 0.01, price=round(mark * 0.8, 1))
        out = await bot.cancel_orders("BTC")
        left = await other.get_open_orders("BTC")  # what the ledger says
        cancelled.append([(r["id"], r["status"]) for r in out] == [(placed["id"], "ok")] and left == [])
        await other.cancel_orders("BTC")  # each trial starts clean, whatever the last one did
    assert cancelled == [True] * TRIALS, f"{sum(cancelled)} of {TRIALS} trials cancelled the order"


async def test_after_a_drop_close_position_closes_a_position_opened_meanwhile(
    paper: PaperVest, paper_pair: tuple[VestExchange, VestExchange]
) -> None:
    bot, other = paper_pair
    closed: list[bool] = []
    for _ in range(TRIALS):
        await socket_up(paper, bot)
        assert await bot.get_position("SOL") is None  # flat, as the live account says
        await socket_down(paper, bot)
        await other.create_order("SOL", "buy", 0.5)
        res = await bot.close_position("SOL")
        flat = await other.get_position("SOL") is None  # what the ledger says
        closed.append(res is not None and res["side"] == "sell" and res["size"] == 0.5 and flat)
        await other.close_position("SOL")  # each trial starts flat, whatever the last one did
    assert closed == [True] * TRIALS, f"{sum(closed)} of {TRIALS} trials closed the position"


async def test_while_the_socket_stays_down_no_rest_snapshot_older_than_the_call_is_used(
    paper: PaperVest, paper_pair: tuple[VestExchange, VestExchange]
) -> None:
    # without a live stream nothing keeps a snapshot current: a read a moment ago (well
    # within the 5 s bound) must not hide what another client did since
    bot, other = paper_pair
    await socket_down(paper, bot)
    mark = await other.get_mark_price("BTC")
    seen: list[bool] = []
    for _ in range(TRIALS):
        assert await bot.get_open_orders("BTC") == [] and await bot.get_position("SOL") is None
        placed = await other.create_order("BTC", "buy", 0.01, price=round(mark * 0.8, 1))
        await other.create_order("SOL", "buy", 0.5)
        orders = [o["id"] for o in await bot.get_open_orders("BTC")]
        pos = await bot.get_position("SOL")
        seen.append(orders == [placed["id"]] and pos is not None and pos["size"] == 0.5)
        await other.cancel_orders("BTC")
        await other.close_position("SOL")
    assert seen == [True] * TRIALS, f"{sum(seen)} of {TRIALS} trials saw the new order and position"


async def test_after_a_drop_marks_and_books_from_before_it_are_not_served() -> None:
    async with PaperVest(seed=3, tick_interval=None) as paper, pair(paper) as (bot, _):  # prices move when told
        client: Any = bot.ws_client
        await bot.get_orderbook("BTC")
        assert await eventually(lambda: client.mark_price("BTC-PERP") and client.orderbook("BTC-PERP"))
        before = await bot.get_mark_price("BTC")
        await socket_down(paper, bot)
        paper.set_price("BTC-PERP", str(round(before * 1.1, 1)))  # published to nobody
        moved = float(paper.price("BTC-PERP"))
        assert await bot.get_mark_price("BTC") == moved
        book = await bot.get_orderbook("BTC")
        assert book["bids"][0][0] < moved < book["asks"][0][0]
        await socket_up(paper, bot)
        assert await eventually(lambda: client.orderbook("BTC-PERP") is not None)
        requests = paper.stats["rest_requests"]
        assert await bot.get_mark_price("BTC") == moved and (await bot.get_orderbook("BTC"))["bids"]
        assert paper.stats["rest_requests"] == requests  # live again: no REST
