"""Ethereum primitives every EVM-signing venue shares: keccak, addresses, keys, EIP-712
hashing and secp256k1 signatures. Pure functions; no I/O, clock or globals beyond constants.

The hot path signs with a cached ``coincurve`` key (libsecp256k1: RFC 6979 nonces and low-s,
byte-identical to eth-account). A private key is valid only in ``[1, n)`` of secp256k1; an
all-zero or out-of-range key is refused as a ``ConfigError`` naming the field, never its value.
"""
from __future__ import annotations

import re
from typing import Any

from coincurve import PrivateKey, PublicKey
from Crypto.Hash import keccak as _keccak_mod

from .errors import ConfigError

try:  # safe-pysha3 (a C extension, installed on Linux x86_64/aarch64): ~0.6 µs per hash
    from sha3 import keccak_256 as _fast_keccak
except ImportError:  # pragma: no cover - platforms without its wheel use pycryptodome (~4 µs)
    _fast_keccak = None

__all__ = [
    "SECP256K1_N",
    "keccak256",
    "to_checksum_address",
    "is_address",
    "normalise_address",
    "normalise_private_key",
    "address_of",
    "recover_address",
    "recover_address_rsv",
    "EvmSigner",
    "eip712_type_hash",
    "eip712_digest",
    "abi_uint",
    "abi_address",
    "abi_bool",
]

#: order of the secp256k1 group: a private key must lie in [1, n)
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_UINT256_MAX = (1 << 256) - 1
_HEX32 = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def keccak256_pycryptodome(data: bytes) -> bytes:
    """Keccak-256 through pycryptodome: the portable implementation."""
    return _keccak_mod.new(digest_bits=256, data=data).digest()


#: which implementation ``keccak256`` uses: ``"pysha3"`` where safe-pysha3 is installed,
#: else ``"pycryptodome"``; both give the same bytes (tested)
KECCAK_BACKEND = "pysha3" if _fast_keccak is not None else "pycryptodome"

if _fast_keccak is not None:
    _pysha3_keccak = _fast_keccak

    def keccak256(data: bytes) -> bytes:
        """Keccak-256 (Ethereum's, not NIST SHA3-256) of ``data``."""
        return _pysha3_keccak(data).digest()  # type: ignore[no-any-return]
else:  # pragma: no cover
    keccak256 = keccak256_pycryptodome


def to_checksum_address(address: str | bytes) -> str:
    """EIP-55 mixed-case form of a 20-byte address."""
    hex_addr = address.hex() if isinstance(address, bytes) else address.lower().removeprefix("0x")
    digest = keccak256(hex_addr.encode("ascii")).hex()
    return "0x" + "".join(c.upper() if int(digest[i], 16) >= 8 else c for i, c in enumerate(hex_addr))


def is_address(value: Any) -> bool:
    """``0x`` + 40 hex digits (any case)."""
    return isinstance(value, str) and _ADDRESS.match(value.strip()) is not None


def normalise_address(value: Any, field: str) -> str:
    """The lower-case ``0x`` address, or ``ConfigError`` naming ``field``."""
    if not is_address(value):
        raise ConfigError(f"{field} must be a 0x-prefixed 20-byte hex address")
    return str(value).strip().lower()


def normalise_private_key(value: Any, field: str) -> str:
    """``0x``-prefixed lower-case hex of a valid secp256k1 key, or ``ConfigError`` naming
    ``field`` (never its value): 64 hex digits, not zero, below the group order."""
    if not isinstance(value, str) or not _HEX32.match(value.strip()):
        raise ConfigError(f"{field} must be a 32-byte hex private key")
    v = value.strip().lower()
    v = v if v.startswith("0x") else "0x" + v
    if not 0 < int(v, 16) < SECP256K1_N:
        raise ConfigError(f"{field} is not a valid secp256k1 private key (zero or out of range)")
    return v


