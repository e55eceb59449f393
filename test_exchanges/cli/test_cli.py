"""The CLI (mpdex/cli) without a network: options, exit codes, keys files, tables, and the modules
driven against an in-memory exchange (the paper-mode subprocess runs are in test_cli_paper.py)."""
from __future__ import annotations

import argparse
import dataclasses
import io
import logging
import os
import stat
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import exchange_factory
from mpdex.cli import account, app, arguments, keys, modules, output, session, trading
from mpdex.errors import ConfigError, InsufficientMargin, InvalidOrder
from mpdex.orders import OrderPlan
from test_exchanges.conftest import ROOT
from wrappers.vest_keys import VestKey

SIGNING_KEY = "0x" + "ab" * 32
API_KEY = "api-key-SECRET-123456"
PRIMARY_KEY = "0x" + "cd" * 32
FAKEEX_PRIMARY_KEY_ENV = "FAKEEX_PRIMARY_PRIVATE_KEY"


@pytest.fixture(autouse=True)
def keep_root_logging():
    """main() installs its own stderr handler; give pytest's back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def run_main(argv: list[str], capsys) -> tuple[int, str, str]:
    code = app.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --------------------------------------------------------------------------- usage errors


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "required: --module"),
        (["--module", "nope"], "invalid choice: 'nope'"),
        (["--exchange", "binance", "--module", "check"], "invalid choice: 'binance'"),
        (["--module", "order", "--coin", "BTC"], "needs --side, --amount"),
        (["--module", "order", "--coin", "BTC", "--side", "hold", "--amount", "1"], "invalid choice: 'hold'"),
        (["--module", "order", "--coin", "BTC", "--side", "buy", "--amount", "1", "--tif", "GTC"], "--tif applies"),
        (["--module", "close"], "needs --coin or --all"),
        (["--module", "close", "--coin", "BTC", "--all"], "not both"),
        (["--module", "close", "--coin", "BTC", "--price", "100"], "--price is not used by --module close"),
        (["--module", "check", "--paper-db", "x.db"], "--paper-db needs --paper"),
        (["--paper", "--module", "register"], "needs --keys PATH"),
        (["--module", "book"], "needs --coin/--symbol"),
        (["--module", "book", "--coin", "BTC", "--depth", "x"], "invalid int value"),
    ],
)
def test_usage_errors_exit_2_with_the_reason(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        arguments.parse_args(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_help_explains_every_module(capsys):
    with pytest.raises(SystemExit) as info:
        arguments.parse_args(["--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for name, description in modules.MODULES.items():
        assert f"  {name} " in text
        assert description.split()[0] in text
    assert "--paper" in text and "exit codes" in text


def test_coin_and_symbol_are_the_same_option():
    a = arguments.parse_args(["--module", "price", "--symbol", "BTC-PERP"])
    b = arguments.parse_args(["--module", "price", "--coin", "btc"])
    assert (a.coin, b.coin) == ("BTC-PERP", "btc")


# --------------------------------------------------------------------------- input errors (exit 1)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--amount", "-1"], "amount must be a positive number, got '-1'"),
        (["--amount", "0"], "amount must be a positive number"),
        (["--amount", "lots"], "amount is not a number"),
        (["--amount", "1", "--price", "-5"], "price must be a positive number"),
        (["--amount", "1", "--slippage", "5"], "slippage is a fraction"),
    ],
)
def test_bad_numbers_exit_1_with_one_line_before_connecting(extra, message, capsys, tmp_path):
    missing_keys = tmp_path / "none.py"  # would be a different error if anything connected
    code, out, err = run_main(
        ["--module", "order", "--coin", "BTC", "--side", "buy", "--keys", str(missing_keys), *extra], capsys
    )
    assert code == 1
    assert out == ""
    assert err.splitlines() == [f"error: {message}"] or (len(err.splitlines()) == 1 and message in err)


def test_missing_keys_file_says_how_to_create_one_and_that_paper_needs_none(capsys, tmp_path):
    code, out, err = run_main(["--module", "check", "--keys", str(tmp_path / "pk_vest.py")], capsys)
    assert code == 1 and out == ""
    assert len(err.splitlines()) == 1
    assert "--module register" in err and "--paper needs no keys" in err
    assert str(tmp_path / "pk_vest.py") in err


def test_broken_keys_file_error_never_shows_its_contents(capsys, tmp_path):
    path = tmp_path / "pk_vest.py"
    # an unquoted secret: Python would report it in a NameError
    path.write_text("from wrappers.vest_keys import VestKey\nVEST_KEY = VestKey(api_key=deadbeefSECRETdeadbeef)\n")
    code, out, err = run_main(["--module", "check", "--keys", str(path)], capsys)
    assert code == 1 and out == ""
    assert err.strip() == f"error: keys file {path} failed to load: NameError at line 2"
    assert "deadbeef" not in err


def test_template_keys_file_names_the_missing_field_and_the_file(capsys, tmp_path):
    path = tmp_path / "pk_vest.py"
    path.write_text((ROOT / "keys" / "copy.pk_vest.py").read_text())
    code, out, err = run_main(["--module", "check", "--keys", str(path)], capsys)
    assert (code, out) == (1, "")
    # issue 11: the empty field is named, with the fix (was "vest key_params is missing required field 'api_key'")
    assert err.strip() == (f"error: keys file {path}: api_key is empty; fill it in, or write the file with "
                           "`mpdex --module register`")


def test_keys_file_without_the_variable(tmp_path):
    path = tmp_path / "pk_vest.py"
    path.write_text("KEY = 1\n")
    with pytest.raises(ConfigError, match="does not define VEST_KEY"):
        keys.load_keys(path, exchange_factory.venue("vest"))


# --------------------------------------------------------------------------- formatting


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.1 + 0.2, "0.3"),
        (1e-07, "0.0000001"),
        (97000.5, "97000.5"),
        (10000.0, "10000"),
        (-0.0, "0"),
        (-12.3400, "-12.34"),
        (Decimal("1E+2"), "100"),
        (Decimal("0.00010"), "0.0001"),
        (None, "-"),
        (7, "7"),
        (True, "yes"),
    ],
)
def test_numbers_print_without_float_noise(value, text):
    assert output.fmt_num(value) == text


def test_table_aligns_numbers_right_and_text_left():
    lines = output.format_table(("symbol", "size", "mark"), [("BTC-PERP", 0.01, 97000.5), ("ETH-PERP", 1.25, None)])
    assert lines == [
        "  symbol    size     mark",
        "  BTC-PERP  0.01  97000.5",
        "  ETH-PERP  1.25        -",
    ]
    assert output.format_table(("a",), []) == ["  (none)"]


def test_json_drops_raw_payloads_and_float_noise():
    data = {"order": {"size": 0.1 + 0.2, "raw": {"big": 1}, "fee": Decimal("0.0005")},
            "cancel": [{"status": "error", "exception": InvalidOrder("x")}]}
    assert output.to_jsonable(data) == {"order": {"size": 0.3, "fee": 0.0005}, "cancel": [{"status": "error"}]}


def test_redaction_covers_bare_and_prefixed_secrets():
    s = output.Secrets()
    s.add_key(VestKey(api_key=API_KEY, signing_private_key=SIGNING_KEY, primary_address="0x" + "11" * 20))
    text = f"a {API_KEY} b {SIGNING_KEY} c {SIGNING_KEY[2:].upper()} d"
    assert s.redact(text) == "a <redacted> b <redacted> c <redacted> d"
    record = logging.LogRecord("x", logging.DEBUG, "f", 1, "header %s", (API_KEY,), None)
    assert API_KEY not in output.RedactingFormatter("%(message)s", s).format(record)


# --------------------------------------------------------------------------- keys file writing


def test_keys_file_is_written_0600_loads_back_and_is_never_overwritten(tmp_path):
    key = VestKey(api_key=API_KEY, signing_private_key=SIGNING_KEY, primary_address="0x" + "11" * 20,
                  account_group=3, network="dev")
    text = keys.render_keys_file(key, "VEST_KEY", "written by a test")
    assert "from wrappers.vest_keys import VestKey" in text and "VEST_KEY = VestKey(" in text
    path = tmp_path / "keys" / "pk_vest.py"
    keys.write_private_file(path, text, force=False)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert keys.load_keys(path, exchange_factory.venue("vest")) == key

    with pytest.raises(ConfigError, match="already exists; pass --force"):
        keys.write_private_file(path, "VEST_KEY = None\n", force=False)
    assert keys.load_keys(path, exchange_factory.venue("vest")) == key  # untouched

    keys.write_private_file(path, "VEST_KEY = 42\n", force=True)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert keys.load_keys(path, exchange_factory.venue("vest")) == 42
    assert sorted(p.name for p in path.parent.iterdir()) == ["pk_vest.py"]  # no temp file left


class RegisteringExchange:
    """Registry stand-in whose register() records what it was given."""

    CAPABILITIES: frozenset[str] = frozenset()
    calls: list[dict[str, Any]] = []

    @classmethod
    async def register(cls, primary_private_key: str, *, network: str = "prod", expiry_days: int = 7,
                       rest_url: str | None = None, **_: Any) -> VestKey:
        cls.calls.append({"pk": primary_private_key, "network": network, "days": expiry_days, "rest_url": rest_url})
        return VestKey(api_key=API_KEY, signing_private_key=SIGNING_KEY,
                       primary_address="0x" + "22" * 20, account_group=1, network=network)


@pytest.fixture
def fake_registry(monkeypatch):
    spec = exchange_factory.VenueSpec(name="fakeex", perp_symbol="{coin}-PERP", exchange="test_exchanges.cli.test_cli:RegisteringExchange",
                                      key_fields=("api_key", "signing_private_key", "primary_address"),
                                      keys_variable="FAKEEX_KEY", networks=("prod", "dev"), extra_modules=("register",),
                                      primary_key_env=FAKEEX_PRIMARY_KEY_ENV)
    monkeypatch.setitem(exchange_factory.VENUES, "fakeex", spec)
    RegisteringExchange.calls.clear()


def test_register_writes_the_keys_file_and_never_echoes_a_secret(fake_registry, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv(FAKEEX_PRIMARY_KEY_ENV, PRIMARY_KEY)
    path = tmp_path / "pk_fakeex.py"
    argv = ["--exchange", "fakeex", "--module", "register", "--keys", str(path), "--network", "dev",
            "--expiry-days", "30"]
    code, out, err = run_main(argv, capsys)
    assert code == 0, err
    assert RegisteringExchange.calls == [{"pk": PRIMARY_KEY, "network": "dev", "days": 30, "rest_url": None}]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert keys.load_keys(path, exchange_factory.venue("fakeex")).api_key == API_KEY
    assert "0x" + "22" * 20 in out and str(path) in out
    for secret in (API_KEY, SIGNING_KEY, SIGNING_KEY[2:], PRIMARY_KEY, PRIMARY_KEY[2:]):
        assert secret not in out + err

    # a second run refuses before asking the exchange anything
    code, out, err = run_main(argv, capsys)
    assert code == 1 and "already exists; pass --force" in err
    assert len(RegisteringExchange.calls) == 1


def test_register_without_a_terminal_or_env_var_explains(fake_registry, monkeypatch, capsys, tmp_path):
    monkeypatch.delenv(FAKEEX_PRIMARY_KEY_ENV, raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code, out, err = run_main(["--exchange", "fakeex", "--module", "register", "--keys", str(tmp_path / "k.py")], capsys)
    assert code == 1
    assert err.strip() == f"error: no primary key: set {FAKEEX_PRIMARY_KEY_ENV} or run register from a terminal"
    assert RegisteringExchange.calls == []


# --------------------------------------------------------------------------- modules on an in-memory exchange


class MemoryExchange:
    """Just enough of the contract to drive the modules; records every call."""

    name = "vest"
    CAPABILITIES: frozenset[str] = frozenset()

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.positions: dict[str, dict[str, Any]] = {
            "BTC-PERP": {"symbol": "BTC-PERP", "side": "long", "size": 0.01, "entry_price": 97000.5,
                         "unrealized_pnl": -0.5, "liquidation_price": 80000.0, "raw_data": {}},
        }
        self.orders: list[dict[str, Any]] = [
            {"id": "0xo1", "order_id": "0xo1", "client_order_id": "111", "symbol": "BTC-PERP", "side": "sell",
             "size": 0.01, "filled_size": 0.0, "price": 99000.0, "order_type": "limit", "status": "NEW",
             "reduce_only": False, "created_at": 1767225600123},
        ]

    def get_perp_quote(self, symbol: str, *, is_basic_coll: bool = False) -> str:
        return "USDC"

    async def get_collateral(self) -> dict[str, Any]:
        return {"total_collateral": 10000.0, "available_collateral": 9900.3, "unrealized_pnl": -0.5}

    async def get_position(self, symbol: str) -> dict[str, Any] | None:
        return self.positions.get(symbol)

    async def get_available_symbols(self) -> dict[str, list[str]]:
        return {"perp": ["BTC-PERP", "ETH-PERP"]}

    async def get_open_orders(self, symbol: str | None = None) -> list[dict[str, Any]]:
        return [o for o in self.orders if symbol in (None, o["symbol"])]

    async def get_mark_price(self, symbol: str) -> float:
        return 96950.0

    async def prepare_order(self, symbol: str, side: str, amount: Any, price: Any = None, order_type: Any = None, *,
                            is_reduce_only: bool = False, time_in_force: str | None = None, slippage: Any = None,
                            strict: bool = False) -> OrderPlan:
        """An exact venue: nothing is rounded (sends nothing, so it is not recorded in ``calls``)."""
        size = Decimal(str(amount))
        return OrderPlan(symbol=symbol, side=side, order_type="limit" if price is not None else "market", size=size,
                         price=Decimal(str(price)) if price is not None else Decimal("97920"),
                         time_in_force=time_in_force, reduce_only=is_reduce_only, requested_size=size,
                         requested_price=None if price is None else Decimal(str(price)))

    async def create_order(self, symbol: str, side: str, amount: Any, price: Any = None,
                           order_type: str = "market", **kw: Any) -> dict[str, Any]:
        self.calls.append(("create_order", (symbol, side, amount, price, order_type, kw)))
        if Decimal(str(amount)) > 1:
            raise InsufficientMargin("margin check failed", code=3002)
        return {"id": "0xo2", "order_id": "0xo2", "client_order_id": "222", "symbol": symbol, "side": side,
                "size": float(amount), "price": 97920.0, "order_type": order_type, "status": "FILLED",
                "filled_size": float(amount), "avg_price": 96951.5, "raw": {}}

    async def close_position(self, symbol: str, position: Any = None, **kw: Any) -> dict[str, Any]:
        self.calls.append(("close_position", symbol))
        pos = self.positions.pop(symbol)
        return {"id": "0xo3", "order_id": "0xo3", "client_order_id": "333", "symbol": symbol, "side": "sell",
                "size": pos["size"], "price": 95000.0, "order_type": "market", "status": "FILLED",
                "filled_size": pos["size"], "avg_price": 96949.0, "raw": {}}

    async def cancel_orders(self, symbol: str, open_orders: Any = None) -> list[dict[str, Any]]:
        self.calls.append(("cancel_orders", symbol))
        done = [o for o in self.orders if o["symbol"] == symbol]
        self.orders = [o for o in self.orders if o["symbol"] != symbol]
        return [{"id": o["id"], "order_id": o["id"], "symbol": symbol, "status": "ok", "error": None} for o in done]


def make_ctx(argv: list[str], *, answer: bool | None = None, paper: bool = False) -> tuple[session.Context, MemoryExchange]:
    ex = MemoryExchange()
    asked: list[str] = []

    async def confirm(prompt: str) -> bool:
        asked.append(prompt)
        if answer is None:
            raise AssertionError(f"unexpected confirmation: {prompt}")
        return answer

    ctx = session.Context(args=arguments.parse_args(argv), secrets=output.Secrets(), exchange=ex, confirm=confirm,
                      paper=argparse.Namespace(rest_url="http://127.0.0.1:1/v2") if paper else None)
    ex.asked = asked  # type: ignore[attr-defined]
    return ctx, ex


async def test_check_shows_collateral_positions_with_mark_and_orders():
    ctx, _ = make_ctx(["--module", "check"])
    report = await account.cmd_check(ctx)
    text = "\n".join(report.lines)
    assert "  total  available  unrealized PnL" in text
    assert "  10000     9900.3            -0.5" in text
    assert "  symbol    side  size    entry   mark  uPnL  liq. price" in text
    assert "  BTC-PERP  long  0.01  97000.5  96950  -0.5       80000" in text
    assert "0xo1" in text and "2026-01-01 00:00:00Z" in text
    assert report.data["positions"][0]["mark_price"] == 96950.0


async def test_live_order_asks_first_and_sends_nothing_when_declined():
    ctx, ex = make_ctx(["--module", "order", "--coin", "btc", "--side", "buy", "--amount", "0.01"], answer=False)
    with pytest.raises(session.Aborted):
        await trading.cmd_order(ctx)
    assert ex.calls == []
    assert ex.asked == ["LIVE market buy 0.01 BTC-PERP (mark 96950). Send it?"]  # type: ignore[attr-defined]


async def test_live_order_sends_exact_decimals_after_yes_and_shows_the_position():
    argv = ["--module", "order", "--coin", "BTC", "--side", "sell", "--amount", "0.010", "--price", "99000.5",
            "--tif", "FOK", "--reduce-only"]
    ctx, ex = make_ctx(argv, answer=True)
    report = await trading.cmd_order(ctx)
    assert ex.calls == [("create_order", ("BTC-PERP", "sell", Decimal("0.010"), Decimal("99000.5"), "limit",
                                          {"is_reduce_only": True, "time_in_force": "FOK", "slippage": None,
                                           "strict": False}))]
    text = "\n".join(report.lines)
    assert "filled           0.01 @ 96951.5" in text and "client order id  222" in text
    assert "Position after the order (BTC-PERP)" in text and "BTC-PERP  long" in text


async def test_yes_and_paper_never_ask():
    for argv, paper in (([], True), (["--yes"], False)):
        ctx, ex = make_ctx(["--module", "order", "--coin", "ETH", "--side", "buy", "--amount", "0.5", *argv],
                           answer=None, paper=paper)
        await trading.cmd_order(ctx)
        assert ex.calls[0][0] == "create_order"


async def test_live_confirmation_without_a_terminal_refuses(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    with pytest.raises(ConfigError, match="re-run with --yes"):
        await session.ask_confirmation("LIVE market buy. Send it?")


async def test_close_all_cancels_orders_first_then_closes_and_reports_flat():
    ctx, ex = make_ctx(["--module", "close", "--all", "--cancel-orders", "--yes"])
    report = await trading.cmd_close(ctx)
    assert ex.calls == [("cancel_orders", "BTC-PERP"), ("close_position", "BTC-PERP")]
    text = "\n".join(report.lines)
    assert "Cancelled orders" in text and "0xo1" in text
    closed_row = next(line for line in report.lines if line.startswith("  BTC-PERP  long"))
    assert closed_row.split() == ["BTC-PERP", "long", "0.01", "sell", "market", "FILLED", "0.01", "96949", "333"]
    assert text.endswith("Position after the close\n  flat")
    assert report.failure is None and report.data["remaining_positions"] == []


async def test_close_when_flat_does_nothing_and_does_not_ask():
    ctx, ex = make_ctx(["--module", "close", "--coin", "ETH"])
    report = await trading.cmd_close(ctx)
    assert ex.calls == []
    assert report.lines == ["No open position in ETH-PERP; nothing to close."]


def test_exchange_errors_are_one_line():
    from mpdex.errors import OrderStateUnknown

    assert app.error_line(InsufficientMargin("margin check failed", code=3002, http_status=400)) == (
        "error: margin check failed (code=3002, http=400)")
    line = app.error_line(OrderStateUnknown("no answer after 3 tries", client_order_id=1767225600123))
    assert "client order id 1767225600123" in line and "do not resend" in line
    assert "\n" not in app.error_line(InvalidOrder("two\nlines"))


def test_register_module_has_its_own_options_only():
    with pytest.raises(SystemExit):
        arguments.parse_args(["--module", "register", "--coin", "BTC"])
    args = arguments.parse_args(["--module", "register", "--network", "dev", "--force"])
    assert dataclasses.is_dataclass(session.Report) and (args.network, args.force) == ("dev", True)
    assert Path(keys.default_keys_path("vest")).name == "pk_vest.py"
