"""A market as the simulator sees it: sizes, the price grid, margin ratios, fees, a minimum
order value and the reference price that seeds the walk. No venue's wire names.

The price grid is ``10 ** -price_decimals``, optionally narrowed by a significant-figure
rule (``price_sig_figs``: Hyperliquid's "at most 5 significant figures, integers always
allowed"), so the grid step depends on the price: ``price_step(px)``. The book, the walk
and ``set_price`` put every price on that grid. A dialect keeps its own table of markets
(with its symbols and listing fields) and passes it to the venue.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from mpdex.precision import step_of

__all__ = ["Market", "market_table"]

_ONE = Decimal(1)


@dataclass(frozen=True)
class Market:
    symbol: str  # the venue's native name (what its wire uses)
    base: str
    size_decimals: int
    price_decimals: int  # most decimals a price may have
    init_margin_ratio: Decimal  # 1 / max leverage
    maint_margin_ratio: Decimal
    taker_fee: Decimal
    asset: str  # "crypto" | "stock" | "forex": drives volatility, book depth and base funding
    ref_price: Decimal  # seeds the walk on a fresh ledger
    maker_fee: Decimal | None = None  # resting fills; None: they pay the taker fee too
    min_notional: Decimal = Decimal(0)  # size x limit price an order must reach (0: none)
    price_sig_figs: int | None = None  # None: only the decimals rule

    @property
    def size_step(self) -> Decimal:
        return step_of(self.size_decimals)

    @property
    def tick(self) -> Decimal:
        """The finest price step (the decimals rule alone)."""
        return step_of(self.price_decimals)

    @property
    def max_leverage(self) -> int:
        return int((_ONE / self.init_margin_ratio).to_integral_value(rounding=ROUND_FLOOR))

    @property
    def resting_fee(self) -> Decimal:
        return self.taker_fee if self.maker_fee is None else self.maker_fee

    def price_step(self, price: Decimal) -> Decimal:
        """The grid step at ``price``: the tick, or coarser where the significant-figure
        rule allows fewer decimals (never coarser than 1: integer prices are valid)."""
        if self.price_sig_figs is None or price <= 0:
            return self.tick
        sig_step = _ONE.scaleb(price.adjusted() - self.price_sig_figs + 1)
        return max(self.tick, min(sig_step, _ONE))

    def is_valid_price(self, price: Decimal) -> bool:
        """``price`` is positive and on the grid."""
        return price > 0 and price % self.price_step(price) == 0


def market_table(markets: tuple[Market, ...] | list[Market]) -> dict[str, Market]:
    """``{symbol: Market}`` in listing order; duplicate symbols are refused."""
    table = {m.symbol: m for m in markets}
    if len(table) != len(markets):
        raise ValueError("market symbols must be unique")
    return table
