"""Benchmark: build + sign one Hyperliquid order action, our path vs the official SDK's.

    python bench/bench_hyperliquid_signing.py [--n 3000]

Both sides do the same work per order, with the key parsed once: build the order wire and the
``order`` action (BTC, Gtc, with a cloid) and sign it as an L1 action. Ours goes through
``wrappers.hyperliquid_wire`` (from Decimals) and ``HyperliquidSigner.sign_l1`` (which also
re-parses the action canonically, msgpack, keccak from
safe-pysha3 where installed (else pycryptodome; the backend is printed), cached coincurve key); the
reference uses the SDK's ``order_request_to_order_wire`` / ``order_wires_to_order_action``
(from floats) and ``hyperliquid.utils.signing.sign_l1_action`` (eth-account). Actions and
signatures are checked equal first, so two correct implementations are compared.

Goal: ≤ 60 µs median per signed order action, ≥ 3× faster than the SDK path.
Not part of the test suite.
"""
from __future__ import annotations

import argparse
import pathlib
import sys
from decimal import Decimal
from typing import Any

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import eth_account
from hyperliquid.utils.signing import order_request_to_order_wire, order_wires_to_order_action, sign_l1_action
from hyperliquid.utils.types import Cloid
from timing import median_us

from mpdex.evm import KECCAK_BACKEND
from wrappers.hyperliquid_auth import HyperliquidSigner
from wrappers.hyperliquid_wire import cloid_for_client_id, limit_type, order_action, order_wire

KEY = "0x" + "b2" * 32
NONCE0 = 1_767_225_600_000
SIZE, PRICE = Decimal("0.001"), Decimal("50000")


def ours(signer: HyperliquidSigner, i: int) -> tuple[dict[str, Any], dict[str, Any]]:
    action = order_action([order_wire(0, bool(i & 1), PRICE, SIZE, order_type=limit_type("Gtc"),
                                      cloid=cloid_for_client_id(i + 1))])
    return action, dict(signer.sign_l1(action, NONCE0 + i))


def reference(wallet: Any, i: int) -> tuple[dict[str, Any], dict[str, Any]]:
    request = {"coin": "BTC", "is_buy": bool(i & 1), "sz": float(SIZE), "limit_px": float(PRICE),
               "order_type": {"limit": {"tif": "Gtc"}}, "reduce_only": False, "cloid": Cloid.from_int(i + 1)}
    action = order_wires_to_order_action([order_request_to_order_wire(request, 0)])
    return action, sign_l1_action(wallet, action, None, NONCE0 + i, None, True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="signed actions per side (default 3000)")
    n = parser.parse_args().n
    signer, wallet = HyperliquidSigner(KEY), eth_account.Account.from_key(KEY)
    for i in range(5):
        assert ours(signer, i) == reference(wallet, i), "implementations disagree"
    fast = median_us(lambda i: ours(signer, i), n)
    slow = median_us(lambda i: reference(wallet, i), n)
    print(f"keccak backend: {KECCAK_BACKEND}")
    print(f"HyperliquidSigner path: median {fast:8.1f} µs per signed order action  (n={n})")
    print(f"official SDK path:      median {slow:8.1f} µs per signed order action  (n={n})")
    print(f"ratio: {slow / fast:.1f}x faster   goal: <= 60 µs and >= 3x -> "
          f"{'met' if fast <= 60 and slow / fast >= 3 else 'NOT met'}")


if __name__ == "__main__":
    main()
