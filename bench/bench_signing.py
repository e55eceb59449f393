"""Benchmark: build + sign one Vest order body, our path vs the eth-account path.

    python bench/bench_signing.py [--n 3000]

Both sides do the same work per order: format size and price from Decimals with exactly
the market's decimals, build the ``order`` mapping, sign it, assemble the body. Ours goes
through ``wrappers.vest.build_order_body`` (``VestSigner``: hand-rolled ABI encoder +
cached coincurve key); the reference uses ``eth_abi.encode`` + keccak +
``Account.sign_message(encode_defunct(primitive=h), key)``. Signatures are checked equal
first, so the comparison is between two correct implementations.

Goal: ≤ 60 µs median per signed order body, ≥ 3× faster than the eth-account path.
Not part of the test suite.
"""
from __future__ import annotations

import argparse
import pathlib
import sys
from decimal import Decimal
from typing import Any

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from eth_abi import encode as eth_abi_encode
from eth_account import Account
from eth_account.messages import encode_defunct
from timing import median_us

from mpdex.evm import KECCAK_BACKEND
from mpdex.precision import fmt_fixed
from wrappers.vest import build_order_body
from wrappers.vest_auth import ORDER_TYPES, VestSigner, keccak256

KEY = "0x" + "b2" * 32
SIZE, PRICE = Decimal("0.5"), Decimal("3500.25")


def ours(signer: VestSigner, i: int) -> dict[str, Any]:
    return build_order_body(
        signer, time_ms=1_767_225_600_000 + i, nonce=1_767_225_600_000 + i, symbol="ETH-PERP", is_buy=bool(i & 1),
        size=fmt_fixed(SIZE, 3), limit_price=fmt_fixed(PRICE, 2), order_type="LIMIT", reduce_only=False,
        time_in_force="GTC",
    )


def reference(account: Any, i: int) -> dict[str, Any]:
    order: dict[str, Any] = {
        "time": 1_767_225_600_000 + i, "nonce": 1_767_225_600_000 + i, "symbol": "ETH-PERP", "isBuy": bool(i & 1),
        "size": fmt_fixed(SIZE, 3), "orderType": "LIMIT", "limitPrice": fmt_fixed(PRICE, 2), "reduceOnly": False,
        "timeInForce": "GTC",
    }
    encoded = eth_abi_encode(list(ORDER_TYPES), [order["time"], order["nonce"], order["orderType"], order["symbol"],
                                                 order["isBuy"], order["size"], order["limitPrice"], order["reduceOnly"]])
    sig = account.sign_message(encode_defunct(primitive=keccak256(encoded))).signature.hex()
    return {"order": order, "recvWindow": 5000, "signature": sig if sig.startswith("0x") else "0x" + sig}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="signed bodies per side (default 3000)")
    n = parser.parse_args().n
    signer, account = VestSigner(KEY), Account.from_key(KEY)
    for i in range(5):
        assert ours(signer, i)["signature"] == reference(account, i)["signature"], "implementations disagree"
    fast = median_us(lambda i: ours(signer, i), n)
    slow = median_us(lambda i: reference(account, i), n)
    print(f"keccak backend: {KECCAK_BACKEND}")
    print(f"VestSigner path:  median {fast:8.1f} µs per signed order body  (n={n})")
    print(f"eth-account path: median {slow:8.1f} µs per signed order body  (n={n})")
    print(f"ratio: {slow / fast:.1f}x faster   goal: <= 60 µs and >= 3x -> "
          f"{'met' if fast <= 60 and slow / fast >= 3 else 'NOT met'}")


if __name__ == "__main__":
    main()
