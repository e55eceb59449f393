"""MultiPerpDexMixin defaults against a small in-test exchange."""
from __future__ import annotations

from typing import Any

import pytest

from multi_perp_dex import MultiPerpDex, MultiPerpDexMixin


class PaperBook(MultiPerpDexMixin, MultiPerpDex):
    """Implements the abstract primitives and records the orders it receives."""

    def __init__(self, position: Any = None) -> None:
        super().__init__()
        self.position = position
        self.orders: list[tuple] = []
        self.position_calls = 0
        self.closed = 0
        self.available_symbols = {"perp": ["BTC-PERP", "ETH-PERP"]}

    async def init(self):
        return self

    async def create_order(self, symbol, side, amount, price=None, order_type="market", *,
                           is_reduce_only=False, time_in_force=None, client_id=None, slippage=None):
        self.orders.append((symbol, side, amount, price, order_type, is_reduce_only))
        return {"id": "1", "order_id": "1", "client_order_id": "7", "symbol": symbol, "side": side,
                "size": float(amount), "price": None, "order_type": "market", "status": "FILLED", "raw": {}}

    async def get_position(self, symbol):
        self.position_calls += 1
        return self.position

    async def get_collateral(self):
        return {"available_collateral": 1.0, "total_collateral": 1.0}

    async def get_open_orders(self, symbol=None):
        return []

    async def cancel_orders(self, symbol, open_orders=None):
        return []

    async def get_mark_price(self, symbol):
        return 1.0

    async def get_orderbook(self, symbol, timeout=5.0):
        return {"bids": [], "asks": [], "time": 0}

    async def close(self, force_close=True):
        self.closed += 1


LONG = {"symbol": "BTC-PERP", "side": "long", "size": 0.25, "entry_price": 1.0,
        "unrealized_pnl": 0.0, "liquidation_price": None, "raw_data": {}}


async def test_close_fetches_the_position_and_sends_a_reduce_only_opposite_market_order():
    ex = PaperBook(position=LONG)
    result = await ex.close_position("BTC-PERP")
    assert ex.position_calls == 1
    assert ex.orders == [("BTC-PERP", "sell", 0.25, None, "market", True)]
    assert result["side"] == "sell" and result["size"] == 0.25


async def test_close_uses_the_given_position_without_fetching():
    ex = PaperBook(position=None)
    short = dict(LONG, side="short", size=3.0)
    await ex.close_position("BTC-PERP", short, is_reduce_only=False)
    assert ex.position_calls == 0
    assert ex.orders == [("BTC-PERP", "buy", 3.0, None, "market", False)]


async def test_close_when_flat_returns_none_and_sends_nothing():
    ex = PaperBook(position=None)
    assert await ex.close_position("BTC-PERP") is None
    assert await ex.close_position("BTC-PERP", dict(LONG, size=0)) is None
    assert ex.orders == []


async def test_close_refuses_a_position_without_a_side():
    with pytest.raises(ValueError):
        await PaperBook().close_position("BTC-PERP", dict(LONG, side="flat"))


async def test_defaults_and_attributes():
    ex = PaperBook()
    assert set(ex.ws_supported) == {"get_mark_price", "get_position", "get_open_orders", "get_collateral",
                                    "get_orderbook", "create_order", "cancel_orders", "update_leverage"}
    assert ex.has_spot is False and ex.has_margin_mode is False and ex.ws_client is None
    assert await ex.get_available_symbols() == {"perp": ["BTC-PERP", "ETH-PERP"]}
    assert ex.get_perp_quote("BTC-PERP") == "USDC"  # a plain method, as in mpdex
    info = await ex.get_leverage_info("BTC-PERP")
    assert info["status"] == "not_implemented" and info["symbol"] == "BTC-PERP"
    upd = await ex.update_leverage("BTC-PERP", 5)
    assert upd["status"] == "not_implemented" and upd["leverage"] == 5


async def test_async_with_closes():
    async with PaperBook() as ex:
        pass
    assert ex.closed == 1


def test_contract_is_abstract():
    with pytest.raises(TypeError):
        MultiPerpDex()  # type: ignore[abstract]
