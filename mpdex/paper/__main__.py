"""``python -m mpdex.paper``: serve one paper venue until stopped.

    python -m mpdex.paper [--venue vest] --port 8765 --db paper.sqlite3 [--create-account] [--usdc 10000]

Prints the venue's URLs (and, with ``--create-account``, a funded account's key fields as
JSON — paper keys, worthless anywhere else), then serves until Ctrl-C or SIGTERM.
``--default-account`` prints the ledger's persistent default account instead. ``--venue``
picks the dialect (``mpdex.paper.DIALECTS``); a dialect adds its own options
(``PaperVenue.add_arguments``), listed by ``--venue NAME --help``. The ``--fault-*`` options
arm ``Faults`` for the whole run (one-shot: the first N; periodic: every N-th), so a client
under test meets 429s, 5xx, slow and lost responses and dropped sockets.
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
from .faults import Faults


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
    p.add_argument("--no-replay", action="store_true",
                   help="on an existing ledger, do not replay the market for the time the venue was down")
    p.add_argument("--log-level", default="INFO")
    f = p.add_argument_group("faults (to test a client against a misbehaving exchange)")
    f.add_argument("--fault-rate-limit", type=int, default=0, metavar="N", help="the first N REST requests answer 429")
    f.add_argument("--fault-rate-limit-every", type=int, default=0, metavar="N", help="every N-th REST request answers 429")
    f.add_argument("--fault-retry-after", type=float, default=1.0, metavar="SECONDS",
                   help="Retry-After of those 429s (default 1)")
    f.add_argument("--fault-server-error", type=int, default=0, metavar="N", help="the first N REST requests answer 5xx")
    f.add_argument("--fault-server-error-every", type=int, default=0, metavar="N", help="every N-th REST request answers 5xx")
    f.add_argument("--fault-status", type=int, default=503, metavar="STATUS", help="the 5xx status (default 503)")
    f.add_argument("--fault-delay", type=float, default=0.0, metavar="SECONDS", help="hold REST requests this long")
    f.add_argument("--fault-delay-every", type=int, default=1, metavar="N",
                   help="which requests --fault-delay holds: every N-th (default 1: all)")
    f.add_argument("--fault-lose-order-responses", type=int, default=0, metavar="N",
                   help="the first N accepted orders are committed and their responses dropped")
    f.add_argument("--fault-lose-order-every", type=int, default=0, metavar="N",
                   help="every N-th accepted order is committed and its response dropped")
    f.add_argument("--fault-reject-ws", type=int, default=0, metavar="N", help="the first N socket handshakes answer 429")
    f.add_argument("--fault-drop-sockets-every", type=float, default=0.0, metavar="SECONDS",
                   help="close every open socket (1012) this often")
    if venue_cls is not None:
        venue_cls.add_arguments(p.add_argument_group(f"{venue_cls.NAME} options"))
    return p


def _parse(argv: list[str] | None) -> tuple[argparse.Namespace, Any]:
    first = argparse.ArgumentParser(add_help=False)
    first.add_argument("--venue", choices=sorted(DIALECTS), default="vest")
    known, _ = first.parse_known_args(argv)
    venue_cls = dialect(known.venue)
    return _parser(venue_cls).parse_args(argv), venue_cls


def _arm_faults(faults: Faults, args: argparse.Namespace) -> list[str]:
    """Arm what the ``--fault-*`` options ask for; returns one line per armed fault."""
    armed = []
    if args.fault_rate_limit:
        faults.rate_limit(args.fault_rate_limit, retry_after=args.fault_retry_after)
        armed.append(f"the first {args.fault_rate_limit} REST requests answer 429")
    if args.fault_rate_limit_every:
        faults.rate_limit_every(args.fault_rate_limit_every, retry_after=args.fault_retry_after)
        armed.append(f"one REST request in {args.fault_rate_limit_every} answers 429")
    if args.fault_server_error:
        faults.server_error(args.fault_server_error, status=args.fault_status)
        armed.append(f"the first {args.fault_server_error} REST requests answer {args.fault_status}")
    if args.fault_server_error_every:
        faults.server_error_every(args.fault_server_error_every, status=args.fault_status)
        armed.append(f"one REST request in {args.fault_server_error_every} answers {args.fault_status}")
    if args.fault_delay:
        faults.delay_every(args.fault_delay_every, args.fault_delay)
        armed.append(f"one REST request in {args.fault_delay_every} is held {args.fault_delay:g} s")
    if args.fault_lose_order_responses:
        faults.lose_next_order_response(args.fault_lose_order_responses)
        armed.append(f"the first {args.fault_lose_order_responses} accepted orders lose their response")
    if args.fault_lose_order_every:
        faults.lose_order_response_every(args.fault_lose_order_every)
        armed.append(f"one accepted order in {args.fault_lose_order_every} loses its response")
    if args.fault_reject_ws:
        faults.reject_ws_connects(args.fault_reject_ws, 429, args.fault_retry_after)
        armed.append(f"the first {args.fault_reject_ws} socket handshakes answer 429")
    if args.fault_drop_sockets_every:
        armed.append(f"all sockets are dropped (1012) every {args.fault_drop_sockets_every:g} s")
    return armed


async def _serve(args: argparse.Namespace, venue_cls: Any) -> None:
    options = venue_cls.options_from_args(args)
    async with venue_cls(db_path=args.db, seed=args.seed, host=args.host, port=args.port,
                         tick_interval=args.tick_interval or None,
                         drop_sockets_every=args.fault_drop_sockets_every or None, replay=not args.no_replay,
                         **options) as paper:
        armed = _arm_faults(paper.faults, args)
        for label, url in paper.urls().items():
            print(f"{label:<5} {url}")
        print(f"DB    {args.db or ':memory:'}")
        for line in armed:
            print(f"FAULT {line}")
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
    faults_ok = Faults()
    try:  # refuse bad fault options before anything starts
        _arm_faults(faults_ok, args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(_serve(args, venue_cls))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
