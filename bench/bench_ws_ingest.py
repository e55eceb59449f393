"""Depth-frame ingest through ``VestWSClient`` vs bare ``websockets`` + ``orjson``, and the
latency of warm cache reads: ``get_mark_price``, and ``get_orderbook`` against its same-run
baseline, parsing the frame's levels (``vest_parsers.parse_orderbook``, what every read cost
before books were parsed once per frame). Run by hand; not part of the test suite.

    python bench/bench_ws_ingest.py [--frames 50000] [--rounds 5] [--levels 20]

One local server (a separate process, so it does not share the measured event loop)
streams the same pre-encoded ``{symbol}@depth`` snapshots to each contender, then one
``DONE-PERP@depth`` frame. The bare contender receives and ``orjson``-decodes every frame;
``VestWSClient`` receives, decodes, routes and caches every frame (its production path),
and learns of the end through its own book waiter. Rounds alternate; medians are reported.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import orjson
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from wrappers.vest_keys import make_vest_key  # noqa: E402
from wrappers.vest_parsers import parse_orderbook  # noqa: E402
from wrappers.vest_ws_client import VestWSClient  # noqa: E402

SYMBOL = "BENCH-PERP"
DONE = "DONE-PERP"
log = logging.getLogger("bench")


def make_frames(n: int, levels: int) -> list[str]:
    """``n`` distinct depth snapshots of ``levels`` per side, as Vest sends them."""
    frames = []
    for i in range(n):
        mid = 97000 + (i % 200) * 0.5
        bids = [[f"{mid - 0.5 * (k + 1):.1f}", f"{0.1 + (i + k) % 17 * 0.013:.4f}"] for k in range(levels)]
        asks = [[f"{mid + 0.5 * (k + 1):.1f}", f"{0.1 + (i * 3 + k) % 19 * 0.011:.4f}"] for k in range(levels)]
        frames.append(orjson.dumps({"channel": f"{SYMBOL}@depth", "data": {"bids": bids, "asks": asks}}).decode())
    return frames


# ---------------------------------------------------------------------------- server
def text_frame(payload: str) -> bytes:
    """One unmasked, uncompressed server→client text frame (RFC 6455 §5.2)."""
    data = payload.encode()
    n = len(data)
    if n < 126:
        head = bytes([0x81, n])
    elif n < 65536:
        head = bytes([0x81, 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x81, 127]) + n.to_bytes(8, "big")
    return head + data


async def serve_forever(n: int, levels: int) -> None:
    # the frames are encoded once and written as one blob, so the server costs next to
    # nothing and the client side is what is measured
    done = orjson.dumps({"channel": f"{DONE}@depth", "data": {"bids": [["1", "1"]], "asks": [["2", "1"]]}}).decode()
    blob = b"".join(text_frame(f) for f in make_frames(n, levels)) + text_frame(done)

    async def handler(ws: ServerConnection) -> None:
        wanted = {f"{SYMBOL}@depth", f"{DONE}@depth"}
        subscribed: set[str] = set()
        try:
            async for raw in ws:
                msg = orjson.loads(raw)
                if msg.get("method") == "PING":
                    await ws.send('{"data":"PONG"}')
                    continue
                if msg.get("method") != "SUBSCRIBE":
                    continue
                await ws.send(orjson.dumps({"result": None, "id": msg.get("id")}).decode())
                subscribed.update(msg.get("params") or ())
                if wanted <= subscribed:
                    ws.transport.write(blob)
                    subscribed.clear()
        except ConnectionClosed:
            pass

    async with serve(handler, "127.0.0.1", 0, ping_interval=None, max_queue=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(port, flush=True)  # the parent reads the port from our stdout
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent exits


# ---------------------------------------------------------------------------- contenders
async def bare_round(url: str, n: int) -> float:
    async with connect(url, ping_interval=None, proxy=None) as ws:
        await ws.send(orjson.dumps({"method": "SUBSCRIBE", "params": [f"{SYMBOL}@depth"], "id": 1}).decode())
        t0 = time.perf_counter()
        await ws.send(orjson.dumps({"method": "SUBSCRIBE", "params": [f"{DONE}@depth"], "id": 2}).decode())
        count = 0
        async for raw in ws:
            msg = orjson.loads(raw)
            if msg.get("channel") == f"{DONE}@depth":
                break
            count += 1
        elapsed = time.perf_counter() - t0
    assert count >= n, count  # plus the two acks
    return n / elapsed


def bench_key(url: str) -> Any:
    return make_vest_key(api_key="bench", signing_private_key="0x" + "11" * 32, primary_address="0x" + "ab" * 20,
                         network="dev", ws_url=url, rest_url="http://127.0.0.1:9/v2")


async def client_round(url: str, n: int) -> float:
    client = VestWSClient(bench_key(url), private=False, max_age=60.0)
    await client.start()
    try:
        await client.subscribe_orderbook(SYMBOL, "bench")
        before = client.stats["messages"]
        t0 = time.perf_counter()
        await client.get_orderbook(DONE, "bench", timeout=120.0)  # resolves on the DONE frame
        elapsed = time.perf_counter() - t0
        received = client.stats["messages"] - before
        assert received >= n, received
        assert client.orderbook(SYMBOL) is not None
    finally:
        await client.close()
    return n / elapsed


def feed(client: VestWSClient, frame: dict[str, Any]) -> None:
    """Deliver one decoded frame as the reader would, received now."""
    client._last_recv = time.monotonic()
    client._handle_message(frame)


async def mark_price_latency(url: str, samples: int = 20000) -> tuple[float, float]:
    """Median ns of ``mark_price`` (sync cache read) and ``await get_mark_price`` (warm)."""
    client = VestWSClient(bench_key(url), private=False, max_age=60.0)
    feed(client, {"channel": "tickers", "data": [{"symbol": "BTC-PERP", "markPrice": "97214.3"}]})
    sync_ns, async_ns = [], []
    clock = time.perf_counter_ns
    for _ in range(samples):
        t = clock()
        client.mark_price("BTC-PERP")
        sync_ns.append(clock() - t)
    for _ in range(samples):
        t = clock()
        await client.get_mark_price("BTC-PERP")
        async_ns.append(clock() - t)
    await client.close()
    return statistics.median(sync_ns), statistics.median(async_ns)


async def orderbook_latency(url: str, levels: int, samples: int = 20000) -> tuple[float, float, float]:
    """Median ns of ``orderbook`` (sync), ``await get_orderbook`` (warm, one frame) and of
    the baseline: one ``parse_orderbook`` of the same frame."""
    client = VestWSClient(bench_key(url), private=False, max_age=60.0)
    await client.subscribe_orderbook(SYMBOL, "bench")  # not connected: only the hold is recorded
    frame = orjson.loads(make_frames(1, levels)[0])
    feed(client, frame)
    clock = time.perf_counter_ns
    sync_ns, async_ns, parse_ns = [], [], []
    for _ in range(samples):
        t = clock()
        client.orderbook(SYMBOL)
        sync_ns.append(clock() - t)
    for _ in range(samples):
        t = clock()
        await client.get_orderbook(SYMBOL, "bench")
        async_ns.append(clock() - t)
    data = frame["data"]
    for _ in range(samples):
        t = clock()
        parse_orderbook(data, 0)
        parse_ns.append(clock() - t)
    await client.close()
    return statistics.median(sync_ns), statistics.median(async_ns), statistics.median(parse_ns)


async def measure(url: str, frames: int, rounds: int, levels: int) -> tuple[list[float], list[float], float, float, tuple[float, float, float]]:
    await bare_round(url, frames)  # warm-up both paths
    await client_round(url, frames)
    bare, ours = [], []
    for _ in range(rounds):
        bare.append(await bare_round(url, frames))
        ours.append(await client_round(url, frames))
    sync_ns, async_ns = await mark_price_latency(url)
    return bare, ours, sync_ns, async_ns, await orderbook_latency(url, levels)


def main(frames: int, rounds: int, levels: int) -> None:
    proc = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--serve", "--frames", str(frames), "--levels", str(levels)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        url = f"ws://127.0.0.1:{port}/ws-api?version=1.0"
        bare, ours, sync_ns, async_ns, (book_ns, get_book_ns, parse_ns) = asyncio.run(measure(url, frames, rounds, levels))
    finally:
        proc.stdin.close()  # type: ignore[union-attr]
        proc.wait(timeout=10)
    size = len(make_frames(1, levels)[0])
    b, o = statistics.median(bare), statistics.median(ours)
    out = sys.stdout.write
    out(f"depth frames: {frames} x {rounds} rounds, {levels} levels/side, {size} bytes/frame, python {sys.version.split()[0]}\n")
    out(f"bare websockets recv + orjson.loads : median {b:,.0f} frames/s  (rounds: {', '.join(f'{x:,.0f}' for x in bare)})\n")
    out(f"VestWSClient ingest (decode+cache)  : median {o:,.0f} frames/s  (rounds: {', '.join(f'{x:,.0f}' for x in ours)})\n")
    out(f"ratio VestWSClient / bare           : {o / b:.2f}  (goal >= 0.80)\n")
    out(f"mark_price (sync cache read)        : median {sync_ns / 1000:.2f} us\n")
    out(f"await get_mark_price (warm cache)   : median {async_ns / 1000:.2f} us\n")
    out(f"orderbook (sync cache read)         : median {book_ns / 1000:.2f} us\n")
    out(f"await get_orderbook (warm cache)    : median {get_book_ns / 1000:.2f} us\n")
    out(f"baseline: parse_orderbook (1 frame) : median {parse_ns / 1000:.2f} us\n")
    out(f"ratio get_orderbook / parse         : {get_book_ns / parse_ns:.2f}\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--frames", type=int, default=50000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--levels", type=int, default=20)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.serve:
        asyncio.run(serve_forever(args.frames, args.levels))
    else:
        main(args.frames, args.rounds, args.levels)
