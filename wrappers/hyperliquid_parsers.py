"""Pure parsers: Hyperliquid JSON → the contract's shapes (the same keys and float types as
Vest's). Shared by REST and the socket layer. Malformed payloads raise ``ExchangeError``
naming the field; numbers leave as ``float`` (``None`` where Hyperliquid gave null).

Order statuses (hyperliquid-api.md §2.3) → the contract's upper-case statuses:

* ``open`` → ``NEW`` (``PARTIALLY_FILLED`` when ``origSz`` > ``sz`` on an order that is not
  reduce-only; a reduce-only order also shrinks with the position, so its fill cannot be
  told from its sizes and it stays ``NEW``); ``triggered`` → ``NEW`` (the order is live);
* ``filled`` → ``FILLED``; when the fills are known and total less than the order size (an
  IOC that filled in part), the rest was cancelled → ``CANCELLED`` with ``filled_size``;
* ``canceled`` and every ``…Canceled`` / ``scheduledCancel`` → ``CANCELLED``;
* ``rejected`` and every ``…Rejected`` → ``REJECTED`` (``code`` = the status string);
* anything else → ``ExchangeError`` (never a guess).

Funding: ``metaAndAssetCtxs`` ``funding`` and ``predictedFundings`` ``HlPerp`` are hourly
rates (``interval_hours = 1.0``); in ``fundingHistory`` a row's interval is the spacing to
its nearest neighbour (2023 rows are 8 h apart and carry 8-hour rates).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Literal

from mpdex.errors import ExchangeError
from mpdex.precision import payload_decimal
from mpdex.types import (
    Collateral,
    FundingEntry,
    FundingRate,
    OpenOrder,
    OrderBook,
    OrderRecord,
    Position,
    TradingFees,
)

__all__ = [
    "BASE_FEES",
    "OPEN_STATUSES",
    "TERMINAL_STATUSES",
    "dec",
    "opt_float",
    "contract_status",
    "parse_position",
    "positions_of",
    "position_for",
    "parse_collateral",
    "parse_open_order",
    "parse_open_orders",
    "parse_order_status",
    "fill_summary",
    "with_fills",
    "parse_orderbook",
    "parse_funding_rate",
    "parse_predicted_funding",
    "parse_funding_history",
    "parse_candles",
    "parse_trading_fees",
    "parse_leverage",
    "response_statuses",
]

OPEN_STATUSES = frozenset({"NEW", "PARTIALLY_FILLED"})
TERMINAL_STATUSES = frozenset({"FILLED", "CANCELLED", "REJECTED"})
#: the base (tier 0, no discount) rates Hyperliquid publishes: taker 0.045 %, maker 0.015 %
BASE_FEES = {"taker": Decimal("0.00045"), "maker": Decimal("0.00015")}
_HOUR_MS = 3_600_000
_ORDER_TYPES = {"limit": "limit", "market": "market", "stop market": "stop_loss", "stop limit": "stop_loss",
                "take profit market": "take_profit", "take profit limit": "take_profit"}


def dec(value: Any, field: str = "value") -> Decimal:
    """Exact Decimal of a Hyperliquid decimal string (or number); ``ExchangeError`` if it is not one."""
    return payload_decimal(value, field, "Hyperliquid")


def opt_float(value: Any, field: str = "value") -> float | None:
    return None if value is None or value == "" else float(dec(value, field))


def _obj(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ExchangeError(f"Hyperliquid {what} is not an object", raw=value)
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ExchangeError(f"Hyperliquid {what} is not a list", raw=value)
    return value


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# -- account ---------------------------------------------------------------------------------


def parse_position(entry: Mapping[str, Any]) -> Position | None:
    """One ``assetPositions`` entry (current or 2023 shape) → ``Position``; ``None`` when flat."""
    pos = _obj(entry.get("position", entry), "position")
    szi = dec(pos.get("szi"), "szi")
    if szi == 0:
        return None
    raw_lev = pos.get("leverage")
    lev: Mapping[str, Any] = raw_lev if isinstance(raw_lev, Mapping) else {}
    mode = lev.get("type")
    position: Position = {
        "symbol": str(pos.get("coin")),
        "side": "long" if szi > 0 else "short",
        "size": float(abs(szi)),
        "entry_price": float(dec(pos.get("entryPx"), "entryPx")),
        "unrealized_pnl": float(dec(pos.get("unrealizedPnl", "0"), "unrealizedPnl")),
        "liquidation_price": opt_float(pos.get("liquidationPx"), "liquidationPx"),
        "raw_data": dict(pos),
        "leverage": _int_or_none(lev.get("value")),
        "margin_mode": mode if mode in ("cross", "isolated") else None,
        "margin_used": opt_float(pos.get("marginUsed"), "marginUsed"),
    }
    return position


def _entries(state: Mapping[str, Any]) -> list[Any]:
    return [e for e in _list(state.get("assetPositions", []), "assetPositions") if isinstance(e, Mapping)]


def positions_of(state: Any) -> list[Position]:
    """Every open position of a ``clearinghouseState``, sorted by coin."""
    parsed = (parse_position(e) for e in _entries(_obj(state, "clearinghouseState")))
    return sorted((p for p in parsed if p is not None), key=lambda p: p["symbol"])


def position_for(state: Any, symbol: str) -> Position | None:
    for pos in positions_of(state):
        if pos["symbol"] == symbol:
            return pos
    return None


def parse_collateral(state: Any) -> Collateral:
    """``clearinghouseState`` → ``Collateral``: ``available_collateral`` = ``withdrawable``,
    ``total_collateral`` = ``marginSummary.accountValue``, ``margin_used`` =
    ``marginSummary.totalMarginUsed``, ``unrealized_pnl`` = Σ position ``unrealizedPnl``."""
    body = _obj(state, "clearinghouseState")
    summary = _obj(body.get("marginSummary"), "marginSummary")
    upnl = sum((dec(_obj(e.get("position", e), "position").get("unrealizedPnl", "0"), "unrealizedPnl")
                for e in _entries(body)), Decimal(0))
    return {
        "available_collateral": float(dec(body.get("withdrawable"), "withdrawable")),
        "total_collateral": float(dec(summary.get("accountValue"), "accountValue")),
        "unrealized_pnl": float(upnl),
        "margin_used": float(dec(summary.get("totalMarginUsed", "0"), "totalMarginUsed")),
        "raw": body,
    }


# -- orders ------------------------------------------------------------------------------------


def contract_status(status: Any) -> str:
    """A Hyperliquid order status → the contract's (see the module docstring)."""
    if not isinstance(status, str) or not status:
        raise ExchangeError(f"Hyperliquid order status is not a string: {status!r}")
    if status in ("open", "triggered"):
        return "NEW"
    if status == "filled":
        return "FILLED"
    if status in ("canceled", "scheduledCancel") or status.endswith("Canceled"):
        return "CANCELLED"
    if status == "rejected" or status.endswith("Rejected"):
        return "REJECTED"
    raise ExchangeError(f"unknown Hyperliquid order status {status!r}")


