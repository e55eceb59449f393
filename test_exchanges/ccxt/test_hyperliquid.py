"""ccxt:hyperliquid through the generic adapter, ccxt's own code against Hyperliquid-shaped answers."""
from __future__ import annotations

from decimal import Decimal

import pytest

from exchange_factory import create_exchange
from mpdex.errors import InsufficientMargin, InvalidOrder, OrderStateUnknown, RateLimitExceeded
from test_exchanges.ccxt import hl_payloads as H
from test_exchanges.ccxt.fake_venue import FakeVenue, serve, timeout
from test_exchanges.ccxt.hl_payloads import hl_venue
from wrappers.ccxt_venues import SAFETY_MARKERS

KEYS = {"wallet_address": H.WALLET, "wallet_private_key": H.KEY}


def orders_sent(v: FakeVenue) -> list[dict]:
    return [s.json["action"]["orders"][0] for s in v.sent if s.path == "/exchange" and s.json["action"]["type"] == "order"]


async def make(v: FakeVenue, **options):
    return await create_exchange("ccxt:hyperliquid", KEYS, **options)


async def test_symbols_both_ways_and_precision():
    v = hl_venue()
    with serve(v):
        ex = await make(v)
        assert ex.available_symbols == {"perp": ["BTC", "ETH"]}
        assert ex.resolve_symbol("btc") == "BTC" == ex.resolve_symbol("BTC/USDC:USDC")
        assert ex._markets["ETH"]["symbol"] == "ETH/USDC:USDC"
        rules = ex.market_rules("ETH")
        assert rules.size_step == Decimal("0.0001") and rules.min_notional == Decimal("10")
        assert rules.price_grid.describe() == "5 significant figures, at most 2 decimals"
        assert ex.get_perp_quote("BTC") == "USDC"
        assert {"markets", "prepare"} <= ex.CAPABILITIES
        eth = next(m for m in await ex.get_markets() if m["symbol"] == "ETH")
        assert (eth["size_step"], eth["tick"], eth["min_notional"], eth["quote"]) == (0.0001, None, 10.0, "USDC")
        assert eth["price_rule"] == "5 significant figures, at most 2 decimals"
        await ex.close()


async def test_limit_order_rounds_in_the_users_favour_and_sends_exact_strings():
    v = hl_venue()
    v.on("POST", "/exchange", H.resting(91))
    v.on_json("POST", "/info", "type", "orderStatus", lambda s: H.order_status(
        91, coin="ETH", side="A", px="3012.3", size="0.1234", remaining="0.1234", status="open",
        cloid=None))
    with serve(v):
        ex = await make(v)
        cid = "0x" + "ab" * 16
        res = await ex.create_order("ETH", "sell", "0.12345", "3012.21", client_id=cid)
        (order,) = orders_sent(v)
        # size down to the 0.0001 step; a sell price up to 5 significant figures
        assert order == {"a": 1, "b": False, "p": "3012.3", "s": "0.1234", "r": False, "t": {"limit": {"tif": "Gtc"}},
                         "c": cid}
        assert res["client_order_id"] == cid and res["id"] == "91" and res["status"] == "NEW"
        assert (res["size"], res["price"], res["order_type"]) == (0.1234, 3012.3, "limit")
        assert res["requested_size"] == 0.12345 and res["requested_price"] == 3012.21
        assert len(res["adjustments"]) == 2
        await ex.close()


async def test_market_order_is_an_ioc_limit_at_the_slippage_cap():
    v = hl_venue()
    v.on("POST", "/exchange", H.filled(5, "0.01", "61240.0"))
    v.on_json("POST", "/info", "type", "orderStatus", lambda s: H.order_status(
        5, coin="BTC", side="B", px="61541", size="0.01", remaining="0.0", status="filled", cloid=None, tif="Ioc"))
    v.on_json("POST", "/info", "type", "userFillsByTime", [H.fill(5, px="61240.0", sz="0.01", fee="0.27558")])
    with serve(v):
        ex = await make(v, slippage="0.005")
        res = await ex.create_order("BTC", "buy", 0.01)
        (order,) = orders_sent(v)
        # mark 61234.5 * 1.005 = 61540.6725 -> down to 5 significant figures toward the mark
        assert order["p"] == "61540" and order["t"] == {"limit": {"tif": "Ioc"}} and order["s"] == "0.01"
        assert res["order_type"] == "market" and res["status"] == "FILLED" and res["filled_size"] == 0.01
        assert (res["avg_price"], res["fee"], res["realized_pnl"]) == (61240.0, 0.27558, 0.0)  # as the venue says
        await ex.close()


