"""The paper exchange's default market table (the shape of Vest's ``/exchangeInfo``).

Values for ``BTC-PERP``, ``ETH-PERP``, ``AAPL-USD-PERP`` and ``AUD-USD-PERP`` are the
ones in the exchangeInfo sample; the others follow the same pattern (crypto ``{COIN}-PERP``,
equities/indices/FX ``{TICKER}-USD-PERP`` displayed as ``{TICKER}-PERP``). Reference
prices only seed the random walk.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from mpdex.precision import step_of

__all__ = ["Market", "DEFAULT_MARKETS", "market_table"]


@dataclass(frozen=True)
class Market:
    symbol: str
    display_name: str
    base: str
    size_decimals: int
    price_decimals: int
    init_margin_ratio: Decimal
    maint_margin_ratio: Decimal
    taker_fee: Decimal
    asset: str  # "crypto" | "stock" | "forex": drives volatility and book depth
    ref_price: Decimal

    @property
    def size_step(self) -> Decimal:
        return step_of(self.size_decimals)

    @property
    def tick(self) -> Decimal:
        return step_of(self.price_decimals)

    @property
    def max_leverage(self) -> int:
        return int((Decimal(1) / self.init_margin_ratio).to_integral_value(rounding=ROUND_FLOOR))

    def info(self) -> dict[str, object]:
        """The market's ``/exchangeInfo`` entry, exactly the documented fields."""
        return {
            "symbol": self.symbol,
            "displayName": self.display_name,
            "base": self.base,
            "quote": "USDC",
            "sizeDecimals": self.size_decimals,
            "priceDecimals": self.price_decimals,
            "initMarginRatio": f"{self.init_margin_ratio:.6f}",
            "maintMarginRatio": f"{self.maint_margin_ratio:.6f}",
            "takerFee": f"{self.taker_fee:.6f}",
            "isolated": False,
        }


def _m(symbol: str, sd: int, pd: int, imr: str, mmr: str, fee: str, asset: str, ref: str) -> Market:
    base = symbol.split("-")[0]
    display = symbol if asset == "crypto" else f"{base}-PERP"
    return Market(symbol, display, base, sd, pd, Decimal(imr), Decimal(mmr), Decimal(fee), asset, Decimal(ref))


DEFAULT_MARKETS: tuple[Market, ...] = (
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


def market_table(markets: tuple[Market, ...] | list[Market] | None = None) -> dict[str, Market]:
    """``{symbol: Market}`` in listing order."""
    return {m.symbol: m for m in (markets if markets is not None else DEFAULT_MARKETS)}
