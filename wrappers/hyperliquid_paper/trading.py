"""Hyperliquid's trading actions on the paper server — ``order``, ``cancel``,
``cancelByCloid``, ``updateLeverage``, ``scheduleCancel`` — from an admitted, signed request
to the simulator and back to the server's answer.

``order`` (hyperliquid-api.md §3.2, §4.5, §7.4): static checks run over the whole batch
first, each a per-order ``{"error"}`` with no order recorded: the asset id (an index in
``meta.universe``), trigger orders (not modelled), the size (``Order has invalid size.``: zero,
more than ``szDecimals`` decimals or beyond the server's fixed-point range) and the price
(``Order has invalid price.``: zero, more than ``6 − szDecimals`` decimals or out of range).
Then each order runs in its own ledger transaction and gets an oid (a counter in the
ledger); these refusals are recorded as REJECTED orders (queryable by oid or cloid, as the
real ``…Rejected`` statuses are): more than 5 significant figures (``Price must be divisible
by tick size. asset=N`` / ``tickRejected``), more than 80 % from the oracle price (``Order
price cannot be more than 80% away from the reference price`` / ``oracleRejected``), and the
simulator's: halted, reduce-only on the wrong side (``reduceOnlyRejected``), ALO that would
cross (``badAloPxRejected``; ``bbo was <best bid>@<best ask>``), IOC that found nothing
(``iocCancelRejected``), below $10 unless it closes the whole position or is a reduce-only
order larger than it (``minTradeNtlRejected``), margin (``perpMarginRejected``). A
reduce-only order larger than the position is shrunk to it. An order still on the book
answers ``resting {oid}``, one that ended at once ``filled {totalSz, avgPx, oid}`` (an IOC
that took only part: ``totalSz`` below its size, the rest cancelled); both carry ``cloid``
when the order had one. A batch with ``grouping`` other than ``na`` gets one error for the
whole batch; an empty one ``Orders are empty.``; any ``builder`` is refused as the server
refuses an unapproved one (approvals are not modelled).

``updateLeverage``: cross only (the simulator has no isolated margin): ``isCross: false`` is
refused with ``Isolated margin is not allowed for this asset.``; 1..``maxLeverage``.
``scheduleCancel`` needs $1 000 000 traded (the server's rule and string); a set switch
cancels every open order of the account at its time (status ``scheduledCancel``).
"""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from mpdex.paper.ledger import Account, Order
from mpdex.paper.markets import Market
from mpdex.paper.rules import OrderRequest, Reason, Refused, TimeInForce
from mpdex.paper.simulator import Simulator
from mpdex.precision import decimals_of

from . import errors as E
from .auth import Charge
from .errors import ORDER_REFUSALS, ActionError
from .store import HlStore
from .wire import num, plain, usd2

__all__ = ["HlTrading", "DEFAULT", "PRICE_BAND", "SCHEDULE_VOLUME_USDC", "SCHEDULE_LEAD_MS"]

DEFAULT: dict[str, Any] = {"status": "ok", "response": {"type": "default"}}
#: an order's price may be at most this far from the oracle price, as a fraction of it
PRICE_BAND = Decimal("0.8")
SCHEDULE_VOLUME_USDC = Decimal(1_000_000)
SCHEDULE_LEAD_MS = 5_000
#: ``p`` and ``s`` are fixed-point u64 with 8 decimals on the server: at most this value
_MAX_WIRE_VALUE = Decimal((1 << 64) - 1).scaleb(-8)
_TIFS = {"Gtc": TimeInForce.GTC, "Ioc": TimeInForce.IOC, "Alo": TimeInForce.ALO, "FrontendMarket": TimeInForce.IOC}


def _statuses(kind: str, statuses: list[Any]) -> dict[str, Any]:
    return {"status": "ok", "response": {"type": kind, "data": {"statuses": statuses}}}


