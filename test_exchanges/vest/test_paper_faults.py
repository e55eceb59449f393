"""Paper REST faults: 429 with Retry-After, 5xx, delays and a lost order response."""
from __future__ import annotations

import time

import aiohttp
import pytest

from mpdex.paper import PaperVest
from test_exchanges.paper_helpers import RawClient

pytest_plugins = ("test_exchanges.paper_helpers",)


async def test_rate_limit_then_recovery(client: RawClient, paper: PaperVest, session: aiohttp.ClientSession) -> None:
    paper.faults.rate_limit(2, retry_after=0.5)
    for _ in range(2):
        async with session.get(client.base + "/ticker/latest") as r:
            assert r.status == 429 and r.headers["Retry-After"] == "0.5"
            assert await r.json() == {"code": 429, "msg": "Rate limited"}
    assert (await client.get("/ticker/latest"))[0] == 200


async def test_server_error_and_clear(client: RawClient, paper: PaperVest) -> None:
    paper.faults.server_error(1, status=502)
    assert (await client.get("/account"))[0] == 502
    assert (await client.get("/account"))[0] == 200
    paper.faults.server_error(5)
    paper.faults.clear()
    assert (await client.get("/account"))[0] == 200
    with pytest.raises(ValueError):
        paper.faults.server_error(1, status=404)


async def test_delay(client: RawClient, paper: PaperVest) -> None:
    paper.faults.delay(0.3, n=1)
    start = time.monotonic()
    assert (await client.get("/ticker/latest"))[0] == 200
    assert time.monotonic() - start >= 0.3
    start = time.monotonic()
    await client.get("/ticker/latest")
    assert time.monotonic() - start < 0.3


async def test_lost_order_response_is_committed(client: RawClient, paper: PaperVest) -> None:
    paper.faults.lose_next_order_response()
    body = client.order(size="0.0100")
    with pytest.raises(aiohttp.ClientError):
        await client.post("/orders", body)
    nonce = body["order"]["nonce"]
    status, rows = await client.get("/orders", params={"nonce": nonce})
    assert status == 200 and len(rows) == 1 and rows[0]["status"] == "FILLED"
    assert (await client.position("BTC-PERP"))["size"] == "0.0100"
    # resending the same signed body is a duplicate, never a second order
    status, resp = await client.post("/orders", body)
    assert (status, resp["code"]) == (400, 3015)
    assert paper.stats["order_responses_lost"] == 1 and paper.stats["orders_accepted"] == 1
