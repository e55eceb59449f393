"""Paradex credentials template (mpdex's field names), for the ccxt-backed adapter.

Copy this file to ``keys/pk_paradex.py`` (git-ignored, never installed) and fill it in.
Optional for every ccxt venue: ``network`` ("mainnet"/"testnet"), ``rest_url`` (moves every
REST URL onto another host, paths kept), ``ws_url``, ``proxy``. Needs ``pip install -e ".[ccxt]"``.

Fields:
    wallet_address       the Ethereum (L1) address of the account
    paradex_address      the Paradex (Starknet) account address, from the Paradex UI
    paradex_private_key  the Paradex (Starknet) account private key, from the Paradex UI (secret)

``repr()`` of the key never shows the secret fields.
"""
from dataclasses import dataclass, field


@dataclass
class ParadexKEY:
    wallet_address: str = ""
    paradex_address: str = ""
    paradex_private_key: str = field(default="", repr=False)
    network: str = "mainnet"
    rest_url: str | None = None
    ws_url: str | None = None
    proxy: str | None = None


PARADEX_KEY = ParadexKEY(
    wallet_address="",
    paradex_address="",
    paradex_private_key="",
)
