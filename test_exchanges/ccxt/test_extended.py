"""Extended through the generic adapter: ccxt's code (Stark-signed settlement) against
Extended-shaped answers."""
from __future__ import annotations

import pytest

from exchange_factory import create_exchange
from mpdex.errors import NotSupported, OrderStateUnknown
from test_exchanges.ccxt.fake_venue import FakeVenue, serve, timeout
from wrappers.ccxt_venues import SAFETY_MARKERS

KEYS = {"api_key": "ext-api-key", "stark_private_key": "0x" + "07" * 31, "stark_public_key": "0x" + "0a" * 31,
        "vault_id": "500343"}


def _market(name: str, asset: str, min_size: str, size_step: str, tick: str, synthetic: str) -> dict:
    return {"name": name, "uiName": name, "category": "Crypto", "assetName": asset, "assetPrecision": 5,
            "collateralAssetName": "USD", "collateralAssetPrecision": 6, "active": True, "status": "ACTIVE",
            "marketStats": {"lastPrice": "77259", "askPrice": "77260", "bidPrice": "77259",
                            "markPrice": "77259.680250000004", "indexPrice": "77299.0204125", "fundingRate": "0.000013",
                            "nextFundingRate": 1777442400000, "openInterest": "1", "openInterestBase": "1",
                            "dailyVolume": "1", "dailyVolumeBase": "1", "dailyPriceChange": "1",
                            "dailyPriceChangePercentage": "0.0055", "dailyLow": "75635", "dailyHigh": "77399"},
            "tradingConfig": {"minOrderSize": min_size, "minOrderSizeChange": size_step, "minPriceChange": tick,
                              "maxMarketOrderValue": "3000000", "maxLimitOrderValue": "15000000",
                              "maxPositionValue": "60000000", "maxLeverage": "50.00", "hourlyFundingRateCap": "0.25",
                              "maxNumOrders": "200", "limitPriceCap": "0.05", "limitPriceFloor": "0.05"},
            "l2Config": {"type": "STARKX", "collateralId": "0x1", "syntheticId": synthetic,
                         "syntheticResolution": 1000000, "collateralResolution": 1000000},
            "visibleOnUi": True, "createdAt": 1752829532673}


MARKETS = {"status": "OK", "data": [_market("BTC-USD", "BTC", "0.0001", "0.00001", "1", "0x4254432d3600000000000000000000"),
                                    _market("ETH-USD", "ETH", "0.01", "0.001", "0.1", "0x4554482d3600000000000000000000")]}
ASSETS = {"status": "OK", "data": [{"id": 1, "name": "USD", "symbol": "USD", "description": "USD Collateral",
                                    "precision": 6, "isActive": True, "isCollateral": True, "starkexId": "0x1",
                                    "starkexResolution": 1000000, "l1Id": "0xa0", "l1Resolution": 1000000,
                                    "version": 3, "createdAt": 1752829532673, "type": "SPOT",
                                    "canBeUsedAsCollateral": True}]}
BALANCE = {"status": "OK", "data": {"collateralName": "USD", "balance": "1000.5", "equity": "1012.25",
                                    "availableForTrade": "870.75", "availableForWithdrawal": "800.0",
                                    "unrealisedPnl": "11.75", "initialMargin": "141.5", "marginRatio": "0.02",
                                    "updatedTime": 1701563440}}


def _order(req: dict, *, status: str = "NEW") -> dict:
    return {"status": "OK", "data": {"id": 1775511783722512384, "externalId": req["id"], "accountId": 3017,
                                     "market": req["market"], "type": req["type"], "side": req["side"],
                                     "status": status, "price": req["price"], "qty": req["qty"], "filledQty": "0",
                                     "reduceOnly": req["reduceOnly"], "postOnly": req["postOnly"],
                                     "timeInForce": req["timeInForce"], "createdTime": 1701563440000,
                                     "updatedTime": 1701563440000, "expireTime": req["expiryEpochMillis"]}}


