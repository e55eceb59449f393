"""SpreadMonitor over two paper venues: every figure recomputed here from the paper's own book
(exact fractions), fees and funding as the venues report them, and one venue failing,
timing out, stale, thin or lacking a capability without breaking the snapshot."""
from __future__ import annotations

import asyncio
import time
from decimal import Decimal as D
from fractions import Fraction as F
from typing import Any

import pytest

from mpdex.arb import SpreadMonitor
from mpdex.errors import NotSupported

from .paper_venues import COIN, PaperVenue

SIZE = D("0.05")


def paper_book(v: PaperVenue, coin: str = COIN) -> dict[str, list[list[str]]]:
    """The book as the paper venue itself serves it (strings), not as a client parsed it."""
    return v.book(coin)


def fwalk(levels: list[list[str]], size: F) -> F | None:
    """Average price for ``size`` taking ``levels`` in order, in exact fractions."""
    left, cost = size, F(0)
    for px, qty in levels:
        take = min(left, F(qty))
        cost += take * F(px)
        left -= take
        if left == 0:
            return cost / size
    return None


def depth_streams(v: PaperVenue, coin: str = COIN) -> int:
    """How many open sockets hold ``coin``'s book stream on the paper venue."""
    return sum(any(v.is_depth_stream(key, coin) for key in subs) for subs in v.paper.ws_subscriptions())


def fbps(x: F) -> float:
    return float(x * 10_000)


