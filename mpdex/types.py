"""Result shapes of the unified contract (see ``multi_perp_dex.MultiPerpDex``).

Numbers at the boundary are ``float`` (or ``None`` where the exchange gave nothing);
the exact strings the exchange sent stay available in ``raw`` / ``raw_data``.
"""
from __future__ import annotations

from typing import Any, Literal, TypedDict

OrderSide = Literal["buy", "sell"]
PositionSide = Literal["long", "short"]


class _OrderResultRequired(TypedDict):
    id: str | None  # exchange order id (Vest: "0x…"), None if the exchange gave none
    order_id: str | None  # same as ``id`` (mpdex used both names)
    client_order_id: str  # the idempotency key (Vest: the signed nonce, as a string)
    symbol: str
    side: OrderSide
    size: float
    price: float | None  # limit price; for market orders the slippage cap that was signed
    order_type: Literal["market", "limit"]
    status: str  # "NEW", "FILLED", … as reported by the exchange, upper-case
    raw: Any


class OrderResult(_OrderResultRequired, total=False):
    filled_size: float  # base units filled so far, when known
    avg_price: float | None  # average fill price, when anything filled
    fee: float | None  # quote currency paid for the fills so far (negative: a rebate); None if unknown
    realized_pnl: float | None  # price PnL realised by the fills (fees and funding excluded), when known
    requested_size: float  # the amount the caller asked for (``size`` is what was sent)
    requested_price: float | None  # the caller's limit price (``price`` is what was sent)
    adjustments: list[str]  # every rounding or cap applied to the request, in words (empty: none)


class _PositionRequired(TypedDict):
    symbol: str
    side: PositionSide
    size: float  # always positive
    entry_price: float
    unrealized_pnl: float
    liquidation_price: float | None
    raw_data: Any


class Position(_PositionRequired, total=False):
    leverage: int | None  # the account's leverage on this market, when the venue reports it
    margin_mode: str | None  # "cross" | "isolated"
    margin_used: float | None  # initial margin held by the position (quote currency)


class _CollateralRequired(TypedDict):
    available_collateral: float
    total_collateral: float


class Collateral(_CollateralRequired, total=False):
    unrealized_pnl: float
    margin_used: float
    raw: Any


class OpenOrder(TypedDict):
    id: str
    order_id: str
    client_order_id: str | None
    symbol: str
    side: OrderSide
    size: float
    filled_size: float
    price: float | None
    order_type: str  # "limit", "market", "stop_loss", "take_profit"
    status: str
    reduce_only: bool
    created_at: int | None  # ms since epoch


class OrderRecord(OpenOrder, total=False):
    """One order as the exchange records it (``get_order``, ``wait_for_order``)."""

    avg_price: float | None
    fee: float | None
    realized_pnl: float | None
    code: int | str | None  # the venue's rejection code, None unless rejected
    raw: Any


class _CancelRequired(TypedDict):
    id: str
    order_id: str
    symbol: str
    status: Literal["ok", "error"]
    error: str | None


class CancelResult(_CancelRequired, total=False):
    exception: BaseException  # the typed error behind ``status == "error"``


class OrderBook(TypedDict):
    bids: list[list[float]]  # [[price, size], …] best (highest) first
    asks: list[list[float]]  # [[price, size], …] best (lowest) first
    time: int  # ms since epoch when this snapshot was received


class _LeverageRequired(TypedDict):
    symbol: str
    leverage: int | None
    margin_mode: str | None
    max_leverage: int | None
    available_margin_modes: list[str]
    status: Literal["ok", "error", "not_implemented"]


class LeverageInfo(_LeverageRequired, total=False):
    message: str


class _LeverageUpdateRequired(TypedDict):
    status: Literal["ok", "error", "not_implemented"]
    leverage: int | None
    margin_mode: str | None


class LeverageUpdate(_LeverageUpdateRequired, total=False):
    symbol: str
    message: str


class AvailableSymbols(TypedDict):
    perp: list[str]


class _FundingRequired(TypedDict):
    symbol: str
    funding_rate: float  # the rate of one funding interval, as the venue reports it
    interval_hours: float  # that interval, from what the venue says about itself
    funding_rate_per_hour: float  # funding_rate / interval_hours: comparable across venues


class FundingRate(_FundingRequired, total=False):
    mark_price: float | None
    index_price: float | None
    next_funding_time: int | None  # ms since epoch
    raw: Any


class FundingEntry(TypedDict):
    symbol: str
    time: int  # ms since epoch
    funding_rate: float  # per ``interval_hours``
    interval_hours: float


class MarketInfo(TypedDict):
    """One market's rules, as the venue publishes them (``get_markets``)."""

    symbol: str
    base: str
    quote: str
    status: str  # "TRADING", "HALT", … upper-case; "UNKNOWN" when the venue says nothing
    size_step: float
    min_size: float
    tick: float | None  # None when prices are not on one fixed tick (e.g. significant figures)
    price_rule: str  # the price grid in words ("tick 0.1", "5 significant figures, at most 2 decimals")
    min_notional: float | None
    max_leverage: int | None
    taker_fee: float | None
    maker_fee: float | None


class TradingFees(TypedDict):
    symbol: str
    maker: float  # fraction of notional (0.0002 = 2 bp); negative is a rebate
    taker: float


WS_SUPPORT_KEYS = (
    "get_mark_price",
    "get_position",
    "get_open_orders",
    "get_collateral",
    "get_orderbook",
    "create_order",
    "cancel_orders",
    "update_leverage",
)
