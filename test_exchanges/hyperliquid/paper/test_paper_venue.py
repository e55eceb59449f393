"""``PaperHyperliquid`` as a venue: registered lazily, served by ``python -m mpdex.paper
--venue hyperliquid``, persistent across restarts (accounts, agents, nonces, orders, the
default account; the market replayed for the time it was down), its ledger its own, and
independent of a ``PaperVest`` running in the same process."""
from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import aiohttp
import pytest

import exchange_factory
from mpdex.paper import PaperHyperliquid, PaperVest
from mpdex.paper.ledger import LedgerError
from test_exchanges.conftest import ROOT
from wrappers.hyperliquid_wire import noop_action

from .conftest import BTC, HlClient, now_ms

HOUR = 3_600_000


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          check=True).stdout.strip()


def test_registered_lazily_and_in_the_registry() -> None:
    out = _run("import sys, mpdex.paper as p; before = 'wrappers.hyperliquid_paper' in sys.modules; "
               "from mpdex.paper import PaperHyperliquid; from wrappers.hyperliquid_paper import PaperHyperliquid as D; "
               "import exchange_factory as f; "
               "print(before, PaperHyperliquid is D, p.dialect('hyperliquid') is D, "
               "f._resolve(f.venue('hyperliquid').paper) is D, D.NAME)")
    assert out == "False True True True hyperliquid"
    assert exchange_factory.venue("hyperliquid").paper == "mpdex.paper:PaperHyperliquid"


def test_python_m_mpdex_paper_serves_hyperliquid() -> None:
    shown = subprocess.run([sys.executable, "-m", "mpdex.paper", "--venue", "hyperliquid", "--help"], capture_output=True,
                           text=True, cwd=ROOT, timeout=60)
    assert shown.returncode == 0 and "--network {testnet,mainnet}" in shown.stdout and "--ws-idle-timeout" in shown.stdout
    proc = subprocess.Popen([sys.executable, "-m", "mpdex.paper", "--venue", "hyperliquid", "--port", "0", "--tick-interval",
                             "0", "--create-account", "--usdc", "500", "--network", "mainnet"],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        assert lines[0].startswith("REST  http://127.0.0.1:") and lines[1].startswith("WS    ws://127.0.0.1:")
        text = ""
        while not text.rstrip().endswith("}"):
            text += proc.stdout.readline()
        key = json.loads(text)
        assert (key["network"], key["by_agent"], key["rest_url"]) == ("mainnet", True, lines[0].split()[1])
        assert key["wallet_address"].startswith("0x") and key["agent_api_private_key"].startswith("0x")
    finally:
        proc.terminate()
        proc.wait(timeout=20)


async def test_a_restart_keeps_accounts_agents_nonces_and_orders_and_replays_the_gap(tmp_path: Any,
                                                                                     session: aiohttp.ClientSession) -> None:
    db = str(tmp_path / "hl.sqlite3")
    offset = [0]

    def clock() -> int:
        return now_ms() + offset[0]

    async with PaperHyperliquid(db_path=db, seed=5, tick_interval=None, clock_ms=clock) as paper:
        key = await paper.default_account(usdc=5_000)
        c = HlClient(paper, session, key)
        assert "resting" in await c.order(BTC, True, "90000", "0.001")
        assert "filled" in await c.order(BTC, True, "98000", "0.01", "Ioc")
        used = c.signed(noop_action())
        assert (await c.post("/exchange", used))[1]["status"] == "ok"
        first_fields = paper.account_fields(key)
    offset[0] = 3 * HOUR  # three hours later
    async with PaperHyperliquid(db_path=db, seed=5, tick_interval=None, clock_ms=clock) as paper:
        assert paper.last_replay is not None and paper.last_replay.funding_events == 3
        key = await paper.default_account(usdc=5_000)
        assert paper.account_fields(key) == first_fields | {"rest_url": paper.rest_url, "ws_url": paper.ws_url}
        c = HlClient(paper, session, key)
        assert (await c.post("/exchange", used))[1] == {
            "status": "err", "response": f"Invalid nonce: duplicate nonce {used['nonce']}"}
        assert [o["oid"] for o in await c.info("openOrders", user=c.user)] == [1]
        assert await c.order(BTC, True, "90000", "0.001") == {"resting": {"oid": 3}}
        funding = await c.info("userFunding", user=c.user, startTime=0)
        assert len(funding) == 3 and all(f["delta"]["szi"] == "0.01" for f in funding)
        assert [f["time"] % HOUR for f in funding] == [0, 0, 0]


async def test_the_ledger_belongs_to_its_venue(tmp_path: Any) -> None:
    db = str(tmp_path / "hl.sqlite3")
    async with PaperHyperliquid(db_path=db, tick_interval=None, auto_funding=False):
        pass
    with pytest.raises(LedgerError, match="belongs to the 'hyperliquid' venue"):
        async with PaperVest(db_path=db, tick_interval=None, auto_funding=False):
            pass


async def test_beside_paper_vest_in_one_process(session: aiohttp.ClientSession) -> None:
    async with PaperHyperliquid(seed=1, tick_interval=None, auto_funding=False) as hl, \
            PaperVest(seed=1, tick_interval=None, auto_funding=False) as vest:
        c = HlClient(hl, session, await hl.create_account(usdc=1000))
        vest_key = await vest.create_account(usdc=1000)
        assert "filled" in await c.order(BTC, True, "98000", "0.001", "Ioc")
        hl.set_price("BTC", "90000")
        vest.faults.rate_limit(1)
        assert "BTC" in await c.info("allMids")  # Vest's fault is Vest's alone
        assert vest.price("BTC-PERP") == vest.markets["BTC-PERP"].ref_price
        assert hl.stats["orders_accepted"] == 1 and vest.stats["orders_accepted"] == 0
        assert vest.ledger.account_by_address(c.user) is None
        assert hl.ledger.account_by_address(vest_key.primary_address) is None
        async with session.ws_connect(hl.ws_url) as ws:
            assert (await ws.receive(timeout=2)).data == "Websocket connection established."
        assert hl.port != vest.port
