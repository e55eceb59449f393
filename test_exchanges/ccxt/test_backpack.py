"""Backpack through the generic adapter: ccxt's code against Backpack-shaped answers."""
from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from exchange_factory import create_exchange
from mpdex.errors import InsufficientMargin, OrderStateUnknown
from test_exchanges.ccxt.fake_venue import FakeVenue, serve, timeout
from wrappers.ccxt_venues import SAFETY_MARKERS

_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
KEYS = {"api_key": base64.b64encode(_KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode(),
        "secret_key": base64.b64encode(_KEY.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())).decode()}


def _market(base: str, tick: str, step: str, min_qty: str) -> dict:
    return {"baseSymbol": base, "createdAt": "2025-01-21T06:34:54.691858", "filters": {
        "price": {"maxImpactMultiplier": "1.03", "maxMultiplier": "1.25", "maxPrice": None,
                  "minImpactMultiplier": "0.97", "minMultiplier": "0.75", "minPrice": tick, "tickSize": tick},
        "quantity": {"maxQuantity": None, "minQuantity": min_qty, "stepSize": step}},
        "fundingInterval": "3600000", "fundingRateLowerBound": "-100", "fundingRateUpperBound": "100",
        "imfFunction": {"base": "0.02", "factor": "0.0001275", "type": "sqrt"}, "marketType": "PERP",
        "mmfFunction": {"base": "0.0125", "factor": "0.0000765", "type": "sqrt"}, "openInterestLimit": "4000000",
        "orderBookState": "Open", "quoteSymbol": "USDC", "symbol": f"{base}_USDC_PERP"}


MARKETS = [_market("BTC", "0.1", "0.00001", "0.00001"), _market("SOL", "0.01", "0.01", "0.01")]
ASSETS = [{"coingeckoId": "usd-coin", "displayName": "USD Coin", "symbol": "USDC", "tokens": []},
          {"coingeckoId": "bitcoin", "displayName": "Bitcoin", "symbol": "BTC", "tokens": []},
          {"coingeckoId": "solana", "displayName": "Solana", "symbol": "SOL", "tokens": []}]
MARK = [{"fundingRate": "0.0000125", "indexPrice": "101000.1", "markPrice": "101002.3",
         "nextFundingTimestamp": 1753113600000, "symbol": "BTC_USDC_PERP"}]
POSITIONS = [{"breakEvenPrice": "150.1", "cumulativeFundingPayment": "0", "cumulativeInterest": "0",
              "entryPrice": "150.05", "estLiquidationPrice": "120.5", "imf": "0.02", "markPrice": "151.0",
              "mmf": "0.0125", "netCost": "-15.005", "netExposureNotional": "15.1", "netExposureQuantity": "0.1",
              "netQuantity": "-0.1", "pnlRealized": "0", "pnlUnrealized": "-0.095", "positionId": "1",
              "subaccountId": None, "symbol": "SOL_USDC_PERP", "userId": 1}]
CAPITAL = {"USDC": {"available": "950.5", "locked": "49.5", "staked": "0"}}


def order_row(oid: str, *, cid: int, side: str, qty: str, px: str, status: str, tif: str = "GTC",
              executed: str = "0") -> dict:
    return {"clientId": cid, "createdAt": 1753626206762, "executedQuantity": executed,
            "executedQuoteQuantity": "0", "id": oid, "orderType": "Limit", "postOnly": False, "price": px,
            "quantity": qty, "reduceOnly": None, "selfTradePrevention": "RejectTaker", "side": side,
            "status": status, "symbol": "BTC_USDC_PERP", "timeInForce": tif, "triggerPrice": None}


def fill_row(oid: str, *, cid: int | None, side: str, qty: str, px: str, fee: str, trade_id: int) -> dict:
    return {"clientId": cid, "fee": fee, "feeSymbol": "USDC", "isMaker": False, "orderId": oid, "price": px,
            "quantity": qty, "side": side, "symbol": "BTC_USDC_PERP", "systemOrderType": None,
            "timestamp": "2025-07-27T14:23:26.900", "tradeId": trade_id}


