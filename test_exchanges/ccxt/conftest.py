"""ccxt tests: skipped as a whole when ccxt (the ``ccxt`` extra) is not installed."""
from __future__ import annotations

import pytest

pytest.importorskip("ccxt.async_support")
