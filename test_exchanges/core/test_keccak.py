"""``mpdex.evm.keccak256``: Ethereum's Keccak-256, the same bytes from either backend."""
from __future__ import annotations

import os
import platform
import sys

import pytest

from mpdex import evm

VECTORS = {
    b"": "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
    b"abc": "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45",
}


@pytest.mark.parametrize("data,digest", VECTORS.items())
def test_known_vectors(data: bytes, digest: str) -> None:
    assert evm.keccak256(data).hex() == digest
    assert evm.keccak256_pycryptodome(data).hex() == digest


def test_backends_agree_on_every_length_around_the_rate() -> None:
    # 136 bytes is keccak-256's block: lengths around multiples of it exercise the padding
    for n in list(range(0, 300)) + [1000, 4096]:
        data = os.urandom(n)
        assert evm.keccak256(data) == evm.keccak256_pycryptodome(data), n


@pytest.mark.skipif(not (sys.platform == "linux" and platform.machine() in ("x86_64", "aarch64")),
                    reason="safe-pysha3 is installed on Linux x86_64/aarch64 only")
def test_the_c_backend_is_used_where_setup_installs_it() -> None:
    assert evm.KECCAK_BACKEND == "pysha3"
