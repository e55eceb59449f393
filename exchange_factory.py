"""The venue registry: one declarative entry per exchange, and the two functions that read it.

``create_exchange(name, keys)`` and ``symbol_create(name, coin)`` know nothing about any
venue beyond its entry in ``VENUES``. Importing this module imports no exchange: a venue's
module (and its symbol rule, when that lives with the venue) is imported the first time it
is used, and using one venue never imports another. Adding a venue means writing its own
files and one ``VenueSpec`` here.

Every venue name mpdex knows is listed, so arbitrage code can build symbols for all its
configured venues; ``create_exchange`` for one not implemented here raises ``NotSupported``
naming the ones that are. The long tail (paradex, backpack, grvt, extended, pacifica,
lighter, and ``ccxt:<id>`` names such as ``ccxt:hyperliquid``) runs through one generic ccxt
adapter (``via="ccxt"``, the entry name in ``constructor_options``); ccxt is imported only
when such a venue is created.
"""
from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from mpdex.config import read_fields
from mpdex.errors import ConfigError, NotSupported

__all__ = [
    "VenueSpec",
    "VENUES",
    "create_exchange",
    "symbol_create",
    "venue",
    "implemented_venues",
    "load_exchange_class",
    "SYMBOL_FORMATS",
    "SPOT_SYMBOL_FORMATS",
]

log = logging.getLogger("mpdex.factory")

PerpFormat = Callable[[str, "str | None"], str]
SpotFormat = Callable[[str, str], str]


@dataclass(frozen=True)
class VenueSpec:
    """Everything the factory and the CLI need to know about one venue.

    ``perp_symbol`` / ``spot_symbol``: a ``str.format`` template over ``{coin}`` (and
    ``{base}``/``{quote}`` for spot), or ``"module:function"`` naming the venue's own rule
    (called with the upper- or mixed-case coin and the quote). ``exchange`` is
    ``"module:Class"``; ``None`` means mpdex knows the venue but it is not implemented here.
    """

    name: str
    perp_symbol: str
    spot_symbol: str | None = None
    exchange: str | None = None
    key_fields: tuple[str, ...] = ()
    optional_key_fields: Mapping[str, Any] = field(default_factory=dict)
    #: the ``keys/pk_<venue>.py`` variable holding the key object (mpdex's names)
    keys_variable: str = ""
    #: ``"module:Class"`` of the key dataclass the keys template and ``register`` write
    key_class: str | None = None
    networks: tuple[str, ...] = ()
    default_network: str | None = None
    #: ``"module:Class"`` of the venue's paper dialect (``None``: no paper venue)
    paper: str | None = None
    #: time-in-force values a limit order accepts (the CLI's ``--tif`` choices; first = default)
    time_in_force: tuple[str, ...] = ()
    #: optional CLI modules this venue offers beyond the contract (e.g. ``register``)
    extra_modules: tuple[str, ...] = ()
    #: environment variable a ``register`` reads the wallet key from
    primary_key_env: str | None = None
    #: how the venue is reached: ``"native"`` (our own adapter) or ``"ccxt"``
    via: str = "native"
    #: keyword arguments the exchange class always gets for this venue (a ccxt venue's entry name)
    constructor_options: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""

    @property
    def implemented(self) -> bool:
        return self.exchange is not None


def _resolve(path: str) -> Any:
    module_name, _, attr = path.partition(":")
    return getattr(importlib.import_module(module_name), attr)


_CCXT_EXCHANGE = "wrappers.ccxt_perp:CcxtPerpExchange"
#: key fields every ccxt-backed venue accepts besides its own (mpdex's names)
_CCXT_OPTIONAL: dict[str, Any] = {"network": "mainnet", "rest_url": None, "ws_url": None, "proxy": None}


