"""The venue-neutral simulator on its own (no dialect, no server): every rule a dialect can
choose, the neutral outcomes, the ledger rows and the listener events, on a small test market
with a maker fee, a $10 minimum and a significant-figure price grid."""
from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal as D

import pytest

from mpdex.paper.ledger import Fill, FundingPayment, Ledger, LedgerError, Order, Schema
from mpdex.paper.markets import Market, market_table
from mpdex.paper.prices import PriceModel, Trade
from mpdex.paper.rules import OrderRequest, Reason, Refused, Rules, TimeInForce
from mpdex.paper.simulator import Listener, Simulator

NOW = 1_700_000_000_000
AAA = Market("AAA", "AAA", 2, 2, D("0.05"), D("0.025"), D("0.0005"), "crypto", D("100.00"),
             maker_fee=D("0.0001"), min_notional=D("10"))
HL_BTC = Market("BTC", "BTC", 5, 1, D("0.025"), D("0.0125"), D("0.00045"), "crypto", D("97000"),
                maker_fee=D("0.00015"), min_notional=D("10"), price_sig_figs=5)


class Recorder(Listener):
    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def order_updated(self, order: Order) -> None:
        self.events.append(("order", (order.id, order.status, order.filled, order.shrunk)))

    def filled(self, order: Order, fills: Sequence[Fill]) -> None:
        self.events.append(("fills", (order.id, [(f.price, f.qty, f.taker) for f in fills])))

    def traded(self, symbol: str, trade: Trade) -> None:
        self.events.append(("trade", (symbol, trade.price, trade.qty)))

    def funded(self, time_ms: int, rates: object, payments: Sequence[FundingPayment]) -> None:
        self.events.append(("funding", (time_ms, [(p.account_id, p.amount) for p in payments])))


class Rig:
    def __init__(self, rules: Rules | None = None, markets: tuple[Market, ...] = (AAA,), schema: Schema | None = None) -> None:
        self.clock = [NOW]
        self.ledger = Ledger(None, schema)
        table = market_table(markets)
        self.prices = PriceModel(table, 3, NOW, None, 0)
        self.rec = Recorder()
        self.sim = Simulator(self.ledger, table, self.prices, lambda: self.clock[0], rules=rules, listener=self.rec)
        account, created = self.sim.open_account("0x" + "11" * 20)
        assert created
        self.account = account.id
        self.sim.deposit(self.account, D(10_000))
        self.n = 0

    def order(self, is_buy: bool, size: str, price: str, *, kind: str = "limit", tif: TimeInForce = TimeInForce.GTC,
              reduce_only: bool = False, symbol: str = "AAA") -> Order:
        self.n += 1
        req = OrderRequest(self.account, symbol, is_buy, size, price, kind=kind, tif=tif,  # type: ignore[arg-type]
                           reduce_only=reduce_only, order_type=kind.upper(), client_id=f"c{self.n}")
        return self.sim.place(req, f"o{self.n}")

    def refused(self, *args: object, **kw: object) -> Refused:
        before = len(self.ledger.find_orders(self.account))
        with pytest.raises(Refused) as info:
            self.order(*args, **kw)  # type: ignore[arg-type]
        assert len(self.ledger.find_orders(self.account)) == before  # nothing stored
        return info.value

    def position(self, symbol: str = "AAA") -> D:
        pos = self.ledger.position(self.account, symbol)
        return pos.size if pos else D(0)

    def asks(self, n: int) -> list[list[D]]:
        return [list(level) for level in self.prices.book("AAA")[1][:n]]


def test_ioc_takes_what_crosses_and_cancels_the_rest_or_is_refused() -> None:
    rig = Rig()
    (p0, q0), (p1, q1) = rig.asks(2)
    o = rig.order(True, f"{q0 + q1 + 5:.2f}", f"{p1}", tif=TimeInForce.IOC)
    assert (o.status, o.reason, o.filled) == ("CANCELLED", Reason.IOC_REMAINDER.value, q0 + q1)
    assert rig.position() == q0 + q1
    fills = rig.ledger.fills(rig.account)
    assert [(f.price, f.qty, f.taker, f.fee) for f in fills] == [
        (p0, q0, True, (p0 * q0 * D("0.0005")).quantize(D("0.000001"))),
        (p1, q1, True, (p1 * q1 * D("0.0005")).quantize(D("0.000001"))),
    ]
    assert all(f.order_id == o.id and f.start_position == s for f, s in zip(fills, (D(0), q0), strict=True))
    exc = rig.refused(True, "1.00", "99.00", tif=TimeInForce.IOC)
    assert exc.reason is Reason.IOC_NO_MATCH and exc.best_price == rig.asks(1)[0][0]