def venue() -> FakeVenue:
    v = FakeVenue()
    v.on("GET", "/api/v1/assets", ASSETS)
    v.on("GET", "/api/v1/markets", MARKETS)
    v.on("GET", "/api/v1/markPrices", MARK)
    v.on("GET", "/api/v1/ticker", {"symbol": "BTC_USDC_PERP", "lastPrice": "101000", "firstPrice": "100000",
                                   "high": "102000", "low": "99000", "volume": "1", "quoteVolume": "1",
                                   "trades": "1", "priceChange": "1000", "priceChangePercent": "0.01"})
    v.on("GET", "/api/v1/position", POSITIONS)
    v.on("GET", "/api/v1/capital", CAPITAL)
    return v


def order_posts(v: FakeVenue) -> list[dict]:
    return [s.json for s in v.sent if s.method == "POST" and s.path == "/api/v1/order"]


async def test_markets_symbols_and_precision():
    v = venue()
    with serve(v):
        ex = await create_exchange("backpack", KEYS)
        assert ex.available_symbols == {"perp": ["BTC_USDC_PERP", "SOL_USDC_PERP"]}
        assert ex.resolve_symbol("sol") == "SOL_USDC_PERP" == ex.resolve_symbol("SOL/USDC:USDC")
        rules = ex.market_rules("BTC")
        assert (str(rules.size_step), rules.price_grid.describe()) == ("0.00001", "tick 0.1")
        assert v.sent[1].query == {"marketType": ["PERP"]}  # perpetuals only
        await ex.close()


async def test_limit_and_market_orders_exact_bytes():
    v = venue()
    v.on("POST", "/api/v1/order", lambda s: order_row("11", cid=s.json["clientId"], side=s.json["side"],
                                                      qty=s.json["quantity"], px=s.json["price"],
                                                      status="New" if s.json["timeInForce"] == "GTC" else "Filled",
                                                      tif=s.json["timeInForce"],
                                                      executed="0" if s.json["timeInForce"] == "GTC" else s.json["quantity"]))
    v.on("GET", "/wapi/v1/history/fills", [fill_row("11", cid=None, side="Ask", qty="0.0001", px="100998.1",
                                                    fee="0.00404", trade_id=901)])
    with serve(v):
        ex = await create_exchange("backpack", KEYS)
        res = await ex.create_order("BTC", "buy", "0.000123", "100000.07", client_id=77)
        assert res["client_order_id"] == "77" and res["status"] == "NEW" and res["price"] == 100000.0
        mkt = await ex.create_order("BTC", "sell", "0.0001", slippage="0.01")
        assert mkt["order_type"] == "market" and mkt["status"] == "FILLED"
        # the order's executedQuoteQuantity is "0" here, which ccxt turns into an average of 0: not a price;
        # the fill the venue lists says what it was
        assert (mkt["avg_price"], mkt["fee"], mkt["realized_pnl"]) == (100998.1, 0.00404, None)
        (asked,) = [s for s in v.sent if s.path == "/wapi/v1/history/fills"]
        assert asked.query["symbol"] == ["BTC_USDC_PERP"] and asked.query["fillType"] == ["User"]
        limit, market = order_posts(v)
        assert {k: limit[k] for k in ("symbol", "side", "orderType", "quantity", "price", "timeInForce", "clientId")} \
            == {"symbol": "BTC_USDC_PERP", "side": "Bid", "orderType": "Limit", "quantity": "0.00012",
                "price": "100000", "timeInForce": "GTC", "clientId": 77}
        # mark 101002.3 * 0.99 = 99992.277 -> up to the 0.1 tick toward the mark
        assert (market["side"], market["price"], market["timeInForce"]) == ("Ask", "99992.3", "IOC")
        await ex.close()
    text = v.bodies()
    assert not any(marker in text for marker in SAFETY_MARKERS)