def _ccxt(name: str, perp_symbol: str, keys_variable: str, key_fields: tuple[str, ...], *,
          optional: Mapping[str, Any] | None = None, networks: tuple[str, ...] = ("mainnet", "testnet"),
          spot_symbol: str | None = None, entry: str | None = None, description: str = "") -> VenueSpec:
    """A venue reached through ``wrappers.ccxt_perp`` (its entry in ``wrappers.ccxt_venues``)."""
    return VenueSpec(
        name=name, perp_symbol=perp_symbol, spot_symbol=spot_symbol, exchange=_CCXT_EXCHANGE, key_fields=key_fields,
        optional_key_fields={**_CCXT_OPTIONAL, **(optional or {})}, keys_variable=keys_variable, networks=networks,
        default_network="mainnet", time_in_force=("GTC", "IOC", "ALO"), via="ccxt",
        constructor_options={"venue": entry or name}, description=description,
    )


VENUES: dict[str, VenueSpec] = {
    spec.name: spec
    for spec in (
        VenueSpec(
            name="vest",
            perp_symbol="wrappers.vest_markets:symbol_for_coin",
            exchange="wrappers.vest:VestExchange",
            key_fields=("api_key", "signing_private_key", "primary_address"),
            optional_key_fields={"account_group": 0, "network": "prod", "rest_url": None, "ws_url": None,
                                 "proxy": None},
            keys_variable="VEST_KEY",
            key_class="wrappers.vest_keys:VestKey",
            networks=("prod", "dev"),
            default_network="prod",
            paper="mpdex.paper:PaperVest",
            time_in_force=("GTC", "FOK"),
            extra_modules=("register",),
            primary_key_env="VEST_PRIMARY_PRIVATE_KEY",
            description="Vest Markets (v2 API)",
        ),
        # the long tail through ccxt (wrappers.ccxt_perp; entries in wrappers.ccxt_venues),
        # with mpdex's key field names and symbol formats
        _ccxt("paradex", "{coin}-USD-PERP", "PARADEX_KEY", ("wallet_address", "paradex_address", "paradex_private_key"),
              description="Paradex through ccxt"),
        VenueSpec(name="edgex", perp_symbol="{coin}USD", spot_symbol="{base}/{quote}"),
        _ccxt("grvt", "{coin}_USDT_Perp", "GRVT_KEY", ("account_id", "secret_key"),
              optional={"api_key": None, "use_ws": None}, networks=("mainnet",), description="GRVT through ccxt"),
        _ccxt("backpack", "{coin}_USDC_PERP", "BACKPACK_KEY", ("api_key", "secret_key"), spot_symbol="{base}_{quote}",
              networks=("mainnet",), description="Backpack through ccxt"),
        # signer_library is required by the adapter, which explains what it is when it is missing
        _ccxt("lighter", "{coin}", "LIGHTER_KEY", ("account_id", "private_key", "api_key_id"),
              optional={"l1_address": None, "signer_library": None}, spot_symbol="{base}/{quote}",
              description="Lighter through ccxt (needs Lighter's native signer library)"),
        VenueSpec(name="treadfi.hyperliquid", perp_symbol="exchange_factory:_treadfi_perp",
                  spot_symbol="{base}-{quote}"),
        VenueSpec(name="treadfi.pacifica", perp_symbol="exchange_factory:_treadfi_perp"),
        VenueSpec(name="variational", perp_symbol="{coin}"),
        _ccxt("pacifica", "{coin}", "PACIFICA_KEY", ("public_key", "agent_public_key", "agent_private_key"),
              description="Pacifica through ccxt"),
        VenueSpec(
            name="hyperliquid",
            perp_symbol="wrappers.hyperliquid_markets:symbol_for_coin",
            spot_symbol="{base}/{quote}",
            exchange="wrappers.hyperliquid:HyperliquidExchange",
            key_fields=("wallet_address",),
            optional_key_fields={"wallet_private_key": None, "agent_api_address": None, "agent_api_private_key": None,
                                 "by_agent": True, "vault_address": None, "builder_code": None,
                                 "builder_fee_pair": None, "fetch_by_ws": True, "FrontendMarket": False,
                                 "proxy": None, "network": "mainnet", "rest_url": None, "ws_url": None},
            keys_variable="HYPERLIQUID_KEY",
            key_class="wrappers.hyperliquid_keys:HyperliquidKey",
            networks=("mainnet", "testnet"),
            default_network="mainnet",
            paper="mpdex.paper:PaperHyperliquid",
            time_in_force=("GTC", "IOC", "ALO"),
            description="Hyperliquid perps (native; no builder fee unless the key asks)",
        ),
        VenueSpec(name="superstack", perp_symbol="{coin}", spot_symbol="{base}/{quote}"),
        VenueSpec(name="standx", perp_symbol="{coin}-USD"),
        _ccxt("extended", "{coin}-USD", "EXTENDED_KEY", ("api_key", "stark_private_key"),
              optional={"stark_public_key": None, "vault_id": None, "prefer_ws": None},
              description="Extended through ccxt"),
    )
}

