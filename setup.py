"""Packaging for mpdex-vest.

Runtime dependencies, and why each is here:
  aiohttp      HTTP client (keep-alive session per exchange) and the paper exchange server
  websockets   WebSocket client (>=15 for native HTTP CONNECT proxy support)
  coincurve    libsecp256k1 signing/recovery: the order-signing hot path
  pycryptodome keccak-256 for hashing
  orjson       fast JSON for REST bodies and socket frames
  msgpack      Hyperliquid's L1 action hash is keccak over the MessagePack encoding of the
               action; the well-kept C implementation, the same one the official SDK uses
ccxt (extra ``ccxt``) drives the long-tail venues (paradex, backpack, grvt, extended,
pacifica, lighter, ``ccxt:<id>``) through one adapter; it is imported only when such a venue
is created, never by ``import mpdex`` / ``import exchange_factory``.
eth-account and eth-abi are *not* runtime imports: the hand-written encoder and coincurve
replace them on the hot path (~30 µs vs ~3 ms per order). They stay in the ``test`` extra
as independent oracles that the signatures are checked against, as does the official
``hyperliquid-python-sdk`` (imported only by tests and bench/; its eth-account <0.14 pin
settles the shared oracle's version).
"""
import re
from pathlib import Path

from setuptools import find_packages, setup

# one source for the version: mpdex.__version__ (read, not imported: setup.py must not need the deps)
VERSION = re.search(r'^__version__ = "([^"]+)"', (Path(__file__).parent / "mpdex" / "__init__.py").read_text(),
                    re.M).group(1)

BROTLI = ["brotli>=1.1"]  # optional: Brotli-compressed socket frames (some Vest hosts send them)
# the adapter is written and tested against ccxt 4.5.x (venue ids, builder-fee options, signer ABI)
CCXT = ["ccxt>=4.5.90,<4.6"]
TEST = [
    "pytest>=8",
    "pytest-asyncio>=0.23",
    "pytest-timeout>=2.2",
    "aioresponses>=0.7.6",
    "eth-account>=0.13",  # oracle for the signatures
    "eth-abi>=5",  # oracle for the ABI encoder
    "hyperliquid-python-sdk>=0.23,<0.25",  # oracle for Hyperliquid signing (0.23/0.24 share signing.py)
    *BROTLI,
    *CCXT,  # the ccxt venues' mapping tests run in CI
]

LINT = ["ruff==0.17.6", "mypy==2.4.1"]  # pinned: CI's lint verdict must not change under us

setup(
    name="mpdex-vest",
    version=VERSION,
    description="Unified async wrapper over perpetual DEXs (mpdex-compatible); first exchange: Vest Markets",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["mpdex", "mpdex.*", "wrappers", "wrappers.*"]),
    py_modules=["multi_perp_dex", "exchange_factory"],
    package_data={"mpdex": ["py.typed"], "wrappers": ["py.typed"]},
    include_package_data=True,
    entry_points={"console_scripts": ["mpdex = mpdex.cli:console"]},  # the same as `python main.py`
    install_requires=[
        "aiohttp>=3.9,<4",
        "websockets>=15,<18",
        "coincurve>=20,<22",
        "pycryptodome>=3.19,<4",
        # keccak in C, 6x faster than pycryptodome's (a third of the signing time); wheels
        # exist for Linux x86_64/aarch64 only, elsewhere pycryptodome's keccak is used
        'safe-pysha3>=1.0.7,<2; sys_platform == "linux" and (platform_machine == "x86_64" or platform_machine == "aarch64")',
        "orjson>=3.9,<4",
        "msgpack>=1.0.5,<2",
    ],
    extras_require={
        "brotli": BROTLI,
        "ccxt": CCXT,
        "test": TEST,
        "lint": LINT,
        "dev": TEST + LINT,
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Framework :: AsyncIO",
    ],
)
