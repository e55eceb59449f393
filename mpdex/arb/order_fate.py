"""Send one market order and establish its fate from the error types alone.

* A client order id comes from ``exchange.new_client_id()`` and is logged before sending; a
  venue without the capability picks its own (then an unknown outcome cannot be reconciled
  and stays ``unresolved``).
* ``create_order`` returns → the fill it reports; an order still open is polled with
  ``get_order`` up to the bound, then cancelled and read once more.
* ``ExchangeError`` → ``refused``: nothing was placed.
* ``NetworkError`` / ``OrderStateUnknown`` / anything unexpected / running past
  ``order_timeout`` → unknown: ``get_order(client_order_id=…)`` is polled until
  ``reconcile_timeout`` — and, when the venue declares ``order_validity`` (how long a signed
  order can still be accepted), at least until that much time has passed since the call
  ended (it signs before it ends). Found → its fill. Never found by a read made after that
  → ``absent`` (a proof: the order cannot land any more). Not found but
  no such proof (the venue declares no validity, or the last read failed) → ``unresolved``:
  "not found yet" is never taken for "never placed". **The order is never sent again**: a
  retry is the caller's decision, with a new client order id, and only after ``refused`` /
  ``absent``.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from mpdex.clock import Clock
from mpdex.errors import ExchangeError, NotSupported, OrderNotFound
from mpdex.ratelimit import Sleep
from mpdex.types import OrderRecord, OrderResult, OrderSide
from multi_perp_dex import MultiPerpDex

from . import venue as venue_api
from .book_math import dec
from .errors import why
from .results import LegName, OrderAttempt, OrderPurpose, OrderState

__all__ = ["Leg", "Attempt", "Settings", "send_order", "read_fee", "OPEN_STATUSES"]

log = logging.getLogger("mpdex.arb")

T = TypeVar("T")
_ZERO = Decimal(0)

#: statuses (upper-case, as the contract reports them) of an order that may still fill
OPEN_STATUSES = frozenset({"NEW", "OPEN", "PARTIALLY_FILLED", "PENDING", "ACCEPTED", "TRIGGERED", "UNTRIGGERED"})


@dataclass(frozen=True)
class Leg:
    name: LegName
    exchange: MultiPerpDex
    symbol: str
    venue: str  # the caller's name for the venue (results, logs)


@dataclass(frozen=True)
class Settings:
    reconcile_timeout: float
    poll_interval: float
    order_timeout: float | None
    read_timeout: float
    clock: Clock
    sleep: Sleep


@dataclass
class Attempt:
    """One order this layer sent (or tried to), exact."""

    leg: Leg
    purpose: OrderPurpose
    side: OrderSide
    size: Decimal
    reduce_only: bool
    slippage: Decimal | None
    client_order_id: str | None = None
    state: OrderState = "unresolved"
    filled: Decimal = _ZERO
    avg_price: Decimal | None = None
    fee: Decimal | None = None
    order: OrderResult | None = None
    record: OrderRecord | None = None
    error: str | None = None

    def as_dict(self) -> OrderAttempt:
        return {
            "leg": self.leg.name, "purpose": self.purpose, "venue": self.leg.venue, "symbol": self.leg.symbol,
            "side": self.side, "size": float(self.size), "reduce_only": self.reduce_only,
            "client_order_id": self.client_order_id, "state": self.state, "filled_size": float(self.filled),
            "avg_price": None if self.avg_price is None else float(self.avg_price),
            "fee": None if self.fee is None else float(self.fee),
            "order": self.order, "record": self.record, "error": self.error,
        }

    def tag(self) -> str:
        return (f"{self.purpose} {self.leg.name} {self.leg.venue} {self.leg.symbol} {self.side} {self.size}"
                f"{' reduce-only' if self.reduce_only else ''} cid={self.client_order_id}")


async def _bounded(aw: Awaitable[T], seconds: float | None) -> T:
    return await asyncio.wait_for(aw, seconds)


def _opt_dec(value: Any) -> Decimal | None:
    return None if value is None else dec(value)


def _client_id(leg: Leg) -> str | None:
    try:
        return venue_api.new_client_id(leg.exchange)
    except NotSupported:
        return None
    except Exception as exc:  # before anything is sent: the venue picks the id instead
        log.warning("arb %s: new_client_id() failed (%s); the venue picks the id", leg.venue, why(exc))
        return None


def _settle_state(att: Attempt, filled: Decimal, sent_size: Decimal) -> None:
    att.filled = filled
    att.state = "unfilled" if filled <= 0 else "filled" if filled >= sent_size else "partial"


def _apply_record(att: Attempt, rec: OrderRecord) -> None:
    att.record = rec
    att.avg_price = _opt_dec(rec.get("avg_price"))
    if rec.get("fee") is not None:
        att.fee = dec(rec["fee"])
    sent = dec(rec["size"]) if rec.get("size") else att.size
    _settle_state(att, dec(rec.get("filled_size") or 0), sent)


def _is_open(status: Any) -> bool:
    return str(status or "").upper() in OPEN_STATUSES


async def _poll(att: Attempt, s: Settings, ended_at: float) -> None:
    """Read the order by client order id until it is final or the bound passes; an order
    still open at the bound is cancelled and read once more. ``ended_at`` is when the
    ``create_order`` call returned or raised (monotonic): whatever it signed, it signed before."""
    leg, cid = att.leg, att.client_order_id
    if cid is None:
        att.state = "unresolved"
        att.error = (att.error or "") + " | the venue gave no client order id: the outcome cannot be reconciled"
        return
    validity = getattr(leg.exchange, "order_validity", None)
    landing_ends = ended_at + validity if isinstance(validity, (int, float)) else None
    deadline = max(s.clock.monotonic() + s.reconcile_timeout, landing_ends or 0.0)
    proof = False  # a read that began after the order could no longer land, and found nothing
    delay = s.poll_interval
    last: str = "none"
    ever_found = False
    rec: OrderRecord | None = None
    while True:
        remaining = deadline - s.clock.monotonic()
        read_at = s.clock.monotonic()
        try:
            rec = await _bounded(venue_api.get_order(leg.exchange, cid), max(remaining, s.poll_interval))
            last = "found"
            ever_found = True
        except OrderNotFound:
            last = "absent"
            proof = landing_ends is not None and read_at >= landing_ends
        except NotSupported:
            att.state = "unresolved"
            att.error = (att.error or "") + " | the venue cannot look orders up: the outcome cannot be reconciled"
            return
        except Exception as exc:
            last = "error"
            log.warning("arb %s: reading the order failed: %s", att.tag(), why(exc))
        if last == "found" and rec is not None and not _is_open(rec.get("status")):
            _apply_record(att, rec)
            return
        remaining = deadline - s.clock.monotonic()
        if remaining <= 0:
            break
        await s.sleep(min(delay, remaining))
        delay = min(delay * 2, 0.5)
    if last == "absent" and not ever_found and proof:
        att.state = "absent"
        log.warning("arb %s: not found by client order id %.3gs after the call, when it could no longer land: "
                    "it was not placed", att.tag(), s.clock.monotonic() - ended_at)
        return
    if last == "absent" and not ever_found:
        att.state = "unresolved"
        att.error = (att.error or "") + (" | not found by client order id, but the venue declares no time after "
                                         "which the order can no longer land: not found is no proof")
        log.error("arb %s: not found, outcome UNRESOLVED (the venue sets no order validity)", att.tag())
        return
    if last == "found" and rec is not None:
        await _cancel_rest(att, rec, s)
        return
    att.state = "unresolved"
    log.error("arb %s: outcome UNRESOLVED after %.3gs of reconciliation", att.tag(), s.reconcile_timeout)


async def _cancel_rest(att: Attempt, rec: OrderRecord, s: Settings) -> None:
    """An order still open at the bound: cancel what is left, then read what it filled."""
    leg, cid = att.leg, att.client_order_id
    assert cid is not None  # only an order found by its client order id gets here
    log.warning("arb %s: still %s after the bound; cancelling the rest", att.tag(), rec.get("status"))
    try:
        await _bounded(leg.exchange.cancel_orders(leg.symbol, [rec]), s.read_timeout)
        final = await _bounded(venue_api.get_order(leg.exchange, cid), s.read_timeout)
    except Exception as exc:
        att.record = rec
        att.state = "unresolved"
        att.error = (att.error or "") + f" | still open and the cancel could not be confirmed: {why(exc)}"
        return
    if _is_open(final.get("status")):
        att.record = final
        att.state = "unresolved"
        att.error = (att.error or "") + f" | still {final.get('status')} after cancelling"
        return
    _apply_record(att, final)


async def send_order(leg: Leg, side: OrderSide, size: Decimal, *, purpose: OrderPurpose, reduce_only: bool,
                     slippage: Decimal | None, settings: Settings) -> Attempt:
    """Place one market order and return its established fate (never raises for a venue
    error; ``CancelledError`` propagates)."""
    att = Attempt(leg, purpose, side, size, reduce_only, slippage)
    att.client_order_id = _client_id(leg)
    log.info("arb send %s", att.tag())
    try:
        result = await _bounded(
            leg.exchange.create_order(leg.symbol, side, float(size), None, "market", is_reduce_only=reduce_only,
                                      client_id=att.client_order_id,
                                      slippage=None if slippage is None else float(slippage)),
            settings.order_timeout,
        )
    except ExchangeError as exc:
        att.state = "refused"
        att.error = why(exc)
        log.warning("arb %s: refused (%s)", att.tag(), att.error)
        return att
    except Exception as exc:  # NetworkError, OrderStateUnknown, a timeout, anything unexpected: unknown
        ended_at = settings.clock.monotonic()
        att.error = why(exc)
        cid = getattr(exc, "client_order_id", None)
        if cid is not None and att.client_order_id is None:
            att.client_order_id = str(cid)
        log.warning("arb %s: outcome unknown (%s); reconciling by client order id", att.tag(), att.error)
        await _poll(att, settings, ended_at)
        log.info("arb %s: reconciled -> %s filled=%s", att.tag(), att.state, att.filled)
        return att
    ended_at = settings.clock.monotonic()
    att.order = result
    if result.get("client_order_id"):
        att.client_order_id = str(result["client_order_id"])
    att.avg_price = _opt_dec(result.get("avg_price"))
    if result.get("fee") is not None:
        att.fee = dec(result["fee"])
    sent = dec(result["size"]) if result.get("size") else size
    if _is_open(result.get("status")):
        await _poll(att, settings, ended_at)
    elif result.get("filled_size") is not None:
        _settle_state(att, dec(result["filled_size"]), sent)
    elif str(result.get("status", "")).upper() == "FILLED":
        _settle_state(att, sent, sent)
    else:
        await _poll(att, settings, ended_at)
    log.info("arb %s: %s filled=%s avg=%s", att.tag(), att.state, att.filled, att.avg_price)
    return att


async def read_fee(att: Attempt, settings: Settings) -> None:
    """Fill in the fee of a filled order from the venue's record (best effort, bounded)."""
    if att.fee is not None or att.filled <= 0 or att.client_order_id is None:
        return
    try:
        rec = await _bounded(venue_api.get_order(att.leg.exchange, att.client_order_id), settings.read_timeout)
    except Exception as exc:
        log.info("arb %s: fee not readable (%s)", att.tag(), why(exc))
        return
    if rec.get("fee") is not None:
        att.fee = dec(rec["fee"])
        if att.record is None:
            att.record = rec
