"""The arbitrage modules of the CLI (``spread``, ``hedge``, ``unhedge``) on two paper venues
started inside the command: ``vest`` and ``vest2`` (Vest's registry entry copied under another
name, registered here), each on its own ledger, with paper classes that refuse, halt or stand
still (``arb_venues``). The truth is read back from the two ledger files, never from the CLI."""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import json
import logging
import os
import pty
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

import exchange_factory
from mpdex.arb import book_math
from mpdex.cli import app, arguments, hedge, keys, modules, session
from mpdex.paper import PaperVest
from test_exchanges.conftest import ROOT

from .arb_venues import HERE, PLAIN, SYMBOL, QuietPaperVest, ledger_path, ledger_state, vest2_spec

VEST = exchange_factory.venue("vest")
ASK = session.ask_confirmation
HEDGE = ["--paper", "--module", "hedge", "--coin", "BTC", "--long", "vest", "--short", "vest2"]
UNHEDGE = ["--paper", "--module", "unhedge", "--coin", "BTC", "--long", "vest", "--short", "vest2"]


@pytest.fixture(autouse=True)
def keep_root_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def xdg(monkeypatch, tmp_path) -> Path:
    path = tmp_path / "xdg"
    monkeypatch.setenv("XDG_DATA_HOME", str(path))
    return path


@pytest.fixture
def use(monkeypatch, xdg):
    """``use(vest=..., vest2=...)``: the paper class each venue's registry entry names."""
    def choose(vest: str = PLAIN, vest2: str = PLAIN) -> None:
        monkeypatch.setitem(exchange_factory.VENUES, "vest", dataclasses.replace(VEST, paper=vest))
        monkeypatch.setitem(exchange_factory.VENUES, "vest2", vest2_spec(vest2))

    choose()
    return choose


def run(capsys, *argv: str, root: Path | None = None) -> tuple[int, str, str]:
    code = app.main(list(argv), root=root)
    out, err = capsys.readouterr()
    return code, out, err


def ledgers(xdg: Path, second: str = "vest2") -> tuple[tuple[D, list[dict[str, Any]]], tuple[D, list[dict[str, Any]]]]:
    return ledger_state(ledger_path(xdg, "vest"), "vest"), ledger_state(ledger_path(xdg, second), second)


def flat(text: str) -> str:
    """``text`` with every run of white space one space (wrapped lines joined)."""
    return " ".join(text.split())


def fits(text: str) -> None:
    """Every line after the banner (whose ledger path is the user's) fits 100 columns."""
    body = text.split("\n\n", 1)[1] if text.startswith("[") else text
    assert max(len(line) for line in body.splitlines()) <= 100, body


# --------------------------------------------------------------------------- options and help