def _order_type(raw: Mapping[str, Any]) -> str:
    if raw.get("tif") == "FrontendMarket":
        return "market"
    kind = str(raw.get("orderType") or "Limit").strip().lower()
    return _ORDER_TYPES.get(kind, kind.replace(" ", "_"))


def _sizes(raw: Mapping[str, Any]) -> tuple[Decimal, Decimal]:
    """``(order size, size still open)``: ``origSz`` when given, else ``sz``."""
    sz = dec(raw.get("sz"), "sz")
    orig = dec(raw["origSz"], "origSz") if raw.get("origSz") is not None else sz
    return orig, sz


def _side(raw: Mapping[str, Any]) -> Literal["buy", "sell"]:
    side = raw.get("side")
    if side not in ("B", "A"):
        raise ExchangeError(f"Hyperliquid order side is not B/A: {side!r}", raw=dict(raw))
    return "buy" if side == "B" else "sell"


def parse_open_order(raw: Any, status: Any = "open") -> OrderRecord:
    """An order object (``frontendOpenOrders``, ``openOrders``, ``orderStatus.order.order``,
    ``orderUpdates[].order``) and its status → ``OrderRecord``."""
    raw = _obj(raw, "order")
    oid = raw.get("oid")
    if isinstance(oid, bool) or not isinstance(oid, int):
        raise ExchangeError("Hyperliquid order has no integer 'oid'", raw=dict(raw))
    size, left = _sizes(raw)
    reduce_only = raw.get("reduceOnly") is True
    state = contract_status(status)
    filled = Decimal(0)
    if state == "FILLED":
        filled = size
    elif state == "NEW" and not reduce_only and left < size:
        filled, state = size - left, "PARTIALLY_FILLED"
    cloid = raw.get("cloid")
    return {
        "id": str(oid),
        "order_id": str(oid),
        "client_order_id": cloid.lower() if isinstance(cloid, str) and cloid else None,
        "symbol": str(raw.get("coin")),
        "side": _side(raw),
        "size": float(size),
        "filled_size": float(filled),
        "price": opt_float(raw.get("limitPx"), "limitPx"),
        "order_type": _order_type(raw),
        "status": state,
        "reduce_only": reduce_only,
        "created_at": _int_or_none(raw.get("timestamp")),
        "avg_price": None,
        "fee": None,
        "realized_pnl": None,
        "code": status if state == "REJECTED" else None,
        "raw": dict(raw) | {"status": status},
    }