def test_market_orders_fill_or_refuse_or_behave_as_ioc() -> None:
    strict = Rig()
    (p0, q0), _ = strict.asks(2)
    exc = strict.refused(True, f"{q0 + 1:.2f}", f"{p0}", kind="market")
    assert exc.reason is Reason.MARKET_UNFILLABLE and exc.best_price == p0
    ioc = Rig(Rules(market_orders="ioc"))
    o = ioc.order(True, f"{q0 + 1:.2f}", f"{p0}", kind="market")
    assert (o.status, o.filled, o.reason) == ("CANCELLED", q0, Reason.IOC_REMAINDER.value)


def test_post_only_refused_when_it_would_cross_and_rests_at_the_maker_fee() -> None:
    rig = Rig()
    best_ask = rig.asks(1)[0][0]
    exc = rig.refused(True, "1.00", f"{best_ask}", tif=TimeInForce.ALO)
    assert exc.reason is Reason.POST_ONLY_WOULD_CROSS and exc.best_price == best_ask
    o = rig.order(True, "1.00", "99.50", tif=TimeInForce.ALO)
    assert o.status == "NEW" and rig.ledger.fills(rig.account) == []
    rig.sim.set_price("AAA", D("99.00"))  # the book crosses 99.50 now
    done = rig.ledger.order(o.id)
    assert done is not None and (done.status, done.filled, done.avg_price) == ("FILLED", D("1.00"), D("99.50"))
    (fill,) = rig.ledger.fills(rig.account)
    assert (fill.taker, fill.fee, fill.price) == (False, D("0.009950"), D("99.50"))  # the maker fee, 1 bp


def test_fok_miss_is_stored_cancelled() -> None:
    rig = Rig()
    (p0, q0), = rig.asks(1)
    o = rig.order(True, f"{q0 + D('0.01'):.2f}", f"{p0}", tif=TimeInForce.FOK)
    assert (o.status, o.reason, o.filled) == ("CANCELLED", Reason.FOK_NOT_FILLED.value, D(0))
    assert rig.ledger.order(o.id) == o and rig.position() == 0


def test_reduce_only_refuse_rule() -> None:
    rig = Rig()
    assert rig.refused(False, "1.00", "90.00", reduce_only=True).reason is Reason.REDUCE_ONLY_INCREASES
    rig.order(True, "1.00", "101.00", kind="market")
    assert rig.refused(True, "0.50", "101.00", reduce_only=True).reason is Reason.REDUCE_ONLY_INCREASES
    assert rig.refused(False, "1.50", "90.00", reduce_only=True).reason is Reason.REDUCE_ONLY_EXCEEDS


def test_reduce_only_shrink_rule_shrinks_orders_to_the_position_and_cancels_them_when_it_closes() -> None:
    rig = Rig(Rules(reduce_only="shrink", failed_resting_status="CANCELLED"))
    rig.order(True, "1.00", "101.00", kind="market", tif=TimeInForce.IOC)
    taker = rig.order(False, "5.00", "90.00", tif=TimeInForce.IOC, reduce_only=True)
    assert (taker.status, taker.filled, taker.shrunk, taker.size) == ("FILLED", D("1.00"), D("4.00"), "5.00")
    assert rig.position() == 0
    rig.order(True, "2.00", "101.00", kind="market", tif=TimeInForce.IOC)
    small = rig.order(False, "0.60", "150.00", reduce_only=True)
    big = rig.order(False, "5.00", "151.00", reduce_only=True)
    assert (small.shrunk, big.shrunk, big.remaining) == (D(0), D("3.00"), D("2.00"))
    rig.rec.events.clear()
    rig.order(False, "1.50", "90.00", tif=TimeInForce.IOC)  # position 2.00 -> 0.50
    small_now, big_now = rig.ledger.order(small.id), rig.ledger.order(big.id)
    assert small_now is not None and big_now is not None
    assert (small_now.remaining, big_now.remaining) == (D("0.50"), D("0.50"))
    assert ("order", (big.id, "NEW", D(0), D("4.50"))) in rig.rec.events
    rig.order(False, "0.50", "90.00", tif=TimeInForce.IOC)  # flat: resting reduce-only orders go
    for o in (small, big):
        row = rig.ledger.order(o.id)
        assert row is not None and (row.status, row.reason) == ("CANCELLED", Reason.REDUCE_ONLY_POSITION_GONE.value)


