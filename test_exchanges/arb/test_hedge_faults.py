"""open_hedge under one fault at a time, on either leg and on the unwind itself, over two
paper venues. Every test checks the final status against the two paper ledgers (positions
read from the paper side), that nothing stays open unless the status is ``naked``, and that
no order was ever placed twice (the ledgers' orders, one per client order id the executor
sent)."""
from __future__ import annotations

import asyncio
import logging
from decimal import Decimal as D
from typing import Any

import pytest

from mpdex.arb import HedgeRefused, NakedExposure, open_hedge

from .paper_venues import COIN, HOLD_EVERY_READ, RECONCILE, PaperVenue, fault_cases

SIZE = D("0.01")
ARB: dict[str, Any] = {"reconcile_timeout": RECONCILE, "poll_interval": 0.05, "unwind_backoff": 0.05,
                       "read_timeout": 2.0}
PLACED = ("filled", "partial", "unfilled")


def legs(a: PaperVenue, b: PaperVenue) -> dict[str, Any]:
    return {"long": (a.exchange, COIN, a.name), "short": (b.exchange, COIN, b.name)}


def same_price(a: PaperVenue, b: PaperVenue, price: str = "97000.0") -> None:
    a.set_price(COIN, price)
    b.set_price(COIN, price)


def placed_once(result: dict[str, Any], venue: PaperVenue, leg: str) -> list[dict[str, Any]]:
    """The ledger holds exactly the orders the executor says were placed on this leg — one per
    client order id, none twice — with the fills it reports; where the dialect keeps the
    orders it refused, exactly the ones the executor reports refused (every refusal in these
    tests is the venue's own, met on arrival). Returns the booked ledger orders."""
    cids = [o["client_order_id"] for o in venue.ledger_orders(COIN)]
    assert len(cids) == len(set(cids))  # no client order id twice, booked or refused
    ledger = venue.orders(COIN)
    attempts = result[leg]["orders"]
    assert sorted(o["client_order_id"] for o in ledger) == sorted(
        x["client_order_id"] for x in attempts if x["state"] in PLACED)
    check_refusals(venue, attempts)
    by_cid = {o["client_order_id"]: o for o in ledger}
    for x in attempts:
        if x["state"] in PLACED:
            assert by_cid[x["client_order_id"]]["filled"] == D(str(x["filled_size"]))
    return ledger


def check_refusals(venue: PaperVenue, attempts: list[dict[str, Any]]) -> None:
    """The refused orders the ledger keeps are the attempts the executor reports refused
    (none where the dialect keeps no refused order)."""
    kept = sorted(o["client_order_id"] for o in venue.refused_orders(COIN))
    refused = sorted(x["client_order_id"] for x in attempts if x["state"] == "refused")
    assert kept == (refused if venue.RECORDS_REFUSALS else [])


def check_hedged(result: dict[str, Any], a: PaperVenue, b: PaperVenue, size: D = SIZE) -> None:
    assert result["status"] == "hedged" and result["matched_size"] == float(size)
    assert a.position(COIN) == size and b.position(COIN) == -size
    assert result["residual"] == {a.name: 0.0, b.name: 0.0} and result["exposures"] == []


def check_unwound(result: dict[str, Any], a: PaperVenue, b: PaperVenue) -> None:
    assert result["status"] == "unwound" and result["matched_size"] == 0.0
    assert a.position(COIN) == 0 and b.position(COIN) == 0
    assert result["residual"] == {a.name: 0.0, b.name: 0.0} and result["exposures"] == []


# --- faults the venue client absorbs: the arb layer sees a plain result -----------------

ABSORBED = ["5xx", "429", "lost_response", "timeout"]
# --- faults that reach the arb layer as an unknown outcome, order placed after all ------
PLACED_AFTER_ALL = ["lost_then_outage"]
# --- refused, or unknown and proven never placed ----------------------------------------
NOT_PLACED = ["refusal", "5xx_outage", "429_long", "429_outage", "timeout_outage"]


@pytest.mark.parametrize(("venues", "leg", "fault"), fault_cases(ABSORBED + PLACED_AFTER_ALL, ("long", "short")),
                         indirect=["venues"])
async def test_fault_on_one_leg_still_hedges(venues: tuple[PaperVenue, PaperVenue], fault: str, leg: str,
                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "mpdex.transport")
    a, b = venues
    same_price(a, b)
    faulted = a if leg == "long" else b
    faulted.inject(fault)
    result = await open_hedge(**legs(a, b), size=SIZE, **ARB)
    check_hedged(result, a, b)
    assert len(placed_once(result, a, "long")) == 1 and len(placed_once(result, b, "short")) == 1
    assert faulted.paper.stats["orders_accepted"] == 1
    if fault in PLACED_AFTER_ALL:
        # the venue client raised an unknown outcome; the executor found the order by its
        # client order id (and did not send it again)
        main = result[leg]["orders"][0]
        assert main["order"] is None and main["record"] is not None and main["state"] == "filled"
        assert faulted.lookups >= 1
    assert result["fees"] is not None and result["fees"] > 0
    # the fault really met the order request (the client resent the same bytes)
    assert any(faulted.ORDER_REQUEST in r.getMessage() for r in caplog.records if r.name == "mpdex.transport")


