"""book_math against worked examples computed by hand (exact Decimals, no tolerance)."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from mpdex.arb import book_math as bm

ASKS = [[100.0, 1.0], [100.5, 2.0], [101.0, 5.0]]
BIDS = [[99.5, 0.5], [99.0, 3.0], [98.0, 1.0]]


def test_walk_takes_levels_in_order() -> None:
    # buy 2.5: 1 @ 100 + 1.5 @ 100.5 = 100 + 150.75 = 250.75 -> 250.75 / 2.5 = 100.3
    w = bm.walk(ASKS, D("2.5"))
    assert (w.avg_price, w.worst_price, w.levels, w.available, w.complete) == (D("100.3"), D("100.5"), 2, D("2.5"), True)
    # sell 2: 0.5 @ 99.5 + 1.5 @ 99 = 49.75 + 148.5 = 198.25 -> 99.125
    w = bm.walk(BIDS, D(2))
    assert (w.avg_price, w.worst_price, w.levels) == (D("99.125"), D("99.0"), 2)
    # exactly the first level: its price
    assert bm.walk(ASKS, D(1)).avg_price == D(100) and bm.walk(ASKS, D(1)).levels == 1


def test_walk_is_exact_where_floats_are_not() -> None:
    # 0.1 @ 0.3 + 0.2 @ 0.7 = 0.03 + 0.14 = 0.17 over 0.3 -> 0.5666…; in floats 0.1+0.2 != 0.3
    w = bm.walk([[0.3, 0.1], [0.7, 0.2]], D("0.3"))
    assert w.avg_price == D("0.17") / D("0.3")
    assert bm.dec(0.1) == D("0.1") and bm.dec("97000.5") == D("97000.5") and bm.dec(3) == D(3)


def test_thin_book_is_marked_not_guessed() -> None:
    w = bm.walk(ASKS, D(10))  # 1 + 2 + 5 = 8 on the book
    assert (w.complete, w.avg_price, w.available, w.worst_price, w.levels) == (False, None, D(8), D("101.0"), 3)
    assert bm.walk([], D(1)).available == 0 and bm.walk([], D(1)).worst_price is None
    # zero-size levels do not count
    assert bm.walk([[100.0, 0.0], [101.0, 1.0]], D(1)).avg_price == D(101)
    with pytest.raises(ValueError):
        bm.walk(ASKS, D(0))


def test_depth_within_band() -> None:
    # best ask 100; a 0.5 % band reaches 100.5 (100 x 1.005) but not 101
    assert bm.depth_within(ASKS, D("0.005")) == D(3)
    assert bm.depth_within(ASKS, D("0.01")) == D(8)
    assert bm.depth_within(ASKS, D(0)) == D(1)
    # bids go down from 99.5: 99.5 x 0.995 = 99.0025 > 99, so 99 is outside 0.5 %
    assert bm.depth_within(BIDS, D("0.005")) == D("0.5")


def test_edge_worked_example() -> None:
    # long at 100, short at 100.25; taker 1 bp (long venue) and 2.5 bp (short venue);
    # funding per hour 0.00125 % (long venue) and 0.005 % (short venue)
    e = bm.edge(D(100), D("100.25"), long_taker=D("0.0001"), short_taker=D("0.00025"),
                long_funding=D("0.0000125"), short_funding=D("0.00005"))
    # gross = 0.25 / 100 x 1e4 = 25 bps
    assert e.gross_bps == D(25)
    # fees, round trip = 2 x (0.0001 x 100 + 0.00025 x 100.25) / 100 x 1e4
    #                  = 2 x (0.01 + 0.0250625) / 100 x 1e4 = 0.070125 / 100 x 1e4 = 7.0125 bps
    assert e.fees_bps == D("7.0125")
    assert e.net_bps == D("17.9875")
    # funding edge = (0.00005 - 0.0000125) x 1e4 = 0.375 bps per hour
    assert e.funding_edge_bps_per_hour == D("0.375")
    # payback = 7.0125 / 0.375 = 18.7 hours
    assert e.payback_hours == D("18.7")


def test_edge_without_positive_funding_or_fees() -> None:
    # the short venue pays less than the long one: the edge is negative, no payback
    e = bm.edge(D(100), D(100), long_taker=D("0.0001"), short_taker=D("0.0001"),
                long_funding=D("0.0001"), short_funding=D("-0.0001"))
    assert e.funding_edge_bps_per_hour == D(-2) and e.payback_hours is None
    assert e.gross_bps == 0 and e.fees_bps == D(4) and e.net_bps == D(-4)
    assert bm.payback_hours(D(4), D(0)) is None
    # a venue without fee rates: no fees, no net, no payback; the gross stays
    e = bm.edge(D(200), D(199), long_taker=None, short_taker=D("0.0001"), long_funding=D(0), short_funding=D("0.0001"))
    assert e.gross_bps == D(-50) and (e.fees_bps, e.net_bps, e.payback_hours) == (None, None, None)
    assert e.funding_edge_bps_per_hour == D(1)
    # a venue without funding: no edge, no payback
    e = bm.edge(D(200), D(201), long_taker=D(0), short_taker=D(0), long_funding=None, short_funding=D("0.0001"))
    assert (e.funding_edge_bps_per_hour, e.payback_hours, e.fees_bps, e.net_bps) == (None, None, D(0), D(50))


def test_funding_per_hour_from_other_intervals() -> None:
    # an 8-hour venue quoting 0.01 % per interval is 0.00125 % per hour; against a 1-hour
    # venue paying 0.005 % per hour that is (0.00005 - 0.0000125) x 1e4 = 0.375 bps/h
    eight_hour_per_hour = D("0.0001") / D(8)
    assert bm.funding_edge_bps_per_hour(eight_hour_per_hour, D("0.00005")) == D("0.375")


def test_bps_reference() -> None:
    assert bm.bps(D(1), D(10_000)) == D(1)
    with pytest.raises(ValueError):
        bm.bps(D(1), D(0))
