"""Paradex through the generic adapter: ccxt's code (Starknet signing included) against
Paradex-shaped answers."""
from __future__ import annotations

import pytest

from exchange_factory import create_exchange
from mpdex.errors import BadRequest, OrderNotFound, OrderStateUnknown
from test_exchanges.ccxt.fake_venue import FakeVenue, serve, timeout
from wrappers.ccxt_venues import SAFETY_MARKERS

KEYS = {"wallet_address": "0x" + "a1" * 20, "paradex_address": "0x" + "0b" * 31,
        "paradex_private_key": "0x" + "0c" * 31}


def _market(symbol: str, base: str, step: str, tick: str, hours: str) -> dict:
    return {"symbol": symbol, "base_currency": base, "quote_currency": "USD", "settlement_currency": "USDC",
            "order_size_increment": step, "price_tick_size": tick, "min_notional": "10", "open_at": 1717065600000,
            "expiry_at": 0, "asset_kind": "PERP", "position_limit": "2000000", "price_bands_width": "0.2",
            "max_open_orders": 50, "max_funding_rate": "0.05", "funding_period_hours": hours,
            "delta1_cross_margin_params": {"imf_base": "0.02", "imf_shift": "180000", "imf_factor": "0.00071",
                                           "mmf_factor": "0.5"}, "max_order_size": "520000"}


MARKETS = {"results": [_market("BTC-USD-PERP", "BTC", "0.0001", "0.1", "8"),
                       _market("ETH-USD-PERP", "ETH", "0.001", "0.01", "8")]}
SYSTEM = {"starknet_chain_id": "PRIVATE_SN_POTC_SEPOLIA", "l1_chain_id": "11155111",
          "paraclear_account_hash": "0x1", "paraclear_account_proxy_hash": "0x2"}
SUMMARY = {"results": [{"symbol": "BTC-USD-PERP", "oracle_price": "68465.1", "mark_price": "68465.2",
                        "last_traded_price": "68495.1", "bid": "68477.6", "ask": "68478.2", "volume_24h": "1",
                        "total_volume": "1", "created_at": 1718170156581, "underlying_price": "68460.3",
                        "open_interest": "162.272", "funding_rate": "0.0008", "price_change_rate_24h": "0.009"}]}
POSITIONS = {"results": [{
    "id": "0x1-ETH-USD-PERP", "market": "ETH-USD-PERP", "status": "OPEN", "side": "LONG", "size": "0.25",
    "average_entry_price": "3100.5", "average_entry_price_usd": "3100.5", "realized_pnl": "0",
    "unrealized_pnl": "12.5", "unrealized_funding_pnl": "-0.1", "leverage": "5", "cost": "775.1",
    "cost_usd": "775.1", "cached_funding_index": "1", "created_at": 1718947571560, "last_updated_at": 1718950074249,
    "last_fill_id": "1", "seq_no": 1, "liquidation_price": "2500.25"}]}


def order(req: dict, *, oid: str = "1718941725080201704028870000", status: str = "NEW") -> dict:
    return {"id": oid, "account": KEYS["paradex_address"], "market": req["market"], "side": req["side"],
            "type": req["type"], "size": req["size"], "remaining_size": req["size"], "price": req.get("price", "0"),
            "status": status, "created_at": 1718941725082, "last_updated_at": 1718941725082,
            "timestamp": 1718941724678, "cancel_reason": "", "client_id": req.get("client_id", ""), "seq_no": 1,
            "instruction": req["instruction"], "avg_fill_price": "", "stp": "EXPIRE_TAKER", "flags": req.get("flags", []),
            "trigger_price": "0"}


def venue() -> FakeVenue:
    v = FakeVenue()
    v.on("GET", "/v1/markets", MARKETS)
    v.on("GET", "/v1/system/config", SYSTEM)
    v.on("POST", "/v1/auth", {"jwt_token": "jwt-token-for-tests"})
    v.on("GET", "/v1/markets/summary", SUMMARY)
    v.on("GET", "/v1/positions", POSITIONS)
    v.on("GET", "/v1/account", {"account": KEYS["paradex_address"], "account_value": "1362.5", "free_collateral":
                                "732.75", "initial_margin_requirement": "630.1", "maintenance_margin_requirement":
                                "315.9", "margin_cushion": "1046.6", "seq_no": 1, "settlement_asset": "USDC",
                                "status": "ACTIVE", "total_collateral": "1230.0", "updated_at": 1})
    return v


def order_posts(v: FakeVenue) -> list[dict]:
    return [s.json for s in v.sent if s.method == "POST" and s.path == "/v1/orders"]