@pytest.mark.parametrize(("venues", "leg", "fault"), fault_cases(NOT_PLACED, ("long", "short")), indirect=["venues"])
async def test_fault_on_one_leg_unwinds_the_other(venues: tuple[PaperVenue, PaperVenue], fault: str, leg: str) -> None:
    a, b = venues
    same_price(a, b)
    faulted, other = (a, b) if leg == "long" else (b, a)
    other_leg = "short" if leg == "long" else "long"
    faulted.inject(fault)
    result = await open_hedge(**legs(a, b), size=SIZE, **ARB)
    check_unwound(result, a, b)
    assert placed_once(result, faulted, leg) == []
    assert result[leg]["state"] == ("refused" if fault == "refusal" else "absent")
    ledger = placed_once(result, other, other_leg)
    assert [(o["side"], o["size"], o["reduce_only"]) for o in ledger] == [
        ("buy" if other_leg == "long" else "sell", SIZE, False), ("sell" if other_leg == "long" else "buy", SIZE, True)]
    assert [x["purpose"] for x in result[other_leg]["orders"]] == ["open", "unwind"]
    if fault == "timeout_outage":
        # the held copies are done with by now: none of them was placed
        await asyncio.sleep(HOLD_EVERY_READ + 0.05)
        assert faulted.ledger_orders(COIN) == [] and faulted.position(COIN) == 0
        assert faulted.paper.stats["orders_accepted"] == 0


