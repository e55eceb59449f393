"""The one order path every venue shares: normalise → (sign at send time) → place → confirm
→ reconcile. Venues supply their rules and their wire through small hooks.

Normalisation (``normalize_order``) checks every input and turns it into an ``OrderPlan``
before anything is signed or sent:

* side, order type and price must agree (a price with ``order_type="market"`` is a
  conflict, not a silent limit order); time in force is checked against what the venue
  supports (``NotSupported`` for a known value the venue lacks, ``InvalidOrder`` otherwise);
* the size is rounded **down** to the venue's size grid, a limit price in the user's favour
  (buy down, sell up), a market order's cap ``mark × (1 ± slippage)`` toward the mark, so it
  never allows more than ``slippage``; every rounding is recorded in ``adjustments`` (and
  logged at INFO), and ``strict=True`` refuses instead of rounding;
* sizes below the minimum, prices that round to zero, notionals below the venue's minimum
  and numbers too large to round exactly raise ``InvalidOrder``.

Placement (``place_order``) drives the venue's hooks and turns every outcome into either an
``OrderRecord``-backed result or a typed error: a refusal is raised as such; an accepted
order is confirmed from what the exchange recorded; an outcome that is not known (a lost
answer, a resend answered "duplicate") is reconciled by client order id, and the order found
is adopted only if **every signed field matches** (symbol, side, size, price, type,
reduce-only, time in force) — otherwise ``DuplicateOrder`` (the id belongs to another order)
or ``OrderStateUnknown``. Results report what the exchange recorded, never what was asked;
the request rides along as ``requested_size`` / ``requested_price`` / ``adjustments``.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, Protocol

from .errors import (
    DuplicateOrder,
    InvalidOrder,
    MpdexError,
    NotSupported,
    OrderStateUnknown,
)
from .precision import Rounding, round_to_step, to_decimal
from .types import OrderRecord, OrderResult

__all__ = [
    "TIF_ALIASES",
    "PriceGrid",
    "StepGrid",
    "MarketRules",
    "OrderPlan",
    "SendOutcome",
    "check_side",
    "check_slippage",
    "order_kind",
    "normalize_time_in_force",
    "normalize_order",
    "signed_fields_match",
    "place_order",
    "build_result",
]

log = logging.getLogger("mpdex.orders")

#: spellings callers use → the canonical time-in-force names
TIF_ALIASES: dict[str, str] = {
    "GTC": "GTC", "GOOD_TILL_CANCEL": "GTC", "GOODTILLCANCEL": "GTC",
    "IOC": "IOC", "IMMEDIATE_OR_CANCEL": "IOC",
    "FOK": "FOK", "FILL_OR_KILL": "FOK",
    "ALO": "ALO", "PO": "ALO", "POST_ONLY": "ALO", "POSTONLY": "ALO", "GTX": "ALO", "MAKER": "ALO",
}

Side = Literal["buy", "sell"]
Kind = Literal["market", "limit"]


class PriceGrid(Protocol):
    """A venue's price grid: round a positive price in a direction (``down``/``up``)."""

    def round_price(self, price: Decimal, mode: Rounding) -> Decimal: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class StepGrid:
    """Prices on multiples of one tick (Vest, most venues)."""

    tick: Decimal

    def round_price(self, price: Decimal, mode: Rounding) -> Decimal:
        return round_to_step(price, self.tick, mode)

    def describe(self) -> str:
        return f"tick {self.tick}"


@dataclass(frozen=True)
class MarketRules:
    """What normalisation needs to know about one market."""

    symbol: str
    size_step: Decimal
    min_size: Decimal
    price_grid: PriceGrid
    #: minimum ``size × price`` of an order that is not reduce-only (None: no minimum)
    min_notional: Decimal | None = None
    #: time-in-force values a limit order may carry (canonical names; first = default)
    limit_tifs: tuple[str, ...] = ("GTC",)
    #: time-in-force values a market order may carry (None: the venue takes none)
    market_tif: str | None = None
    #: every time-in-force name the venue knows but this market refuses → NotSupported
    unsupported_tifs: frozenset[str] = frozenset()
    quote: str = "USDC"


@dataclass(frozen=True)
class OrderPlan:
    """A checked, rounded order, ready to be signed. Decimals are what will be sent."""

    symbol: str
    side: Side
    order_type: Kind
    size: Decimal
    price: Decimal  # the limit price, or a market order's slippage cap
    time_in_force: str | None  # canonical (GTC/IOC/FOK/ALO) or None (venue sends none)
    reduce_only: bool
    requested_size: Decimal
    requested_price: Decimal | None
    slippage: Decimal | None = None  # market orders
    mark: Decimal | None = None  # the mark a market cap was built on
    adjustments: tuple[str, ...] = ()

    @property
    def is_buy(self) -> bool:
        return self.side == "buy"


