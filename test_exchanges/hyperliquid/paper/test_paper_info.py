"""``/info`` on the Hyperliquid paper server: the shapes of the samples, the account relations
of ``clearinghouseState``, list orders and limits, agents reading empty state, and the shared
REST faults' ``null`` bodies."""
from __future__ import annotations

from decimal import Decimal

from wrappers.hyperliquid_canonical import DESERIALIZE_ERROR

from .conftest import BTC, ETH, HlClient, now_ms

CTX_KEYS = {"dayNtlVlm", "funding", "impactPxs", "markPx", "midPx", "openInterest", "oraclePx", "premium", "prevDayPx",
            "dayBaseVlm"}
SUMMARY_KEYS = {"accountValue", "totalNtlPos", "totalRawUsd", "totalMarginUsed"}
POSITION_KEYS = {"coin", "szi", "leverage", "entryPx", "positionValue", "unrealizedPnl", "returnOnEquity", "liquidationPx",
                 "marginUsed", "maxLeverage", "cumFunding"}
FRONTEND_KEYS = {"coin", "side", "limitPx", "sz", "oid", "timestamp", "triggerCondition", "isTrigger", "triggerPx",
                 "children", "isPositionTpsl", "reduceOnly", "orderType", "origSz", "tif", "cloid"}
FILL_KEYS = {"coin", "px", "sz", "side", "time", "startPosition", "dir", "closedPnl", "hash", "oid", "crossed", "fee", "tid",
             "feeToken"}


def D(x: str) -> Decimal:
    return Decimal(x)


async def test_market_data_shapes(client: HlClient) -> None:
    meta = await client.info("meta")
    assert meta["universe"][0] == {"name": "BTC", "szDecimals": 5, "maxLeverage": 40, "marginTableId": 40}
    assert [40, {"description": "", "marginTiers": [{"lowerBound": "0.0", "maxLeverage": 40}]}] in meta["marginTables"]
    assert await client.info("meta", dex="") == meta and await client.info("meta", dex="xyz") is None
    meta2, ctxs = await client.info("metaAndAssetCtxs")
    assert meta2 == meta and len(ctxs) == len(meta["universe"])
    btc = ctxs[BTC]
    assert set(btc) == CTX_KEYS
    assert (btc["markPx"], btc["oraclePx"], btc["midPx"], btc["funding"]) == ("97000.0", "97000.0", "97000.0", "0.0000125")
    bid, ask = (D(x) for x in btc["impactPxs"])
    assert bid < D("96995") and ask >= D("97005")
    mids = await client.info("allMids")
    assert mids["BTC"] == "97000.0" and set(mids) == {u["name"] for u in meta["universe"]}
    book = await client.info("l2Book", coin="BTC")
    bids, asks = book["levels"]
    assert len(bids) == len(asks) == 20 and bids[0] == {"px": "96995.0", "sz": bids[0]["sz"], "n": 1}
    assert [D(b["px"]) for b in bids] == sorted((D(b["px"]) for b in bids), reverse=True)
    assert [D(a["px"]) for a in asks] == sorted(D(a["px"]) for a in asks) and asks[0]["px"] == "97005.0"
    coarse = await client.info("l2Book", coin="BTC", nSigFigs=2)
    assert coarse["levels"][0][0]["px"] == "96000.0" and coarse["levels"][1][0]["px"] == "98000.0"
    assert coarse["levels"][0][0]["n"] > 1
    assert await client.info("l2Book", coin="NOPE") is None
    for sig, mantissa in ((4, 2), (5, 1), (6, None)):
        assert await client.post("/info", {"type": "l2Book", "coin": "BTC", "nSigFigs": sig, "mantissa": mantissa}) == (
            500, None)
    fives = await client.info("l2Book", coin="BTC", nSigFigs=5, mantissa=5)
    assert all(D(lv["px"]) % 5 == 0 for side in fives["levels"] for lv in side)
    row = (await client.info("predictedFundings"))[0]
    assert row[0] == "BTC" and row[1][0][0] == "HlPerp" and row[1][0][1]["nextFundingTime"] % 3_600_000 == 0
    candles = await client.info("candleSnapshot", req={"coin": "BTC", "interval": "15m", "startTime": now_ms() - 3_600_000,
                                                       "endTime": now_ms()})
    assert candles and set(candles[-1]) == {"t", "T", "s", "i", "o", "c", "h", "l", "v", "n"}
    assert candles[-1]["T"] - candles[-1]["t"] == 15 * 60_000 - 1 and candles[-1]["i"] == "15m"
    assert await client.post("/info", {"type": "candleSnapshot", "req": {"coin": "BTC", "interval": "6h",
                                                                         "startTime": 0}}) == (422, DESERIALIZE_ERROR)
    spot = await client.info("spotMeta")
    assert spot["universe"] == [] and spot["tokens"][0]["name"] == "USDC"
    assert await client.info("perpDexs") == [None]


