"""open_hedge / close_hedge / hedge_imbalance / plans over two paper venues, without faults
(or with one refusal): what is sent, in which order, what the result says, and that it is
what the paper ledgers hold."""
from __future__ import annotations

import asyncio
import logging
from decimal import Decimal as D
from typing import Any

import pytest

from mpdex.arb import (
    EntrySpreadExceeded,
    HedgeRefused,
    NakedExposure,
    close_hedge,
    hedge_imbalance,
    open_hedge,
    plan_close,
    plan_open,
)
from mpdex.arb import book_math as bm
from mpdex.errors import BadRequest, InvalidOrder, NotSupported
from mpdex.redact import short_address

from .paper_venues import COIN, DIALECTS, PAIRS, PAPER_CLASSES, PaperVenue
from .test_hedge_faults import ARB, SIZE, check_hedged, check_refusals, check_unwound, legs, placed_once, same_price


def record_sends(*venues: PaperVenue) -> list[str]:
    """Names of the venues in the order their orders leave the clients."""
    sent: list[str] = []
    for v in venues:
        v.watch_orders(lambda _name=v.name: sent.append(_name))
    return sent


async def test_hedge_result_is_what_the_ledgers_hold(venues: tuple[PaperVenue, PaperVenue],
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    a, b = venues
    a.set_price(COIN, "97000.0")
    b.set_price(COIN, "97100.0")
    result = await open_hedge(**legs(a, b), size=SIZE, **ARB)
    check_hedged(result, a, b)
    (la,), (lb,) = placed_once(result, a, "long"), placed_once(result, b, "short")
    ra = a.paper.ledger.order(result["long"]["order"]["id"])
    rb = b.paper.ledger.order(result["short"]["order"]["id"])
    assert (result["long"]["side"], result["short"]["side"]) == ("buy", "sell")
    assert result["long"]["avg_price"] == float(ra.avg_price) and result["short"]["avg_price"] == float(rb.avg_price)
    assert result["long"]["fee"] == float(ra.fees) and result["short"]["fee"] == float(rb.fees)
    assert result["fees"] == float(ra.fees) + float(rb.fees)
    assert result["captured_bps"] == float(bm.bps(rb.avg_price - ra.avg_price, ra.avg_price))
    assert result["long"]["moved"] == 0.01 and result["short"]["moved"] == 0.01
    # each leg had its own client order id (from its venue), logged before it was sent
    messages = [r.getMessage() for r in caplog.records]
    for leg, venue, ledger in (("long", a, la), ("short", b, lb)):
        cid = result[leg]["orders"][0]["client_order_id"]
        assert cid == ledger["client_order_id"]
        sent = messages.index(f"arb send open {leg} {venue.name} {COIN} {result[leg]['side']} 0.01 cid={cid}")
        who = short_address(venue.address)
        placed = next(i for i, m in enumerate(messages)
                      if m.startswith(f"{venue.DIALECT} {who} order") and f"cid={cid} id=" in m)
        assert sent < placed


async def test_sequential_sends_long_then_short_sized_to_the_fill(venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = venues
    same_price(a, b)
    sent = record_sends(a, b)
    result = await open_hedge(**legs(a, b), size=SIZE, sequential=True, **ARB)
    check_hedged(result, a, b)
    assert sent == ["a", "b"]


async def test_sequential_first_leg_refused_sends_nothing_else(venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = venues
    same_price(a, b)
    a.starve_margin()
    sent = record_sends(a, b)
    with pytest.raises(HedgeRefused) as info:
        await open_hedge(**legs(a, b), size=SIZE, sequential=True, **ARB)
    assert sent == ["a"] and [o["state"] for o in info.value.orders] == ["refused"]
    assert a.orders(COIN) == [] and b.ledger_orders(COIN) == []
    check_refusals(a, info.value.orders)  # Hyperliquid keeps the refused order (REJECTED), Vest none


async def test_thinner_venue_first(venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = venues
    same_price(a, b)
    band = D("0.0003")
    # which side is thinner, from the books as the venues serve them (asks of a, bids of b)
    depth_a = bm.depth_within((await a.exchange.get_orderbook(COIN))["asks"], band)
    depth_b = bm.depth_within((await b.exchange.get_orderbook(COIN))["bids"], band)
    assert depth_a != depth_b
    expected = ["a", "b"] if depth_a < depth_b else ["b", "a"]
    # no slippage given: the depth band is ``thin_band``
    plan = plan_open(**legs(a, b), size=SIZE, sequential="thinner_first", thin_band=band, **ARB)
    preview = await plan.preview()
    assert preview["send"] == f"{'long' if expected[0] == 'a' else 'short'} first"
    assert [lp["depth_in_band"] for lp in preview["legs"]] == [float(depth_a), float(depth_b)]
    sent = record_sends(a, b)
    result = await plan.execute()
    check_hedged(result, a, b)
    assert sent == expected


async def test_max_entry_spread_refuses_before_sending(venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = venues
    a.set_price(COIN, "97050.0")  # buying on a costs more than selling on b pays
    b.set_price(COIN, "97000.0")
    book_a, book_b = await a.exchange.get_orderbook(COIN), await b.exchange.get_orderbook(COIN)
    buy, sell = bm.walk(book_a["asks"], SIZE).avg_price, bm.walk(book_b["bids"], SIZE).avg_price
    assert buy is not None and sell is not None
    crossing = bm.bps(buy - sell, buy)
    sent = record_sends(a, b)
    with pytest.raises(EntrySpreadExceeded) as info:
        await open_hedge(**legs(a, b), size=SIZE, max_entry_spread_bps=crossing - D("0.01"), **ARB)
    assert info.value.spread_bps == float(crossing) and sent == [] and info.value.orders == []
    assert isinstance(info.value, HedgeRefused)
    result = await open_hedge(**legs(a, b), size=SIZE, max_entry_spread_bps=crossing + D(1), **ARB)
    check_hedged(result, a, b)
    assert sent == ["a", "b"] or sent == ["b", "a"]


async def test_preview_reads_and_sends_nothing(venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = venues
    same_price(a, b)
    plan = plan_open(**legs(a, b), size=SIZE, slippage="0.002", max_entry_spread_bps=0, **ARB)
    preview = await plan.preview()
    assert preview["action"] == "open" and preview["send"] == "together" and preview["size"] == 0.01
    long_plan, short_plan = preview["legs"]
    assert (long_plan["venue"], long_plan["side"], long_plan["reduce_only"], long_plan["slippage"]) == ("a", "buy", False, 0.002)
    fee_a, fee_b = a.taker_fee(COIN), b.taker_fee(COIN)  # each venue's own rate, as its paper charges it
    assert long_plan["taker_fee"] == float(fee_a)
    assert (short_plan["venue"], short_plan["side"], short_plan["taker_fee"]) == ("b", "sell", float(fee_b))
    assert preview["crossing_bps"] is not None and preview["crossing_bps"] > 0
    assert preview["would_refuse"] is not None and "above the limit of 0 bps" in preview["would_refuse"]
    # one way, both taker legs: (fee x buy avg x size + fee x sell avg x size) / (buy avg x size)
    buy, sell = D(str(long_plan["avg_price"])), D(str(short_plan["avg_price"]))
    fees = bm.bps(fee_a * buy * SIZE + fee_b * sell * SIZE, buy * SIZE)
    assert preview["fees_bps_one_way"] == float(fees)
    assert a.orders(COIN) == [] and b.orders(COIN) == []
    with pytest.raises(EntrySpreadExceeded):
        await plan.execute()


async def test_close_hedge_closes_both(venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = venues
    same_price(a, b)
    await open_hedge(**legs(a, b), size=SIZE, **ARB)
    assert (await hedge_imbalance(**legs(a, b)))["balanced"] is True
    result = await close_hedge(**legs(a, b), **ARB)
    assert result["status"] == "closed" and result["matched_size"] == 0.01 and result["action"] == "close"
    assert a.position(COIN) == 0 and b.position(COIN) == 0
    assert [(o["side"], o["reduce_only"]) for o in a.orders(COIN)] == [("buy", False), ("sell", True)]
    assert [(o["side"], o["reduce_only"]) for o in b.orders(COIN)] == [("sell", False), ("buy", True)]
    assert (result["long"]["side"], result["short"]["side"]) == ("sell", "buy")
    with pytest.raises(HedgeRefused, match="nothing to close"):
        await close_hedge(**legs(a, b), **ARB)


async def test_close_hedge_of_imbalanced_positions_flattens_both(venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = venues
    same_price(a, b)
    await open_hedge(**legs(a, b), size=SIZE, **ARB)
    await a.exchange.create_order(COIN, "buy", 0.003)  # someone bought more on a
    imbalance = await hedge_imbalance(**legs(a, b))
    assert imbalance == {
        "long": {"venue": "a", "symbol": COIN, "position": 0.013},
        "short": {"venue": "b", "symbol": COIN, "position": -0.01},
        "net": pytest.approx(0.003, abs=0), "balanced": False,
        "notes": ["0.003 more long on a than short on b"]}
    result = await close_hedge(**legs(a, b), **ARB)
    assert result["status"] == "closed" and result["residual"] == {"a": 0.0, "b": 0.0}
    assert (result["long"]["requested_size"], result["short"]["requested_size"]) == (0.013, 0.01)
    assert a.position(COIN) == 0 and b.position(COIN) == 0
    assert "the positions were imbalanced by +0.003 before the close" in result["notes"]


async def test_close_with_one_leg_refused_restores_the_other(venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = venues
    same_price(a, b)
    await open_hedge(**legs(a, b), size=SIZE, **ARB)
    b.inject("refusal")  # b refuses its close as it leaves; a closes, then is re-opened: the hedge stands
    result = await close_hedge(**legs(a, b), size=SIZE, **ARB)
    assert result["status"] == "unwound"
    assert a.position(COIN) == SIZE and b.position(COIN) == -SIZE
    assert [(x["purpose"], x["side"], x["reduce_only"], x["state"]) for x in result["long"]["orders"]] == [
        ("close", "sell", True, "filled"), ("restore", "buy", False, "filled")]
    assert result["short"]["state"] == "refused" and len(b.orders(COIN)) == 1
    b.resume(COIN)


async def test_a_leg_a_venue_would_refuse_refuses_the_hedge_before_anything_is_sent(
        venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = venues
    same_price(a, b)
    await open_hedge(**legs(a, b), size=SIZE, **ARB)
    # a halt the venue's client sees before sending (Vest's ticker says HALT; Hyperliquid's
    # meta has no such flag, so its halt is met on arrival): nothing goes out on either venue
    halted, leg = (b, "short") if b.HALT_SEEN_BEFORE_SENDING else (a, "long")
    assert halted.HALT_SEEN_BEFORE_SENDING
    halted.halt(COIN)
    sent = record_sends(a, b)
    with pytest.raises(HedgeRefused, match=f"{leg} leg on {halted.name} would be refused"):
        await close_hedge(**legs(a, b), size=SIZE, **ARB)
    assert sent == []
    assert a.position(COIN) == SIZE and b.position(COIN) == -SIZE
    assert len(a.ledger_orders(COIN)) == 1 and len(b.ledger_orders(COIN)) == 1  # only the opening orders
    halted.resume(COIN)


async def test_a_leg_below_a_venues_minimum_refuses_the_hedge_before_anything_is_sent(
        venues: tuple[PaperVenue, PaperVenue]) -> None:
    """Hyperliquid's $10 minimum: 0.0001 BTC at 97000 is $9.70, a size Vest accepts."""
    a, b = venues
    same_price(a, b)
    small = D("0.0001")
    refusing = [v for v in (a, b) if v.paper.markets[v.symbol(COIN)].min_notional > small * 97000]
    sent = record_sends(a, b)
    if not refusing:  # both venues take it: the hedge opens at that size
        check_hedged(await open_hedge(**legs(a, b), size=small, **ARB), a, b, small)
        return
    first = refusing[0]
    with pytest.raises(HedgeRefused, match=f"leg on {first.name} would be refused.*minimum"):
        await open_hedge(**legs(a, b), size=small, **ARB)
    assert sent == [] and a.ledger_orders(COIN) == [] and b.ledger_orders(COIN) == []


@pytest.mark.parametrize("pair", PAIRS, ids=["-".join(p) for p in PAIRS])
async def test_legs_go_out_at_the_one_size_both_venues_sign(pair: tuple[str, str]) -> None:
    import dataclasses

    dialect_a, dialect_b = pair
    coarse = None
    if dialect_a == dialect_b:  # one dialect twice: b's BTC gets a step 10 x coarser
        coarse = tuple(dataclasses.replace(m, size_decimals=m.size_decimals - 1) if m.base == COIN else m
                       for m in PAPER_CLASSES[dialect_b].MARKETS)
    async with DIALECTS[dialect_a]("a", 1) as a, DIALECTS[dialect_b]("b", 2, markets=coarse) as b:
        same_price(a, b)
        fine, step = sorted((a.size_step(COIN), b.size_step(COIN)))
        assert step >= 10 * fine  # e.g. Vest's 0.0001 against Hyperliquid's 0.00001
        size, common = 15 * step + 5 * fine, 15 * step  # on the fine grid only; both sign 15 steps
        result = await open_hedge(**legs(a, b), size=size, **ARB)
        check_hedged(result, a, b, common)  # no repair order needed
        assert len(placed_once(result, a, "long")) == 1 and len(placed_once(result, b, "short")) == 1
        (note,) = [n for n in result["notes"] if "both legs go out at" in n]
        assert D(note.rsplit(" ", 1)[1]) == common


async def test_hedge_imbalance_reports_sides(venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = venues
    same_price(a, b)
    assert await hedge_imbalance(**legs(a, b)) == {
        "long": {"venue": "a", "symbol": COIN, "position": 0.0}, "short": {"venue": "b", "symbol": COIN, "position": 0.0},
        "net": 0.0, "balanced": True, "notes": []}
    await b.exchange.create_order(COIN, "sell", 0.02)
    imbalance = await hedge_imbalance(**legs(a, b))
    assert imbalance["net"] == -0.02 and imbalance["balanced"] is False
    assert imbalance["notes"] == ["0.02 more short on b than long on a"]


async def test_bad_input_is_refused_before_anything_is_sent(venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = venues
    sent = record_sends(a, b)
    for kwargs, error in (
        ({"size": 0}, InvalidOrder), ({"size": "abc"}, InvalidOrder), ({"size": SIZE, "slippage": 1}, InvalidOrder),
        ({"size": SIZE, "sequential": "fastest"}, BadRequest), ({"size": SIZE, "unwind_attempts": 0}, BadRequest),
        ({"size": SIZE, "reconcile_timeout": 0}, BadRequest),
    ):
        with pytest.raises(error):
            await open_hedge(**legs(a, b), **kwargs)
    with pytest.raises(BadRequest, match="same market"):
        await open_hedge(long=(a.exchange, COIN), short=(a.exchange, COIN), size=SIZE)
    with pytest.raises(BadRequest):
        await open_hedge(long=(a.exchange,), short=(b.exchange, COIN), size=SIZE)  # type: ignore[arg-type]
    assert sent == []
    # two exchanges of the same venue name get distinct labels
    plan = plan_close(long=(a.exchange, COIN), short=(b.exchange, COIN))
    if a.DIALECT == b.DIALECT:
        assert (plan.long.venue, plan.short.venue) == (f"{a.DIALECT}[long]", f"{b.DIALECT}[short]")
    else:
        assert (plan.long.venue, plan.short.venue) == (a.DIALECT, b.DIALECT)


class NoClientIds:
    """A venue without the 'orders' capability: no client ids, no order lookup."""

    def __init__(self, exchange: Any) -> None:
        self._exchange = exchange

    def __getattr__(self, name: str) -> Any:
        return getattr(self._exchange, name)

    def new_client_id(self) -> str:
        raise NotSupported("no client order ids (capability 'orders')")

    async def get_order(self, **kw: Any) -> Any:
        raise NotSupported("no order lookup (capability 'orders')")


async def test_venue_without_client_ids_picks_its_own(venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = venues
    same_price(a, b)
    result = await open_hedge(long=(NoClientIds(a.exchange), COIN, "a"), short=(b.exchange, COIN, "b"), size=SIZE, **ARB)
    check_hedged(result, a, b)
    # the venue chose the id; the result carries it
    assert result["long"]["orders"][0]["client_order_id"] == a.orders(COIN)[0]["client_order_id"]


async def test_unknown_outcome_on_a_venue_that_cannot_reconcile_is_naked(venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = venues
    same_price(a, b)
    b.inject("5xx_outage")  # b's client gives up; b cannot be asked about the order
    with pytest.raises(NakedExposure) as info:
        await open_hedge(long=(a.exchange, COIN, "a"), short=(NoClientIds(b.exchange), COIN, "b"), size=SIZE, **ARB)
    b.clear_faults()
    result = info.value.result
    assert result["short"]["state"] == "unresolved" and "cannot look orders up" in result["short"]["orders"][0]["error"]
    # nothing was done about a: its fill is hedged only if b's unknown order went through
    assert [x["purpose"] for x in result["long"]["orders"]] == ["open"]
    assert a.position(COIN) == SIZE and b.position(COIN) == 0 and b.orders(COIN) == []
    assert {(e["venue"], e["side"], e["certain"]) for e in info.value.exposures} == {("a", "long", False),
                                                                                    ("b", "short", False)}


async def test_socket_clients_and_a_socket_drop_mid_hedge(ws_venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = ws_venues
    same_price(a, b)
    b.inject("ws_drop")
    a.inject("ws_drop")
    result = await open_hedge(**legs(a, b), size=SIZE, **ARB)
    check_hedged(result, a, b)
    assert len(placed_once(result, a, "long")) == 1 and len(placed_once(result, b, "short")) == 1
    for _ in range(100):  # the sockets were dropped and come back
        if a.paper.stats["ws_connects"] >= 2 and b.paper.stats["ws_connects"] >= 2:
            break
        await asyncio.sleep(0.05)
    assert a.paper.stats["ws_connects"] >= 2 and b.paper.stats["ws_connects"] >= 2
    b.inject("ws_drop")
    result = await close_hedge(**legs(a, b), **ARB)
    assert result["status"] == "closed" and a.position(COIN) == 0 and b.position(COIN) == 0


async def test_refused_leg_unwinds_with_socket_clients(ws_venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = ws_venues
    same_price(a, b)
    b.starve_margin()
    result = await open_hedge(**legs(a, b), size=SIZE, **ARB)
    check_unwound(result, a, b)
    assert len(placed_once(result, a, "long")) == 2 and placed_once(result, b, "short") == []


async def test_a_socket_drop_as_the_unwind_leaves(ws_venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = ws_venues
    same_price(a, b)
    b.starve_margin()
    a.inject("ws_drop", nth=2)  # a's sockets drop as its unwind order leaves
    result = await open_hedge(**legs(a, b), size=SIZE, **ARB)
    check_unwound(result, a, b)
    assert [(x["purpose"], x["state"]) for x in result["long"]["orders"]] == [("open", "filled"), ("unwind", "filled")]
    assert len(placed_once(result, a, "long")) == 2 and placed_once(result, b, "short") == []
    for _ in range(100):  # the dropped sockets come back
        if a.paper.stats["ws_connects"] >= 2:
            break
        await asyncio.sleep(0.05)
    assert a.paper.stats["ws_connects"] >= 2
    assert (await hedge_imbalance(**legs(a, b)))["balanced"] is True  # positions read after the drop agree


async def test_each_leg_carries_the_slippage_cap(venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = venues
    same_price(a, b)
    result = await open_hedge(**legs(a, b), size=SIZE, slippage="0.001", **ARB)
    check_hedged(result, a, b)
    # the caps the venues signed: 97000 x 1.001 = 97097 (buy), 97000 x 0.999 = 96903 (sell), on
    # both grids (Vest: 0.1; Hyperliquid: 5 significant figures)
    assert a.orders(COIN)[0]["limit_price"] == D("97097") and b.orders(COIN)[0]["limit_price"] == D("96903")
    # a cap the book cannot fill within is the venue's refusal: nothing stays open
    a.set_price(COIN, "97000.0")
    b.set_price(COIN, "97000.0")
    with pytest.raises(HedgeRefused):
        await open_hedge(**legs(a, b), size=D(3), slippage="0.00001", **ARB)
    assert a.position(COIN) == SIZE and b.position(COIN) == -SIZE


async def test_a_naked_result_says_exactly_which_venue_holds_what(venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = venues
    same_price(a, b)
    preview = await plan_open(**legs(a, b), size=SIZE, max_entry_spread_bps=0, **ARB).preview()
    assert preview["would_refuse"]  # crossing both books costs more than 0 bp: nothing would be sent
    b.starve_margin()
    a.inject("refusal", nth=2)
    with pytest.raises(NakedExposure) as info:
        await open_hedge(**legs(a, b), size=SIZE, unwind_attempts=1, **ARB)
    assert "venue a holds long 0.01 BTC unhedged (the other leg moved 0.01 less); " \
           "the venue reports a position of +0.01" in str(info.value)
    a.resume(COIN)


async def test_closing_imbalanced_positions_with_one_leg_refused(venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = venues
    same_price(a, b)
    await open_hedge(**legs(a, b), size=SIZE, **ARB)
    await a.exchange.create_order(COIN, "buy", 0.003)  # a: 0.013 long, b: 0.01 short
    b.halt(COIN)
    result = await close_hedge(**legs(a, b), **ARB)
    # a closed its 0.013, b refused; a is re-opened only by what b's leg needed (0.01): the
    # hedge stands and the old imbalance is gone
    assert result["status"] == "unwound" and result["residual"] == {"a": 0.0, "b": 0.0}
    assert [(x["purpose"], x["size"], x["state"]) for x in result["long"]["orders"]] == [
        ("close", 0.013, "filled"), ("restore", 0.01, "filled")]
    assert a.position(COIN) == SIZE and b.position(COIN) == -SIZE
    assert "the positions were imbalanced by +0.003 before the close" in result["notes"]
    b.resume(COIN)
