"""The hedged two-leg executor: ``open_hedge``, ``close_hedge``, ``hedge_imbalance``.

One algorithm for both directions (``HedgePlan.execute``):

1. Everything is validated before anything is read or sent. Optional price protection reads
   both books and refuses (``EntrySpreadExceeded``, nothing sent) when crossing them for the
   size costs more than ``max_spread_bps``: ``(buy avg − sell avg) / buy avg × 10⁴``.
2. The two main orders go together (default), or one after the other (``sequential=True``:
   long first; ``"thinner_first"``: the venue with less depth within the slippage band first;
   the second is then sized to what the first filled, and is not sent if the first left
   nothing). Each order's fate comes from the error types (``order_fate``); an unknown order
   is reconciled by client order id and never re-sent.
3. If the legs moved by different amounts, the leg that moved more is moved back by the
   difference — opening: a reduce-only market order (``unwind`` when it takes the leg back to
   zero, ``reduce`` for a partial fill); closing: the over-closed leg is re-opened
   (``restore``) — with up to ``unwind_attempts`` orders, each with a new client order id,
   and a new one only after the previous one was refused or proven absent.
4. Status: ``hedged`` / ``closed`` (balanced, both legs moved), ``unwound`` (balanced, the
   hedge as before the call), ``naked`` (unbalanced, or an order's fate is unknown): raised
   as ``NakedExposure`` naming each venue's holding. Nothing filled → ``HedgeRefused``.
   Closing positions that were imbalanced before the call (``size=None``) closes each whole
   position; a leg is never moved back further than it moved, so an imbalance from before
   the call is reported in ``notes``, never taken for this call's exposure.

Sizes go to the venues as floats (the contract's boundary); each venue rounds to its own
step, so pass a size both venues can represent — a mismatch is repaired like a partial fill.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, TypeVar

from mpdex.clock import SYSTEM_CLOCK, Clock
from mpdex.errors import BadRequest, InvalidOrder, NotSupported
from mpdex.precision import to_decimal
from mpdex.ratelimit import Sleep
from mpdex.types import OrderBook, OrderSide, Position
from multi_perp_dex import MultiPerpDex

from . import book_math as bm
from . import venue as venue_api
from .errors import EntrySpreadExceeded, HedgeRefused, NakedExposure, why
from .order_fate import Attempt, Leg, Settings, read_fee, send_order
from .results import (
    Exposure,
    HedgeAction,
    HedgeResult,
    HedgeStatus,
    Imbalance,
    LegName,
    LegPlan,
    LegResult,
    OrderPurpose,
    PlanPreview,
)

__all__ = ["HedgePlan", "plan_open", "plan_close", "open_hedge", "close_hedge", "hedge_imbalance", "LegArg"]

log = logging.getLogger("mpdex.arb")

T = TypeVar("T")
#: ``(exchange, symbol)`` or ``(exchange, symbol, venue name)``; the name labels results
LegArg = tuple[MultiPerpDex, str] | tuple[MultiPerpDex, str, str]
Sequential = bool | Literal["thinner_first"]

_ZERO = Decimal(0)
DEFAULT_THIN_BAND = Decimal("0.005")


def _opposite(side: OrderSide) -> OrderSide:
    return "sell" if side == "buy" else "buy"


def _fl(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


async def _bounded(aw: Awaitable[T], seconds: float) -> T:
    return await asyncio.wait_for(aw, seconds)


def _leg(arg: Any, name: LegName) -> Leg:
    if not isinstance(arg, tuple) or len(arg) not in (2, 3):
        raise BadRequest(f"{name} must be (exchange, symbol) or (exchange, symbol, venue name), got {arg!r}")
    exchange, symbol = arg[0], arg[1]
    if not callable(getattr(exchange, "create_order", None)):
        raise BadRequest(f"{name}: {exchange!r} is not an exchange (no create_order)")
    if not isinstance(symbol, str) or not symbol.strip():
        raise BadRequest(f"{name}: symbol must be a non-empty string, got {symbol!r}")
    venue = arg[2] if len(arg) == 3 else (getattr(exchange, "name", "") or type(exchange).__name__)
    if not isinstance(venue, str) or not venue.strip():
        raise BadRequest(f"{name}: venue name must be a non-empty string, got {venue!r}")
    return Leg(name, exchange, symbol.strip(), venue.strip())


def _fraction(value: Any, name: str) -> Decimal | None:
    if value is None:
        return None
    d = to_decimal(value, name)
    if not _ZERO <= d < 1:
        raise InvalidOrder(f"{name} must be a fraction in [0, 1), got {value!r}")
    return d


def _positive(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise BadRequest(f"{name} must be a positive number of seconds, got {value!r}")
    return float(value)


def _signed(position: Position | None) -> Decimal:
    if not position or not position.get("size"):
        return _ZERO
    size = abs(bm.dec(position["size"]))
    return size if str(position.get("side", "")).lower() in ("long", "buy") else -size


@dataclass(frozen=True)
class HedgePlan:
    """A validated two-leg order plan; nothing is read or sent until ``preview()`` (reads)
    or ``execute()`` (sends). Build it with ``plan_open`` / ``plan_close``."""

    action: HedgeAction
    long: Leg
    short: Leg
    size: Decimal | None  # None (close only): each leg's whole position
    slippage: Decimal | None
    unwind_slippage: Decimal | None
    max_spread_bps: Decimal | None
    sequential: Sequential
    unwind_attempts: int
    unwind_backoff: float
    thin_band: Decimal
    settings: Settings

    # -- what each leg does ----------------------------------------------------------------

    def side(self, leg: Leg) -> OrderSide:
        buys = (leg.name == "long") == (self.action == "open")
        return "buy" if buys else "sell"

    @property
    def legs(self) -> tuple[Leg, Leg]:
        return self.long, self.short

    async def _sizes(self) -> tuple[Decimal, Decimal, list[str]]:
        """Per-leg size: the plan's size, or (close without one) each leg's position."""
        if self.size is not None:
            return self.size, self.size, []
        try:
            imbalance = await _positions(self.long, self.short, self.settings.read_timeout)
        except Exception as exc:
            raise HedgeRefused(f"cannot read the positions to close: {why(exc)}; nothing sent") from exc
        long_pos, short_pos = (bm.dec(imbalance["long"]["position"]), bm.dec(imbalance["short"]["position"]))
        if long_pos < 0 or short_pos > 0:
            raise HedgeRefused(
                f"not the hedge to close: {self.long.venue} holds {long_pos:+} {self.long.symbol} (expected long), "
                f"{self.short.venue} holds {short_pos:+} {self.short.symbol} (expected short); nothing sent")
        if long_pos == 0 and short_pos == 0:
            raise HedgeRefused(f"nothing to close: both {self.long.venue} and {self.short.venue} are flat; nothing sent")
        notes = [f"closing the whole positions: {self.long.venue} long {long_pos}, {self.short.venue} short {-short_pos}"]
        if long_pos != -short_pos:
            notes.append(f"the positions were imbalanced by {long_pos + short_pos:+} before the close")
        return long_pos, -short_pos, notes

    async def _sizes_both_venues_sign(self, sizes: dict[LegName, Decimal], notes: list[str]) -> dict[LegName, Decimal]:
        """The one size both venues would sign for the legs. Each venue rounds the size to its
        own step (``prepare_order``; nothing is sent); when they differ, both legs go out at
        the smaller one instead of being repaired afterwards with an extra order. A leg a
        venue would refuse (below its minimum, say) refuses the hedge before anything is sent."""
        async def signed(leg: Leg, size: Decimal) -> Decimal | None:
            try:
                plan = await venue_api.prepare_market_order(
                    leg.exchange, leg.symbol, self.side(leg), float(size), reduce_only=self.action == "close",
                    slippage=None if self.slippage is None else float(self.slippage))
            except NotSupported:
                return None  # the venue cannot preview: its own rounding decides at send time
            except InvalidOrder as exc:
                raise HedgeRefused(f"the {leg.name} leg on {leg.venue} would be refused: {why(exc)}; nothing sent") \
                    from exc
            return to_decimal(plan.size, "size")

        got = await asyncio.gather(*(signed(leg, sizes[leg.name]) for leg in self.legs))
        if any(g is None for g in got) or got[0] == got[1]:
            return sizes
        common = min(g for g in got if g is not None)
        again = await asyncio.gather(*(signed(leg, common) for leg in self.legs))
        if any(g not in (None, common) for g in again):
            raise HedgeRefused(f"no size both venues sign: {self.long.venue} signs {got[0]}, {self.short.venue} signs "
                               f"{got[1]} and they cannot agree on {common}; nothing sent")
        notes.append(f"size {self.size} signs as {got[0]} on {self.long.venue} and {got[1]} on {self.short.venue}: "
                     f"both legs go out at {common}")
        return {"long": common, "short": common}

    async def _books(self) -> dict[LegName, OrderBook | BaseException]:
        async def one(leg: Leg) -> OrderBook | BaseException:
            try:
                return await _bounded(leg.exchange.get_orderbook(leg.symbol, timeout=self.settings.read_timeout),
                                      self.settings.read_timeout)
            except Exception as exc:
                return exc

        long_book, short_book = await asyncio.gather(one(self.long), one(self.short))
        return {"long": long_book, "short": short_book}

    def _walk(self, leg: Leg, book: OrderBook | BaseException, size: Decimal) -> tuple[bm.Walk | None, str | None]:
        if isinstance(book, BaseException):
            return None, f"{leg.venue} book unreadable: {why(book)}"
        levels = book["asks"] if self.side(leg) == "buy" else book["bids"]
        if not levels:
            return None, f"{leg.venue} book has no {'asks' if self.side(leg) == 'buy' else 'bids'}"
        w = bm.walk(levels, size)
        if not w.complete:
            return w, f"{leg.venue} book too thin: {w.available} of {size} available"
        return w, None

    def _crossing(self, books: dict[LegName, OrderBook | BaseException], sizes: dict[LegName, Decimal]
                  ) -> tuple[Decimal | None, str | None]:
        """``(buy avg − sell avg) / buy avg × 10⁴`` from the live books, or why it is unknown."""
        walks: dict[OrderSide, bm.Walk] = {}
        for leg in self.legs:
            w, problem = self._walk(leg, books[leg.name], sizes[leg.name])
            if problem is not None or w is None or w.avg_price is None:
                return None, problem
            walks[self.side(leg)] = w
        buy, sell = walks["buy"].avg_price, walks["sell"].avg_price
        assert buy is not None and sell is not None
        return bm.bps(buy - sell, buy), None

    def _check_spread(self, books: dict[LegName, OrderBook | BaseException], sizes: dict[LegName, Decimal]) -> str | None:
        """Why price protection refuses now (None: it lets the orders go)."""
        if self.max_spread_bps is None:
            return None
        crossing, problem = self._crossing(books, sizes)
        if crossing is None:
            return f"cannot check the spread: {problem}"
        if crossing > self.max_spread_bps:
            return (f"crossing the books costs {crossing:.4f} bps for the size, above the limit of "
                    f"{self.max_spread_bps} bps")
        return None

    def _depth(self, leg: Leg, book: OrderBook | BaseException) -> Decimal | None:
        if isinstance(book, BaseException):
            return None
        levels = book["asks"] if self.side(leg) == "buy" else book["bids"]
        return bm.depth_within(levels, self.slippage if self.slippage is not None else self.thin_band)

    def _order(self, books: dict[LegName, OrderBook | BaseException] | None) -> tuple[Leg, Leg] | None:
        """``None``: both together; else (first, second)."""
        if self.sequential is False:
            return None
        if self.sequential is True or books is None:
            return self.long, self.short
        long_depth, short_depth = self._depth(self.long, books["long"]), self._depth(self.short, books["short"])
        # an unreadable book counts as the thinnest: if it fails, nothing else was sent
        if short_depth is None or (long_depth is not None and short_depth < long_depth):
            return self.short, self.long
        return self.long, self.short

    # -- preview ---------------------------------------------------------------------------

    async def preview(self) -> PlanPreview:
        """What ``execute()`` would send now, from the live books and fee rates (reads only)."""
        sizes_l, sizes_s, _ = await self._sizes()
        sizes: dict[LegName, Decimal] = {"long": sizes_l, "short": sizes_s}
        books = await self._books()

        async def fee(leg: Leg) -> Decimal | str:
            try:
                fees = await _bounded(venue_api.get_trading_fees(leg.exchange, leg.symbol), self.settings.read_timeout)
                return bm.dec(fees["taker"])
            except Exception as exc:
                return why(exc)

        fees = await asyncio.gather(fee(self.long), fee(self.short))
        plans: list[LegPlan] = []
        notional = _ZERO
        fee_total: Decimal | None = _ZERO
        for leg, taker in zip(self.legs, fees, strict=True):
            book = books[leg.name]
            w, problem = self._walk(leg, book, sizes[leg.name])
            unavailable: dict[str, str] = {}
            if problem:
                unavailable["avg_price"] = problem
            if isinstance(taker, str):
                unavailable["taker_fee"] = taker
            levels = [] if isinstance(book, BaseException) else (book["asks"] if self.side(leg) == "buy" else book["bids"])
            avg = w.avg_price if w is not None else None
            plans.append({
                "leg": leg.name, "venue": leg.venue, "symbol": leg.symbol, "side": self.side(leg),
                "size": float(sizes[leg.name]), "reduce_only": self.action == "close",
                "slippage": _fl(self.slippage), "best_price": float(levels[0][0]) if levels else None,
                "avg_price": _fl(avg), "worst_price": _fl(w.worst_price) if w is not None else None,
                "depth_in_band": _fl(self._depth(leg, book)),
                "taker_fee": None if isinstance(taker, str) else float(taker), "unavailable": unavailable,
            })
            if avg is None or isinstance(taker, str) or fee_total is None:
                fee_total = None
            else:
                fee_total += taker * avg * sizes[leg.name]
                if self.side(leg) == "buy":
                    notional = avg * sizes[leg.name]
        crossing, _ = self._crossing(books, sizes)
        order = self._order(books)
        return {
            "action": self.action, "size": float(max(sizes_l, sizes_s)), "legs": plans,
            "send": "together" if order is None else f"{order[0].name} first",
            "crossing_bps": _fl(crossing), "max_spread_bps": _fl(self.max_spread_bps),
            "fees_bps_one_way": _fl(bm.bps(fee_total, notional)) if fee_total is not None and notional > 0 else None,
            "would_refuse": self._check_spread(books, sizes),
        }

    # -- execution -------------------------------------------------------------------------

    async def execute(self) -> HedgeResult:
        """Send the plan (see the module docstring). Returns the result for ``hedged`` /
        ``closed`` / ``unwound``; raises ``NakedExposure`` (``.result``) for ``naked`` and
        ``HedgeRefused`` when nothing is left on either venue."""
        started = time.perf_counter()
        r_long, r_short, notes = await self._sizes()
        sizes: dict[LegName, Decimal] = {"long": r_long, "short": r_short}
        if self.size is not None:
            sizes = await self._sizes_both_venues_sign(sizes, notes)
        target_gap = r_long - r_short  # the legs must end with moved_long − moved_short == this
        books = await self._books() if (self.max_spread_bps is not None or self.sequential == "thinner_first") else None
        if books is not None:
            refusal = self._check_spread(books, sizes)
            if refusal is not None:
                crossing, _ = self._crossing(books, sizes)
                log.warning("arb %s_hedge %s/%s refused: %s", self.action, self.long.venue, self.short.venue, refusal)
                if crossing is None:
                    raise HedgeRefused(f"{refusal}; nothing sent")
                assert self.max_spread_bps is not None
                raise EntrySpreadExceeded(f"{refusal}; nothing sent", spread_bps=float(crossing),
                                          limit_bps=float(self.max_spread_bps))
        purpose: OrderPurpose = "open" if self.action == "open" else "close"
        reduce_only = self.action == "close"
        mains: dict[LegName, Attempt | None] = {"long": None, "short": None}
        order = self._order(books)
        if order is None:
            mains["long"], mains["short"] = await asyncio.gather(*(
                send_order(leg, self.side(leg), sizes[leg.name], purpose=purpose, reduce_only=reduce_only,
                           slippage=self.slippage, settings=self.settings) for leg in self.legs))
        else:
            first, second = order
            a1 = await send_order(first, self.side(first), sizes[first.name], purpose=purpose,
                                  reduce_only=reduce_only, slippage=self.slippage, settings=self.settings)
            mains[first.name] = a1
            if a1.state == "unresolved":
                notes.append(f"{second.name} leg not sent: the {first.name} leg's outcome is unknown")
            else:
                # size the second leg to what the first did, keeping the target gap
                want = a1.filled - target_gap if first.name == "long" else a1.filled + target_gap
                want = min(max(want, _ZERO), sizes[second.name])
                if want > 0:
                    if want != sizes[second.name]:
                        notes.append(f"{second.name} leg sized to {want} after the {first.name} leg filled {a1.filled}")
                    mains[second.name] = await send_order(
                        second, self.side(second), want, purpose=purpose, reduce_only=reduce_only,
                        slippage=self.slippage, settings=self.settings)
                else:
                    notes.append(f"{second.name} leg not sent: the {first.name} leg left nothing to hedge ({a1.state})")
        attempts: dict[LegName, list[Attempt]] = {name: [a] if a is not None else [] for name, a in mains.items()}
        moved: dict[LegName, Decimal] = {name: (a.filled if a is not None else _ZERO) for name, a in mains.items()}
        unresolved = any(a.state == "unresolved" for a in attempts["long"] + attempts["short"])
        if not unresolved:
            excess = (moved["long"] - moved["short"]) - target_gap
            if excess != 0:
                leg = self.long if excess > 0 else self.short
                # never move a leg back further than it moved (closing imbalanced positions:
                # the imbalance from before the call is not this call's to repair)
                qty = min(abs(excess), moved[leg.name])
                fix: OrderPurpose = ("restore" if self.action == "close"
                                     else "unwind" if qty == moved[leg.name] else "reduce")
                notes.append(f"{leg.name} leg moved {qty} more than the {'short' if leg is self.long else 'long'} leg: {fix}")
                done, fixes = await self._correct(leg, qty, fix)
                attempts[leg.name].extend(fixes)
                moved[leg.name] -= done
                unresolved = any(a.state == "unresolved" for a in fixes)
        await asyncio.gather(*(read_fee(a, self.settings) for a in attempts["long"] + attempts["short"]))
        return await self._finish(sizes, target_gap, mains, attempts, moved, unresolved, notes, started)

    async def _correct(self, leg: Leg, qty: Decimal, purpose: OrderPurpose) -> tuple[Decimal, list[Attempt]]:
        """Move ``leg`` back by ``qty``: up to ``unwind_attempts`` market orders, a new one only
        after the previous one was refused, absent or filled short."""
        side = _opposite(self.side(leg))
        reduce_only = self.action == "open"
        remaining = qty
        tried: list[Attempt] = []
        for n in range(1, self.unwind_attempts + 1):
            att = await send_order(leg, side, remaining, purpose=purpose, reduce_only=reduce_only,
                                   slippage=self.unwind_slippage, settings=self.settings)
            tried.append(att)
            remaining -= att.filled
            if remaining <= 0 or att.state == "unresolved":
                break
            if n < self.unwind_attempts:
                await self.settings.sleep(self.unwind_backoff * (2 ** (n - 1)))
        if remaining > 0:
            log.error("arb %s of %s %s: %s of %s still to do after %d order(s)", purpose, leg.venue, leg.symbol,
                      remaining, qty, len(tried))
        return qty - remaining, tried

    async def _finish(self, sizes: dict[LegName, Decimal], target_gap: Decimal, mains: dict[LegName, Attempt | None],
                      attempts: dict[LegName, list[Attempt]], moved: dict[LegName, Decimal], unresolved: bool,
                      notes: list[str], started: float) -> HedgeResult:
        everything = attempts["long"] + attempts["short"]
        excess = (moved["long"] - moved["short"]) - target_gap
        any_fill = any(a.filled > 0 for a in everything)
        if not any_fill and not unresolved:
            states = ", ".join(f"{a.leg.name} {a.state}" for a in everything) or "nothing sent"
            log.warning("arb %s_hedge %s/%s: nothing placed (%s)", self.action, self.long.venue, self.short.venue, states)
            raise HedgeRefused(f"{self.action}_hedge left nothing on either venue ({states})",
                               orders=[a.as_dict() for a in everything])
        still = moved["long"] == 0 and moved["short"] == 0  # the venues are as before the call
        status: HedgeStatus
        if unresolved or (excess != 0 and not still):
            status = "naked"
        elif min(moved["long"], moved["short"]) == 0:
            status = "unwound"
        else:
            status = "hedged" if self.action == "open" else "closed"

        residual = {self.long.venue: 0.0, self.short.venue: 0.0}
        exposures: list[Exposure] = []
        if excess != 0 and not still:
            # opening: extra long sits on the long venue, extra short on the short venue;
            # closing: a leg that closed more leaves the other venue's position unhedged
            on_long = (excess > 0) == (self.action == "open")
            leg = self.long if on_long else self.short
            signed = abs(excess) if on_long else -abs(excess)
            residual[leg.venue] = float(signed)
            exposures.append({
                "venue": leg.venue, "symbol": leg.symbol, "side": "long" if on_long else "short",
                "size": float(abs(excess)), "certain": not unresolved,
                "detail": f"the other leg moved {abs(excess)} less", "venue_position": None,
            })
        for a in everything:
            if a.state == "unresolved":
                exposures.append({
                    "venue": a.leg.venue, "symbol": a.leg.symbol, "side": "long" if a.side == "buy" else "short",
                    "size": float(a.size - a.filled), "certain": False,
                    "detail": f"{a.tag()}: {a.error}", "venue_position": None,
                })
        if status == "naked":
            await self._read_positions(exposures)

        legs: dict[LegName, LegResult] = {}
        for leg in self.legs:
            main = mains[leg.name]
            fees = [a.fee for a in attempts[leg.name] if a.filled > 0]
            legs[leg.name] = {
                "leg": leg.name, "venue": leg.venue, "symbol": leg.symbol, "side": self.side(leg),
                "requested_size": float(sizes[leg.name]), "order": main.order if main else None,
                "state": main.state if main else "not_sent", "filled_size": float(main.filled) if main else 0.0,
                "avg_price": _fl(main.avg_price) if main else None,
                "fee": None if any(f is None for f in fees) else float(sum((f for f in fees if f is not None), _ZERO)),
                "moved": float(moved[leg.name]), "orders": [a.as_dict() for a in attempts[leg.name]],
            }
        leg_fees = [legs["long"]["fee"], legs["short"]["fee"]]
        captured = self._captured(mains)
        result: HedgeResult = {
            "action": self.action, "status": status, "size": float(max(sizes["long"], sizes["short"])),
            "matched_size": float(min(moved["long"], moved["short"])), "long": legs["long"], "short": legs["short"],
            "residual": residual, "exposures": exposures,
            "fees": None if any(f is None for f in leg_fees) else sum(f for f in leg_fees if f is not None),
            "captured_bps": _fl(captured), "notes": notes, "elapsed_ms": (time.perf_counter() - started) * 1000.0,
        }
        if status == "naked":
            error = NakedExposure(result)
            log.error("arb %s", error)
            raise error
        log.info("arb %s_hedge %s %s / %s %s: %s matched=%s fees=%s", self.action, self.long.venue, self.long.symbol,
                 self.short.venue, self.short.symbol, status, result["matched_size"], result["fees"])
        return result

    def _captured(self, mains: dict[LegName, Attempt | None]) -> Decimal | None:
        prices: dict[OrderSide, Decimal] = {}
        for leg in self.legs:
            main = mains[leg.name]
            if main is None or main.avg_price is None or main.filled <= 0:
                return None
            prices[self.side(leg)] = main.avg_price
        return bm.bps(prices["sell"] - prices["buy"], prices["buy"])

    async def _read_positions(self, exposures: list[Exposure]) -> None:
        """Best effort: what each venue now reports, for the person who gets the alert."""
        async def one(leg: Leg) -> Decimal | None:
            try:
                return _signed(await _bounded(leg.exchange.get_position(leg.symbol), self.settings.read_timeout))
            except Exception as exc:
                log.warning("arb: reading the %s position on %s failed: %s", leg.symbol, leg.venue, why(exc))
                return None

        long_pos, short_pos = await asyncio.gather(one(self.long), one(self.short))
        by_venue = {self.long.venue: long_pos, self.short.venue: short_pos}
        for e in exposures:
            value = by_venue.get(e["venue"])
            e["venue_position"] = None if value is None else float(value)


def _plan(action: HedgeAction, long: LegArg, short: LegArg, size: Any, *, slippage: Any, unwind_slippage: Any,
          max_spread_bps: Any, sequential: Any, unwind_attempts: Any, unwind_backoff: Any, reconcile_timeout: Any,
          poll_interval: Any, order_timeout: Any, read_timeout: Any, thin_band: Any, clock: Clock,
          sleep: Sleep) -> HedgePlan:
    long_leg, short_leg = _leg(long, "long"), _leg(short, "short")
    if long_leg.exchange is short_leg.exchange and long_leg.symbol == short_leg.symbol:
        raise BadRequest("long and short are the same market on the same exchange: nothing to hedge")
    if long_leg.venue == short_leg.venue:
        long_leg = Leg("long", long_leg.exchange, long_leg.symbol, f"{long_leg.venue}[long]")
        short_leg = Leg("short", short_leg.exchange, short_leg.symbol, f"{short_leg.venue}[short]")
    amount: Decimal | None = None
    if size is not None or action == "open":
        amount = to_decimal(size, "size")
        if amount <= 0:
            raise InvalidOrder(f"size must be positive, got {size!r}")
    if sequential not in (False, True, "thinner_first"):
        raise BadRequest(f"sequential must be False, True or 'thinner_first', got {sequential!r}")
    if isinstance(unwind_attempts, bool) or not isinstance(unwind_attempts, int) or unwind_attempts < 1:
        raise BadRequest(f"unwind_attempts must be an integer >= 1, got {unwind_attempts!r}")
    if isinstance(unwind_backoff, bool) or not isinstance(unwind_backoff, (int, float)) or unwind_backoff < 0:
        raise BadRequest(f"unwind_backoff must be a number of seconds >= 0, got {unwind_backoff!r}")
    limit = None if max_spread_bps is None else to_decimal(max_spread_bps, "max_spread_bps")
    band = _fraction(thin_band, "thin_band")
    settings = Settings(
        reconcile_timeout=_positive(reconcile_timeout, "reconcile_timeout"),
        poll_interval=_positive(poll_interval, "poll_interval"),
        order_timeout=None if order_timeout is None else _positive(order_timeout, "order_timeout"),
        read_timeout=_positive(read_timeout, "read_timeout"), clock=clock, sleep=sleep,
    )
    return HedgePlan(action, long_leg, short_leg, amount, _fraction(slippage, "slippage"),
                     _fraction(unwind_slippage, "unwind_slippage"), limit, sequential, unwind_attempts,
                     float(unwind_backoff), band if band is not None else DEFAULT_THIN_BAND, settings)


def plan_open(
    long: LegArg, short: LegArg, size: Any, *, slippage: Any = None, unwind_slippage: Any = None,
    max_entry_spread_bps: Any = None, sequential: Sequential = False, unwind_attempts: int = 3,
    unwind_backoff: float = 0.5, reconcile_timeout: float = 6.0, poll_interval: float = 0.1,
    order_timeout: float | None = 30.0, read_timeout: float = 3.0, thin_band: Any = None,
    clock: Clock = SYSTEM_CLOCK, sleep: Sleep = asyncio.sleep,
) -> HedgePlan:
    """A validated plan to buy ``size`` on ``long`` and sell it on ``short`` (see ``open_hedge``)."""
    return _plan("open", long, short, size, slippage=slippage, unwind_slippage=unwind_slippage,
                 max_spread_bps=max_entry_spread_bps, sequential=sequential, unwind_attempts=unwind_attempts,
                 unwind_backoff=unwind_backoff, reconcile_timeout=reconcile_timeout, poll_interval=poll_interval,
                 order_timeout=order_timeout, read_timeout=read_timeout, thin_band=thin_band, clock=clock, sleep=sleep)


def plan_close(
    long: LegArg, short: LegArg, size: Any = None, *, slippage: Any = None, unwind_slippage: Any = None,
    max_exit_spread_bps: Any = None, sequential: Sequential = False, unwind_attempts: int = 3,
    unwind_backoff: float = 0.5, reconcile_timeout: float = 6.0, poll_interval: float = 0.1,
    order_timeout: float | None = 30.0, read_timeout: float = 3.0, thin_band: Any = None,
    clock: Clock = SYSTEM_CLOCK, sleep: Sleep = asyncio.sleep,
) -> HedgePlan:
    """A validated plan to sell ``size`` of the long leg and buy back ``size`` of the short
    leg, reduce-only (``size=None``: each leg's whole position, read when executed)."""
    return _plan("close", long, short, size, slippage=slippage, unwind_slippage=unwind_slippage,
                 max_spread_bps=max_exit_spread_bps, sequential=sequential, unwind_attempts=unwind_attempts,
                 unwind_backoff=unwind_backoff, reconcile_timeout=reconcile_timeout, poll_interval=poll_interval,
                 order_timeout=order_timeout, read_timeout=read_timeout, thin_band=thin_band, clock=clock, sleep=sleep)


async def open_hedge(long: LegArg, short: LegArg, size: Any, **options: Any) -> HedgeResult:
    """Buy ``size`` of ``long``'s symbol and sell ``size`` of ``short``'s, as one hedge.

    Options: ``slippage`` (per-leg market-order cap, a fraction; None: each venue's default),
    ``unwind_slippage`` (for the repairing orders), ``max_entry_spread_bps`` (refuse, nothing
    sent, when ``(long avg − short avg) / long avg × 10⁴`` from the live books walked to
    ``size`` exceeds it — pass ``-opportunity["gross_bps"] + tolerance`` to hold a snapshot's
    price), ``sequential`` (False | True | ``"thinner_first"``), ``unwind_attempts`` (3),
    ``unwind_backoff`` (0.5 s, doubling), ``reconcile_timeout`` (6 s: at least the venues'
    signed-order validity window, so an order not found by then can no longer appear),
    ``poll_interval``, ``order_timeout`` (30 s: a hung ``create_order`` is cancelled and
    reconciled), ``read_timeout`` (3 s per read), ``thin_band`` (depth band for
    ``"thinner_first"`` when no slippage is given; 0.005), ``clock``, ``sleep``.

    Returns a ``HedgeResult`` (``hedged`` or ``unwound``); raises ``NakedExposure`` when
    ``naked`` and ``HedgeRefused`` when nothing was left on either venue.
    """
    return await plan_open(long, short, size, **options).execute()


async def close_hedge(long: LegArg, short: LegArg, size: Any = None, **options: Any) -> HedgeResult:
    """Close a hedge: reduce-only sell on ``long``, reduce-only buy on ``short`` (``size=None``:
    each whole position). Same discipline as ``open_hedge``; a leg that closed more than the
    other is re-opened by the difference (``restore``) so the venues stay balanced. Options as
    ``open_hedge`` with ``max_exit_spread_bps`` (``(short avg − long avg) / short avg × 10⁴``).
    Returns ``closed`` or ``unwound``; raises ``NakedExposure`` / ``HedgeRefused``."""
    return await plan_close(long, short, size, **options).execute()


async def _positions(long: Leg, short: Leg, timeout: float) -> Imbalance:
    long_pos, short_pos = await asyncio.gather(
        _bounded(long.exchange.get_position(long.symbol), timeout),
        _bounded(short.exchange.get_position(short.symbol), timeout),
    )
    lp, sp = _signed(long_pos), _signed(short_pos)
    net = lp + sp
    notes = []
    if lp < 0:
        notes.append(f"{long.venue} holds a short position on the long leg")
    if sp > 0:
        notes.append(f"{short.venue} holds a long position on the short leg")
    if net > 0:
        notes.append(f"{net} more long on {long.venue} than short on {short.venue}")
    elif net < 0:
        notes.append(f"{-net} more short on {short.venue} than long on {long.venue}")
    return {
        "long": {"venue": long.venue, "symbol": long.symbol, "position": float(lp)},
        "short": {"venue": short.venue, "symbol": short.symbol, "position": float(sp)},
        "net": float(net), "balanced": net == 0, "notes": notes,
    }


async def hedge_imbalance(long: LegArg, short: LegArg, *, timeout: float = 5.0) -> Imbalance:
    """Read both positions (``get_position``) and compare them: ``net`` = long position +
    short position (signed), 0 when balanced. Read errors propagate (nothing is guessed)."""
    long_leg, short_leg = _leg(long, "long"), _leg(short, "short")
    if long_leg.venue == short_leg.venue:
        long_leg = Leg("long", long_leg.exchange, long_leg.symbol, f"{long_leg.venue}[long]")
        short_leg = Leg("short", short_leg.exchange, short_leg.symbol, f"{short_leg.venue}[short]")
    return await _positions(long_leg, short_leg, _positive(timeout, "timeout"))

