"""The paper ledger survives restarts and is never half-applied: a clean restart keeps
everything, a failure inside a transaction leaves no trace, and a server killed with
SIGKILL while taking orders restarts into a consistent ledger."""
from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from decimal import Decimal

import aiohttp
import pytest

from mpdex.paper import PaperVest
from mpdex.paper.ledger import Ledger
from test_exchanges.paper_helpers import RawClient, fresh_nonce, now_ms
from wrappers.vest_keys import make_vest_key

pytest_plugins = ("test_exchanges.paper_helpers",)


async def test_restart_keeps_the_ledger(tmp_path, session: aiohttp.ClientSession) -> None:
    db = str(tmp_path / "paper.sqlite3")
    async with PaperVest(db_path=db, seed=5, tick_interval=None, auto_funding=False) as paper:
        key = await paper.create_account(usdc=5000)
        default = await paper.default_account(usdc=777)
        c = RawClient(key, session)
        paper.set_price("ETH-PERP", "3333.33")
        assert (await c.post("/account/leverage", {"time": now_ms(), "symbol": "ETH-PERP", "value": 20}))[0] == 200
        nonce = fresh_nonce()
        assert (await c.place(symbol="ETH-PERP", size="0.500", limit_price="3400.00", nonce=nonce))[0] == 200
        _, resting = await c.place(order_type="LIMIT", limit_price="50000.0")
        listen_key = (await c.post("/account/listenKey"))[1]["listenKey"]
        before = await c.account()
        orders = (await c.get("/orders"))[1]

    async with PaperVest(db_path=db, seed=5, tick_interval=None, auto_funding=False) as paper:
        assert paper.price("ETH-PERP") == Decimal("3333.33")  # continues from the stored marks
        c = RawClient(make_vest_key(**{**key.__dict__, "rest_url": paper.rest_url, "ws_url": paper.ws_url}), session)
        after = await c.account()
        assert {k: v for k, v in after.items() if k != "time"} == {k: v for k, v in before.items() if k != "time"}
        assert (await c.get("/orders"))[1] == orders
        assert (await c.get("/account/nonce"))[1]["lastNonce"] >= nonce
        status, body = await c.place(symbol="ETH-PERP", size="0.500", limit_price="3400.00", nonce=nonce)
        assert (status, body["code"]) == (400, 3015)  # nonces survive
        assert (await c.request("PUT", "/account/listenKey"))[1] == {"listenKey": listen_key}
        assert (await c.post("/orders/cancel", c.cancel(resting["id"])))[0] == 200
        again = await paper.default_account(usdc=1)
        assert (again.api_key, again.signing_private_key, again.primary_address) == (
            default.api_key, default.signing_private_key, default.primary_address)
        d = RawClient(again, session)
        assert (await d.account())["collateral"] == "777.000000"


async def test_failure_inside_a_transaction_leaves_nothing(paper: PaperVest, client: RawClient, monkeypatch) -> None:
    before = await client.account()
    original = Ledger.update_order

    def boom(self: Ledger, order: object) -> None:
        raise RuntimeError("disk on fire")  # after balance and position were written

    monkeypatch.setattr(Ledger, "update_order", boom)
    body = client.order(size="0.0100")
    status, resp = await client.post("/orders", body)
    assert status == 500 and resp["code"] == 1011
    monkeypatch.setattr(Ledger, "update_order", original)
    after = await client.account()
    assert {k: v for k, v in after.items() if k != "time"} == {k: v for k, v in before.items() if k != "time"}
    assert (await client.get("/orders"))[1] == []
    assert (await client.get("/account/nonce"))[1] == {"lastNonce": 0}
    assert (await client.post("/orders", body))[0] == 200  # the nonce was never consumed


async def _start_cli(db: str) -> tuple[asyncio.subprocess.Process, dict]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mpdex.paper", "--port", "0", "--db", db, "--create-account", "--log-level", "WARNING",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    text = ""
    while not text.rstrip().endswith("}"):
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert line, "CLI exited early"
        text += line.decode()
    assert re.search(r"^REST  http://127\.0\.0\.1:\d+/v2$", text, re.M)
    return proc, json.loads(text[text.index("{"):])


async def test_sigkill_mid_way_leaves_a_consistent_ledger(tmp_path, session: aiohttp.ClientSession) -> None:
    db = str(tmp_path / "killed.sqlite3")
    proc, fields = await _start_cli(db)
    key = make_vest_key(**fields)
    c = RawClient(key, session)
    sent = 0

    async def hammer() -> None:
        nonlocal sent
        while True:
            sent += 1
            await c.place(is_buy=sent % 3 != 0, size="0.0010")

    task = asyncio.ensure_future(hammer())
    await asyncio.sleep(0.4)
    os.kill(proc.pid, signal.SIGKILL)
    await proc.wait()
    with pytest.raises(aiohttp.ClientError):
        await task
    assert sent > 3

    ledger = Ledger(db)
    try:
        account = ledger.account_by_address(key.primary_address)
        assert account is not None
        orders = ledger.find_orders(account.id, limit=1000)
        filled = [o for o in orders if o.status == "FILLED"]
        assert filled and len(orders) == len(filled)
        # every committed order is fully reflected: position = signed fills, balance = deposit + PnL
        net = sum((o.filled if o.is_buy else -o.filled for o in filled), Decimal(0))
        pos = ledger.position(account.id, "BTC-PERP")
        assert (pos.size if pos else Decimal(0)) == net
        assert account.balance == Decimal(10_000) + sum((o.realized_pnl or Decimal(0) for o in filled), Decimal(0))
        assert ledger.last_nonce(account.id) == max(o.nonce for o in filled)
    finally:
        ledger.close()