def test_modules_are_in_the_help_and_each_shows_only_its_options(use, capsys):
    with pytest.raises(SystemExit):
        arguments.parse_args(["--help"], prog="main.py")
    text = capsys.readouterr().out
    for name in ("spread", "hedge", "unhedge"):
        assert f"  {name} " in text
    papers = [n for n in exchange_factory.implemented_venues() if exchange_factory.venue(n).paper][:2]
    assert f"--paper --module spread --exchanges {','.join(papers)} --coins BTC,ETH --once" in text  # the registry's

    with pytest.raises(SystemExit) as info:
        arguments.parse_args(["--module", "spread", "--help"], prog="main.py")
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: main.py --module spread")
    for flag in ("--exchanges", "--coins", "--amount", "--interval", "--once", "--paper", "--json"):
        assert flag in text
    for flag in ("--coin ", "--long", "--short", "--side", "--keys", "--exchange ", "--yes", "--paper-db",
                 "--paper-url", "--max-spread-bps", "--price"):
        assert flag not in text
    assert "one JSON document per line" in text and "largest minimum order size" in text

    with pytest.raises(SystemExit):
        arguments.parse_args(["--module", "hedge", "--help"], prog="main.py")
    text = capsys.readouterr().out
    for flag in ("--coin", "--long", "--short", "--amount", "--slippage", "--max-spread-bps", "--sequential",
                 "--thinner-first", "--strict", "--yes", "--paper"):
        assert flag in text
    for flag in ("--exchanges", "--coins", "--once", "--side", "--keys", "--paper-db"):
        assert flag not in text
    assert "3 NAKED" in text and "4 refused (nothing placed)" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--module", "spread", "--coins", "BTC"], "--module spread needs --exchanges A,B (the live venues"),
        (["--module", "spread", "--exchanges", "vest", "--coins", "BTC"], "at least two"),
        (["--module", "spread", "--exchanges", "vest,vest", "--coins", "BTC"], "named twice"),
        (["--module", "spread", "--exchanges", "vest,nope", "--coins", "BTC"], "unknown exchange 'nope'"),
        (["--module", "spread", "--exchanges", "vest,vest2", "--coins", "BTC", "--once", "--interval", "1"],
         "--interval does not apply with --once"),
        (["--module", "spread", "--exchange", "vest", "--exchanges", "vest,vest2", "--coins", "BTC"],
         "--exchange does not apply to --module spread: name the venues with --exchanges"),
        (["--module", "spread", "--exchanges", "vest,vest2", "--coins", "BTC", "--side", "buy"],
         "--side is not used by --module spread"),
        (["--module", "hedge", "--coin", "BTC", "--long", "vest", "--short", "vest"], "needs --amount"),
        (["--module", "hedge", "--coin", "BTC", "--long", "vest", "--short", "vest", "--amount", "1"],
         "the same venue (vest)"),
        (["--module", "hedge", "--coin", "BTC", "--long", "vest", "--short", "nope", "--amount", "1"],
         "invalid choice: 'nope'"),
        ([*HEDGE, "--amount", "1", "--sequential", "--thinner-first"], "not both"),
        ([*HEDGE, "--amount", "1", "--keys", "k.py"], "--keys does not apply to --module hedge"),
        ([*UNHEDGE, "--paper-db", "x.db"], "--paper-db does not apply to --module unhedge"),
        ([*UNHEDGE, "--paper-url", "http://127.0.0.1:1"], "--paper-url does not apply"),
    ],
)
def test_usage_errors_exit_2(use, argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        arguments.parse_args(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_spread_on_paper_defaults_to_every_paper_venue_and_btc_eth(use, monkeypatch):
    args = arguments.parse_args(["--paper", "--module", "spread", "--once"])
    papers = [n for n in exchange_factory.implemented_venues() if exchange_factory.venue(n).paper]
    assert "vest" in papers and "vest2" in papers
    assert (args.exchanges, args.coins) == (papers, ["BTC", "ETH"])
    args = arguments.parse_args(["--paper", "--module", "spread", "--exchanges", "vest,vest2", "--coins", "SOL"])
    assert (args.exchanges, args.coins) == (["vest", "vest2"], ["SOL"])  # what is given wins
    monkeypatch.setitem(exchange_factory.VENUES, "vest2", vest2_spec(paper=None))  # type: ignore[arg-type]
    assert "vest2" not in arguments.parse_args(["--paper", "--module", "spread"]).exchanges


def test_paper_needs_a_paper_class_for_every_venue(use, monkeypatch, capsys):
    monkeypatch.setitem(exchange_factory.VENUES, "vest2", vest2_spec(paper=None))  # type: ignore[arg-type]
    with pytest.raises(SystemExit):
        arguments.parse_args([*HEDGE, "--amount", "1"])
    assert "--paper is not available for vest2: no paper venue" in capsys.readouterr().err


def test_json_errors_usage_input_and_unknown_coin(use, xdg, capsys):
    with pytest.raises(SystemExit) as info:
        app.main(["--json", "--module", "hedge", "--coin", "BTC", "--long", "vest", "--short", "vest",
                  "--amount", "1"])
    assert info.value.code == 2
    assert json.loads(capsys.readouterr().out)["error"]["type"] == "UsageError"

    code, out, err = run(capsys, "--json", *HEDGE, "--amount", "-1")
    assert code == 1 and json.loads(out) == {"error": {"type": "InvalidOrder", "code": None,
                                                       "message": "amount must be a positive number, got '-1'"}}
    code, out, err = run(capsys, "--json", "--paper", "--module", "hedge", "--coin", "NOPE", "--long", "vest",
                         "--short", "vest2", "--amount", "0.01")
    error = json.loads(out)["error"]
    assert code == 1 and error["type"] == "BadSymbol"
    assert error["message"] == ("vest has no market for 'NOPE' (NOPE-PERP); list its markets with "
                                "`mpdex --exchange vest --paper --module symbols`")
    assert ledgers(xdg) == ((0, []), (0, []))


# --------------------------------------------------------------------------- spread


def _walk_avg(levels: list[list[D]], size: D) -> D:
    w = book_math.walk([[p, q] for p, q in levels], size)
    assert w.complete and w.avg_price is not None
    return w.avg_price


def test_spread_once_json_and_table_match_the_venues_books(use, capsys):
    use(vest=f"{HERE}:QuietPaperVest", vest2=f"{HERE}:DearerPaperVest")
    QuietPaperVest.started.clear()
    size = D("0.5")  # deep enough to walk more than one level
    code, out, err = run(capsys, "--paper", "--json", "--module", "spread", "--exchanges", "vest,vest2", "--coins",
                         "BTC,ETH", "--amount", str(size), "--once")
    assert code == 0, err
    doc = json.loads(out)
    assert (doc["module"], doc["paper"], doc["coins"], doc["venues"]) == ("spread", True, ["BTC", "ETH"],
                                                                         ["vest", "vest2"])
    assert doc["sizes"] == {"BTC": 0.5, "ETH": 0.5}
    assert "[PAPER] vest: paper exchange on 127.0.0.1:" in err and "[PAPER] vest2: " in err
    papers = dict(zip(("vest", "vest2"), QuietPaperVest.started, strict=True))
    assert papers["vest"].seed != papers["vest2"].seed  # independent price paths
    prices = {}
    for name, paper in papers.items():
        bids, asks = paper.sim.prices.book(SYMBOL)
        q = doc["quotes"]["BTC"][name]
        assert q["status"] == "ok" and q["symbol"] == SYMBOL
        assert (q["best_bid"], q["best_ask"]) == (float(bids[0][0]), float(asks[0][0]))
        buy, sell = _walk_avg(asks, size), _walk_avg(bids, size)
        assert (q["buy_price"], q["sell_price"]) == (float(buy), float(sell))
        assert q["taker_fee"] == 0.0001 and q["mark_price"] == float(paper.price(SYMBOL))
        prices[name] = (buy, sell)
    best = doc["opportunities"][0]  # vest2 marked 0.3 % higher: buy on vest, sell on vest2
    assert (best["coin"], best["long_venue"], best["short_venue"]) == ("BTC", "vest", "vest2")
    long_px, short_px = prices["vest"][0], prices["vest2"][1]
    gross = (short_px - long_px) / long_px * 10_000
    fees = 2 * (D("0.0001") * long_px + D("0.0001") * short_px) / long_px * 10_000
    assert best["gross_bps"] == pytest.approx(float(gross), rel=1e-12) and best["gross_bps"] > 20
    assert best["fees_bps"] == pytest.approx(float(fees), rel=1e-12)
    assert best["net_bps"] == pytest.approx(float(gross - fees), rel=1e-12)
    assert len(doc["opportunities"]) == 4

    QuietPaperVest.started.clear()
    code, out, err = run(capsys, "--paper", "--module", "spread", "--exchanges", "vest,vest2", "--coins", "BTC",
                         "--once")
    assert code == 0, err
    fits(out)
    lines = out.splitlines()
    assert lines[0].startswith("[PAPER] vest: paper exchange on 127.0.0.1:")
    assert "BTC, size 0.0001" in lines  # default: the largest minimum order size (top of book)
    header = next(line for line in lines if line.startswith("  venue  status"))
    assert header.split() == ["venue", "status", "bid", "ask", "buy", "sell", "fund", "bp/h", "taker", "bp", "age",
                              "ms"]
    for name, paper in zip(("vest", "vest2"), QuietPaperVest.started, strict=True):
        bids, asks = paper.sim.prices.book(SYMBOL)
        row = next(line for line in lines if line.startswith(f"  {name} "))
        cells = row.split()
        assert cells[:6] == [name, "ok", str(bids[0][0]), str(asks[0][0]), str(asks[0][0]), str(bids[0][0])]
        assert cells[7] == "1.00"  # taker 0.0001 = 1 bp
    edge = next(line for line in lines if line.startswith("  BTC   vest   vest2"))
    assert float(edge.split()[3]) > 20


def _read_until(stream: Any, want: int, marker: bytes, timeout: float = 30.0) -> bytes:
    """Bytes from ``stream`` (a file descriptor) until ``marker`` was seen ``want`` times."""
    data = b""
    deadline = time.monotonic() + timeout
    while data.count(marker) < want:
        left = deadline - time.monotonic()
        assert left > 0, data.decode(errors="replace")
        ready, _, _ = select.select([stream], [], [], left)
        if ready:
            chunk = os.read(stream, 65536)
            assert chunk, data.decode(errors="replace")
            data += chunk
    return data


@pytest.mark.parametrize("mode", ["lines", "json", "tty"])
def test_spread_refreshes_until_ctrl_c_exit_130(mode, tmp_path):
    """Live: a block per refresh (a pipe), one JSON document per line (--json), or the table
    redrawn in place (a terminal); Ctrl-C ends it with 130 and says nothing was sent."""
    argv = [sys.executable, "-m", HERE, "--paper", "--module", "spread", "--exchanges", "vest,vest2",
            "--coins", "BTC", "--interval", "0.2"] + (["--json"] if mode == "json" else [])
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path), PYTHONUNBUFFERED="1")
    master = slave = None
    if mode == "tty":
        master, slave = pty.openpty()
        stdout: Any = slave
    else:
        stdout = subprocess.PIPE
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        fd = master if master is not None else proc.stdout.fileno()  # type: ignore[union-attr]
        marker = b'"module": "spread"' if mode == "json" else b"Spread at"
        seen = _read_until(fd, 3, marker)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 130
        if slave is not None:
            os.close(slave)
            slave = None
        rest = b""
        with contextlib.suppress(OSError):
            while True:
                ready, _, _ = select.select([fd], [], [], 0.5)
                if not ready:
                    break
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                rest += chunk
        err = proc.stderr.read().decode()  # type: ignore[union-attr]
    finally:
        if proc.poll() is None:
            proc.kill()
        for end in (master, slave):
            if end is not None:
                os.close(end)
    text = (seen + rest).decode()
    assert err.strip().splitlines()[-1] == "interrupted: nothing was sent"
    assert "Traceback" not in err
    if mode == "json":
        docs = [json.loads(line) for line in text.splitlines() if line.strip()]
        assert [d["module"] for d in docs[:-1]] == ["spread"] * (len(docs) - 1) and len(docs) >= 4
        assert docs[-1] == {"error": {"type": "Interrupted", "code": None, "message": "interrupted: nothing was sent"}}
        assert all(set(d["quotes"]["BTC"]) == {"vest", "vest2"} for d in docs[:-1])
        assert "[PAPER] vest:" in err
    elif mode == "lines":
        assert "\x1b" not in text
        blocks = [b for b in text.split("\n\n") if b.startswith("Spread at")]
        assert len(blocks) >= 3 and text.startswith("[PAPER] vest: ")
    else:
        assert text.count("\x1b[J") >= 2 and re.search(r"\x1b\[\d+F\x1b\[J", text)  # redrawn in place