async def test_clearinghouse_state_relations_and_liquidation_prices(client: HlClient) -> None:
    empty = await client.info("clearinghouseState", user=client.user)
    assert empty["assetPositions"] == [] and empty["marginSummary"]["accountValue"] == "10000.0"
    assert (await client.order(BTC, True, "98000", "0.01", "Ioc"))["filled"]["totalSz"] == "0.01"
    assert "filled" in await client.order(ETH, False, "3400", "1", "Ioc")
    client.paper.set_price("BTC", "98000")
    state = await client.info("clearinghouseState", user=client.user)
    assert set(state) == {"marginSummary", "crossMarginSummary", "crossMaintenanceMarginUsed", "withdrawable",
                          "assetPositions", "time"}
    assert set(state["marginSummary"]) == SUMMARY_KEYS and state["marginSummary"] == state["crossMarginSummary"]
    btc, eth = (p["position"] for p in state["assetPositions"])  # in asset order
    assert all(p["type"] == "oneWay" for p in state["assetPositions"]) and set(btc) == POSITION_KEYS
    assert (btc["coin"], btc["szi"], btc["entryPx"], btc["positionValue"], btc["unrealizedPnl"]) == (
        "BTC", "0.01", "97005.0", "980.0", "9.95")
    assert (btc["leverage"], btc["maxLeverage"], btc["marginUsed"]) == ({"type": "cross", "value": 20}, 40, "49.0")
    assert btc["returnOnEquity"] == "0.20514406"  # 9.95 / (0.01 × 97005 / 20)
    assert btc["liquidationPx"] is None  # a long that 10 000 USDC carries to zero
    assert (eth["coin"], eth["szi"]) == ("ETH", "-1.0") and D(eth["liquidationPx"]) > D("3500")
    s = state["marginSummary"]
    exposure = D(btc["szi"]) * D("98000") + D(eth["szi"]) * D("3500")
    assert D(s["accountValue"]) == D(s["totalRawUsd"]) + exposure
    assert D(s["totalNtlPos"]) == D(btc["positionValue"]) + D(eth["positionValue"])
    assert D(s["totalMarginUsed"]) == D(btc["marginUsed"]) + D(eth["marginUsed"])
    balance = client.paper.ledger.account_by_address(client.user).balance  # type: ignore[union-attr]
    assert D(state["withdrawable"]) == min(balance, D(s["accountValue"])) - D(s["totalMarginUsed"])  # no unrealized profit
    assert btc["cumFunding"] == {"allTime": "0.0", "sinceOpen": "0.0", "sinceChange": "0.0"}


async def test_orders_and_fills_reads(client: HlClient) -> None:
    cloid = "0x" + "cd" * 16
    await client.order(BTC, True, "90000", "0.001", cloid=cloid)
    await client.order(BTC, False, "99000", "0.001", reduce_only=False)
    front = await client.info("frontendOpenOrders", user=client.user)
    assert [o["oid"] for o in front] == [2, 1] and set(front[0]) == FRONTEND_KEYS
    assert (front[1]["cloid"], front[0]["cloid"], front[1]["tif"], front[1]["orderType"]) == (cloid, None, "Gtc", "Limit")
    opened = await client.info("openOrders", user=client.user)
    assert opened[1]["cloid"] == cloid and "cloid" not in opened[0] and "reduceOnly" not in opened[0]
    assert await client.info("orderStatus", user=client.user, oid=12345) == {"status": "unknownOid"}
    assert await client.info("orderStatus", user=client.user, oid="0x" + "ee" * 16) == {"status": "unknownOid"}
    assert await client.post("/info", {"type": "orderStatus", "user": client.user, "oid": "0x12"}) == (422, DESERIALIZE_ERROR)
    found = await client.info("orderStatus", user=client.user, oid=cloid.upper().replace("0X", "0x"))
    assert found["order"]["order"]["oid"] == 1 and found["order"]["status"] == "open"

    t0 = now_ms()
    for _ in range(3):
        await client.order(BTC, True, "98000", "0.0005", "Ioc")
    big = await client.order(BTC, True, "97100", "0.6", "Ioc")  # takes several levels: several fills, one time
    assert "filled" in big
    fills = await client.info("userFills", user=client.user)
    assert set(fills[0]) == FILL_KEYS and [f["time"] for f in fills] == sorted((f["time"] for f in fills), reverse=True)
    by_time = await client.info("userFillsByTime", user=client.user, startTime=t0)
    assert by_time == list(reversed(fills))
    agg = await client.info("userFillsByTime", user=client.user, startTime=t0, aggregateByTime=True)
    assert len(agg) == 4 and D(agg[-1]["sz"]) == D(big["filled"]["totalSz"]) and D(agg[-1]["px"]) == D(big["filled"]["avgPx"])
    assert await client.info("userFillsByTime", user=client.user, startTime=now_ms() + 1000) == []
    history = await client.info("historicalOrders", user=client.user)
    assert history[0]["order"]["oid"] == big["filled"]["oid"] and history[0]["status"] == "filled"
    assert set(history[0]) == {"order", "status", "statusTimestamp"}


