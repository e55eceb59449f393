"""Vest credentials: the ``VestKey`` dataclass and its validation.

Secrets (``api_key``, ``signing_private_key``) never appear in ``repr``/``str`` or in
any error message; validation names the field, never its value.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from mpdex.config import read_fields
from mpdex.errors import ConfigError
from mpdex.evm import normalise_private_key
from mpdex.redact import redact_url

NETWORKS = ("prod", "dev")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")

_SECRETS = ("api_key", "signing_private_key")


@dataclass
class VestKey:
    """Everything needed to trade one Vest account.

    ``api_key`` and ``accGroup`` come from ``/register``; ``signing_private_key`` is the
    delegate key that signs orders (not the wallet's key); ``primary_address`` is the
    wallet holding the balance. ``rest_url`` / ``ws_url`` override the network's hosts
    (the paper exchange uses them); ``proxy`` is an ``http://`` CONNECT proxy.
    """

    api_key: str
    signing_private_key: str
    primary_address: str
    account_group: int = 0
    network: str = "prod"
    rest_url: str | None = None
    ws_url: str | None = None
    proxy: str | None = None

    def __repr__(self) -> str:
        shown = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in _SECRETS:
                shown.append(f"{f.name}='<redacted>'" if value else f"{f.name}=None")
            elif f.name == "proxy" and value:
                shown.append(f"{f.name}={redact_url(str(value))!r}")
            else:
                shown.append(f"{f.name}={value!r}")
        return f"VestKey({', '.join(shown)})"

    __str__ = __repr__


#: the key fields, read off the dataclass (the registry entry lists the same; a test holds them equal)
REQUIRED_FIELDS = tuple(f.name for f in dataclasses.fields(VestKey) if f.default is dataclasses.MISSING)
OPTIONAL_FIELDS: dict[str, Any] = {
    f.name: f.default for f in dataclasses.fields(VestKey) if f.default is not dataclasses.MISSING
}


def parse_vest_key(source: Any) -> VestKey:
    """Read and validate a ``VestKey`` from a dataclass, a namespace or a dict."""
    fields = read_fields(source, REQUIRED_FIELDS, OPTIONAL_FIELDS, what="vest key_params")
    return make_vest_key(**fields)


def make_vest_key(**fields: Any) -> VestKey:
    """Validate already-extracted fields into a ``VestKey``."""
    key = normalise_private_key(fields["signing_private_key"], "signing_private_key")
    address = str(fields["primary_address"]).strip()
    if not _ADDRESS.match(address):
        raise ConfigError("primary_address must be a 0x-prefixed 20-byte hex address")
    raw_group = fields.get("account_group", 0)
    if isinstance(raw_group, str) and re.fullmatch(r"[0-9]+", raw_group.strip()):
        group = int(raw_group.strip())
    elif isinstance(raw_group, int) and not isinstance(raw_group, bool) and raw_group >= 0:
        group = raw_group
    else:  # 1.5, "abc", True, -1: never truncated or guessed
        raise ConfigError("account_group must be a non-negative integer")
    network = str(fields.get("network") or "prod").strip().lower()
    if network not in NETWORKS:
        raise ConfigError(f"network must be one of {', '.join(NETWORKS)}")
    for url_field, schemes in (("rest_url", ("http://", "https://")), ("ws_url", ("ws://", "wss://")),
                               ("proxy", ("http://", "https://"))):
        value = fields.get(url_field)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{url_field} must be a string URL")
        if value and not value.strip().lower().startswith(schemes):
            raise ConfigError(f"{url_field} must be a {' or '.join(s.rstrip(':/') + '://' for s in schemes)} URL")
    api_key = str(fields["api_key"]).strip()
    if not api_key:
        raise ConfigError("vest key_params is missing required field 'api_key'")
    return VestKey(
        api_key=api_key,
        signing_private_key=key,
        primary_address=address,
        account_group=group,
        network=network,
        rest_url=fields.get("rest_url") or None,
        ws_url=fields.get("ws_url") or None,
        proxy=fields.get("proxy") or None,
    )
