"""HyperliquidExchange reads and leverage on mocked HTTP: what is asked (for the account,
never the agent), and what comes back (the contract's shapes, floats)."""
from __future__ import annotations

import pytest

from mpdex import errors as E

from .conftest import sample
from .hl_fakes import T0, WALLET, FakeHyperliquid, make_exchange


async def test_account_reads_ask_for_the_master_account(http, clock):
    fake = FakeHyperliquid(http)
    fake.info_answers["clearinghouseState"] = sample("info_clearinghouseState_response")
    ex = await make_exchange(http, clock, fake)
    assert [p["symbol"] for p in await ex.get_positions()] == ["ETH", "SOL"]
    pos = await ex.get_position("sol")
    assert pos is not None and (pos["side"], pos["size"]) == ("short", 0.5)
    assert await ex.get_position("BTC") is None
    coll = await ex.get_collateral()
    assert (coll["available_collateral"], coll["total_collateral"]) == (11292.922399, 11524.216934)
    assert {b["user"] for b in fake.infos if "user" in b} == {WALLET.lower()}
    await ex.close()


async def test_open_orders_and_get_order_by_oid_or_cloid_with_fills(http, clock):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake)
    resting = await ex.create_order("ETH", "buy", "0.01", 2900, client_id=5)
    filled = await ex.create_order("SOL", "buy", "1")
    (open_order,) = await ex.get_open_orders()
    assert (open_order["id"], open_order["client_order_id"], open_order["status"], open_order["price"]) == (
        resting["id"], f"0x{5:032x}", "NEW", 2900.0)
    assert await ex.get_open_orders("SOL") == []
    by_cloid = await ex.get_order(client_order_id=5)
    assert by_cloid["id"] == resting["id"] and by_cloid["status"] == "NEW"
    record = await ex.get_order(order_id=filled["id"])
    assert (record["status"], record["filled_size"], record["avg_price"], record["fee"]) == ("FILLED", 1.0, 150.75, 0.01)
    with pytest.raises(E.OrderNotFound):
        await ex.get_order(order_id=99)
    with pytest.raises(E.BadRequest):
        await ex.get_order(order_id="0x12")
    with pytest.raises(E.BadRequest):
        await ex.get_order()
    await ex.close()


async def test_wait_for_order_polls_until_a_final_state_or_times_out(http, clock):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake)
    res = await ex.create_order("ETH", "buy", "0.01", 2900, client_id=3)
    with pytest.raises(E.RequestTimeout, match="last known status: NEW"):
        await ex.wait_for_order(3, timeout=1.0)
    fake.orders[int(res["id"])]["status"] = "filled"
    done = await ex.wait_for_order(res["client_order_id"])
    assert done["status"] == "FILLED"
    await ex.close()


async def test_marks_are_marks_not_mids_and_books_best_first(http, clock):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake)
    fake.info_answers["metaAndAssetCtxs"] = [fake.meta(), [
        {**sample("info_metaAndAssetCtxs_response")[1][0], "markPx": "101.5", "midPx": "99.0"}] + [
        sample("info_metaAndAssetCtxs_response")[1][1]] * (len(fake.universe) - 1)]
    clock.now += 1
    assert await ex.get_mark_price("BTC") == 101.5
    fake.info_answers["l2Book"] = sample("info_l2Book_response")
    book = await ex.get_orderbook("btc")
    assert book["bids"][0] == [2.111, 134.4] and book["time"] == clock.now_ms()
    fake.info_answers["l2Book"] = None
    with pytest.raises(E.ExchangeError):
        await ex.get_orderbook("BTC")
    await ex.close()


async def test_funding_now_predicted_and_history(http, clock):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake)
    rate = await ex.get_funding_rate("ETH")
    assert (rate["funding_rate"], rate["interval_hours"], rate["funding_rate_per_hour"], rate["mark_price"]) == (
        0.0000125, 1.0, 0.0000125, 3000.0)
    fake.info_answers["predictedFundings"] = [["ETH", [["HlPerp", {"fundingRate": "0.00002",
                                                                   "nextFundingTime": T0 + 3_600_000}]]]]
    predicted = await ex.get_predicted_funding("ETH")
    assert (predicted["funding_rate"], predicted["next_funding_time"]) == (0.00002, T0 + 3_600_000)
    pages = [[{"coin": "ETH", "fundingRate": "0.00001", "premium": "0", "time": T0 + h * 3_600_000}
              for h in range(start, start + n)] for start, n in ((0, 500), (500, 100))]
    asked = []

    def history(body):
        asked.append((body["startTime"], body.get("endTime")))
        return pages[len(asked) - 1]

    fake.info_answers["fundingHistory"] = history
    rows = await ex.get_funding_history("ETH", start_time=T0, limit=550)
    assert len(rows) == 550 and rows[0]["time"] == T0 and {r["interval_hours"] for r in rows} == {1.0}
    assert asked == [(T0, None), (T0 + 499 * 3_600_000 + 1, None)]
    with pytest.raises(E.BadRequest):
        await ex.get_funding_history("ETH", limit=0)
    await ex.close()


