"""Hyperliquid credentials template.

Copy this file to ``keys/pk_hyperliquid.py`` (git-ignored, never installed) and fill it in.
An mpdex ``keys/pk_hyperliquid.py`` (its own ``HyperliquidKEY`` dataclass) works unchanged.
Fields of ``HyperliquidKey`` (wrappers/hyperliquid_keys.py says exactly what each does):

    wallet_address         your master account (required; account state is read for it)
    by_agent               True: the API wallet (agent) signs; False: the wallet key signs
    agent_api_private_key  the API wallet's key (secret; required when by_agent is True)
    agent_api_address      the API wallet's address (optional; must match its key)
    wallet_private_key     the master key (secret; required only when by_agent is False)
    vault_address          trade for this sub-account or vault (optional)
    builder_code           a builder's 0x address, and builder_fee_pair its fee in tenths of
    builder_fee_pair       a basis point (e.g. {"base": 10} = 1 bp). No builder fee is ever
                           sent unless BOTH are set.
    fetch_by_ws            serve reads from the pooled socket (when use_ws is not given)
    FrontendMarket         accepted for mpdex compatibility; ignored (market orders are IOC)
    proxy                  optional http:// proxy
    network                "mainnet" or "testnet"
    rest_url, ws_url       optional host overrides (the paper exchange uses them)

``repr(HYPERLIQUID_KEY)`` shows ``'<redacted>'`` in place of both private keys.
"""
from wrappers.hyperliquid_keys import HyperliquidKey

HYPERLIQUID_KEY = HyperliquidKey(
    wallet_address="0x0000000000000000000000000000000000000000",
    wallet_private_key=None,
    agent_api_address=None,
    agent_api_private_key=None,
    by_agent=True,
    vault_address=None,
    builder_code=None,
    builder_fee_pair=None,
    fetch_by_ws=True,
    FrontendMarket=False,
    proxy=None,
    network="mainnet",
    rest_url=None,
    ws_url=None,
)
