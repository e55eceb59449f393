"""``SpreadMonitor``: per coin and venue, the books walked to the trade size, mark, funding per
hour and taker fee, and the ranked long/short opportunities between venues.

Decisions:

* Contract only. Each venue is asked through ``get_orderbook`` / ``get_mark_price`` (socket
  first where the venue has sockets), ``get_funding_rate`` (its ``funding_rate_per_hour``,
  from the venue's own interval) and ``get_trading_fees``. A venue that lacks a capability
  (``NotSupported``) is shown as such and never asked again; the figures that need it are
  ``None``.
* One venue never breaks a snapshot: a read that raises or runs past ``timeout`` marks that
  field (``unavailable``) or, for the book, the whole quote ``failed``; a book older than
  ``max_book_age`` is ``stale``. Only ``ok`` quotes make opportunities.
* Fees change rarely and may cost a REST call: they are reused for ``fee_ttl`` seconds;
  funding for ``funding_ttl`` seconds (0: read every snapshot).
* The arithmetic is exact (``book_math``, whose docstring defines every figure); results
  are floats.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mpdex.clock import SYSTEM_CLOCK, Clock
from mpdex.errors import NotSupported
from mpdex.precision import to_decimal
from mpdex.ratelimit import Sleep
from mpdex.types import OrderBook
from multi_perp_dex import MultiPerpDex

from . import book_math as bm
from . import venue as venue_api
from .errors import why
from .results import Opportunity, Snapshot, VenueQuote

__all__ = ["SpreadMonitor"]

log = logging.getLogger("mpdex.arb.monitor")

_NOT_SUPPORTED = "not supported by this venue"


def _f(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class _SlowRead:
    """A read that changes rarely and may cost a REST call: cached per venue-coin for a TTL,
    and never asked again of a venue that lacks it."""

    capability: str  # the venue capability, the key of ``_lacks``
    field: str  # the snapshot field it fills (``unavailable`` key)
    attr: str  # the ``_Read`` attribute it sets
    what: str  # for the log line
    fetch: Callable[[MultiPerpDex, str], Awaitable[Any]]
    parse: Callable[[Any], Any]


_FUNDING = _SlowRead("funding", "funding_rate_per_hour", "funding", "funding rates", venue_api.get_funding_rate,
                     lambda rate: (to_decimal(rate["funding_rate_per_hour"], "funding_rate_per_hour"),
                                   to_decimal(rate["interval_hours"], "interval_hours")))
_FEES = _SlowRead("fees", "taker_fee", "fee", "fee rates", venue_api.get_trading_fees,
                  lambda fees: to_decimal(fees["taker"], "taker"))


@dataclass
class _Read:
    """What one venue said about one coin, before any arithmetic."""

    book: OrderBook | None = None
    book_error: str | None = None
    mark: float | None = None
    funding: tuple[Decimal, Decimal] | None = None  # (per hour, interval hours)
    fee: Decimal | None = None
    unavailable: dict[str, str] = field(default_factory=dict)  # field -> why it is None


@dataclass
class _Quote:
    """One venue-coin, exact, for the opportunity arithmetic."""

    ok: bool
    symbol: str
    buy: bm.Walk | None
    sell: bm.Walk | None
    funding: Decimal | None
    fee: Decimal | None


class SpreadMonitor:
    """Spread and funding monitor over ``exchanges`` (venue name → initialised exchange).

    ``coins`` are passed to every venue as they are (the contract lets each venue resolve a
    bare coin); ``symbols`` may name a venue's own symbol per coin
    (``{"BTC": {"hl": "BTC"}}``). ``size`` is the trade size in coins the books are walked to.

    Options: ``max_book_age`` (s, default 2.0): an older book is ``stale``; ``timeout`` (s,
    default 2.0) per read; ``fee_ttl`` (default 300) / ``funding_ttl`` (default 5) seconds a
    fee / funding rate is reused; ``clock`` and ``sleep`` are injectable.

    ``await snapshot()`` reads everything once; ``stream(interval)`` yields a snapshot every
    ``interval`` seconds; ``await close()`` (or ``async with``) releases the book streams.
    """

    def __init__(
        self,
        exchanges: Mapping[str, MultiPerpDex],
        coins: Sequence[str],
        size: Any,
        *,
        symbols: Mapping[str, Mapping[str, str]] | None = None,
        max_book_age: float = 2.0,
        timeout: float = 2.0,
        fee_ttl: float = 300.0,
        funding_ttl: float = 5.0,
        clock: Clock = SYSTEM_CLOCK,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not exchanges:
            raise ValueError("SpreadMonitor needs at least one exchange")
        if isinstance(coins, str) or not coins or not all(isinstance(c, str) and c.strip() for c in coins):
            raise ValueError("coins must be a non-empty list of coin names")
        self.size = to_decimal(size, "size")
        if self.size <= 0:
            raise ValueError(f"size must be positive, got {size!r}")
        for name, value in (("max_book_age", max_book_age), ("timeout", timeout)):
            if not value > 0:
                raise ValueError(f"{name} must be positive")
        if fee_ttl < 0 or funding_ttl < 0:
            raise ValueError("fee_ttl and funding_ttl must not be negative")
        self.exchanges = dict(exchanges)
        self.coins = [c.strip() for c in coins]
        overrides = {coin: dict(m) for coin, m in (symbols or {}).items()}
        self.symbols: dict[str, dict[str, str]] = {
            coin: {venue: overrides.get(coin, {}).get(venue, coin) for venue in self.exchanges} for coin in self.coins
        }
        self.max_book_age_ms = max_book_age * 1000.0
        self.timeout = float(timeout)
        self.fee_ttl = float(fee_ttl)
        self.funding_ttl = float(funding_ttl)
        self._clock = clock
        self._sleep = sleep
        self._lacks: dict[tuple[str, str], str] = {}  # (venue, capability) -> reason, for good
        self._ttl = {_FUNDING.capability: self.funding_ttl, _FEES.capability: self.fee_ttl}
        self._cached: dict[tuple[str, str, str], tuple[float, Any]] = {}  # (capability, venue, symbol) -> (at, value)
        self._books_held: set[tuple[str, str]] = set()
        self._stragglers: set[asyncio.Task[None]] = set()  # timed-out reads still unwinding

    # -- life cycle ----------------------------------------------------------------------

    async def close(self) -> None:
        """Release every book stream this monitor made a venue hold (after the reads that
        timed out have finished unwinding). Idempotent."""
        if self._stragglers:
            await asyncio.gather(*list(self._stragglers), return_exceptions=True)
        held, self._books_held = self._books_held, set()
        for venue, symbol in sorted(held):
            try:
                await self.exchanges[venue].unsubscribe_orderbook(symbol)
            except Exception as exc:  # a venue that cannot release must not stop the others
                log.warning("arb monitor: releasing the %s book on %s failed: %s", symbol, venue, why(exc))

    async def __aenter__(self) -> SpreadMonitor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- reads ---------------------------------------------------------------------------
    # Each read is one task that writes its answer (or why there is none) into the _Read of
    # its venue-coin; the snapshot waits for all of them at most ``timeout`` seconds and marks
    # the ones still running as timed out (one bound for the lot, no task per timeout).

    async def _read_book(self, venue: str, symbol: str, read: _Read) -> None:
        try:
            self._books_held.add((venue, symbol))
            read.book = await self.exchanges[venue].get_orderbook(symbol, timeout=self.timeout)
        except Exception as exc:
            read.book_error = why(exc)

    async def _read_mark(self, venue: str, symbol: str, read: _Read) -> None:
        try:
            read.mark = float(await self.exchanges[venue].get_mark_price(symbol))
        except Exception as exc:
            read.unavailable["mark_price"] = why(exc)

    async def _read_slow(self, kind: _SlowRead, venue: str, symbol: str, read: _Read) -> None:
        try:
            value = kind.parse(await kind.fetch(self.exchanges[venue], symbol))
        except NotSupported as exc:
            self._lacks[(venue, kind.capability)] = _NOT_SUPPORTED
            log.info("arb monitor: %s has no %s (%s)", venue, kind.what, exc)
            read.unavailable[kind.field] = _NOT_SUPPORTED
            return
        except Exception as exc:
            read.unavailable[kind.field] = why(exc)
            return
        self._cached[(kind.capability, venue, symbol)] = (self._clock.monotonic(), value)
        setattr(read, kind.attr, value)

    def _jobs(self, venue: str, symbol: str, read: _Read, now: float) -> list[tuple[str, Coroutine[Any, Any, None]]]:
        """The reads one venue-coin needs now (cached fee / funding and known gaps skip theirs)."""
        jobs: list[tuple[str, Coroutine[Any, Any, None]]] = [
            ("book", self._read_book(venue, symbol, read)), ("mark_price", self._read_mark(venue, symbol, read))]
        for kind in (_FUNDING, _FEES):
            lacks = self._lacks.get((venue, kind.capability))
            cached = self._cached.get((kind.capability, venue, symbol))
            if lacks:
                read.unavailable[kind.field] = lacks
            elif cached is not None and now - cached[0] <= self._ttl[kind.capability]:
                setattr(read, kind.attr, cached[1])
            else:
                jobs.append((kind.field, self._read_slow(kind, venue, symbol, read)))
        return jobs

    async def _read_all(self, pairs: list[tuple[str, str]]) -> list[_Read]:
        now = self._clock.monotonic()
        reads = [_Read() for _ in pairs]
        running: dict[asyncio.Task[None], tuple[_Read, str]] = {}
        for (coin, venue), read in zip(pairs, reads, strict=True):
            for what, job in self._jobs(venue, self.symbols[coin][venue], read, now):
                running[asyncio.ensure_future(job)] = (read, what)
        if not running:
            return reads
        _, late = await asyncio.wait(running, timeout=self.timeout)
        for task in late:
            # cancelled, not awaited: a venue client that swallows the cancellation (a timeout
            # of its own firing at the same moment) must not stretch the bound
            task.cancel()
            self._stragglers.add(task)
            task.add_done_callback(self._stragglers.discard)
            read, what = running[task]
            if what == "book":
                read.book_error = f"timed out after {self.timeout:g}s"
            else:
                read.unavailable[what] = f"timed out after {self.timeout:g}s"
        return reads

    # -- the snapshot ----------------------------------------------------------------------

    async def snapshot(self) -> Snapshot:
        """Read every venue for every coin once (concurrently) and rank the opportunities."""
        started = time.perf_counter()
        pairs = [(coin, venue) for coin in self.coins for venue in self.exchanges]
        reads = await self._read_all(pairs)
        read_ms = (time.perf_counter() - started) * 1000.0
        taken = self._clock.now_ms()  # ages are counted to the moment the snapshot is complete
        quotes: dict[str, dict[str, VenueQuote]] = {coin: {} for coin in self.coins}
        exact: dict[str, dict[str, _Quote]] = {coin: {} for coin in self.coins}
        for (coin, venue), read in zip(pairs, reads, strict=True):
            quotes[coin][venue], exact[coin][venue] = self._quote(coin, venue, read, taken)
        opportunities = [opp for coin in self.coins for opp in self._opportunities(coin, exact[coin])]
        opportunities.sort(key=_rank)
        return {
            "time": taken,
            "size": float(self.size),
            "venues": list(self.exchanges),
            "coins": list(self.coins),
            "quotes": quotes,
            "opportunities": opportunities,
            "read_ms": read_ms,
        }

    def _quote(self, coin: str, venue: str, read: _Read, taken_ms: int) -> tuple[VenueQuote, _Quote]:
        symbol = self.symbols[coin][venue]
        missing = dict(read.unavailable)
        quote: VenueQuote = {
            "venue": venue, "coin": coin, "symbol": symbol, "status": "failed", "error": read.book_error,
            "book_time": None, "age_ms": None, "best_bid": None, "best_ask": None,
            "buy_price": None, "sell_price": None, "buy_worst": None, "sell_worst": None,
            "ask_available": None, "bid_available": None, "mark_price": read.mark,
            "funding_rate_per_hour": _f(read.funding[0]) if read.funding else None,
            "funding_interval_hours": _f(read.funding[1]) if read.funding else None,
            "taker_fee": _f(read.fee), "unavailable": missing,
        }
        exact = _Quote(False, symbol, None, None, read.funding[0] if read.funding else None, read.fee)
        book = read.book
        if book is None:
            return quote, exact
        try:
            bids, asks = book["bids"], book["asks"]
            book_time = int(book["time"])
            buy = bm.walk(asks, self.size) if asks else None
            sell = bm.walk(bids, self.size) if bids else None
            best_bid = float(bids[0][0]) if bids else None
            best_ask = float(asks[0][0]) if asks else None
        except (KeyError, IndexError, TypeError, ValueError, ArithmeticError) as exc:
            quote["error"] = f"unreadable book: {why(exc)}"
            return quote, exact
        age = taken_ms - book_time
        quote["book_time"], quote["age_ms"] = book_time, age
        quote["best_bid"], quote["best_ask"] = best_bid, best_ask
        if buy is None:
            missing["buy_price"] = "no asks"
        else:
            quote["buy_worst"] = _f(buy.worst_price)
            quote["buy_price"] = _f(buy.avg_price)
            if not buy.complete:
                quote["ask_available"] = float(buy.available)
                missing["buy_price"] = f"thin: {buy.available} of {self.size} on the asks"
        if sell is None:
            missing["sell_price"] = "no bids"
        else:
            quote["sell_worst"] = _f(sell.worst_price)
            quote["sell_price"] = _f(sell.avg_price)
            if not sell.complete:
                quote["bid_available"] = float(sell.available)
                missing["sell_price"] = f"thin: {sell.available} of {self.size} on the bids"
        exact.buy, exact.sell = buy, sell
        if age > self.max_book_age_ms:
            quote["status"] = "stale"
            quote["error"] = f"book is {age / 1000:.3f}s old (bound {self.max_book_age_ms / 1000:g}s)"
        else:
            quote["status"] = "ok"
            exact.ok = True
        return quote, exact

    def _opportunities(self, coin: str, quotes: Mapping[str, _Quote]) -> list[Opportunity]:
        out: list[Opportunity] = []
        for long_venue, lq in quotes.items():
            if not lq.ok or lq.buy is None or lq.buy.avg_price is None:
                continue
            for short_venue, sq in quotes.items():
                if short_venue == long_venue or not sq.ok or sq.sell is None or sq.sell.avg_price is None:
                    continue
                e = bm.edge(lq.buy.avg_price, sq.sell.avg_price, long_taker=lq.fee, short_taker=sq.fee,
                            long_funding=lq.funding, short_funding=sq.funding)
                out.append({
                    "coin": coin, "long_venue": long_venue, "short_venue": short_venue,
                    "long_symbol": lq.symbol, "short_symbol": sq.symbol, "size": float(self.size),
                    "long_price": float(lq.buy.avg_price), "short_price": float(sq.sell.avg_price),
                    "gross_bps": float(e.gross_bps), "fees_bps": _f(e.fees_bps), "net_bps": _f(e.net_bps),
                    "funding_edge_bps_per_hour": _f(e.funding_edge_bps_per_hour),
                    "payback_hours": _f(e.payback_hours),
                })
        return out

    # -- streaming -------------------------------------------------------------------------

    async def stream(self, interval: float) -> AsyncIterator[Snapshot]:
        """A snapshot every ``interval`` seconds (the first at once), from the venues' live
        sockets once their book streams are held. A slow snapshot delays the next one; it
        never piles them up. Stop by leaving the ``async for``; ``close()`` releases the books."""
        if not interval > 0:
            raise ValueError("interval must be positive")
        next_at = self._clock.monotonic()
        while True:
            yield await self.snapshot()
            next_at += interval
            delay = next_at - self._clock.monotonic()
            if delay < 0:
                next_at = self._clock.monotonic()
                delay = 0.0
            await self._sleep(delay)


def _rank(opp: Opportunity) -> tuple[bool, float, float]:
    """Best first: the highest ``net_bps`` (unknown net last), then the highest funding edge."""
    net = opp["net_bps"]
    edge = opp["funding_edge_bps_per_hour"]
    return (net is None, -(net if net is not None else 0.0), -(edge if edge is not None else float("-inf")))