async def test_fees_from_user_fees_else_the_base_tier(http, clock):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake)
    fake.info_answers["userFees"] = {"userCrossRate": "0.000315", "userAddRate": "0.000105"}
    assert await ex.get_trading_fees("ETH") == {"symbol": "ETH", "maker": 0.000105, "taker": 0.000315}
    from aioresponses import CallbackResult

    fake.info_answers["userFees"] = lambda body: CallbackResult(status=422, body="Failed to deserialize the JSON body",
                                                                content_type="text/plain")
    assert await ex.get_trading_fees("ETH") == {"symbol": "ETH", "maker": 0.00015, "taker": 0.00045}
    await ex.close()


async def test_klines_cover_the_latest_limit_candles(http, clock):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake)
    fake.info_answers["candleSnapshot"] = sample("info_candleSnapshot_response")
    candles = await ex.get_klines("kPEPE", "1h", limit=2)
    assert [c["open_time"] for c in candles] == [1684699200000, 1684702800000]
    req = next(b for b in fake.infos if b["type"] == "candleSnapshot")["req"]
    assert req == {"coin": "kPEPE", "interval": "1h", "startTime": clock.now_ms() - 2 * 3_600_000, "endTime": clock.now_ms()}
    with pytest.raises(E.BadRequest):
        await ex.get_klines("kPEPE", "7m")
    await ex.close()


# -- leverage ---------------------------------------------------------------------------------


def _asset_data(value: int, kind: str = "cross") -> dict:
    return {"user": WALLET.lower(), "coin": "ETH", "leverage": {"type": kind, "value": value},
            "maxTradeSzs": ["1", "1"], "availableToTrade": ["1", "1"], "markPx": "3000.0"}


async def test_update_leverage_answers_mpdex_call_shapes(http, clock):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake)
    fake.info_answers["activeAssetData"] = _asset_data(10)
    assert await ex.update_leverage("ETH", 5, "isolated") == {"status": "ok", "leverage": 5, "margin_mode": "isolated",
                                                              "symbol": "ETH"}
    assert fake.bodies()[-1]["action"] == {"type": "updateLeverage", "asset": 1, "isCross": False, "leverage": 5}
    assert (await ex.update_leverage("ETH", 7))["margin_mode"] == "cross"  # keeps the current mode
    assert fake.bodies()[-1]["action"]["isCross"] is True
    sent = len(fake.exchange_posts)
    same = await ex.update_leverage("ETH", None, "cross")  # already cross: nothing to send
    assert same["status"] == "ok" and same["leverage"] == 10 and len(fake.exchange_posts) == sent
    switch = await ex.update_leverage("ETH", None, "isolated")  # keeps 10x, switches the mode
    assert switch["status"] == "ok" and fake.bodies()[-1]["action"] == {"type": "updateLeverage", "asset": 1,
                                                                         "isCross": False, "leverage": 10}
    sent = len(fake.exchange_posts)
    for call, message in ((("ETH", 26), "above ETH's maximum of 25x"), (("HPOS", 2, "cross"), "isolated-only"),
                          (("ETH", None, None), "give a leverage"), (("ETH", 3, "portfolio"), "margin_mode must be")):
        answer = await ex.update_leverage(*call)
        assert answer["status"] == "error" and message in answer["message"]
    assert len(fake.exchange_posts) == sent
    with pytest.raises(E.BadRequest):
        await ex.update_leverage("ETH", 2.5)
    fake.whole_errors = [sample("exchange_err_leverage_switch_response")["response"]]
    with pytest.raises(E.BadRequest, match="Cannot switch leverage type"):
        await ex.update_leverage("ETH", 3, "isolated")
    await ex.close()


async def test_a_lost_leverage_answer_is_settled_by_reading_it_back(http, clock):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake, resend_window=0.1)
    fake.info_answers["activeAssetData"] = _asset_data(4)
    fake.faults = ["lose"]
    assert (await ex.update_leverage("ETH", 4, "cross"))["status"] == "ok"
    fake.faults = ["timeout"]
    with pytest.raises(E.RequestTimeout):
        await ex.update_leverage("ETH", 6, "cross")
    await ex.close()


async def test_leverage_info(http, clock):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake)
    fake.info_answers["activeAssetData"] = _asset_data(3, "isolated")
    assert await ex.get_leverage_info("eth") == {"symbol": "ETH", "leverage": 3, "margin_mode": "isolated",
                                                 "max_leverage": 25, "available_margin_modes": ["cross", "isolated"],
                                                 "status": "ok"}
    await ex.close()


async def test_markets_state_the_rules_orders_are_checked_against(http, clock):
    ex = await make_exchange(http, clock)
    markets = {m["symbol"]: m for m in await ex.get_markets()}
    assert markets["BTC"] == {"symbol": "BTC", "base": "BTC", "quote": "USDC", "status": "TRADING", "size_step": 0.00001,
                              "min_size": 0.00001, "tick": None,
                              "price_rule": "at most 5 significant figures and 1 decimal", "min_notional": 10.0,
                              "max_leverage": 40, "taker_fee": None, "maker_fee": None}
    assert markets["LOOM"]["status"] == "DELISTED" and set(markets) == {"BTC", "ETH", "SOL", "kPEPE", "HPOS", "LOOM"}
    plan = await ex.prepare_order("BTC", "buy", "0.0012345", "100000.77")
    assert (str(plan.size), str(plan.price)) == ("0.00123", "100000")
    await ex.close()
