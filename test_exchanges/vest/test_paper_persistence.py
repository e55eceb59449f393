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
from wrappers.vest_paper.store import VestStore

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
        assert VestStore(ledger).last_nonce(account.id) == max(int(o.client_id) for o in filled)
    finally:
        ledger.close()


# The ledger layout written before the simulator core was split out (core schema 1).
V1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE accounts (id INTEGER PRIMARY KEY AUTOINCREMENT, address TEXT NOT NULL UNIQUE, acc_group INTEGER NOT NULL,
    balance TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE api_keys (api_key TEXT PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id),
    signing_address TEXT NOT NULL, expiry_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE nonces (account_id INTEGER NOT NULL REFERENCES accounts(id), nonce INTEGER NOT NULL, kind TEXT NOT NULL,
    PRIMARY KEY (account_id, nonce));
CREATE TABLE positions (account_id INTEGER NOT NULL REFERENCES accounts(id), symbol TEXT NOT NULL, size TEXT NOT NULL,
    entry_price TEXT NOT NULL, entry_funding TEXT NOT NULL, settled_funding TEXT NOT NULL, PRIMARY KEY (account_id, symbol));
CREATE TABLE leverages (account_id INTEGER NOT NULL REFERENCES accounts(id), symbol TEXT NOT NULL, value INTEGER NOT NULL,
    PRIMARY KEY (account_id, symbol));
CREATE TABLE orders (id TEXT PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id), nonce INTEGER NOT NULL,
    symbol TEXT NOT NULL, is_buy INTEGER NOT NULL, order_type TEXT NOT NULL, limit_price TEXT NOT NULL, size TEXT NOT NULL,
    reduce_only INTEGER NOT NULL, time_in_force TEXT NOT NULL, status TEXT NOT NULL, code INTEGER, filled TEXT NOT NULL,
    avg_price TEXT, last_filled_size TEXT, last_filled_price TEXT, last_filled_time INTEGER, fees TEXT NOT NULL,
    realized_pnl TEXT, settled_funding TEXT, mark_price TEXT NOT NULL, init_margin_ratio TEXT NOT NULL,
    post_time INTEGER NOT NULL, UNIQUE (account_id, nonce));
CREATE INDEX orders_open ON orders (status) WHERE status IN ('NEW', 'PARTIALLY_FILLED');
CREATE INDEX orders_account ON orders (account_id, post_time);
CREATE TABLE listen_keys (listen_key TEXT PRIMARY KEY, account_id INTEGER NOT NULL UNIQUE REFERENCES accounts(id),
    expiry_ms INTEGER NOT NULL);
CREATE TABLE marks (symbol TEXT PRIMARY KEY, mark TEXT NOT NULL, idx TEXT NOT NULL, cum_funding TEXT NOT NULL);
CREATE TABLE funding_history (symbol TEXT NOT NULL, time INTEGER NOT NULL, rate TEXT NOT NULL, PRIMARY KEY (symbol, time));
"""


async def test_a_ledger_from_before_the_split_is_upgraded_in_place(tmp_path, session: aiohttp.ClientSession) -> None:
    import sqlite3

    from wrappers.vest_auth import address_of

    db = str(tmp_path / "v1.sqlite3")
    signing_pk, primary = "0x" + "3c" * 32, address_of("0x" + "4d" * 32)
    t = now_ms()
    conn = sqlite3.connect(db)
    conn.executescript(V1_SCHEMA)
    conn.executemany("INSERT INTO meta VALUES (?, ?)", [("schema_version", "1"), ("last_funding_ms", "0")])
    conn.execute("INSERT INTO accounts VALUES (1, ?, 1, '9990.5', ?)", (primary.lower(), t))
    conn.execute("INSERT INTO api_keys VALUES ('k1', 1, ?, ?, ?)", (address_of(signing_pk), t + 86_400_000, t))
    conn.executemany("INSERT INTO nonces VALUES (1, ?, ?)", [(11, "order"), (12, "order"), (13, "cancel")])
    conn.execute("INSERT INTO positions VALUES (1, 'ETH-PERP', '0.500', '3400.00', '0', '0')")
    conn.execute("INSERT INTO leverages VALUES (1, 'ETH-PERP', 20)")
    conn.execute("INSERT INTO orders VALUES ('0xaa', 1, 11, 'ETH-PERP', 1, 'MARKET', '3500.00', '0.500', 0, 'GTC', 'FILLED',"
                 " NULL, '0.500', '3400.00', '0.500', '3400.00', ?, '0.17', '-0.17', '0', '3400.00', '0.0500', ?)", (t, t))
    conn.execute("INSERT INTO orders VALUES ('0xbb', 1, 12, 'ETH-PERP', 0, 'LIMIT', '3600.00', '1.000', 1, 'GTC', 'REJECTED',"
                 " 3019, '0', NULL, NULL, NULL, NULL, '0', NULL, NULL, '3400.00', '0.0500', ?)", (t + 1,))
    conn.execute("INSERT INTO listen_keys VALUES ('lk1', 1, ?)", (t + 3_600_000,))
    conn.execute("INSERT INTO marks VALUES ('ETH-PERP', '3450.00', '3450.00', '0')")
    conn.execute("INSERT INTO funding_history VALUES ('ETH-PERP', 3600000, '0.0000125')")
    conn.commit()
    conn.close()

    async with PaperVest(db_path=db, seed=5, tick_interval=None, auto_funding=False) as paper:
        key = make_vest_key(api_key="k1", signing_private_key=signing_pk, primary_address=primary, account_group=1,
                            network="dev", rest_url=paper.rest_url, ws_url=paper.ws_url)
        c = RawClient(key, session)
        acc = await c.account()
        assert acc["collateral"] == "9990.500000" and {"symbol": "ETH-PERP", "value": 20} in acc["leverages"]
        assert [(p["symbol"], p["size"], p["entryPrice"]) for p in acc["positions"]] == [("ETH-PERP", "0.500", "3400.00")]
        rows = (await c.get("/orders"))[1]
        assert [(r["id"], r["nonce"], r["status"], r["code"]) for r in rows] == [
            ("0xbb", 12, "REJECTED", 3019), ("0xaa", 11, "FILLED", None)]
        assert (await c.get("/account/nonce"))[1] == {"lastNonce": 13}
        status, body = await c.place(symbol="ETH-PERP", size="0.100", limit_price="3500.00", nonce=13)
        assert (status, body["code"]) == (400, 3015)
        assert (await c.request("PUT", "/account/listenKey"))[1] == {"listenKey": "lk1"}
        assert paper.price("ETH-PERP") == Decimal("3450.00")
        assert (await c.get("/funding/history", params={"symbol": "ETH-PERP"}))[1][0]["time"] == 3600000
        assert (await c.place(symbol="ETH-PERP", is_buy=False, size="0.500", limit_price="3000.00", reduce_only=True))[0] == 200
        assert paper.ledger.get_meta("dialect") == "vest" and paper.ledger.get_meta("schema_version") == "2"
