"""The Hyperliquid dialect of the paper exchange: a strict, local Hyperliquid server (``/info``,
``/exchange``, ``/ws`` on loopback) on the venue-neutral simulator in ``mpdex.paper``.

    from mpdex.paper import PaperHyperliquid     # or: from wrappers.hyperliquid_paper import …
    async with PaperHyperliquid(db_path=None, seed=1) as paper:
        key = await paper.create_account(usdc=10_000)    # agent approved by a signed approveAgent
        paper.set_price("BTC", "97000")
        paper.faults.rate_limit(2)                         # HTTP 429, body null

It re-encodes every action canonically and verifies its signature the way the real server does
(``wrappers.hyperliquid_canonical`` / ``hyperliquid_auth``), and answers with the server's
strings and shapes (hyperliquid-api.md, hyperliquid-samples/). The decisions a client tested
here meets are in the module that makes them:

* ``auth.py`` — signer → account (agents), the network (testnet by default: the SDK signs
  testnet for a local URL; ``network="mainnet"`` verifies mainnet signatures, and the keys
  handed out name the network the server verifies), ``Must deposit``, nonces per signer and
  their consumption, the address-based request budget;
* ``exchange.py`` — the order of the whole-request checks, ``approveAgent`` (and the other
  user-signed rules), what is not modelled;
* ``trading.py`` — order checks in order, per-order errors, which refusals are recorded as
  ``…Rejected`` orders, IOC/ALO/GTC/reduce-only, cancels, leverage (cross only), the
  dead-man switch;
* ``info.py`` — every ``/info`` type served, limits and ordering of lists, agents reading
  empty state; ``wire.py`` — number formats and the object shapes; ``errors.py`` — every
  string, and the ones no source captured (INF);
* ``sockets.py`` — the ``/ws`` protocol, channels, snapshots, ``post``, idle close;
* ``store.py`` — the dialect's ledger tables; ``markets.py`` — the coins (BTC is asset 0)
  and ``meta``; ``venue.py`` — ``PaperHyperliquid``, its ``HL_RULES`` (reduce-only shrinks,
  market = IOC, failed resting orders cancelled, hourly funding on the oracle paid at each
  event, default leverage min(20, max)) and accounts.

Not modelled (refused with a clear string, never faked): vaults and sub-accounts, isolated
margin, trigger (TP/SL) orders and groupings, ``modify``/``batchModify``, builder fees and
their approval, transfers and withdrawals, spot, liquidations (``liquidationPx`` is computed),
margin tiers beyond one per coin, the IP weight budget (the shared 429 faults stand in),
the 10-a-day limit of ``scheduleCancel``, ``notification`` content. Paper orders do not rest in the synthetic book that ``l2Book``
shows, and paper accounts never trade with each other (the core's rules).
"""
from __future__ import annotations

from .venue import HL_RULES, NETWORKS, PaperHyperliquid

__all__ = ["PaperHyperliquid", "HL_RULES", "NETWORKS"]
