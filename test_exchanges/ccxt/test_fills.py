"""A filled order's result carries the fill price, fee and realised PnL the venue recorded:
kept from the order's own answer when a later read omits them, else read from its fills
(ccxt's ``fetchMyTrades``); never computed, never taken from a partial list of fills."""
from __future__ import annotations

from decimal import Decimal

import pytest

from exchange_factory import create_exchange
from mpdex.transport import RetryPolicy
from test_exchanges.ccxt import hl_payloads as H
from test_exchanges.ccxt.fake_venue import FakeVenue, serve
from wrappers import ccxt_parsers as P

KEYS = {"wallet_address": H.WALLET, "wallet_private_key": H.KEY}
CREATED = 1704346468838  # the order's timestamp in H.order_status


def trade(order: str, price: float, amount: float, fee: float | None, currency: str = "USDC",
          pnl: str | None = "0.0") -> dict:
    return {"order": order, "price": price, "amount": amount, "info": {"closedPnl": pnl} if pnl is not None else {},
            "fee": None if fee is None else {"cost": fee, "currency": currency}}


def test_fill_facts_are_the_venues_own_figures_or_none():
    two = [trade("7", 100.5, 0.25, 0.01, pnl="1.5"), trade("7", 100.5, 0.75, 0.03, pnl="-0.5"),
           trade("8", 99.0, 1.0, 0.04)]
    assert P.fill_facts(two, "7", Decimal("1"), "USDC", "closedPnl") == \
        (Decimal("100.5"), Decimal("0.04"), Decimal("1.0"))
    # fills at two prices: no average is computed from them; the fee and PnL still add up
    mixed = [trade("7", 100.5, 0.5, 0.02), trade("7", 101.0, 0.5, 0.02, pnl="2")]
    assert P.fill_facts(mixed, "7", Decimal("1"), "USDC", "closedPnl") == (None, Decimal("0.04"), Decimal("2.0"))
    # fills that do not add up to what the order filled: nothing is taken from a part
    assert P.fill_facts(two, "7", Decimal("2"), "USDC", "closedPnl") is None
    assert P.fill_facts([], "7", Decimal("1"), "USDC", "closedPnl") is None
    # a fee in another currency, or a fill without a fee or a PnL: that figure is unknown
    assert P.fill_facts([trade("7", 100.5, 1, 0.1, currency="HYPE")], "7", Decimal("1"), "USDC", "closedPnl") == \
        (Decimal("100.5"), None, Decimal("0.0"))
    assert P.fill_facts([trade("7", 100.5, 1, None, pnl=None)], "7", Decimal("1"), "USDC", "closedPnl") == \
        (Decimal("100.5"), None, None)
    assert P.fill_facts([trade("7", 100.5, 1, 0.1)], "7", Decimal("1"), "USDC", "") == \
        (Decimal("100.5"), Decimal("0.1"), None)  # no PnL field declared for the venue
    assert P.fill_facts([trade("7", 0.0, 1, 0.1)], "7", Decimal("1"), "USDC", "")[0] is None  # no fill is at 0


def _record(**kw) -> dict:
    base = {"id": "5", "filled_size": 0.01, "avg_price": None, "fee": None, "realized_pnl": None}
    return {**base, **kw}


def test_a_later_read_does_not_erase_what_an_earlier_answer_about_the_same_fill_said():
    earlier = _record(avg_price=61240.0)
    assert P.keep_fill_facts(_record(), earlier)["avg_price"] == 61240.0
    assert P.keep_fill_facts(_record(avg_price=61000.0), earlier)["avg_price"] == 61000.0  # the fresh one wins
    assert P.keep_fill_facts(_record(filled_size=0.02), earlier)["avg_price"] is None  # more filled since
    assert P.keep_fill_facts(_record(id="6"), earlier)["avg_price"] is None  # another order
    assert P.keep_fill_facts(_record(), None)["avg_price"] is None


def fills_asked(v: FakeVenue) -> list[dict]:
    return [s.json for s in v.sent if s.json and str(s.json.get("type", "")).startswith("userFills")]


def hl_filled_order(oid: int, *, size: str, avg: str, side: str = "B", reduce_only: bool = False) -> FakeVenue:
    v = H.hl_venue()
    v.on("POST", "/exchange", H.filled(oid, size, avg))
    v.on_json("POST", "/info", "type", "orderStatus", lambda s: H.order_status(
        oid, coin="BTC", side=side, px="61541" if side == "B" else "60928", size=size, remaining="0.0",
        status="filled", cloid=None, tif="Ioc", reduce_only=reduce_only))
    return v


