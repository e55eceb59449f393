"""GRVT credentials template (mpdex's field names), for the ccxt-backed adapter.

Copy this file to ``keys/pk_grvt.py`` (git-ignored, never installed) and fill it in.
Optional for every ccxt venue: ``network`` ("mainnet"/"testnet"), ``rest_url`` (moves every
REST URL onto another host, paths kept), ``ws_url``, ``proxy``. Needs ``pip install -e ".[ccxt]"``.

Fields:
    api_key              GRVT API key (accepted; ccxt 4.5.90 signs in with secret_key and does not use it)
    account_id           the trading sub-account id, from the GRVT API keys page
    secret_key           the private key that signs (secret)
    use_ws               mpdex option; every read is REST here

``repr()`` of the key never shows the secret fields.
"""
from dataclasses import dataclass, field


@dataclass
class GrvtKEY:
    api_key: str = field(default="", repr=False)
    account_id: str = ""
    secret_key: str = field(default="", repr=False)
    use_ws: bool = False
    network: str = "mainnet"
    rest_url: str | None = None
    ws_url: str | None = None
    proxy: str | None = None


GRVT_KEY = GrvtKEY(
    api_key="",
    account_id="",
    secret_key="",
)
