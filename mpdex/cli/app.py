"""Running one command: logging, the session, the module, what is printed and the exit code.

stdout carries only the result — aligned tables, or one JSON document with ``--json`` (a
failure too: ``{"error": {"type", "code", "message"}}``); everything else (the error line,
notes, what is being waited for, library logs) goes to stderr, redacted. Exit codes: 0
success, 1 exchange or input error, 2 usage error, 130 Ctrl-C; the arbitrage modules
(``arb``, several venues at once) add 1 unwound, 3 naked, 4 refused. A failed command is
never retried here.
"""
from __future__ import annotations

import argparse
import asyncio
import errno
import json
import logging
import os
import sys
import traceback
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from mpdex.errors import BadSymbol, MpdexError, NetworkError, OrderStateUnknown

from . import account, arb, market, register, trading
from .arguments import DEFAULT_EXCHANGE, invocation, parse_args, validate_inputs
from .modules import ARB_MODULES
from .output import RedactingFormatter, Secrets, to_jsonable
from .progress import Activity
from .session import Aborted, Context, Report, banner, open_session

__all__ = ["EXIT_OK", "EXIT_ERROR", "EXIT_USAGE", "EXIT_INTERRUPTED", "COMMANDS", "main", "run", "error_line",
           "error_document"]

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


async def _run(args: argparse.Namespace, secrets: Secrets, activity: Activity, out: Callable[[str], None], *,
               root: Path | None, prog: str) -> int:
    watcher = asyncio.ensure_future(activity.watch())
    if args.module in ARB_MODULES:  # several venues: the module opens them and prints as it goes
        try:
            return await arb.run(args, secrets, activity, out, root=root, prog=prog)
        finally:
            watcher.cancel()
    try:
        async with open_session(args, secrets, activity, root=root, prog=prog) as ctx:
            head = banner(ctx)
            if head and args.json:  # stdout is the document; the banner still tells a human where
                sys.stderr.write(secrets.redact(head) + "\n")
            with activity.step(f"waiting for {ctx.where}"):
                report = await COMMANDS[args.module](ctx)
    finally:
        watcher.cancel()
    if args.json:
        doc = {"exchange": args.exchange, "paper": ctx.paper is not None, "module": args.module}
        doc.update(to_jsonable(report.data))
        if report.failure:
            doc.update(error_document("PartialFailure", None, report.failure))
        out(json.dumps(doc, indent=2))
    else:
        out("\n".join(([head, ""] if head else []) + report.lines))
    if report.failure:
        sys.stderr.write(secrets.redact(f"error: {report.failure}") + "\n")
        return EXIT_ERROR
    return EXIT_OK


def error_document(kind: str, code: Any, message: str, **extra: Any) -> dict[str, Any]:
    """``{"error": {"type", "code", "message"}}``: what ``--json`` prints for a failure."""
    return {"error": {"type": kind, "code": code, "message": message, **extra}}


def error_line(exc: BaseException, *, where: str | None = None, symbols: str | None = None) -> str:
    """One line that says what failed and, where it can, how to fix it: an unknown coin
    points to the symbols module, a transport failure names the host."""
    if isinstance(exc, OrderStateUnknown):
        return (f"error: order state unknown (client order id {exc.client_order_id}): {exc} — "
                "do not resend; check it with --module orders / --module check")
    if isinstance(exc, Aborted):
        return "aborted: nothing was sent"
    text = " ".join((str(exc).strip() or type(exc).__name__).split())
    if isinstance(exc, BadSymbol) and symbols:
        text += f"; list the markets with `{symbols}`"
    elif isinstance(exc, NetworkError) and where and where not in text:
        text += f" (host {where})"
    elif isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        text = f"port already in use: {text}; stop the program that holds it, or choose another port"
    return f"error: {text}"


def main(argv: Sequence[str] | None = None, *, root: Path | None = None, prog: str = "mpdex") -> int:
    """Run one command; ``root`` is where ``keys/`` lives (default: the current directory)."""
    args = parse_args(argv, prog=prog)
    secrets = Secrets()
    setup_logging(args, secrets)

    def out(text: str) -> None:
        sys.stdout.write(secrets.redact(text) + "\n")
        sys.stdout.flush()

    def say(text: str) -> None:
        sys.stderr.write(secrets.redact(text) + "\n")
        sys.stderr.flush()

    activity = Activity(say)
    run = invocation(prog)
    exchange = "" if args.exchange == DEFAULT_EXCHANGE else f" --exchange {args.exchange}"
    paper = f" --paper-url {args.paper_url}" if args.paper_url else " --paper" if args.paper else ""
    # the arbitrage modules name the venue of an unknown coin themselves
    symbols = None if args.module in ARB_MODULES else f"{run}{exchange}{paper} --module symbols"

    def fail(exc: BaseException, line: str, code: int) -> int:
        if args.debug:
            sys.stderr.write(secrets.redact("".join(traceback.format_exception(exc))))
        if args.json:
            code_of = exc.code if isinstance(exc, MpdexError) else None
            extra = {"client_order_id": exc.client_order_id} if isinstance(exc, OrderStateUnknown) else {}
            out(json.dumps(error_document(type(exc).__name__, code_of, line.removeprefix("error: "), **extra),
                           indent=2))
        say(line)
        return code

    try:
        validate_inputs(args)
        return asyncio.run(_run(args, secrets, activity, out, root=root, prog=prog))
    except KeyboardInterrupt:
        newline = "\n" if sys.stdin and sys.stdin.isatty() else ""  # end the prompt or ^C line first
        if activity.sending:
            line = (f"interrupted while {activity.sending}: it may have reached the exchange; "
                    "check with --module orders / --module check")
        else:
            line = "interrupted: nothing was sent"
        if args.json:
            out(json.dumps(error_document("Interrupted", None, line), indent=2))
        sys.stderr.write(f"{newline}{line}\n")
        return EXIT_INTERRUPTED
    except (MpdexError, Aborted) as exc:
        return fail(exc, error_line(exc, where=activity.where, symbols=symbols), EXIT_ERROR)
    except BrokenPipeError:  # stdout went away (e.g. piped into head): say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR
    except OSError as exc:
        return fail(exc, error_line(exc, where=activity.where), EXIT_ERROR)
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
