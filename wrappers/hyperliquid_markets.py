"""Hyperliquid perp markets: ``meta`` / ``metaAndAssetCtxs`` → ``HyperliquidMarket``, the
registry's symbol rule, coin resolution and the price grid. Pure.

* The asset id is the index in ``meta.universe`` (a builder dex at ``perpDexs`` position
  ``i`` > 0: ``100000 + i × 10000 + index``); delisted markets keep their index.
* Sizes step by ``10 ** -szDecimals``. Prices have at most 5 significant figures and at most
  ``6 − szDecimals`` decimals; integer prices are always allowed (hyperliquid-api.md §4.5).
  ``SigFigGrid`` rounds in the direction the order path asks for, through
  ``mpdex.precision.round_to_sig_figs``.
* Orders below $10 of notional are refused unless reduce-only (``MIN_NOTIONAL``).
* A market is isolated-only when ``onlyIsolated`` is set or ``marginMode`` is
  ``strictIsolated`` / ``noCross``.
"""
from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mpdex.errors import BadSymbol, ExchangeError
from mpdex.precision import Rounding, round_to_sig_figs, step_of

__all__ = [
    "MIN_NOTIONAL",
    "PRICE_SIG_FIGS",
    "PERP_MAX_DECIMALS",
    "SigFigGrid",
    "HyperliquidMarket",
    "symbol_for_coin",
    "parse_meta",
    "parse_meta_and_ctxs",
    "SymbolResolver",
]

MIN_NOTIONAL = Decimal(10)
PRICE_SIG_FIGS = 5
PERP_MAX_DECIMALS = 6
_ISOLATED_MODES = frozenset({"strictIsolated", "noCross"})
_SUFFIXES = ("-PERP", "-USDC", "-USD")


@dataclass(frozen=True)
class SigFigGrid:
    """Hyperliquid's price grid (``mpdex.orders.PriceGrid``)."""

    max_decimals: int
    sig_figs: int = PRICE_SIG_FIGS

    def round_price(self, price: Decimal, mode: Rounding) -> Decimal:
        return round_to_sig_figs(price, self.sig_figs, self.max_decimals, mode)

    def describe(self) -> str:
        places = "decimal" if self.max_decimals == 1 else "decimals"
        return f"at most {self.sig_figs} significant figures and {self.max_decimals} {places}"


@dataclass(frozen=True)
class HyperliquidMarket:
    """One perp market; ``symbol`` is the coin exactly as Hyperliquid names it."""

    symbol: str
    asset: int
    sz_decimals: int
    max_leverage: int
    only_isolated: bool = False
    margin_mode: str | None = None
    delisted: bool = False
    dex: str = ""
    quote: str = "USDC"

    @property
    def size_step(self) -> Decimal:
        return step_of(self.sz_decimals)

    @property
    def price_decimals(self) -> int:
        return max(0, PERP_MAX_DECIMALS - self.sz_decimals)

    @property
    def price_grid(self) -> SigFigGrid:
        return SigFigGrid(self.price_decimals)

    @property
    def isolated_only(self) -> bool:
        return self.only_isolated or self.margin_mode in _ISOLATED_MODES

    @property
    def margin_modes(self) -> list[str]:
        return ["isolated"] if self.isolated_only else ["cross", "isolated"]


def symbol_for_coin(coin: str, quote: str | None = None) -> str:
    """The registry's perp symbol rule (mpdex's): ``btc`` → ``BTC``; a builder-dex coin keeps
    its dex in lower case, ``xyz:xyz100`` → ``xyz:XYZ100``. Perps settle in USDC here, so
    ``quote`` is ignored. (``SymbolResolver`` maps ``KPEPE`` back to ``kPEPE``.)"""
    dex, sep, name = coin.strip().partition(":")
    return f"{dex.lower()}:{name.upper()}" if sep else coin.strip().upper()


def _int(raw: Mapping[str, Any], field: str, name: str, default: int | None = None) -> int:
    value = raw.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ExchangeError(f"meta: {name} has no valid '{field}'", raw=dict(raw))
    return value


