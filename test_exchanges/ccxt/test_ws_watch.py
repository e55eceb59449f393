"""``wrappers.ccxt_watch`` against a scripted ccxt.pro stand-in and a hand-moved clock: the
gap rules, marks only where the ticker carries the mark, and the build-time socket options."""
from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from mpdex.errors import ConfigError
from test_exchanges.conftest import FakeClock
from wrappers.ccxt_build import _override_ws
from wrappers.ccxt_perp import CcxtPerpExchange
from wrappers.ccxt_venues import CCXT_VENUES
from wrappers.ccxt_watch import CcxtWatch, mark_of

CLIENT = object()  # the ccxt.pro client a hook names


class FakePro:
    """What ``CcxtWatch`` uses of a ccxt.pro exchange; each watch call takes the next scripted
    item: a value, an exception to raise, or a callable run at delivery time."""

    def __init__(self) -> None:
        self.has = {"watchTicker": True, "watchOrderBook": True, "unWatchOrderBook": True}
        self.tickers: asyncio.Queue[Any] = asyncio.Queue()
        self.books: asyncio.Queue[Any] = asyncio.Queue()
        self.events: list[str] = []
        self.unwatched: list[str] = []

    def on_connected(self, client: Any, message: Any = None) -> None:
        self.events.append("connected")

    def on_close(self, client: Any, code: Any) -> None:
        self.events.append(f"close {code}")

    def on_error(self, client: Any, error: Any) -> None:
        self.events.append("error")

    @staticmethod
    async def _next(queue: asyncio.Queue[Any]) -> Any:
        item = await queue.get()
        if isinstance(item, BaseException):
            raise item
        return item() if callable(item) else item

    async def watch_ticker(self, symbol: str) -> Any:
        return await self._next(self.tickers)

    async def watch_order_book(self, symbol: str) -> Any:
        return await self._next(self.books)

    async def un_watch_order_book(self, symbol: str) -> None:
        self.unwatched.append(symbol)


def ticker(mark: str | None, **extra: Any) -> dict[str, Any]:
    return {"symbol": "BTC/USDC:USDC", "markPrice": None, "close": extra.pop("close", None),
            "info": {"markPx": mark, "midPx": "1.5", **extra}}


class Rest:
    def __init__(self, value: str) -> None:
        self.value, self.calls = Decimal(value), 0

    async def __call__(self) -> Decimal:
        self.calls += 1
        return self.value


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def make(clock: FakeClock, field: str = "info:markPx") -> tuple[FakePro, CcxtWatch]:
    pro = FakePro()

    async def rest_book(native: str) -> Any:
        return {"bids": [[1.0, 2.0]], "asks": [[3.0, 4.0]]}

    watch = CcxtWatch(pro, label="test", reads=frozenset({"get_mark_price", "get_orderbook"}), mark_field=field,
                      unified=lambda n: n + "/USDC:USDC", rest_book=rest_book, clock=clock)
    watch.retry_delay = 0.0
    return pro, watch


async def test_frames_serve_until_older_than_the_bound_and_rest_never_overwrites_a_newer_frame(fake_clock):
    pro, watch = make(fake_clock)
    rest = Rest("90")
    assert await watch.mark("BTC", 1.0, rest) == Decimal("90") and rest.calls == 1  # nothing on the socket yet
    pro.tickers.put_nowait(ticker("100"))
    await settle()
    assert await watch.mark("BTC", 1.0, rest) == Decimal("100") and rest.calls == 1
    fake_clock.advance(1.01)
    assert await watch.mark("BTC", 1.0, rest) == Decimal("90") and rest.calls == 2  # stale → REST

    async def late() -> Decimal:  # a frame arrives while the request is out
        fake_clock.advance(0.01)
        pro.tickers.put_nowait(ticker("101"))
        await settle()
        return Decimal("95")

    fake_clock.advance(1.01)
    assert await watch.mark("BTC", 1.0, late) == Decimal("101")
    assert watch.marks.get("BTC", 1.0) == Decimal("101")
    assert watch.stats["rest_fallbacks"] == 3
    await watch.close()


async def test_a_value_whose_watch_spanned_a_gap_is_dropped(fake_clock):
    pro, watch = make(fake_clock)
    rest = Rest("90")
    await watch.mark("BTC", 5.0, rest)
    pro.on_connected(CLIENT)
    assert watch.connected and pro.events == ["connected"]

    def resolved_then_closed() -> dict[str, Any]:  # ccxt resolved the frame, then read the close
        pro.on_close(CLIENT, 1006)
        return ticker("100")

    pro.tickers.put_nowait(resolved_then_closed)
    await settle()
    assert not watch.connected and pro.events[-1] == "close 1006"  # ccxt's own hook still runs
    assert watch.marks.get("BTC", 5.0) is None  # neither the pre-gap REST answer nor the frame
    assert await watch.mark("BTC", 5.0, rest) == Decimal("90") and rest.calls == 2
    pro.tickers.put_nowait(ticker("102"))  # the new socket's first frame
    await settle()
    assert await watch.mark("BTC", 5.0, rest) == Decimal("102") and rest.calls == 2
    await watch.close()