#: venues reachable only as ``ccxt:<id>`` (their plain name is, or will be, a native adapter)
CCXT_ONLY_VENUES: dict[str, VenueSpec] = {
    spec.name: spec
    for spec in (
        _ccxt("ccxt:hyperliquid", "wrappers.hyperliquid_markets:symbol_for_coin", "HYPERLIQUID_KEY", ("wallet_address",),
              optional={"wallet_private_key": None, "agent_api_address": None, "agent_api_private_key": None,
                        "by_agent": False, "vault_address": None, "builder_code": None, "builder_fee_pair": None,
                        "fetch_by_ws": None, "FrontendMarket": None},
              spot_symbol="{base}/{quote}", description="Hyperliquid through ccxt"),
    )
}


def _treadfi_perp(coin: str, quote: str | None = None) -> str:
    """Tread.fi: ``BTC:PERP-USDC``; a dex coin ``xyz:abc`` → ``xyz_ABC:PERP-USDC``."""
    dex, sep, name = coin.partition(":")
    base = f"{dex.lower()}_{name.upper()}" if sep else coin.upper()
    return f"{base}:PERP-{(quote or 'USDC').upper()}"


def venue(name: str) -> VenueSpec:
    """The registry entry of ``name`` (case-insensitive); ``ConfigError`` listing the known ones.

    ``ccxt:<id>`` names a venue through the ccxt adapter: ``ccxt:hyperliquid``, or any
    ccxt-backed venue of ``VENUES`` by its ccxt id (``ccxt:paradex`` is ``paradex``)."""
    key = str(name).strip().lower()
    spec = VENUES.get(key)
    if spec is None and key.startswith("ccxt:"):
        spec = CCXT_ONLY_VENUES.get(key)
        if spec is None:
            wanted = key.partition(":")[2]
            same = VENUES.get(wanted)
            if same is None or same.via != "ccxt":
                known = sorted([*CCXT_ONLY_VENUES, *(f"ccxt:{n}" for n, s in VENUES.items() if s.via == "ccxt")])
                raise NotSupported(f"no ccxt entry for '{name}' (the adapter drives only ccxt venues whose safety "
                                   f"defaults are known); ccxt names: {', '.join(known)}")
            spec = replace(same, name=key)
    if spec is None:
        raise ConfigError(f"unsupported exchange '{name}'; known exchanges: {', '.join(sorted(VENUES))}")
    return spec


def implemented_venues() -> list[str]:
    return sorted(n for n, s in VENUES.items() if s.implemented)


def load_exchange_class(exchange_platform: str) -> Any:
    """Import and return the class behind ``exchange_platform``; ``NotSupported`` for a venue
    mpdex knows that is not implemented here."""
    spec = venue(exchange_platform)
    if spec.exchange is None:
        raise NotSupported(
            f"'{spec.name}' is an mpdex venue that mpdex-vest does not implement yet; "
            f"implemented: {', '.join(implemented_venues())}"
        )
    return _resolve(spec.exchange)


