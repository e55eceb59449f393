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


class Position(TypedDict):
    symbol: str
    side: PositionSide
    size: float  # always positive
    entry_price: float
    unrealized_pnl: float
    liquidation_price: float | None
    raw_data: Any


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
