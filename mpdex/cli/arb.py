"""One run of an arbitrage module (``ARB_MODULES``: ``spread``, ``hedge``, ``unhedge``): open
the venues it names, print their banner, run the module, close the venues.

The venues come from ``--exchanges`` (spread) or ``--long`` / ``--short`` (hedge, unhedge)
and are opened by ``venues``; the modules themselves are ``spread`` and ``hedge``. With
``--json`` stdout carries only the document and the banner goes to stderr.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .hedge import cmd_hedge
from .output import Secrets, Write
from .progress import Activity
from .spread import cmd_spread
from .venues import banner_lines, open_venues

__all__ = ["run"]


async def run(args: argparse.Namespace, secrets: Secrets, activity: Activity, out: Write, *, root: Path | None,
              prog: str) -> int:
    """Open the venues the module names, run it, close them; returns the exit code."""
    names = list(args.exchanges) if args.module == "spread" else [args.long, args.short]

    def say(text: str) -> None:
        sys.stderr.write(secrets.redact(text) + "\n")
        sys.stderr.flush()

    async with open_venues(args, names, secrets, activity, root=root, prog=prog) as venues:
        head = banner_lines(venues)
        if head and args.json:  # stdout is the document; the banner still tells a human where
            say("\n".join(head))
            head = []
        command = cmd_spread if args.module == "spread" else cmd_hedge
        return await command(args, venues, out, say, activity, prog=prog, head=head)