async def test_a_market_order_carries_the_venues_average_fee_and_realised_pnl():
    v = hl_filled_order(5, size="0.01", avg="61240.0")
    v.on_json("POST", "/info", "type", "userFillsByTime", [
        H.fill(5, px="61240.0", sz="0.01", fee="0.27558", tid=1),
        H.fill(4, px="61000.0", sz="0.5", fee="9.9", closed_pnl="3.0", tid=2)])  # another order's fill
    with serve(v):
        ex = await create_exchange("ccxt:hyperliquid", KEYS)
        res = await ex.create_order("BTC", "buy", "0.01")
        assert (res["status"], res["filled_size"], res["avg_price"], res["fee"], res["realized_pnl"]) == \
            ("FILLED", 0.01, 61240.0, 0.27558, 0.0)
        assert fills_asked(v) == [{"type": "userFillsByTime", "user": H.WALLET, "startTime": CREATED - 1000}]
        await ex.close()


async def test_a_closing_order_filled_at_two_prices_keeps_the_venues_average_and_sums_fee_and_pnl():
    v = hl_filled_order(9, size="0.01", avg="60995.0", side="A", reduce_only=True)
    v.on_json("POST", "/info", "type", "userFillsByTime", [
        H.fill(9, px="61000.0", sz="0.005", fee="0.13725", closed_pnl="1.25", side="A", tid=1),
        H.fill(9, px="60990.0", sz="0.005", fee="0.137228", closed_pnl="1.2", side="A", tid=2)])
    with serve(v):
        ex = await create_exchange("ccxt:hyperliquid", KEYS)
        res = await ex.create_order("BTC", "sell", "0.01", is_reduce_only=True)
        assert (res["avg_price"], res["fee"], res["realized_pnl"]) == (60995.0, 0.274478, 2.45)
        await ex.close()


async def test_fills_not_all_listed_yet_leave_the_fee_unknown():
    v = hl_filled_order(5, size="0.01", avg="61240.0")
    v.on_json("POST", "/info", "type", "userFillsByTime", [H.fill(5, px="61240.0", sz="0.004", fee="0.1")])
    with serve(v):
        ex = await create_exchange("ccxt:hyperliquid", KEYS)
        res = await ex.create_order("BTC", "buy", "0.01")
        assert (res["status"], res["avg_price"], res["fee"], res["realized_pnl"]) == ("FILLED", 61240.0, None, None)
        await ex.close()


async def test_fills_that_cannot_be_read_do_not_unsettle_a_filled_order():
    v = hl_filled_order(5, size="0.01", avg="61240.0")
    v.on_json("POST", "/info", "type", "userFillsByTime", "null", status=500)
    with serve(v):
        ex = await create_exchange("ccxt:hyperliquid", {**KEYS, "wallet_address": "0x" + "7" * 40},
                                   retry=RetryPolicy(backoff_base=0.01))
        res = await ex.create_order("BTC", "buy", "0.01")
        assert (res["status"], res["avg_price"], res["fee"]) == ("FILLED", 61240.0, None)
        assert len(fills_asked(v)) == 3  # a read: retried within its budget, then left unknown
        assert sum(1 for s in v.sent if s.path == "/exchange") == 1
        await ex.close()


@pytest.mark.parametrize("prices, average", [(("61240.0", "61240.0"), 61240.0), (("61240.0", "61250.0"), None)])
async def test_get_order_of_a_filled_order_reads_its_fills(prices, average):
    v = H.hl_venue()
    v.on_json("POST", "/info", "type", "orderStatus", lambda s: H.order_status(
        12, coin="BTC", side="B", px="61300", size="0.01", remaining="0.0", status="filled", cloid=None))
    v.on_json("POST", "/info", "type", "userFillsByTime", [
        H.fill(12, px=prices[0], sz="0.004", fee="0.1", tid=1), H.fill(12, px=prices[1], sz="0.006", fee="0.15", tid=2)])
    with serve(v):
        ex = await create_exchange("ccxt:hyperliquid", KEYS)
        order = await ex.get_order(order_id="12", symbol="BTC")
        # one price: that is the fill price; two: no average is computed from them
        assert (order["status"], order["avg_price"], order["fee"], order["realized_pnl"]) == \
            ("FILLED", average, 0.25, 0.0)
        await ex.close()


async def test_an_unfilled_order_reads_no_fills():
    v = H.hl_venue()
    v.on_json("POST", "/info", "type", "orderStatus", lambda s: H.order_status(
        13, coin="BTC", side="B", px="60000", size="0.01", remaining="0.01", status="open", cloid=None))
    with serve(v):
        ex = await create_exchange("ccxt:hyperliquid", KEYS)
        order = await ex.get_order(order_id="13")
        assert (order["status"], order["avg_price"], order["fee"]) == ("NEW", None, None)
        assert fills_asked(v) == []
        await ex.close()
