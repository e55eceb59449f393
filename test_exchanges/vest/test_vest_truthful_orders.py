"""Orders tell the truth (issue 10): an order is ours only if every signed field matches,
results report what Vest recorded, client ids cannot poison a signer, conflicting or
unroundable input is refused before signing, cancels take one id / one dict / a list."""
from __future__ import annotations

import asyncio
import logging

import orjson
import pytest

from mpdex import errors as E
from test_exchanges.vest.vest_fakes import T0, FakeVest, make_exchange, posts, requests, rx
from wrappers.vest_orders import MAX_CLIENT_ID


def _stored(fake: FakeVest, nonce: int, **fields: object) -> dict:
    oid = f"0x{nonce:064x}"
    order = {"id": oid, "nonce": nonce, "symbol": "ETH-PERP", "isBuy": True, "orderType": "LIMIT",
             "limitPrice": "3000.00", "markPrice": "3000.00", "size": "0.100", "status": "NEW", "reduceOnly": False,
             "initMarginRatio": "0.1", "code": None, "lastFilledSize": None, "lastFilledPrice": None,
             "lastFilledTime": None, "avgFilledPrice": None, "settledFunding": None, "fees": "0",
             "realizedPnl": None, "postTime": T0 - 60_000, "tpPrice": None, "slPrice": None}
    order.update(fields)
    fake.orders[oid] = order
    return order


async def test_resend_answered_duplicate_by_another_processes_order_is_not_adopted(http, clock):
    """Two processes on one key drew the same nonce: B's order (0.7 ETH) holds it. A's first
    attempt timed out, its resend got DUPLICATE: A must not report B's order as its own."""
    ex = await make_exchange(http, clock)
    fake = FakeVest(http)
    _stored(fake, T0, size="0.700", postTime=T0 + 3)  # B's, same nonce, another size
    fake.post_faults = ["timeout"]
    with pytest.raises(E.DuplicateOrder) as info:
        await ex.create_order("ETH", "buy", 0.1, price=3000)
    assert "0.7" in str(info.value) and "not placed" in str(info.value)
    assert len(fake.orders) == 1  # only B's order exists
    await ex.close()


async def test_an_identical_older_order_under_a_reused_nonce_is_not_adopted(http, clock):
    ex = await make_exchange(http, clock)
    fake = FakeVest(http)
    first = await ex.create_order("ETH", "buy", 0.1, price=3000, client_id=42)
    clock.now += 30  # the caller reuses its client id half a minute later
    fake.post_faults = ["503"]  # one 503, then the resend is answered DUPLICATE
    with pytest.raises(E.DuplicateOrder):
        await ex.create_order("ETH", "buy", 0.1, price=3000, client_id=42)
    assert len(fake.orders) == 1 and first["id"] in fake.orders  # the new order was never placed
    await ex.close()


async def test_a_lost_answer_reconciles_to_our_own_order_with_the_recorded_values(http, clock):
    ex = await make_exchange(http, clock)
    fake = FakeVest(http)
    fake.post_faults = ["lose"]
    res = await ex.create_order("ETH", "sell", "0.1005", price="3000.004")
    assert res["client_order_id"] == str(T0) and res["status"] == "NEW"
    assert (res["size"], res["price"], res["requested_size"], res["requested_price"]) == (0.1, 3000.01, 0.1005, 3000.004)
    assert len(fake.orders) == 1 and len(set(fake.posts)) == 1  # resent byte for byte, placed once
    await ex.close()


async def test_result_reports_what_the_exchange_recorded_not_what_was_asked(http, clock):
    ex = await make_exchange(http, clock)
    http.post(rx("/orders"), payload={"id": "0xfeed"})
    recorded = {"id": "0xfeed", "nonce": T0, "symbol": "ETH-PERP", "isBuy": True, "orderType": "LIMIT",
                "limitPrice": "3000.00", "size": "0.100", "status": "PARTIALLY_FILLED", "reduceOnly": False,
                "lastFilledSize": "0.040", "avgFilledPrice": "2999.50", "fees": "0.012", "realizedPnl": "-0.012",
                "postTime": T0 + 2, "code": None}
    http.get(rx("/orders"), payload=[recorded])
    res = await ex.create_order("ETH", "buy", 0.1, price=3000)
    assert (res["status"], res["filled_size"], res["avg_price"], res["fee"], res["realized_pnl"]) == (
        "PARTIALLY_FILLED", 0.04, 2999.5, 0.012, 0.0)
    await ex.close()


@pytest.mark.parametrize("client_id", [2**63 - 1, MAX_CLIENT_ID + 1, "٣", "3\u0663", " ", "1e3", 1.0, True, 0])
async def test_client_ids_that_would_poison_the_signer_are_refused_before_signing(http, clock, client_id):
    ex = await make_exchange(http, clock)
    FakeVest(http)
    with pytest.raises(E.InvalidOrder, match="client_id"):
        await ex.create_order("ETH", "buy", 0.1, price=3000, client_id=client_id)
    assert posts(http) == []
    res = await ex.create_order("ETH", "buy", 0.1, price=3000)
    assert res["client_order_id"] == str(T0)  # the nonce source did not move
    ok = await ex.create_order("ETH", "buy", 0.1, price=3000, client_id=MAX_CLIENT_ID)
    assert ok["client_order_id"] == str(MAX_CLIENT_ID)
    assert ex.new_client_id() == str(MAX_CLIENT_ID + 1)  # and later nonces stay far below 2**63
    await ex.close()