def venue() -> FakeVenue:
    v = FakeVenue()
    v.on("GET", "/api/v1/info/assets", ASSETS)
    v.on("GET", "/api/v1/info/markets", MARKETS)
    v.on("GET", "/api/v1/user/balance", BALANCE)
    return v


def order_posts(v: FakeVenue) -> list[dict]:
    return [s.json for s in v.sent if s.method == "POST" and s.path == "/api/v1/user/order"]


async def test_symbols_precision_order_bytes_and_no_builder():
    v = venue()
    v.on("POST", "/api/v1/user/order", lambda s: {"status": "OK", "data": {"id": 1775511783722512384,
                                                                          "externalId": s.json["id"]}})
    placed: dict = {}
    v.on("GET", "/api/v1/user/orders/1775511783722512384", lambda s: _order(placed["req"]))
    with serve(v):
        ex = await create_exchange("extended", KEYS)
        assert ex.available_symbols == {"perp": ["BTC-USD", "ETH-USD"]}
        assert ex.resolve_symbol("eth") == "ETH-USD"
        rules = ex.market_rules("BTC")
        assert (str(rules.size_step), str(rules.min_size), rules.price_grid.describe()) == ("0.00001", "0.0001", "tick 1")
        cid = "4f9c3a2e-52b1-4d3c-9a0e-1f2e3d4c5b6a"
        def record(s):
            placed["req"] = s.json
            return {"status": "OK", "data": {"id": 1775511783722512384, "externalId": s.json["id"]}}

        v.on("POST", "/api/v1/user/order", record)
        res = await ex.create_order("BTC", "buy", "0.000125", "77000.6", client_id=cid)
        (sent,) = order_posts(v)
        assert {k: sent[k] for k in ("id", "market", "type", "side", "qty", "price", "timeInForce", "reduceOnly",
                                     "postOnly")} == {"id": cid, "market": "BTC-USD", "type": "LIMIT", "side": "BUY",
                                                      "qty": "0.00012", "price": "77000", "timeInForce": "GTT",
                                                      "reduceOnly": False, "postOnly": False}
        assert "builderFee" not in sent and "builderId" not in sent and sent["settlement"]["starkKey"] == \
            KEYS["stark_public_key"]
        assert (res["id"], res["client_order_id"], res["status"], res["size"], res["price"]) == \
            ("1775511783722512384", cid, "NEW", 0.00012, 77000.0)
        col = await ex.get_collateral()
        assert (col["available_collateral"], col["total_collateral"], col["margin_used"]) == (870.75, 1012.25, 141.5)
        await ex.close()
    assert not any(m in v.bodies() for m in SAFETY_MARKERS)


async def test_lost_answer_reconciled_by_external_id_or_unknown():
    v = venue()
    v.on("POST", "/api/v1/user/order", timeout())
    cid = "0c2f6bb0-8a55-4c1b-a8a3-2b7f5d1e9c01"
    req = {"id": cid, "market": "BTC-USD", "type": "LIMIT", "side": "SELL", "qty": "0.001", "price": "78000",
           "reduceOnly": False, "postOnly": False, "timeInForce": "GTT", "expiryEpochMillis": 1701567040000}
    v.on("GET", f"/api/v1/user/orders/external/{cid}", {"status": "OK", "data": [_order(req)["data"]]})
    v.on("GET", "/api/v1/user/orders/external/0c2f6bb0-8a55-4c1b-a8a3-2b7f5d1e9c02", {"status": "OK", "data": []})
    with serve(v):
        ex = await create_exchange("extended", KEYS)
        res = await ex.create_order("BTC", "sell", "0.001", "78000", client_id=cid)
        assert res["client_order_id"] == cid and res["id"] == "1775511783722512384"
        with pytest.raises(OrderStateUnknown):
            await ex.create_order("BTC", "sell", "0.001", "78000", client_id=cid[:-1] + "2")
        assert len(order_posts(v)) == 2
        with pytest.raises(NotSupported):
            await ex.get_funding_rate("BTC")  # ccxt 4.5.90 reads no funding rate for Extended
        await ex.close()