async def test_funding_is_hourly_on_the_oracle_and_longs_pay_a_positive_rate(client: HlClient) -> None:
    await client.order(BTC, True, "98000", "0.01", "Ioc")
    client.paper.set_funding_rate("BTC", "0.0001")
    t = now_ms() - now_ms() % 3_600_000 + 3_600_000  # the next hour
    client.paper.sim.apply_funding(t)
    (row,) = [r for r in await client.info("fundingHistory", coin="BTC", startTime=t - 1) if r["time"] == t]
    assert row == {"coin": "BTC", "fundingRate": "0.0001", "premium": "0.0", "time": t}
    (paid,) = await client.info("userFunding", user=client.user, startTime=t - 1)
    assert paid["time"] == t and paid["hash"].startswith("0x") and paid["delta"] == {
        "type": "funding", "coin": "BTC", "usdc": "-0.097", "szi": "0.01", "fundingRate": "0.0001", "nSamples": None}
    (pos,) = (await client.info("clearinghouseState", user=client.user))["assetPositions"]
    assert pos["position"]["cumFunding"] == {"allTime": "0.097", "sinceOpen": "0.097", "sinceChange": "0.097"}
    assert (await client.info("metaAndAssetCtxs"))[1][BTC]["funding"] == "0.0001"


async def test_account_extras(client: HlClient) -> None:
    await client.order(BTC, True, "98000", "0.01", "Ioc")
    data = await client.info("activeAssetData", user=client.user, coin="BTC")
    assert set(data) == {"user", "coin", "leverage", "maxTradeSzs", "availableToTrade", "markPx"}
    assert data["leverage"] == {"type": "cross", "value": 20} and data["markPx"] == "97000.0"
    buy, sell = (D(x) for x in data["maxTradeSzs"])
    assert sell - buy == D("0.01")  # a sell closes the long first
    assert await client.info("activeAssetData", user=client.user, coin="NOPE") is None
    limits = await client.info("userRateLimit", user=client.user)
    assert limits == {"cumVlm": "970.05", "nRequestsUsed": 2, "nRequestsCap": 10970}
    fees = await client.info("userFees", user=client.user)
    assert (fees["userCrossRate"], fees["userAddRate"]) == ("0.00045", "0.00015")
    assert len(fees["dailyUserVlm"]) == 15 and fees["dailyUserVlm"][-1]["userCross"] == "970.05"
    assert await client.info("userAbstraction", user=client.user) == "default"
    assert await client.info("userRole", user=client.user) == {"role": "user"}
    assert await client.info("maxBuilderFee", user=client.user, builder="0x" + "12" * 20) == 0
    assert await client.info("spotClearinghouseState", user=client.user) == {"balances": []}


async def test_an_agent_address_reads_empty_state(client: HlClient) -> None:
    await client.order(BTC, True, "90000", "0.001", cloid="0x" + "01" * 16)
    assert "filled" in await client.order(BTC, True, "98000", "0.001", "Ioc")
    assert client.agent is not None
    agent = client.agent.address
    state = await client.info("clearinghouseState", user=agent)
    assert state["assetPositions"] == [] and state["marginSummary"]["accountValue"] == "0.0"
    for kind in ("openOrders", "frontendOpenOrders", "userFills", "historicalOrders"):
        assert await client.info(kind, user=agent) == []
    assert await client.info("orderStatus", user=agent, oid=1) == {"status": "unknownOid"}
    assert await client.info("userRole", user=agent) == {"role": "agent", "data": {"user": client.user.lower()}}


async def test_rest_faults_answer_null(client: HlClient) -> None:
    client.paper.faults.rate_limit(1, retry_after=3)
    async with client.session.post(client.paper.base_url + "/info", json={"type": "allMids"}) as resp:
        assert (resp.status, await resp.text(), resp.headers.get("Retry-After")) == (429, "null", None)
    client.paper.faults.server_error(1, status=502)
    assert await client.post("/info", {"type": "allMids"}) == (502, None)
    assert "BTC" in await client.info("allMids")
    assert (await client.post("/nowhere", {}))[0] == 404
