"""The official ``hyperliquid-python-sdk`` — a live-tested client — works unchanged against the
paper server: ``Info`` / ``Exchange`` with ``base_url=paper.base_url`` and ``skip_ws=True``
place, query and cancel orders, trade at market, change leverage and approve agents. The
SDK signs testnet for any URL but mainnet's, which is the server's default network.

The SDK is synchronous (``requests``), so each scenario runs in a worker thread while the
server keeps serving on the test's event loop."""
from __future__ import annotations

import asyncio
from typing import Any

import eth_account
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from hyperliquid.utils.types import Cloid

from mpdex.paper import PaperHyperliquid


async def test_the_sdk_trades_queries_and_cancels(paper: PaperHyperliquid) -> None:
    fields = paper.account_fields(await paper.create_account(usdc=10_000))
    master = fields["wallet_address"]

    def scenario() -> dict[str, Any]:
        info = Info(paper.base_url, skip_ws=True)  # reads meta and spotMeta while it starts
        agent = eth_account.Account.from_key(fields["agent_api_private_key"])
        ex = Exchange(agent, paper.base_url, account_address=master)
        out: dict[str, Any] = {"coins": info.name_to_coin}
        out["rest"] = ex.order("BTC", True, 0.001, 90000, {"limit": {"tif": "Gtc"}}, cloid=Cloid.from_int(7))
        out["open"] = info.open_orders(master)
        out["by_cloid"] = info.query_order_by_cloid(master, Cloid.from_int(7))
        out["cancel"] = ex.cancel("BTC", out["open"][0]["oid"])
        out["after_cancel"] = info.query_order_by_oid(master, out["open"][0]["oid"])
        out["tick"] = ex.order("SOL", True, 1, 170.123, {"limit": {"tif": "Gtc"}})
        out["market"] = ex.market_open("ETH", True, 0.05)
        out["state"] = info.user_state(master)
        out["leverage"] = ex.update_leverage(5, "ETH")
        out["isolated"] = ex.update_leverage(5, "ETH", is_cross=False)
        out["close"] = ex.market_close("ETH")
        out["fills"] = info.user_fills(master)
        out["book"] = info.l2_snapshot("BTC")
        out["mids"] = info.all_mids()
        wallet = Exchange(eth_account.Account.from_key(fields["wallet_private_key"]), paper.base_url)
        out["approve"] = wallet.approve_agent("bot")
        out["agents"] = info.extra_agents(master)
        out["new_agent_order"] = Exchange(eth_account.Account.from_key(out["approve"][1]), paper.base_url,
                                          account_address=master).order("BTC", True, 0.001, 90000, {"limit": {"tif": "Alo"}})
        return out

    out = await asyncio.to_thread(scenario)
    assert {"BTC", "ETH", "SOL"} <= set(out["coins"])
    cloid = "0x" + "0" * 31 + "7"
    assert out["rest"] == {"status": "ok", "response": {"type": "order", "data": {
        "statuses": [{"resting": {"oid": 1, "cloid": cloid}}]}}}
    assert out["open"][0]["oid"] == 1 and out["by_cloid"]["order"]["status"] == "open"
    assert out["cancel"] == {"status": "ok", "response": {"type": "cancel", "data": {"statuses": ["success"]}}}
    assert out["after_cancel"]["order"]["status"] == "canceled"
    assert out["tick"]["response"]["data"]["statuses"] == [{"error": "Price must be divisible by tick size. asset=2"}]
    filled = out["market"]["response"]["data"]["statuses"][0]["filled"]
    assert filled["totalSz"] == "0.05"  # the SDK's IOC at mid × 1.05, rounded to 5 significant figures
    (eth,) = out["state"]["assetPositions"]
    assert (eth["position"]["coin"], eth["position"]["szi"]) == ("ETH", "0.05")
    assert out["leverage"] == {"status": "ok", "response": {"type": "default"}}
    assert out["isolated"] == {"status": "err", "response": "Isolated margin is not allowed for this asset."}
    assert out["close"]["response"]["data"]["statuses"][0]["filled"]["totalSz"] == "0.05"
    assert [f["dir"] for f in out["fills"]] == ["Close Long", "Open Long"]
    assert len(out["book"]["levels"][0]) == 20 and out["mids"]["BTC"] == "97000.0"
    assert out["approve"][0] == {"status": "ok", "response": {"type": "default"}}
    assert [a["name"] for a in out["agents"]] == ["bot"]
    assert "resting" in out["new_agent_order"]["response"]["data"]["statuses"][0]
    assert paper.ledger.position(paper.ledger.account_by_address(master).id, "ETH") is None  # type: ignore[union-attr]


async def test_the_sdk_sees_the_servers_refusals(paper: PaperHyperliquid) -> None:
    fields = paper.account_fields(await paper.create_account(usdc=100))
    master = fields["wallet_address"]
    stranger = eth_account.Account.create()

    def scenario() -> dict[str, Any]:
        agent = eth_account.Account.from_key(fields["agent_api_private_key"])
        ex = Exchange(agent, paper.base_url, account_address=master)
        return {
            "margin": ex.order("BTC", True, 0.1, 96000, {"limit": {"tif": "Gtc"}}),
            "min": ex.order("BTC", True, 0.0001, 96000, {"limit": {"tif": "Gtc"}}),
            "ioc": ex.order("BTC", True, 0.001, 96000, {"limit": {"tif": "Ioc"}}),
            "stranger": Exchange(stranger, paper.base_url).order("BTC", True, 0.001, 96000, {"limit": {"tif": "Gtc"}}),
        }

    out = await asyncio.to_thread(scenario)
    assert out["margin"]["response"]["data"]["statuses"] == [{"error": "Insufficient margin to place order. asset=0"}]
    assert out["min"]["response"]["data"]["statuses"] == [{"error": "Order must have minimum value of $10. asset=0"}]
    assert out["ioc"]["response"]["data"]["statuses"] == [
        {"error": "Order could not immediately match against any resting orders. asset=0"}]
    assert out["stranger"] == {"status": "err", "response":
                               f"L1 error: User or API Wallet {stranger.address.lower()} does not exist."}

