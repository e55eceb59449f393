"""End to end, what is Vest's own: exact money arithmetic, leverage defaults, equities and
market data against the Vest paper dialect. What holds for every venue (orders, cancels,
closes, refusals, lost responses, socket drops) is the contract suite's
(``test_exchanges/contract``)."""
from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from exchange_factory import create_exchange
from mpdex.errors import BadSymbol, InsufficientMargin, InvalidOrder
from mpdex.paper import PaperVest


@pytest.fixture
async def paper():
    async with PaperVest(seed=11, tick_interval=None, auto_funding=False) as p:
        yield p


# Both ways a user runs it: REST only, and the default socket-backed exchange (with a short
# cache bound so a price move is visible after STALE seconds instead of 5).
STALE = 0.25


@pytest.fixture(params=[{"use_ws": False}, {"ws_max_age": STALE}], ids=["rest", "ws"])
async def ex(paper: PaperVest, request):
    key = await paper.create_account(usdc=10_000)
    exchange = await create_exchange("vest", key, **request.param)
    yield exchange
    await exchange.close()


async def moved(paper: PaperVest, symbol: str, price: str) -> None:
    """Move the paper price, then wait out the socket layer's stated staleness bound
    (the account snapshot is not pushed on mark changes, by design)."""
    paper.set_price(symbol, price)
    await asyncio.sleep(STALE + 0.05)


def ledger_position(paper: PaperVest, ex, symbol: str) -> Decimal:
    account = paper.ledger.account_by_address(ex.key.primary_address)
    pos = paper.ledger.position(account.id, symbol)
    return pos.size if pos else Decimal(0)


async def test_market_order_position_collateral_and_close(paper: PaperVest, ex) -> None:
    paper.set_price("ETH-PERP", "3500.00")
    assert "ETH-PERP" in ex.available_symbols["perp"] and "AAPL-USD-PERP" in ex.available_symbols["perp"]
    assert await ex.get_mark_price("ETH") == 3500.0

    res = await ex.create_order("ETH", "buy", 0.5)
    assert res["symbol"] == "ETH-PERP" and res["side"] == "buy" and res["order_type"] == "market"
    assert res["status"] == "FILLED" and res["size"] == 0.5
    assert res["id"].startswith("0x") and res["client_order_id"].isdigit()
    assert ledger_position(paper, ex, "ETH-PERP") == Decimal("0.5")

    pos = await ex.get_position("ETH-PERP")
    assert pos["side"] == "long" and pos["size"] == 0.5 and pos["entry_price"] == 3500.18  # best ask
    await moved(paper, "ETH-PERP", "3600.00")
    pos = await ex.get_position("ETH")
    assert pos["unrealized_pnl"] == pytest.approx((3600.00 - 3500.18) * 0.5)

    coll = await ex.get_collateral()
    # balance 10 000 - fee 0.175009 (0.5 x 3500.18 x 0.0001); + unrealized 49.91; margin 0.5 x 3600 / 10
    assert coll["total_collateral"] == pytest.approx(10_049.734991, abs=1e-6)
    assert coll["available_collateral"] == pytest.approx(9_819.824991, abs=1e-6)
    assert coll["unrealized_pnl"] == pytest.approx(49.91) and coll["margin_used"] == pytest.approx(180.0)

    closed = await ex.close_position("ETH")
    assert closed is not None and closed["side"] == "sell"
    assert await ex.get_position("ETH") is None
    assert ledger_position(paper, ex, "ETH-PERP") == 0
    assert await ex.close_position("ETH") is None  # flat
    assert paper.stats["group_header_missing"] == 0  # the library always sends xrestservermm


async def test_leverage_and_refusals(paper: PaperVest, ex) -> None:
    info = await ex.get_leverage_info("BTC")
    assert info["max_leverage"] == 50 and info["leverage"] == 10
    upd = await ex.update_leverage("BTC", 20)
    assert upd["status"] == "ok" and upd["leverage"] == 20
    assert (await ex.get_leverage_info("BTC"))["leverage"] == 20
    with pytest.raises(InsufficientMargin):
        await ex.create_order("BTC", "buy", 10)  # ~970 000 notional on 10 000 USDC
    with pytest.raises(BadSymbol):
        await ex.create_order("NOPE", "buy", 1)
    with pytest.raises(InvalidOrder):
        await ex.create_order("BTC", "sell", 0.01, is_reduce_only=True)  # nothing to reduce
    account = paper.ledger.account_by_address(ex.key.primary_address)
    assert paper.ledger.find_orders(account.id) == []  # nothing was stored for the refusals


async def test_equity_symbol_and_orderbook(paper: PaperVest, ex) -> None:
    assert ex.resolve_symbol("AAPL") == "AAPL-USD-PERP"
    book = await ex.get_orderbook("AAPL")
    assert book["bids"][0][0] < book["asks"][0][0]
    assert book["bids"] == sorted(book["bids"], key=lambda lv: -lv[0])
    res = await ex.create_order("AAPL", "buy", 3)
    assert res["status"] == "FILLED"
    assert (await ex.get_position("AAPL-PERP"))["size"] == 3


async def test_market_data_reads(paper: PaperVest, ex) -> None:
    paper.set_price("ETH-PERP", "3500.00")
    paper.set_funding_rate("ETH-PERP", "0.0000125")
    paper.apply_funding()
    rate = await ex.get_funding_rate("ETH")
    assert rate["symbol"] == "ETH-PERP" and rate["funding_rate"] == 0.0000125 and rate["mark_price"] == 3500.0
    history = await ex.get_funding_history("ETH")
    assert [h["funding_rate"] for h in history] == [0.0000125]
    klines = await ex.get_klines("ETH", limit=5)
    assert len(klines) == 5 and klines[-1]["close"] == 3500.0
    assert all(k["close_time"] == k["open_time"] + 59_999 for k in klines)
    ticker = await ex.get_ticker_24h("ETH")
    assert ticker["close"] == 3500.0 and ticker["high"] >= ticker["low"]
