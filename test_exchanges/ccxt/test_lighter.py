"""Lighter through the generic adapter. Orders are signed by Lighter's native library, which
the suite does not ship: what is tested offline is the requirement itself, the credentials
ccxt gets, and ccxt's market parsing (native symbols, decimal-places precision)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from exchange_factory import create_exchange
from mpdex.errors import ConfigError
from test_exchanges.ccxt.fake_venue import FakeVenue, serve


def _book(symbol: str, market_id: int, size_decimals: str, price_decimals: str, min_base: str) -> dict:
    return {"symbol": symbol, "market_id": market_id, "market_type": "perp", "base_asset_id": 0,
            "quote_asset_id": 0, "status": "active", "taker_fee": "0.0001", "maker_fee": "0.0000",
            "liquidation_fee": "0.01", "min_base_amount": min_base, "min_quote_amount": "0.1",
            "supported_size_decimals": size_decimals, "supported_price_decimals": price_decimals,
            "supported_quote_decimals": "6", "order_quote_limit": "281474976.710655", "size_decimals": size_decimals,
            "price_decimals": price_decimals, "quote_multiplier": "10000", "default_initial_margin_fraction": "500",
            "min_initial_margin_fraction": "200", "maintenance_margin_fraction": "120",
            "closeout_margin_fraction": "80", "last_trade_price": "3024.66", "daily_trades_count": "68",
            "daily_base_token_volume": "235.25", "daily_quote_token_volume": "93566.25",
            "daily_price_low": "3014.66", "daily_price_high": "3024.66", "daily_price_change": "3.66",
            "open_interest": "93.0", "daily_chart": "{}", "market_config": {
                "market_margin_mode": 0, "insurance_fund_account_index": 281474976710655, "liquidation_mode": 0,
                "force_reduce_only": False, "funding_fee_discounts_enabled": True, "trading_hours": "",
                "hidden": False}, "strategy_index": 0}


BOOKS = {"code": 200, "order_book_details": [_book("ETH", 0, "4", "2", "0.0050"), _book("BTC", 1, "5", "1", "0.00020")],
         "spot_order_book_details": []}


@pytest.fixture
def keys(tmp_path):
    lib = tmp_path / "lighter-signer-linux-amd64.so"
    lib.write_bytes(b"\0")  # never loaded by these tests: ccxt loads it on the first signed call
    return {"account_id": 123, "private_key": "ab" * 40, "api_key_id": 5, "signer_library": str(lib)}


async def test_markets_native_symbols_and_decimal_places(keys):
    v = FakeVenue()
    v.on("GET", "/api/v1/orderBookDetails", BOOKS)
    v.on("GET", "/api/v1/assetDetails", {"code": 200, "asset_details": [
        {"asset_id": 3, "symbol": "USDC", "l1_decimals": 6, "decimals": 6, "min_transfer_amount": "1.000000",
         "min_withdrawal_amount": "1.000000", "margin_mode": "enabled", "index_price": "1.000000",
         "l1_address": "0x95Fd23d5110f9D89A4b0B7d63D78F5B5Ea5074D1"}]})
    with serve(v):
        ex = await create_exchange("lighter", keys)
        assert ex.available_symbols == {"perp": ["BTC", "ETH"]}
        assert ex.resolve_symbol("eth") == "ETH" and ex.resolve_symbol("ETH/USDC:USDC") == "ETH"
        rules = ex.market_rules("BTC")
        assert (rules.size_step, rules.min_size) == (Decimal("0.00001"), Decimal("0.0002"))
        assert rules.price_grid.describe() == "tick 0.1"
        await ex.close()
    assert all("builder" not in s.url and "integrator" not in s.body for s in v.sent)


async def test_missing_signer_library_is_refused_before_any_request(keys):
    del keys["signer_library"]
    v = FakeVenue()
    with serve(v):
        with pytest.raises(ConfigError, match="native signer library"):
            await create_exchange("lighter", keys)
    assert v.sent == []