class Offset:
    """A clock ``seconds`` ahead of the real one."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000 + int(self.seconds * 1000)

    def monotonic(self) -> float:
        return time.monotonic() + self.seconds


async def test_snapshot_figures_match_the_paper_books(venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = venues
    a.set_price(COIN, "97000.0")
    b.set_price(COIN, "97400.0")
    a.set_funding_rate(COIN, "0.0000125")
    b.set_funding_rate(COIN, "0.00005")
    async with SpreadMonitor({"a": a.exchange, "b": b.exchange}, [COIN, "ETH"], SIZE) as mon:
        snap = await mon.snapshot()
    assert snap["venues"] == ["a", "b"] and snap["coins"] == [COIN, "ETH"] and snap["size"] == 0.05
    qa, qb = snap["quotes"][COIN]["a"], snap["quotes"][COIN]["b"]
    for q, v in ((qa, a), (qb, b)):
        book = paper_book(v)
        assert q["status"] == "ok" and q["error"] is None and 0 <= q["age_ms"] < 2000
        assert q["best_bid"] == float(book["bids"][0][0]) and q["best_ask"] == float(book["asks"][0][0])
        assert q["buy_price"] == pytest.approx(float(fwalk(book["asks"], F(SIZE))), rel=1e-15)
        assert q["sell_price"] == pytest.approx(float(fwalk(book["bids"], F(SIZE))), rel=1e-15)
        assert q["taker_fee"] == float(v.taker_fee(COIN)) and q["funding_interval_hours"] == 1.0  # both hourly
        assert q["unavailable"] == {}
    assert qa["mark_price"] == 97000.0 and qb["mark_price"] == 97400.0
    assert qa["funding_rate_per_hour"] == 0.0000125 and qb["funding_rate_per_hour"] == 0.00005

    best = snap["opportunities"][0]  # buy on a (cheaper), sell on b: the 400 gap
    assert (best["coin"], best["long_venue"], best["short_venue"]) == (COIN, "a", "b")
    long_px, short_px = fwalk(paper_book(a)["asks"], F(SIZE)), fwalk(paper_book(b)["bids"], F(SIZE))
    assert long_px is not None and short_px is not None
    fee_a, fee_b = F(a.taker_fee(COIN)), F(b.taker_fee(COIN))  # each venue's own rate
    gross = (short_px - long_px) / long_px
    fees = 2 * (fee_a * long_px + fee_b * short_px) / long_px
    edge = F("0.00005") - F("0.0000125")
    assert best["long_price"] == pytest.approx(float(long_px), rel=1e-15)
    assert best["gross_bps"] == pytest.approx(fbps(gross), rel=1e-12)
    assert best["fees_bps"] == pytest.approx(fbps(fees), rel=1e-12)
    assert best["net_bps"] == pytest.approx(fbps(gross - fees), rel=1e-12)
    assert best["funding_edge_bps_per_hour"] == 0.375
    assert best["payback_hours"] == pytest.approx(float(fees / edge), rel=1e-12)
    # the reverse direction pays the gap and the funding: no payback
    worst = next(o for o in snap["opportunities"] if (o["coin"], o["long_venue"]) == (COIN, "b"))
    assert worst["gross_bps"] < 0 and worst["funding_edge_bps_per_hour"] == -0.375 and worst["payback_hours"] is None
    assert [o["net_bps"] for o in snap["opportunities"]] == sorted((o["net_bps"] for o in snap["opportunities"]),
                                                                   reverse=True)
    assert len(snap["opportunities"]) == 4  # 2 coins x 2 directions


async def test_a_failing_venue_is_marked_not_fatal(venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = venues
    b.paper.faults.server_error(10**6)
    async with SpreadMonitor({"a": a.exchange, "b": b.exchange}, [COIN], SIZE, timeout=3.0) as mon:
        snap = await mon.snapshot()
    b.clear_faults()
    qa, qb = snap["quotes"][COIN]["a"], snap["quotes"][COIN]["b"]
    assert qa["status"] == "ok" and qb["status"] == "failed"
    assert qb["error"] is not None and qb["error"].startswith("ExchangeUnavailable")
    assert qb["buy_price"] is None and qb["unavailable"]["mark_price"].startswith("ExchangeUnavailable")
    assert snap["opportunities"] == []


async def test_a_slow_venue_times_out_within_the_bound(venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = venues
    b.paper.faults.delay(0.6, n=10)  # longer than the bound, over before the venue stops
    async with SpreadMonitor({"a": a.exchange, "b": b.exchange}, [COIN], SIZE, timeout=0.3) as mon:
        started = time.monotonic()
        snap = await mon.snapshot()
        assert time.monotonic() - started < 1.0
    b.clear_faults()
    qb = snap["quotes"][COIN]["b"]
    assert qb["status"] == "failed" and qb["error"] == "timed out after 0.3s"
    assert qb["unavailable"]["mark_price"] == "timed out after 0.3s"
    assert snap["quotes"][COIN]["a"]["status"] == "ok"


async def test_an_old_book_is_stale(venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = venues
    async with SpreadMonitor({"a": a.exchange, "b": b.exchange}, [COIN], SIZE, max_book_age=2.0,
                             clock=Offset(10.0)) as mon:
        snap = await mon.snapshot()
    for q in snap["quotes"][COIN].values():
        assert q["status"] == "stale" and q["age_ms"] >= 10_000 and "old (bound 2s)" in (q["error"] or "")
        assert q["buy_price"] is not None  # shown, but not traded on
    assert snap["opportunities"] == []


async def test_a_thin_book_is_marked_not_guessed(venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = venues
    async with SpreadMonitor({"a": a.exchange, "b": b.exchange}, [COIN], 1000) as mon:
        snap = await mon.snapshot()
    for v in (a, b):
        q = snap["quotes"][COIN][v.name]
        book = paper_book(v)
        assert q["status"] == "ok" and q["buy_price"] is None and q["sell_price"] is None
        assert q["ask_available"] == pytest.approx(float(sum(F(s) for _, s in book["asks"])), rel=1e-15)
        assert q["unavailable"]["buy_price"].startswith("thin: ")
        assert q["buy_worst"] == float(book["asks"][-1][0])
    assert snap["opportunities"] == []


class Bare:
    """A venue that offers the contract and nothing more: no funding, no fee rates."""

    def __init__(self, exchange: Any) -> None:
        self._exchange = exchange
        self.calls: dict[str, int] = {}

    async def get_orderbook(self, symbol: str, timeout: float = 5.0) -> Any:
        return await self._exchange.get_orderbook(symbol, timeout)

    async def get_mark_price(self, symbol: str) -> float:
        return float(await self._exchange.get_mark_price(symbol))

    async def unsubscribe_orderbook(self, symbol: str) -> None:
        await self._exchange.unsubscribe_orderbook(symbol)


class Lacking(Bare):
    """The mixin's way of lacking a capability: the method is there and says NotSupported."""

    async def get_funding_rate(self, symbol: str) -> Any:
        self.calls["funding"] = self.calls.get("funding", 0) + 1
        raise NotSupported("no funding (capability 'funding')")

    async def get_trading_fees(self, symbol: str) -> Any:
        self.calls["fees"] = self.calls.get("fees", 0) + 1
        raise NotSupported("no fees (capability 'fees')")


@pytest.mark.parametrize("kind", [Bare, Lacking])
async def test_a_venue_without_funding_or_fees(venues: tuple[PaperVenue, PaperVenue], kind: type[Bare]) -> None:
    a, b = venues
    bare = kind(b.exchange)
    async with SpreadMonitor({"a": a.exchange, "b": bare}, [COIN], SIZE) as mon:  # type: ignore[dict-item]
        snap = await mon.snapshot()
        await mon.snapshot()
    qb = snap["quotes"][COIN]["b"]
    assert qb["status"] == "ok" and qb["funding_rate_per_hour"] is None and qb["taker_fee"] is None
    assert qb["unavailable"] == {"funding_rate_per_hour": "not supported by this venue",
                                 "taker_fee": "not supported by this venue"}
    assert bare.calls in ({}, {"funding": 1, "fees": 1})  # asked once, never again
    opp = next(o for o in snap["opportunities"] if o["long_venue"] == "a")
    assert opp["gross_bps"] is not None
    assert (opp["fees_bps"], opp["net_bps"], opp["funding_edge_bps_per_hour"], opp["payback_hours"]) == (
        None, None, None, None)