async def test_no_builder_fee_referral_or_approval_is_ever_sent():
    v = hl_venue()
    v.on("POST", "/exchange", H.resting(1))
    v.on_json("POST", "/info", "type", "orderStatus", lambda s: H.order_status(
        1, coin="BTC", side="B", px="60000", size="0.001", remaining="0.001", status="open", cloid=None))
    with serve(v):
        ex = await make(v)
        await ex.create_order("BTC", "buy", "0.001", "60000")
        await ex.get_collateral()
        await ex.close()
    text = v.bodies()
    for marker in SAFETY_MARKERS:
        assert marker not in text
    assert [s.json["action"]["type"] for s in v.sent if s.path == "/exchange"] == ["order"]


async def test_insufficient_margin_is_a_refusal_sent_once():
    v = hl_venue()
    v.on("POST", "/exchange", {"status": "ok", "response": {"type": "order", "data": {"statuses": [
        {"error": "Insufficient margin to place order. asset=0"}]}}})
    with serve(v):
        ex = await make(v)
        with pytest.raises(InsufficientMargin, match="Insufficient margin"):
            await ex.create_order("BTC", "buy", "0.001", "60000")
        assert len(orders_sent(v)) == 1
        await ex.close()


async def test_lost_answer_is_reconciled_by_cloid_and_never_resent():
    v = hl_venue()
    v.on("POST", "/exchange", timeout())
    cid = "0x" + "cd" * 16
    v.on_json("POST", "/info", "type", "orderStatus", lambda s: H.order_status(
        44, coin="BTC", side="B", px="60000", size="0.002", remaining="0.002", status="open", cloid=cid))
    with serve(v):
        ex = await make(v)
        res = await ex.create_order("BTC", "buy", "0.002", "60000", client_id=cid)
        assert res["id"] == "44" and res["client_order_id"] == cid and res["status"] == "NEW"
        assert len(orders_sent(v)) == 1
        lookups = [s.json for s in v.sent if s.json and s.json.get("type") == "orderStatus"]
        assert lookups[0]["oid"] == cid  # looked up by the client order id
        await ex.close()


async def test_lost_answer_and_no_order_under_the_cloid_is_state_unknown():
    v = hl_venue()
    v.on("POST", "/exchange", timeout())
    v.on_json("POST", "/info", "type", "orderStatus", {"status": "unknownOid"})
    with serve(v):
        ex = await make(v)
        with pytest.raises(OrderStateUnknown) as info:
            await ex.create_order("BTC", "buy", "0.002", "60000", client_id="0x" + "ef" * 16)
        assert info.value.client_order_id == "0x" + "ef" * 16
        assert len(orders_sent(v)) == 1
        await ex.close()


async def test_an_order_of_someone_else_under_our_cloid_is_not_adopted():
    v = hl_venue()
    v.on("POST", "/exchange", timeout())
    cid = "0x" + "12" * 16
    v.on_json("POST", "/info", "type", "orderStatus", lambda s: H.order_status(
        45, coin="BTC", side="A", px="60000", size="0.002", remaining="0.002", status="open", cloid=cid))
    with serve(v):
        ex = await make(v)
        from mpdex.errors import DuplicateOrder
        with pytest.raises(DuplicateOrder):
            await ex.create_order("BTC", "buy", "0.002", "60000", client_id=cid)
        await ex.close()


async def test_bad_input_is_refused_before_anything_is_sent():
    v = hl_venue()
    with serve(v):
        ex = await make(v)
        before = len(v.sent)
        with pytest.raises(InvalidOrder):
            await ex.create_order("BTC", "buy", "0.000001", "60000")  # below the size step
        with pytest.raises(InvalidOrder):
            await ex.create_order("BTC", "buy", "0.001", "60000", client_id="not-hex")
        with pytest.raises(InvalidOrder):
            await ex.create_order("BTC", "buy", "0.0001", "60000")  # $6 < $10 minimum
        assert len(v.sent) == before
        await ex.close()


