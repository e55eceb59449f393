"""Extended credentials template (mpdex's field names), for the ccxt-backed adapter.

Copy this file to ``keys/pk_extended.py`` (git-ignored, never installed) and fill it in.
Optional for every ccxt venue: ``network`` ("mainnet"/"testnet"), ``rest_url`` (moves every
REST URL onto another host, paths kept), ``ws_url``, ``proxy``. Needs ``pip install -e ".[ccxt]"``.

Fields:
    api_key              the API key (secret)
    stark_public_key     the account's Stark public key (l2Key)
    stark_private_key    the Stark private key that signs orders (secret)
    vault_id             the account's vault (l2Vault)
    network              "mainnet" or "testnet"
    prefer_ws            mpdex option; every read is REST here

``repr()`` of the key never shows the secret fields.
"""
from dataclasses import dataclass, field


@dataclass
class ExtendedKEY:
    api_key: str = field(default="", repr=False)
    stark_public_key: str = ""
    stark_private_key: str = field(default="", repr=False)
    vault_id: str = ""
    network: str = "mainnet"
    prefer_ws: bool = False
    rest_url: str | None = None
    ws_url: str | None = None
    proxy: str | None = None


EXTENDED_KEY = ExtendedKEY(
    api_key="",
    stark_public_key="",
    stark_private_key="",
    vault_id="",
)
