"""Create exchanges by name, lazily, and build native symbols from coins.

Importing this module imports no exchange: each is loaded from the registry when it is
first created, and creating one never imports another.
"""
from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

from mpdex.config import read_fields
from mpdex.errors import ConfigError, NotSupported

__all__ = ["create_exchange", "symbol_create", "SYMBOL_FORMATS", "EXCHANGES", "load_exchange_class"]

log = logging.getLogger("mpdex.factory")

#: name -> (module, class). Add an exchange here and nowhere else.
EXCHANGES: dict[str, tuple[str, str]] = {
    "vest": ("wrappers.vest", "VestExchange"),
}


def _known() -> str:
    return ", ".join(sorted(EXCHANGES))


def load_exchange_class(exchange_platform: str) -> Any:
    """Import and return the class registered under ``exchange_platform``."""
    key = str(exchange_platform).strip().lower()
    try:
        module_name, class_name = EXCHANGES[key]
    except KeyError:
        raise ConfigError(
            f"unsupported exchange '{exchange_platform}'; known exchanges: {_known()}"
        ) from None
    module = importlib.import_module(module_name)
    return getattr(module, class_name)


async def create_exchange(exchange_platform: str, key_params: Any = None, **options: Any) -> Any:
    """Return an initialised exchange (``await ExchangeClass(...).init()``).

    ``key_params`` may be a dataclass, a ``SimpleNamespace`` or a dict holding the
    exchange's ``KEY_FIELDS`` (required) and ``OPTIONAL_KEY_FIELDS``. A missing field
    raises ``ConfigError`` naming it. ``options`` go to the constructor unchanged
    (e.g. ``use_ws=False``). If ``init()`` fails, the half-built instance is closed
    before the error propagates.
    """
    cls = load_exchange_class(exchange_platform)
    fields = read_fields(
        key_params,
        getattr(cls, "KEY_FIELDS", ()),
        getattr(cls, "OPTIONAL_KEY_FIELDS", {}),
        what=f"{exchange_platform} key_params",
    )
    exchange = cls(**fields, **options)
    try:
        return await exchange.init()
    except BaseException:
        try:
            await exchange.close()
        except Exception:  # the init error is the one the caller needs to see
            log.exception("closing %s after a failed init() also failed", exchange_platform)
        raise


def _vest_symbol(coin: str, quote: str | None = None) -> str:
    # Native symbols (BTC-PERP, AAPL-USD-PERP, kBONK-PERP) pass through untouched.
    if coin.upper().endswith("-PERP"):
        return coin
    # Mixed case is meaningful on Vest (kBONK, kPEPE); one-case input is normalised.
    base = coin.upper() if (coin.isupper() or coin.islower()) else coin
    return f"{base}-PERP"


#: exchange -> (coin, quote) -> native perp symbol. Vest equities/FX are listed as
#: ``AAPL-USD-PERP`` but also answer to their display name ``AAPL-PERP``, which is
#: what this returns; ``VestExchange`` resolves either against its loaded markets.
SYMBOL_FORMATS: dict[str, Callable[[str, str | None], str]] = {
    "vest": _vest_symbol,
}

_SPOT_SUPPORT: dict[str, bool] = {"vest": False}


def symbol_create(
    exchange_platform: str, coin: str, *, is_spot: bool = False, quote: str | None = None
) -> str:
    """Native symbol for ``coin`` on ``exchange_platform`` (``("vest", "btc")`` → ``"BTC-PERP"``).

    ``quote`` is accepted for mpdex compatibility; Vest perps all settle in USDC and ignore it.
    """
    key = str(exchange_platform).strip().lower()
    if key not in SYMBOL_FORMATS:
        raise ConfigError(f"unsupported exchange '{exchange_platform}'; known exchanges: {_known()}")
    if not isinstance(coin, str) or not coin.strip():
        raise ConfigError("coin must be a non-empty string")
    if is_spot and not _SPOT_SUPPORT.get(key, False):
        raise NotSupported(f"{key} has no spot markets")
    return SYMBOL_FORMATS[key](coin.strip(), quote)
