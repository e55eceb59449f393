"""Seedable market model: marks, index prices, order books, public trades and 1m bars.

One random walk per market (mean-reverting around its reference price), driven by a
``random.Random`` seeded from ``(seed, symbol)``, so two servers with the same seed and
the same sequence of ticks produce the same marks. Books are generated lazily from the
mark (seeded by ``(seed, symbol, book version)``) and deplete as orders take liquidity
until the mark moves again: 100 levels a side, the best half a basis point from the mark,
one basis point apart. Every price is put on the market's grid (``Market.price_step``).

A restart with the same ledger continues from the stored marks (the simulator saves them);
trades and bars live in memory only, and 120 minutes of 1m history are synthesised at start
so charts and 24h statistics have something to show. Nothing here touches the ledger: fills
are priced here and booked by the simulator.
"""
from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal

from mpdex.precision import Rounding, round_to_step

from .markets import Market

__all__ = ["Trade", "Bar", "MarketState", "PriceModel", "INTERVALS_MS", "BOOK_LEVELS"]

BOOK_LEVELS = 100
MINUTE_MS = 60_000
INTERVALS_MS: dict[str, int] = {
    "1m": MINUTE_MS, "3m": 3 * MINUTE_MS, "5m": 5 * MINUTE_MS, "15m": 15 * MINUTE_MS,
    "30m": 30 * MINUTE_MS, "1h": 60 * MINUTE_MS, "2h": 120 * MINUTE_MS, "4h": 240 * MINUTE_MS,
    "6h": 360 * MINUTE_MS, "8h": 480 * MINUTE_MS, "12h": 720 * MINUTE_MS, "1d": 1440 * MINUTE_MS,
    "3d": 3 * 1440 * MINUTE_MS, "1w": 7 * 1440 * MINUTE_MS, "1M": 30 * 1440 * MINUTE_MS,
}

# Per-tick volatility, book depth (USDC per level) and base hourly funding by asset class.
_SIGMA = {"crypto": Decimal("0.00015"), "stock": Decimal("0.00008"), "forex": Decimal("0.00004")}
_DEPTH = {"crypto": Decimal(20_000), "stock": Decimal(10_000), "forex": Decimal(50_000)}
_BASE_FUNDING = {"crypto": Decimal("0.0000125"), "stock": Decimal("0.0000050"), "forex": Decimal("0.0000010")}
_FUNDING_CAP = Decimal("0.0005")
_FUNDING_Q = Decimal("0.0000001")
_REVERSION = Decimal("0.002")
_MAX_REVERSION = Decimal("0.5")  # a long replay step pulls at most halfway back to the reference
_ONE = Decimal(1)


def _q(value: Decimal, step: Decimal, mode: Rounding = "nearest") -> Decimal:
    """``value`` on a multiple of ``step``, exactly (``round_to_step``: ``down``/``up``
    directed, ``nearest`` half up); never through ``value / step``, whose context
    rounding can cross a step boundary first."""
    return round_to_step(value, step, mode)


def _grid(m: Market, price: Decimal, mode: Rounding = "nearest") -> Decimal:
    """``price`` on the market's price grid, never below the finest tick."""
    return max(_q(price, m.price_step(price), mode), m.tick)


def _dec(x: float) -> Decimal:
    return Decimal(f"{x:.6f}")


@dataclass
class Trade:
    id: int
    price: Decimal
    qty: Decimal  # signed: negative means the taker sold
    time: int


@dataclass
class Bar:
    open_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal = Decimal(0)
    quote_volume: Decimal = Decimal(0)
    trades: int = 0

    def add(self, price: Decimal, qty: Decimal = Decimal(0)) -> None:
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.close = price
        if qty:
            self.volume += abs(qty)
            self.quote_volume += abs(qty) * price
            self.trades += 1


@dataclass
class MarketState:
    market: Market
    mark: Decimal
    index: Decimal
    ref: Decimal
    cum_funding: Decimal = Decimal(0)
    status: str = "TRADING"
    funding_override: Decimal | None = None
    book_version: int = 0
    _book: tuple[list[list[Decimal]], list[list[Decimal]]] | None = None
    trades: deque[Trade] = field(default_factory=lambda: deque(maxlen=1000))
    bars: dict[int, Bar] = field(default_factory=dict)
    trade_seq: int = 0