def parse_open_orders(rows: Any, symbol: str | None = None) -> list[OpenOrder]:
    """``frontendOpenOrders`` → open orders (``OrderRecord``s, ``raw`` included), oldest first.
    TP/SL children are listed at top level as well as under their parent: each appears once."""
    seen: dict[str, OpenOrder] = {}
    for raw in _list(rows, "open orders"):
        if not isinstance(raw, Mapping) or (symbol is not None and raw.get("coin") != symbol):
            continue
        order: OpenOrder = parse_open_order(raw)  # an OrderRecord: the OpenOrder keys plus raw
        seen.setdefault(order["id"], order)
    return sorted(seen.values(), key=lambda o: (o["created_at"] or 0, int(o["id"])))


def parse_order_status(body: Any) -> OrderRecord | None:
    """``orderStatus`` → ``OrderRecord``, or ``None`` for ``{"status": "unknownOid"}``."""
    body = _obj(body, "orderStatus")
    if body.get("status") == "unknownOid":
        return None
    if body.get("status") != "order":
        raise ExchangeError(f"orderStatus answered status {body.get('status')!r}", raw=body)
    wrapper = _obj(body.get("order"), "orderStatus.order")
    record = parse_open_order(_obj(wrapper.get("order"), "orderStatus.order.order"), wrapper.get("status"))
    record["raw"] = dict(body)
    return record


def fill_summary(fills: Iterable[Any], oid: int | str) -> tuple[Decimal, Decimal | None, Decimal, Decimal] | None:
    """``(filled size, average price, fee, closed PnL)`` of the fills of order ``oid``, or
    ``None`` when none is listed. ``fee`` includes any builder fee (negative: a rebate)."""
    size = notional = fee = pnl = Decimal(0)
    found = False
    for fill in fills:
        if not isinstance(fill, Mapping) or str(fill.get("oid")) != str(oid):
            continue
        found = True
        sz = dec(fill.get("sz"), "sz")
        size += sz
        notional += sz * dec(fill.get("px"), "px")
        fee += dec(fill.get("fee", "0"), "fee")
        pnl += dec(fill.get("closedPnl", "0"), "closedPnl")
    if not found:
        return None
    return size, (notional / size if size else None), fee, pnl


def with_fills(record: OrderRecord, fills: Iterable[Any]) -> OrderRecord:
    """``record`` with its fills' size, average price, fee and realised PnL. A ``FILLED``
    order whose fills total less than its size (an IOC partial) becomes ``CANCELLED``."""
    summary = fill_summary(fills, record["id"])
    if summary is None:
        return record
    size, avg, fee, pnl = summary
    out: OrderRecord = {**record, "filled_size": float(size), "avg_price": None if avg is None else float(avg),
                        "fee": float(fee), "realized_pnl": float(pnl)}
    if record["status"] == "FILLED" and size < Decimal(str(record["size"])):
        out["status"] = "CANCELLED"
    return out


def response_statuses(body: Any, kind: str) -> list[Any]:
    """The ``statuses`` of an ``/exchange`` answer of type ``kind`` (``order``/``cancel``)."""
    response = _obj(_obj(body, "exchange answer").get("response"), "exchange response")
    if response.get("type") != kind:
        raise ExchangeError(f"/exchange answered type {response.get('type')!r}, expected {kind!r}", raw=body)
    return _list(_obj(response.get("data"), "exchange response data").get("statuses"), "statuses")


# -- market data -------------------------------------------------------------------------------


def _levels(rows: Any, side: str) -> list[list[float]]:
    out = []
    for level in _list(rows, f"l2Book {side}"):
        level = _obj(level, f"l2Book {side} level")
        px, sz = dec(level.get("px"), "px"), dec(level.get("sz"), "sz")
        if sz != 0:
            out.append((px, sz))
    out.sort(key=lambda lv: lv[0], reverse=(side == "bids"))
    return [[float(p), float(q)] for p, q in out]


