"""Orders, cancels and leverage on the Hyperliquid paper server: every rule with its exact
string, one status per order, refused orders recorded with their ``…Rejected`` status, and
the HTTP-200 shapes of the samples.

The market starts at its reference prices (BTC 97000: best bid 96995, best ask 97005, levels
10 apart; BTC is asset 0, szDecimals 5, max leverage 40; SOL asset 2, szDecimals 2)."""
from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from mpdex.paper import PaperHyperliquid
from wrappers.hyperliquid_wire import (
    cancel_action,
    cancel_by_cloid_action,
    limit_type,
    noop_action,
    order_action,
    order_wire,
    schedule_cancel_action,
    trigger_type,
    update_isolated_margin_action,
    update_leverage_action,
)

from .conftest import BTC, SOL, HlClient

OK_DEFAULT = {"status": "ok", "response": {"type": "default"}}


def cl(n: int) -> str:
    return f"0x{n:032x}"


def wire(asset: int, is_buy: bool, px: str, sz: str, tif: str = "Gtc", **kw: Any) -> dict[str, Any]:
    return order_wire(asset, is_buy, Decimal(px), Decimal(sz), order_type=limit_type(tif), **kw)  # type: ignore[arg-type]


async def status_of(client: HlClient, ref: int | str) -> Any:
    return await client.info("orderStatus", user=client.user, oid=ref)


async def test_size_price_tick_and_band(client: HlClient) -> None:
    assert await client.order(BTC, True, "90000", "0.000001") == {"error": "Order has invalid size."}
    assert await client.order(BTC, True, "90000.12", "0.001") == {"error": "Order has invalid price."}
    assert await client.order(SOL, True, "170.123", "1", cloid=cl(1)) == {"error": "Price must be divisible by tick size. asset=2"}
    assert (await status_of(client, cl(1)))["order"]["status"] == "tickRejected"
    assert await client.order(BTC, True, "180000", "0.001", cloid=cl(2)) == {
        "error": "Order price cannot be more than 80% away from the reference price"}
    assert (await status_of(client, cl(2)))["order"]["status"] == "oracleRejected"
    assert await client.order(BTC, False, "19000", "0.001") == {
        "error": "Order price cannot be more than 80% away from the reference price"}
    # integers are valid whatever their significant figures; 5 significant figures are valid
    assert "resting" in await client.order(BTC, False, "123457", "0.001")
    assert "resting" in await client.order(SOL, True, "170.12", "1")
    # the static refusals got no order id; the recorded refusals did, and are listed
    history = await client.info("historicalOrders", user=client.user)
    assert [(o["order"]["oid"], o["status"]) for o in history] == [
        (5, "open"), (4, "open"), (3, "oracleRejected"), (2, "oracleRejected"), (1, "tickRejected")]


async def test_min_notional_reduce_only_shrink_and_the_close_exemption(client: HlClient) -> None:
    assert await client.order(BTC, True, "98000", "0.0001") == {"error": "Order must have minimum value of $10. asset=0"}
    assert await client.order(BTC, False, "96000", "0.001", "Ioc", reduce_only=True, cloid=cl(3)) == {
        "error": "Reduce only order would increase position. asset=0"}
    assert (await status_of(client, cl(3)))["order"]["status"] == "reduceOnlyRejected"
    filled = await client.order(BTC, True, "98000", "0.00011", "Ioc")  # refusals 1 and 2 were recorded
    assert filled == {"filled": {"totalSz": "0.00011", "avgPx": "97005.0", "oid": 3}}
    assert await client.order(BTC, True, "98000", "0.001", "Ioc", reduce_only=True) == {
        "error": "Reduce only order would increase position. asset=0"}
    client.paper.set_price("BTC", "80000")  # the position is now worth $8.80
    assert await client.order(BTC, False, "79000", "0.0001", "Ioc", reduce_only=True) == {
        "error": "Order must have minimum value of $10. asset=0"}  # a partial close under $10
    closed = await client.order(BTC, False, "79000", "0.001", "Ioc", reduce_only=True, cloid=cl(4))  # shrunk to 0.00011
    assert closed == {"filled": {"totalSz": "0.00011", "avgPx": "79996.0", "oid": 6, "cloid": cl(4)}}
    order = (await status_of(client, cl(4)))["order"]
    assert (order["status"], order["order"]["origSz"], order["order"]["sz"]) == ("filled", "0.001", "0.0")
    assert (await client.info("clearinghouseState", user=client.user))["assetPositions"] == []


