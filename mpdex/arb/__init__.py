"""Cross-venue arbitrage on the contract alone: a spread and funding monitor, and a hedged
two-leg executor whose every outcome follows from the error types.

    from mpdex.arb import SpreadMonitor, open_hedge, close_hedge, hedge_imbalance
    async with SpreadMonitor({"vest": vest, "hl": hl}, ["BTC", "ETH"], size=0.01) as mon:
        snap = await mon.snapshot()                       # quotes + ranked opportunities
    res = await open_hedge(long=(vest, "BTC", "vest"), short=(hl, "BTC", "hl"), size=0.01)

Modules: ``book_math`` (pure arithmetic and its definitions), ``monitor``, ``order_fate``
(one order and its fate), ``executor`` (the two-leg algorithm and plans), ``venue`` (reaching
optional capabilities), ``results`` (TypedDicts) and ``errors``.
No venue module is imported here.
"""
from __future__ import annotations

from .errors import EntrySpreadExceeded, HedgeRefused, NakedExposure, describe_exposure
from .executor import HedgePlan, close_hedge, hedge_imbalance, open_hedge, plan_close, plan_open
from .monitor import SpreadMonitor
from .results import (
    Exposure,
    HedgeResult,
    HedgeStatus,
    Imbalance,
    LegPlan,
    LegResult,
    Opportunity,
    OrderAttempt,
    PlanPreview,
    Snapshot,
    VenueQuote,
)

__all__ = [
    "SpreadMonitor",
    "open_hedge",
    "close_hedge",
    "hedge_imbalance",
    "plan_open",
    "plan_close",
    "HedgePlan",
    "NakedExposure",
    "HedgeRefused",
    "EntrySpreadExceeded",
    "describe_exposure",
    "Snapshot",
    "VenueQuote",
    "Opportunity",
    "HedgeResult",
    "HedgeStatus",
    "LegResult",
    "OrderAttempt",
    "Exposure",
    "Imbalance",
    "PlanPreview",
    "LegPlan",
]
