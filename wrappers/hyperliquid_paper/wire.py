"""Hyperliquid wire shapes of the paper server: number formatting and the JSON objects the
``/info`` answers and socket frames are made of (orders, fills, positions, asset contexts,
books, candles), field names and order as in the samples.

Numbers are decimal strings as the server prints them: trailing zeros stripped, at least one
decimal (``"97000.0"``, ``"0.0"``), never ``-0``; money (USDC) at most 6 decimals, entry and
liquidation prices and ratios at most 8. Ids, ms timestamps and counts are JSON integers.
The price inside the ALO error's ``bbo was <bid>@<ask>`` is the plain canonical form
(``63590@63591``, as in the sample). Decisions where the samples leave a value open:
``impactPxs`` are the prices at which a taker of ``IMPACT_NOTIONAL`` USDC would finish on
each side; ``premium`` is (mark − oracle) / oracle; ``openInterest`` is the paper accounts'
open long size; a fill's ``hash`` is shared by the fills of one order at one time and its
``tid`` is a 50-bit hash of the fill; book levels carry ``n`` = 1 (one synthetic order each).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Any

from mpdex.evm import keccak256
from mpdex.paper.engine import AccountView
from mpdex.paper.ledger import Fill, FundingPayment, Order
from mpdex.paper.markets import Market
from mpdex.paper.prices import Bar
from mpdex.paper.simulator import Simulator
from mpdex.precision import round_to_step

from .errors import order_status
from .markets import MAKER_FEE, TAKER_FEE

__all__ = [
    "num", "usd2", "plain", "side", "order_frontend", "open_order", "order_update", "fill_json", "fills_json",
    "aggregate_fills", "funding_hash", "funding_delta", "clearinghouse", "asset_ctx", "mids", "bbo_levels", "l2_book", "candle",
    "active_asset_data", "user_fees", "empty_clearinghouse", "premium", "IMPACT_NOTIONAL", "HL_INTERVALS",
]

ZERO = Decimal(0)
IMPACT_NOTIONAL = Decimal(20_000)
#: candle intervals the server knows (the simulator's 6h is not one of them)
HL_INTERVALS = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "8h", "12h", "1d", "3d", "1w", "1M")
_TID_MASK = (1 << 50) - 1
_DAY_MS = 86_400_000


def num(value: Decimal | str | int, places: int | None = None) -> str:
    """``value`` as the server prints decimals: ``"97000.0"``, ``"0.00045"``, ``"-1.5"``."""
    d = value if isinstance(value, Decimal) else Decimal(value)
    if places is not None:
        d = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{d:f}"
    if "." in text:
        text = text.rstrip("0")
        if text.endswith("."):
            text += "0"
    else:
        text += ".0"
    return "0.0" if text == "-0.0" else text


def usd2(value: Decimal) -> str:
    """Dollars with cents, half up (``$87457.46`` in the server's strings)."""
    return f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):f}"


def plain(value: Decimal) -> str:
    """Canonical, without a forced decimal: ``63590``, ``0.32``."""
    text = num(value)
    return text[:-2] if text.endswith(".0") else text


def side(is_buy: bool) -> str:
    return "B" if is_buy else "A"


# --- orders -----------------------------------------------------------------------------------


def _tif(o: Order) -> str:
    return o.order_type  # the dialect stores the posted tif (Gtc | Ioc | Alo | FrontendMarket) as the label


def order_frontend(o: Order) -> dict[str, Any]:
    """``frontendOpenOrders`` / ``orderStatus`` / ``historicalOrders`` order object. ``sz`` is
    what is left (a cancelled order keeps its unfilled size), ``origSz`` what was asked."""
    return {
        "coin": o.symbol,
        "side": side(o.is_buy),
        "limitPx": num(o.limit_price),
        "sz": num(max(o.remaining, ZERO)),
        "oid": int(o.id),
        "timestamp": o.post_time,
        "triggerCondition": "N/A",
        "isTrigger": False,
        "triggerPx": "0.0",
        "children": [],
        "isPositionTpsl": False,
        "reduceOnly": o.reduce_only,
        "orderType": "Market" if _tif(o) == "FrontendMarket" else "Limit",
        "origSz": num(o.size),
        "tif": _tif(o),
        "cloid": o.client_id,
    }


def _basic(o: Order) -> dict[str, Any]:
    out: dict[str, Any] = {
        "coin": o.symbol, "side": side(o.is_buy), "limitPx": num(o.limit_price), "sz": num(max(o.remaining, ZERO)),
        "oid": int(o.id), "timestamp": o.post_time, "origSz": num(o.size),
    }
    if o.reduce_only:
        out["reduceOnly"] = True
    if o.client_id is not None:
        out["cloid"] = o.client_id
    return out