async def test_post_only_crossing_is_refused_with_the_bbo(client: HlClient) -> None:
    assert await client.order(BTC, True, "97005", "0.001", "Alo", cloid=cl(5)) == {
        "error": "Post only order would have immediately matched, bbo was 96995@97005. asset=0"}
    assert (await status_of(client, cl(5)))["order"]["status"] == "badAloPxRejected"
    assert await client.order(BTC, False, "96995", "0.001", "Alo") == {
        "error": "Post only order would have immediately matched, bbo was 96995@97005. asset=0"}
    assert await client.order(BTC, True, "96990", "0.001", "Alo") == {"resting": {"oid": 3}}


async def test_ioc_takes_what_is_there_and_cancels_the_rest(client: HlClient) -> None:
    assert await client.order(BTC, True, "96000", "0.001", "Ioc", cloid=cl(6)) == {
        "error": "Order could not immediately match against any resting orders. asset=0"}
    assert (await status_of(client, cl(6)))["order"]["status"] == "iocCancelRejected"
    bids, asks = client.paper.sim.prices.book("BTC")
    first = asks[0][1]
    part = await client.order(BTC, True, "97005", "1", "Ioc", cloid=cl(7))
    assert part == {"filled": {"totalSz": str(first), "avgPx": "97005.0", "oid": 2, "cloid": cl(7)}}
    order = (await status_of(client, cl(7)))["order"]
    assert (order["status"], order["order"]["sz"]) == ("filled", str(Decimal(1) - first))  # sz: what did not fill
    assert await client.info("openOrders", user=client.user) == []


async def test_gtc_rests_then_fills_as_maker_when_the_market_comes(client: HlClient) -> None:
    resting = await client.order(BTC, True, "96000", "0.001", cloid=cl(8))
    assert resting == {"resting": {"oid": 1, "cloid": cl(8)}}
    (open_order,) = await client.info("openOrders", user=client.user)
    assert open_order == {"coin": "BTC", "side": "B", "limitPx": "96000.0", "sz": "0.001", "oid": 1,
                          "timestamp": open_order["timestamp"], "origSz": "0.001", "cloid": cl(8)}
    client.paper.set_price("BTC", "95500")
    assert (await status_of(client, 1))["order"]["status"] == "filled"
    (fill,) = await client.info("userFills", user=client.user)
    assert (fill["px"], fill["sz"], fill["crossed"], fill["fee"], fill["dir"], fill["cloid"]) == (
        "96000.0", "0.001", False, "0.0144", "Open Long", cl(8))  # maker fee 0.015 %


async def test_a_batch_answers_one_status_per_order_and_each_order_stands_alone(client: HlClient) -> None:
    statuses = await client.orders(
        wire(BTC, True, "96000", "0.001"),
        wire(BTC, True, "96000", "0.0000001"),
        wire(BTC, True, "96000", "0.001", "Ioc"),
        wire(BTC, True, "98000", "0.001", "Ioc"),
        wire(BTC, True, "96000", "5"),
    )
    assert statuses == [
        {"resting": {"oid": 1}},
        {"error": "Order has invalid size."},
        {"error": "Order could not immediately match against any resting orders. asset=0"},
        {"filled": {"totalSz": "0.001", "avgPx": "97005.0", "oid": 3}},
        {"error": "Insufficient margin to place order. asset=0"},
    ]
    assert (await status_of(client, 4))["order"]["status"] == "perpMarginRejected"
    assert [o["oid"] for o in await client.info("frontendOpenOrders", user=client.user)] == [1]


