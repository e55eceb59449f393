"""The Vest paper venue's market table and its ``/exchangeInfo`` entries.

Values for ``BTC-PERP``, ``ETH-PERP``, ``AAPL-USD-PERP`` and ``AUD-USD-PERP`` are the ones in
the exchangeInfo sample; the others follow the same pattern (crypto ``{COIN}-PERP``,
equities/indices/FX ``{TICKER}-USD-PERP`` displayed as ``{TICKER}-PERP``). Vest lists only a
``takerFee``, and every fill pays it (also resting limit fills, as in the filled-order
sample), so these markets have no separate maker fee. Reference prices only seed the walk.
"""
from __future__ import annotations

from decimal import Decimal

from mpdex.paper.markets import Market

__all__ = ["VEST_MARKETS", "exchange_info_entry", "display_name"]


def _m(symbol: str, sd: int, pd: int, imr: str, mmr: str, fee: str, asset: str, ref: str) -> Market:
    return Market(symbol, symbol.split("-")[0], sd, pd, Decimal(imr), Decimal(mmr), Decimal(fee), asset, Decimal(ref))


VEST_MARKETS: tuple[Market, ...] = (
    _m("BTC-PERP", 4, 1, "0.02", "0.01", "0.0001", "crypto", "97000.0"),
    _m("ETH-PERP", 3, 2, "0.02", "0.01", "0.0001", "crypto", "3500.00"),
    _m("SOL-PERP", 2, 3, "0.05", "0.025", "0.0001", "crypto", "180.000"),
    _m("DOGE-PERP", 0, 5, "0.1", "0.05", "0.0001", "crypto", "0.32000"),
    _m("kBONK-PERP", 0, 6, "0.1", "0.05", "0.0001", "crypto", "0.025000"),
    _m("AAPL-USD-PERP", 2, 2, "0.1", "0.05", "0.00025", "stock", "251.30"),
    _m("TSLA-USD-PERP", 2, 2, "0.1", "0.05", "0.00025", "stock", "420.00"),
    _m("NVDA-USD-PERP", 2, 2, "0.1", "0.05", "0.00025", "stock", "180.00"),
    _m("SPX-USD-PERP", 3, 2, "0.05", "0.025", "0.00005", "stock", "6000.00"),
    _m("AUD-USD-PERP", 0, 5, "0.02", "0.01", "0.00005", "forex", "0.65000"),
    _m("EUR-USD-PERP", 0, 5, "0.02", "0.01", "0.00005", "forex", "1.08000"),
)


def display_name(m: Market) -> str:
    """Crypto markets show their symbol; the others ``{TICKER}-PERP``."""
    return m.symbol if m.asset == "crypto" else f"{m.base}-PERP"


def exchange_info_entry(m: Market) -> dict[str, object]:
    """The market's ``/exchangeInfo`` entry, exactly the documented fields."""
    return {
        "symbol": m.symbol,
        "displayName": display_name(m),
        "base": m.base,
        "quote": "USDC",
        "sizeDecimals": m.size_decimals,
        "priceDecimals": m.price_decimals,
        "initMarginRatio": f"{m.init_margin_ratio:.6f}",
        "maintMarginRatio": f"{m.maint_margin_ratio:.6f}",
        "takerFee": f"{m.taker_fee:.6f}",
        "isolated": False,
    }
