"""Pure shapes: ccxt's unified structures as the contract's, and ccxt's market precision as
``mpdex.orders`` rules.

Precision is read exactly: a tick (``TICK_SIZE`` mode) or a number of places
(``DECIMAL_PLACES``) becomes a ``Decimal`` step through the float's shortest repr, so
``0.001`` is ``Decimal("0.001")``; ccxt's own float rounding is never used to decide what is
sent. ``SIGNIFICANT_DIGITS`` markets are refused (none of the venues here uses it).
Numbers leave as floats; ``raw`` keeps the venue's own payload (ccxt's ``info``).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mpdex.errors import ExchangeError, NotSupported
from mpdex.orders import MarketRules, PriceGrid, StepGrid
from mpdex.precision import Rounding, round_to_sig_figs, step_of, to_decimal
from mpdex.types import Collateral, FundingRate, OpenOrder, OrderRecord, Position, PositionSide

__all__ = [
    "TICK_SIZE", "DECIMAL_PLACES", "SIGNIFICANT_DIGITS", "SigFigGrid", "step_from_precision", "market_rules",
    "parse_order", "parse_position", "parse_collateral", "parse_funding_rate", "interval_hours", "dec", "num", "dig",
    "leverage_value", "margin_mode", "keep_fill_facts", "lacks_fill_facts", "fill_facts",
]

DECIMAL_PLACES, SIGNIFICANT_DIGITS, TICK_SIZE = 2, 3, 4  # ccxt's precisionMode constants

_STATUS = {"open": "NEW", "closed": "FILLED", "canceled": "CANCELLED", "cancelled": "CANCELLED",
           "expired": "EXPIRED", "rejected": "REJECTED"}
_TIF = {"GTC": "GTC", "IOC": "IOC", "FOK": "FOK", "PO": "ALO", "ALO": "ALO", "GTT": "GTC"}


def dec(value: Any) -> Decimal | None:
    """A ccxt number (float, int or numeric string) as an exact Decimal; None stays None."""
    if value is None or value == "":
        return None
    return to_decimal(value if isinstance(value, (int, float, str, Decimal)) else str(value))


def num(value: Any) -> float | None:
    d = dec(value)
    return None if d is None else float(d)


def dig(value: Any, path: str) -> Any:
    """``value["a"]["b"]`` for ``path`` ``"a.b"``; None where a step is missing."""
    for key in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def leverage_value(value: Any) -> int | None:
    """A reported leverage as the contract's int: a positive whole number, else None."""
    try:
        lev = dec(value)
    except (ArithmeticError, ValueError, TypeError):
        return None
    if lev is None or lev <= 0 or lev != lev.to_integral_value():
        return None
    return int(lev)


def margin_mode(value: Any) -> str | None:
    text = str(value or "").strip().lower()
    return text if text in ("cross", "isolated") else None


@dataclass(frozen=True)
class SigFigGrid:
    """Hyperliquid's prices: at most ``sig_figs`` significant figures and ``max_decimals`` places."""

    sig_figs: int
    max_decimals: int

    def round_price(self, price: Decimal, mode: Rounding) -> Decimal:
        return round_to_sig_figs(price, self.sig_figs, self.max_decimals, mode)

    def describe(self) -> str:
        return f"{self.sig_figs} significant figures, at most {self.max_decimals} decimals"


def step_from_precision(value: Any, mode: int, what: str, symbol: str) -> Decimal:
    """ccxt's ``market['precision'][what]`` as an exact step."""
    if value is None:
        raise ExchangeError(f"ccxt gives no {what} precision for {symbol}")
    if mode == TICK_SIZE:
        step = to_decimal(value, f"{symbol} {what} tick")
    elif mode == DECIMAL_PLACES:
        places = to_decimal(value, f"{symbol} {what} places")
        if places != places.to_integral_value():
            raise ExchangeError(f"ccxt gives {value!r} decimal places for the {what} of {symbol}")
        step = step_of(int(places))
    else:
        raise NotSupported(f"ccxt precision mode {mode} (significant digits) is not supported for {symbol}")
    if step <= 0:
        raise ExchangeError(f"ccxt gives a non-positive {what} step for {symbol}: {value!r}")
    return step.quantize(Decimal(1)) if step == step.to_integral_value() else step  # 1.0 -> 1


