"""The CLI (main.py) end to end in paper mode: a real subprocess, the embedded paper exchange on a
free loopback port, a temporary ledger, the real client over REST and WebSocket.

Each run starts a paper server, so the runs are few and each one asserts a lot.
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import exchange_factory
from mpdex.cli import app, arguments, session
from mpdex.cli import keys as keys_files
from mpdex.paper import PaperVest
from test_exchanges.conftest import ROOT
from wrappers.vest_auth import address_of

MAIN = ROOT / "main.py"
VEST = exchange_factory.venue("vest")
PRIMARY_KEY_ENV = VEST.primary_key_env or ""


def keys_file(path: Path) -> Any:
    return keys_files.load_keys(path, VEST)


class Runs:
    """Runs main.py in paper mode and keeps every byte it printed for the secret scan."""

    def __init__(self, tmp_path: Path) -> None:
        self.db = tmp_path / "ledger" / "paper.sqlite3"
        self.env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "xdg"), PYTHONUNBUFFERED="1")
        self.env.pop(PRIMARY_KEY_ENV, None)
        self.outputs: list[str] = []

    def __call__(self, *args: str, paper: bool = True, env: dict[str, str] | None = None,
                 expect: int | None = 0) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, str(MAIN)]
        if paper:
            argv += ["--paper", "--paper-db", str(self.db)]
        proc = subprocess.run(argv + list(args), capture_output=True, text=True, timeout=60, cwd=ROOT,
                              env=dict(self.env, **(env or {})), stdin=subprocess.DEVNULL)
        self.outputs += [proc.stdout, proc.stderr]
        if expect is not None:
            assert proc.returncode == expect, f"{args}: rc={proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        return proc

    def json(self, *args: str) -> dict[str, Any]:
        proc = self(*args, "--json")
        doc = json.loads(proc.stdout)  # stdout is pure JSON; the [PAPER] banner went to stderr
        assert doc["paper"] is True and doc["exchange"] == "vest"
        assert "[PAPER]" in proc.stderr
        return doc

    def assert_no_secret(self, *secrets: str) -> None:
        variants = {v for s in secrets if s for v in (s, s.lower(), s.upper(), s.removeprefix("0x"))}
        for text in self.outputs:
            for value in variants:
                assert value not in text, "a secret was printed"


def paper_account_key(db: Path) -> Any:
    async def read() -> Any:
        async with PaperVest(db_path=str(db), port=0) as paper:
            return await paper.default_account(usdc=session.PAPER_USDC)

    return asyncio.run(read())


def test_check_order_check_close_check_on_one_paper_account(tmp_path):
    run = Runs(tmp_path)

    first = run.json("--module", "check")
    assert first["positions"] == [] and first["open_orders"] == []
    assert first["collateral"]["total_collateral"] == pytest.approx(session.PAPER_USDC)

    price = run.json("--module", "price", "--coin", "BTC")
    mark = price["mark_price"]
    assert mark > 0 and price["symbol"] == "BTC-PERP"

    # --debug logs everything the library does: it goes into the secret scan below
    proc = run("--module", "order", "--coin", "BTC", "--side", "buy", "--amount", "0.01", "--json", "--debug")
    bought = json.loads(proc.stdout)
    assert bought["order"]["status"] == "FILLED" and bought["order"]["side"] == "buy"
    assert bought["position"]["symbol"] == "BTC-PERP" and bought["position"]["side"] == "long"
    assert bought["position"]["size"] == pytest.approx(0.01)

    resting_price = f"{mark * 1.5:.1f}"  # far above the market: rests as an open order
    resting = run.json("--module", "order", "--coin", "BTC", "--side", "sell", "--amount", "0.01",
                       "--price", resting_price, "--tif", "GTC")
    assert resting["order"]["status"] == "NEW" and resting["order"]["order_type"] == "limit"

    text = run("--module", "check").stdout
    assert text.startswith("[PAPER] paper exchange on 127.0.0.1:")
    assert max(len(line) for line in text.splitlines()) <= 100, text
    assert "no real money" in text.splitlines()[0]
    position_row = next(line for line in text.splitlines() if line.startswith("  BTC-PERP  long"))
    assert position_row.split()[2] == "0.01"
    assert resting["order"]["client_order_id"] in text

    seen = run.json("--module", "check")
    assert [(p["symbol"], p["side"], p["size"]) for p in seen["positions"]] == [("BTC-PERP", "long", 0.01)]
    assert seen["positions"][0]["mark_price"] > 0 and seen["positions"][0]["entry_price"] > 0
    assert [o["order_id"] for o in seen["open_orders"]] == [resting["order"]["order_id"]]

    closed = run.json("--module", "close", "--coin", "BTC", "--cancel-orders")
    assert [(c["order_id"], c["status"]) for c in closed["cancelled"]] == [(resting["order"]["order_id"], "ok")]
    assert [c["symbol"] for c in closed["closed"]] == ["BTC-PERP"]
    assert closed["closed"][0]["order"]["side"] == "sell" and closed["closed"][0]["order"]["status"] == "FILLED"
    assert closed["remaining_positions"] == []
    # the fee and the realised PnL as the exchange recorded them (not left out when the
    # order was confirmed from the socket stream, which carries no realised PnL)
    assert closed["closed"][0]["order"]["fee"] > 0 and closed["closed"][0]["order"]["realized_pnl"] is not None

    last = run.json("--module", "check")
    assert last["positions"] == [] and last["open_orders"] == []
    assert last["collateral"]["total_collateral"] > 0

    key = paper_account_key(run.db)
    run.assert_no_secret(key.api_key, key.signing_private_key)


def test_exit_codes_usage_2_bad_input_1_with_one_line(tmp_path):
    run = Runs(tmp_path)
    usage = run("--module", "order", "--coin", "BTC", expect=2)
    assert "needs --side, --amount" in usage.stderr and usage.stdout == ""

    for args, message in (
        (("--module", "order", "--coin", "NOPE", "--side", "buy", "--amount", "0.01"), "NOPE"),
        (("--module", "order", "--coin", "BTC", "--side", "buy", "--amount", "-0.01"), "amount must be a positive"),
        # refused by the exchange itself (margin): still exactly one line
        (("--module", "order", "--coin", "BTC", "--side", "buy", "--amount", "200", "--price", "1000"), "3002"),
    ):
        proc = run(*args, expect=1)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], proc.stderr
        assert "Traceback" not in proc.stderr and proc.stdout == ""

    # nothing was traded by the refused commands
    assert run.json("--module", "check")["positions"] == []


def test_register_on_paper_writes_a_0600_keys_file_and_echoes_no_secret(tmp_path):
    run = Runs(tmp_path)
    primary = "0x" + "5a" * 32
    keys = tmp_path / "keys" / "pk_vest.py"
    env = {PRIMARY_KEY_ENV: primary}

    done = run("--module", "register", "--keys", str(keys), "--expiry-days", "2", env=env)
    assert "[PAPER]" in done.stdout and address_of(primary) in done.stdout
    assert stat.S_IMODE(os.stat(keys).st_mode) == 0o600
    key = keys_file(keys)
    assert key.primary_address.lower() == address_of(primary).lower()
    assert key.network == "dev" and key.api_key and key.signing_private_key != primary

    again = run("--module", "register", "--keys", str(keys), env=env, expect=1)
    assert "already exists; pass --force" in again.stderr
    assert keys_file(keys) == key

    run.assert_no_secret(primary, key.api_key, key.signing_private_key)


def test_market_data_and_account_modules_in_process(tmp_path, capsys, monkeypatch):
    """The read-only modules and leverage/cancel, run in this process (cheaper than a subprocess each)."""
    import logging

    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", root.handlers[:])  # main() installs its own stderr handler
    monkeypatch.setattr(root, "level", root.level)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    base = ["--paper", "--json"]

    def run(*args: str) -> dict[str, Any]:
        code = app.main([*base, *args])
        out, err = capsys.readouterr()
        assert code == 0, err
        return json.loads(out)

    book = run("--module", "book", "--coin", "ETH", "--depth", "3")
    assert len(book["bids"]) == 3 and len(book["asks"]) == 3
    assert book["bids"][0][0] < book["asks"][0][0]  # best bid below best ask

    symbols = {m["symbol"]: m for m in run("--module", "symbols")["symbols"]}
    assert symbols["BTC-PERP"]["max_leverage"] == 50 and symbols["BTC-PERP"]["size_step"] == 0.0001

    lev = run("--module", "leverage", "--coin", "BTC", "--leverage", "7")
    assert lev["update"]["status"] == "ok" and lev["leverage"]["leverage"] == 7

    funding = run("--module", "funding", "--coin", "SOL", "--limit", "5")
    assert funding["current"]["symbol"] == "SOL-PERP" and len(funding["history"]) <= 5

    placed = run("--module", "order", "--coin", "SOL", "--side", "buy", "--amount", "1", "--price", "1")
    assert placed["order"]["status"] == "NEW" and placed["position"] is None
    listed = run("--module", "orders", "--coin", "SOL")
    assert [o["client_order_id"] for o in listed["open_orders"]] == [placed["order"]["client_order_id"]]
    cancelled = run("--module", "cancel", "--order-id", placed["order"]["client_order_id"])
    assert [(c["order_id"], c["status"]) for c in cancelled["cancelled"]] == [(placed["order"]["order_id"], "ok")]
    assert run("--module", "orders")["open_orders"] == []

    # the real library rounds 0.00015 BTC to its 0.0001 step: --strict refuses, nothing is placed
    assert app.main([*base, "--module", "order", "--coin", "BTC", "--side", "buy", "--amount", "0.00015",
                     "--strict"]) == 1
    out, err = capsys.readouterr()
    assert "size 0.00015 rounded down to 0.0001 (step 0.0001 on BTC-PERP); strict mode refuses to round" in err
    assert run("--module", "check", "--coin", "BTC")["positions"] == []

    # one text run: the paper banner is the first line on stdout
    assert app.main(["--paper", "--module", "price", "--coin", "BTC"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("[PAPER] ") and "mark" in out and "funding (1h)" in out


async def test_live_path_loads_the_keys_file_and_asks_unless_yes(tmp_path):
    """Without --paper: the keys file is the account (here one on a paper server standing in
    for Vest); a live order from a non-terminal is refused until --yes is given."""
    async with PaperVest(port=0) as paper:
        key = await paper.create_account(usdc=10_000)
        keys = tmp_path / "pk_vest.py"
        keys_files.write_private_file(keys, keys_files.render_keys_file(key, "VEST_KEY", "test account"), force=False)
        outputs: list[str] = []

        async def run(*args: str) -> tuple[int, str, str]:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, str(MAIN), "--keys", str(keys), *args, cwd=ROOT, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            outputs.extend((out.decode(), err.decode()))
            assert proc.returncode is not None
            return proc.returncode, out.decode(), err.decode()

        order = ("--module", "order", "--coin", "BTC", "--side", "buy", "--amount", "0.01")
        code, out, err = await run(*order)
        assert (code, out) == (1, "")
        assert err.strip() == "error: this is a live trade and stdin is not a terminal: re-run with --yes to confirm"
        assert paper.stats["orders_accepted"] == 0

        code, out, err = await run(*order, "--yes")
        assert code == 0, err
        assert out.startswith(f"[LIVE] vest dev account {key.primary_address[:6]}")
        assert out.splitlines()[0].endswith(f" on 127.0.0.1:{paper.port}")  # the banner names the host
        assert paper.stats["orders_accepted"] == 1

        code, out, err = await run("--module", "close", "--coin", "BTC", "--yes", "--json")
        assert code == 0, err
        doc = json.loads(out)
        assert doc["paper"] is False and doc["remaining_positions"] == []
        assert doc["closed"][0]["order"]["status"] == "FILLED"

    joined = "\n".join(outputs)
    for secret in (key.api_key, key.signing_private_key, key.signing_private_key[2:]):
        assert secret not in joined


async def test_ctrl_c_closes_everything_and_exits_130(tmp_path):
    """SIGINT while requests are in flight: no traceback, no unclosed-session warning, exit 130."""
    async with PaperVest(port=0) as paper:
        key = await paper.create_account(usdc=10_000)
        keys = tmp_path / "pk_vest.py"
        keys_files.write_private_file(keys, keys_files.render_keys_file(key, "VEST_KEY", "test account"), force=False)
        before = paper.stats.get("rest_requests", 0)
        paper.faults.delay(3.0, n=3)  # init's three reads hang on the server
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(MAIN), "--keys", str(keys), "--module", "check", cwd=ROOT,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # CI may start us with SIGINT ignored
        for _ in range(300):
            if paper.stats.get("rest_requests", 0) > before:
                break
            await asyncio.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), 10)
        assert proc.returncode == 130
        assert (out.decode(), err.decode()) == ("", "interrupted: nothing was sent\n")


async def test_a_slow_connection_says_what_it_waits_for(tmp_path):
    """Nothing on stdout yet, but stderr says what the command waits for, and where."""
    async with PaperVest(port=0) as paper:
        key = await paper.create_account(usdc=10_000)
        keys = tmp_path / "pk_vest.py"
        keys_files.write_private_file(keys, keys_files.render_keys_file(key, "VEST_KEY", "test account"), force=False)
        paper.faults.delay(1.6, n=3)  # init's three reads
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(MAIN), "--keys", str(keys), "--module", "check", "--json", cwd=ROOT,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    lines = err.decode().splitlines()
    assert f"… connecting to 127.0.0.1:{paper.port}" in lines
    assert json.loads(out)["paper"] is False


async def test_paper_url_register_writes_keys_that_work_with_that_server(tmp_path):
    """`--paper-url` talks to a standalone paper server: register writes keys pointing at it
    (REST and socket), the other modules use them, and a keys file for anywhere else is
    refused before anything is sent."""
    primary = "0x" + "6b" * 32
    async with PaperVest(port=0) as paper:
        url = f"http://127.0.0.1:{paper.port}"
        outputs: list[str] = []

        async def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, str(MAIN), "--paper-url", url, *args, cwd=tmp_path, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ, **(env or {})))
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            outputs.extend((out.decode(), err.decode()))
            assert proc.returncode is not None
            return proc.returncode, out.decode(), err.decode()

        keys = tmp_path / "pk_vest_paper.py"
        code, out, err = await run("--module", "register", "--keys", str(keys), env={PRIMARY_KEY_ENV: primary})
        assert code == 0, err
        assert out.startswith(f"[PAPER] paper server at 127.0.0.1:{paper.port} — no real money")
        key = keys_file(keys)
        assert (key.rest_url, key.ws_url, key.network) == (paper.rest_url, paper.ws_url, paper.network)
        assert key.primary_address.lower() == address_of(primary).lower()
        assert stat.S_IMODE(os.stat(keys).st_mode) == 0o600

        paper.deposit(key.primary_address, 1000)  # the server's operator credits the new account
        code, out, err = await run("--module", "order", "--coin", "BTC", "--side", "buy", "--amount", "0.001",
                                   "--keys", str(keys), "--json")
        assert code == 0, err
        doc = json.loads(out)
        assert doc["paper"] is True and doc["order"]["status"] == "FILLED" and doc["position"]["size"] == 0.001
        assert f"[PAPER] paper server at 127.0.0.1:{paper.port}, account {key.primary_address[:6]}" in err
        assert paper.stats["orders_accepted"] == 1

        # a live keys file (no URL: the venue's own servers) is never used against a paper server
        live = tmp_path / "pk_vest.py"
        keys_files.write_private_file(live, keys_files.render_keys_file(
            dataclasses.replace(key, rest_url=None, ws_url=None), "VEST_KEY", "looks live"), force=False)
        before = paper.stats["rest_requests"]
        code, out, err = await run("--module", "check", "--keys", str(live))
        assert (code, out) == (1, "")
        assert err.strip() == (f"error: keys file {live} uses vest's own servers (a live keys file?), not the paper "
                               f"server at 127.0.0.1:{paper.port}; register an account there with "
                               f"`python main.py --paper-url {url} --module register`")
        assert paper.stats["rest_requests"] == before

        # no wallet key given: a throwaway paper wallet, never a prompt for a real key
        other = tmp_path / "other_paper.py"
        code, out, err = await run("--module", "register", "--keys", str(other), env={PRIMARY_KEY_ENV: ""})
        assert code == 0, err
        assert "(a new throwaway paper wallet)" in out
        assert keys_file(other).primary_address.lower() not in (key.primary_address.lower(), address_of(primary).lower())

    joined = "\n".join(outputs)
    for secret in (primary, primary[2:], key.api_key, key.signing_private_key[2:]):
        assert secret not in joined


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--paper-url", "127.0.0.1:8765", "--module", "check"], "--paper-url wants http://HOST:PORT"),
        (["--paper-url", "http://127.0.0.1", "--module", "check"], "--paper-url wants http://HOST:PORT"),
        (["--paper-url", "http://127.0.0.1:1", "--paper-db", "x", "--module", "check"], "--paper-db does not apply"),
    ],
)
def test_paper_url_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        arguments.parse_args(argv)
    assert info.value.code == 2 and message in capsys.readouterr().err
