"""CPU cost of a warm ``SpreadMonitor.snapshot()`` for 2 venues x 10 coins, per venue-coin,
against same-run baselines. Run by hand; not part of the test suite.

    python bench/bench_arb_snapshot.py [--rounds 300] [--size 0.05] [--pair vest,hyperliquid]
                                       [--coins BTC,ETH,SOL,DOGE]

Two paper venues run in this process with socket-backed clients: ``--pair vest,vest`` (the
default: two ``PaperVest``, different seeds, ``VestExchange``) or the pair traders run,
``--pair vest,hyperliquid`` (a ``PaperVest`` and a ``PaperHyperliquid`` with the native
``HyperliquidExchange``). The coins default to the first 10 of ``COINS`` both venues list
(Vest + Hyperliquid paper: BTC, ETH, SOL, DOGE). Everything is warmed first (depth
streams held, marks and funding streamed, fee rates cached by the monitor) and the paper
prices do not move while measuring, so no read leaves the process: what is timed is the
CPU of the reads from the socket caches plus the monitor's own work (depth walks, fees,
funding, ranking). Contenders, alternated round by round:

* ``books``: the bare ``get_orderbook`` of every venue-coin, gathered (the floor any monitor
  built on the contract pays);
* ``reads``: ``get_orderbook`` + ``get_mark_price`` + ``get_funding_rate`` +
  ``get_trading_fees`` of every venue-coin, gathered (the same reads the monitor makes) —
  except that a venue whose ``get_trading_fees`` is a REST read (Hyperliquid's ``userFees``)
  leaves it out, as the monitor does between its ``fee_ttl`` refreshes (said in the output);
* ``snapshot``: ``await monitor.snapshot()``.

Reported: the median per round divided by the number of venue-coins (µs), and each contender's ratio
to ``books``. Process CPU time is used (``time.process_time_ns``); wall time is also shown.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from exchange_factory import create_exchange  # noqa: E402
from mpdex.arb import SpreadMonitor  # noqa: E402
from mpdex.errors import BadSymbol  # noqa: E402
from mpdex.paper import PaperHyperliquid, PaperVest  # noqa: E402
from mpdex.paper.harness import PaperVenue  # noqa: E402

COINS = ["BTC", "ETH", "SOL", "DOGE", "kBONK", "AAPL", "TSLA", "NVDA", "SPX", "AUD"]
PAPERS: dict[str, type[PaperVenue]] = {"vest": PaperVest, "hyperliquid": PaperHyperliquid}
#: caches never expire during the run: what is measured is the warm path
WARM = 3600.0


async def timed(fn: Callable[[], Awaitable[Any]]) -> tuple[int, int]:
    cpu, wall = time.process_time_ns(), time.perf_counter_ns()
    await fn()
    return time.process_time_ns() - cpu, time.perf_counter_ns() - wall


def listed(exchange: Any, coin: str) -> bool:
    try:
        exchange.resolve_symbol(coin)
    except BadSymbol:
        return False
    return True


async def main(rounds: int, size: float, pair: tuple[str, str], wanted: list[str] | None) -> None:
    logging.basicConfig(level=logging.WARNING)
    async with PAPERS[pair[0]](seed=1, tick_interval=None, auto_funding=False) as pa, \
            PAPERS[pair[1]](seed=2, tick_interval=None, auto_funding=False) as pb:
        ka, kb = await pa.create_account(), await pb.create_account()
        ea = await create_exchange(pair[0], ka, ws_max_age=WARM)
        eb = await create_exchange(pair[1], kb, ws_max_age=WARM)
        exchanges = {"a": ea, "b": eb}
        coins = wanted or [c for c in COINS if listed(ea, c) and listed(eb, c)][:10]
        monitor = SpreadMonitor(exchanges, coins, size, max_book_age=WARM, funding_ttl=0.0)
        try:
            first = await monitor.snapshot()  # subscribes every depth stream
            await asyncio.sleep(0.5)  # first depth frames in
            warm = await monitor.snapshot()
            bad = [(c, v, q["status"], q["error"]) for c, per in warm["quotes"].items() for v, q in per.items()
                   if q["status"] != "ok" or q["buy_price"] is None]
            if bad:
                raise SystemExit(f"not warm: {bad}")
            # which venues answer get_trading_fees without leaving the process
            local_fees: dict[str, bool] = {}
            for (name, ex), paper in zip(exchanges.items(), (pa, pb), strict=True):
                before = paper.stats["rest_requests"]
                await ex.get_trading_fees(coins[0])
                local_fees[name] = paper.stats["rest_requests"] == before
            rest_before = pa.stats["rest_requests"] + pb.stats["rest_requests"]
            pairs = [(name, ex, coin) for coin in coins for name, ex in exchanges.items()]

            async def books() -> None:
                await asyncio.gather(*(ex.get_orderbook(coin) for _, ex, coin in pairs))

            async def reads() -> None:
                await asyncio.gather(*(job for name, ex, coin in pairs for job in (
                    ex.get_orderbook(coin), ex.get_mark_price(coin), ex.get_funding_rate(coin),
                    *((ex.get_trading_fees(coin),) if local_fees[name] else ()))))

            contenders: dict[str, Callable[[], Awaitable[Any]]] = {
                "books": books, "reads": reads, "snapshot": monitor.snapshot}
            cpu: dict[str, list[int]] = {k: [] for k in contenders}
            wall: dict[str, list[int]] = {k: [] for k in contenders}
            for _ in range(20):  # warm-up
                for fn in contenders.values():
                    await fn()
            for _ in range(rounds):
                for name, fn in contenders.items():
                    c, w = await timed(fn)
                    cpu[name].append(c)
                    wall[name].append(w)
            rest_after = pa.stats["rest_requests"] + pb.stats["rest_requests"]
        finally:
            await monitor.close()
            await ea.close()
            await eb.close()
    n = len(pairs)
    base = statistics.median(cpu["books"]) / n
    print(f"{pair[0]} + {pair[1]}: {len(exchanges)} venues x {len(coins)} coins ({','.join(coins)}) = {n} "
          f"venue-coins, size {size}, {rounds} rounds (REST requests during the measurement: "
          f"{rest_after - rest_before}; first snapshot {first['read_ms']:.1f} ms cold)")
    skipped = [f"{v} ({name})" for name, v in zip(exchanges, pair, strict=True) if not local_fees[name]]
    if skipped:
        print(f"reads: get_trading_fees left out for {', '.join(skipped)}: a REST read, cached by the monitor")
    print(f"{'contender':<10} {'cpu µs/venue-coin':>18} {'wall µs/venue-coin':>19} {'ratio (cpu)':>12}")
    for name in contenders:
        per = statistics.median(cpu[name]) / n / 1000
        per_wall = statistics.median(wall[name]) / n / 1000
        print(f"{name:<10} {per:>18.1f} {per_wall:>19.1f} {statistics.median(cpu[name]) / n / base:>11.2f}x")
    print(f"opportunities in the last snapshot: {len(warm['opportunities'])}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--size", type=float, default=0.05)
    parser.add_argument("--pair", default="vest,vest", choices=[f"{a},{b}" for a in PAPERS for b in PAPERS],
                        help="the two paper venues (default vest,vest; the real pair: vest,hyperliquid)")
    parser.add_argument("--coins", default=None, help="comma-separated coins (default: the first 10 of COINS "
                                                      "both venues list)")
    args = parser.parse_args()
    venues = tuple(args.pair.split(","))
    assert len(venues) == 2
    pair = (venues[0], venues[1])
    asyncio.run(main(args.rounds, args.size, pair, args.coins.split(",") if args.coins else None))
