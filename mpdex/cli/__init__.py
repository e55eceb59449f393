"""The command line of mpdex-vest: ``mpdex …`` (console script) or ``python main.py …``.

Layout: ``modules`` (the modules and options tables, help texts, exit-code meanings),
``arguments`` (the per-venue parser and its cross-checks), ``session`` (paper and live
sessions, confirmation, banner), ``keys`` (keys files), ``output`` (tables, numbers, JSON,
redaction), ``progress`` (what is being waited for), ``app`` (one run: printing and exit
codes) and one module per group of commands: ``account`` (check, orders), ``trading``
(order, close, cancel, leverage), ``market`` (price, book, symbols, funding), ``register``,
and the arbitrage modules, several venues at once through ``mpdex.arb``: ``arb`` (one run:
open the venues, dispatch), ``venues`` (opening and naming them), ``spread``, ``hedge``
(hedge, unhedge). Every venue-specific choice comes from the venue's registry entry
(``exchange_factory.VENUES``) or its exchange class's ``CAPABILITIES``.
"""
from __future__ import annotations

from .app import console, main, run

__all__ = ["main", "run", "console"]
