"""The Hyperliquid adapter (``create_exchange("hyperliquid", key)``) end to end against the
paper server, for what is Hyperliquid's own (the shared contract runs in
``test_exchanges/contract``): the paper key is a ``HyperliquidKey`` for the server's network,
the server's refusals arrive as typed errors with the table's codes, a refusal the adapter
can see coming is never sent, and a lost answer — of an order that rests, fills or was
refused — is settled by ``orderStatus`` by cloid into exactly one order."""
from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from exchange_factory import create_exchange
from mpdex.errors import ExchangeError, InvalidOrder
from mpdex.paper import PaperHyperliquid
from wrappers.hyperliquid_keys import HyperliquidKey


@pytest.fixture
async def ex(paper: PaperHyperliquid) -> AsyncIterator[Any]:
    exchange = await create_exchange("hyperliquid", await paper.create_account(usdc=10_000), use_ws=False)
    yield exchange
    await exchange.close()


def _orders(paper: PaperHyperliquid) -> list[Any]:
    return paper.ledger.query_all("SELECT id, status, reason FROM orders ORDER BY CAST(id AS INTEGER)")


async def test_the_paper_key_is_a_hyperliquid_key_for_the_servers_network(paper: PaperHyperliquid) -> None:
    key = await paper.create_account(usdc=100)
    assert isinstance(key, HyperliquidKey)
    assert (key.network, key.rest_url, key.ws_url, key.by_agent) == ("testnet", paper.base_url, paper.ws_url, True)
    assert paper.store.agent(key.agent_api_address or "").account_id == paper.ledger.account_by_address(  # type: ignore[union-attr]
        key.wallet_address).id  # type: ignore[union-attr]
    secrets = (key.agent_api_private_key, key.wallet_private_key)
    assert all(s and s[2:] not in repr(key) for s in secrets)


async def test_refusals_arrive_typed_and_what_can_be_seen_coming_is_not_sent(paper: PaperHyperliquid, ex: Any) -> None:
    with pytest.raises(InvalidOrder) as crossing:
        await ex.create_order("BTC", "buy", "0.001", price="97005", time_in_force="ALO")
    assert crossing.value.code == "POST_ONLY_WOULD_CROSS" and "bbo was 96995@97005. asset=0" in str(crossing.value)
    with pytest.raises(InvalidOrder) as ioc:
        await ex.create_order("BTC", "buy", "0.001", price="96000", time_in_force="IOC")
    assert ioc.value.code == "IOC_NO_MATCH"
    with pytest.raises(ExchangeError, match="Isolated margin is not allowed for this asset"):
        await ex.update_leverage("BTC", 3, "isolated")
    sent = paper.stats["rest_requests"]
    with pytest.raises(InvalidOrder):
        await ex.create_order("BTC", "buy", "0.0001", price="96000")  # $9.60: refused before signing
    assert paper.stats["rest_requests"] == sent
    assert [(s, r) for _, s, r in _orders(paper)] == [("REJECTED", "post_only_would_cross"), ("REJECTED", "ioc_no_match")]


async def test_limit_rounding_is_in_the_users_favour_and_rests_as_sent(paper: PaperHyperliquid, ex: Any) -> None:
    res = await ex.create_order("BTC", "buy", "0.0012345", price="90000.7")
    assert (res["status"], res["size"], res["price"]) == ("NEW", 0.00123, 90000.0)
    (o,) = paper.ledger.open_orders()
    assert (o.size, o.limit_price, o.client_id) == ("0.00123", "90000", res["client_order_id"])
    assert (await ex.get_order(client_order_id=res["client_order_id"]))["status"] == "NEW"


@pytest.mark.parametrize("price, status", [("96000", "NEW"), (None, "FILLED")])
async def test_a_lost_answer_is_settled_into_exactly_one_order(paper: PaperHyperliquid, ex: Any, price: Any,
                                                               status: str) -> None:
    paper.faults.lose_next_order_response()
    res = await ex.create_order("BTC", "buy", "0.001", price=price)
    assert res["status"] == status and res["client_order_id"]
    (only,) = _orders(paper)
    assert only[1] == ("NEW" if price else "FILLED")
    assert paper.stats["order_responses_lost"] == 1 and paper.stats["orders_accepted"] == 1


async def test_a_mainnet_paper_server_and_its_key(session: Any) -> None:
    async with PaperHyperliquid(network="mainnet", tick_interval=None, auto_funding=False) as paper:
        key = await paper.create_account(usdc=1000)
        assert key.network == "mainnet"
        ex = await create_exchange("hyperliquid", key, use_ws=False)
        try:
            res = await ex.create_order("ETH", "buy", "0.01")
            assert res["status"] == "FILLED"
            pos = await ex.get_position("ETH")
            assert (pos["side"], pos["size"]) == ("long", 0.01)
            assert Decimal(str((await ex.get_collateral())["total_collateral"])) > 0
        finally:
            await ex.close()


async def test_reads_through_the_adapter(paper: PaperHyperliquid) -> None:
    paper.set_funding_rate("BTC", "0.0001")  # before the adapter's first metaAndAssetCtxs, which it reuses briefly
    ex = await create_exchange("hyperliquid", await paper.create_account(usdc=10_000), use_ws=False)
    try:
        rate = await ex.get_funding_rate("BTC")
        assert rate["funding_rate"] == pytest.approx(0.0001) and rate["interval_hours"] == 1
        await ex.create_order("BTC", "buy", "0.01")
        paper.apply_funding()
        (entry,) = await ex.get_funding_history("BTC", limit=1)
        assert entry["funding_rate"] == pytest.approx(0.0001)
        fees = await ex.get_trading_fees("BTC")
        assert (fees["maker"], fees["taker"]) == (0.00015, 0.00045)
        book = await ex.get_orderbook("BTC")
        assert book["bids"][0][0] < book["asks"][0][0]
        assert len(await ex.get_klines("BTC", "1m", limit=5)) == 5
        info = await ex.get_leverage_info("BTC")
        assert (info["leverage"], info["max_leverage"]) == (20, 40)
    finally:
        await ex.close()