def test_minimum_notional_and_its_exemptions() -> None:
    rig = Rig(Rules(reduce_only="shrink"))
    assert rig.refused(True, "0.05", "101.00", tif=TimeInForce.IOC).reason is Reason.BELOW_MIN_NOTIONAL
    rig.order(True, "0.20", "101.00", tif=TimeInForce.IOC)  # 20 USDC
    assert rig.refused(False, "0.05", "90.00", tif=TimeInForce.IOC).reason is Reason.BELOW_MIN_NOTIONAL  # partial close
    closed = rig.order(False, "0.30", "40.00", tif=TimeInForce.IOC, reduce_only=True)  # larger than the position
    assert (closed.filled, closed.shrunk, rig.position()) == (D("0.20"), D("0.10"), D(0))
    rig.order(True, "0.20", "101.00", tif=TimeInForce.IOC)
    assert rig.order(False, "0.20", "40.00", tif=TimeInForce.IOC).filled == D("0.20")  # closes it all: exempt


def test_margin_refusal_and_a_resting_order_that_no_longer_fits() -> None:
    rig = Rig()
    assert rig.refused(True, "5000.00", "101.00", kind="market").reason is Reason.INSUFFICIENT_MARGIN
    resting = rig.order(False, "900.00", "105.00")  # reserves 900 x 105 / 10 = 9450 of 10 000
    assert resting.status == "NEW"
    rig.sim.deposit(rig.account, D(-9_000))  # the account can no longer carry it
    rig.sim.set_price("AAA", D("110.00"))  # filling at 105 now needs 9900 on a value below 1000
    row = rig.ledger.order(resting.id)
    assert row is not None and (row.status, row.reason) == ("REJECTED", Reason.INSUFFICIENT_MARGIN.value)


def test_halted_market_and_leverage_rules() -> None:
    rig = Rig()
    rig.prices.states["AAA"].status = "HALT"
    assert rig.refused(True, "1.00", "101.00").reason is Reason.MARKET_HALTED
    rig.prices.states["AAA"].status = "TRADING"
    assert rig.sim.leverage_of(rig.account, "AAA") == 10  # min(default 10, max 20)
    for value, reason in ((0, Reason.LEVERAGE_INVALID), (21, Reason.LEVERAGE_ABOVE_MAX)):
        with pytest.raises(Refused) as info:
            rig.sim.set_leverage(rig.account, "AAA", value)
        assert info.value.reason is reason
    rig.sim.set_leverage(rig.account, "AAA", 20)
    rig.order(True, "1900.00", "101.00", tif=TimeInForce.IOC)
    with pytest.raises(Refused) as info:
        rig.sim.set_leverage(rig.account, "AAA", 1)
    assert info.value.reason is Reason.LEVERAGE_DECREASE_MARGIN and rig.sim.leverage_of(rig.account, "AAA") == 20


def test_listener_hears_trades_then_new_then_the_fill() -> None:
    rig = Rig()
    (p0, q0), = rig.asks(1)
    o = rig.order(True, "1.00", f"{p0}", tif=TimeInForce.IOC)
    assert rig.rec.events == [
        ("trade", ("AAA", p0, D("1.00"))),
        ("order", (o.id, "NEW", D(0), D(0))),
        ("order", (o.id, "FILLED", D("1.00"), D(0))),
        ("fills", (o.id, [(p0, D("1.00"), True)])),
    ]
    assert rig.asks(1)[0][1] == q0 - 1  # the taker depleted the level


def test_dialect_writes_commit_or_roll_back_with_the_order() -> None:
    schema = Schema("test", "1", "CREATE TABLE IF NOT EXISTS test_nonces (n INTEGER PRIMARY KEY)")
    rig = Rig(schema=schema)
    req = OrderRequest(rig.account, "AAA", True, "1.00", "101.00", tif=TimeInForce.IOC, client_id="7")
    rig.sim.place(req, "ok", writes=lambda: rig.ledger.execute("INSERT INTO test_nonces VALUES (7)"))
    assert rig.ledger.query_all("SELECT n FROM test_nonces") == [(7,)]

    def fail() -> None:
        rig.ledger.execute("INSERT INTO test_nonces VALUES (8)")
        raise RuntimeError("dialect write failed")

    with pytest.raises(RuntimeError):
        rig.sim.place(req, "nope", writes=fail)
    assert rig.ledger.order("nope") is None and rig.ledger.query_all("SELECT n FROM test_nonces") == [(7,)]
    assert rig.position() == D("1.00")


