"""The simulator's vocabulary with a dialect: what it is asked to do (``OrderRequest``), the
venue rules a dialect declares (``Rules``), and the neutral outcomes a dialect turns into
its own codes or strings (``Reason``, ``Refused``).

A ``Refused`` is raised before anything is stored; a ``Reason`` is also kept on orders that
ended other than by filling or by their owner's cancel (``Order.reason``), so a dialect can
render e.g. Vest's ``REJECTED`` + ``code 3018`` or Hyperliquid's ``reduceOnlyCanceled``.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Literal

__all__ = ["TimeInForce", "Reason", "Refused", "OrderRequest", "Rules", "HOUR_MS"]

HOUR_MS = 3_600_000


class TimeInForce(str, Enum):
    GTC = "GTC"  # rests until filled or cancelled
    IOC = "IOC"  # takes what it can at once, the rest is cancelled (nothing taken: refused)
    FOK = "FOK"  # all at once or nothing (a miss is stored as CANCELLED, not refused)
    ALO = "ALO"  # post-only: refused if it would take liquidity


class Reason(str, Enum):
    # synchronous refusals (raised as ``Refused``; nothing stored unless the dialect records it)
    MARKET_HALTED = "market_halted"
    REDUCE_ONLY_INCREASES = "reduce_only_increases"  # flat, or the order is on the position's side
    REDUCE_ONLY_EXCEEDS = "reduce_only_exceeds"  # Rules.reduce_only == "refuse": larger than the position
    MARKET_UNFILLABLE = "market_unfillable"  # a fill-or-refuse market order the book cannot cover within its limit
    IOC_NO_MATCH = "ioc_no_match"  # an IOC (or IOC-style market) order found nothing to take
    POST_ONLY_WOULD_CROSS = "post_only_would_cross"
    BELOW_MIN_NOTIONAL = "below_min_notional"
    INSUFFICIENT_MARGIN = "insufficient_margin"
    ORDER_NOT_OPEN = "order_not_open"  # cancel of an unknown, foreign, filled or cancelled order
    LEVERAGE_INVALID = "leverage_invalid"  # below 1
    LEVERAGE_ABOVE_MAX = "leverage_above_max"
    LEVERAGE_DECREASE_MARGIN = "leverage_decrease_margin"  # lowering it with a position that cannot be margined
    # how an accepted order ended (``Order.reason``)
    FOK_NOT_FILLED = "fok_not_filled"  # CANCELLED at once
    IOC_REMAINDER = "ioc_remainder"  # CANCELLED after its partial fill
    REDUCE_ONLY_POSITION_GONE = "reduce_only_position_gone"  # "shrink" rule: the position closed


class Refused(Exception):
    """The simulator refused a request; nothing was stored. ``best_price`` is the best
    price on the other side when the reason is about the book."""

    def __init__(self, reason: Reason, message: str, *, best_price: Decimal | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.best_price = best_price


@dataclass(frozen=True)
class OrderRequest:
    """A validated order, in the simulator's terms.

    ``size_text`` / ``price_text`` are the exact strings the client signed (stored and
    echoed verbatim); ``kind`` "market" takes liquidity now up to ``price_text`` (the
    protection price) and never rests; ``order_type`` is the dialect's label, stored as
    given; ``client_id`` the client's id for it (Vest: the nonce; Hyperliquid: the cloid).
    """

    account_id: int
    symbol: str
    is_buy: bool
    size_text: str
    price_text: str
    kind: Literal["market", "limit"] = "limit"
    tif: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    order_type: str = "LIMIT"
    client_id: str | None = None

    @property
    def size(self) -> Decimal:
        return Decimal(self.size_text)

    @property
    def limit_price(self) -> Decimal:
        return Decimal(self.price_text)


@dataclass(frozen=True)
class Rules:
    """How a venue behaves where venues differ (defaults: Vest's).

    * ``reduce_only``: ``"refuse"`` an order larger than the position (Vest 3019) and
      reject a resting one that no longer fits when it would fill; or ``"shrink"`` it to
      the position, keep resting ones shrunk to the position and cancel them when it closes
      (Hyperliquid).
    * ``market_orders``: ``"fill_or_refuse"`` (the whole size within the protection price,
      else ``MARKET_UNFILLABLE``) or ``"ioc"`` (take what is there, cancel the rest).
    * ``failed_resting_status``: a resting order that cannot fill when the book reaches it
      (margin, reduce-only) becomes ``"REJECTED"`` (Vest) or ``"CANCELLED"``.
    * ``funding_price``: funding is ``rate × mark`` or ``rate × index`` (the oracle).
    * ``funding_settlement``: accrue in the position and settle on its next fill
      (``"on_fill"``, Vest), or pay into the balance at every event (``"each_event"``,
      recorded as ``FundingPayment`` rows).
    * ``funding_interval_ms``: how often funding is due on the wall clock.
    * ``default_leverage``: before an account sets one (capped at the market's maximum).
    """

    reduce_only: Literal["refuse", "shrink"] = "refuse"
    market_orders: Literal["fill_or_refuse", "ioc"] = "fill_or_refuse"
    failed_resting_status: Literal["REJECTED", "CANCELLED"] = "REJECTED"
    funding_price: Literal["mark", "index"] = "mark"
    funding_settlement: Literal["on_fill", "each_event"] = "on_fill"
    funding_interval_ms: int = HOUR_MS
    default_leverage: int = 10
