"""Vest registration: create (or bring) a delegate signing key and register it for a wallet.

The wallet's primary key signs one EIP-712 ``SignerProof(signing address, expiry)`` under the
network's domain (``wrappers.vest_auth.build_register_body``) and is not kept; ``POST
/register`` answers the API key and account group. The POST is sent once, never retried (a
retry after a lost answer could create a second API key).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from coincurve import PrivateKey

from mpdex.clock import now_ms
from mpdex.errors import ConfigError, ExchangeError
from mpdex.evm import normalise_private_key
from mpdex.redact import short_address

from .vest_auth import address_of, build_register_body, to_checksum_address
from .vest_keys import NETWORKS, VestKey, make_vest_key
from .vest_rest import VestRestClient

__all__ = ["register"]

log = logging.getLogger("mpdex.vest")


async def register(
    primary_private_key: str,
    *,
    network: str = "prod",
    expiry_days: float = 7,
    signing_private_key: str | None = None,
    rest_url: str | None = None,
    proxy: str | None = None,
    clock_ms: Callable[[], int] = now_ms,
    **rest_options: Any,
) -> VestKey:
    """Register a signing key for the wallet of ``primary_private_key`` and return the
    ``VestKey`` (``api_key``, ``account_group`` from Vest).

    A fresh signing key is generated when none is given. ``expiry_days`` (0 < days ≤ 365)
    sets the signer's expiry.
    """
    net = str(network).strip().lower()
    if net not in NETWORKS:
        raise ConfigError(f"network must be one of {', '.join(NETWORKS)}")
    if isinstance(expiry_days, bool) or not isinstance(expiry_days, (int, float, Decimal)) \
            or not 0 < expiry_days <= 365:
        raise ConfigError("expiry_days must be a number of days in (0, 365]")
    primary = normalise_private_key(primary_private_key, "primary_private_key")
    if signing_private_key is None:
        signing = "0x" + PrivateKey().secret.hex()
    else:
        signing = normalise_private_key(signing_private_key, "signing_private_key")
    primary_address = address_of(primary)
    signing_address = address_of(signing)
    expiry_ms = clock_ms() + int(Decimal(str(expiry_days)) * 86_400_000)
    body = build_register_body(primary, signing_address, expiry_ms, net)
    rest = VestRestClient(None, network=net, rest_url=rest_url, proxy=proxy, clock_ms=clock_ms, **rest_options)
    try:
        answer = await rest.register(body)
    finally:
        await rest.close()
    api_key = answer.get("apiKey") if isinstance(answer, dict) else None
    group = answer.get("accGroup", 0) if isinstance(answer, dict) else None
    if not isinstance(api_key, str) or not api_key or isinstance(group, bool) or not isinstance(group, int):
        raise ExchangeError("POST /register answered without apiKey/accGroup",
                            raw={k: v for k, v in (answer or {}).items() if k != "apiKey"}
                            if isinstance(answer, dict) else answer)
    log.info("vest register %s: signer %s, group %d, expires %d (network=%s)", short_address(primary_address),
             short_address(signing_address), group, expiry_ms, net)
    return make_vest_key(api_key=api_key, signing_private_key=signing, primary_address=to_checksum_address(
        primary_address), account_group=group, network=net, rest_url=rest_url, ws_url=None, proxy=proxy)