# --------------------------------------------------------------------------- hedge / unhedge


def test_hedge_then_unhedge_on_two_paper_ledgers(use, xdg, capsys):
    code, out, err = run(capsys, *HEDGE, "--amount", "0.01")
    assert code == 0, err
    fits(out)
    plan_at, orders_at = out.index("What will be sent:"), out.index("\nOrders\n")
    assert plan_at < orders_at
    rows = {line.split()[0]: line.split() for line in out[plan_at:orders_at].splitlines()[1:4]
            if line.startswith(("  long ", "  short "))}
    assert rows["long"][:5] == ["long", "vest", "BTC-PERP", "buy", "0.01"]
    assert rows["short"][:5] == ["short", "vest2", "BTC-PERP", "sell", "0.01"]
    assert float(rows["long"][5]) > float(rows["long"][6]) > float(rows["short"][5])  # buy cap above, sell cap below
    assert "long: market order capped at" in out and "short: market order capped at" in out
    assert "Status HEDGED: matched 0.01 BTC" in out
    assert out.rstrip().endswith("net 0 (balanced)")
    (vest_pos, vest_orders), (vest2_pos, vest2_orders) = ledgers(xdg)
    assert (vest_pos, vest2_pos) == (D("0.01"), D("-0.01"))
    assert [(o["side"], o["filled"], o["reduce_only"]) for o in vest_orders] == [("buy", D("0.01"), False)]
    assert [(o["side"], o["filled"], o["reduce_only"]) for o in vest2_orders] == [("sell", D("0.01"), False)]
    assert f"client order id {vest_orders[0]['client_order_id']}" in out

    code, out, err = run(capsys, "--json", *UNHEDGE)
    assert code == 0, err
    doc = json.loads(out)
    assert (doc["status"], doc["result"]["status"], doc["result"]["matched_size"]) == ("closed", "closed", 0.01)
    assert [leg["reduce_only"] for leg in doc["plan"]["preview"]["legs"]] == [True, True]
    assert [o["size"] for o in doc["plan"]["orders"]] == [0.01, 0.01]  # as each venue would sign it
    assert doc["positions"]["balanced"] is True and doc["positions"]["net"] == 0
    (vest_pos, vest_orders), (vest2_pos, vest2_orders) = ledgers(xdg)
    assert (vest_pos, vest2_pos) == (0, 0)
    assert [(o["side"], o["reduce_only"]) for o in vest_orders] == [("buy", False), ("sell", True)]
    assert [(o["side"], o["reduce_only"]) for o in vest2_orders] == [("sell", False), ("buy", True)]

    code, out, err = run(capsys, *UNHEDGE)  # nothing left to close: refused, nothing sent
    assert code == modules.EXIT_REFUSED and "Refused, nothing placed: nothing to close" in flat(out)
    assert err.strip().startswith("error: refused, nothing placed: nothing to close")


