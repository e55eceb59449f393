"""Vest credentials template.

Copy this file to ``keys/pk_vest.py`` (git-ignored, never installed) and fill it in, or
let ``python main.py --module register`` write it for you. Fields of ``VestKey``:

    api_key              from /register (secret; never printed)
    signing_private_key  the delegate key that signs orders (secret; never printed)
    primary_address      the wallet that holds your USDC
    account_group        ``accGroup`` from /register (default 0)
    network              "prod" or "dev"
    rest_url, ws_url     optional host overrides
    proxy                optional http:// CONNECT proxy

``repr(VEST_KEY)`` shows ``'<redacted>'`` in place of both secrets.
"""
from wrappers.vest_keys import VestKey

VEST_KEY = VestKey(
    api_key="",
    signing_private_key="",
    primary_address="0x0000000000000000000000000000000000000000",
    account_group=0,
    network="prod",
    rest_url=None,
    ws_url=None,
    proxy=None,
)
