"""Paper fills, PnL, margin and funding on worked examples through the Vest wire (the pure
engine's worked examples are in core/test_engine.py)."""
from __future__ import annotations

import asyncio
from decimal import Decimal as D

from mpdex.paper import PaperVest
from test_exchanges.conftest import load_sample
from test_exchanges.paper_helpers import RawClient, best, fresh_nonce, now_ms

pytest_plugins = ("test_exchanges.paper_helpers",)


# --- through the wire --------------------------------------------------------------------


async def test_market_round_trip_worked_example(client: RawClient, paper: PaperVest) -> None:
    paper.set_price("ETH-PERP", "3500.00")
    assert await best(client, "ETH-PERP") == ("3499.82", "3500.18")  # half spread 0.5 bp, on the tick
    _, placed = await client.place(symbol="ETH-PERP", size="1.000", limit_price="3510.00")
    order = await client.order_by_id(placed["id"])
    assert order["status"] == "FILLED" and order["avgFilledPrice"] == "3500.18"
    assert order["fees"] == "0.350018" and order["realizedPnl"] == "-0.350018"
    assert order["markPrice"] == "3500.00" and order["initMarginRatio"] == "0.1000"

    paper.set_price("ETH-PERP", "3600.00")
    acc = await client.account()
    assert acc["balances"] == [{"asset": "USDC", "total": "9999.649982", "locked": "360.000000"}]
    assert acc["totalAccountValue"] == "10099.469982"  # + (3600.00 - 3500.18)
    assert acc["totalMaintMargin"] == "36.000000"
    pos = acc["positions"][0]
    assert {k: pos[k] for k in ("symbol", "isLong", "size", "entryPrice", "unrealizedPnl", "initMargin", "markPrice")} == {
        "symbol": "ETH-PERP", "isLong": True, "size": "1.000", "entryPrice": "3500.18",
        "unrealizedPnl": "99.820000", "initMargin": "360.000000", "markPrice": "3600.00",
    }
    assert set(pos) == set(load_sample("rest_account.json")["positions"][0])  # documented fields
    assert set(acc) == set(load_sample("rest_account.json"))

    _, closed = await client.place(symbol="ETH-PERP", is_buy=False, size="1.000", limit_price="3590.00", reduce_only=True)
    close = await client.order_by_id(closed["id"])
    assert close["avgFilledPrice"] == "3599.82" and close["fees"] == "0.359982"
    assert close["realizedPnl"] == "99.280018"  # 99.64 - fee
    acc = await client.account()
    assert acc["positions"] == [] and acc["collateral"] == "10098.930000"
    assert acc["withdrawable"] == acc["totalAccountValue"] == "10098.930000"


async def test_resting_limit_reserves_margin_and_fills_at_its_price(client: RawClient, paper: PaperVest) -> None:
    paper.set_price("ETH-PERP", "3500.00")
    _, placed = await client.place(symbol="ETH-PERP", size="1.000", order_type="LIMIT", limit_price="3450.00")
    assert (await client.order_by_id(placed["id"]))["status"] == "NEW"
    acc = await client.account()
    assert acc["openOrderMargin"] == "345.000000" and acc["withdrawable"] == "9655.000000"
    status, rows = await client.get("/orders", params={"status": "NEW", "symbol": "ETH-PERP"})
    assert [r["id"] for r in rows] == [placed["id"]]

    paper.set_price("ETH-PERP", "3460.00")  # best ask 3460.18: not yet
    assert (await client.order_by_id(placed["id"]))["status"] == "NEW"
    paper.set_price("ETH-PERP", "3440.00")  # best ask 3440.18 <= 3450.00
    row = await client.order_by_id(placed["id"])
    assert (row["status"], row["avgFilledPrice"], row["lastFilledSize"], row["fees"]) == ("FILLED", "3450.00", "1.000", "0.345000")
    pos = await client.position("ETH-PERP")
    assert pos["entryPrice"] == "3450.00" and pos["unrealizedPnl"] == "-10.000000"
    assert (await client.account())["openOrderMargin"] == "0.000000"