def test_a_refused_leg_is_unwound_exit_1_and_both_ledgers_flat(use, xdg, capsys):
    use(vest2=f"{HERE}:PoorPaperVest")  # vest2 refuses the short leg for margin
    code, out, err = run(capsys, *HEDGE, "--amount", "0.01")
    assert code == modules.EXIT_UNWOUND == 1, err
    fits(out)
    assert "Status UNWOUND: matched 0 BTC" in out
    line = err.strip().splitlines()[-1]
    assert line.startswith("error: hedge unwound: the short leg on vest2 was refused (")
    assert line.endswith("; the other leg was moved back, nothing is held")
    (vest_pos, vest_orders), (vest2_pos, vest2_orders) = ledgers(xdg)
    assert (vest_pos, vest2_pos) == (0, 0)
    assert [(o["side"], o["filled"], o["reduce_only"]) for o in vest_orders] == [
        ("buy", D("0.01"), False), ("sell", D("0.01"), True)]  # the open and its unwind
    assert all(o["filled"] == 0 for o in vest2_orders)
    orders = out[out.index("\nOrders\n"):]
    assert re.search(r"long +vest +unwind +sell +0\.01 +filled", orders)
    assert re.search(r"short +vest2 +open +sell +0\.01 +refused", orders)


def test_an_unwind_that_cannot_succeed_is_naked_exit_3_naming_who_holds_what(use, xdg, capsys):
    use(vest=f"{HERE}:HaltingPaperVest", vest2=f"{HERE}:PoorPaperVest")
    code, out, err = run(capsys, *HEDGE, "--amount", "0.01")
    assert code == modules.EXIT_NAKED == 3, err
    fits(out)
    assert "Status NAKED" in out
    assert "NAKED: venue vest holds long 0.01 BTC-PERP unhedged" in out
    assert "the venue reports a position of +0.01" in flat(out)
    assert "close it with `mpdex --exchange vest --paper --module close --coin BTC`" in out
    assert err.strip().splitlines()[-1].startswith("error: NAKED after open_hedge: venue vest holds long 0.01 "
                                                   "BTC-PERP unhedged")
    (vest_pos, vest_orders), (vest2_pos, _) = ledgers(xdg)
    assert (vest_pos, vest2_pos) == (D("0.01"), 0)  # exactly what the lines say
    assert [o["filled"] for o in vest_orders] == [D("0.01")]  # every unwind was refused
    assert re.findall(r"long +vest +unwind +sell +0\.01 +refused", out) and len(
        re.findall(r"long +vest +unwind +sell", out)) == 3

    code, out, err = run(capsys, "--json", *HEDGE, "--amount", "0.01")
    assert code == 3
    doc = json.loads(out)
    assert doc["status"] == "naked" and doc["error"]["type"] == "NakedExposure"
    assert [(e["venue"], e["symbol"], e["side"], e["size"], e["certain"]) for e in doc["result"]["exposures"]] == [
        ("vest", "BTC-PERP", "long", 0.01, True)]
    assert doc["result"]["residual"] == {"vest": 0.01, "vest2": 0.0}
    assert ledgers(xdg)[0][0] == D("0.02")


