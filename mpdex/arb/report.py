"""Plain-text renderings of snapshots, plans and hedge results, for a CLI to print.

Pure functions: a result in, a ``str`` out (no printing, no I/O). The JSON form needs no
renderer: every result of this package is a TypedDict of floats, strings and ``None``.
"""
from __future__ import annotations

from collections.abc import Sequence

from .errors import describe_exposure
from .results import HedgeResult, PlanPreview, Snapshot

__all__ = ["format_snapshot", "format_preview", "format_result"]


def _num(value: float | None, spec: str = ".6g") -> str:
    return "-" if value is None else format(value, spec)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) if rows else len(header[i]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def format_snapshot(snapshot: Snapshot, *, top: int | None = None) -> str:
    """Venue prices, funding per hour, fee and staleness per coin, then the ranked
    opportunities (the first ``top`` of them)."""
    quotes = [
        [q["coin"], q["venue"], q["status"], _num(q["best_bid"]), _num(q["best_ask"]), _num(q["buy_price"]),
         _num(q["sell_price"]), _num(q["mark_price"]),
         _num(None if q["funding_rate_per_hour"] is None else q["funding_rate_per_hour"] * 10_000, ".4f"),
         _num(None if q["taker_fee"] is None else q["taker_fee"] * 10_000, ".3g"),
         "-" if q["age_ms"] is None else f"{q['age_ms']}ms",
         q["error"] or "; ".join(f"{k}: {v}" for k, v in sorted(q["unavailable"].items()))]
        for per_venue in snapshot["quotes"].values() for q in per_venue.values()
    ]
    opps = snapshot["opportunities"] if top is None else snapshot["opportunities"][:top]
    ranked = [
        [o["coin"], o["long_venue"], o["short_venue"], _num(o["long_price"]), _num(o["short_price"]),
         _num(o["gross_bps"], ".2f"), _num(o["fees_bps"], ".2f"), _num(o["net_bps"], ".2f"),
         _num(o["funding_edge_bps_per_hour"], ".4f"), _num(o["payback_hours"], ".1f")]
        for o in opps
    ]
    head = f"size {snapshot['size']:g} · {len(snapshot['venues'])} venues · read in {snapshot['read_ms']:.1f} ms"
    return "\n\n".join([
        head,
        _table(["coin", "venue", "status", "bid", "ask", f"buy {snapshot['size']:g}", f"sell {snapshot['size']:g}",
                "mark", "fund bp/h", "taker bp", "age", "notes"], quotes),
        _table(["coin", "long", "short", "long px", "short px", "gross bp", "fees bp (rt)", "net bp",
                "fund edge bp/h", "payback h"], ranked) if ranked else "no opportunities (no two fresh venues)",
    ])


def format_preview(preview: PlanPreview) -> str:
    """What will be sent, leg by leg, and whether price protection would refuse now."""
    rows = [
        [p["leg"], p["venue"], p["symbol"], p["side"], f"{p['size']:g}", "yes" if p["reduce_only"] else "no",
         _num(p["slippage"], "g"), _num(p["best_price"]), _num(p["avg_price"]), _num(p["taker_fee"], "g"),
         "; ".join(f"{k}: {v}" for k, v in sorted(p["unavailable"].items()))]
        for p in preview["legs"]
    ]
    lines = [
        f"{preview['action']} hedge, size {preview['size']:g}, legs sent {preview['send']}",
        _table(["leg", "venue", "symbol", "side", "size", "reduce-only", "slippage", "best", "avg", "taker", "notes"],
               rows),
        f"crossing cost {_num(preview['crossing_bps'], '.2f')} bp (limit {_num(preview['max_spread_bps'], 'g')}), "
        f"fees one way {_num(preview['fees_bps_one_way'], '.2f')} bp",
    ]
    if preview["would_refuse"]:
        lines.append(f"WOULD REFUSE: {preview['would_refuse']}")
    return "\n".join(lines)


def format_result(result: HedgeResult) -> str:
    """Each order of each leg, then the status and, when naked, who holds what."""
    rows = [
        [o["leg"], o["venue"], o["purpose"], o["side"], f"{o['size']:g}", o["client_order_id"] or "-", o["state"],
         f"{o['filled_size']:g}", _num(o["avg_price"]), _num(o["fee"], "g"), o["error"] or ""]
        for leg in (result["long"], result["short"]) for o in leg["orders"]
    ]
    lines = [
        _table(["leg", "venue", "order", "side", "size", "client id", "state", "filled", "avg", "fee", "error"], rows),
        f"status {result['status'].upper()}: matched {result['matched_size']:g}, fees {_num(result['fees'], 'g')}, "
        f"captured {_num(result['captured_bps'], '.2f')} bp, {result['elapsed_ms']:.0f} ms",
    ]
    lines += [f"note: {n}" for n in result["notes"]]
    lines += [f"EXPOSURE: {describe_exposure(e)}" for e in result["exposures"]]
    return "\n".join(lines)
