"""Hyperliquid credentials: the ``HyperliquidKey`` dataclass (mpdex's field names) and its
validation. Secrets never appear in ``repr``/``str`` or in an error; errors name the field.

What each field does here:

* ``wallet_address``       the master account (required). Account state is read for it,
                           or for ``vault_address`` when one is set (never for the agent).
* ``by_agent``             True (mpdex's default): ``agent_api_private_key`` signs every
                           action; False: ``wallet_private_key`` signs.
* ``agent_api_private_key``/``agent_api_address``  the API wallet; when both are given the
                           key's address must equal the address.
* ``wallet_private_key``   signs when ``by_agent`` is False (its address must be
                           ``wallet_address``); with an agent it is accepted, checked and
                           never used (this adapter sends no user-signed actions).
* ``vault_address``        act for this sub-account or vault: sent as ``vaultAddress``
                           (covered by the signature) and used for every account read.
* ``builder_code`` + ``builder_fee_pair``  a builder fee is attached to orders **only**
                           when both are set: ``builder_code`` is the builder's 0x address
                           (mpdex's builder nicknames are refused: no address is looked up
                           for you), ``builder_fee_pair`` the fee in tenths of a basis point
                           as mpdex writes it: ``10``, ``(limit, market)``, ``"10,20"`` or
                           ``{"base": …, "dex": …, "<dex>": …}``. A code without a fee is a
                           ``ConfigError``; a fee without a code is ignored (with a warning),
                           as mpdex ignored it. No referral or approval is ever sent.
* ``fetch_by_ws``          whether reads come from the pooled socket when the exchange's
                           ``use_ws`` option is not given.
* ``FrontendMarket``       accepted for mpdex compatibility and ignored (logged): market
                           orders are always IOC limit orders here, never the web UI's tif.
* ``proxy``                ``http(s)://`` proxy for REST (and the socket).
* ``network``              ``"mainnet"`` (default) or ``"testnet"``: picks the hosts and the
                           signature's source (``"a"``/``"b"``), also for custom URLs.
* ``rest_url``/``ws_url``  host overrides (requests go to ``rest_url + "/info"`` and
                           ``"/exchange"``); the paper exchange uses them.
"""
from __future__ import annotations

import dataclasses
import logging
import re
from dataclasses import dataclass
from typing import Any

from mpdex.config import read_fields
from mpdex.errors import ConfigError
from mpdex.evm import address_of, is_address, normalise_private_key
from mpdex.redact import dataclass_repr

__all__ = [
    "HyperliquidKey",
    "HyperliquidKEY",
    "NETWORKS",
    "REST_URLS",
    "WS_URLS",
    "MAX_BUILDER_FEE",
    "REQUIRED_FIELDS",
    "OPTIONAL_FIELDS",
    "parse_hyperliquid_key",
    "make_hyperliquid_key",
    "builder_fee_for",
]

log = logging.getLogger("mpdex.hyperliquid")

NETWORKS = ("mainnet", "testnet")
REST_URLS = {"mainnet": "https://api.hyperliquid.xyz", "testnet": "https://api.hyperliquid-testnet.xyz"}
WS_URLS = {"mainnet": "wss://api.hyperliquid.xyz/ws", "testnet": "wss://api.hyperliquid-testnet.xyz/ws"}
#: the largest perp builder fee Hyperliquid allows: 0.1 % = 100 tenths of a basis point
MAX_BUILDER_FEE = 100

_SECRETS = ("wallet_private_key", "agent_api_private_key")
_FEE_KEY = re.compile(r"^[A-Za-z0-9_]+$")
_FEE_SPLIT = re.compile(r"[\s,/|]+")


@dataclass
class HyperliquidKey:
    """Everything needed to trade one Hyperliquid account (see the module docstring)."""

    wallet_address: str
    wallet_private_key: str | None = None
    agent_api_address: str | None = None
    agent_api_private_key: str | None = None
    by_agent: bool = True
    vault_address: str | None = None
    builder_code: str | None = None
    builder_fee_pair: Any = None
    fetch_by_ws: bool = True
    FrontendMarket: bool = False
    proxy: str | None = None
    network: str = "mainnet"
    rest_url: str | None = None
    ws_url: str | None = None

    def __repr__(self) -> str:
        return dataclass_repr(self, _SECRETS)

    __str__ = __repr__

    @property
    def account_address(self) -> str:
        """The address whose state is read (lower case): the vault, else the master."""
        return (self.vault_address or self.wallet_address).lower()

    @property
    def signing_key(self) -> str:
        """The private key that signs L1 actions (the agent's, or the wallet's)."""
        key = self.agent_api_private_key if self.by_agent else self.wallet_private_key
        assert key is not None  # guaranteed by make_hyperliquid_key
        return key

    @property
    def is_mainnet(self) -> bool:
        return self.network == "mainnet"

    @property
    def base_url(self) -> str:
        return (self.rest_url or REST_URLS[self.network]).rstrip("/")

    @property
    def websocket_url(self) -> str:
        return self.ws_url or WS_URLS[self.network]


#: mpdex's class name, for key files written against mpdex
HyperliquidKEY = HyperliquidKey

REQUIRED_FIELDS = tuple(f.name for f in dataclasses.fields(HyperliquidKey) if f.default is dataclasses.MISSING)
OPTIONAL_FIELDS: dict[str, Any] = {
    f.name: f.default for f in dataclasses.fields(HyperliquidKey) if f.default is not dataclasses.MISSING
}


def parse_hyperliquid_key(source: Any) -> HyperliquidKey:
    """Read and validate a ``HyperliquidKey`` from a dataclass, a namespace or a dict."""
    return make_hyperliquid_key(**read_fields(source, REQUIRED_FIELDS, OPTIONAL_FIELDS,
                                              what="hyperliquid key_params"))


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be True or False")
    return value