async def test_symbols_precision_and_the_partner_header_is_not_sent():
    v = venue()
    v.on("POST", "/v1/orders", lambda s: order(s.json))
    with serve(v):
        ex = await create_exchange("paradex", KEYS)
        assert ex.available_symbols == {"perp": ["BTC-USD-PERP", "ETH-USD-PERP"]}
        assert ex.resolve_symbol("eth") == "ETH-USD-PERP" == ex.resolve_symbol("ETH/USD:USDC")
        res = await ex.create_order("ETH", "buy", "0.0125", "3000.019", client_id="123456789")
        (sent,) = order_posts(v)
        assert {k: sent[k] for k in ("market", "side", "type", "size", "price", "instruction", "client_id")} == {
            "market": "ETH-USD-PERP", "side": "BUY", "type": "LIMIT", "size": "0.012", "price": "3000.01",
            "instruction": "GTC", "client_id": "123456789"}
        assert "signature" in sent and "flags" not in sent
        assert (res["status"], res["size"], res["price"], res["client_order_id"]) == ("NEW", 0.012, 3000.01,
                                                                                       "123456789")
        await ex.close()
    private = [s for s in v.sent if s.path != "/v1/markets"]
    assert all("PARADEX-PARTNER" not in s.headers for s in private)
    assert not any(marker in v.bodies() for marker in SAFETY_MARKERS)


async def test_market_order_is_ioc_at_the_cap_and_reduce_only_is_flagged():
    v = venue()
    v.on("POST", "/v1/orders", lambda s: order(s.json, status="CLOSED"))
    with serve(v):
        ex = await create_exchange("paradex", KEYS)
        res = await ex.create_order("BTC", "sell", "0.01", is_reduce_only=True)
        (sent,) = order_posts(v)
        # mark 68465.2 * (1 - 0.005) = 68122.874 -> up to the 0.1 tick
        assert (sent["type"], sent["instruction"], sent["price"], sent["flags"]) == ("LIMIT", "IOC", "68122.9",
                                                                                   ["REDUCE_ONLY"])
        assert res["order_type"] == "market"
        await ex.close()


async def test_lost_answer_reconciled_by_client_id_endpoint():
    v = venue()
    v.on("POST", "/v1/orders", timeout())
    req = {"market": "BTC-USD-PERP", "side": "BUY", "type": "LIMIT", "size": "0.01", "price": "60000",
           "instruction": "GTC", "client_id": "555"}
    v.on("GET", "/v1/orders/by_client_id/555", order(req, oid="99"))
    with serve(v):
        ex = await create_exchange("paradex", KEYS)
        res = await ex.create_order("BTC", "buy", "0.01", "60000", client_id=555)
        assert (res["id"], res["client_order_id"]) == ("99", "555") and len(order_posts(v)) == 1
        await ex.close()


async def test_lost_answer_and_client_id_not_found_is_state_unknown():
    v = venue()
    v.on("POST", "/v1/orders", timeout())
    v.on("GET", "/v1/orders/by_client_id/556", {"error": "CLIENT_ORDER_ID_NOT_FOUND", "message": "not found"},
         status=404)
    with serve(v):
        ex = await create_exchange("paradex", KEYS)
        with pytest.raises(OrderStateUnknown):
            await ex.create_order("BTC", "buy", "0.01", "60000", client_id=556)
        assert len(order_posts(v)) == 1
        with pytest.raises(OrderNotFound):
            await ex.get_order(client_order_id="556")
        await ex.close()


async def test_refusal_and_reads():
    v = venue()
    v.on("POST", "/v1/orders", {"error": "INVALID_REQUEST_PARAMETER", "message": "bad size"}, status=400)
    with serve(v):
        ex = await create_exchange("paradex", KEYS)
        with pytest.raises(BadRequest, match="INVALID_REQUEST_PARAMETER"):
            await ex.create_order("BTC", "buy", "0.01", "60000")
        assert len(order_posts(v)) == 1
        (pos,) = await ex.get_positions()
        assert (pos["symbol"], pos["side"], pos["size"], pos["entry_price"], pos["liquidation_price"]) == \
            ("ETH-USD-PERP", "long", 0.25, 3100.5, 2500.25)
        assert await ex.get_mark_price("BTC") == 68465.2
        col = await ex.get_collateral()
        assert (col["available_collateral"], col["total_collateral"], col["margin_used"]) == (732.75, 1362.5, 630.1)
        rate = await ex.get_funding_rate("BTC")
        assert (rate["funding_rate"], rate["interval_hours"], rate["funding_rate_per_hour"]) == (0.0008, 8.0, 0.0001)
        await ex.close()


async def test_an_unrecognised_error_after_sending_is_reconciled_not_called_a_refusal():
    v = venue()
    v.on("POST", "/v1/orders", {"error": "INTERNAL_ERROR", "message": "internal error"}, status=500)
    req = {"market": "BTC-USD-PERP", "side": "BUY", "type": "LIMIT", "size": "0.01", "price": "60000",
           "instruction": "GTC", "client_id": "557"}
    v.on("GET", "/v1/orders/by_client_id/557", order(req, oid="100"))
    with serve(v):
        ex = await create_exchange("paradex", KEYS)
        res = await ex.create_order("BTC", "buy", "0.01", "60000", client_id=557)
        assert res["id"] == "100" and len(order_posts(v)) == 1  # it was placed after all
        await ex.close()
