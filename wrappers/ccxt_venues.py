"""One declarative entry per venue reached through ccxt (``wrappers.ccxt_perp``).

An entry says: the ccxt id; how mpdex's key field names map onto ccxt's credentials
(``apiKey``, ``secret``, ``privateKey``, ``walletAddress``, ``uid``) or options
(``options.<path>``); how the native symbol is read from a ccxt market (the other
direction goes through the loaded markets); the venue's client-order-id format and how an
order is found by it; and the safety overrides that turn off what ccxt does by default for
its own account (builder fees, referrer codes, partner headers, builder approvals).

Nothing here imports ccxt: the registry reads these entries without paying for it.
Decisions:

* market orders go out as IOC limit orders at the slippage cap on every venue, so the cap
  is enforced by the matching engine and the bytes are the same shape everywhere;
* a client order id is always ours (``new_client_id`` or the caller's, checked against the
  venue's format), never ccxt's generated default, so a lost answer can be reconciled;
* a venue whose ccxt code cannot tell its funding interval gets no per-hour figure: the
  adapter refuses instead of assuming one;
* a read is served from ccxt.pro's sockets only where the entry lists it in ``ws_reads``
  (checked against that venue's frames), every other read is REST.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from mpdex.errors import ConfigError, NotSupported

__all__ = ["ClientIdRule", "CcxtVenue", "CCXT_VENUES", "ccxt_venue", "SAFETY_MARKERS"]

#: strings that must never appear in a request unless the user opted into builder fees
SAFETY_MARKERS = ("builder", "setReferrer", "approveBuilderFee", "PARADEX-PARTNER", "integrator", "CCXT1")


@dataclass(frozen=True)
class ClientIdRule:
    """The venue's client order id: ``uint`` (decimal digits in 1..maximum), ``uuid``
    (a UUID string), ``hex128`` (``0x`` + 32 hex digits, Hyperliquid's cloid)."""

    kind: Literal["uint", "uuid", "hex128"]
    maximum: int = 0
    #: the ccxt order param that carries it (ccxt's unified name unless the venue differs)
    param: str = "clientOrderId"
    #: send it as an int (Backpack's ``clientId`` is a uint32 in ccxt's signature path)
    as_int: bool = False


KeyRule = Callable[[Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class CcxtVenue:
    name: str  # the registry name this entry serves ("paradex", "ccxt:hyperliquid")
    ccxt_id: str
    #: mpdex key field -> ccxt credential attribute or ``options.<path>``
    credentials: Mapping[str, str]
    client_id: ClientIdRule
    #: how an order is found by client order id: ``fetch_order`` (ccxt's fetchOrder with the
    #: client id param) or ``scan`` (open orders, then closed/all orders, filtered)
    lookup: Literal["fetch_order", "scan"]
    #: native symbol of a ccxt market: ``id``, ``baseName`` or ``info:<field>``
    native: str = "id"
    collateral: str = "USDC"
    #: ccxt options forced for safety (and venue needs) unless overridden by the user
    options: Mapping[str, Any] = field(default_factory=dict)
    #: params for ccxt's ``load_markets`` (load the perpetuals only where ccxt can be told)
    market_params: Mapping[str, Any] = field(default_factory=dict)
    #: collateral from a venue endpoint ccxt's ``fetch_balance`` does not read: ccxt's implicit
    #: ``method`` (after ``auth``, when given) and the fields of ``available``/``total``/``margin_used``
    #: (under ``root`` when the answer wraps them)
    account_summary: Mapping[str, str] = field(default_factory=dict)
    #: the venue's own read of the account's leverage on one market, where ccxt has no
    #: ``fetchLeverage``: ccxt's implicit API ``method`` called with ``request`` (``{native}`` and
    #: ``{walletAddress}`` filled in) and the dotted paths of ``leverage`` / ``margin_mode`` in its answer
    leverage_read: Mapping[str, Any] = field(default_factory=dict)
    #: the field of a fill's ``info`` holding the venue's realised PnL (fees excluded), for an
    #: order's ``realized_pnl``: ccxt's trade structure has none
    fill_pnl: str = ""
    #: venue error codes that mean "no such order" on a lookup (ccxt maps them to something else)
    not_found_codes: tuple[str, ...] = ()
    #: ccxt methods that approve builders or set referrers: replaced by no-ops
    disabled_methods: tuple[str, ...] = ()
    #: request headers ccxt adds for its own attribution: removed before sending
    strip_headers: tuple[str, ...] = ()
    #: time in force a limit order may carry (canonical names; first = default)
    limit_tifs: tuple[str, ...] = ("GTC", "IOC", "ALO")
    #: canonical time in force -> the value ccxt must be given for this venue (default: the same)
    tif_names: Mapping[str, str] = field(default_factory=dict)
    #: ``tick`` (ccxt's precision) or ``sig5`` (Hyperliquid: 5 significant figures and at
    #: most ``6 - szDecimals`` places)
    price_grid: Literal["tick", "sig5"] = "tick"
    #: network name -> sandbox mode (ccxt's test URLs)
    networks: Mapping[str, bool] = field(default_factory=lambda: {"mainnet": False, "testnet": True})
    #: fields that must be given for this venue to work, with the reason (Lighter's signer)
    requires: Mapping[str, str] = field(default_factory=dict)
    #: computes credentials that depend on several fields (Hyperliquid's agent key)
    key_rule: KeyRule | None = None
    #: our limiter's default (requests per second, burst) for this venue's account
    rate_limit: tuple[float, float] = (10.0, 10.0)
    #: contract reads served socket-first from ccxt.pro's ``watch*`` on this venue
    #: (``get_orderbook`` from ``watchOrderBook``, ``get_mark_price`` from ``watchTicker``),
    #: each one checked against the venue's own frames; the others stay REST
    ws_reads: tuple[str, ...] = ()
    #: where the venue's mark is in ccxt.pro's watched ticker: ``markPrice`` or ``info:<field>``
    #: (never a last trade or a mid)
    ws_mark: str = "markPrice"
    #: what the adapter knows is missing or unverified for this venue
    notes: str = ""


def _hyperliquid_keys(fields: Mapping[str, Any]) -> dict[str, Any]:
    """mpdex's Hyperliquid keys: an agent key signs when ``by_agent``, else the wallet key."""
    out: dict[str, Any] = {}
    if fields.get("by_agent"):
        key = fields.get("agent_api_private_key")
        if not key:
            raise ConfigError("ccxt:hyperliquid key_params: by_agent needs 'agent_api_private_key'")
    else:
        key = fields.get("wallet_private_key")
        if not key:
            raise ConfigError("ccxt:hyperliquid key_params is missing required field 'wallet_private_key' "
                              "(or set by_agent with 'agent_api_private_key')")
    out["privateKey"] = key
    if fields.get("vault_address"):
        out["options.vaultAddress"] = fields["vault_address"]
    return out


def _lighter_keys(fields: Mapping[str, Any]) -> dict[str, Any]:
    """mpdex's Lighter keys: ``private_key`` is the API key's private key. ccxt keeps it per
    (account, api key index) in ``options.auths``; ccxt's ``privateKey`` (the L1 key) is
    never set, so ccxt cannot register a new API key on the account by itself."""
    library = fields.get("signer_library")
    if not isinstance(library, str) or not os.path.isfile(library):
        raise ConfigError("lighter key_params: 'signer_library' must be the path of an existing file (Lighter's "
                          "native signer library for ccxt 4.5.90)")
    values: dict[str, int] = {}
    for name in ("account_id", "api_key_id"):
        value = fields.get(name)
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"lighter key_params: '{name}' must be a non-negative integer")
        values[name] = value
    if not 4 <= values["api_key_id"] <= 254:
        raise ConfigError("lighter key_params: 'api_key_id' must be in 4..254 (ccxt 4.5.90 silently replaces any "
                          "other index by 254)")
    account, index = str(values["account_id"]), str(values["api_key_id"])
    auth = {"signer": None, "lighterPrivateKey": fields.get("private_key"), "deadline": None, "token": None}
    return {"options.accountIndex": values["account_id"], "options.apiKeyIndex": values["api_key_id"],
            "options.auths": {account: {index: auth}}}


_NO_BUILDER = {"builderFee": False}

_ENTRIES = (
    CcxtVenue(
        name="paradex", ccxt_id="paradex",
        credentials={"wallet_address": "walletAddress", "paradex_address": "options.paradexAccount.address",
                     "paradex_private_key": "options.paradexAccount.privateKey"},
        client_id=ClientIdRule("uint", maximum=2**63 - 1),
        lookup="fetch_order", native="id",
        account_summary={"auth": "authenticate_rest", "method": "privateGetAccount", "available": "free_collateral",
                         "total": "account_value", "margin_used": "initial_margin_requirement"},
        strip_headers=("PARADEX-PARTNER",), not_found_codes=("CLIENT_ORDER_ID_NOT_FOUND", "ORDER_ID_NOT_FOUND"),
        notes="orders signed with the Paradex (Starknet) account key from the UI; onboarding is not done here",
    ),
    CcxtVenue(
        name="backpack", ccxt_id="backpack",
        credentials={"api_key": "apiKey", "secret_key": "secret"},
        client_id=ClientIdRule("uint", maximum=2**32 - 1, as_int=True),
        lookup="scan", native="id", market_params={"marketType": "swap"},
        limit_tifs=("GTC", "IOC", "FOK", "ALO"),
        networks={"mainnet": False},
        notes="no lookup by client id in ccxt: open orders and order history are scanned for it",
    ),
    CcxtVenue(
        name="grvt", ccxt_id="grvt",
        credentials={"secret_key": "privateKey", "account_id": "options.accountId"},
        client_id=ClientIdRule("uint", maximum=2**63 - 1),
        lookup="fetch_order", native="id", collateral="USDT",
        options={**_NO_BUILDER, "approvedBuilderFee": False},
        limit_tifs=("GTC", "IOC", "FOK", "ALO"),
        networks={"mainnet": False},
        notes="ccxt signs in with the private key (wallet login); mpdex's api_key is accepted and unused",
    ),
    CcxtVenue(
        name="extended", ccxt_id="extended",
        credentials={"api_key": "apiKey", "stark_private_key": "privateKey",
                     "stark_public_key": "options.account.l2Key", "vault_id": "options.account.l2Vault"},
        client_id=ClientIdRule("uuid"),
        lookup="fetch_order", native="id",
        options=dict(_NO_BUILDER),
        account_summary={"method": "v1PrivateGetUserBalance", "root": "data", "available": "availableForTrade",
                         "total": "equity", "margin_used": "initialMargin"},
        limit_tifs=("GTC", "IOC", "ALO"), tif_names={"GTC": "GTT"},
        notes="ccxt 4.5.90 has no funding-rate read for Extended",
    ),
    CcxtVenue(
        name="pacifica", ccxt_id="pacifica",
        credentials={"public_key": "walletAddress", "agent_public_key": "options.agentAddress",
                     "agent_private_key": "privateKey"},
        client_id=ClientIdRule("uuid"),
        lookup="scan", native="id",
        options=dict(_NO_BUILDER),
        disabled_methods=("handle_builder_fee_approval", "approve_builder_code"),
        # ``book`` snapshots; the ticker is the all-markets ``prices`` broadcast: marks stay REST
        ws_reads=("get_orderbook",),
        notes="ccxt reads orders by exchange id only: open orders and history are scanned for the client id",
    ),
    CcxtVenue(
        name="ccxt:hyperliquid", ccxt_id="hyperliquid",
        credentials={"wallet_address": "walletAddress"},
        key_rule=_hyperliquid_keys,
        client_id=ClientIdRule("hex128"),
        lookup="fetch_order", native="baseName",
        options={**_NO_BUILDER, "approvedBuilderFee": False, "refSet": True, "defaultSlippage": 0,
                 "fetchMarkets": {"types": ["swap"]}},
        disabled_methods=("handle_builder_fee_approval", "set_ref", "approve_builder_fee"),
        price_grid="sig5",
        fill_pnl="closedPnl",
        # l2Book snapshots; activeAssetCtx (watchTicker) carries markPx in the ticker's info
        # (ccxt's parsed ticker has no markPrice, its close is the mid)
        ws_reads=("get_orderbook", "get_mark_price"), ws_mark="info:markPx",
        # ccxt 4.5.90 has no fetchLeverage for Hyperliquid, whose activeAssetData holds the setting
        leverage_read={"method": "publicPostInfo",
                       "request": {"type": "activeAssetData", "user": "{walletAddress}", "coin": "{native}"},
                       "leverage": "leverage.value", "margin_mode": "leverage.type"},
        notes="the native Hyperliquid adapter is 'hyperliquid'; this is ccxt's implementation",
    ),
    CcxtVenue(
        name="lighter", ccxt_id="lighter",
        credentials={"l1_address": "walletAddress", "signer_library": "options.libraryPath"},
        key_rule=_lighter_keys,
        client_id=ClientIdRule("uint", maximum=2**48 - 1, param="client_order_index", as_int=True),
        lookup="scan", native="info:symbol",
        options=dict(_NO_BUILDER),
        disabled_methods=("handle_builder_fee_approval", "approve_builder_fee"),
        limit_tifs=("GTC", "IOC", "ALO"),
        requires={"signer_library": "Lighter orders are signed by Lighter's native signer library: set "
                                    "'signer_library' to the path of the lighter-signer shared library built "
                                    "for ccxt 4.5.90 (see the README)"},
        notes="signing needs Lighter's native library; ccxt does not report Lighter's funding interval",
    ),
)

CCXT_VENUES: dict[str, CcxtVenue] = {e.name: e for e in _ENTRIES}


def ccxt_venue(name: str) -> CcxtVenue:
    """The entry of a registry name (``paradex``) or ``ccxt:<id>`` (``ccxt:hyperliquid``,
    ``ccxt:paradex``); ``NotSupported`` naming the ids that have one."""
    key = str(name).strip().lower()
    entry = CCXT_VENUES.get(key)
    if entry is None and key.startswith("ccxt:"):
        wanted = key.partition(":")[2]
        entry = next((e for e in _ENTRIES if e.ccxt_id == wanted), None)
    if entry is None:
        ids = sorted(e.ccxt_id for e in _ENTRIES)
        raise NotSupported(f"no ccxt entry for '{name}': the adapter only drives ccxt venues whose safety defaults "
                           f"(builder fees, referrals) are known; entries exist for {', '.join(ids)}")
    return entry
