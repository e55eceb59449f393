"""Benchmark: ``VestExchange.create_order`` vs a bare POST of the same signed body, against
the paper exchange on loopback, in one run.

    python bench/bench_create_order.py [--n 200] [--rest-only]

The baseline signs an order body exactly as ``create_order`` does and POSTs it through the
exchange's own REST client (same session, limiter and transport): one round trip, nothing
confirmed. ``create_order`` adds normalisation, the slippage cap's mark (market orders,
socket-fresh), and the confirmation of what Vest recorded — from the private socket's order
event when the socket is live, else ``GET /orders?id=``. Both sides alternate so drift in
the machine hits them alike. Goal (issue 10): create_order ≤ 1.3× the bare POST, limit and
market. Not part of the test suite.
"""
from __future__ import annotations

import argparse
import asyncio
import pathlib
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from exchange_factory import create_exchange
from mpdex.paper import PaperVest
from wrappers.vest_orders import build_order_body


async def run(n: int, use_ws: bool) -> None:
    async with PaperVest(seed=5, tick_interval=None, auto_funding=False) as paper:
        key = await paper.create_account(usdc=100_000_000)
        ex = await create_exchange("vest", key, use_ws=use_ws, rate_limits={"order": (1e6, 1e6), "public": (1e6, 1e6),
                                                                            "private": (1e6, 1e6)})
        paper.set_price("ETH-PERP", "3500.00")
        market = ex.markets["ETH-PERP"]
        await ex.get_mark_price("ETH")  # warm the mark cache
        if ex.ws_client is not None:
            await ex.ws_client.wait_connected(5)

        async def bare(kind: str) -> float:
            nonce = ex._nonces.next()
            price = "3000.00" if kind == "LIMIT" else "3600.00"

            def body() -> dict[str, object]:
                return build_order_body(ex._signer, time_ms=ex._clock_ms(), nonce=nonce, symbol=market.symbol,
                                        is_buy=True, size="0.010", limit_price=price, order_type=kind,
                                        reduce_only=False, time_in_force="GTC" if kind == "LIMIT" else None)
            t = time.perf_counter()
            sent = await ex.rest.post_order(body)
            assert sent.outcome == "accepted"
            return time.perf_counter() - t

        async def ours(kind: str) -> float:
            t = time.perf_counter()
            if kind == "LIMIT":
                res = await ex.create_order("ETH", "buy", "0.010", price="3000.00")
                assert res["status"] == "NEW"
            else:
                res = await ex.create_order("ETH", "buy", "0.010")
                assert res["status"] == "FILLED"
            return time.perf_counter() - t

        for kind in ("LIMIT", "MARKET"):
            for _ in range(10):  # warm up both paths
                paper.set_price("ETH-PERP", "3500.00")
                await bare(kind)
                await ours(kind)
            base, mine = [], []
            for i in range(n):
                for first in ((bare, base), (ours, mine)) if i % 2 else ((ours, mine), (bare, base)):
                    paper.set_price("ETH-PERP", "3500.00" if i % 2 else "3500.10")  # a fresh book, not timed
                    await asyncio.sleep(0.003)  # let the server's own fan-out finish first
                    fn, into = first
                    into.append(await fn(kind))
            b, m = statistics.median(base) * 1e3, statistics.median(mine) * 1e3
            print(f"{kind.lower():6s}  bare POST {b:7.3f} ms   create_order {m:7.3f} ms   ratio {m / b:5.2f}x "
                  f"({'socket' if use_ws else 'REST'} confirmation, n={n})")
        if ex.ws_client is not None:
            print(f"socket stats: {dict((k, v) for k, v in ex.ws_client.stats.items() if k in ('rest_fallbacks', 'order_events'))}")
        await ex.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--rest-only", action="store_true", help="confirm over REST (no socket)")
    args = ap.parse_args()
    asyncio.run(run(args.n, not args.rest_only))


if __name__ == "__main__":
    main()