@pytest.mark.parametrize("failure", [ConnectionError("reset"), asyncio.CancelledError()])
async def test_any_exception_out_of_a_watch_is_a_gap_and_the_watcher_goes_on(fake_clock, failure):
    pro, watch = make(fake_clock)
    rest = Rest("90")
    await watch.mark("BTC", 5.0, rest)
    pro.tickers.put_nowait(ticker("100"))
    await settle()
    assert watch.marks.get("BTC", 5.0) == Decimal("100")
    pro.tickers.put_nowait(failure)  # ccxt.pro rejected (or cancelled) the pending watch
    await settle()
    assert watch.stats["gaps"] == 1 and watch.marks.get("BTC", 5.0) is None
    assert watch.running == ["ticker BTC"]
    pro.tickers.put_nowait(ticker("103"))
    await settle()
    assert await watch.mark("BTC", 5.0, rest) == Decimal("103") and rest.calls == 1
    await watch.close()
    assert watch.running == []


async def test_a_ticker_without_the_mark_is_never_served_as_one(fake_clock):
    pro, watch = make(fake_clock)
    rest = Rest("90")
    await watch.mark("BTC", 5.0, rest)
    pro.tickers.put_nowait(ticker(None, close=1.5))  # a mid / last only
    await settle()
    assert watch.stats["mark_frames"] == 1 and await watch.mark("BTC", 5.0, rest) == Decimal("90")
    assert mark_of(ticker("7.5"), "info:markPx") == Decimal("7.5")
    assert mark_of({"markPrice": 8.25}, "markPrice") == Decimal("8.25")
    for bad in ({"markPrice": None}, {"markPrice": "nan"}, {"markPrice": 0}, {"markPrice": True}, {"info": {}}):
        assert mark_of(bad, "markPrice") is None and mark_of(bad, "info:markPx") is None
    await watch.close()


async def test_books_are_copied_at_receipt_and_unsubscribe_ends_ccxts_subscription(fake_clock):
    pro, watch = make(fake_clock)
    pro.on_connected(CLIENT)
    live = {"bids": [[10.0, 1.0, 7]], "asks": [[11.0, 2.0, 7]], "timestamp": 1}
    pro.books.put_nowait(live)
    book = await watch.orderbook("BTC", timeout=1.0, max_age=5.0)  # waits for the first frame
    assert (book["bids"], book["asks"]) == ([[10.0, 1.0]], [[11.0, 2.0]])
    live["bids"][0][0] = 9.0  # ccxt.pro edits its book in place
    assert (await watch.orderbook("BTC", timeout=1.0, max_age=5.0))["bids"] == [[10.0, 1.0]]
    await watch.release_book("BTC")
    assert pro.unwatched == ["BTC/USDC:USDC"] and watch.running == []
    await watch.close()


def test_socket_urls_follow_ws_url_or_else_rest_urls_host():
    api = {"public": "wss://api.x.xyz/ws", "private": "wss://priv.x.xyz/v1/ws", "rest": "https://api.x.xyz"}
    assert _override_ws(api, "ws://127.0.0.1:9/ws", None) == {
        "public": "ws://127.0.0.1:9/ws", "private": "ws://127.0.0.1:9/ws", "rest": "https://api.x.xyz"}
    assert _override_ws(api, "ws://127.0.0.1:9", None)["private"] == "ws://127.0.0.1:9/v1/ws"
    assert _override_ws(api, None, "http://127.0.0.1:8")["public"] == "ws://127.0.0.1:8/ws"
    assert _override_ws(api, None, "https://proxy.local")["private"] == "wss://proxy.local/v1/ws"
    assert _override_ws(api, None, None) == api


HL_FIELDS = {"wallet_address": "0x" + "1" * 40, "wallet_private_key": "0x" + "2" * 64}


def test_socket_options_are_checked_before_anything_is_built():
    with pytest.raises(ConfigError, match="ws_max_age"):
        CcxtPerpExchange("ccxt:hyperliquid", ws_max_age=0, **HL_FIELDS)
    with pytest.raises(ConfigError, match="ws_url"):
        CcxtPerpExchange("ccxt:hyperliquid", ws_url="http://127.0.0.1:1/ws", **HL_FIELDS)
    ex = CcxtPerpExchange("ccxt:hyperliquid", rest_url="http://127.0.0.1:1", proxy="http://127.0.0.1:3", **HL_FIELDS)
    assert ex.use_ws and ex.exchange.urls["api"]["ws"] == {"public": "ws://127.0.0.1:1/ws"}
    assert any(c.__module__.startswith("ccxt.pro") for c in type(ex.exchange).__mro__)
    assert ex.exchange.wsProxy == "http://127.0.0.1:3" == ex.exchange.aiohttp_proxy
    assert not CcxtPerpExchange("ccxt:hyperliquid", fetch_by_ws=False, **HL_FIELDS).use_ws
    # ccxt.pro's Pacifica picks urls['test']['ws'] on testnet: every socket URL moves
    fields = {f: "x" for f in CCXT_VENUES["pacifica"].credentials}
    urls = CcxtPerpExchange("pacifica", network="testnet", rest_url="http://127.0.0.1:2", **fields).exchange.urls
    assert urls["api"]["ws"] == urls["test"]["ws"] == {"public": "ws://127.0.0.1:2/ws"}


@pytest.mark.parametrize("name", [n for n, e in CCXT_VENUES.items() if not e.ws_reads and n != "lighter"])
def test_venues_without_verified_socket_reads_stay_on_ccxts_rest_class(name):
    entry = CCXT_VENUES[name]
    ex = CcxtPerpExchange(name, **{f: "0x" + "1" * 64 for f in entry.credentials})
    assert ex.use_ws and not ex._pro and not any(ex.ws_supported.values())
    assert not any(c.__module__.startswith("ccxt.pro") for c in type(ex.exchange).__mro__)