async def test_positions_balance_funding_and_fees():
    v = hl_venue()
    with serve(v):
        ex = await make(v)
        assert await ex.get_position("BTC") is None
        pos = await ex.get_position("ETH")
        assert {k: pos[k] for k in ("symbol", "side", "size", "entry_price", "unrealized_pnl", "liquidation_price")} \
            == {"symbol": "ETH", "side": "short", "size": 0.0335, "entry_price": 2986.3, "unrealized_pnl": -0.0134,
                "liquidation_price": 2866.26936529}
        col = await ex.get_collateral()
        assert (col["available_collateral"], col["total_collateral"]) == (13099.546676, 13104.514502)
        rate = await ex.get_funding_rate("BTC")
        assert (rate["funding_rate"], rate["interval_hours"], rate["funding_rate_per_hour"]) == (0.0000125, 1.0, 0.0000125)
        assert await ex.get_mark_price("ETH") == 3001.25
        await ex.close()


async def test_our_limiter_paces_every_request_and_ccxt_throttle_is_off():
    v = hl_venue()
    with serve(v):
        ex = await create_exchange("ccxt:hyperliquid", {**KEYS, "wallet_address": "0x" + "5" * 40})
        bucket = ex._limiter.bucket("rest")
        calls = []
        real = bucket.acquire

        async def counting(*a, **kw):
            calls.append(kw.get("max_wait"))
            return await real(*a, **kw)

        bucket.acquire = counting
        await ex.get_collateral()
        assert ex.exchange.enableRateLimit is False
        assert len(calls) == 1 and calls == [None]
        await ex.close()


async def test_an_order_that_cannot_get_a_slot_in_time_is_refused_locally():
    v = hl_venue()
    with serve(v):
        keys = {**KEYS, "wallet_address": "0x" + "4" * 40}  # an account of its own: its own limiter
        ex = await create_exchange("ccxt:hyperliquid", keys, order_queue_wait=0.0)
        ex._limiter.configure({"rest": (0.01, 1.0)})
        await ex._limiter.bucket("rest").acquire()  # the one token is gone: the next is 100 s away
        sent = len(v.sent)
        with pytest.raises(RateLimitExceeded):
            await ex.create_order("BTC", "buy", "0.001", "60000")
        assert len(v.sent) == sent
        await ex.close()


async def test_rest_url_moves_every_ccxt_url_onto_loopback():
    v = hl_venue()
    with serve(v):
        ex = await create_exchange("ccxt:hyperliquid", {**KEYS, "rest_url": "http://127.0.0.1:8765"})
        assert {s.url.rsplit("/", 1)[0] for s in v.sent} == {"http://127.0.0.1:8765"}
        await ex.close()


async def test_agent_key_signs_when_by_agent():
    v = hl_venue()
    with serve(v):
        ex = await create_exchange("ccxt:hyperliquid", {"wallet_address": H.WALLET, "by_agent": True,
                                                        "agent_api_private_key": "0x" + "3c" * 32})
        assert ex.exchange.privateKey == "0x" + "3c" * 32 and ex.exchange.walletAddress == H.WALLET
        assert "3c3c3c" not in repr(ex)
        await ex.close()