async def test_both_legs_refused_is_a_refusal(venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = venues
    same_price(a, b)
    a.starve_margin()
    b.starve_margin()
    with pytest.raises(HedgeRefused) as info:
        await open_hedge(**legs(a, b), size=SIZE, **ARB)
    assert sorted(o["state"] for o in info.value.orders) == ["refused", "refused"]
    assert a.orders(COIN) == [] and b.orders(COIN) == []
    for v, leg in ((a, "long"), (b, "short")):
        check_refusals(v, [o for o in info.value.orders if o["leg"] == leg])


# --- a fault on the unwind itself ---------------------------------------------------------
# The short leg is refused (margin); the long leg filled and must be unwound — and the
# unwind order (the long venue's 2nd order) meets the fault.

UNWIND_RECOVERS = ["5xx", "429", "lost_response", "timeout", "lost_then_outage"]
UNWIND_RETRIED = ["5xx_outage", "429_long", "429_outage", "timeout_outage"]


@pytest.mark.parametrize(("venues", "leg", "fault"), fault_cases(UNWIND_RECOVERS + UNWIND_RETRIED, ("long",)),
                         indirect=["venues"])
async def test_fault_on_the_unwind(venues: tuple[PaperVenue, PaperVenue], leg: str, fault: str) -> None:
    a, b = venues
    same_price(a, b)
    b.starve_margin()
    a.inject(fault, nth=2)
    result = await open_hedge(**legs(a, b), size=SIZE, **ARB)
    check_unwound(result, a, b)
    assert placed_once(result, b, "short") == [] and result["short"]["state"] == "refused"
    ledger = placed_once(result, a, "long")
    purposes = [(x["purpose"], x["state"]) for x in result["long"]["orders"]]
    if fault in UNWIND_RETRIED:
        # the first unwind never reached the book: proven absent, then a new one (new id)
        assert purposes == [("open", "filled"), ("unwind", "absent"), ("unwind", "filled")]
        first, second = result["long"]["orders"][1:]
        assert first["client_order_id"] != second["client_order_id"]
    else:
        assert purposes == [("open", "filled"), ("unwind", "filled")]
    assert [(o["side"], o["reduce_only"]) for o in ledger] == [("buy", False), ("sell", True)]


async def test_unwind_refused_until_its_budget_is_spent_is_naked(venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = venues
    same_price(a, b)
    b.starve_margin()
    a.inject("refusal", nth=2)  # the long venue halts as the unwind leaves: every unwind refused
    with pytest.raises(NakedExposure) as info:
        await open_hedge(**legs(a, b), size=SIZE, unwind_attempts=3, **ARB)
    result = info.value.result
    assert result["status"] == "naked"
    assert [(x["purpose"], x["state"]) for x in result["long"]["orders"]] == [
        ("open", "filled"), ("unwind", "refused"), ("unwind", "refused"), ("unwind", "refused")]
    # exactly what the ledgers hold: 0.01 long on a, nothing on b
    assert a.position(COIN) == SIZE and b.position(COIN) == 0
    assert result["residual"] == {"a": 0.01, "b": 0.0}
    assert info.value.exposures == [{
        "venue": "a", "symbol": COIN, "side": "long", "size": 0.01, "certain": True,
        "detail": "the other leg moved 0.01 less", "venue_position": 0.01}]
    assert "venue a holds long 0.01 BTC unhedged" in str(info.value)
    assert len(placed_once(result, a, "long")) == 1 and placed_once(result, b, "short") == []
    a.resume(COIN)


async def test_unwind_whose_outcome_stays_unknown_is_naked_and_never_resent(
        venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = venues
    same_price(a, b)
    b.starve_margin()
    a.before_order(lambda: a.paper.faults.server_error(10**6), nth=2)  # the outage never ends in time
    with pytest.raises(NakedExposure) as info:
        await open_hedge(**legs(a, b), size=SIZE, **ARB)
    a.clear_faults()
    result = info.value.result
    assert [(x["purpose"], x["state"]) for x in result["long"]["orders"]] == [("open", "filled"), ("unwind", "unresolved")]
    assert a.position(COIN) == SIZE and b.position(COIN) == 0
    assert len(a.ledger_orders(COIN)) == 1  # the unknown unwind was not placed, and not sent again
    exposures = info.value.exposures
    assert [(e["venue"], e["side"], e["size"], e["certain"]) for e in exposures] == [
        ("a", "long", 0.01, False), ("a", "short", 0.01, False)]
    assert "may hold up to 0.01 BTC more short than counted" in str(info.value)


class NoValidity:
    """A venue that sets no time after which a signed order can no longer land (ccxt's
    venues, a third-party wrapper): "not found" after an unknown outcome proves nothing."""

    order_validity = None

    def __init__(self, exchange: Any) -> None:
        self._exchange = exchange

    def __getattr__(self, name: str) -> Any:
        return getattr(self._exchange, name)


async def test_not_found_is_no_proof_without_an_order_validity(venues: tuple[PaperVenue, PaperVenue]) -> None:
    """The same outage that ends ``absent`` → ``unwound`` on a venue with a validity window
    ends ``unresolved`` → ``naked`` on one without: the order might still land later, so the
    executor neither pretends it was never placed nor unwinds the other leg on that guess —
    it reports both venues' possible exposure for a person to settle."""
    a, b = venues
    same_price(a, b)
    b.inject("5xx_outage")  # the short order never reaches the book; the client gives up
    with pytest.raises(NakedExposure) as info:
        await open_hedge(long=(a.exchange, COIN, "a"), short=(NoValidity(b.exchange), COIN, "b"), size=SIZE, **ARB)
    b.clear_faults()
    result = info.value.result
    assert result["short"]["state"] == "unresolved" and "no proof" in (result["short"]["orders"][0]["error"] or "")
    assert b.position(COIN) == 0 and b.ledger_orders(COIN) == []  # it was not placed, and not sent again
    assert a.position(COIN) == SIZE and len(a.ledger_orders(COIN)) == 1  # held, as reported
    assert [(e["venue"], e["side"], e["size"], e["certain"]) for e in info.value.exposures] == [
        ("a", "long", 0.01, False), ("b", "short", 0.01, False)]


async def test_partial_fill_reduces_the_larger_leg(venues: tuple[PaperVenue, PaperVenue]) -> None:
    a, b = venues
    same_price(a, b)
    short = PartialFills(b.exchange, D("0.6"))
    result = await open_hedge(long=(a.exchange, COIN, "a"), short=(short, COIN, "b"), size=SIZE, **ARB)
    check_hedged(result, a, b, D("0.006"))
    assert result["short"]["state"] == "partial" and result["short"]["filled_size"] == 0.006
    assert [(x["purpose"], x["side"], x["size"], x["reduce_only"]) for x in result["long"]["orders"]] == [
        ("open", "buy", 0.01, False), ("reduce", "sell", 0.004, True)]
    assert [(o["side"], o["size"]) for o in a.orders(COIN)] == [("buy", D("0.0100")), ("sell", D("0.0040"))]
    assert "long leg moved 0.004 more than the short leg: reduce" in result["notes"]


class PartialFills:
    """A venue that fills market orders partially (like an IOC order on a thin book): the
    first opening order really trades ``fraction`` of the amount on the paper venue and is
    reported as requested-but-partly-filled. The paper exchange fills a market order wholly
    or refuses it (3001), so this proxy is how a partial fill reaches the ledger."""

    def __init__(self, exchange: Any, fraction: D) -> None:
        self._exchange = exchange
        self._fraction = fraction
        self._done = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._exchange, name)

    async def create_order(self, symbol: str, side: str, amount: Any, *args: Any, **kw: Any) -> Any:
        if self._done or kw.get("is_reduce_only"):
            return await self._exchange.create_order(symbol, side, amount, *args, **kw)
        self._done = True
        part = float(D(str(amount)) * self._fraction)
        res = await self._exchange.create_order(symbol, side, part, *args, **kw)
        return {**res, "size": amount, "status": "CANCELLED"}  # the rest of the IOC order cancelled
