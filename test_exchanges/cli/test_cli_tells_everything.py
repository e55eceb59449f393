"""The CLI hides nothing (issue 11): what was rounded, fees and realised PnL, leverage and
margin per position, full order ids, help per module, errors that name the fix, JSON errors,
where it connects and what it waits for — and tables that fit 100 columns.

Driven against an in-memory exchange (``MemoryExchange`` from test_cli) or in process."""
from __future__ import annotations

import logging
from typing import Any

import pytest

from mpdex.cli import account, output
from test_exchanges.cli.test_cli import make_ctx

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