async def test_open_orders_cancel_and_leverage():
    v = hl_venue()
    cid = "0x" + "77" * 16
    v.on_json("POST", "/info", "type", "frontendOpenOrders", [
        {"coin": "BTC", "isPositionTpsl": False, "isTrigger": False, "limitPx": "60000.0", "oid": 3, "orderType": "Limit",
         "origSz": "0.002", "reduceOnly": False, "side": "B", "sz": "0.0015", "tif": "Gtc", "timestamp": 1704346468838,
         "triggerCondition": "N/A", "triggerPx": "0.0", "cloid": cid},
        {"coin": "SOL", "isPositionTpsl": False, "isTrigger": False, "limitPx": "100.0", "oid": 4,
         "orderType": "Limit", "origSz": "1", "reduceOnly": False, "side": "A", "sz": "1", "tif": "Gtc",
         "timestamp": 1704346468839, "triggerCondition": "N/A", "triggerPx": "0.0", "cloid": None}])
    v.on("POST", "/exchange", {"status": "ok", "response": {"type": "cancel", "data": {"statuses": ["success"]}}},
         when=lambda s: s.json["action"]["type"] == "cancel")
    v.on("POST", "/exchange", {"status": "ok", "response": {"type": "default"}},
         when=lambda s: s.json["action"]["type"] == "updateLeverage")
    with serve(v):
        ex = await make(v)
        (order,) = await ex.get_open_orders()  # SOL is no market here: not reported as one of ours
        assert {k: order[k] for k in ("id", "client_order_id", "symbol", "side", "size", "filled_size", "price",
                                      "status")} == {"id": "3", "client_order_id": cid, "symbol": "BTC",
                                                     "side": "buy", "size": 0.002, "filled_size": 0.0005,
                                                     "price": 60000.0, "status": "PARTIALLY_FILLED"}
        (cancelled,) = await ex.cancel_orders("BTC")
        assert cancelled == {"id": "3", "order_id": "3", "symbol": "BTC", "status": "ok", "error": None}
        cancel = next(s.json["action"] for s in v.sent if s.path == "/exchange" and s.json["action"]["type"] == "cancel")
        assert cancel["cancels"] == [{"a": 0, "o": 3}]
        assert (await ex.update_leverage("BTC", 5, "cross"))["status"] == "ok"
        update = next(s.json["action"] for s in v.sent if s.path == "/exchange"
                      and s.json["action"]["type"] == "updateLeverage")
        assert (update["asset"], update["isCross"], update["leverage"]) == (0, True, 5)
        from mpdex.errors import BadRequest
        with pytest.raises(BadRequest):
            await ex.update_leverage("BTC", 41)  # above the market's 40x
        v.on_json("POST", "/info", "type", "activeAssetData", {
            "user": H.WALLET, "coin": "BTC", "leverage": {"type": "cross", "value": 5}, "maxTradeSzs": ["0.1", "0.1"],
            "availableToTrade": ["6000.0", "6000.0"], "markPx": "61234.5"})
        info = await ex.get_leverage_info("BTC")
        assert (info["leverage"], info["margin_mode"], info["max_leverage"], info["status"]) == (5, "cross", 40, "ok")
        await ex.close()


async def test_leverage_is_the_accounts_setting_read_from_active_asset_data():
    v = hl_venue()
    v.on_json("POST", "/info", "type", "activeAssetData", {
        "user": H.WALLET, "coin": "ETH", "leverage": {"type": "isolated", "value": 7, "rawUsd": "-12.5"},
        "maxTradeSzs": ["1.5", "1.6"], "availableToTrade": ["4500.0", "4500.0"], "markPx": "3001.25"})
    with serve(v):
        ex = await make(v)
        assert await ex.get_leverage_info("ETH") == {
            "symbol": "ETH", "leverage": 7, "margin_mode": "isolated", "max_leverage": 25,
            "available_margin_modes": ["cross", "isolated"], "status": "ok"}
        (asked,) = [s.json for s in v.sent if s.json and s.json.get("type") == "activeAssetData"]
        assert asked == {"type": "activeAssetData", "user": H.WALLET, "coin": "ETH"}
        await ex.close()


async def test_without_active_asset_data_the_leverage_is_unknown_and_the_message_says_so():
    v = hl_venue()
    v.on_json("POST", "/info", "type", "activeAssetData", "null")  # Hyperliquid's answer for no such asset data
    with serve(v):
        ex = await make(v)
        for coin, maximum in (("BTC", 40), ("ETH", 25)):  # ETH has an open position: its leverage is not used
            info = await ex.get_leverage_info(coin)
            assert (info["leverage"], info["margin_mode"], info["max_leverage"], info["status"]) == \
                (None, None, maximum, "ok")
            assert info["message"] == (f"the account's leverage on {coin} is unknown: no leverage from the venue's "
                                       "leverage read (hyperliquid); max_leverage is the market's")
        await ex.close()


async def test_ccxt_debug_lines_carry_no_credentials(caplog):
    import logging

    v = hl_venue()
    v.on("POST", "/exchange", H.resting(8))
    v.on_json("POST", "/info", "type", "orderStatus", lambda s: H.order_status(
        8, coin="BTC", side="B", px="60000", size="0.001", remaining="0.001", status="open", cloid=None))
    with caplog.at_level(logging.DEBUG, logger="ccxt.base.exchange"), serve(v):
        ex = await make(v)
        await ex.create_order("BTC", "buy", "0.001", "60000")
        await ex.close()
    text = "\n".join(r.getMessage() for r in caplog.records if r.name == "ccxt.base.exchange")
    assert "POST https://api.hyperliquid.xyz/exchange" in text
    assert "signature" not in text and '"r":' not in text and "orders" not in text