def test_refusals_place_nothing_exit_4(use, xdg, capsys):
    code, out, err = run(capsys, *HEDGE, "--amount", "0.01", "--max-spread-bps", "-1000")
    assert code == modules.EXIT_REFUSED == 4
    assert "What will be sent:" in out and "(limit -1000 bp)" in out
    assert "Refused, nothing sent: crossing the books costs" in flat(out)
    assert "above the limit of -1000 bps" in flat(out)
    code, out, err = run(capsys, "--json", *HEDGE, "--amount", "0.01", "--max-spread-bps", "-1000")
    doc = json.loads(out)
    assert code == 4 and doc["status"] == "refused" and doc["error"]["type"] == "HedgeRefused"
    assert doc["plan"]["preview"]["would_refuse"].startswith("crossing the books costs")
    assert ledgers(xdg) == ((0, []), (0, []))


def test_legs_that_would_round_differently_are_refused_before_sending(use, xdg, capsys):
    use(vest2=f"{HERE}:CoarsePaperVest")  # BTC steps: vest 0.0001, vest2 0.001
    code, out, err = run(capsys, *HEDGE, "--amount", "0.0015")
    assert code == 4
    assert "short: size 0.0015 rounded down to 0.001 (step 0.001 on BTC-PERP)" in out
    assert ("Refused, nothing sent: the legs would be signed with different sizes (vest 0.0015, vest2 0.001): "
            "give an --amount both venues can trade exactly, e.g. 0.001") in flat(out)
    code, out, err = run(capsys, *HEDGE, "--amount", "0.0015", "--strict")
    assert code == 1 and "strict mode refuses to round" in err
    assert ledgers(xdg) == ((0, []), (0, []))
    code, out, err = run(capsys, *HEDGE, "--amount", "0.002")
    assert code == 0 and "Status HEDGED: matched 0.002 BTC" in out