def open_order(o: Order) -> dict[str, Any]:
    """``openOrders`` entry (``reduceOnly`` and ``cloid`` only when they apply)."""
    return _basic(o)


def order_update(o: Order) -> dict[str, Any]:
    """One ``orderUpdates`` element."""
    return {"order": _basic(o), "status": order_status(o), "statusTimestamp": o.status_time}


# --- fills ------------------------------------------------------------------------------------


def _direction(start: Decimal, is_buy: bool, qty: Decimal) -> str:
    end = start + qty if is_buy else start - qty
    if is_buy:
        if start >= 0:
            return "Open Long"
        return "Close Short" if end <= 0 else "Short > Long"
    if start <= 0:
        return "Open Short"
    return "Close Long" if end >= 0 else "Long > Short"


def _hash(order_id: str, time_ms: int) -> str:
    return "0x" + keccak256(f"hl-paper:{order_id}:{time_ms}".encode()).hex()


def fill_json(f: Fill, cloid: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "coin": f.symbol,
        "px": num(f.price),
        "sz": num(f.qty),
        "side": side(f.is_buy),
        "time": f.time,
        "startPosition": num(f.start_position),
        "dir": _direction(f.start_position, f.is_buy, f.qty),
        "closedPnl": num(f.closed_pnl, 6),
        "hash": _hash(f.order_id, f.time),
        "oid": int(f.order_id),
        "crossed": f.taker,
        "fee": num(f.fee, 6),
        "tid": int.from_bytes(keccak256(f"hl-paper-tid:{f.id}".encode())[:8], "big") & _TID_MASK,
        "feeToken": "USDC",
    }
    if cloid is not None:
        out["cloid"] = cloid
    return out


def fills_json(sim: Simulator, fills: Iterable[Fill]) -> list[dict[str, Any]]:
    """Fills with their order's cloid (looked up once per order)."""
    cloids: dict[str, str | None] = {}
    out = []
    for f in fills:
        if f.order_id not in cloids:
            o = sim.ledger.order(f.order_id)
            cloids[f.order_id] = o.client_id if o is not None else None
        out.append(fill_json(f, cloids[f.order_id]))
    return out


