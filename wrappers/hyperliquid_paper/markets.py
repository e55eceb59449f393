"""The Hyperliquid paper venue's market table and its ``meta`` answer.

A market's asset id is its index in the table (``meta.universe``), as on the main perp dex.
Each coin carries Hyperliquid's listing fields: ``szDecimals`` (size decimals), the price
rule (at most 5 significant figures and at most ``6 − szDecimals`` decimals, integers always
allowed: ``Market.price_sig_figs=5``, ``price_decimals = 6 − szDecimals``), ``maxLeverage``
(initial margin 1 / max, maintenance half of that), the $10 minimum order value and the base
fee tier (taker 0.045 %, maker 0.015 %: resting fills pay the maker rate). Each distinct max
leverage is one single-tier margin table whose id is that leverage (Hyperliquid's ids below 50
are such tables). Reference prices only seed the walk.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from mpdex.paper.markets import Market

__all__ = ["HL_MARKETS", "TAKER_FEE", "MAKER_FEE", "MIN_NOTIONAL", "meta_json"]

TAKER_FEE = Decimal("0.00045")
MAKER_FEE = Decimal("0.00015")
MIN_NOTIONAL = Decimal(10)
#: perp prices: at most 6 − szDecimals decimals
MAX_PRICE_DECIMALS = 6


def _m(coin: str, sz_decimals: int, max_lev: int, ref: str) -> Market:
    return Market(
        coin, coin, sz_decimals, MAX_PRICE_DECIMALS - sz_decimals, Decimal(1) / max_lev, Decimal(1) / (2 * max_lev),
        TAKER_FEE, "crypto", Decimal(ref), maker_fee=MAKER_FEE, min_notional=MIN_NOTIONAL, price_sig_figs=5,
    )


#: BTC is asset 0, as on mainnet; szDecimals and max leverage as Hyperliquid lists them
HL_MARKETS: tuple[Market, ...] = (
    _m("BTC", 5, 40, "97000"),
    _m("ETH", 4, 25, "3500"),
    _m("SOL", 2, 20, "180"),
    _m("HYPE", 2, 10, "25"),
    _m("DOGE", 0, 10, "0.32"),
    _m("XRP", 0, 20, "2.3"),
    _m("AVAX", 2, 10, "35"),
    _m("kPEPE", 0, 10, "0.012"),
)


def meta_json(markets: dict[str, Market]) -> dict[str, Any]:
    """``meta``: the universe in asset-id order, its margin tables, USDC collateral."""
    universe = [
        {"name": m.symbol, "szDecimals": m.size_decimals, "maxLeverage": m.max_leverage, "marginTableId": m.max_leverage}
        for m in markets.values()
    ]
    tables = sorted({m.max_leverage for m in markets.values()})
    margin_tables = [
        [lev, {"description": "", "marginTiers": [{"lowerBound": "0.0", "maxLeverage": lev}]}] for lev in tables
    ]
    return {"universe": universe, "marginTables": margin_tables, "collateralToken": 0}
