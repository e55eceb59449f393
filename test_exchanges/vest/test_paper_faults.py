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


async def test_faults_armed_from_the_command_line(session: aiohttp.ClientSession) -> None:
    import asyncio
    import json
    import sys

    from wrappers.vest_keys import make_vest_key

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mpdex.paper", "--venue", "vest", "--port", "0", "--create-account", "--log-level", "WARNING",
        "--fault-rate-limit", "1", "--fault-retry-after", "0.5", "--fault-server-error-every", "3", "--fault-status", "502",
        "--fault-lose-order-every", "2", "--fault-drop-sockets-every", "0.3",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        text = ""
        while not text.rstrip().endswith("}"):
            line = await asyncio.wait_for(proc.stdout.readline(), 20)
            assert line, "CLI exited early"
            text += line.decode()
        assert "FAULT the first 1 REST requests answer 429\n" in text
        assert "FAULT one REST request in 3 answers 502\n" in text
        assert "FAULT one accepted order in 2 loses its response\n" in text
        c = RawClient(make_vest_key(**json.loads(text[text.index("{"):])), session)
        async with session.get(c.base + "/ticker/latest") as r:  # request 1: the one-shot 429
            assert r.status == 429 and r.headers["Retry-After"] == "0.5"
        assert (await c.get("/ticker/latest"))[0] == 200  # 2
        assert (await c.get("/ticker/latest"))[0] == 502  # 3: one in three
        assert (await c.place(size="0.0010"))[0] == 200  # 4: the first accepted order answers
        with pytest.raises(aiohttp.ClientError):
            await c.place(size="0.0010")  # 5: the second is committed, its answer lost
        assert (await c.get("/orders"))[0] == 502  # 6
        status, rows = await c.get("/orders")  # 7
        assert status == 200 and [r["status"] for r in rows] == ["FILLED", "FILLED"]
        async with session.ws_connect(c.ws_url()) as ws:
            msg = await ws.receive(timeout=2)
            assert msg.type == aiohttp.WSMsgType.CLOSE and ws.close_code == 1012
    finally:
        proc.terminate()
        await proc.wait()


def test_bad_fault_options_are_refused_before_anything_starts() -> None:
    import subprocess
    import sys

    from test_exchanges.conftest import ROOT

    done = subprocess.run([sys.executable, "-m", "mpdex.paper", "--fault-status", "404", "--fault-server-error", "1"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 2 and "5xx" in done.stderr and done.stdout == ""