def market_rules(market: Mapping[str, Any], native: str, mode: int, *, price_grid: str, limit_tifs: tuple[str, ...],
                 quote: str) -> MarketRules:
    precision = market.get("precision") or {}
    size_step = step_from_precision(precision.get("amount"), mode, "amount", native)
    grid: PriceGrid
    if price_grid == "sig5":
        places = -size_step.normalize().as_tuple().exponent  # type: ignore[operator]
        grid = SigFigGrid(5, max(0, 6 - max(0, int(places))))
    else:
        grid = StepGrid(step_from_precision(precision.get("price"), mode, "price", native))
    limits = market.get("limits") or {}
    min_amount = dec((limits.get("amount") or {}).get("min"))
    min_cost = dec((limits.get("cost") or {}).get("min"))
    known = {"GTC", "IOC", "FOK", "ALO"}
    return MarketRules(
        symbol=native, size_step=size_step, min_size=max(min_amount or size_step, size_step), price_grid=grid,
        min_notional=min_cost if min_cost else None, limit_tifs=limit_tifs, market_tif="IOC",
        unsupported_tifs=frozenset(known - set(limit_tifs)), quote=quote,
    )


def _side(value: Any) -> Any:
    text = str(value or "").lower()
    return text if text in ("buy", "sell") else None


def status_of(order: Mapping[str, Any]) -> str:
    raw = str(order.get("status") or "").lower()
    status = _STATUS.get(raw, raw.upper() or "UNKNOWN")
    filled = dec(order.get("filled")) or Decimal(0)
    if status == "NEW" and filled > 0:
        return "PARTIALLY_FILLED"
    return status


def tif_of(order: Mapping[str, Any]) -> str | None:
    value = order.get("timeInForce")
    if order.get("postOnly") is True:
        return "ALO"
    return _TIF.get(str(value).upper()) if value else None


def parse_order(order: Mapping[str, Any], native_of: Callable[[Any], str | None], quote: str) -> OrderRecord:
    """A ccxt order as an ``OrderRecord``; ``size`` is the order's amount (base units)."""
    amount = dec(order.get("amount"))
    fee = order.get("fee") or {}
    fee_cost = num(fee.get("cost")) if isinstance(fee, Mapping) and fee.get("currency") in (None, quote) else None
    record: OrderRecord = {
        "id": str(order.get("id")) if order.get("id") not in (None, "") else "",
        "order_id": str(order.get("id")) if order.get("id") not in (None, "") else "",
        "client_order_id": str(order["clientOrderId"]) if order.get("clientOrderId") not in (None, "") else None,
        "symbol": native_of(order.get("symbol")) or str(order.get("symbol") or ""),
        "side": _side(order.get("side")),
        "size": float(amount) if amount is not None else 0.0,
        "filled_size": num(order.get("filled")) or 0.0,
        "price": num(order.get("price")),
        "order_type": str(order.get("type") or "").lower(),
        "status": status_of(order),
        "reduce_only": bool(order.get("reduceOnly")),
        "created_at": int(order["timestamp"]) if isinstance(order.get("timestamp"), (int, float)) else None,
        "avg_price": _positive(order.get("average")),
        "fee": fee_cost,
        "realized_pnl": None,
        "code": None,
        "raw": order.get("info"),
    }
    return record


_FILL_FACTS = ("avg_price", "fee", "realized_pnl")


def keep_fill_facts(fresh: OrderRecord, earlier: OrderRecord | None) -> OrderRecord:
    """``fresh`` with the average price, fee and realised PnL that ``earlier`` (an earlier
    answer about the same order at the same filled size) reported and ``fresh`` lacks: a later
    read that omits them (Hyperliquid's ``orderStatus`` has no ``avgPx``) does not erase what
    the venue said."""
    if earlier is None or not fresh["id"] or earlier["id"] != fresh["id"] \
            or earlier["filled_size"] != fresh["filled_size"]:
        return fresh
    out: OrderRecord = {**fresh}
    for key in _FILL_FACTS:
        if out.get(key) is None and earlier.get(key) is not None:
            out[key] = earlier[key]  # type: ignore[literal-required]
    return out


def lacks_fill_facts(record: OrderRecord, pnl_field: str) -> bool:
    """True when ``record`` filled and misses a fact its fills may tell."""
    return bool(record["id"]) and (record.get("filled_size") or 0.0) > 0 and (
        record.get("avg_price") is None or record.get("fee") is None
        or (bool(pnl_field) and record.get("realized_pnl") is None))