def _key_bytes(private_key: str | bytes) -> bytes:
    if isinstance(private_key, bytes):
        raw = private_key
    else:
        text = private_key.strip()
        raw = bytes.fromhex(text[2:] if text[:2] in ("0x", "0X") else text)
    if len(raw) != 32:
        raise ValueError("private key must be 32 bytes")
    return raw


def _address_of_public(pub: PublicKey) -> str:
    return to_checksum_address(keccak256(pub.format(compressed=False)[1:])[-20:])


def address_of(private_key: str | bytes) -> str:
    """Checksummed address of a private key."""
    return _address_of_public(PrivateKey(_key_bytes(private_key)).public_key)


def recover_address_rsv(digest: bytes, r: int, s: int, v: int) -> str:
    """Checksummed address behind an (r, s, v) signature over ``digest``; ``ValueError``
    for anything unrecoverable (v must be 27/28 or 0/1)."""
    if v in (27, 28):
        v -= 27
    if v not in (0, 1):
        raise ValueError("signature has an invalid recovery id")
    if not (0 < r <= _UINT256_MAX and 0 < s <= _UINT256_MAX):
        raise ValueError("signature r/s out of range")
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])
    try:
        pub = PublicKey.from_signature_and_message(raw, digest, hasher=None)
    except Exception as exc:  # coincurve raises plain Exception for unrecoverable input
        raise ValueError("signature does not recover to a public key") from exc
    return _address_of_public(pub)


def recover_address(digest: bytes, signature: str) -> str:
    """Checksummed address behind a ``0x`` + r‖s‖v (65 bytes) signature over ``digest``."""
    if not isinstance(signature, str) or not signature.startswith("0x") or len(signature) != 132:
        raise ValueError("signature must be 0x + 130 hex characters")
    raw = bytes.fromhex(signature[2:])
    return recover_address_rsv(digest, int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big"), raw[64])


class EvmSigner:
    """One secp256k1 key, parsed once. ``repr`` shows the address, never the key."""

    __slots__ = ("_key", "address")

    def __init__(self, private_key: str | bytes) -> None:
        self._key = PrivateKey(_key_bytes(private_key))
        self.address: str = _address_of_public(self._key.public_key)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(address={self.address})"

    def sign_rsv(self, digest: bytes) -> tuple[int, int, int]:
        """``(r, s, v)`` with ``v`` ∈ {27, 28}, over the 32-byte ``digest``."""
        sig = self._key.sign_recoverable(digest, hasher=None)  # r ‖ s ‖ recid
        return int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big"), 27 + sig[64]

    def sign_hex(self, digest: bytes) -> str:
        """``0x`` + r(32) ‖ s(32) ‖ v(1) hex, v ∈ {27, 28}."""
        sig = self._key.sign_recoverable(digest, hasher=None)
        return "0x" + sig[:64].hex() + ("1b" if sig[64] == 0 else "1c")


# -- EIP-712 building blocks ----------------------------------------------------------


def abi_uint(value: int) -> bytes:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _UINT256_MAX:
        raise ValueError(f"uint256 out of range: {value!r}")
    return value.to_bytes(32, "big")


def abi_address(value: str) -> bytes:
    raw = bytes.fromhex(value[2:] if value[:2] in ("0x", "0X") else value)
    if len(raw) != 20:
        raise ValueError("address must be 20 bytes")
    return b"\x00" * 12 + raw


def abi_bool(value: bool) -> bytes:
    if not isinstance(value, bool):
        raise ValueError(f"bool expected, got {type(value).__name__}")
    return b"\x00" * 31 + (b"\x01" if value else b"\x00")


def eip712_type_hash(type_string: str) -> bytes:
    """``keccak256`` of an encoded type, e.g. ``"Agent(string source,bytes32 connectionId)"``."""
    return keccak256(type_string.encode("ascii"))


def eip712_digest(domain_separator: bytes, struct_hash: bytes) -> bytes:
    """``keccak256(0x19 0x01 ‖ domainSeparator ‖ hashStruct(message))``."""
    return keccak256(b"\x19\x01" + domain_separator + struct_hash)
