"""Pacifica credentials template (mpdex's field names), for the ccxt-backed adapter.

Copy this file to ``keys/pk_pacifica.py`` (git-ignored, never installed) and fill it in.
Optional for every ccxt venue: ``network`` ("mainnet"/"testnet"), ``rest_url`` (moves every
REST URL onto another host, paths kept), ``ws_url``, ``proxy``. Needs ``pip install -e ".[ccxt]"``.

Fields:
    public_key           the main account's Solana address
    agent_public_key     the agent wallet's address
    agent_private_key    the agent wallet's base58 private key (secret)

``repr()`` of the key never shows the secret fields.
"""
from dataclasses import dataclass, field


@dataclass
class PacificaKEY:
    public_key: str = ""
    agent_public_key: str = ""
    agent_private_key: str = field(default="", repr=False)
    network: str = "mainnet"
    rest_url: str | None = None
    ws_url: str | None = None
    proxy: str | None = None


PACIFICA_KEY = PacificaKEY(
    public_key="",
    agent_public_key="",
    agent_private_key="",
)
