"""Pacifica through the generic adapter: ccxt's code (ED25519-signed actions with an agent
wallet) against Pacifica-shaped answers."""
from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from exchange_factory import create_exchange
from mpdex.errors import OrderStateUnknown
from test_exchanges.ccxt.fake_venue import FakeVenue, serve, timeout
from wrappers.ccxt_venues import SAFETY_MARKERS

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58(data: bytes) -> str:
    n, out = int.from_bytes(data, "big"), ""
    while n:
        n, r = divmod(n, 58)
        out = _B58[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def _keypair(seed: int) -> tuple[str, str]:
    key = Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return b58(public), b58(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()) + public)


MAIN, _ = _keypair(1)
AGENT, AGENT_SECRET = _keypair(2)
KEYS = {"public_key": MAIN, "agent_public_key": AGENT, "agent_private_key": AGENT_SECRET}


def _info(symbol: str, tick: str, lot: str, kind: str = "perpetual") -> dict:
    return {"symbol": symbol, "tick_size": tick, "min_tick": "0", "max_tick": "1000000", "lot_size": lot,
            "max_leverage": 50, "isolated_only": False, "min_order_size": "10", "max_order_size": "5000000",
            "funding_rate": "0.0000125", "next_funding_rate": "0.0000125", "created_at": 1748881333944,
            "instrument_type": kind, "base_asset": symbol.split("-")[0]}


INFO = {"success": True, "data": [_info("BTC", "1", "0.00001"), _info("ETH", "0.1", "0.0001"),
                                  _info("SOL-USDC", "0.01", "0.001", "spot")], "error": None, "code": None}
PRICES = {"success": True, "data": [
    {"funding": "0.0000125", "mark": "105473", "mid": "105476", "next_funding": "0.0000125",
     "open_interest": "0.00524", "oracle": "105460", "symbol": "BTC", "timestamp": 1749051612681,
     "volume_24h": "63265.87522", "yesterday_price": "104550"}], "error": None, "code": None}


def _order(oid: int, cid: str, *, side: str = "bid", price: str = "100000", amount: str = "0.001",
           status: str = "open") -> dict:
    return {"order_id": oid, "client_order_id": cid, "symbol": "BTC", "side": side, "initial_price": price,
            "price": price, "average_filled_price": "0", "amount": amount, "initial_amount": amount,
            "filled_amount": "0", "cancelled_amount": "0", "order_status": status, "order_type": "limit",
            "stop_price": None, "stop_parent_order_id": None, "reduce_only": False, "reason": None,
            "created_at": 1759224893638, "updated_at": 1759224893638}


def venue() -> FakeVenue:
    v = FakeVenue()
    v.on("GET", "/api/v1/info", INFO)
    v.on("GET", "/api/v1/info/prices", PRICES)
    return v


def order_posts(v: FakeVenue) -> list[dict]:
    return [s.json for s in v.sent if s.method == "POST" and s.path.startswith("/api/v1/orders/create")]


async def test_symbols_precision_order_bytes_and_no_builder_code():
    v = venue()
    v.on("POST", "/api/v1/orders/create", {"success": True, "data": {"order_id": 4242}, "error": None, "code": None})
    cid = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
    v.on("GET", "/api/v1/orders/history_by_id", {"success": True, "data": [{
        **_order(4242, cid, side="ask", price="100001", amount="0.00123"), "history_id": 641452639,
        "event_type": "make", "created_at": 1759224893638}],
                                                 "error": None, "code": None})
    with serve(v):
        ex = await create_exchange("pacifica", KEYS)
        assert ex.available_symbols == {"perp": ["BTC", "ETH"]}
        rules = ex.market_rules("ETH")
        assert (str(rules.size_step), rules.price_grid.describe()) == ("0.0001", "tick 0.1")
        res = await ex.create_order("BTC", "sell", "0.001234", "100000.2", client_id=cid)
        (sent,) = order_posts(v)
        assert {k: sent[k] for k in ("account", "agent_wallet", "symbol", "side", "price", "amount", "tif",
                                     "reduce_only", "client_order_id")} == {
            "account": MAIN, "agent_wallet": AGENT, "symbol": "BTC", "side": "ask", "price": "100001",
            "amount": "0.00123", "tif": "GTC", "reduce_only": False, "client_order_id": cid}
        assert "builder_code" not in sent
        assert (res["id"], res["client_order_id"], res["size"], res["price"]) == ("4242", cid, 0.00123, 100001.0)
        assert await ex.get_mark_price("BTC") == 105473.0
        await ex.close()
    assert not any(m in v.bodies() for m in SAFETY_MARKERS)
    assert not any("builder_codes" in s.path for s in v.sent)


async def test_lost_answer_reconciled_by_scanning_open_orders():
    v = venue()
    v.on("POST", "/api/v1/orders/create", timeout())
    cid = "0b1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    v.on("GET", "/api/v1/orders", {"success": True, "data": [_order(9, cid)], "error": None, "code": None})
    with serve(v):
        ex = await create_exchange("pacifica", KEYS)
        res = await ex.create_order("BTC", "buy", "0.001", "100000", client_id=cid)
        assert (res["id"], res["client_order_id"], res["status"]) == ("9", cid, "NEW")
        assert len(order_posts(v)) == 1
        await ex.close()


async def test_lost_answer_and_the_order_nowhere_is_state_unknown():
    v = venue()
    v.on("POST", "/api/v1/orders/create", timeout())
    v.on("GET", "/api/v1/orders", {"success": True, "data": [], "error": None, "code": None})
    v.on("GET", "/api/v1/orders/history", {"success": True, "data": [], "error": None, "code": None})
    with serve(v):
        ex = await create_exchange("pacifica", KEYS)
        with pytest.raises(OrderStateUnknown):
            await ex.create_order("BTC", "buy", "0.001", "100000", client_id="0b1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4e")
        assert len(order_posts(v)) == 1
        await ex.close()


async def test_positions_balance_and_hourly_funding():
    v = venue()
    v.on("GET", "/api/v1/positions", {"success": True, "data": [
        {"symbol": "ETH", "side": "ask", "amount": "2.5", "entry_price": "3011.4", "margin": "0", "funding": "1.5",
         "isolated": False, "created_at": 1754928414996, "updated_at": 1759223365538}], "error": None, "code": None})
    v.on("GET", "/api/v1/account", {"success": True, "data": {
        "balance": "4970.000323", "fee_level": 0, "maker_fee": "0.00015", "taker_fee": "0.0004",
        "account_equity": "5478.140323", "cross_account_equity": "5376.512323", "spot_market_value": "508.14",
        "spot_collateral": "406.512", "available_to_spend": "5376.512323", "available_to_withdraw": "5376.512323",
        "pending_balance": "0", "pending_interest": "0", "total_margin_used": "0", "cross_mmr": "0",
        "positions_count": 1, "orders_count": 0, "stop_orders_count": 0, "spot_balances": []},
        "error": None, "code": None})
    with serve(v):
        ex = await create_exchange("pacifica", KEYS)
        pos = await ex.get_position("ETH")
        assert (pos["side"], pos["size"], pos["entry_price"]) == ("short", 2.5, 3011.4)
        col = await ex.get_collateral()
        rate = await ex.get_funding_rate("BTC")
        assert (rate["funding_rate"], rate["interval_hours"], rate["funding_rate_per_hour"]) == (0.0000125, 1.0, 0.0000125)
        await ex.close()
    # ccxt reads the USDC cash balance (free = total); the equity is in raw
    assert (col["available_collateral"], col["total_collateral"]) == (4970.000323, 4970.000323)
    assert "5478.140323" in str(col["raw"])