async def test_partial_fill_then_complete(client: RawClient, paper: PaperVest) -> None:
    paper.set_price("BTC-PERP", "97000.0")
    status, book = await client.get("/depth", params={"symbol": "BTC-PERP", "limit": 2})
    ask0_px, ask0_qty = book["asks"][0]
    size = D(ask0_qty) + D("0.0100")  # more than the best level holds
    _, placed = await client.place(size=f"{size:.4f}", order_type="LIMIT", limit_price=ask0_px)
    row = await client.order_by_id(placed["id"])
    assert row["status"] == "PARTIALLY_FILLED" and row["lastFilledSize"] == ask0_qty
    assert (await client.get("/depth", params={"symbol": "BTC-PERP", "limit": 1}))[1]["asks"][0][0] != ask0_px  # taken
    paper.set_price("BTC-PERP", "96000.0")
    row = await client.order_by_id(placed["id"])
    assert row["status"] == "FILLED" and row["lastFilledSize"] == "0.0100" and row["lastFilledPrice"] == ask0_px
    assert (await client.position("BTC-PERP"))["size"] == f"{size:.4f}"


async def test_fok(client: RawClient, paper: PaperVest) -> None:
    paper.set_price("BTC-PERP", "97000.0")
    _, book = await client.get("/depth", params={"symbol": "BTC-PERP", "limit": 1})
    ask_px, ask_qty = book["asks"][0]
    too_big = f"{D(ask_qty) + D('0.0001'):.4f}"
    status, miss = await client.place(size=too_big, order_type="LIMIT", limit_price=ask_px, tif="FOK")
    assert status == 200 and (await client.order_by_id(miss["id"]))["status"] == "CANCELLED"
    assert await client.position("BTC-PERP") is None
    _, hit = await client.place(size=ask_qty, order_type="LIMIT", limit_price=ask_px, tif="FOK")
    assert (await client.order_by_id(hit["id"]))["status"] == "FILLED"


async def test_funding_accrues_and_settles(client: RawClient, paper: PaperVest) -> None:
    paper.set_price("ETH-PERP", "3500.00")
    await client.place(symbol="ETH-PERP", size="1.000", limit_price="3510.00")
    paper.set_funding_rate("ETH-PERP", "0.0001")
    assert paper.apply_funding()["ETH-PERP"] == D("0.0001")
    pos = await client.position("ETH-PERP")
    assert pos["unrealizedPnl"] == "-0.530000"  # -0.18 spread - 0.35 funding (0.0001 * 3500.00)
    status, hist = await client.get("/funding/history", params={"symbol": "ETH-PERP"})
    assert hist[0]["oneHrFundingRate"] == "0.0001" and set(hist[0]) == set(load_sample("rest_funding_history.json")[0])
    ticker = (await client.get("/ticker/latest", params={"symbols": "ETH-PERP"}))[1]["tickers"][0]
    assert ticker["cumFunding"] == "0.350000000000" and ticker["imbalance"] == "1.000"
    _, closed = await client.place(symbol="ETH-PERP", is_buy=False, size="1.000", limit_price="3400.00")
    row = await client.order_by_id(closed["id"])
    assert row["settledFunding"] == "-0.350000"
    # -0.350018 (open fee) - 0.36 (round trip 3500.18 -> 3499.82) - 0.349982 (close fee) - 0.35 funding
    assert (await client.account())["collateral"] == "9998.590000"


async def test_order_filters(client: RawClient, paper: PaperVest) -> None:
    t0 = now_ms()
    n1, n2 = fresh_nonce(), fresh_nonce()
    _, a = await client.place(nonce=n1, order_type="LIMIT", limit_price="50000.0")
    _, b = await client.place(nonce=n2, symbol="ETH-PERP", size="0.100", limit_price="9999.00")
    get = client.get
    assert [r["id"] for r in (await get("/orders", params={"nonce": n1}))[1]] == [a["id"]]
    assert [r["id"] for r in (await get("/orders", params={"orderType": "MARKET"}))[1]] == [b["id"]]
    assert [r["id"] for r in (await get("/orders", params={"status": "FILLED"}))[1]] == [b["id"]]
    assert {r["id"] for r in (await get("/orders", params={"id": f"{a['id']},{b['id']}"}))[1]} == {a["id"], b["id"]}
    assert [r["id"] for r in (await get("/orders", params={"limit": 1}))[1]] == [b["id"]]  # newest first
    assert (await get("/orders", params={"startTime": t0 - 1, "endTime": now_ms()}))[1][1]["id"] == a["id"]
    assert (await get("/orders", params={"endTime": t0 - 1}))[1] == []
    rows = (await get("/orders", params={"symbol": "BTC-PERP"}))[1]
    assert [set(r) for r in rows] == [set(load_sample("rest_orders_get.json")[0])]
    assert (await get("/orders", params={"limit": 1001}))[1]["code"] == 1130
    assert (await get("/orders", params={"status": "OPEN"}))[1]["code"] == 1130