def fill_facts(trades: Iterable[Any], order_id: str, filled: Decimal, quote: str,
               pnl_field: str) -> tuple[Decimal | None, Decimal | None, Decimal | None] | None:
    """``(price, fee, realised PnL)`` the venue recorded for the fills (ccxt trades) of
    ``order_id``; None when the fills listed do not add up to ``filled`` (nothing is taken
    from a part). ``price`` only when every fill was at one price (no average is computed);
    ``fee`` only when every fill names its fee in ``quote``; the PnL from each fill's
    ``info[pnl_field]`` (none in ccxt's trade structure), when every fill has it."""
    mine = [t for t in trades if isinstance(t, Mapping) and str(t.get("order")) == order_id]
    size = _total([dec(t.get("amount")) for t in mine])
    if not mine or size != filled:
        return None
    prices = {dec(t.get("price")) for t in mine}
    price = prices.pop() if len(prices) == 1 else None
    if price is not None and price <= 0:
        price = None
    fee = _total([dec(f.get("cost")) if isinstance(f, Mapping) and f.get("currency") == quote else None
                  for f in (t.get("fee") for t in mine)])
    pnl = _total([dec(t["info"].get(pnl_field)) if isinstance(t.get("info"), Mapping) else None
                  for t in mine]) if pnl_field else None
    return price, fee, pnl


def _total(values: list[Decimal | None]) -> Decimal | None:
    """The exact sum, or None when any value is unknown."""
    total = Decimal(0)
    for value in values:
        if value is None:
            return None
        total += value
    return total


def _positive(value: Any) -> float | None:
    """A price ccxt gives, or None when it is absent or not positive (no fill is at 0: ccxt
    divides a reported zero cost by the filled size)."""
    d = dec(value)
    return float(d) if d is not None and d > 0 else None


def as_open_order(record: OrderRecord) -> OpenOrder:
    keys = ("id", "order_id", "client_order_id", "symbol", "side", "size", "filled_size", "price", "order_type",
            "status", "reduce_only", "created_at")
    return {k: record[k] for k in keys}  # type: ignore[return-value,literal-required]


def parse_position(position: Mapping[str, Any], native: str) -> Position | None:
    """A ccxt position as ours; ``None`` when flat. Size = contracts × contractSize."""
    contracts = dec(position.get("contracts"))
    if contracts is None or contracts == 0:
        return None
    size = abs(contracts) * (dec(position.get("contractSize")) or Decimal(1))
    text = str(position.get("side") or "").lower()
    side: PositionSide = "long" if text == "long" else "short" if text == "short" else \
        "long" if contracts > 0 else "short"
    entry = dec(position.get("entryPrice"))
    if entry is None:
        raise ExchangeError(f"ccxt position of {native} has no entry price", raw=position.get("info"))
    return {
        "symbol": native, "side": side, "size": float(size), "entry_price": float(entry),
        "unrealized_pnl": num(position.get("unrealizedPnl")) or 0.0,
        "liquidation_price": num(position.get("liquidationPrice")) or None,
        "raw_data": position.get("info"),
    }


def parse_collateral(balance: Mapping[str, Any], quote: str) -> Collateral:
    account = balance.get(quote)
    if not isinstance(account, Mapping):
        raise ExchangeError(f"ccxt balance has no {quote} account", raw=balance.get("info"))
    total = dec(account.get("total"))
    free = dec(account.get("free"))
    if total is None and free is None:
        raise ExchangeError(f"ccxt balance gives neither total nor free {quote}", raw=balance.get("info"))
    out: Collateral = {
        "available_collateral": float(free if free is not None else total),  # type: ignore[arg-type]
        "total_collateral": float(total if total is not None else free),  # type: ignore[arg-type]
        "raw": balance.get("info"),
    }
    used = dec(account.get("used"))
    if used is not None:
        out["margin_used"] = float(used)
    return out


def interval_hours(interval: Any) -> Decimal | None:
    """ccxt's funding ``interval`` ("8h", "1h", "30m", "1d") in hours; None when not given."""
    if not isinstance(interval, str) or not interval.strip():
        return None
    text = interval.strip().lower()
    if text[-1] not in "mhd":
        return None
    try:
        amount = Decimal(text[:-1])
    except ArithmeticError:
        return None
    hours = amount / 60 if text[-1] == "m" else amount * 24 if text[-1] == "d" else amount
    return hours if hours > 0 else None


def parse_funding_rate(rate: Mapping[str, Any], native: str, venue: str) -> FundingRate:
    value = dec(rate.get("fundingRate"))
    if value is None:
        raise ExchangeError(f"{venue}: ccxt gives no funding rate for {native}", raw=rate.get("info"))
    hours = interval_hours(rate.get("interval"))
    if hours is None:
        raise NotSupported(f"{venue}: ccxt does not report the funding interval of {native} "
                           f"(interval={rate.get('interval')!r}); no per-hour rate is guessed")
    next_time = rate.get("nextFundingTimestamp")
    return {
        "symbol": native, "funding_rate": float(value), "interval_hours": float(hours),
        "funding_rate_per_hour": float(value / hours), "mark_price": num(rate.get("markPrice")),
        "index_price": num(rate.get("indexPrice")),
        "next_funding_time": int(next_time) if isinstance(next_time, (int, float)) else None,
        "raw": rate.get("info"),
    }
