"""Running one command: logging, the session, the module, what is printed and the exit code.

stdout carries only the result — aligned tables, or one JSON document with ``--json``;
everything else (the error line, library logs) goes to stderr, redacted. Exit codes: 0
success, 1 exchange or input error, 2 usage error, 130 Ctrl-C. A failed command is never
retried here.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import traceback
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from mpdex.errors import MpdexError, OrderStateUnknown

from . import account, market, register, trading
from .arguments import parse_args, validate_inputs
from .output import RedactingFormatter, Secrets, to_jsonable
from .session import Aborted, Context, Progress, Report, banner, open_session

__all__ = ["EXIT_OK", "EXIT_ERROR", "EXIT_USAGE", "EXIT_INTERRUPTED", "COMMANDS", "main", "run", "error_line"]

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

COMMANDS: dict[str, Callable[[Context], Awaitable[Report]]] = {
    "check": account.cmd_check,
    "order": trading.cmd_order,
    "close": trading.cmd_close,
    "price": market.cmd_price,
    "book": market.cmd_book,
    "orders": account.cmd_orders,
    "cancel": trading.cmd_cancel,
    "leverage": trading.cmd_leverage,
    "symbols": market.cmd_symbols,
    "funding": market.cmd_funding,
    "register": register.cmd_register,
}


def setup_logging(args: argparse.Namespace, secrets: Secrets) -> None:
    # By default only the result and one ``error:`` line reach the user; the library's
    # warnings (an order refusal, a retried read) repeat that line or are noise here.
    level = logging.DEBUG if args.debug else logging.INFO if args.verbose else logging.ERROR
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s", secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    if not args.debug:  # the paper server's access log is noise below --debug
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


async def _run(args: argparse.Namespace, secrets: Secrets, progress: Progress, out: Callable[[str], None], *,
               root: Path | None, prog: str) -> int:
    async with open_session(args, secrets, progress, root=root, prog=prog) as ctx:
        head = banner(ctx)
        if head and args.json and ctx.paper is not None:
            sys.stderr.write(secrets.redact(head) + "\n")
        report = await COMMANDS[args.module](ctx)
    if args.json:
        doc = {"exchange": args.exchange, "paper": ctx.paper is not None, "module": args.module}
        doc.update(to_jsonable(report.data))
        if report.failure:
            doc["error"] = report.failure
        out(json.dumps(doc, indent=2))
    else:
        out("\n".join(([head, ""] if head else []) + report.lines))
    if report.failure:
        sys.stderr.write(secrets.redact(f"error: {report.failure}") + "\n")
        return EXIT_ERROR
    return EXIT_OK


def error_line(exc: BaseException) -> str:
    if isinstance(exc, OrderStateUnknown):
        return (f"error: order state unknown (client order id {exc.client_order_id}): {exc} — "
                "do not resend; check it with --module orders / --module check")
    if isinstance(exc, Aborted):
        return "aborted: nothing was sent"
    text = str(exc).strip() or type(exc).__name__
    return f"error: {' '.join(text.split())}"


def main(argv: Sequence[str] | None = None, *, root: Path | None = None, prog: str = "mpdex") -> int:
    """Run one command; ``root`` is where ``keys/`` lives (default: the current directory)."""
    args = parse_args(argv, prog=prog)
    secrets = Secrets()
    progress = Progress()
    setup_logging(args, secrets)

    def out(text: str) -> None:
        sys.stdout.write(secrets.redact(text) + "\n")
        sys.stdout.flush()

    def fail(exc: BaseException, line: str, code: int) -> int:
        if args.debug:
            sys.stderr.write(secrets.redact("".join(traceback.format_exception(exc))))
        sys.stderr.write(secrets.redact(line) + "\n")
        return code

    try:
        validate_inputs(args)
        return asyncio.run(_run(args, secrets, progress, out, root=root, prog=prog))
    except KeyboardInterrupt:
        newline = "\n" if sys.stdin and sys.stdin.isatty() else ""  # end the prompt or ^C line first
        if progress.sending:
            sys.stderr.write(f"{newline}interrupted while {progress.sending}: it may have reached the exchange; "
                             "check with --module orders / --module check\n")
        else:
            sys.stderr.write(f"{newline}interrupted: nothing was sent\n")
        return EXIT_INTERRUPTED
    except (MpdexError, Aborted) as exc:
        return fail(exc, error_line(exc), EXIT_ERROR)
    except BrokenPipeError:  # stdout went away (e.g. piped into head): say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR
    except Exception as exc:  # a bug or an unwrapped library error: still one line
        return fail(exc, f"error: unexpected {type(exc).__name__}: {exc} (run with --debug for details)", EXIT_ERROR)


def run(argv: Sequence[str] | None = None, *, root: Path | None = None, prog: str = "mpdex") -> int:
    """The console script ``mpdex`` (and ``python main.py``): ``main`` plus a Ctrl-C that
    arrives before the event loop started (while parsing or setting up logging)."""
    try:
        return main(argv, root=root, prog=prog)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return EXIT_INTERRUPTED


def console() -> None:
    """Entry point of the ``mpdex`` console script."""
    sys.exit(run())