async def test_public_rest_shapes(client: RawClient, paper: PaperVest) -> None:
    paper.tick()
    await client.place(size="0.0100")
    info = (await client.get("/exchangeInfo"))[1]
    sample = load_sample("rest_exchangeInfo.json")
    by_symbol = {s["symbol"]: s for s in info["symbols"]}
    for listed in sample["symbols"]:  # the sample's markets have the sample's values
        assert by_symbol[listed["symbol"]] == listed
    assert set(info["exchange"]) == set(sample["exchange"])
    assert by_symbol["TSLA-USD-PERP"]["displayName"] == "TSLA-PERP"
    for path, name, params in (
        ("/ticker/latest", "rest_ticker_latest.json", {"symbols": "BTC-PERP"}),
        ("/ticker/24hr", "rest_ticker_24hr.json", {"symbols": "BTC-PERP"}),
    ):
        body = (await client.get(path, params=params))[1]
        assert set(body) == {"tickers"} and set(body["tickers"][0]) == set(load_sample(name)["tickers"][0])
    trades = (await client.get("/trades", params={"symbol": "BTC-PERP", "limit": 5}))[1]
    assert trades and set(trades[-1]) == set(load_sample("rest_trades.json")[0]) and isinstance(trades[-1]["id"], int)
    assert trades[-1]["qty"] == "0.0100"
    klines = (await client.get("/klines", params={"symbol": "BTC-PERP", "limit": 3}))[1]
    assert len(klines) == 3
    assert [type(x) for x in klines[0]] == [type(x) for x in load_sample("rest_klines.json")[0]]
    hourly = (await client.get("/klines", params={"symbol": "BTC-PERP", "interval": "1h"}))[1]
    assert all(k[0] % 3_600_000 == 0 and k[5] == k[0] + 3_599_999 for k in hourly)
    assert (await client.get("/klines", params={"symbol": "BTC-PERP", "interval": "7m"}))[1]["code"] == 1130
    depth = (await client.get("/depth", params={"symbol": "BTC-PERP", "limit": 100}))[1]
    assert len(depth["bids"]) == len(depth["asks"]) == 100
    assert (await client.get("/depth", params={"symbol": "BTC-PERP", "limit": 101}))[1]["code"] == 1130


async def test_same_seed_same_prices() -> None:
    marks = []
    for _ in range(2):
        async with PaperVest(seed=42, tick_interval=None, auto_funding=False) as p:
            for _ in range(5):
                p.tick()
            marks.append([p.price(s) for s in p.markets])
    assert marks[0] == marks[1]
    async with PaperVest(seed=43, tick_interval=None, auto_funding=False) as p:
        for _ in range(5):
            p.tick()
        assert [p.price(s) for s in p.markets] != marks[0]


async def test_funding_runs_hourly_on_the_clock() -> None:
    hour = 3_600_000
    clock = [(now_ms() // hour) * hour + hour - 50]  # 50 ms before the next hour
    async with PaperVest(tick_interval=None, clock_ms=lambda: clock[0]) as paper:
        paper.set_funding_rate("BTC-PERP", "0.00002")
        await asyncio.sleep(0.3)
        assert paper.stats["funding_events"] == 0  # a fresh ledger starts counting now
        clock[0] += 100
        for _ in range(20):
            await asyncio.sleep(0.1)
            if paper.stats["funding_events"]:
                break
        assert paper.stats["funding_events"] == 1
        clock[0] += 1000
        await asyncio.sleep(0.3)
        assert paper.stats["funding_events"] == 1  # once per hour
        rows = paper.ledger.funding_history("BTC-PERP", None, None, 10)
        assert rows == [(clock[0] - clock[0] % hour, D("0.00002"))]
