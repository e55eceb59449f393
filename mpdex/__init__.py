"""mpdex-vest: a unified async wrapper over perpetual DEXs (first exchange: Vest).

Exports are lazy: ``import mpdex`` loads no exchange, no aiohttp and no websockets.

    from mpdex import create_exchange, symbol_create
    ex = await create_exchange("vest", keys)
"""
from __future__ import annotations

import importlib
from typing import Any

#: the package version (setup.py reads it from here: one source)
__version__ = "0.1.0"

__all__ = [
    "__version__",
    "create_exchange",
    "symbol_create",
    "MultiPerpDex",
    "MultiPerpDexMixin",
    "VestExchange",
    "errors",
]

_LAZY = {
    "create_exchange": ("exchange_factory", "create_exchange"),
    "symbol_create": ("exchange_factory", "symbol_create"),
    "MultiPerpDex": ("multi_perp_dex", "MultiPerpDex"),
    "MultiPerpDexMixin": ("multi_perp_dex", "MultiPerpDexMixin"),
    "VestExchange": ("wrappers.vest", "VestExchange"),
}


def __getattr__(name: str) -> Any:
    if name == "errors":
        return importlib.import_module("mpdex.errors")
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'mpdex' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module_name), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
