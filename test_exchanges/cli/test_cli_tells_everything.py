"""The CLI hides nothing (issue 11): what was rounded, fees and realised PnL, leverage and
margin per position, full order ids, help per module, errors that name the fix, JSON errors,
where it connects and what it waits for — and tables that fit 100 columns.

Driven against an in-memory exchange (``MemoryExchange`` from test_cli) or in process."""
from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import socket
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import exchange_factory
from mpdex.cli import account, app, arguments, keys, output, session, trading
from mpdex.cli.progress import Activity
from mpdex.errors import InvalidOrder
from mpdex.orders import MarketRules, OrderPlan, StepGrid, normalize_order
from mpdex.paper import PaperVest
from test_exchanges.cli.test_cli import MemoryExchange, make_ctx
from test_exchanges.conftest import ROOT
from wrappers.vest_keys import VestKey

LONG_ID = "0x5f2b6c0d9a1e4b7c8d3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d"


@pytest.fixture(autouse=True)
def keep_root_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


# --------------------------------------------------------------------------- numbers and tables


def test_numeric_columns_align_on_the_decimal_point():
    lines = output.format_table(("coin", "size", "price"),
                                [("BTC", 0.34, "97000.5"), ("DOGE", 10, None), ("ETH", 0.2756, "1")])
    assert lines == [
        "  coin     size    price",
        "  BTC    0.34    97000.5",
        "  DOGE  10             -",
        "  ETH    0.2756      1",
    ]


@pytest.mark.parametrize(
    ("value", "price", "money"),
    [
        (96958.96666667, "96958.967", "96958.966667"),
        (97004.9, "97004.9", "97004.9"),
        (0.000012345678, "0.000012345678", "0.000012"),
        (-0.0637, "-0.0637", "-0.0637"),
        (9999.810194, "9999.8102", "9999.810194"),
        (None, "-", "-"),
    ],
)
def test_prices_and_money_print_without_float_noise(value, price, money):
    assert (output.fmt_price(value), output.fmt_money(value)) == (price, money)


def _busy_exchange(ex: Any) -> None:
    """Realistic widths: a long symbol, Vest's 66-character order ids, PARTIALLY_FILLED."""
    ex.positions["BTC-PERP"].update(leverage=20, margin_used=48.5, entry_price=96958.96666667)
    ex.orders = [
        {"id": LONG_ID, "order_id": LONG_ID, "client_order_id": "1767225600123", "symbol": "AAPL-USD-PERP",
         "side": "sell", "size": 12.5, "filled_size": 2.25, "price": 231.57, "order_type": "limit",
         "status": "PARTIALLY_FILLED", "reduce_only": True, "created_at": 1767225600123},
        {"id": "0xo1", "order_id": "0xo1", "client_order_id": "111", "symbol": "BTC-PERP", "side": "buy",
         "size": 0.0001, "filled_size": 0.0, "price": 90000.1, "order_type": "limit", "status": "NEW",
         "reduce_only": False, "created_at": 1767225600123},
    ]


async def test_check_shows_leverage_margin_and_full_order_ids_in_100_columns():
    ctx, ex = make_ctx(["--module", "check"])
    _busy_exchange(ex)
    report = await account.cmd_check(ctx)
    text = "\n".join(report.lines)
    assert max(len(line) for line in report.lines) <= output.WIDTH, text
    header = next(line for line in report.lines if line.startswith("  symbol    side"))
    assert header.split()[-2:] == ["lev.", "margin"]
    row = next(line for line in report.lines if line.startswith("  BTC-PERP  long"))
    assert row.split() == ["BTC-PERP", "long", "0.01", "96958.967", "96950", "-0.5", "80000", "20", "48.5"]
    # every order id in full, with its client id: both can be pasted into --order-id
    assert f"    id {LONG_ID}  client 1767225600123" in report.lines
    assert "    id 0xo1  client 111" in report.lines
    aapl = next(line for line in report.lines if line.startswith("  AAPL-USD-PERP"))
    assert aapl.split() == ["AAPL-USD-PERP", "sell", "limit", "12.5", "2.25", "231.57", "yes", "PARTIALLY_FILLED",
                            "2026-01-01", "00:00:00Z"]
    assert "margin used" in text


async def test_orders_lists_full_ids_in_100_columns():
    ctx, ex = make_ctx(["--module", "orders"])
    _busy_exchange(ex)
    report = await account.cmd_orders(ctx)
    assert max(len(line) for line in report.lines) <= output.WIDTH
    assert f"    id {LONG_ID}  client 1767225600123" in report.lines


# --------------------------------------------------------------------------- rounding, fees, realised PnL