async def test_insufficient_margin_maps_to_our_refusal():
    v = venue()
    v.on("POST", "/api/v1/order", {"code": "INSUFFICIENT_MARGIN", "message": "Insufficient margin"}, status=400)
    with serve(v):
        ex = await create_exchange("backpack", KEYS)
        with pytest.raises(InsufficientMargin):
            await ex.create_order("BTC", "buy", "0.001", "100000")
        assert len(order_posts(v)) == 1
        await ex.close()


async def test_timeout_reconciled_by_scanning_for_the_client_id():
    v = venue()
    v.on("POST", "/api/v1/order", timeout())
    v.on("GET", "/api/v1/orders", [order_row("12", cid=5, side="Bid", qty="0.001", px="100000", status="New")])
    v.on("GET", "/wapi/v1/history/orders", [order_row("13", cid=6000, side="Bid", qty="0.001", px="100000",
                                                      status="Filled", executed="0.001")])
    v.on("GET", "/wapi/v1/history/fills", [
        fill_row("13", cid=6000, side="Bid", qty="0.0004", px="100000", fee="0.016", trade_id=902),
        fill_row("13", cid=6000, side="Bid", qty="0.0006", px="100000", fee="0.024", trade_id=903)])
    with serve(v):
        ex = await create_exchange("backpack", KEYS)
        res = await ex.create_order("BTC", "buy", "0.001", "100000", client_id=6000)
        assert (res["id"], res["client_order_id"], res["status"], res["filled_size"]) == ("13", "6000", "FILLED", 0.001)
        assert (res["avg_price"], res["fee"]) == (100000.0, 0.04)
        assert len(order_posts(v)) == 1
        await ex.close()


async def test_timeout_and_the_order_nowhere_is_state_unknown_never_resent():
    v = venue()
    v.on("POST", "/api/v1/order", timeout())
    v.on("GET", "/api/v1/orders", [])
    v.on("GET", "/wapi/v1/history/orders", [])
    with serve(v):
        ex = await create_exchange("backpack", KEYS)
        with pytest.raises(OrderStateUnknown) as info:
            await ex.create_order("BTC", "buy", "0.001", "100000", client_id=4242)
        assert info.value.client_order_id == "4242" and len(order_posts(v)) == 1
        await ex.close()


async def test_positions_collateral_mark_and_funding():
    v = venue()
    with serve(v):
        ex = await create_exchange("backpack", KEYS)
        (pos,) = await ex.get_positions()
        assert (pos["symbol"], pos["side"], pos["size"], pos["entry_price"], pos["unrealized_pnl"]) == \
            ("SOL_USDC_PERP", "short", 0.1, 150.05, -0.095)
        col = await ex.get_collateral()
        assert (col["available_collateral"], col["total_collateral"]) == (950.5, 1000.0)
        assert await ex.get_mark_price("BTC") == 101002.3
        rate = await ex.get_funding_rate("BTC")
        assert (rate["interval_hours"], rate["funding_rate_per_hour"]) == (1.0, 0.0000125)
        # ccxt reads no leverage here; its position's 50x is derived from the imf (1 / 0.02), not the setting
        assert (await ex.get_positions())[0]["raw_data"]["imf"] == "0.02"
        info = await ex.get_leverage_info("SOL")
        assert (info["leverage"], info["margin_mode"], info["status"]) == (None, None, "ok")
        assert info["message"] == ("the account's leverage on SOL_USDC_PERP is unknown: ccxt has no leverage read "
                                   "(backpack); max_leverage is the market's")
        await ex.close()
    assert json.dumps(KEYS["secret_key"]) not in v.bodies()


async def test_api_key_and_signatures_stay_out_of_ccxt_debug_lines(caplog):
    import logging

    v = venue()
    with caplog.at_level(logging.DEBUG, logger="ccxt.base.exchange"), serve(v):
        ex = await create_exchange("backpack", KEYS)
        await ex.get_positions()
        await ex.close()
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "GET https://api.backpack.exchange/api/v1/position" in text
    assert KEYS["api_key"] not in text and "X-Signature" not in text
    assert KEYS["api_key"] not in repr(ex) and KEYS["secret_key"] not in repr(ex)
