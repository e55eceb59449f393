"""CPU cost of a warm ``SpreadMonitor.snapshot()`` for 2 venues x 10 coins, per venue-coin,
against same-run baselines. Run by hand; not part of the test suite.

    python bench/bench_arb_snapshot.py [--rounds 300] [--size 0.05]

Two paper venues (``PaperVest``, different seeds) run in this process with socket-backed
``VestExchange`` clients. Everything is warmed first (depth streams held, tickers cached,
fee rates cached) and the paper prices do not move while measuring, so no read leaves the
process: what is timed is the CPU of the reads from the socket caches plus the monitor's
own work (depth walks, fees, funding, ranking). Contenders, alternated round by round:

* ``books``: the bare ``get_orderbook`` of every venue-coin, gathered (the floor any monitor
  built on the contract pays);
* ``reads``: ``get_orderbook`` + ``get_mark_price`` + ``get_funding_rate`` +
  ``get_trading_fees`` of every venue-coin, gathered (the same reads the monitor makes);
* ``snapshot``: ``await monitor.snapshot()``.

Reported: the median per round divided by 20 venue-coins (µs), and each contender's ratio
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
from mpdex.paper import PaperVest  # noqa: E402

COINS = ["BTC", "ETH", "SOL", "DOGE", "kBONK", "AAPL", "TSLA", "NVDA", "SPX", "AUD"]
#: caches never expire during the run: what is measured is the warm path
WARM = 3600.0


async def timed(fn: Callable[[], Awaitable[Any]]) -> tuple[int, int]:
    cpu, wall = time.process_time_ns(), time.perf_counter_ns()
    await fn()
    return time.process_time_ns() - cpu, time.perf_counter_ns() - wall


async def main(rounds: int, size: float) -> None:
    logging.basicConfig(level=logging.WARNING)
    async with PaperVest(seed=1, tick_interval=None, auto_funding=False) as pa, \
            PaperVest(seed=2, tick_interval=None, auto_funding=False) as pb:
        ka, kb = await pa.create_account(), await pb.create_account()
        ea = await create_exchange("vest", ka, ws_max_age=WARM)
        eb = await create_exchange("vest", kb, ws_max_age=WARM)
        exchanges = {"a": ea, "b": eb}
        monitor = SpreadMonitor(exchanges, COINS, size, max_book_age=WARM, funding_ttl=0.0)
        try:
            first = await monitor.snapshot()  # subscribes every depth stream
            await asyncio.sleep(0.5)  # first depth frames in
            warm = await monitor.snapshot()
            bad = [(c, v, q["status"], q["error"]) for c, per in warm["quotes"].items() for v, q in per.items()
                   if q["status"] != "ok" or q["buy_price"] is None]
            if bad:
                raise SystemExit(f"not warm: {bad}")
            rest_before = pa.stats["rest_requests"] + pb.stats["rest_requests"]
            pairs = [(ex, coin) for coin in COINS for ex in exchanges.values()]

            async def books() -> None:
                await asyncio.gather(*(ex.get_orderbook(coin) for ex, coin in pairs))

            async def reads() -> None:
                await asyncio.gather(*(job for ex, coin in pairs for job in (
                    ex.get_orderbook(coin), ex.get_mark_price(coin), ex.get_funding_rate(coin),
                    ex.get_trading_fees(coin))))

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
    print(f"{len(exchanges)} venues x {len(COINS)} coins = {n} venue-coins, size {size}, {rounds} rounds "
          f"(REST requests during the measurement: {rest_after - rest_before}; first snapshot "
          f"{first['read_ms']:.1f} ms cold)")
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
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.size))
