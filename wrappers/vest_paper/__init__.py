"""The Vest dialect of the paper exchange: a strict, local Vest v2 server (REST + WebSocket on
loopback) on the venue-neutral simulator in ``mpdex.paper``.

    from mpdex.paper import PaperVest          # or: from wrappers.vest_paper import PaperVest
    async with PaperVest(db_path=None, seed=1) as paper:
        key = await paper.create_account(usdc=10_000)     # a wrappers.vest_keys.VestKey
        paper.set_price("BTC-PERP", "97000.5")
        paper.faults.rate_limit(2, retry_after=0.1)

It speaks the wire format of ``vest-api.md`` and is as strict as the real server. Where the
Vest docs are silent, the decisions a client tested here meets are in the module that makes
them:

* ``auth.py`` — ``/register`` (SignerProof per network, ``networkType`` 0, expiry), API keys,
  1022 for foreign/expired signers (reads keep working), ``recvWindow`` (1131/1132);
* ``routes.py`` — the ``xrestservermm`` / ``X-API-KEY`` header rules (a missing group header
  is accepted, a wrong one is 1146), query parsing, 404s;
* ``errors.py`` — which refusal gets which of Vest's three error-body styles, and why;
* ``trading.py`` — order, cancel and leverage checks and their codes, in order; nonces
  (unique per account, orders and cancels share them, need not increase);
* ``listen_keys.py`` / ``sockets.py`` — listen keys, socket handshake and close codes,
  channels and ``account_private`` ORDER events;
* ``wire.py`` — the JSON shapes and number formats (``locked`` = position margin + reserved
  order margin; ``withdrawable`` = min(balance, account value) − both);
* ``store.py`` — the Vest tables in the ledger; accounts get ``accGroup = sequence % 3``, so
  the first account is in group 1 and a client that hard-codes ``restserver0`` fails at once;
* ``markets.py`` — the market table (the exchangeInfo sample's values), ``takerFee`` on
  every fill;
* ``venue.py`` — ``PaperVest`` and its ``VEST_RULES``: reduce-only larger than the position
  refused (3019), MARKET orders fill completely within ``limitPrice`` or are refused (3001),
  a resting order that would breach a rule when it fills becomes REJECTED (3018/3019/3002),
  default leverage min(10, max), funding hourly on the mark, accrued in ``unrealizedPnl``
  and settled into the balance on the position's next fill (``settledFunding`` on the order,
  ``cumFunding`` on its events).

What every venue shares — matching against the synthetic book, margin and PnL, funding,
the SQLite ledger, the seedable price model, faults, the server harness — is documented in
``mpdex.paper`` and its modules. Not modelled: LP, transfers/withdrawals, TP/SL,
liquidations (``liqPrice`` is computed: cross margin, other positions held still), maker
fees.
"""
from __future__ import annotations

from .venue import VEST_RULES, PaperVest

__all__ = ["PaperVest", "VEST_RULES"]
