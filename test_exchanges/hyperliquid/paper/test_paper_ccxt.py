"""ccxt's Hyperliquid (``ccxt:hyperliquid``, another live-tested client) works against the
paper server too: it reads ``meta`` and ``spotMeta``, signs testnet in sandbox mode (the key's
``network``), trades at market and limit, cancels, reads positions and collateral, closes."""
from __future__ import annotations

import pytest

from exchange_factory import create_exchange
from mpdex.paper import PaperHyperliquid

pytest.importorskip("ccxt.async_support")


async def test_ccxt_hyperliquid_trades_on_the_paper_server(paper: PaperHyperliquid) -> None:
    key = await paper.create_account(usdc=10_000)
    ex = await create_exchange("ccxt:hyperliquid", key)
    try:
        assert await ex.get_mark_price("BTC") == 97000.0
        market = await ex.create_order("BTC", "buy", "0.001")
        assert (market["status"], market["filled_size"]) == ("FILLED", 0.001)
        limit = await ex.create_order("BTC", "buy", "0.001", price="90000")
        assert limit["status"] == "NEW"
        assert [(o["id"], o["price"]) for o in await ex.get_open_orders("BTC")] == [(limit["id"], 90000.0)]
        assert [r["status"] for r in await ex.cancel_orders("BTC")] == ["ok"]
        pos = await ex.get_position("BTC")
        assert (pos["side"], pos["size"], pos["entry_price"]) == ("long", 0.001, 97005.0)
        assert (await ex.get_collateral())["total_collateral"] == pytest.approx(9999.951348)
        assert (await ex.close_position("BTC"))["status"] == "FILLED"
        account = paper.ledger.account_by_address(key.wallet_address)
        assert account is not None and paper.ledger.position(account.id, "BTC") is None
        assert [o.status for o in paper.ledger.find_orders(account.id)] == ["FILLED", "CANCELLED", "FILLED"]
    finally:
        await ex.close()