async def test_a_first_ctrl_c_lets_the_legs_finish():
    """The command's task is cancelled (what Ctrl-C does) while the legs are out: the work goes
    on to its end, the user is told once, and the real result comes back."""
    said: list[str] = []
    release = asyncio.Event()

    async def legs() -> str:
        await release.wait()
        return "hedged"

    task = asyncio.ensure_future(hedge.finish_despite_interrupt(legs(), said.append))
    await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.sleep(0.01)
    assert not task.done()
    release.set()
    assert await task == ("hedged", True)
    assert len(said) == 1 and said[0].startswith("interrupted: the legs are out; finishing the hedge first")


# --------------------------------------------------------------------------- live: confirmation


@contextlib.contextmanager
def live_servers() -> Iterator[tuple[list[PaperVest], list[Any]]]:
    """Two paper servers standing in for two live venues, on a loop in another thread."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def call(coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(30)

    papers = [call(PaperVest(port=0, seed=seed).start()) for seed in (5, 6)]
    try:
        yield papers, [call(p.create_account(usdc=10_000)) for p in papers]
    finally:
        for p in papers:
            call(p.stop())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def test_live_hedge_asks_first_and_sends_nothing_when_declined(use, monkeypatch, capsys, tmp_path):
    live = ["--module", "hedge", "--coin", "BTC", "--long", "vest", "--short", "vest2", "--amount", "0.01"]
    with live_servers() as (papers, account_keys):
        for name, variable, key in (("vest", "VEST_KEY", account_keys[0]), ("vest2", "VEST2_KEY", account_keys[1])):
            keys.write_private_file(tmp_path / "keys" / f"pk_{name}.py",
                                    keys.render_keys_file(key, variable, "a live stand-in"), force=False)
        asked: list[str] = []

        async def decline(prompt: str) -> bool:
            asked.append(prompt)
            return False

        monkeypatch.setattr(session, "ask_confirmation", decline)
        code, out, err = run(capsys, *live, root=tmp_path)
        assert (code, err.strip().splitlines()[-1]) == (1, "aborted: nothing was sent")
        assert len(asked) == 1
        assert re.fullmatch(r"LIVE hedge: market buy 0\.01 BTC-PERP on vest and market sell 0\.01 BTC-PERP on vest2; "
                            r"market order capped at [\d.]+ = mark [\d.]+ \+ 0\.500% \(rounded toward the mark\); "
                            r"market order capped at [\d.]+ = mark [\d.]+ - 0\.500% \(rounded toward the mark\)\. "
                            r"Send both legs\?", asked[0]), asked[0]
        assert out.startswith(f"[LIVE] vest dev account {account_keys[0].primary_address[:6]}")
        assert f"[LIVE] vest2 dev account {account_keys[1].primary_address[:6]}" in out
        assert f" on 127.0.0.1:{papers[1].port}" in out and "What will be sent:" in out
        assert [p.stats["orders_accepted"] for p in papers] == [0, 0]

        monkeypatch.setattr(session, "ask_confirmation", ASK)
        monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))  # not a terminal: the real question refuses
        code, out, err = run(capsys, *live, root=tmp_path)
        assert code == 1 and err.strip().endswith("stdin is not a terminal: re-run with --yes to confirm")
        assert [p.stats["orders_accepted"] for p in papers] == [0, 0]

        code, out, err = run(capsys, *live, "--yes", root=tmp_path)
        assert code == 0, err
        assert "Status HEDGED" in out
        assert [p.stats["orders_accepted"] for p in papers] == [1, 1]
        (tmp_path / "keys" / "pk_vest2.py").unlink()
        code, out, err = run(capsys, *live, "--yes", root=tmp_path)
        assert code == 1 and f"no keys file at {tmp_path / 'keys' / 'pk_vest2.py'}" in err
        assert [p.stats["orders_accepted"] for p in papers] == [1, 1]


def test_what_a_venue_does_not_declare_is_said_not_guessed(use, monkeypatch, xdg, capsys):
    """vest2's exchange class declares no 'prepare', 'orders' or 'markets' and fails its ETH book:
    the plan says the venue rounds at send time, the spread needs --amount, the ETH quote is
    marked failed with the reason — and the hedge still runs on what the contract gives."""
    monkeypatch.setitem(exchange_factory.VENUES, "vest2", vest2_spec(exchange=f"{HERE}:BareVest"))
    spread = ["--paper", "--module", "spread", "--exchanges", "vest,vest2", "--coins", "BTC,ETH", "--once"]
    code, out, err = run(capsys, *spread)
    assert code == 1 and err.strip().splitlines()[-1] == (
        "error: --module spread needs --amount SIZE: vest2 does not report its minimum order sizes "
        "(capability 'markets')")
    code, out, err = run(capsys, *spread, "--amount", "0.01")
    assert code == 0, err
    fits(out)
    row = next(line for line in out.splitlines() if line.startswith("  vest2  failed"))
    assert row.split()[2:6] == ["-", "-", "-", "-"]
    assert "    vest2: ExchangeUnavailable: ETH book unavailable (test)" in out
    assert re.search(r"  ETH   vest   vest2", out) is None  # no edge without a book

    code, out, err = run(capsys, *HEDGE, "--amount", "0.01")
    assert code == 0, err
    fits(out)
    row = next(line for line in out.splitlines() if line.startswith("  short  vest2"))
    assert row.split()[4:6] == ["0.01", "-"]  # the cap is the venue's to set
    text = flat(out)
    assert ("short: vest2 cannot show an order before sending it (capability 'prepare'): it rounds the size and "
            "sets the cap itself when the order is sent") in text
    assert "short: vest2 has no order lookup (capability 'orders')" in text
    assert "Status HEDGED" in out
    assert (ledgers(xdg)[0][0], ledgers(xdg)[1][0]) == (D("0.01"), D("-0.01"))


def _hyperliquid_paper() -> bool:
    spec = exchange_factory.VENUES.get("hyperliquid")
    return spec is not None and spec.implemented and spec.paper is not None


@pytest.mark.skipif(not _hyperliquid_paper(), reason="the registry has no Hyperliquid paper venue yet")
def test_the_real_pair_vest_and_hyperliquid_on_paper(xdg, capsys):
    """The flow the README shows, on the registry's own venues: each its own dialect, symbol
    rule, size step and fees."""
    code, out, err = run(capsys, "--paper", "--json", "--module", "spread", "--once")  # the defaults
    assert code == 0, err
    doc = json.loads(out)
    assert sorted(doc["venues"]) == ["hyperliquid", "vest"] and doc["coins"] == ["BTC", "ETH"]
    quotes = doc["quotes"]["BTC"]
    assert (quotes["vest"]["symbol"], quotes["hyperliquid"]["symbol"]) == ("BTC-PERP", "BTC")
    assert all(q["status"] == "ok" and q["best_bid"] < q["best_ask"] for c in doc["coins"]
               for q in doc["quotes"][c].values())
    assert len(doc["opportunities"]) == 4

    legs = ["--paper", "--coin", "BTC", "--long", "vest", "--short", "hyperliquid"]
    code, out, err = run(capsys, "--module", "hedge", *legs, "--amount", "0.00015")  # vest steps 0.0001
    assert code == 4 and "(vest 0.0001, hyperliquid 0.00015)" in flat(out)
    code, out, err = run(capsys, "--module", "hedge", *legs, "--amount", "0.01")
    assert code == 0, err
    fits(out)
    assert "Status HEDGED: matched 0.01 BTC" in out
    (vest_pos, _), (hl_pos, hl_orders) = ledgers(xdg, "hyperliquid")
    assert (vest_pos, hl_pos) == (D("0.01"), D("-0.01")) and len(hl_orders) == 1
    code, out, err = run(capsys, "--json", "--module", "unhedge", *legs)
    assert code == 0, err
    assert json.loads(out)["status"] == "closed"
    assert (ledgers(xdg, "hyperliquid")[0][0], ledgers(xdg, "hyperliquid")[1][0]) == (0, 0)