# -- checks shared by every venue -------------------------------------------------------


def check_side(side: Any) -> Side:
    text = side.strip().lower() if isinstance(side, str) else ""
    if text == "buy":
        return "buy"
    if text == "sell":
        return "sell"
    raise InvalidOrder(f"side must be 'buy' or 'sell', got {side!r}")


def check_slippage(value: Any) -> Decimal:
    s = to_decimal(value, "slippage")
    if not Decimal(0) <= s < Decimal(1):
        raise InvalidOrder(f"slippage must be a fraction in [0, 1), got {value!r}")
    return s


def order_kind(order_type: Any, price: Any) -> Kind:
    """``None`` (the default) infers the kind from ``price``; an explicit type must agree."""
    if order_type is None:
        return "market" if price is None else "limit"
    text = order_type.strip().lower() if isinstance(order_type, str) else None
    if text not in ("market", "limit"):
        raise InvalidOrder(f"order_type must be 'market' or 'limit', got {order_type!r}")
    if text == "limit" and price is None:
        raise InvalidOrder("a limit order needs a price")
    if text == "market" and price is not None:
        raise InvalidOrder("order_type='market' conflicts with a price: pass order_type='limit' (or no "
                           "order_type) for a limit order, or no price for a market order")
    return "market" if text == "market" else "limit"


def normalize_time_in_force(tif: Any, kind: Kind, rules: MarketRules, venue: str) -> str | None:
    """The canonical time in force to send, or the typed error for it."""
    if tif is None:
        return rules.limit_tifs[0] if kind == "limit" else rules.market_tif
    if not isinstance(tif, str):
        raise InvalidOrder(f"time_in_force must be a string, got {tif!r}")
    text = TIF_ALIASES.get(tif.strip().upper().replace("-", "_"))
    if text is None:
        raise InvalidOrder(f"time_in_force must be one of {', '.join(rules.limit_tifs)}, got {tif!r}")
    if kind == "market":
        if text in ("GTC", rules.market_tif):
            return rules.market_tif  # GTC on a market order means nothing
        if text in rules.unsupported_tifs:
            raise NotSupported(f"{venue} does not support time_in_force {tif!r}")
        raise InvalidOrder(f"time_in_force {tif!r} applies to limit orders only on {venue}")
    if text in rules.limit_tifs:
        return text
    if text in rules.unsupported_tifs or text in TIF_ALIASES.values():
        raise NotSupported(f"{venue} does not support time_in_force {tif!r} "
                           f"(limit orders take {', '.join(rules.limit_tifs)})")
    raise InvalidOrder(f"time_in_force must be one of {', '.join(rules.limit_tifs)}, got {tif!r}")


def _num(value: Decimal) -> str:
    return f"{value.normalize():f}" if value == value.to_integral_value() else f"{value:f}"


MarkSource = Callable[[], Awaitable[Decimal]]