class RoundingExchange(MemoryExchange):
    """MemoryExchange with Vest-like rules (size step 0.0001, tick 0.1) normalised by the
    library's own ``normalize_order``; its results carry what the library's do."""

    RULES = MarketRules(symbol="BTC-PERP", size_step=Decimal("0.0001"), min_size=Decimal("0.0001"),
                        price_grid=StepGrid(Decimal("0.1")), limit_tifs=("GTC", "FOK"))

    async def prepare_order(self, symbol: str, side: str, amount: Any, price: Any = None, order_type: Any = None,
                            **kw: Any) -> OrderPlan:
        async def mark() -> Decimal:
            return Decimal("96950")

        return await normalize_order(self.RULES, side, amount, price, order_type, slippage=Decimal("0.01"),
                                     mark=mark, venue="Memory", is_reduce_only=kw.get("is_reduce_only", False),
                                     time_in_force=kw.get("time_in_force"), strict=kw.get("strict", False))

    async def create_order(self, symbol: str, side: str, amount: Any, price: Any = None,
                           order_type: str = "market", **kw: Any) -> dict[str, Any]:
        plan = await self.prepare_order(symbol, side, amount, price, order_type, **kw)
        self.calls.append(("create_order", (symbol, side, amount, price, order_type, kw)))
        return {"id": "0xo2", "order_id": "0xo2", "client_order_id": "222", "symbol": plan.symbol, "side": side,
                "size": float(plan.size), "price": float(plan.price), "order_type": plan.order_type,
                "status": "FILLED", "filled_size": float(plan.size), "avg_price": 96958.96666667,
                "fee": 0.0009695896666667, "realized_pnl": -0.12, "requested_size": float(plan.requested_size),
                "adjustments": list(plan.adjustments), "raw": {}}

    async def close_position(self, symbol: str, position: Any = None, **kw: Any) -> dict[str, Any]:
        result = await super().close_position(symbol, position, **kw)
        return dict(result, fee=0.00969495, realized_pnl=-0.0155)


def rounding_ctx(argv: list[str], *, answer: bool | None = None, paper: bool = False):
    ctx, memory = make_ctx(argv, answer=answer, paper=paper)
    ex = RoundingExchange()
    ex.asked = memory.asked  # type: ignore[attr-defined]
    ctx.exchange = ex
    notes: list[str] = []

    def note(text: str) -> None:
        notes.append(f"{text} (sent so far: {len(ex.calls)})")

    ctx.note = note
    return ctx, ex, notes


ORDER = ["--module", "order", "--coin", "BTC", "--side", "buy", "--amount", "0.00015", "--price", "90000.05"]
ROUNDED = ("size 0.00015 rounded down to 0.0001 (step 0.0001 on BTC-PERP); "
           "price 90000.05 rounded down to 90000 (tick 0.1, in your favour)")


async def test_paper_order_says_what_was_rounded_before_sending_and_in_the_result():
    ctx, ex, notes = rounding_ctx(ORDER, paper=True)
    report = await trading.cmd_order(ctx)
    assert notes == [f"note: {ROUNDED} (sent so far: 0)"]  # one line, before anything was sent
    assert [c[0] for c in ex.calls] == ["create_order"]
    assert ex.calls[0][1][2] == Decimal("0.00015")  # the request goes out as asked: the library rounds it once
    text = "\n".join(report.lines)
    assert "  order            buy 0.0001 BTC-PERP limit" in text
    assert "  adjusted         size 0.00015 rounded down to 0.0001 (step 0.0001 on BTC-PERP)" in text
    assert "                   price 90000.05 rounded down to 90000 (tick 0.1, in your favour)" in text
    assert report.data["order"]["requested_size"] == 0.00015


async def test_live_confirmation_shows_the_rounding_and_what_will_be_sent():
    ctx, ex, notes = rounding_ctx(ORDER, answer=False)
    with pytest.raises(session.Aborted):
        await trading.cmd_order(ctx)
    assert ex.calls == [] and notes == []
    assert ex.asked == [f"LIVE limit buy 0.0001 BTC-PERP at 90000 GTC (mark 96950); {ROUNDED}. Send it?"]  # type: ignore[attr-defined]


async def test_strict_refuses_to_round_before_asking_or_sending():
    ctx, ex, notes = rounding_ctx([*ORDER, "--strict"], answer=True)
    with pytest.raises(InvalidOrder, match=r"size 0.00015 rounded down to 0.0001 .*strict mode refuses to round"):
        await trading.cmd_order(ctx)
    assert ex.calls == [] and ex.asked == [] and notes == []  # type: ignore[attr-defined]
    exact = ["--module", "order", "--coin", "BTC", "--side", "buy", "--amount", "0.0002", "--price", "90000.1",
             "--strict", "--yes"]
    ctx, ex, notes = rounding_ctx(exact)
    await trading.cmd_order(ctx)
    assert ex.calls[0][1][5]["strict"] is True and notes == []