def test_record_rejected_keeps_a_refused_order_queryable() -> None:
    rig = Rig()
    req = OrderRequest(rig.account, "AAA", True, "0.05", "101.00", client_id="0xabc")
    o = rig.sim.record_rejected(req, "r1", Reason.BELOW_MIN_NOTIONAL)
    (row,) = rig.ledger.find_orders(rig.account, client_id="0xabc")
    assert row == o and (row.status, row.reason) == ("REJECTED", "below_min_notional") and rig.position() == 0


def test_funding_paid_at_each_event_on_the_index() -> None:
    rig = Rig(Rules(funding_settlement="each_event", funding_price="index"))
    rig.order(True, "2.00", "101.00", tif=TimeInForce.IOC)
    before = rig.ledger.account(rig.account).balance
    st = rig.prices.states["AAA"]
    st.index, st.funding_override = D("104.00"), D("0.001")
    rig.sim.apply_funding(NOW + 3_600_000)
    (payment,) = rig.ledger.funding_payments(rig.account)
    assert (payment.amount, payment.rate, payment.size) == (D("-0.208000"), D("0.001"), D("2.00"))  # 2 x 104 x 0.001
    assert rig.ledger.account(rig.account).balance == before - D("0.208")
    assert rig.ledger.funding_price("AAA", NOW + 3_600_000) == D("104.00")
    pos = rig.ledger.position(rig.account, "AAA")
    assert pos is not None and pos.entry_funding == st.cum_funding and pos.settled_funding == D("-0.208")
    out = rig.order(False, "2.00", "90.00", tif=TimeInForce.IOC)
    assert out.settled_funding == 0  # nothing left to settle on the fill
    assert ("funding", (NOW + 3_600_000, [(rig.account, D("-0.208000"))])) in rig.rec.events


def test_funding_accrues_on_the_mark_and_settles_on_the_next_fill() -> None:
    rig = Rig()
    rig.sim.set_price("AAA", D("100.00"))
    rig.order(True, "2.00", "101.00", tif=TimeInForce.IOC)
    rig.prices.states["AAA"].funding_override = D("0.001")
    rig.sim.apply_funding()
    assert rig.ledger.funding_payments(rig.account) == []
    assert rig.order(False, "2.00", "90.00", tif=TimeInForce.IOC).settled_funding == D("-0.200000")


def test_significant_figure_grid() -> None:
    assert [HL_BTC.price_step(D(p)) for p in ("97000", "123456", "3500", "9.99")] == [D(1), D(1), D("0.1"), D("0.1")]
    assert HL_BTC.is_valid_price(D("97001")) and not HL_BTC.is_valid_price(D("97000.5"))
    rig = Rig(markets=(HL_BTC,))
    bids, asks = rig.prices.book("BTC")
    assert all(HL_BTC.is_valid_price(p) for p, _ in bids + asks)
    assert bids[0][0] < rig.prices.states["BTC"].mark < asks[0][0]
    rig.sim.set_price("BTC", D("99999.7"))
    assert rig.prices.states["BTC"].mark == D("100000")
    assert all(HL_BTC.is_valid_price(p) for p, _ in rig.prices.book("BTC")[1])


def test_ledger_belongs_to_one_dialect_and_upgrades_through_its_schema(tmp_path) -> None:
    path = str(tmp_path / "l.sqlite3")
    seen: list[tuple[str | None, str | None]] = []

    def upgrade(ledger: Ledger, core: str | None, dialect: str | None) -> None:
        seen.append((core, dialect))
        ledger.create_tables()

    a1 = Schema("a", "1", "CREATE TABLE IF NOT EXISTS a_things (x INTEGER)")
    Ledger(path, a1).close()
    with pytest.raises(LedgerError, match="belongs to the 'a' venue"):
        Ledger(path, Schema("b", "1", "CREATE TABLE IF NOT EXISTS b_things (x INTEGER)"))
    with pytest.raises(LedgerError):
        Ledger(path, Schema("a", "2", a1.ddl))  # a newer dialect layout without an upgrade
    Ledger(path, Schema("a", "2", a1.ddl + "; CREATE TABLE IF NOT EXISTS a_more (y INTEGER)", upgrade)).close()
    assert seen == [("2", "1")]
    ledger = Ledger(path)  # core-only access to a dialect's file works
    assert ledger.get_meta("dialect") == "a" and ledger.get_meta("dialect_schema_version") == "2"
    assert ledger.query_all("SELECT name FROM sqlite_master WHERE name = 'a_more'") == [("a_more",)]
    with ledger.transaction():
        assert (ledger.next_sequence("oid"), ledger.next_sequence("oid"), ledger.next_sequence("x", 100)) == (1, 2, 100)
    ledger.close()
