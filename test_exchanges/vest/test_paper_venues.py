"""Two paper venues in one process are independent (accounts, orders, fills, marks, seeds,
ledgers, faults), and ``python -m mpdex.paper`` picks its dialect with ``--venue``."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from decimal import Decimal

import aiohttp

from mpdex.paper import PaperVest
from test_exchanges.conftest import ROOT
from test_exchanges.paper_helpers import RawClient

pytest_plugins = ("test_exchanges.paper_helpers",)


async def test_two_venues_in_one_process_share_nothing(tmp_path, session: aiohttp.ClientSession) -> None:
    a = PaperVest(db_path=str(tmp_path / "a.sqlite3"), seed=1, tick_interval=None, auto_funding=False)
    b = PaperVest(db_path=str(tmp_path / "b.sqlite3"), seed=2, tick_interval=None, auto_funding=False)
    async with a, b:
        assert a.port != b.port
        ca = RawClient(await a.create_account(usdc=10_000), session)
        cb = RawClient(await b.create_account(usdc=5_000), session)
        assert ca.key.account_group == cb.key.account_group == 1  # each ledger counts its own accounts
        marks_b = {s: b.price(s) for s in b.markets}

        # an order, a fill, a resting order and a price move on A ...
        assert (await ca.place(size="0.0100"))[0] == 200
        _, resting = await ca.place(order_type="LIMIT", limit_price="50000.0")
        a.set_price("ETH-PERP", "3333.33")
        a.faults.server_error(1)
        for _ in range(3):
            a.tick()
        # ... never show on B
        assert {s: b.price(s) for s in b.markets} == marks_b
        assert (await cb.get("/orders"))[1] == [] and (await cb.account())["positions"] == []
        assert (await cb.account())["collateral"] == "5000.000000"
        assert b.stats["orders_accepted"] == 0 and a.stats["orders_accepted"] == 2
        assert (await cb.get("/account"))[0] == 200  # A's armed 5xx is A's alone
        assert (await ca.get("/account"))[0] == 503
        assert b.ledger.account_by_address(ca.key.primary_address) is None
        # keys of one venue are unknown on the other
        foreign = RawClient(ca.key, session)
        foreign.base = b.rest_url
        assert (await foreign.get("/account"))[1]["detail"]["code"] == 1002

        # and B's changes never show on A
        marks_a = {s: a.price(s) for s in a.markets}
        b.set_price("ETH-PERP", "4000.00")
        assert (await cb.place(symbol="ETH-PERP", size="0.100", limit_price="4100.00"))[0] == 200
        assert [o["id"] for o in (await ca.get("/orders", params={"status": "NEW"}))[1]] == [resting["id"]]
        assert (await ca.position("ETH-PERP")) is None
        assert {s: a.price(s) for s in a.markets} == marks_a and a.price("ETH-PERP") != Decimal("4000.00")

        # same number of ticks, different seeds: different walks
        for _ in range(3):
            b.tick()
        assert a.price("BTC-PERP") != b.price("BTC-PERP")
    for name in ("a.sqlite3", "b.sqlite3"):  # the ledgers hold paper keys: private files
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600


def test_cli_picks_the_dialect_with_venue() -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "mpdex.paper", *args], capture_output=True, text=True,
                              cwd=ROOT, timeout=60)

    shown = run("--venue", "vest", "--help")
    assert shown.returncode == 0 and "--network" in shown.stdout and "--venue {hyperliquid,vest}" in shown.stdout
    refused = run("--venue", "nope")
    assert refused.returncode == 2 and "invalid choice: 'nope'" in refused.stderr
