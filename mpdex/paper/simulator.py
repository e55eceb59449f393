"""The venue-neutral exchange simulator: accounts, leverage, order placement against the
synthetic book, cancels, resting-order matching, ticks and funding — over the ledger, the
price model and the pure arithmetic of ``engine.py``.

A dialect validates its wire request, turns it into an ``OrderRequest`` and calls
``place`` / ``cancel`` / ``set_leverage``; a ``Refused`` (a neutral ``Reason``) comes back
for every synchronous refusal, raised before anything is stored. The dialect's own writes
for the same request (a nonce, say) go in the ``writes`` callback, run inside the order's
transaction, so they commit or roll back with it. After each commit the simulator tells the
dialect's ``Listener`` what changed (orders, fills, trades, marks, funding); it never
formats anything for a wire.

All methods are synchronous and run on the event-loop thread between ``await`` points,
so when a route returns, its order is already NEW / FILLED / CANCELLED in the ledger.

Matching rules (the same for every venue unless ``Rules`` says otherwise):

* A taker (market, IOC, FOK or the crossing part of a GTC limit) takes the book level by
  level at book prices, never beyond its limit price. The rest of a GTC/ALO limit rests and
  later fills at its limit price when the book crosses it (up to the size shown there, so
  large orders go through PARTIALLY_FILLED). Taker fills pay ``taker_fee``, resting fills
  ``Market.resting_fee``.
* The synthetic book is not moved by paper orders resting in it (taking depletes it until
  the mark moves), and paper accounts never trade with each other.
* An order is allowed if it does not raise the margin requirement or the account value
  still covers it (``engine.margin_allows``); resting orders that may add exposure reserve
  remaining × limit price / leverage.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from decimal import Context, Decimal, DivisionByZero, InvalidOperation, Overflow, localcontext

from mpdex.redact import short_address

from .engine import AccountState, AccountView, RestingMargin, apply_fill, margin_allows, money, view_account
from .ledger import Account, Fill, FundingPayment, Ledger, Order
from .markets import Market
from .prices import PriceModel, Trade
from .rules import OrderRequest, Reason, Refused, Rules, TimeInForce

__all__ = ["Simulator", "Listener", "MAX_AMOUNT", "CHECK_CONTEXT"]

log = logging.getLogger("mpdex.paper")

ZERO = Decimal(0)
_Q12 = Decimal("1e-12")

#: the margin checks of a new order run with 80 significant digits, so an absurd size or price
#: (a dialect bounds them, Vest to 24 integer digits) gets the refusal an exact check gives
#: (``INSUFFICIENT_MARGIN``) instead of overflowing the 28-digit default; what passes the
#: check is bounded by the account's collateral and books in the default context
#: deposits and prices set by hand stay below this, so balances and marks keep exact 28-digit money
MAX_AMOUNT = Decimal(10) ** 15
CHECK_CONTEXT = Context(prec=80, traps=[InvalidOperation, DivisionByZero, Overflow])


def _reason_text(reason: Reason | str) -> str:
    return reason.value if isinstance(reason, Reason) else reason


class Listener:
    """What a dialect hears after each committed change. Every method is a no-op here;
    a dialect overrides the ones it publishes (e.g. on its sockets). Called synchronously,
    after the ledger transaction committed; ``Order`` objects are snapshots."""

    def order_updated(self, order: Order) -> None:
        """A new order (first as NEW), or one whose status, fills or size changed."""

    def filled(self, order: Order, fills: Sequence[Fill]) -> None:
        """Executions of ``order`` (already in the ledger's ``fills``)."""

    def traded(self, symbol: str, trade: Trade) -> None:
        """A public trade printed (paper fills and the model's synthetic trades)."""

    def market_moved(self, symbols: Sequence[str]) -> None:
        """Marks (and books) of ``symbols`` changed."""

    def funded(self, time_ms: int, rates: Mapping[str, Decimal], payments: Sequence[FundingPayment]) -> None:
        """A funding event; ``payments`` only under ``funding_settlement="each_event"``."""


class Simulator:
    def __init__(
        self,
        ledger: Ledger,
        markets: dict[str, Market],
        prices: PriceModel,
        clock_ms: Callable[[], int],
        *,
        rules: Rules | None = None,
        listener: Listener | None = None,
        stats: dict[str, int] | None = None,
    ) -> None:
        self.ledger = ledger
        self.markets = markets
        self.prices = prices
        self.clock_ms = clock_ms
        self.rules = rules or Rules()
        self.listener = listener or Listener()
        self.stats = stats if stats is not None else {}
        self.replay_time: int | None = None

    def now(self) -> int:
        """The simulator's time: the wall clock, or ``replay_time`` while a replay
        (``replay.py``) sets it to the moment it is at."""
        return self.clock_ms() if self.replay_time is None else self.replay_time

    def count(self, name: str, n: int = 1) -> None:
        self.stats[name] = self.stats.get(name, 0) + n

    # --- accounts ----------------------------------------------------------------------

    def open_account(self, address: str) -> tuple[Account, bool]:
        """The account of ``address``, created (balance 0) if new; ``(account, created)``.
        Joins the caller's transaction when there is one."""
        with self.ledger.transaction():
            existing = self.ledger.account_by_address(address)
            if existing is not None:
                return existing, False
            return self.ledger.create_account(address, self.now()), True

    def deposit(self, account_id: int, amount: Decimal) -> Decimal:
        """Credit (or, negative, debit) ``amount`` USDC; returns the new balance.
        ``ValueError`` at or beyond ``MAX_AMOUNT`` (paper money, but exact money)."""
        if not abs(amount) < MAX_AMOUNT:
            raise ValueError(f"a deposit must be below {MAX_AMOUNT:,} USDC")
        with self.ledger.transaction():
            return self.ledger.add_balance(account_id, money(amount))

    def leverage_of(self, account_id: int, symbol: str) -> int:
        return self.ledger.leverage(account_id, symbol) or self._default_leverage(self.markets[symbol])

    def _default_leverage(self, m: Market) -> int:
        return min(self.rules.default_leverage, m.max_leverage)

    def state(self, account_id: int) -> AccountState:
        """Everything margin depends on, copied out of the ledger."""
        stored = self.ledger.leverages(account_id)
        levs = {s: stored.get(s) or self._default_leverage(m) for s, m in self.markets.items()}
        orders = [
            RestingMargin(o.symbol, o.remaining, Decimal(o.limit_price), o.reduce_only, o.id)
            for o in self.ledger.open_orders(account_id)
        ]
        positions = {p.symbol: p for p in self.ledger.positions(account_id)}
        return AccountState(self.ledger.account(account_id).balance, positions, levs, orders)

    def view(self, state: AccountState) -> AccountView:
        """Balances, PnL, margins and liquidation prices at the current marks."""
        st = self.prices.states
        return view_account(state, self.markets, {s: st[s].mark for s in st}, {s: st[s].cum_funding for s in st})

    def simulate(self, state: AccountState, symbol: str, is_buy: bool, fills: Sequence[tuple[Decimal, Decimal]],
                 fee_rate: Decimal | None = None) -> AccountState:
        """``state`` after ``fills`` (``(price, qty)``), not stored."""
        sim = state.copy()
        cum = self.prices.states[symbol].cum_funding
        rate = self.markets[symbol].taker_fee if fee_rate is None else fee_rate
        for px, qty in fills:
            out = apply_fill(sim.positions.get(symbol), symbol, is_buy, qty, px, rate, cum)
            sim.positions[symbol] = out.position
            sim.balance += out.balance_delta
        return sim

    def set_leverage(self, account_id: int, symbol: str, value: int, *, writes: Callable[[], None] | None = None) -> None:
        m = self.markets[symbol]
        if value < 1:
            raise Refused(Reason.LEVERAGE_INVALID, "leverage value must be at least 1")
        if value > m.max_leverage:
            raise Refused(Reason.LEVERAGE_ABOVE_MAX, f"leverage {value} is above {symbol}'s maximum of {m.max_leverage}")
        state = self.state(account_id)
        if state.positions.get(symbol) and value < state.leverages[symbol]:
            sim = state.copy()
            sim.leverages[symbol] = value
            with localcontext(CHECK_CONTEXT):
                after = self.view(sim)
                short = after.account_value < after.margin_used
            if short:
                raise Refused(Reason.LEVERAGE_DECREASE_MARGIN, "not enough margin to lower leverage with this position open")
        with self.ledger.transaction():
            if writes is not None:
                writes()
            self.ledger.set_leverage(account_id, symbol, value)

    # --- orders ------------------------------------------------------------------------

    def place(self, req: OrderRequest, order_id: str, *, writes: Callable[[], None] | None = None) -> Order:
        """Match and book one order; ``Refused`` (nothing stored) for every refusal.

        Checks in this order: market halted, reduce-only, post-only crossing, the taker
        sweep (fill-or-refuse market: whole size; IOC: something), FOK, minimum notional,
        margin. The returned order is NEW (resting), PARTIALLY_FILLED, FILLED or CANCELLED
        (FOK miss, IOC remainder).
        """
        now = self.now()
        symbol = req.symbol
        m = self.markets[symbol]
        st = self.prices.states[symbol]
        if st.status != "TRADING":
            raise Refused(Reason.MARKET_HALTED, f"{symbol} is not trading ({st.status})")
        pos = self.ledger.position(req.account_id, symbol)
        pos_size = pos.size if pos else ZERO
        size, limit = req.size, req.limit_price
        if req.reduce_only:
            size = self._reduce_only_size(pos_size, req.is_buy, size)
        market = req.kind == "market"
        ioc = req.tif is TimeInForce.IOC or (market and self.rules.market_orders == "ioc")
        if req.tif is TimeInForce.ALO:
            best = self.prices.best(symbol, req.is_buy)
            if best is not None and (best <= limit if req.is_buy else best >= limit):
                raise Refused(Reason.POST_ONLY_WOULD_CROSS, f"post-only order would take liquidity at {best}", best_price=best)
            fills: list[tuple[Decimal, Decimal]] = []
        else:
            fills = self.prices.sweep(symbol, req.is_buy, size, limit)
        taken = sum((q for _, q in fills), ZERO)
        if market and self.rules.market_orders == "fill_or_refuse" and taken < size:
            best = self.prices.best(symbol, req.is_buy)
            raise Refused(Reason.MARKET_UNFILLABLE, f"{size} {symbol} cannot fill within {limit} (best {best})", best_price=best)
        if ioc and taken == 0:
            raise Refused(Reason.IOC_NO_MATCH, "the order could not take any liquidity at once",
                          best_price=self.prices.best(symbol, req.is_buy))
        fok_miss = req.tif is TimeInForce.FOK and taken < size
        if fok_miss:
            fills, taken = [], ZERO
        if m.min_notional > 0 and size * limit < m.min_notional and not self._min_notional_exempt(pos_size, req, size):
            raise Refused(Reason.BELOW_MIN_NOTIONAL, f"order value {size * limit} is below {m.min_notional}")
        if not fok_miss:
            with localcontext(CHECK_CONTEXT):  # an absurd size or price is refused, not an overflow
                state = self.state(req.account_id)
                sim = self.simulate(state, symbol, req.is_buy, fills)
                if not market and not ioc and taken < size:
                    sim.orders.append(RestingMargin(symbol, size - taken, limit, req.reduce_only))
                allowed = margin_allows(self.view(state), self.view(sim))
            if not allowed:
                raise Refused(Reason.INSUFFICIENT_MARGIN, "not enough collateral for this order")

        lev = self.leverage_of(req.account_id, symbol)
        o = Order(
            id=order_id, account_id=req.account_id, client_id=req.client_id, symbol=symbol, is_buy=req.is_buy,
            order_type=req.order_type, limit_price=req.price_text, size=req.size_text, reduce_only=req.reduce_only,
            time_in_force=req.tif.value, status="NEW", mark_price=st.mark, init_margin_ratio=Decimal(1) / lev,
            post_time=now, status_time=now, shrunk=req.size - size,
        )
        snapshot = replace(o)
        touched: list[Order] = []
        with self.ledger.transaction():
            if writes is not None:
                writes()
            self.ledger.insert_order(o)
            booked = self._book(o, fills, now, taker=True) if fills else []
            ended = Reason.FOK_NOT_FILLED if fok_miss else Reason.IOC_REMAINDER if ioc and o.remaining > 0 else None
            if ended is not None:
                o.status, o.reason, o.status_time = "CANCELLED", ended.value, now
                self.ledger.update_order(o)
            if booked and self.rules.reduce_only == "shrink":
                touched = self._sync_reduce_only(o.account_id, symbol, now, skip=o.id)
        self.count("orders_accepted")
        if log.isEnabledFor(logging.INFO):
            log.info("paper: order %s %s %s %s @ %s (client id %s) -> %s",
                     short_address(self.ledger.account(o.account_id).address), symbol,
                     "buy" if req.is_buy else "sell", req.size_text, req.price_text, req.client_id, o.status)
        self._published(o, booked)
        self.listener.order_updated(snapshot)
        if o.status != "NEW" or o.shrunk:
            self.listener.order_updated(o)
        if booked:
            self.listener.filled(o, booked)
        for t in touched:
            self.listener.order_updated(t)
        return o

    def record_rejected(self, req: OrderRequest, order_id: str, reason: Reason | str, *,
                        writes: Callable[[], None] | None = None) -> Order:
        """Store ``req`` as a REJECTED order (for venues whose refused orders stay
        queryable by id); nothing is matched. ``reason`` is a ``Reason`` or a dialect's own
        label for a refusal the simulator does not make (e.g. a price off its tick grid)."""
        now = self.now()
        o = Order(
            id=order_id, account_id=req.account_id, client_id=req.client_id, symbol=req.symbol, is_buy=req.is_buy,
            order_type=req.order_type, limit_price=req.price_text, size=req.size_text, reduce_only=req.reduce_only,
            time_in_force=req.tif.value, status="REJECTED", reason=_reason_text(reason),
            mark_price=self.prices.states[req.symbol].mark,
            init_margin_ratio=Decimal(1) / self.leverage_of(req.account_id, req.symbol), post_time=now, status_time=now,
        )
        with self.ledger.transaction():
            if writes is not None:
                writes()
            self.ledger.insert_order(o)
        self.listener.order_updated(o)
        return o

    def _reduce_only_size(self, position: Decimal, is_buy: bool, size: Decimal) -> Decimal:
        if position == 0 or (position > 0) == is_buy:
            raise Refused(Reason.REDUCE_ONLY_INCREASES, "Reduce-only order would increase the position")
        if size > abs(position):
            if self.rules.reduce_only == "refuse":
                raise Refused(Reason.REDUCE_ONLY_EXCEEDS, f"Reduce-only order size {size} exceeds the position {abs(position)}")
            return abs(position)
        return size

    @staticmethod
    def _min_notional_exempt(position: Decimal, req: OrderRequest, size: Decimal) -> bool:
        """Closing the whole position, or a reduce-only order larger than it, is exempt."""
        closes = position != 0 and (position > 0) != req.is_buy
        return closes and (size == abs(position) or (req.reduce_only and req.size > abs(position)))

    def _book(self, o: Order, fills: Sequence[tuple[Decimal, Decimal]], now: int, *, taker: bool) -> list[Fill]:
        """Book fills of ``o`` (inside the caller's transaction)."""
        m = self.markets[o.symbol]
        cum = self.prices.states[o.symbol].cum_funding
        fee_rate = m.taker_fee if taker else m.resting_fee
        pos = self.ledger.position(o.account_id, o.symbol)
        notional = qty_total = ZERO
        records: list[Fill] = []
        for px, qty in fills:
            start = pos.size if pos else ZERO
            out = apply_fill(pos, o.symbol, o.is_buy, qty, px, fee_rate, cum)
            self.ledger.add_balance(o.account_id, out.balance_delta)
            pos = out.position
            o.fees += out.fee
            o.settled_funding = (o.settled_funding or ZERO) + out.funding
            o.realized_pnl = (o.realized_pnl or ZERO) + out.balance_delta
            notional += px * qty
            qty_total += qty
            record = Fill(o.id, o.account_id, o.symbol, o.is_buy, px, qty, out.fee, out.realized, out.funding,
                          start, taker, now)
            self.ledger.add_fill(record)
            records.append(record)
        assert pos is not None
        self.ledger.save_position(o.account_id, pos)
        before = o.filled
        o.filled += qty_total
        o.avg_price = (((o.avg_price or ZERO) * before + notional) / o.filled).quantize(_Q12)
        o.last_filled_size = qty_total
        o.last_filled_price = (notional / qty_total).quantize(_Q12)
        o.last_filled_time = now
        o.status_time = now
        o.status = "FILLED" if o.remaining == 0 else "PARTIALLY_FILLED"
        self.ledger.update_order(o)
        return records

    def _sync_reduce_only(self, account_id: int, symbol: str, now: int, skip: str | None = None) -> list[Order]:
        """``reduce_only="shrink"``: resting reduce-only orders never exceed the position
        and are cancelled once it is closed (inside the caller's transaction)."""
        pos = self.ledger.position(account_id, symbol)
        size = pos.size if pos else ZERO
        changed: list[Order] = []
        for r in self.ledger.open_orders(account_id, symbol):
            if not r.reduce_only or r.id == skip:
                continue
            if size == 0 or (size > 0) == r.is_buy:
                r.status, r.reason, r.status_time = "CANCELLED", Reason.REDUCE_ONLY_POSITION_GONE.value, now
            elif r.remaining > abs(size):
                r.shrunk += r.remaining - abs(size)
            else:
                continue
            self.ledger.update_order(r)
            changed.append(r)
        return changed

    def _published(self, o: Order, fills: Sequence[Fill]) -> None:
        """Public side of committed fills: deplete the book, print trades."""
        for f in fills:
            self.prices.consume(o.symbol, o.is_buy, f.qty)
            trade = self.prices.record_trade(o.symbol, f.price, f.qty if o.is_buy else -f.qty, f.time)
            self.listener.traded(o.symbol, trade)

    def cancel(self, account_id: int, order_id: str, *, writes: Callable[[], None] | None = None,
               reason: Reason | str | None = None) -> Order:
        """Cancel an open order of ``account_id``; ``Refused(ORDER_NOT_OPEN)`` for an
        unknown, foreign, filled or already cancelled one. ``reason`` (kept on the order)
        says why when its owner did not ask (e.g. a dialect's dead-man switch)."""
        o = self.ledger.order(order_id)
        if o is None or o.account_id != account_id or not o.is_open:
            raise Refused(Reason.ORDER_NOT_OPEN, f"Order not found or not open: {order_id}")
        with self.ledger.transaction():
            if writes is not None:
                writes()
            o.status, o.status_time = "CANCELLED", self.now()
            if reason is not None:
                o.reason = _reason_text(reason)
            self.ledger.update_order(o)
        self.count("cancels")
        self.listener.order_updated(o)
        return o

    def match_resting(self, symbol: str | None = None) -> int:
        """Fill resting orders the (new) book crosses, at their limit price; returns how
        many orders got a fill."""
        now = self.now()
        filled = 0
        for listed in self.ledger.open_orders(symbol=symbol):
            limit = Decimal(listed.limit_price)
            best = self.prices.best(listed.symbol, listed.is_buy)
            if best is None or (best > limit if listed.is_buy else best < limit):
                continue
            o = self.ledger.order(listed.id)  # an earlier fill in this pass may have changed it
            if o is None or not o.is_open:
                continue
            qty = min(o.remaining, self.prices.liquidity_through(o.symbol, o.is_buy, limit))
            if qty <= 0:
                continue
            reason = self._resting_refusal(o, qty, limit)
            if reason is not None:
                with self.ledger.transaction():
                    o.status, o.reason, o.status_time = self.rules.failed_resting_status, reason.value, now
                    self.ledger.update_order(o)
                log.info("paper: resting order %s %s at fill time (%s)", o.id[:10], o.status.lower(), reason.value)
                self.listener.order_updated(o)
                continue
            touched: list[Order] = []
            with self.ledger.transaction():
                booked = self._book(o, [(limit, qty)], now, taker=False)
                if self.rules.reduce_only == "shrink":
                    touched = self._sync_reduce_only(o.account_id, o.symbol, now, skip=o.id)
            filled += 1
            self._published(o, booked)
            self.listener.order_updated(o)
            self.listener.filled(o, booked)
            for t in touched:
                self.listener.order_updated(t)
        return filled

    def _resting_refusal(self, o: Order, qty: Decimal, limit: Decimal) -> Reason | None:
        if o.reduce_only:
            pos = self.ledger.position(o.account_id, o.symbol)
            try:
                self._reduce_only_size(pos.size if pos else ZERO, o.is_buy, o.remaining)
            except Refused as exc:
                return exc.reason
            return None
        state = self.state(o.account_id)
        sim = self.simulate(state, o.symbol, o.is_buy, [(limit, qty)], self.markets[o.symbol].resting_fee)
        sim.orders = [
            r if r.order_id != o.id else RestingMargin(r.symbol, r.remaining - qty, r.price, r.reduce_only, r.order_id)
            for r in sim.orders
        ]
        return None if margin_allows(self.view(state), self.view(sim)) else Reason.INSUFFICIENT_MARGIN

    # --- market: prices, ticks, funding -----------------------------------------------------

    def set_price(self, symbol: str, price: Decimal) -> None:
        """Mark and index jump to ``price``; resting orders the new book crosses fill."""
        if not 0 < price < MAX_AMOUNT:
            raise ValueError(f"a price must be positive and below {MAX_AMOUNT:,}")
        self.prices.set_price(symbol, price, self.now())
        self.save_marks()
        self.match_resting(symbol)
        self.listener.market_moved([symbol])

    def tick(self) -> None:
        """One step of the price model for every market, then matching."""
        now = self.now()
        for symbol, trades in self.prices.step(now).items():
            for t in trades:
                self.listener.traded(symbol, t)
        self.save_marks()
        self.match_resting()
        self.listener.market_moved(list(self.markets))

    def save_marks(self) -> None:
        with self.ledger.transaction():
            self.ledger.save_marks([(s, st.mark, st.index, st.cum_funding) for s, st in self.prices.states.items()])

    def funding_rate(self, symbol: str) -> Decimal:
        """The rate of the next funding event (a subclass may model it differently)."""
        return self.prices.funding_rate(symbol)

    def funding_basis(self, symbol: str) -> Decimal:
        """The price funding is computed on (``Rules.funding_price``)."""
        st = self.prices.states[symbol]
        return st.index if self.rules.funding_price == "index" else st.mark

    def maybe_fund(self) -> bool:
        """Apply funding when the wall clock entered a new funding interval. A fresh
        ledger starts counting from the current interval."""
        now = self.now()
        interval = self.rules.funding_interval_ms
        due = now - now % interval
        last = self.ledger.get_meta("last_funding_ms")
        if last is None:
            with self.ledger.transaction():
                self.ledger.set_meta("last_funding_ms", str(due))
            return False
        if due > int(last):
            self.apply_funding(due)
            return True
        return False

    def apply_funding(self, time_ms: int | None = None) -> dict[str, Decimal]:
        """One funding event for every market: the cumulative index moves by ``rate ×
        price``; positions accrue it (settled on their next fill) or, under
        ``funding_settlement="each_event"``, are paid it now. Returns the rates."""
        when = self.now() if time_ms is None else time_ms
        states = self.prices.states
        rates = {s: self.funding_rate(s) for s in self.markets}
        basis = {s: self.funding_basis(s) for s in self.markets}
        new_cum = {s: (st.cum_funding + rates[s] * basis[s]).quantize(_Q12) for s, st in states.items()}
        payments: list[FundingPayment] = []
        with self.ledger.transaction():
            for s, rate in rates.items():
                self.ledger.add_funding(s, when, rate, basis[s])
            self.ledger.save_marks([(s, states[s].mark, states[s].index, new_cum[s]) for s in states])
            self.ledger.set_meta("last_funding_ms", str(max(when, int(self.ledger.get_meta("last_funding_ms") or 0))))
            if self.rules.funding_settlement == "each_event":
                payments = self._settle_funding(new_cum, rates, when)
        for s, cum in new_cum.items():
            states[s].cum_funding = cum
        self.count("funding_events")
        log.log(logging.DEBUG if self.replay_time is not None else logging.INFO, "paper: funding applied at %d", when)
        self.listener.funded(when, rates, payments)
        return rates

    def _settle_funding(self, cum: Mapping[str, Decimal], rates: Mapping[str, Decimal], when: int) -> list[FundingPayment]:
        out: list[FundingPayment] = []
        for account_id, pos in self.ledger.all_positions():
            amount = money(-(cum[pos.symbol] - pos.entry_funding) * pos.size)
            self.ledger.add_balance(account_id, amount)
            pos.entry_funding = cum[pos.symbol]
            pos.settled_funding += amount
            self.ledger.save_position(account_id, pos)
            payment = FundingPayment(account_id, pos.symbol, when, pos.size, rates[pos.symbol], amount)
            self.ledger.add_funding_payment(payment)
            out.append(payment)
        return out
