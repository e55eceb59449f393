"""Lighter credentials template (mpdex's field names), for the ccxt-backed adapter.

Copy this file to ``keys/pk_lighter.py`` (git-ignored, never installed) and fill it in.
Optional for every ccxt venue: ``network`` ("mainnet"/"testnet"), ``rest_url`` (moves every
REST URL onto another host, paths kept), ``ws_url``, ``proxy``. Needs ``pip install -e ".[ccxt]"``.

Fields:
    account_id           the account index
    private_key          the API key's private key (secret)
    api_key_id           the API key index (4..254 for ccxt)
    l1_address           the Ethereum (L1) address (optional)
    signer_library       path of Lighter's native signer library built for ccxt 4.5.90 (required)

``repr()`` of the key never shows the secret fields.
"""
from dataclasses import dataclass, field


@dataclass
class LighterKEY:
    account_id: int = 0
    private_key: str = field(default="", repr=False)
    api_key_id: int = 4
    l1_address: str = ""
    signer_library: str = ""
    network: str = "mainnet"
    rest_url: str | None = None
    ws_url: str | None = None
    proxy: str | None = None


LIGHTER_KEY = LighterKEY(
    account_id=0,
    private_key="",
    api_key_id=4,
    l1_address="",
    signer_library="",
)
