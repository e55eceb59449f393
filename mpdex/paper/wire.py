"""Vest v2 wire shapes: error bodies, number formatting and the JSON objects the paper
server returns (orders, ORDER events, positions, tickers).

Error-body styles (vest-api.md §6.4), chosen per kind of failure:

* ``DETAIL``  — HTTP 401/403 ``{"detail": {"code", "msg"}}``: authentication (1002 unknown
  API key, 1022 bad/foreign/expired signature, 1146 wrong account group);
* ``PLAIN``   — HTTP 400 ``{"code", "msg"}``: validation and order rejections (1111, 1116,
  1121 on private calls, 1125, 1130, 1131, 1132, 1133, 1148, 3001, 3002, 3011, 3015, 3017,
  3018, 3019, 3021) — also 429 ``{"code":429,"msg":"Rate limited"}``;
* ``OK200``   — HTTP 200 ``{"code", "msg"}``: unknown symbol on public reads (1121).
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .ledger import Order, Position
from .markets import Market

__all__ = ["ApiError", "DETAIL", "PLAIN", "OK200", "money", "fmt", "fmt_min", "order_json", "order_event"]

DETAIL = "detail"
PLAIN = "plain"
OK200 = "ok200"

MONEY_Q = Decimal("0.000001")

# Vest error codes used by the paper server (vest-api.md §6.3).
UNAUTHORIZED = 1002
INVALID_SIGNATURE = 1022
INVALID_NETWORK_TYPE = 1024
BAD_DECIMALS = 1111
INVALID_ORDER_TYPE = 1116
BAD_SYMBOL = 1121
INVALID_LISTEN_KEY = 1125
INVALID_PARAMETER = 1130
BAD_RECV_WINDOW = 1131
ORDER_EXPIRED = 1132
INVALID_TIME_IN_FORCE = 1133
INVALID_ACCOUNT_GROUP = 1146
MARKET_CLOSED = 1148
PRICE_CHECK_FAILED = 3001
MARGIN_CHECK_FAILED = 3002
INVALID_LIMIT_PRICE = 3011
DUPLICATE = 3015
ORDER_NOT_FOUND = 3017
REDUCE_ONLY_INCREASES = 3018
REDUCE_ONLY_EXCEEDS_SIZE = 3019
DECREASE_LEVERAGE_WITH_POSITION = 3021

_STATUS = {DETAIL: 401, PLAIN: 400, OK200: 200}


class ApiError(Exception):
    """A refusal the server answers with a Vest error body."""

    def __init__(self, code: int, msg: str, style: str = PLAIN, status: int | None = None) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg
        self.style = style
        self.status = status if status is not None else _STATUS[style]

    def body(self) -> dict[str, Any]:
        inner = {"code": self.code, "msg": self.msg}
        return {"detail": inner} if self.style == DETAIL else inner


def money(value: Decimal) -> Decimal:
    """Round to USDC's 6 decimals, half up (the fee in the filled-order sample)."""
    return value.quantize(MONEY_Q, rounding=ROUND_HALF_UP)


def fmt(value: Decimal, decimals: int) -> str:
    """Fixed-point with exactly ``decimals`` places (half up), never ``-0``."""
    q = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return f"{abs(q) if q == 0 else q:f}"


def fmt_min(value: Decimal, decimals: int, max_decimals: int = 8) -> str:
    """At least ``decimals`` places, more (up to ``max_decimals``) when the value needs
    them — for averages and entry prices that may fall between ticks."""
    q = value.quantize(Decimal(1).scaleb(-max_decimals), rounding=ROUND_HALF_UP).normalize()
    places = max(decimals, -int(q.as_tuple().exponent))
    return fmt(q, places)


def ratio(value: Decimal) -> str:
    return fmt(value, 4)


def _opt(value: Decimal | None, decimals: int) -> str | None:
    return None if value is None else fmt(value, decimals)


def order_json(o: Order, m: Market) -> dict[str, Any]:
    """The ``GET /orders`` object (field order as in the docs)."""
    filled = o.filled > 0
    return {
        "id": o.id,
        "nonce": o.nonce,
        "symbol": o.symbol,
        "isBuy": o.is_buy,
        "orderType": o.order_type,
        "limitPrice": o.limit_price,
        "markPrice": fmt(o.mark_price, m.price_decimals),
        "size": o.size,
        "status": o.status,
        "reduceOnly": o.reduce_only,
        "initMarginRatio": ratio(o.init_margin_ratio),
        "code": o.code,
        "lastFilledSize": _opt(o.last_filled_size, m.size_decimals),
        "lastFilledPrice": None if o.last_filled_price is None else fmt_min(o.last_filled_price, m.price_decimals),
        "lastFilledTime": o.last_filled_time,
        "avgFilledPrice": None if o.avg_price is None else fmt_min(o.avg_price, m.price_decimals),
        "settledFunding": fmt(o.settled_funding or Decimal(0), 6) if filled else None,
        "fees": fmt(o.fees, 6),
        "realizedPnl": fmt(o.realized_pnl or Decimal(0), 6) if filled else None,
        "postTime": o.post_time,
        "tpPrice": None,
        "slPrice": None,
    }


def order_event(o: Order, m: Market) -> dict[str, Any]:
    """``account_private`` ORDER args for the order's current status (vest-api.md §5.4)."""
    if o.status == "CANCELLED":
        args: dict[str, Any] = {"id": o.id, "status": o.status, "postTime": o.post_time, "nonce": o.nonce}
    elif o.status == "REJECTED":
        args = {"id": o.id, "status": o.status, "code": o.code, "postTime": o.post_time, "nonce": o.nonce}
    else:
        args = {
            "id": o.id,
            "symbol": o.symbol,
            "isBuy": o.is_buy,
            "orderType": o.order_type,
            "limitPrice": o.limit_price,
            "size": o.size,
            "reduceOnly": o.reduce_only,
            "initMarginRatio": ratio(o.init_margin_ratio),
            "status": o.status,
        }
        if o.status in ("FILLED", "PARTIALLY_FILLED"):
            args.update(
                lastFilledSize=_opt(o.last_filled_size, m.size_decimals),
                lastFilledPrice=None if o.last_filled_price is None else fmt_min(o.last_filled_price, m.price_decimals),
                lastFilledTime=o.last_filled_time,
                avgFilledPrice=None if o.avg_price is None else fmt_min(o.avg_price, m.price_decimals),
                cumFunding=fmt(o.settled_funding or Decimal(0), 6),
                fees=fmt(o.fees, 6),
            )
        args.update(postTime=o.post_time, nonce=o.nonce)
    return {"event": "ORDER", "args": args}


def position_size(p: Position, m: Market) -> str:
    return fmt(abs(p.size), m.size_decimals)
