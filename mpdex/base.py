"""``from mpdex.base import MultiPerpDex, MultiPerpDexMixin``: the import mpdex's wrapper
template uses. The contract itself lives in the top-level ``multi_perp_dex`` module."""
from __future__ import annotations

from multi_perp_dex import CAPABILITY_NAMES, MultiPerpDex, MultiPerpDexMixin

__all__ = ["MultiPerpDex", "MultiPerpDexMixin", "CAPABILITY_NAMES"]