class EightHourFunding:
    """A venue that quotes funding per 8-hour interval (and says so)."""

    def __init__(self, exchange: Any) -> None:
        self._exchange = exchange

    def __getattr__(self, name: str) -> Any:
        return getattr(self._exchange, name)

    async def get_funding_rate(self, symbol: str) -> Any:
        return {"symbol": symbol, "funding_rate": 0.0004, "interval_hours": 8.0, "funding_rate_per_hour": 0.00005}


async def test_funding_is_compared_per_hour_as_each_venue_states_it(venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = venues
    same = "97000.0"
    a.set_price(COIN, same)
    b.set_price(COIN, same)
    a.set_funding_rate(COIN, "0.0000125")  # hourly venue
    async with SpreadMonitor({"a": a.exchange, "b": EightHourFunding(b.exchange)}, [COIN], SIZE) as mon:
        snap = await mon.snapshot()
    qb = snap["quotes"][COIN]["b"]
    assert (qb["funding_rate_per_hour"], qb["funding_interval_hours"]) == (0.00005, 8.0)
    opp = next(o for o in snap["opportunities"] if o["long_venue"] == "a")
    assert opp["funding_edge_bps_per_hour"] == 0.375  # (0.00005 - 0.0000125) x 1e4, not 0.0004 - ...


async def test_stream_follows_the_live_sockets(ws_venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = ws_venues
    a.set_price(COIN, "97000.0")
    b.set_price(COIN, "97000.0")
    mon = SpreadMonitor({"a": a.exchange, "b": b.exchange}, [COIN], SIZE)
    seen: list[float | None] = []
    async for snap in mon.stream(0.05):
        seen.append(snap["quotes"][COIN]["b"]["mark_price"])
        if len(seen) == 2:
            b.set_price(COIN, "98000.0")  # pushed on b's socket
        if len(seen) == 3:
            b.paper.faults.drop_websockets()  # the snapshot after a drop still answers
        if len(seen) == 6:
            break
    assert seen[0] == 97000.0 and seen[-1] == 98000.0 and all(m is not None for m in seen)
    assert depth_streams(a) >= 1
    for _ in range(100):  # b's sockets were dropped: its client subscribes the book again
        if depth_streams(b) >= 1:
            break
        await asyncio.sleep(0.05)
    assert depth_streams(b) >= 1
    await mon.close()
    await asyncio.sleep(0.1)
    assert depth_streams(a) == 0 and depth_streams(b) == 0


async def test_books_come_from_the_socket_when_warm(ws_venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = ws_venues
    async with SpreadMonitor({"a": a.exchange, "b": b.exchange}, [COIN], SIZE) as mon:
        await mon.snapshot()  # subscribes the depth streams
        await asyncio.sleep(0.1)
        before = a.paper.stats["rest_requests"] + b.paper.stats["rest_requests"]
        snap = await mon.snapshot()
        assert a.paper.stats["rest_requests"] + b.paper.stats["rest_requests"] == before  # no REST at all
        assert all(q["status"] == "ok" for q in snap["quotes"][COIN].values())
        assert depth_streams(a) >= 1 and depth_streams(b) >= 1


def test_bad_monitor_input() -> None:
    for args, kwargs in (
        (({}, [COIN], 1), {}), (({"a": object()}, [], 1), {}), (({"a": object()}, "BTC", 1), {}),
        (({"a": object()}, [COIN], 0), {}), (({"a": object()}, [COIN], 1), {"timeout": 0}),
    ):
        with pytest.raises(ValueError):
            SpreadMonitor(*args, **kwargs)  # type: ignore[arg-type]


async def test_symbols_per_venue(venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = venues
    async with SpreadMonitor({"a": a.exchange, "b": b.exchange}, [COIN], SIZE,
                             symbols={COIN: {"b": "BTC-PERP"}}) as mon:
        snap = await mon.snapshot()
    assert snap["quotes"][COIN]["a"]["symbol"] == COIN and snap["quotes"][COIN]["b"]["symbol"] == "BTC-PERP"
    assert snap["opportunities"][0]["short_symbol"] in (COIN, "BTC-PERP")


def test_the_arb_package_imports_no_venue() -> None:
    import subprocess
    import sys

    code = ("import sys, mpdex.arb; print(sorted(m for m in sys.modules if m.startswith('wrappers') "
            "or m in ('exchange_factory', 'mpdex.paper')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
