"""``python -m mpdex.paper``: serve the paper exchange until stopped.

    python -m mpdex.paper --port 8765 --db paper.sqlite3 [--create-account] [--usdc 10000]

Prints the REST and WebSocket URLs (and, with ``--create-account``, a funded account's
key fields as JSON — paper keys, worthless anywhere else), then serves until Ctrl-C or
SIGTERM. ``--default-account`` prints the ledger's persistent default account instead.
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import signal
import sys

from . import PaperVest


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m mpdex.paper", description="Serve the paper Vest exchange on loopback.")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    p.add_argument("--db", default=None, help="SQLite ledger file (default: in memory, lost on exit)")
    p.add_argument("--seed", type=int, default=1, help="price model seed (default 1)")
    p.add_argument("--tick-interval", type=float, default=0.5, help="seconds between price ticks (default 0.5)")
    p.add_argument("--network", choices=("dev", "prod"), default="dev", help="EIP-712 contract for /register")
    p.add_argument("--create-account", action="store_true", help="create a funded account and print its key fields")
    p.add_argument("--default-account", action="store_true", help="print the persistent default account's key fields")
    p.add_argument("--usdc", default="10000", help="funding for a new account (default 10000)")
    p.add_argument("--log-level", default="INFO")
    return p.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    async with PaperVest(db_path=args.db, seed=args.seed, host=args.host, port=args.port, network=args.network,
                         tick_interval=args.tick_interval or None) as paper:
        print(f"REST  {paper.rest_url}")
        print(f"WS    {paper.ws_url}")
        print(f"DB    {args.db or ':memory:'}")
        for wanted, make in ((args.default_account, paper.default_account), (args.create_account, paper.create_account)):
            if wanted:
                key = await make(usdc=args.usdc)
                print(json.dumps(dataclasses.asdict(key), indent=2))
        sys.stdout.flush()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):  # not on this platform
                pass
        await stop.wait()
        print("stopping")


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(_serve(args))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
