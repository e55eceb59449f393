"""``python -m mpdex.paper``: serve one paper venue until stopped.

    python -m mpdex.paper [--venue vest] --port 8765 --db paper.sqlite3 [--create-account] [--usdc 10000]

Prints the venue's URLs (and, with ``--create-account``, a funded account's key fields as
JSON — paper keys, worthless anywhere else), then serves until Ctrl-C or SIGTERM.
``--default-account`` prints the ledger's persistent default account instead. ``--venue``
picks the dialect (``mpdex.paper.DIALECTS``); a dialect adds its own options
(``PaperVenue.add_arguments``), listed by ``--venue NAME --help``.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from typing import Any

from . import DIALECTS, dialect


def _parser(venue_cls: Any | None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m mpdex.paper", description="Serve a paper exchange on loopback.")
    p.add_argument("--venue", choices=sorted(DIALECTS), default="vest", help="which venue's wire to speak (default vest)")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    p.add_argument("--db", default=None, help="SQLite ledger file (default: in memory, lost on exit)")
    p.add_argument("--seed", type=int, default=1, help="price model seed (default 1)")
    p.add_argument("--tick-interval", type=float, default=0.5, help="seconds between price ticks (default 0.5; 0: never)")
    p.add_argument("--create-account", action="store_true", help="create a funded account and print its key fields")
    p.add_argument("--default-account", action="store_true", help="print the persistent default account's key fields")
    p.add_argument("--usdc", default="10000", help="funding for a new account (default 10000)")
    p.add_argument("--log-level", default="INFO")
    if venue_cls is not None:
        venue_cls.add_arguments(p.add_argument_group(f"{venue_cls.NAME} options"))
    return p


def _parse(argv: list[str] | None) -> tuple[argparse.Namespace, Any]:
    first = argparse.ArgumentParser(add_help=False)
    first.add_argument("--venue", choices=sorted(DIALECTS), default="vest")
    known, _ = first.parse_known_args(argv)
    venue_cls = dialect(known.venue)
    return _parser(venue_cls).parse_args(argv), venue_cls


async def _serve(args: argparse.Namespace, venue_cls: Any) -> None:
    options = venue_cls.options_from_args(args)
    async with venue_cls(db_path=args.db, seed=args.seed, host=args.host, port=args.port,
                         tick_interval=args.tick_interval or None, **options) as paper:
        for label, url in paper.urls().items():
            print(f"{label:<5} {url}")
        print(f"DB    {args.db or ':memory:'}")
        for wanted, make in ((args.default_account, paper.default_account), (args.create_account, paper.create_account)):
            if wanted:
                key = await make(usdc=args.usdc)
                print(json.dumps(paper.account_fields(key), indent=2))
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
    args, venue_cls = _parse(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(_serve(args, venue_cls))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