async def test_batch_level_refusals(client: HlClient) -> None:
    assert (await client.act(order_action([])))["response"]["data"]["statuses"] == [{"error": "Orders are empty."}]
    tpsl = order_action([wire(BTC, True, "96000", "0.001")], grouping="normalTpsl")
    assert (await client.act(tpsl))["response"]["data"]["statuses"] == [
        {"error": "TP/SL groupings are not supported by the paper exchange."}]
    trig = order_wire(BTC, False, Decimal(90000), Decimal("0.001"), reduce_only=True,
                      order_type=trigger_type(Decimal(91000), is_market=True, tpsl="sl"))
    assert await client.orders(trig, wire(99, True, "1", "1")) == [
        {"error": "Trigger orders are not supported by the paper exchange."}, {"error": "Order has invalid asset."}]
    builder = order_action([wire(BTC, True, "96000", "0.001")], builder={"b": "0x" + "12" * 20, "f": 0})
    assert await client.act(builder) == {"status": "err", "response": "Builder fee has not been approved."}
    many = cancel_action([(BTC, k) for k in range(1, 202)])
    assert await client.act(many) == {"status": "err", "response": "Signed action over weight limit of 200."}
    web_ui = wire(BTC, True, "98000", "0.001", "Ioc")
    web_ui["t"] = {"limit": {"tif": "FrontendMarket"}}  # the web UI's market orders: taken as IOC
    (market,) = await client.orders(web_ui)
    assert "filled" in market
    assert (await status_of(client, market["filled"]["oid"]))["order"]["order"]["orderType"] == "Market"
    assert await client.act(noop_action()) == OK_DEFAULT


async def test_cancels_by_oid_and_cloid(client: HlClient, paper: PaperHyperliquid, session: aiohttp.ClientSession) -> None:
    await client.orders(wire(BTC, True, "96000", "0.001", cloid=cl(9)), wire(BTC, True, "95000", "0.001"),
                        wire(SOL, False, "190", "1", cloid=cl(10)))
    miss0, miss2 = "Order was never placed, already canceled, or filled. asset=0", \
        "Order was never placed, already canceled, or filled. asset=2"
    body = await client.act(cancel_action([(BTC, 2), (BTC, 2), (BTC, 999), (SOL, 1)]))
    assert body == {"status": "ok", "response": {"type": "cancel", "data": {"statuses": [
        "success", {"error": miss0}, {"error": miss0}, {"error": miss2}]}}}
    other = HlClient(paper, session, await paper.create_account(usdc=1000))
    assert (await other.act(cancel_by_cloid_action([(BTC, cl(9))])))["response"]["data"]["statuses"] == [{"error": miss0}]
    body = await client.act(cancel_by_cloid_action([(BTC, cl(9)), (SOL, cl(10)), (SOL, cl(10))]))
    assert body["response"] == {"type": "cancel", "data": {"statuses": ["success", "success", {"error": miss2}]}}
    assert (await status_of(client, cl(9)))["order"]["status"] == "canceled"
    assert await client.info("openOrders", user=client.user) == []


async def test_update_leverage_cross_only(client: HlClient) -> None:
    assert await client.act(update_leverage_action(BTC, 10, is_cross=True)) == OK_DEFAULT
    data = await client.info("activeAssetData", user=client.user, coin="BTC")
    assert data["leverage"] == {"type": "cross", "value": 10}
    assert await client.act(update_leverage_action(BTC, 10, is_cross=False)) == {
        "status": "err", "response": "Isolated margin is not allowed for this asset."}
    assert await client.act(update_leverage_action(BTC, 41, is_cross=True)) == {
        "status": "err", "response": "Invalid leverage value."}
    assert await client.act(update_leverage_action(99, 2, is_cross=True)) == {"status": "err", "response": "Invalid asset."}
    assert await client.act(update_isolated_margin_action(BTC, 1_000_000)) == {
        "status": "err", "response": "Cannot update isolated margin of a cross position."}
    assert "filled" in await client.order(BTC, True, "98000", "0.9", "Ioc")  # ~$87k at 10x: $8.7k of $10k margin
    assert await client.act(update_leverage_action(BTC, 2, is_cross=True)) == {"status": "err", "response": (
        "Cross position does not have sufficient margin available to decrease leverage. "
        "To decrease leverage, add margin to the position.")}
    (pos,) = (await client.info("clearinghouseState", user=client.user))["assetPositions"]
    assert pos["position"]["leverage"] == {"type": "cross", "value": 10}


