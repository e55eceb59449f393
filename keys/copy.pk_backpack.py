"""Backpack credentials template (mpdex's field names), for the ccxt-backed adapter.

Copy this file to ``keys/pk_backpack.py`` (git-ignored, never installed) and fill it in.
Optional for every ccxt venue: ``network`` ("mainnet"/"testnet"), ``rest_url`` (moves every
REST URL onto another host, paths kept), ``ws_url``, ``proxy``. Needs ``pip install -e ".[ccxt]"``.

Fields:
    api_key              the API key (base64 ED25519 public key)
    secret_key           the API secret (base64 ED25519 private key; secret)

``repr()`` of the key never shows the secret fields.
"""
from dataclasses import dataclass, field


@dataclass
class BackpackKEY:
    api_key: str = ""
    secret_key: str = field(default="", repr=False)
    network: str = "mainnet"
    rest_url: str | None = None
    ws_url: str | None = None
    proxy: str | None = None


BACKPACK_KEY = BackpackKEY(
    api_key="",
    secret_key="",
)