class HlTrading:
    def __init__(self, sim: Simulator, store: HlStore, changed: Callable[[int, str], None]) -> None:
        self.sim = sim
        self.store = store
        self.assets = list(sim.markets.values())
        self._changed = changed  # (account id, coin): leverage moved

    def market_at(self, asset: int) -> Market | None:
        return self.assets[asset] if 0 <= asset < len(self.assets) else None

    def _next_oid(self) -> str:
        with self.sim.ledger.transaction():
            return str(self.sim.ledger.next_sequence("oid"))

    # --- orders ---------------------------------------------------------------------------

    def order(self, account: Account, action: dict[str, Any], charge: Charge) -> tuple[dict[str, Any], int]:
        """The answer to an ``order`` action and how many orders it booked."""
        wires: list[dict[str, Any]] = action["orders"]
        if not wires:
            return _statuses("order", [{"error": E.EMPTY_BATCH}]), 0
        if action["grouping"] != "na":
            return _statuses("order", [{"error": E.TPSL_GROUPING}]), 0
        if "builder" in action:
            raise ActionError(E.BUILDER)
        statuses: list[Any] = [self._static(w) for w in wires]
        booked = 0
        for i, w in enumerate(wires):
            if statuses[i] is None:
                statuses[i] = self._place(account, w, charge)
                booked += "error" not in statuses[i]
        return _statuses("order", statuses), booked

    def _static(self, w: dict[str, Any]) -> dict[str, str] | None:
        m = self.market_at(w["a"])
        if m is None:
            return {"error": E.INVALID_ASSET}
        if "trigger" in w["t"]:
            return {"error": E.TRIGGER}
        size, price = Decimal(w["s"]), Decimal(w["p"])
        if size == 0 or size > _MAX_WIRE_VALUE or decimals_of(w["s"]) > m.size_decimals:
            return {"error": E.INVALID_SIZE}
        if price == 0 or price > _MAX_WIRE_VALUE or decimals_of(w["p"]) > m.price_decimals:
            return {"error": E.INVALID_PRICE}
        return None

    def _place(self, account: Account, w: dict[str, Any], charge: Charge) -> dict[str, Any]:
        asset = w["a"]
        m = self.assets[asset]
        tif = w["t"]["limit"]["tif"]
        req = OrderRequest(
            account_id=account.id, symbol=m.symbol, is_buy=w["b"], size_text=w["s"], price_text=w["p"], kind="limit",
            tif=_TIFS[tif], reduce_only=w["r"], order_type=tif, client_id=w.get("c"),
        )
        oid = self._next_oid()
        price = req.limit_price
        if not m.is_valid_price(price):
            self.sim.record_rejected(req, oid, E.TICK_REJECTED, writes=charge)
            return {"error": E.TICK.format(asset=asset)}
        oracle = self.sim.prices.states[m.symbol].index
        if abs(price - oracle) > oracle * PRICE_BAND:
            self.sim.record_rejected(req, oid, E.ORACLE_REJECTED, writes=charge)
            return {"error": E.PRICE_BAND}
        try:
            placed = self.sim.place(req, oid, writes=charge)
        except Refused as exc:
            text, _ = ORDER_REFUSALS.get(exc.reason, (exc.message, "rejected"))
            self.sim.record_rejected(req, oid, exc.reason, writes=charge)
            return {"error": text.format(asset=asset, bbo=self._bbo(m.symbol))}
        return self._accepted(placed)

    def _bbo(self, symbol: str) -> str:
        bid, ask = self.sim.prices.best(symbol, False), self.sim.prices.best(symbol, True)
        return f"{'None' if bid is None else plain(bid)}@{'None' if ask is None else plain(ask)}"

    @staticmethod
    def _accepted(o: Order) -> dict[str, Any]:
        body: dict[str, Any]
        if o.is_open:
            body = {"oid": int(o.id)}
            kind = "resting"
        else:
            body = {"totalSz": num(o.filled), "avgPx": num(o.avg_price or Decimal(0), 8), "oid": int(o.id)}
            kind = "filled"
        if o.client_id is not None:
            body["cloid"] = o.client_id
        return {kind: body}

    # --- cancels ----------------------------------------------------------------------------

    def _cancel_one(self, account: Account, asset: int, o: Order | None, charge: Charge) -> Any:
        m = self.market_at(asset)
        if m is None or o is None or o.account_id != account.id or o.symbol != m.symbol or not o.is_open:
            return {"error": E.CANCEL_MISS.format(asset=asset)}
        try:
            self.sim.cancel(account.id, o.id, writes=charge)
        except Refused:
            return {"error": E.CANCEL_MISS.format(asset=asset)}
        return "success"

    def cancel(self, account: Account, action: dict[str, Any], charge: Charge) -> dict[str, Any]:
        statuses = [self._cancel_one(account, c["a"], self.sim.ledger.order(str(c["o"])), charge)
                    for c in action["cancels"]]
        return _statuses("cancel", statuses)

    def cancel_by_cloid(self, account: Account, action: dict[str, Any], charge: Charge) -> dict[str, Any]:
        statuses = []
        for c in action["cancels"]:
            m = self.market_at(c["asset"])
            found = [] if m is None else [
                o for o in self.sim.ledger.find_orders(account.id, client_id=c["cloid"], symbol=m.symbol) if o.is_open
            ]
            statuses.append(self._cancel_one(account, c["asset"], found[0] if found else None, charge))
        return _statuses("cancel", statuses)

    # --- leverage, dead-man switch ----------------------------------------------------------

    def update_leverage(self, account: Account, action: dict[str, Any], charge: Charge) -> dict[str, Any]:
        m = self.market_at(action["asset"])
        if m is None:
            raise ActionError(E.ASSET_UNKNOWN)
        if not action["isCross"]:
            raise ActionError(E.NO_ISOLATED)
        try:
            self.sim.set_leverage(account.id, m.symbol, action["leverage"], writes=charge)
        except Refused as exc:
            raise ActionError(E.LEVERAGE_MARGIN if exc.reason is Reason.LEVERAGE_DECREASE_MARGIN
                              else E.INVALID_LEVERAGE) from None
        self._changed(account.id, m.symbol)
        return DEFAULT

    def schedule_cancel(self, account: Account, action: dict[str, Any], charge: Charge) -> dict[str, Any]:
        traded = self.store.volume(account.id)
        if traded < SCHEDULE_VOLUME_USDC:
            raise ActionError(E.SCHEDULE_VOLUME.format(traded=usd2(traded)))
        when = action.get("time")
        if when is not None and when < self.sim.clock_ms() + SCHEDULE_LEAD_MS:
            raise ActionError(E.SCHEDULE_TOO_EARLY)
        with self.sim.ledger.transaction():
            charge()
            self.store.set_schedule(account.id, when)
        return DEFAULT

    def fire_schedules(self) -> int:
        """Cancel the open orders of every account whose switch is due; returns how many."""
        n = 0
        for account_id, _ in self.store.due_schedules(self.sim.clock_ms()):
            for o in self.sim.ledger.open_orders(account_id):
                self.sim.cancel(account_id, o.id, reason=E.SCHEDULED_CANCEL)
                n += 1
            with self.sim.ledger.transaction():
                self.store.set_schedule(account_id, None)
        return n