@pytest.mark.parametrize("args,kwargs", [
    (("ETH", "buy", 1, 1000, "market"), {}),  # was silently a resting limit order
    (("ETH", "buy", "1e30", 3000), {}),  # exact rounding overflows
    (("ETH", "buy", 1, "1e40"), {}),
    (("ETH", "buy", "0.0015", 3000), {"strict": True}),  # strict: refuse instead of rounding the size
    (("ETH", "buy", "0.002", "3000.001"), {"strict": True}),  # … or the price
])
async def test_conflicting_or_unroundable_input_is_refused_and_nothing_is_sent(http, clock, args, kwargs):
    ex = await make_exchange(http, clock)
    FakeVest(http)
    with pytest.raises(E.InvalidOrder):
        await ex.create_order(*args, **kwargs)
    assert posts(http) == [] and requests(http, "GET", "/orders") == []
    await ex.close()


async def test_prepare_order_shows_every_rounding_without_sending(http, clock):
    ex = await make_exchange(http, clock)
    with pytest.raises(E.InvalidOrder, match="below the minimum"):
        await ex.prepare_order("ETH", "sell", "0.00015", "3000.001")  # rounds down to 0.000
    plan = await ex.prepare_order("ETH", "buy", "1.0005", "3000.009")
    assert (str(plan.size), str(plan.price), plan.time_in_force) == ("1.000", "3000.00", "GTC")
    assert plan.adjustments == ("size 1.0005 rounded down to 1 (step 0.001 on ETH-PERP)",
                                "price 3000.009 rounded down to 3000 (tick 0.01, in your favour)")
    assert posts(http) == []
    await ex.close()


async def test_cancel_takes_one_id_one_dict_or_a_list(http, clock):
    ex = await make_exchange(http, clock)
    fake = FakeVest(http)
    a = await ex.create_order("ETH", "buy", 0.1, price=3000)
    b = await ex.create_order("ETH", "buy", 0.1, price=3001)
    c = await ex.create_order("ETH", "buy", 0.1, price=3002)
    assert [r["id"] for r in await ex.cancel_orders("ETH", a["id"])] == [a["id"]]  # not one cancel per character
    assert [r["id"] for r in await ex.cancel_orders("ETH", {"id": b["id"], "symbol": "ETH-PERP"})] == [b["id"]]
    assert [r["status"] for r in await ex.cancel_orders("ETH", [c])] == ["ok"]
    assert [orjson.loads(orjson.dumps(x))["order"]["id"] for x in fake.cancels] == [a["id"], b["id"], c["id"]]
    with pytest.raises(E.BadRequest):
        await ex.cancel_orders("ETH", 12345)
    assert len(fake.cancels) == 3
    await ex.close()


async def test_a_caller_cancelling_create_order_after_the_post_is_warned_with_the_cid(http, clock, caplog):
    ex = await make_exchange(http, clock)
    fake = FakeVest(http)
    fake.post_faults = ["lose"]

    async def slow_sleep(seconds: float) -> None:
        await asyncio.sleep(10)

    ex.rest.transport._sleep = slow_sleep  # the resend backoff: the caller gives up meanwhile
    with caplog.at_level(logging.WARNING, logger="mpdex.vest"):
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(ex.create_order("ETH", "buy", 0.1, price=3000), 0.2)
    assert any(str(T0) in r.getMessage() and "ETH-PERP" in r.getMessage() and "client_order_id" in r.getMessage()
               for r in caplog.records)
    await ex.close()


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), "abc", None, True])
async def test_bad_book_timeout_is_a_value_error_not_a_network_error(http, clock, timeout):
    ex = await make_exchange(http, clock)
    with pytest.raises(ValueError, match="timeout"):
        await ex.get_orderbook("ETH", timeout=timeout)
    assert requests(http, "GET", "/depth") == []
    await ex.close()


async def test_a_market_that_resumed_after_a_halt_takes_orders_again(http, clock):
    from test_exchanges.vest.vest_fakes import tickers

    ex = await make_exchange(http, clock)
    FakeVest(http)
    halted = tickers(ETH_PERP="3000")
    halted["tickers"][-1]["status"] = "HALT"
    http.get(rx("/ticker/latest"), payload=halted)
    with pytest.raises(E.MarketClosed):
        await ex.create_order("ETH", "buy", 0.1)
    assert ex.markets["ETH-PERP"].halted
    http.get(rx("/ticker/latest"), payload=tickers(ETH_PERP="3000"), repeat=True)  # trading again
    assert (await ex.create_order("ETH", "buy", 0.1, price=3000))["status"] == "NEW"
    assert (await ex.create_order("ETH", "buy", 0.1))["status"] == "FILLED"
    assert not ex.markets["ETH-PERP"].halted and len(posts(http)) == 2
    await ex.close()


def test_realized_pnl_is_price_pnl_without_vests_fees_and_funding():
    from test_exchanges.conftest import load_sample
    from wrappers.vest_parsers import parse_order

    opening = load_sample("rest_orders_get.json")[1]  # realizedPnl -0.173755 = minus its fee
    assert parse_order(opening)["realized_pnl"] == 0.0 and parse_order(opening)["fee"] == 0.173755
    closing = dict(opening, realizedPnl="4.870000", fees="0.110000", settledFunding="-0.020000")
    assert parse_order(closing)["realized_pnl"] == 5.0  # 4.87 + 0.11 fee − (−0.02) funding paid


async def test_order_validity_is_the_time_after_which_a_signed_order_cannot_land(http, clock):
    ex = await make_exchange(http, clock, recv_window=5000, order_queue_wait=2.0)
    assert ex.order_validity == 5.0 + 1.0  # recvWindow + Vest's 1 s clock tolerance, from the signing
    await ex.close()