async def test_schedule_cancel_needs_volume_then_cancels_everything_at_its_time(session: aiohttp.ClientSession) -> None:
    clock = [1_800_000_000_000]
    async with PaperHyperliquid(tick_interval=None, auto_funding=False, clock_ms=lambda: clock[0]) as paper:
        c = HlClient(paper, session, await paper.create_account(usdc=2_000_000))
        counter = itertools.count(1)
        c.nonce = lambda: clock[0] + next(counter)  # type: ignore[method-assign]
        assert "filled" in await c.order(BTC, True, "97005", "0.001", "Ioc")
        assert await c.act(schedule_cancel_action(clock[0] + 10_000)) == {"status": "err", "response": (
            "Cannot set scheduled cancel time until enough volume traded. Required: $1000000. Traded: $97.01.")}
        await c.act(update_leverage_action(BTC, 40, is_cross=True))
        for is_buy, px in ((True, "99000"), (False, "95000")) * 3:
            assert "filled" in await c.order(BTC, is_buy, px, "2", "Ioc")
        assert paper.store.volume(paper.ledger.account_by_address(c.user).id) > 1_000_000  # type: ignore[union-attr]
        assert await c.act(schedule_cancel_action(clock[0] + 4_000)) == {
            "status": "err", "response": "Scheduled cancel time must be at least 5 seconds in the future."}
        await c.orders(wire(BTC, True, "90000", "0.001"), wire(SOL, True, "150", "1"))
        assert await c.act(schedule_cancel_action(clock[0] + 6_000)) == OK_DEFAULT
        clock[0] += 6_000
        paper.housekeeping()
        orders = await c.info("historicalOrders", user=c.user)
        assert [o["status"] for o in orders[:2]] == ["scheduledCancel", "scheduledCancel"]
        assert await c.info("openOrders", user=c.user) == []


async def test_the_address_budget(session: aiohttp.ClientSession) -> None:
    clock = [1_800_000_000_000]
    async with PaperHyperliquid(tick_interval=None, auto_funding=False, clock_ms=lambda: clock[0],
                                address_request_base=3) as paper:
        c = HlClient(paper, session, await paper.create_account(usdc=1000))  # its approveAgent: 1 request
        n = iter(range(clock[0], clock[0] + 1000))
        assert (await c.act(noop_action(), nonce=next(n)))["status"] == "ok"
        assert (await c.act(noop_action(), nonce=next(n)))["status"] == "ok"  # 3 of 3
        assert (await c.act(noop_action(), nonce=next(n)))["status"] == "ok"  # past the cap: one request per 10 s
        blocked = c.signed(noop_action(), nonce=next(n))
        assert await c.post("/exchange", blocked) == (200, {"status": "err", "response": (
            "Too many cumulative requests sent (5 > 3) for cumulative volume traded $0.00. "
            "Place taker orders to free up 1 request per USDC traded.")})
        clock[0] += 10_000
        assert (await c.post("/exchange", blocked))[1] == OK_DEFAULT  # the refusal consumed nothing
        assert await c.info("userRateLimit", user=c.user) == {"cumVlm": "0.0", "nRequestsUsed": 5, "nRequestsCap": 3}


async def test_a_lost_response_leaves_exactly_one_order_findable_by_cloid(client: HlClient) -> None:
    client.paper.faults.lose_next_order_response()
    body = client.signed(order_action([wire(BTC, True, "96000", "0.001", cloid=cl(11))]))
    with pytest.raises(aiohttp.ClientError):
        await client.post("/exchange", body)
    found = await status_of(client, cl(11))
    assert (found["status"], found["order"]["status"], found["order"]["order"]["oid"]) == ("order", "open", 1)
    assert (await client.post("/exchange", body))[1] == {  # the same bytes again: the nonce says it got through
        "status": "err", "response": f"Invalid nonce: duplicate nonce {body['nonce']}"}
    assert len(await client.info("openOrders", user=client.user)) == 1
    assert client.paper.stats["order_responses_lost"] == 1
