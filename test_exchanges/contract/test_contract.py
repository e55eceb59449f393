"""The contract, end to end, on every venue with a paper dialect (``venues.VENUES``), REST-only
and socket-backed: every answer is checked against the paper ledger, not against the
client's hopes. Venue-specific behaviour is tested beside each venue, not here."""
from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from exchange_factory import create_exchange
from mpdex.errors import BadSymbol, InsufficientMargin, InvalidOrder
from mpdex.paper.harness import PaperVenue

from .conftest import STALE
from .venues import ContractVenue

CONTRACT_STATUSES = {"NEW", "PARTIALLY_FILLED", "FILLED", "CANCELLED", "REJECTED"}


def away(venue: ContractVenue, factor: str) -> str:
    """A price ``factor`` × the test mark, on every venue's grid (integer dollars)."""
    return str((Decimal(venue.price) * Decimal(factor)).to_integral_value())


async def moved(paper: PaperVenue, venue: ContractVenue, price: str) -> None:
    """Move the paper mark, then wait out the socket's stated staleness bound."""
    paper.set_price(venue.symbol(), price)
    await asyncio.sleep(STALE + 0.05)


async def test_market_order_position_collateral_and_close(venue: ContractVenue, paper: PaperVenue, key: Any,
                                                          ex: Any) -> None:
    symbol, size = venue.symbol(), float(venue.size)
    assert symbol in ex.available_symbols["perp"] and symbol in (await ex.get_available_symbols())["perp"]
    assert await ex.get_mark_price(venue.coin) == float(venue.price)
    res = await ex.create_order(venue.coin, "buy", venue.size)
    assert (res["symbol"], res["side"], res["order_type"], res["status"]) == (symbol, "buy", "market", "FILLED")
    assert res["size"] == size and res["filled_size"] == size and isinstance(res["avg_price"], float)
    assert res["client_order_id"] and res["id"] and res["requested_size"] == size
    assert venue.position(paper, key) == Decimal(venue.size)

    pos = await ex.get_position(venue.coin)
    assert (pos["symbol"], pos["side"], pos["size"]) == (symbol, "long", size)
    assert pos["entry_price"] == pytest.approx(res["avg_price"])
    await moved(paper, venue, away(venue, "1.01"))
    pos = await ex.get_position(symbol)
    assert pos["unrealized_pnl"] == pytest.approx((float(away(venue, "1.01")) - pos["entry_price"]) * size, rel=0.02)
    coll = await ex.get_collateral()
    assert all(isinstance(coll[k], float) for k in ("available_collateral", "total_collateral"))
    assert 0 < coll["available_collateral"] < coll["total_collateral"]

    closed = await ex.close_position(venue.coin)
    assert closed is not None and (closed["side"], closed["status"]) == ("sell", "FILLED")
    assert venue.position(paper, key) == 0
    assert await ex.get_position(venue.coin) is None
    assert await ex.close_position(venue.coin) is None  # flat: nothing sent


async def test_limit_order_open_orders_and_cancel(venue: ContractVenue, paper: PaperVenue, key: Any, ex: Any) -> None:
    price = away(venue, "0.9")
    res = await ex.create_order(venue.coin, "buy", venue.size, price=price)
    assert (res["order_type"], res["status"], res["price"]) == ("limit", "NEW", float(price))
    opens = await ex.get_open_orders(venue.coin)
    assert [o["id"] for o in opens] == [res["id"]]
    o = opens[0]
    assert (o["symbol"], o["side"], o["size"], o["price"], o["filled_size"]) == (
        venue.symbol(), "buy", float(venue.size), float(price), 0.0)
    assert o["client_order_id"] == res["client_order_id"] and o["status"] in CONTRACT_STATUSES
    results = await ex.cancel_orders(venue.coin)
    assert [(r["id"], r["status"]) for r in results] == [(res["id"], "ok")]
    assert await ex.get_open_orders(venue.coin) == []
    assert paper.ledger.open_orders(venue.account_id(paper, key)) == []
    recorded = paper.ledger.order(res["id"])
    assert recorded is not None and recorded.status == "CANCELLED"