class PriceModel:
    """Marks, books, trades and bars of every market."""

    def __init__(
        self,
        markets: dict[str, Market],
        seed: int,
        now_ms: int,
        stored: dict[str, tuple[Decimal, Decimal, Decimal]] | None = None,
        history_minutes: int = 120,
    ) -> None:
        self.markets = markets
        self.seed = seed
        self._rng = {s: random.Random(f"{seed}:{s}:walk") for s in markets}
        self.states: dict[str, MarketState] = {}
        for symbol, m in markets.items():
            mark, index, cum = (stored or {}).get(symbol, (m.ref_price, m.ref_price, Decimal(0)))
            self.states[symbol] = MarketState(m, mark, index, ref=mark, cum_funding=cum)
            self._backfill(self.states[symbol], now_ms, history_minutes)

    # --- the walk -------------------------------------------------------------------

    def step(self, now_ms: int, *, dt: Decimal = _ONE,
             rngs: dict[str, random.Random] | None = None) -> dict[str, list[Trade]]:
        """Advance every market one tick (``dt`` ticks' worth of time: the volatility
        scales with √dt, the pull to the reference with dt, capped); return the synthetic
        public trades made. ``rngs`` replaces the live walk's random sources (a replay)."""
        out: dict[str, list[Trade]] = {}
        reversion = _REVERSION if dt == 1 else min(_REVERSION * dt, _MAX_REVERSION)
        for symbol, st in self.states.items():
            rng = (rngs or self._rng)[symbol]
            m = st.market
            sigma = _SIGMA[m.asset] if dt == 1 else _SIGMA[m.asset] * dt.sqrt()
            z = _dec(rng.gauss(0.0, 1.0))
            drift = reversion * (st.ref - st.mark) / st.ref
            new_mark = _grid(m, st.mark * (1 + sigma * z + drift))
            basis = _dec(rng.gauss(0.0, 1.0)) * _SIGMA[m.asset]
            self._move(st, new_mark, now_ms, basis)
            made: list[Trade] = []
            for _ in range(rng.randint(0, 2)):
                is_buy = rng.random() < 0.5
                px = self.best(symbol, is_buy)
                if px is None:
                    continue
                notional = _DEPTH[m.asset] * _dec(rng.random()) / 4
                qty = max(_q(notional / px, m.size_step, "down"), m.size_step)
                made.append(self.record_trade(symbol, px, qty if is_buy else -qty, now_ms))
            out[symbol] = made
        return out

    def replay_rngs(self, since_ms: int, until_ms: int) -> dict[str, random.Random]:
        """The random sources of a replay of ``since_ms``..``until_ms``: seeded by the seed,
        the symbol and both ends, so the same ledger, seed and gap give the same path."""
        return {s: random.Random(f"{self.seed}:{s}:replay:{since_ms}:{until_ms}") for s in self.markets}

    def set_price(self, symbol: str, price: Decimal, now_ms: int) -> None:
        """Mark and index jump to ``price`` (on the tick grid); the walk centres there."""
        st = self.states[symbol]
        price = _grid(st.market, price)
        st.ref = price
        self._move(st, price, now_ms, Decimal(0))

    def _move(self, st: MarketState, mark: Decimal, now_ms: int, basis: Decimal) -> None:
        st.mark = mark
        st.index = _grid(st.market, mark * (1 + basis))
        st.book_version += 1
        st._book = None
        self._bar(st, now_ms).add(mark)

    # --- books ----------------------------------------------------------------------

    def book(self, symbol: str) -> tuple[list[list[Decimal]], list[list[Decimal]]]:
        """``(bids best-first, asks best-first)`` of ``[price, qty]``; mutable by fills."""
        st = self.states[symbol]
        if st._book is None:
            st._book = self._generate_book(st)
        return st._book

    def _generate_book(self, st: MarketState) -> tuple[list[list[Decimal]], list[list[Decimal]]]:
        m = st.market
        rng = random.Random(f"{self.seed}:{m.symbol}:book:{st.book_version}")
        half, gap = self._half_and_gap(st)
        depth = _DEPTH[m.asset]
        bids: list[list[Decimal]] = []
        asks: list[list[Decimal]] = []
        for i in range(BOOK_LEVELS):
            scale = depth * (1 + Decimal(i) / 4)
            # on a significant-figure grid a level past a power of ten snaps outwards
            bid_px = _q(st.mark - half - gap * i, m.price_step(st.mark - half - gap * i), "down")
            ask_px = _q(st.mark + half + gap * i, m.price_step(st.mark + half + gap * i), "up")
            for px, side in ((bid_px, bids), (ask_px, asks)):
                if px <= 0 or (side and side[-1][0] == px):
                    continue
                u = Decimal("0.5") + _dec(rng.random())
                qty = max(_q(scale * u / px, m.size_step, "down"), m.size_step)
                side.append([px, qty])
        return bids, asks

    def sweep(self, symbol: str, is_buy: bool, size: Decimal, limit: Decimal | None) -> list[tuple[Decimal, Decimal]]:
        """Fills a taker of ``size`` would get, best level first, never beyond ``limit``.

        Pure: the book is not changed (``consume`` does that once the fill is booked).
        The result may cover less than ``size`` when the book runs out within ``limit``.
        """
        bids, asks = self.book(symbol)
        fills: list[tuple[Decimal, Decimal]] = []
        left = size
        for px, qty in asks if is_buy else bids:
            if left <= 0:
                break
            if limit is not None and (px > limit if is_buy else px < limit):
                break
            take = min(qty, left)
            fills.append((px, take))
            left -= take
        return fills

    def best(self, symbol: str, is_buy: bool) -> Decimal | None:
        """The best price a buy (the best ask) or a sell (the best bid) would take. A book
        not generated since the mark moved is not generated for this: its first level is
        computed the way the generator places it."""
        st = self.states[symbol]
        if st._book is None:
            top = self._first_level(st, is_buy)
            if top is not None:
                return top
        bids, asks = self.book(symbol)
        levels = asks if is_buy else bids
        return levels[0][0] if levels else None

    def _half_and_gap(self, st: MarketState) -> tuple[Decimal, Decimal]:
        step = st.market.price_step(st.mark)
        half = max(step, _q(st.mark * Decimal("0.00005"), step, "up"))
        gap = max(step, _q(st.mark * Decimal("0.0001"), step, "up"))
        return half, gap

    def _first_level(self, st: MarketState, is_buy: bool) -> Decimal | None:
        m = st.market
        half, _ = self._half_and_gap(st)
        if is_buy:
            return _q(st.mark + half, m.price_step(st.mark + half), "up")
        bid = _q(st.mark - half, m.price_step(st.mark - half), "down")
        return bid if bid > 0 else None

    def liquidity_through(self, symbol: str, is_buy: bool, limit: Decimal) -> Decimal:
        """Size resting on the other side at prices a buy (sell) limit at ``limit`` crosses."""
        return sum((q for _, q in self.sweep(symbol, is_buy, Decimal("1e30"), limit)), Decimal(0))

    def consume(self, symbol: str, is_buy: bool, size: Decimal) -> None:
        """Remove ``size`` from the other side of the book, best level first."""
        bids, asks = self.book(symbol)
        levels = asks if is_buy else bids
        left = size
        while left > 0 and levels:
            take = min(levels[0][1], left)
            levels[0][1] -= take
            left -= take
            if levels[0][1] <= 0:
                levels.pop(0)

    # --- trades and bars ------------------------------------------------------------

    def record_trade(self, symbol: str, price: Decimal, signed_qty: Decimal, now_ms: int) -> Trade:
        st = self.states[symbol]
        st.trade_seq += 1
        trade = Trade(st.trade_seq, price, signed_qty, now_ms)
        st.trades.append(trade)
        self._bar(st, now_ms).add(price, signed_qty)
        return trade

    def _bar(self, st: MarketState, now_ms: int) -> Bar:
        start = now_ms - now_ms % MINUTE_MS
        bar = st.bars.get(start)
        if bar is None:
            prev = st.bars[max(st.bars)].close if st.bars else st.mark
            bar = st.bars[start] = Bar(start, prev, prev, prev, prev)
            if len(st.bars) > 1500:
                del st.bars[min(st.bars)]
        return bar

    def current_bar(self, symbol: str, now_ms: int) -> Bar:
        return self._bar(self.states[symbol], now_ms)

    def bars(self, symbol: str, interval_ms: int) -> list[Bar]:
        """Bars of ``interval_ms`` aggregated from the 1m bars, oldest first."""
        out: dict[int, Bar] = {}
        for start in sorted(self.states[symbol].bars):
            b = self.states[symbol].bars[start]
            key = start - start % interval_ms
            agg = out.get(key)
            if agg is None:
                out[key] = Bar(key, b.open, b.high, b.low, b.close, b.volume, b.quote_volume, b.trades)
            else:
                agg.high = max(agg.high, b.high)
                agg.low = min(agg.low, b.low)
                agg.close = b.close
                agg.volume += b.volume
                agg.quote_volume += b.quote_volume
                agg.trades += b.trades
        return list(out.values())

    def _backfill(self, st: MarketState, now_ms: int, minutes: int) -> None:
        """Synthetic 1m history ending at the current mark, so charts and 24h stats
        have something to show on a fresh server."""
        m = st.market
        rng = random.Random(f"{self.seed}:{m.symbol}:history:{now_ms // MINUTE_MS}")
        sigma = _SIGMA[m.asset] * 8
        this_minute = now_ms - now_ms % MINUTE_MS
        closes = [st.mark]
        for _ in range(minutes):
            prev = closes[-1] * (1 - sigma * _dec(rng.gauss(0.0, 1.0)))
            closes.append(_grid(m, prev))
        for k in range(minutes, 0, -1):
            open_, close = closes[k], closes[k - 1]
            wiggle = 1 + sigma * abs(_dec(rng.gauss(0.0, 1.0)))
            high = _grid(m, max(open_, close) * wiggle, "up")
            low = _grid(m, min(open_, close) / wiggle, "down")
            n = rng.randint(5, 40)
            vol = _q(_DEPTH[m.asset] * n / 8 / close, m.size_step, "down")
            start = this_minute - k * MINUTE_MS
            st.bars[start] = Bar(start, open_, high, low, close, vol, vol * close, n)

    # --- funding and tickers --------------------------------------------------------

    def funding_rate(self, symbol: str) -> Decimal:
        """The current one-hour funding rate: base + premium of mark over index, capped."""
        st = self.states[symbol]
        if st.funding_override is not None:
            return st.funding_override
        premium = (st.mark - st.index) / st.index / 24
        rate = _BASE_FUNDING[st.market.asset] + premium
        rate = max(-_FUNDING_CAP, min(_FUNDING_CAP, rate))
        return _q(rate, _FUNDING_Q)

    def stats_24h(self, symbol: str, now_ms: int) -> dict[str, object]:
        st = self.states[symbol]
        since = now_ms - 1440 * MINUTE_MS
        window = [st.bars[k] for k in sorted(st.bars) if k >= since - since % MINUTE_MS]
        current = self._bar(st, now_ms)
        if not window:
            window = [current]
        open_ = window[0].open
        close = st.mark
        change = close - open_
        return {
            "open": open_,
            "close": close,
            "high": max(max(b.high for b in window), close),
            "low": min(min(b.low for b in window), close),
            "volume": sum((b.volume for b in window), Decimal(0)),
            "quote_volume": sum((b.quote_volume for b in window), Decimal(0)),
            "change": change,
            "change_pct": _q(change / open_ * 100, Decimal("0.001")) if open_ else Decimal(0),
            "open_time": window[0].open_time,
            "close_time": current.open_time + MINUTE_MS - 1,
        }