def aggregate_fills(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``aggregateByTime``: consecutive fills of one order at one time become one (size and
    fee added, price volume-weighted)."""
    out: list[dict[str, Any]] = []
    for row in rows:
        last = out[-1] if out else None
        if last is not None and last["oid"] == row["oid"] and last["time"] == row["time"]:
            sz_a, sz_b = Decimal(last["sz"]), Decimal(row["sz"])
            px = (Decimal(last["px"]) * sz_a + Decimal(row["px"]) * sz_b) / (sz_a + sz_b)
            last.update(px=num(px, 8), sz=num(sz_a + sz_b), fee=num(Decimal(last["fee"]) + Decimal(row["fee"]), 6),
                        closedPnl=num(Decimal(last["closedPnl"]) + Decimal(row["closedPnl"]), 6))
            continue
        out.append(dict(row))
    return out


def funding_hash(address: str, p: FundingPayment) -> str:
    return "0x" + keccak256(f"hl-paper-funding:{address}:{p.symbol}:{p.time}".encode()).hex()


def funding_delta(p: FundingPayment) -> dict[str, Any]:
    """``{time, coin, usdc, szi, fundingRate}`` (``usdc`` < 0: the account paid)."""
    return {"time": p.time, "coin": p.symbol, "usdc": num(p.amount, 6), "szi": num(p.size),
            "fundingRate": num(p.rate)}


# --- the account ------------------------------------------------------------------------------


def _summary(value: Decimal, ntl: Decimal, raw: Decimal, margin: Decimal) -> dict[str, str]:
    return {"accountValue": num(value, 6), "totalNtlPos": num(ntl, 6), "totalRawUsd": num(raw, 6),
            "totalMarginUsed": num(margin, 6)}


def empty_clearinghouse(now_ms: int) -> dict[str, Any]:
    """The state of an address with no account (an agent, say): all zero, no positions."""
    zero = _summary(ZERO, ZERO, ZERO, ZERO)
    return {"marginSummary": zero, "crossMarginSummary": dict(zero), "crossMaintenanceMarginUsed": "0.0",
            "withdrawable": "0.0", "assetPositions": [], "time": now_ms}


def clearinghouse(sim: Simulator, account_id: int, now_ms: int) -> dict[str, Any]:
    """``clearinghouseState`` (current shape; cross margin only)."""
    v: AccountView = sim.view(sim.state(account_id))
    order = {s: i for i, s in enumerate(sim.markets)}
    payments = sim.ledger.funding_payments(account_id, limit=1_000_000)
    positions = []
    ntl = exposure = ZERO
    for pv in sorted(v.positions, key=lambda x: order[x.position.symbol]):
        p, m = pv.position, pv.market
        value = abs(p.size) * pv.mark
        ntl += value
        exposure += p.size * pv.mark
        entry_margin = abs(p.size) * p.entry_price / pv.leverage
        last_fill = sim.ledger.query_one("SELECT MAX(time) FROM fills WHERE account_id = ? AND symbol = ?",
                                         (account_id, p.symbol))[0] or 0
        paid = [x for x in payments if x.symbol == p.symbol]
        positions.append({"type": "oneWay", "position": {
            "coin": p.symbol,
            "szi": num(p.size),
            "leverage": {"type": "cross", "value": pv.leverage},
            "entryPx": num(p.entry_price, 8),
            "positionValue": num(value, 6),
            "unrealizedPnl": num(pv.unrealized_pnl, 6),
            "returnOnEquity": num(pv.unrealized_pnl / entry_margin if entry_margin else ZERO, 8),
            "liquidationPx": num(pv.liq_price, 8) if pv.liq_price > 0 else None,
            "marginUsed": num(pv.init_margin, 6),
            "maxLeverage": m.max_leverage,
            "cumFunding": {
                "allTime": num(-sum((x.amount for x in paid), ZERO), 6),
                "sinceOpen": num(-p.settled_funding, 6),
                "sinceChange": num(-sum((x.amount for x in paid if x.time > last_fill), ZERO), 6),
            },
        }})
    summary = _summary(v.account_value, ntl, v.account_value - exposure, v.init_margin)
    return {"marginSummary": summary, "crossMarginSummary": dict(summary),
            "crossMaintenanceMarginUsed": num(v.maint_margin, 6), "withdrawable": num(v.withdrawable, 6),
            "assetPositions": positions, "time": now_ms}


def active_asset_data(sim: Simulator, account_id: int | None, user: str, m: Market) -> dict[str, Any]:
    """``activeAssetData``: leverage, and what the account could still trade each way:
    ``availableToTrade`` = free margin × leverage (USDC), ``maxTradeSzs`` = that at the mark
    in coins, plus the position an order on the other side would close first."""
    mark = sim.prices.states[m.symbol].mark
    if account_id is None:
        lev = min(sim.rules.default_leverage, m.max_leverage)
        free, size = ZERO, ZERO
    else:
        lev = sim.leverage_of(account_id, m.symbol)
        v = sim.view(sim.state(account_id))
        free = max(ZERO, v.account_value - v.margin_used)
        pos = sim.ledger.position(account_id, m.symbol)
        size = pos.size if pos else ZERO
    ntl = free * lev
    base = round_to_step(ntl / mark, m.size_step, "down")
    buy, sell = base + max(-size, ZERO), base + max(size, ZERO)
    return {"user": user, "coin": m.symbol, "leverage": {"type": "cross", "value": lev},
            "maxTradeSzs": [num(buy), num(sell)], "availableToTrade": [num(ntl, 6), num(ntl, 6)],
            "markPx": num(mark)}


def user_fees(fills: Sequence[Fill], all_fills: Sequence[Fill], now_ms: int) -> dict[str, Any]:
    """``userFees``: the base tier's rates (no VIP or market-maker tiers, no referral or staking
    discounts are modelled) and the last 15 days of the account's and the venue's volume."""
    days = [now_ms - now_ms % _DAY_MS - k * _DAY_MS for k in range(14, -1, -1)]

    def per_day(rows: Sequence[Fill], taker: bool | None) -> dict[int, Decimal]:
        out = dict.fromkeys(days, ZERO)
        for f in rows:
            day = f.time - f.time % _DAY_MS
            if day in out and (taker is None or f.taker == taker):
                out[day] += f.price * f.qty
        return out

    cross, add, venue = per_day(fills, True), per_day(fills, False), per_day(all_fills, None)
    daily = [{"date": datetime.fromtimestamp(d / 1000, timezone.utc).strftime("%Y-%m-%d"),
              "userCross": num(cross[d], 6), "userAdd": num(add[d], 6), "exchange": num(venue[d], 6)} for d in days]
    return {
        "dailyUserVlm": daily,
        "feeSchedule": {"cross": num(TAKER_FEE), "add": num(MAKER_FEE), "spotCross": "0.0007", "spotAdd": "0.0004",
                        "tiers": {"vip": [], "mm": []}, "referralDiscount": "0.0", "stakingDiscountTiers": []},
        "userCrossRate": num(TAKER_FEE), "userAddRate": num(MAKER_FEE), "userSpotCrossRate": "0.0007",
        "userSpotAddRate": "0.0004", "activeReferralDiscount": "0.0", "trial": None, "feeTrialReward": "0.0",
        "nextTrialAvailableTimestamp": None, "stakingLink": None,
        "activeStakingDiscount": {"bpsOfMaxSupply": "0.0", "discount": "0.0"},
    }


# --- market data ------------------------------------------------------------------------------


def premium(sim: Simulator, symbol: str) -> Decimal:
    st = sim.prices.states[symbol]
    return ((st.mark - st.index) / st.index).quantize(Decimal("1e-8"))


def _impact(levels: Sequence[Sequence[Decimal]]) -> Decimal | None:
    taken = ZERO
    for px, qty in levels:
        taken += px * qty
        if taken >= IMPACT_NOTIONAL:
            return px
    return None


def asset_ctx(sim: Simulator, m: Market, now_ms: int, open_interest: Decimal) -> dict[str, Any]:
    """One ``metaAndAssetCtxs`` context (also ``activeAssetCtx.ctx``); ``funding`` is the rate
    of the next hourly funding event."""
    s = m.symbol
    st = sim.prices.states[s]
    bids, asks = sim.prices.book(s)
    stats = sim.prices.stats_24h(s, now_ms)
    bid, ask = (bids[0][0] if bids else None), (asks[0][0] if asks else None)
    impact_bid, impact_ask = _impact(bids), _impact(asks)
    return {
        "dayNtlVlm": num(stats["quote_volume"], 6),  # type: ignore[arg-type]
        "funding": num(sim.funding_rate(s)),
        "impactPxs": None if impact_bid is None or impact_ask is None else [num(impact_bid), num(impact_ask)],
        "markPx": num(st.mark),
        "midPx": None if bid is None or ask is None else num((bid + ask) / 2),
        "openInterest": num(open_interest),
        "oraclePx": num(st.index),
        "premium": num(premium(sim, s)),
        "prevDayPx": num(stats["open"]),  # type: ignore[arg-type]
        "dayBaseVlm": num(stats["volume"]),  # type: ignore[arg-type]
    }


def mids(sim: Simulator) -> dict[str, str]:
    """``allMids``: the book mid of every coin (perps only: no spot universe here)."""
    out = {}
    for s in sim.markets:
        bid, ask = sim.prices.best(s, False), sim.prices.best(s, True)
        if bid is not None and ask is not None:
            out[s] = num((bid + ask) / 2)
    return out


def _level(px: Decimal, qty: Decimal, n: int) -> dict[str, Any]:
    return {"px": num(px), "sz": num(qty), "n": n}


def _aggregate(levels: Sequence[Sequence[Decimal]], sig_figs: int, mantissa: int | None,
               is_bid: bool) -> list[tuple[Decimal, Decimal, int]]:
    out: list[tuple[Decimal, Decimal, int]] = []
    for px, qty in levels:
        step = Decimal(1).scaleb(px.adjusted() - sig_figs + 1) * (mantissa or 1)
        bucket = (px / step).to_integral_value(rounding=ROUND_DOWN if is_bid else ROUND_UP) * step
        if out and out[-1][0] == bucket:
            out[-1] = (bucket, out[-1][1] + qty, out[-1][2] + 1)
        else:
            out.append((bucket, qty, 1))
    return out


def l2_book(sim: Simulator, coin: str, now_ms: int, sig_figs: int | None = None, mantissa: int | None = None,
            depth: int = 20) -> dict[str, Any]:
    """``l2Book``: bids best first, asks best first, ``depth`` levels a side, optionally
    aggregated to ``sig_figs`` significant figures (× ``mantissa``)."""
    bids, asks = sim.prices.book(coin)
    sides = []
    for levels, is_bid in ((bids, True), (asks, False)):
        if sig_figs is None:
            rows = [(px, qty, 1) for px, qty in levels[:depth]]
        else:
            rows = _aggregate(levels, sig_figs, mantissa, is_bid)[:depth]
        sides.append([_level(px, qty, n) for px, qty, n in rows])
    return {"coin": coin, "time": now_ms, "levels": sides}


def bbo_levels(sim: Simulator, coin: str) -> list[dict[str, Any] | None]:
    bids, asks = sim.prices.book(coin)
    return [_level(bids[0][0], bids[0][1], 1) if bids else None, _level(asks[0][0], asks[0][1], 1) if asks else None]


def candle(bar: Bar, coin: str, interval: str, interval_ms: int) -> dict[str, Any]:
    return {"t": bar.open_time, "T": bar.open_time + interval_ms - 1, "s": coin, "i": interval, "o": num(bar.open),
            "c": num(bar.close), "h": num(bar.high), "l": num(bar.low), "v": num(bar.volume), "n": bar.trades}
