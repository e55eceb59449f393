"""Result shapes of the arbitrage layer (TypedDicts: plain JSON once floats, as the CLI prints).

Numbers are floats (``None`` where unknown); the arithmetic behind them is exact
``Decimal`` (``book_math``). Sizes are in coins, prices in the quote currency, bps as defined
in ``book_math``. Each ``None`` that stands for "could not be read" has its reason in the
record's ``unavailable`` / ``error`` text.
"""
from __future__ import annotations

from typing import Literal, TypedDict

from mpdex.types import OrderRecord, OrderResult, OrderSide, PositionSide

__all__ = [
    "QuoteStatus",
    "VenueQuote",
    "Opportunity",
    "Snapshot",
    "LegName",
    "HedgeAction",
    "HedgeStatus",
    "OrderState",
    "LegState",
    "OrderPurpose",
    "OrderAttempt",
    "LegResult",
    "Exposure",
    "HedgeResult",
    "LegPlan",
    "PlanPreview",
    "LegPosition",
    "Imbalance",
]

#: ``ok``: book fresh; ``stale``: book older than the monitor's bound; ``failed``: the book
#: read raised or timed out (``error`` says which)
QuoteStatus = Literal["ok", "stale", "failed"]


class VenueQuote(TypedDict):
    venue: str
    coin: str
    symbol: str  # what the venue was asked for
    status: QuoteStatus
    error: str | None  # why stale / failed
    book_time: int | None  # ms since epoch the venue's book is from
    age_ms: int | None  # snapshot time − book_time
    best_bid: float | None
    best_ask: float | None
    buy_price: float | None  # average price buying ``size`` (asks walked); None when thin
    sell_price: float | None  # average price selling ``size`` (bids walked); None when thin
    buy_worst: float | None  # last ask level a buy of ``size`` touches
    sell_worst: float | None
    ask_available: float | None  # total ask size when the asks are too thin for ``size``
    bid_available: float | None
    mark_price: float | None
    funding_rate_per_hour: float | None  # from the venue's own rate and interval
    funding_interval_hours: float | None
    taker_fee: float | None  # fraction of notional
    unavailable: dict[str, str]  # field -> why it is None ("not supported", "RequestTimeout: …", "thin")


class Opportunity(TypedDict):
    coin: str
    long_venue: str
    short_venue: str
    long_symbol: str
    short_symbol: str
    size: float
    long_price: float  # average buy price for ``size`` on the long venue
    short_price: float  # average sell price for ``size`` on the short venue
    gross_bps: float
    fees_bps: float | None  # round trip, both taker legs; None when a taker fee is unknown
    net_bps: float | None
    funding_edge_bps_per_hour: float | None
    payback_hours: float | None


class Snapshot(TypedDict):
    time: int  # ms since epoch (the monitor's clock) when the last read was done; ages count to it
    size: float
    venues: list[str]
    coins: list[str]
    quotes: dict[str, dict[str, VenueQuote]]  # coin -> venue -> quote
    opportunities: list[Opportunity]  # ranked: net_bps high to low, then funding edge
    read_ms: float  # wall time the reads took


LegName = Literal["long", "short"]
HedgeAction = Literal["open", "close"]
#: ``hedged`` (open) / ``closed`` (close): both legs moved by the matched size, balanced;
#: ``unwound``: a leg moved and was moved back, the venues are as before the call;
#: ``naked``: not balanced (or an order's fate is unknown) — raised as ``NakedExposure``
HedgeStatus = Literal["hedged", "closed", "unwound", "naked"]
#: an order's fate: ``refused`` (the venue said no), ``absent`` (the outcome was unknown and
#: reconciliation by client order id showed no such order), ``unresolved`` (unknown, and
#: reconciliation could not establish it: never re-sent)
OrderState = Literal["filled", "partial", "unfilled", "refused", "absent", "unresolved"]
#: a leg's main order may also be ``not_sent`` (sequential mode: the first leg left nothing to hedge)
LegState = Literal["filled", "partial", "unfilled", "refused", "absent", "unresolved", "not_sent"]
OrderPurpose = Literal["open", "close", "reduce", "unwind", "restore"]


class OrderAttempt(TypedDict):
    leg: LegName
    purpose: OrderPurpose
    venue: str
    symbol: str
    side: OrderSide
    size: float  # requested
    reduce_only: bool
    client_order_id: str | None
    state: OrderState
    filled_size: float
    avg_price: float | None
    fee: float | None  # None: the venue did not say
    order: OrderResult | None  # what ``create_order`` returned
    record: OrderRecord | None  # what reconciliation / the fee read found
    error: str | None  # "Type: message" of the error that decided the state


class LegResult(TypedDict):
    leg: LegName
    venue: str
    symbol: str
    side: OrderSide  # side of the leg's main order
    requested_size: float
    order: OrderResult | None  # the main order's result (None if it raised)
    state: LegState  # the main order's fate
    filled_size: float  # the main order's fill
    avg_price: float | None  # the main order's average fill price
    fee: float | None  # every order of this leg; None if any fee is unknown
    moved: float  # net size this call moved the leg in its direction (after corrections)
    orders: list[OrderAttempt]


class Exposure(TypedDict):
    venue: str
    symbol: str
    side: PositionSide
    size: float
    certain: bool  # False: an order's outcome is unknown; ``size`` is the most it can be
    detail: str
    venue_position: float | None  # the venue's signed position read at the end (None: unread)


class HedgeResult(TypedDict):
    action: HedgeAction
    status: HedgeStatus
    size: float  # requested (per leg; close without a size: the larger position)
    matched_size: float  # what both legs moved alike
    long: LegResult
    short: LegResult
    residual: dict[str, float]  # venue -> signed unhedged size this call left (0.0 unless naked)
    exposures: list[Exposure]  # empty unless naked
    fees: float | None  # all orders, both legs; None if any is unknown
    captured_bps: float | None  # (sell avg − buy avg) / buy avg × 10⁴ of the two main orders
    notes: list[str]  # adjustments and decisions, in words
    elapsed_ms: float


class LegPlan(TypedDict):
    leg: LegName
    venue: str
    symbol: str
    side: OrderSide
    size: float
    reduce_only: bool
    slippage: float | None  # None: the venue's default cap
    best_price: float | None  # best level on the side this order takes
    avg_price: float | None  # the book walked for ``size`` (None: thin or unread)
    worst_price: float | None
    depth_in_band: float | None  # size on that side within the slippage band of the best price
    taker_fee: float | None
    unavailable: dict[str, str]


class PlanPreview(TypedDict):
    action: HedgeAction
    size: float
    legs: list[LegPlan]  # long, short
    send: str  # "together" | "long first" | "short first"
    crossing_bps: float | None  # (buy avg − sell avg) / buy avg × 10⁴ from the live books
    max_spread_bps: float | None
    fees_bps_one_way: float | None  # both taker legs of this action only (the snapshot's fees_bps is the round trip)
    would_refuse: str | None  # why ``execute`` would refuse now (None: it would send)


class LegPosition(TypedDict):
    venue: str
    symbol: str
    position: float  # signed: + long, − short, 0 flat


class Imbalance(TypedDict):
    long: LegPosition
    short: LegPosition
    net: float  # long.position + short.position: 0 when balanced, > 0 more long than short
    balanced: bool
    notes: list[str]
