"""Pure trading arithmetic: fills into positions, PnL, funding, margin and liquidation
prices. ``Decimal`` only; no I/O, no clock.

Conventions:

* A position is one signed size per symbol (one-way mode), with an average entry price
  and the market's cumulative-funding index at its last settlement (``entry_funding``).
* Funding accrues in the market's index (``cum_funding += rate × price`` per event); a long
  pays ``(cum − entry_funding) × size`` when the rate is positive. Accrued funding is part
  of the unrealized PnL until it is settled into the balance (on the position's next fill,
  or at each event: the simulator's ``Rules.funding_settlement``).
* Every fill pays ``fee_rate × notional`` (the caller picks the taker or the resting rate).
  Money (USDC) is rounded to 6 decimals half up; entry prices keep 12 decimals.
* Initial margin = notional at mark / leverage; maintenance = notional × maintMarginRatio;
  resting orders that are not reduce-only reserve remaining × limitPrice / leverage.
* The liquidation price is computed (cross margin, other positions held still); no
  liquidation is ever run.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal

from .ledger import Position
from .markets import Market

__all__ = [
    "FillOutcome", "apply_fill", "RestingMargin", "AccountState", "AccountView", "PositionView", "view_account",
    "margin_allows", "money", "MONEY_Q",
]

ZERO = Decimal(0)
MONEY_Q = Decimal("0.000001")
_PX_Q = Decimal("1e-12")


def money(value: Decimal) -> Decimal:
    """Round to USDC's 6 decimals, half up (the fee in Vest's filled-order sample)."""
    return value.quantize(MONEY_Q, rounding=ROUND_HALF_UP)


def _sign(x: Decimal) -> int:
    return (x > 0) - (x < 0)


@dataclass
class FillOutcome:
    position: Position  # the new position (size 0 when flat)
    realized: Decimal  # price PnL of the part that was closed, rounded to 6 dp
    funding: Decimal  # accrued funding settled into the balance (+ received, − paid)
    fee: Decimal

    @property
    def balance_delta(self) -> Decimal:
        return self.realized + self.funding - self.fee


def apply_fill(
    pos: Position | None,
    symbol: str,
    is_buy: bool,
    qty: Decimal,
    price: Decimal,
    fee_rate: Decimal,
    cum_funding: Decimal,
) -> FillOutcome:
    """Book one fill of ``qty`` at ``price`` against ``pos``.

    Worked example: long 0.5 ETH @ 3475.10, sell 0.2 @ 3500.00 with fee 0.0001 →
    realized = (3500.00 − 3475.10) × 0.2 = 4.98, fee = 0.07, position long 0.3 @ 3475.10.
    """
    old = pos.size if pos else ZERO
    entry = pos.entry_price if pos else ZERO
    funding = money(-(cum_funding - pos.entry_funding) * old) if pos else ZERO
    settled = (pos.settled_funding if pos else ZERO) + funding
    signed = qty if is_buy else -qty
    new = old + signed
    realized = ZERO
    if old == 0 or _sign(old) == _sign(signed):
        entry = ((abs(old) * entry + qty * price) / abs(new)).quantize(_PX_Q)
    else:
        closed = min(abs(old), qty)
        realized = money((price - entry) * closed * _sign(old))
        if new == 0:
            entry, settled = ZERO, ZERO
        elif _sign(new) != _sign(old):  # flipped: the remainder opens at the fill price
            entry, settled = price, ZERO
    fee = money(qty * price * fee_rate)
    return FillOutcome(Position(symbol, new, entry, cum_funding, settled), realized, funding, fee)


@dataclass(frozen=True)
class RestingMargin:
    """What a resting order reserves: only orders that may add exposure count."""

    symbol: str
    remaining: Decimal
    price: Decimal
    reduce_only: bool
    order_id: str | None = None


@dataclass
class AccountState:
    """Everything margin depends on, copied out of the ledger so it can be simulated."""

    balance: Decimal
    positions: dict[str, Position]
    leverages: dict[str, int]
    orders: list[RestingMargin] = field(default_factory=list)

    def copy(self) -> AccountState:
        return AccountState(
            self.balance,
            {s: replace(p) for s, p in self.positions.items()},
            dict(self.leverages),
            list(self.orders),
        )


@dataclass
class PositionView:
    position: Position
    market: Market
    mark: Decimal
    leverage: int
    price_pnl: Decimal
    accrued_funding: Decimal
    init_margin: Decimal
    maint_margin: Decimal
    liq_price: Decimal = ZERO

    @property
    def unrealized_pnl(self) -> Decimal:
        return self.price_pnl + self.accrued_funding


@dataclass
class AccountView:
    balance: Decimal
    unrealized_pnl: Decimal
    account_value: Decimal
    init_margin: Decimal
    maint_margin: Decimal
    open_order_margin: Decimal
    withdrawable: Decimal
    positions: list[PositionView]

    @property
    def margin_used(self) -> Decimal:
        return self.init_margin + self.open_order_margin


def view_account(
    state: AccountState,
    markets: dict[str, Market],
    marks: dict[str, Decimal],
    cum_funding: dict[str, Decimal],
) -> AccountView:
    views: list[PositionView] = []
    for symbol, p in sorted(state.positions.items()):
        if p.size == 0:
            continue
        m = markets[symbol]
        mark = marks[symbol]
        lev = state.leverages[symbol]
        notional = abs(p.size) * mark
        views.append(
            PositionView(
                p, m, mark, lev,
                price_pnl=money((mark - p.entry_price) * p.size),
                accrued_funding=money(-(cum_funding[symbol] - p.entry_funding) * p.size),
                init_margin=money(notional / lev),
                maint_margin=money(notional * m.maint_margin_ratio),
            )
        )
    upnl = sum((v.unrealized_pnl for v in views), ZERO)
    value = state.balance + upnl
    init = sum((v.init_margin for v in views), ZERO)
    maint = sum((v.maint_margin for v in views), ZERO)
    reserved = sum(
        (money(o.remaining * o.price / state.leverages[o.symbol]) for o in state.orders if not o.reduce_only),
        ZERO,
    )
    for v in views:
        v.liq_price = _liq_price(v, value, maint)
    withdrawable = max(ZERO, min(state.balance, value) - init - reserved)
    return AccountView(state.balance, upnl, value, init, maint, reserved, withdrawable, views)


def _liq_price(v: PositionView, account_value: Decimal, total_maint: Decimal) -> Decimal:
    """Mark at which account value falls to the maintenance requirement, other
    positions held still: solve ``E + (p − m)·s = M_o + |s|·p·mmr`` for ``p``."""
    s = v.position.size
    other_maint = total_maint - v.maint_margin
    denominator = s - abs(s) * v.market.maint_margin_ratio
    if denominator == 0:
        return ZERO
    p = (other_maint - account_value + v.mark * s) / denominator
    return max(p, ZERO)


def margin_allows(before: AccountView, after: AccountView) -> bool:
    """An order is allowed when it does not add margin requirement, or when the
    account value after it still covers initial margin plus reserved order margin."""
    if after.margin_used <= before.margin_used:
        return True
    return after.account_value >= after.margin_used