async def create_exchange(exchange_platform: str, key_params: Any = None, **options: Any) -> Any:
    """Return an initialised exchange (``await ExchangeClass(...).init()``).

    ``key_params`` may be a dataclass, a ``SimpleNamespace`` or a dict holding the venue's
    ``key_fields`` (required) and ``optional_key_fields``. A missing field raises
    ``ConfigError`` naming it. ``options`` go to the constructor unchanged (e.g.
    ``use_ws=False``). If ``init()`` fails, the half-built instance is closed before the
    error propagates.
    """
    spec = venue(exchange_platform)
    cls = load_exchange_class(exchange_platform)
    fields = read_fields(key_params, spec.key_fields, spec.optional_key_fields, what=f"{spec.name} key_params")
    # an option given to this call wins over a key field of the same name (grvt's keys carry use_ws)
    exchange = cls(**{**fields, **spec.constructor_options, **options})
    try:
        return await exchange.init()
    except BaseException:
        try:
            await exchange.close()
        except Exception:  # the init error is the one the caller needs to see
            log.exception("closing %s after a failed init() also failed", spec.name)
        raise


def _format_perp(spec: VenueSpec, coin: str, quote: str | None) -> str:
    if ":" in spec.perp_symbol and "{" not in spec.perp_symbol:
        rule: PerpFormat = _resolve(spec.perp_symbol)
        return rule(coin, quote)
    return spec.perp_symbol.format(coin=coin.upper())


def _split_spot(pair: str) -> tuple[str, str]:
    for sep in ("/", "_", "-"):
        if sep in pair:
            base, _, quote = pair.partition(sep)
            if base.strip() and quote.strip():
                return base.strip().upper(), quote.strip().upper()
    raise ConfigError(f"a spot symbol needs BASE/QUOTE (or BASE_QUOTE, BASE-QUOTE), got {pair!r}")


def symbol_create(
    exchange_platform: str, coin: str, *, is_spot: bool = False, quote: str | None = None
) -> str:
    """Native symbol for ``coin`` on ``exchange_platform`` (``("vest", "btc")`` → ``"BTC-PERP"``).

    Perp: the coin goes through the venue's rule (mpdex's formats for the venues it knows).
    Spot: ``coin`` is ``BASE/QUOTE`` (``_`` or ``-`` also accepted); a venue without spot
    markets raises ``NotSupported``. Errors are ``ValueError``s, as in mpdex.
    """
    spec = venue(exchange_platform)
    if not isinstance(coin, str) or not coin.strip():
        raise ConfigError("coin must be a non-empty string")
    text = coin.strip()
    if is_spot:
        if spec.spot_symbol is None:
            raise NotSupported(f"{spec.name} has no spot markets")
        base, spot_quote = _split_spot(text)
        return spec.spot_symbol.format(base=base, quote=spot_quote)
    return _format_perp(spec, text, quote)


class _FormatView(Mapping[str, Callable[..., str]]):
    """mpdex's ``SYMBOL_FORMATS`` / ``SPOT_SYMBOL_FORMATS`` dicts, read from the registry."""

    def __init__(self, spot: bool) -> None:
        self._spot = spot

    def _names(self) -> list[str]:
        return [n for n, s in VENUES.items() if (s.spot_symbol is not None) or not self._spot]

    def __getitem__(self, name: str) -> Callable[..., str]:
        if name not in self._names():
            raise KeyError(name)
        if self._spot:
            # mpdex calls SPOT_SYMBOL_FORMATS[name]([base, quote])
            return lambda pair: symbol_create(name, f"{pair[0]}/{pair[1]}", is_spot=True)
        return lambda coin, quote=None: symbol_create(name, coin, quote=quote)

    def __iter__(self) -> Any:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())


#: mpdex's name -> ``f(coin, quote=None)`` perp formatters (a live view of ``VENUES``)
SYMBOL_FORMATS: Mapping[str, Callable[..., str]] = _FormatView(spot=False)
#: mpdex's name -> ``f([base, quote])`` spot formatters, for the venues with spot markets
SPOT_SYMBOL_FORMATS: Mapping[str, Callable[..., str]] = _FormatView(spot=True)