async def normalize_order(
    rules: MarketRules,
    side: Any,
    amount: Any,
    price: Any = None,
    order_type: Any = None,
    *,
    is_reduce_only: Any = False,
    time_in_force: Any = None,
    slippage: Decimal,
    mark: MarkSource,
    strict: bool = False,
    venue: str = "",
) -> OrderPlan:
    """Check and round one order (see the module docstring). ``slippage`` is the already
    checked cap for a market order; ``mark`` is awaited only for market orders."""
    is_side = check_side(side)
    kind = order_kind(order_type, price)
    tif = normalize_time_in_force(time_in_force, kind, rules, venue or "this venue")
    if not isinstance(is_reduce_only, bool):
        raise InvalidOrder(f"is_reduce_only must be a bool, got {is_reduce_only!r}")
    if not isinstance(strict, bool):
        raise InvalidOrder(f"strict must be a bool, got {strict!r}")
    notes: list[str] = []
    requested = to_decimal(amount, "amount")
    if requested <= 0:
        raise InvalidOrder(f"amount must be positive, got {amount!r}")
    size = round_to_step(requested, rules.size_step, "down")
    if size != requested:
        note = f"size {_num(requested)} rounded down to {_num(size)} (step {rules.size_step} on {rules.symbol})"
        if strict:
            raise InvalidOrder(f"{note}; strict mode refuses to round")
        notes.append(note)
    if size < rules.min_size:
        raise InvalidOrder(f"amount {amount} is below the minimum size {rules.min_size} of {rules.symbol}")
    requested_price: Decimal | None = None
    used_mark: Decimal | None = None
    slip: Decimal | None = None
    direction: Rounding = "down" if is_side == "buy" else "up"
    if kind == "limit":
        requested_price = to_decimal(price, "price")
        if requested_price <= 0:
            raise InvalidOrder(f"price must be positive, got {price!r}")
        px = rules.price_grid.round_price(requested_price, direction)
        if px <= 0:
            raise InvalidOrder(f"price {price} rounds to zero on {rules.symbol} ({rules.price_grid.describe()})")
        if px != requested_price:
            note = (f"price {_num(requested_price)} rounded {'down' if direction == 'down' else 'up'} to {_num(px)} "
                    f"({rules.price_grid.describe()}, in your favour)")
            if strict:
                raise InvalidOrder(f"{note}; strict mode refuses to round")
            notes.append(note)
    else:
        slip = slippage
        used_mark = await mark()
        if used_mark <= 0:
            raise InvalidOrder(f"the mark price of {rules.symbol} is not positive ({used_mark})")
        cap = used_mark * (1 + slip) if is_side == "buy" else used_mark * (1 - slip)
        px = rules.price_grid.round_price(cap, direction)
        if (px < used_mark if is_side == "buy" else px > used_mark) or px <= 0:
            raise InvalidOrder(
                f"slippage {slip} is below one price step ({rules.price_grid.describe()}) around mark {used_mark} "
                f"of {rules.symbol}; pass a larger slippage or a limit price"
            )
        notes.append(f"market order capped at {_num(px)} = mark {_num(used_mark)} "
                     f"{'+' if is_side == 'buy' else '-'} {_num(slip * 100)}% (rounded toward the mark)")
    if rules.min_notional is not None and not is_reduce_only and size * px < rules.min_notional:
        raise InvalidOrder(f"order value {_num(size * px)} {rules.quote} is below {rules.symbol}'s minimum of "
                           f"{_num(rules.min_notional)} {rules.quote}")
    return OrderPlan(
        symbol=rules.symbol, side=is_side, order_type=kind, size=size, price=px, time_in_force=tif,
        reduce_only=is_reduce_only, requested_size=requested, requested_price=requested_price,
        slippage=slip, mark=used_mark, adjustments=tuple(notes),
    )


# -- placing, confirming, reconciling ----------------------------------------------------


@dataclass
class SendOutcome:
    """What the venue's ``send`` hook learned from sending the signed order.

    ``accepted``  the exchange took it; ``record`` is what it recorded when the answer
                  says (else ``None``: ``confirm`` reads it);
    ``refused``   the exchange refused it for certain: ``error`` is the typed refusal;
    ``unknown``   the outcome cannot be told from the answers (lost answer, a resend
                  answered "duplicate", a refusal after an attempt that may have gone
                  through): reconcile by client order id. ``error`` is the last error;
                  ``body_determined`` says a refusal of the resent bytes was for the bytes
                  themselves, so the first copy was refused too.
    """

    outcome: Literal["accepted", "refused", "unknown"]
    record: OrderRecord | None = None
    accepted_id: str | None = None
    error: BaseException | None = None
    attempts: int = 1
    body_determined: bool = False
    detail: str = ""


class OrderHooks(Protocol):
    """A venue's wire for one order. Signing happens inside ``send`` (when the rate-limit
    token is in hand), never before."""

    async def send(self) -> SendOutcome: ...

    async def confirm(self, sent: SendOutcome) -> OrderRecord:
        """The record of an accepted order (a terminal state for market orders when one
        arrives within the venue's bound). Raise ``OrderStateUnknown`` if it cannot be read."""
        ...

    async def lookup(self) -> OrderRecord | None:
        """The order recorded under this order's client order id, or ``None``."""
        ...


def signed_fields_match(
    plan: OrderPlan,
    *,
    symbol: Any,
    side: Any,
    size: Decimal | None,
    price: Decimal | None,
    order_type: Any,
    reduce_only: Any,
    time_in_force: Any = None,
) -> bool:
    """True when a recorded order carries every field ``plan`` signs: symbol, side, size,
    price, type and reduce-only — and time in force when the venue records one. The venue
    passes the recorded values (exact Decimals read from the exchange's own strings)."""
    if symbol != plan.symbol or side != plan.side or bool(reduce_only) is not plan.reduce_only:
        return False
    if str(order_type or "").lower() != plan.order_type:
        return False
    if size is None or size != plan.size or price is None or price != plan.price:
        return False
    return time_in_force is None or plan.time_in_force is None or str(time_in_force).upper() == plan.time_in_force