def _address(value: Any, name: str) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not is_address(value):
        raise ConfigError(f"{name} must be a 0x-prefixed 20-byte hex address")
    return str(value).strip()


def _secret(value: Any, name: str) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return normalise_private_key(value, name)


def _fee(value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_BUILDER_FEE:
        raise ConfigError(f"builder_fee_pair: fees are integers of tenths of a basis point in 0..{MAX_BUILDER_FEE} "
                          "(10 = 1 bp)")
    return value


def _fee_pair(value: Any) -> tuple[int, int]:
    """``(limit_fee, market_fee)`` from ``10``, ``(10, 20)`` or ``"10,20"``; one number is both."""
    parts: list[Any]
    if isinstance(value, str):
        parts = [p for p in _FEE_SPLIT.split(value.strip()) if p]
    elif isinstance(value, (tuple, list)):
        parts = list(value)
    else:
        parts = [value]
    if not 1 <= len(parts) <= 2:
        raise ConfigError("builder_fee_pair: give one fee or a (limit, market) pair")
    limit = _fee(parts[0])
    return limit, _fee(parts[1]) if len(parts) == 2 else limit


def _fee_table(value: Any) -> dict[str, tuple[int, int]] | None:
    if value is None:
        return None
    if isinstance(value, dict):
        table = {}
        for name, pair in value.items():
            if not isinstance(name, str) or not _FEE_KEY.match(name):
                raise ConfigError("builder_fee_pair keys are 'base', 'dex' or a dex name")
            table[name] = _fee_pair(pair)
        if not table:
            raise ConfigError("builder_fee_pair is an empty mapping")
        return table
    return {"base": _fee_pair(value)}


def builder_fee_for(table: dict[str, tuple[int, int]], dex: str, is_market: bool) -> int | None:
    """The fee of one order: the dex's own entry, then ``"dex"`` (any builder dex), then
    ``"base"``; ``None`` when the table has none for it (no builder is then attached)."""
    pair = (table.get(dex) or table.get("dex")) if dex else None
    pair = pair or table.get("base")
    if pair is None:
        return None
    return pair[1] if is_market else pair[0]


def _url(value: Any, name: str, schemes: tuple[str, ...]) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or not value.strip().lower().startswith(schemes):
        raise ConfigError(f"{name} must be a {' or '.join(s.rstrip(':/') + '://' for s in schemes)} URL")
    return value.strip()


def make_hyperliquid_key(**fields: Any) -> HyperliquidKey:
    """Validate already-extracted fields into a ``HyperliquidKey``."""
    wallet = _address(fields.get("wallet_address"), "wallet_address")
    if wallet is None:
        raise ConfigError("hyperliquid key_params is missing required field 'wallet_address'")
    by_agent = _flag(True if fields.get("by_agent") is None else fields["by_agent"], "by_agent")
    wallet_key = _secret(fields.get("wallet_private_key"), "wallet_private_key")
    agent_key = _secret(fields.get("agent_api_private_key"), "agent_api_private_key")
    agent_address = _address(fields.get("agent_api_address"), "agent_api_address")
    if by_agent:
        if agent_key is None:
            raise ConfigError("by_agent is True: hyperliquid key_params needs 'agent_api_private_key'")
        if agent_address is not None and address_of(agent_key).lower() != agent_address.lower():
            raise ConfigError("agent_api_address is not the address of agent_api_private_key")
    elif wallet_key is None:
        raise ConfigError("by_agent is False: hyperliquid key_params needs 'wallet_private_key'")
    if wallet_key is not None and address_of(wallet_key).lower() != wallet.lower():
        raise ConfigError("wallet_private_key is not the key of wallet_address")
    network = str(fields.get("network") or "mainnet").strip().lower()
    if network not in NETWORKS:
        raise ConfigError(f"network must be one of {', '.join(NETWORKS)}")
    raw_builder = fields.get("builder_code")
    builder = None
    if raw_builder is not None and not (isinstance(raw_builder, str) and not raw_builder.strip()):
        if not is_address(raw_builder):
            raise ConfigError("builder_code must be the builder's 0x address (builder nicknames are not looked up)")
        builder = str(raw_builder).strip().lower()
    fees = _fee_table(fields.get("builder_fee_pair"))
    if builder is not None and fees is None:
        raise ConfigError("builder_code is set but builder_fee_pair is not: give the fee explicitly "
                          "(tenths of a basis point, e.g. {'base': 10} for 1 bp)")
    if builder is None and fees is not None:
        log.warning("hyperliquid key: builder_fee_pair without builder_code is ignored (no builder fee is sent)")
        fees = None
    frontend = _flag(False if fields.get("FrontendMarket") is None else fields["FrontendMarket"], "FrontendMarket")
    if frontend:
        log.warning("hyperliquid key: FrontendMarket is ignored; market orders are sent as IOC limit orders")
    fetch_by_ws = _flag(True if fields.get("fetch_by_ws") is None else fields["fetch_by_ws"], "fetch_by_ws")
    return HyperliquidKey(
        wallet_address=wallet,
        wallet_private_key=wallet_key,
        agent_api_address=agent_address,
        agent_api_private_key=agent_key,
        by_agent=by_agent,
        vault_address=_address(fields.get("vault_address"), "vault_address"),
        builder_code=builder,
        builder_fee_pair=fees,
        fetch_by_ws=fetch_by_ws,
        FrontendMarket=frontend,
        proxy=_url(fields.get("proxy"), "proxy", ("http://", "https://")),
        network=network,
        rest_url=_url(fields.get("rest_url"), "rest_url", ("http://", "https://")),
        ws_url=_url(fields.get("ws_url"), "ws_url", ("ws://", "wss://")),
    )
