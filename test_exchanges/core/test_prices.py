"""The price model's rounding is exact: prices and sizes go on their grid with
``round_to_step`` (exact divmod), never through ``value / step``, which rounds to the
Decimal context's 28 digits first and can land on the wrong side of a step boundary."""
from __future__ import annotations

from decimal import Decimal as D

from mpdex.paper.markets import Market, market_table
from mpdex.paper.prices import PriceModel, _q

NOW = 1_700_000_000_000
BTC = Market("BTC-PERP", "BTC", 4, 1, D("0.02"), D("0.01"), D("0.0001"), "crypto", D("97000.0"))


def test_set_price_rounds_to_the_nearest_tick_exactly() -> None:
    model = PriceModel(market_table([BTC]), 1, NOW, None, 0)
    # 97000.14999…9 (31 significant digits): nearest tick is 97000.1. Dividing by 0.1 first
    # rounds 970001.4999…9 to 970001.5000… (28 digits), which then rounds up to 97000.2.
    model.set_price("BTC-PERP", D("97000.1499999999999999999999999"), NOW)
    assert model.states["BTC-PERP"].mark == D("97000.1")
    assert model.states["BTC-PERP"].index == D("97000.1")
    model.set_price("BTC-PERP", D("97000.15"), NOW)  # an exact half goes up
    assert model.states["BTC-PERP"].mark == D("97000.2")


def test_directed_rounding_holds_beyond_28_digits() -> None:
    assert _q(D("0.0099999999999999999999999999999"), D("0.01"), "down") == 0
    assert _q(D("1.00000000000000000000000000001"), D("1"), "up") == 2
    assert _q(D("-0.0099999999999999999999999999999"), D("0.01"), "up") == 0
    assert _q(D("2.5"), D("1")) == 3 and _q(D("-2.5"), D("1")) == -3  # nearest: half away from zero
