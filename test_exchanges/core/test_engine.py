"""The simulator's pure arithmetic on worked examples: fills into positions, PnL, funding,
margin and liquidation prices."""
from __future__ import annotations

from decimal import Decimal as D

from mpdex.paper.engine import AccountState, apply_fill, view_account
from mpdex.paper.ledger import Position
from mpdex.paper.markets import Market

ETH = Market("ETH-PERP", "ETH", 3, 2, D("0.02"), D("0.01"), D("0.0001"), "crypto", D("3500.00"))


def test_partial_close_realizes_pnl_and_keeps_entry() -> None:
    pos = Position("ETH-PERP", D("0.5"), D("3475.10"), D("0"))
    out = apply_fill(pos, "ETH-PERP", False, D("0.2"), D("3500.00"), D("0.0001"), D("0"))
    assert out.realized == D("4.980000")  # (3500.00 - 3475.10) * 0.2
    assert out.fee == D("0.070000")  # 0.2 * 3500 * 0.0001
    assert out.balance_delta == D("4.910000")
    assert (out.position.size, out.position.entry_price) == (D("0.3"), D("3475.10"))


def test_adding_averages_the_entry_and_flipping_reopens_at_the_fill() -> None:
    pos = Position("ETH-PERP", D("0.5"), D("3475.10"), D("0"))
    added = apply_fill(pos, "ETH-PERP", True, D("0.5"), D("3500.00"), D("0"), D("0"))
    assert added.position.entry_price == D("3487.55") and added.realized == 0
    flipped = apply_fill(pos, "ETH-PERP", False, D("0.8"), D("3500.00"), D("0"), D("0"))
    assert flipped.realized == D("12.450000")  # 24.90 * 0.5
    assert (flipped.position.size, flipped.position.entry_price) == (D("-0.3"), D("3500.00"))


def test_funding_settles_on_the_next_fill() -> None:
    long = Position("ETH-PERP", D("2"), D("3000"), D("100"))
    out = apply_fill(long, "ETH-PERP", False, D("1"), D("3000"), D("0"), D("101.5"))
    assert out.funding == D("-3.000000")  # longs pay a positive rate: -(101.5 - 100) * 2
    assert out.position.entry_funding == D("101.5") and out.position.settled_funding == D("-3.000000")
    short = Position("ETH-PERP", D("-2"), D("3000"), D("100"))
    assert apply_fill(short, "ETH-PERP", True, D("1"), D("3000"), D("0"), D("101.5")).funding == D("3.000000")


def test_account_view_margin_and_liquidation_price() -> None:
    state = AccountState(D("1000"), {"ETH-PERP": Position("ETH-PERP", D("1"), D("3000"), D("0"))},
                         {"ETH-PERP": 10})
    v = view_account(state, {"ETH-PERP": ETH}, {"ETH-PERP": D("3100")}, {"ETH-PERP": D("0")})
    assert (v.unrealized_pnl, v.account_value) == (D("100.000000"), D("1100.000000"))
    assert (v.init_margin, v.maint_margin) == (D("310.000000"), D("31.000000"))
    assert v.withdrawable == D("690.000000")  # unrealized profit is not withdrawable
    liq = v.positions[0].liq_price
    # at the liquidation price the account value equals the maintenance margin
    assert abs((D("1000") + (liq - 3000)) - liq * ETH.maint_margin_ratio) < D("1e-9")
    assert round(liq, 2) == D("2020.20")