def parse_orderbook(body: Any, time_ms: int) -> OrderBook:
    """``l2Book`` (REST or socket) → best-first book; ``time`` is when it was received."""
    levels = _list(_obj(body, "l2Book").get("levels"), "l2Book levels")
    if len(levels) != 2:
        raise ExchangeError("l2Book levels is not [bids, asks]", raw=body)
    return {"bids": _levels(levels[0], "bids"), "asks": _levels(levels[1], "asks"), "time": int(time_ms)}


def parse_funding_rate(symbol: str, ctx: Mapping[str, Any]) -> FundingRate:
    """An asset context → ``FundingRate``: ``funding`` is the rate of one hour."""
    rate = float(dec(ctx.get("funding"), "funding"))
    return {"symbol": symbol, "funding_rate": rate, "interval_hours": 1.0, "funding_rate_per_hour": rate,
            "mark_price": opt_float(ctx.get("markPx"), "markPx"), "index_price": opt_float(ctx.get("oraclePx"), "oraclePx"),
            "raw": dict(ctx)}


def parse_predicted_funding(body: Any, symbol: str) -> FundingRate:
    """``predictedFundings`` → Hyperliquid's own (``HlPerp``) next hourly rate of ``symbol``."""
    for row in _list(body, "predictedFundings"):
        if not isinstance(row, list) or len(row) != 2 or row[0] != symbol:
            continue
        for venue in _list(row[1], "predictedFundings venues"):
            if isinstance(venue, list) and len(venue) == 2 and venue[0] == "HlPerp" and isinstance(venue[1], Mapping):
                rate = float(dec(venue[1].get("fundingRate"), "fundingRate"))
                return {"symbol": symbol, "funding_rate": rate, "interval_hours": 1.0, "funding_rate_per_hour": rate,
                        "next_funding_time": _int_or_none(venue[1].get("nextFundingTime")), "raw": row}
    raise ExchangeError(f"predictedFundings has no HlPerp rate for {symbol}", raw=body)


def parse_funding_history(rows: Any) -> list[FundingEntry]:
    """``fundingHistory`` → ``[{symbol, time, funding_rate, interval_hours}]``, oldest first."""
    parsed = sorted((int(r["time"]), str(r.get("coin")), float(dec(r.get("fundingRate"), "fundingRate")))
                    for r in _list(rows, "fundingHistory") if isinstance(r, Mapping) and _int_or_none(r.get("time")) is not None)
    out: list[FundingEntry] = []
    for i, (t, coin, rate) in enumerate(parsed):
        gaps = [abs(parsed[j][0] - t) for j in (i - 1, i + 1) if 0 <= j < len(parsed) and parsed[j][1] == coin]
        hours = 8.0 if gaps and min(gaps) >= 7.5 * _HOUR_MS else 1.0
        out.append({"symbol": coin, "time": t, "funding_rate": rate, "interval_hours": hours})
    return out


def parse_candles(rows: Any) -> list[dict[str, Any]]:
    """``candleSnapshot`` → Vest's kline shape, oldest first. Hyperliquid publishes the base
    volume only: ``quote_volume`` is ``None``."""
    out = []
    for c in _list(rows, "candleSnapshot"):
        c = _obj(c, "candle")
        out.append({
            "open_time": int(c["t"]), "open": float(dec(c.get("o"), "o")), "high": float(dec(c.get("h"), "h")),
            "low": float(dec(c.get("l"), "l")), "close": float(dec(c.get("c"), "c")), "close_time": int(c["T"]),
            "volume": float(dec(c.get("v"), "v")), "quote_volume": None, "trades": _int_or_none(c.get("n")),
        })
    return sorted(out, key=lambda k: k["open_time"])


def parse_trading_fees(body: Any, symbol: str) -> TradingFees:
    """``userFees`` → the account's own rates (``userAddRate`` maker, ``userCrossRate`` taker)."""
    body = _obj(body, "userFees")
    return {"symbol": symbol, "maker": float(dec(body.get("userAddRate"), "userAddRate")),
            "taker": float(dec(body.get("userCrossRate"), "userCrossRate"))}


def parse_leverage(body: Any) -> tuple[int | None, str | None]:
    """``activeAssetData`` → ``(leverage, "cross"|"isolated")`` set on the account."""
    lev = _obj(body, "activeAssetData").get("leverage")
    if not isinstance(lev, Mapping):
        return None, None
    mode = lev.get("type")
    return _int_or_none(lev.get("value")), mode if mode in ("cross", "isolated") else None