async def test_order_and_close_print_the_fee_and_realised_pnl():
    ctx, ex, _ = rounding_ctx(["--module", "order", "--coin", "BTC", "--side", "buy", "--amount", "0.0001"],
                              paper=True)
    report = await trading.cmd_order(ctx)
    text = "\n".join(report.lines)
    assert "  filled           0.0001 @ 96958.967" in text
    assert "  fee              0.00097 USDC" in text
    assert "  realised PnL     -0.12 USDC" in text
    assert report.data["order"]["fee"] == 0.0009695896666667  # JSON keeps every digit

    ctx, ex, _ = rounding_ctx(["--module", "close", "--coin", "BTC", "--yes"])
    report = await trading.cmd_close(ctx)
    assert "  BTC-PERP: fee 0.009695 USDC, realised PnL -0.0155 USDC" in report.lines


# --------------------------------------------------------------------------- help, version, console script


@pytest.mark.parametrize("argv", [["--module", "order", "--help"], ["-h", "-m", "order"]])
def test_module_help_shows_that_modules_options_only(argv, capsys):
    with pytest.raises(SystemExit) as info:
        arguments.parse_args(argv, prog="main.py")
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: main.py --module order")
    for flag in ("--coin", "--side", "--amount", "--price", "--reduce-only", "--tif", "--slippage", "--strict",
                 "--yes", "--paper", "--json"):
        assert flag in text
    for flag in ("--depth", "--limit", "--cancel-orders", "--order-id", "--leverage", "--network", "--expiry-days",
                 "--force", "--all"):
        assert flag not in text
    assert "place an order" in text and "check " not in text  # no list of the other modules


def test_version_has_one_source(capsys):
    import importlib.metadata

    import mpdex

    with pytest.raises(SystemExit) as info:
        arguments.parse_args(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"mpdex-vest {mpdex.__version__}"
    assert importlib.metadata.version("mpdex-vest") == mpdex.__version__  # setup.py reads mpdex/__init__.py
    setup = (ROOT / "setup.py").read_text()
    assert mpdex.__version__ not in setup and "version=VERSION" in setup


def test_console_script_mpdex_is_main_py(tmp_path):
    script = Path(sys.executable).parent / "mpdex"
    assert script.exists(), "the console script is missing: reinstall with pip install -e ."
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path))
    runs = [subprocess.run([*cmd, "--paper", "--json", "--module", "price", "--coin", "BTC"], capture_output=True,
                           text=True, timeout=60, cwd=tmp_path, env=env, stdin=subprocess.DEVNULL)
            for cmd in ([str(script)], [sys.executable, str(ROOT / "main.py")])]
    for proc in runs:
        assert proc.returncode == 0, proc.stderr
    docs = [json.loads(p.stdout) for p in runs]
    assert docs[0]["symbol"] == docs[1]["symbol"] == "BTC-PERP" and docs[0]["mark_price"] > 0
    version = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=30)
    assert version.stdout.startswith("mpdex-vest ")


# --------------------------------------------------------------------------- errors: JSON, and the fix named


def run_main(argv: list[str], capsys) -> tuple[int, str, str]:
    code = app.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_usage_error_is_json_on_stdout_and_still_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        app.main(["--json", "--module", "order", "--coin", "BTC"])
    assert info.value.code == 2
    out, err = capsys.readouterr()
    assert json.loads(out) == {"error": {"type": "UsageError", "code": None,
                                         "message": "--module order needs --side, --amount"}}
    assert "needs --side, --amount" in err


def test_json_input_error_is_json_on_stdout_exit_1(capsys, tmp_path):
    code, out, err = run_main(["--json", "--module", "order", "--coin", "BTC", "--side", "buy", "--amount", "-1",
                               "--keys", str(tmp_path / "none.py")], capsys)
    assert code == 1
    assert json.loads(out) == {"error": {"type": "InvalidOrder", "code": None,
                                         "message": "amount must be a positive number, got '-1'"}}
    assert err.strip() == "error: amount must be a positive number, got '-1'"


def test_json_interrupt_is_json_exit_130(capsys, monkeypatch):
    async def interrupted(*args: Any, **kwargs: Any) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(app, "_run", interrupted)
    code, out, err = run_main(["--json", "--paper", "--module", "check"], capsys)
    assert code == 130
    assert json.loads(out)["error"] == {"type": "Interrupted", "code": None, "message": "interrupted: nothing was sent"}