def parse_meta(meta: Any, *, dex: str = "", dex_index: int = 0) -> dict[str, HyperliquidMarket]:
    """``{coin: HyperliquidMarket}`` from a ``meta`` body (the current and the 2023 shape).
    ``dex_index`` is the dex's position in ``perpDexs`` (0: the main dex)."""
    if not isinstance(meta, dict) or not isinstance(meta.get("universe"), list):
        raise ExchangeError("meta has no 'universe' list", raw=meta)
    offset = 0 if dex_index == 0 else 100_000 + dex_index * 10_000
    markets: dict[str, HyperliquidMarket] = {}
    for index, raw in enumerate(meta["universe"]):
        name = raw.get("name") if isinstance(raw, dict) else None
        if not isinstance(name, str) or not name:
            raise ExchangeError(f"meta: universe[{index}] has no name", raw=raw)
        mode = raw.get("marginMode")
        markets[name] = HyperliquidMarket(
            symbol=name,
            asset=offset + index,
            sz_decimals=_int(raw, "szDecimals", name),
            max_leverage=max(1, _int(raw, "maxLeverage", name, 1)),
            only_isolated=raw.get("onlyIsolated") is True,
            margin_mode=mode if isinstance(mode, str) else None,
            delisted=raw.get("isDelisted") is True,
            dex=dex,
        )
    return markets


def parse_meta_and_ctxs(payload: Any, *, dex: str = "", dex_index: int = 0
                        ) -> tuple[dict[str, HyperliquidMarket], dict[str, dict[str, Any]]]:
    """``metaAndAssetCtxs`` (``[meta, [ctx…]]``, ``ctx[i]`` belongs to ``universe[i]``) →
    the markets and ``{coin: ctx}``."""
    if not isinstance(payload, list) or len(payload) != 2 or not isinstance(payload[1], list):
        raise ExchangeError("metaAndAssetCtxs is not [meta, [ctx…]]", raw=payload)
    markets = parse_meta(payload[0], dex=dex, dex_index=dex_index)
    names = list(markets)
    if len(payload[1]) != len(names):
        raise ExchangeError(f"metaAndAssetCtxs: {len(names)} markets but {len(payload[1])} contexts", raw=payload)
    ctxs = {name: ctx for name, ctx in zip(names, payload[1], strict=True) if isinstance(ctx, dict)}
    return markets, ctxs


class SymbolResolver:
    """``BTC``, ``btc``, ``BTC-PERP``, ``BTC-USDC`` → ``BTC``; ``kpepe`` → ``kPEPE`` (a
    case-insensitive match is used when unambiguous). Unknown → ``BadSymbol`` with close matches."""

    def __init__(self, markets: Iterable[HyperliquidMarket]) -> None:
        self._names = sorted(m.symbol for m in markets)
        self._exact = set(self._names)
        self._folded: dict[str, set[str]] = {}
        for name in self._names:
            self._folded.setdefault(name.upper(), set()).add(name)

    def _match(self, key: str) -> str | None:
        if key in self._exact:
            return key
        found = self._folded.get(key.upper(), set())
        if len(found) > 1:
            raise BadSymbol(f"'{key}' is ambiguous on Hyperliquid: {', '.join(sorted(found))}")
        return next(iter(found)) if found else None

    def resolve(self, text: Any) -> str:
        if not isinstance(text, str) or not text.strip():
            raise BadSymbol(f"symbol must be a non-empty string, got {text!r}")
        key = text.strip()
        found = self._match(key)
        for suffix in _SUFFIXES:
            if found is None and key.upper().endswith(suffix) and len(key) > len(suffix):
                found = self._match(key[: -len(suffix)])
        if found is not None:
            return found
        close = difflib.get_close_matches(key.upper(), list(self._folded), n=5, cutoff=0.6)
        suggestions = sorted({n for c in close for n in self._folded[c]})
        hint = f"; close matches: {', '.join(suggestions)}" if suggestions else ""
        raise BadSymbol(f"unknown Hyperliquid coin '{key}'{hint}")

    @property
    def symbols(self) -> list[str]:
        return list(self._names)
