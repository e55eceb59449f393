"""The command line of mpdex-vest: ``mpdex …`` (console script) or ``python main.py …``.

Layout: ``arguments`` (options, per-venue parser), ``session`` (paper and live sessions,
confirmation, banner), ``keys`` (keys files), ``output`` (tables, numbers, JSON, redaction),
``app`` (one run: printing and exit codes) and one module per group of commands:
``account`` (check, orders), ``trading`` (order, close, cancel, leverage), ``market``
(price, book, symbols, funding), ``register``, and ``arb`` (spread, hedge, unhedge: several
venues at once, through ``mpdex.arb``). Every venue-specific choice comes from the
venue's registry entry (``exchange_factory.VENUES``) or its exchange class's
``CAPABILITIES``.
"""
from __future__ import annotations

from .app import console, main, run

__all__ = ["main", "run", "console"]