def test_unknown_coin_points_to_the_symbols_module_also_in_json(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    code, out, err = run_main(["--paper", "--json", "--module", "price", "--coin", "NOPE"], capsys)
    assert code == 1
    error = json.loads(out)["error"]
    assert error["type"] == "BadSymbol" and "'NOPE'" in error["message"]
    assert error["message"].endswith("; list the markets with `mpdex --paper --module symbols`")
    assert err.splitlines()[-1] == f"error: {error['message']}"


def test_keys_file_field_errors_name_the_field_and_the_fix(capsys, tmp_path):
    path = tmp_path / "pk_vest.py"
    path.write_text('VEST_KEY = {"api_key": "k" * 20, "signing_private_key": "  "}\n')
    code, out, err = run_main(["--module", "check", "--keys", str(path)], capsys)
    assert (code, out) == (1, "")
    assert err.strip() == (f"error: keys file {path}: signing_private_key is empty; fill it in, or write the file "
                           "with `mpdex --module register`")
    path.write_text('VEST_KEY = {"api_key": "k" * 20, "signing_private_key": "0x' + "ab" * 32 + '"}\n')
    code, out, err = run_main(["--module", "check", "--keys", str(path)], capsys)
    assert err.strip() == (f"error: keys file {path}: VEST_KEY has no field 'primary_address'; add it "
                           "(keys/copy.pk_vest.py lists every field)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_failure_names_the_host(capsys, tmp_path):
    port = _free_port()  # nothing listens there any more
    key = VestKey(api_key="k" * 20, signing_private_key="0x" + "ab" * 32, primary_address="0x" + "11" * 20,
                  network="dev", rest_url=f"http://127.0.0.1:{port}/v2", ws_url=f"ws://127.0.0.1:{port}/ws")
    path = tmp_path / "pk_vest.py"
    keys.write_private_file(path, keys.render_keys_file(key, "VEST_KEY", "unreachable"), force=False)
    code, out, err = run_main(["--module", "check", "--keys", str(path), "--json"], capsys)
    assert code == 1
    line = err.strip().splitlines()[-1]
    assert line.startswith("error: ") and line.count(f"127.0.0.1:{port}") == 1, err  # named once
    assert json.loads(out)["error"]["type"] == "ExchangeUnavailable"


class BusyPortPaper(PaperVest):
    """Vest's paper venue on a port someone else holds (the class the registry would name)."""

    port_in_use = 0

    def __init__(self, db_path: str | None = None, seed: int = 1) -> None:
        super().__init__(db_path=db_path, seed=seed, port=self.port_in_use)


def test_a_port_in_use_is_one_line(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    vest = exchange_factory.venue("vest")
    monkeypatch.setitem(exchange_factory.VENUES, "vest", dataclasses.replace(
        vest, paper="test_exchanges.cli.test_cli_tells_everything:BusyPortPaper"))
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        BusyPortPaper.port_in_use = holder.getsockname()[1]
        code, out, err = run_main(["--paper", "--module", "check"], capsys)
    assert (code, out) == (1, "")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("error: port already in use: ") and str(BusyPortPaper.port_in_use) in err
    assert err.strip().endswith("stop the program that holds it, or choose another port")


# --------------------------------------------------------------------------- what a slow step waits for


def test_a_slow_step_is_named_after_a_moment_and_never_silent_for_long():
    now = [0.0]
    said: list[str] = []
    activity = Activity(said.append, clock=lambda: now[0])
    with activity.step("connecting to 127.0.0.1:8765"):
        for t in (0.5, 0.99):
            now[0] = t
            activity.tick()
        assert said == []  # a quick step says nothing
        now[0] = 1.0
        activity.tick()
        assert said == ["… connecting to 127.0.0.1:8765"]
        with activity.step(None):  # e.g. the user reading a question: quiet
            now[0] = 30.0
            activity.tick()
        assert len(said) == 1
        for t in range(31, 45):
            now[0] = float(t)
            activity.tick()
    assert said[1:] == [f"… still connecting to 127.0.0.1:8765 ({t} s)" for t in (31, 36, 41)]  # every 5 s
    now[0] = 100.0
    activity.tick()
    assert len(said) == 4  # the step ended


class SlowExchange(MemoryExchange):
    async def create_order(self, *args: Any, **kw: Any) -> dict[str, Any]:
        await asyncio.sleep(0.4)
        return await super().create_order(*args, **kw)


async def test_a_slow_order_confirmation_says_what_it_waits_for():
    ctx, memory = make_ctx(["--module", "order", "--coin", "BTC", "--side", "buy", "--amount", "0.01"], paper=True)
    ctx.exchange = SlowExchange()
    said: list[str] = []
    ctx.activity = Activity(said.append, first_after=0.1)
    ctx.activity.where = "127.0.0.1:8765"
    watcher = asyncio.ensure_future(ctx.activity.watch(0.02))
    try:
        await trading.cmd_order(ctx)
    finally:
        watcher.cancel()
    assert said == ["… waiting for 127.0.0.1:8765 to confirm the order"]
    assert ctx.activity.sending == "sending the market buy order for 0.01 BTC-PERP"