async def test_mpdex_call_shapes_one_order_dict_and_a_positional_position(venue: ContractVenue, paper: PaperVenue,
                                                                          key: Any, ex: Any) -> None:
    resting = await ex.create_order(venue.coin, "buy", venue.size, price=away(venue, "0.8"))
    (one,) = await ex.cancel_orders(venue.coin, resting)  # mpdex passes a lone order dict
    assert (one["id"], one["status"]) == (resting["id"], "ok")
    await ex.create_order(venue.coin, "sell", venue.size)
    position = await ex.get_position(venue.coin)
    closed = await ex.close_position(venue.coin, position)  # the position passed positionally
    assert closed["side"] == "buy" and venue.position(paper, key) == 0
    assert ex.get_perp_quote(venue.coin) == "USDC"  # a plain method, called without await


async def test_a_resting_order_that_the_market_crosses_fills_into_the_position(venue: ContractVenue,
                                                                               paper: PaperVenue, key: Any,
                                                                               ex: Any) -> None:
    price = away(venue, "1.02")
    res = await ex.create_order(venue.coin, "sell", venue.size, price=price)
    assert res["status"] == "NEW"
    paper.set_price(venue.symbol(), away(venue, "1.03"))  # bids above the limit now: it fills there
    assert venue.position(paper, key) == -Decimal(venue.size)
    pos = await ex.get_position(venue.coin)
    assert (pos["side"], pos["size"], pos["entry_price"]) == ("short", float(venue.size), float(price))
    assert await ex.get_open_orders() == []


async def test_leverage_and_refusals_with_typed_errors(venue: ContractVenue, paper: PaperVenue, key: Any,
                                                       ex: Any) -> None:
    info = await ex.get_leverage_info(venue.coin)
    assert info["status"] == "ok" and isinstance(info["max_leverage"], int) and info["max_leverage"] >= 3
    upd = await ex.update_leverage(venue.coin, 3)
    assert (upd["status"], upd["leverage"]) == ("ok", 3)
    assert (await ex.get_leverage_info(venue.coin))["leverage"] == 3
    with pytest.raises(InsufficientMargin):
        await ex.create_order(venue.coin, "buy", str(Decimal(venue.size) * 1000))  # far beyond 10 000 USDC
    with pytest.raises(BadSymbol):
        await ex.create_order("NOPE", "buy", 1)
    with pytest.raises(InvalidOrder):
        await ex.create_order(venue.coin, "sell", venue.size, is_reduce_only=True)  # nothing to reduce
    assert venue.position(paper, key) == 0
    assert paper.ledger.open_orders(venue.account_id(paper, key)) == []


async def test_a_lost_response_is_resolved_to_exactly_one_order(venue: ContractVenue, paper: PaperVenue, key: Any,
                                                                ex: Any) -> None:
    paper.faults.lose_next_order_response()
    res = await ex.create_order(venue.coin, "buy", venue.size)
    assert res["status"] == "FILLED" and res["filled_size"] == float(venue.size)
    assert venue.position(paper, key) == Decimal(venue.size)  # placed once, never twice
    assert paper.stats["orders_accepted"] == 1 and paper.stats["order_responses_lost"] == 1


async def test_state_after_a_socket_drop_includes_what_happened_meanwhile(venue: ContractVenue, paper: PaperVenue,
                                                                          key: Any, ex: Any) -> None:
    """Another client on the same account acts while our socket is down: the next reads
    (and the writes that depend on them) see it — pre-drop state is never served."""
    assert await ex.get_open_orders(venue.coin) == [] and await ex.get_position(venue.coin) is None
    other = await create_exchange(venue.name, key, use_ws=False)
    try:
        paper.faults.drop_websockets()
        resting = await other.create_order(venue.coin, "buy", venue.size, price=away(venue, "0.9"))
        await other.create_order(venue.coin, "sell", venue.size)
        assert [o["id"] for o in await ex.get_open_orders(venue.coin)] == [resting["id"]]
        assert (await ex.get_position(venue.coin))["side"] == "short"
        assert [r["id"] for r in await ex.cancel_orders(venue.coin)] == [resting["id"]]
        closed = await ex.close_position(venue.coin)
        assert closed is not None and venue.position(paper, key) == 0
    finally:
        await other.close()


async def test_rate_limited_and_failing_reads_are_retried(venue: ContractVenue, paper: PaperVenue, key: Any,
                                                          ex: Any) -> None:
    paper.faults.rate_limit(1, retry_after=0.1)
    assert await ex.get_position(venue.coin) is None
    paper.faults.server_error(1, status=503)
    assert await ex.get_open_orders() == []