def build_result(record: OrderRecord, plan: OrderPlan, client_order_id: str) -> OrderResult:
    """The contract's order result from what the exchange recorded, plus the request."""
    result: OrderResult = {
        "id": record.get("id") or None,
        "order_id": record.get("id") or None,
        "client_order_id": client_order_id,
        "symbol": record.get("symbol") or plan.symbol,
        "side": record.get("side") or plan.side,
        "size": float(record["size"]),
        "price": record.get("price"),
        "order_type": "limit" if str(record.get("order_type")).lower() == "limit" else "market",
        "status": str(record.get("status") or "").upper(),
        "raw": record.get("raw"),
        "filled_size": float(record.get("filled_size") or 0.0),
        "avg_price": record.get("avg_price"),
        "fee": record.get("fee"),
        "realized_pnl": record.get("realized_pnl"),
        "requested_size": float(plan.requested_size),
        "requested_price": None if plan.requested_price is None else float(plan.requested_price),
        "adjustments": list(plan.adjustments),
    }
    return result


async def place_order(
    plan: OrderPlan,
    client_order_id: str,
    hooks: OrderHooks,
    *,
    venue: str,
    account: str,
    matches: Callable[[OrderRecord, OrderPlan], bool],
    monotonic: Callable[[], float] = time.monotonic,
) -> OrderResult:
    """Send ``plan`` through ``hooks`` and return its result, or raise the typed error it
    deserves. An accepted order is never reported as refused; an order whose fate cannot
    be established raises ``OrderStateUnknown`` carrying ``client_order_id``. ``matches``
    decides whether an order found by client order id is this one (see
    ``signed_fields_match``)."""
    started = monotonic()
    for note in plan.adjustments:
        log.info("%s %s order %s cid=%s: %s", venue, account, plan.symbol, client_order_id, note)
    try:
        sent = await hooks.send()
        if sent.outcome == "refused":
            assert sent.error is not None
            raise sent.error
        if sent.outcome == "accepted":
            record = await hooks.confirm(sent)
        else:
            record = await _reconcile(plan, client_order_id, hooks, sent, matches, venue, account)
    except MpdexError as exc:
        log.warning("%s %s order %s %s %s %s cid=%s failed after %.1f ms: %s", venue, account, plan.symbol,
                    plan.side, plan.size, plan.order_type, client_order_id, (monotonic() - started) * 1e3,
                    type(exc).__name__)
        raise
    result = build_result(record, plan, client_order_id)
    log.info("%s %s order %s %s %s %s cid=%s id=%s status=%s latency=%.1f ms", venue, account, plan.symbol,
             plan.side, plan.size, plan.order_type, client_order_id, result["id"], result["status"],
             (monotonic() - started) * 1e3)
    return result


async def _reconcile(plan: OrderPlan, cid: str, hooks: OrderHooks, sent: SendOutcome,
                     matches: Callable[[OrderRecord, OrderPlan], bool], venue: str, account: str) -> OrderRecord:
    try:
        found = await hooks.lookup()
    except MpdexError as exc:
        raise OrderStateUnknown(
            f"order cid {cid}: outcome unknown ({sent.detail or sent.outcome} after {sent.attempts} attempts) and "
            f"the lookup by client order id failed: {exc}; query it by client_order_id before re-sending",
            client_order_id=cid,
        ) from exc
    if found is not None:
        if not matches(found, plan):
            raise DuplicateOrder(
                f"client order id {cid} belongs to another order ({found.get('id')}: {found.get('side')} "
                f"{found.get('size')} {found.get('symbol')} @ {found.get('price')}), not to this "
                f"{plan.side} {plan.size} {plan.symbol} @ {plan.price}; this order was not placed by that id",
                raw=found.get("raw"),
            )
        log.warning("%s %s order cid=%s reconciled after %s (%d attempts): id=%s status=%s", venue, account, cid,
                    sent.detail or sent.outcome, sent.attempts, found.get("id"), found.get("status"))
        return await hooks.confirm(SendOutcome("accepted", record=found, accepted_id=found.get("id"),
                                               attempts=sent.attempts))
    if sent.body_determined and sent.error is not None:
        raise sent.error  # the same bytes were refused for what they are: so was the first copy
    raise OrderStateUnknown(
        f"order cid {cid}: outcome unknown ({sent.detail or sent.outcome} after {sent.attempts} attempts: "
        f"{sent.error}) and no order is recorded under that client order id; query it by client_order_id "
        "before re-sending",
        client_order_id=cid,
    ) from sent.error
