"""Vest signing: pure functions, no I/O, no clock, no globals beyond constants.

Recipes (vest-api.md §2.2, §4):

* order / cancel: ``h = keccak256(abi.encode(fields…))``, then an
  EIP-191 personal-sign over the 32 raw bytes of ``h`` with the *signing* key;
* registration: EIP-712 ``SignerProof(address approvedSigner,uint256 signerExpiry)``
  under the domain ``{name: VestRouterV2, version: 0.0.1, verifyingContract}`` (no
  chainId), signed with the *primary* key.

Signatures are ``0x`` + r(32) ‖ s(32) ‖ v(1) hex with v ∈ {27, 28}. The hot path uses a
cached ``coincurve`` key (libsecp256k1, RFC 6979 nonces, low-s: byte-identical to
eth-account) and a hand-rolled encoder for the few ABI types involved.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mpdex.evm import (
    EvmSigner,
    abi_address,
    abi_bool,
    abi_uint,
    address_of,
    eip712_digest,
    keccak256,
    recover_address,
    to_checksum_address,
)

__all__ = [
    "VERIFYING_CONTRACTS",
    "keccak256",
    "abi_encode",
    "order_hash",
    "order_digest",
    "cancel_hash",
    "personal_digest",
    "register_digest",
    "sign_order",
    "sign_register",
    "recover_address",
    "address_of",
    "to_checksum_address",
    "VestSigner",
    "build_register_body",
]

VERIFYING_CONTRACTS = {
    "prod": "0x919386306C47b2Fe1036e3B4F7C40D22D2461a23",
    "dev": "0x8E4D87AEf4AC4D5415C35A12319013e34223825B",
}

ORDER_TYPES = ("uint256", "uint256", "string", "string", "bool", "string", "string", "bool")
CANCEL_TYPES = ("uint256", "uint256", "string")

_PERSONAL_PREFIX = b"\x19Ethereum Signed Message:\n32"


def abi_encode(types: Sequence[str], values: Sequence[Any]) -> bytes:
    """Standard (non-packed) ABI encoding for ``uint256``, ``bool``, ``address`` and
    ``string`` — the only types Vest's payloads use. Equal to ``eth_abi.encode``."""
    if len(types) != len(values):
        raise ValueError("types and values differ in length")
    head: list[bytes] = []
    tail: list[bytes] = []
    offset = 32 * len(types)
    for typ, value in zip(types, values, strict=True):
        if typ == "string":
            if not isinstance(value, str):
                raise ValueError(f"string expected, got {type(value).__name__}")
            data = value.encode("utf-8")
            padded = data + b"\x00" * (-len(data) % 32)
            head.append(offset.to_bytes(32, "big"))
            tail.append(len(data).to_bytes(32, "big") + padded)
            offset += 32 + len(padded)
        elif typ == "uint256":
            head.append(abi_uint(value))
        elif typ == "bool":
            head.append(abi_bool(value))
        elif typ == "address":
            head.append(abi_address(value))
        else:
            raise ValueError(f"unsupported ABI type {typ}")
    return b"".join(head) + b"".join(tail)


def personal_digest(message_hash: bytes) -> bytes:
    """EIP-191 digest of 32 raw bytes: ``keccak256("\\x19Ethereum Signed Message:\\n32" ‖ h)``."""
    return keccak256(_PERSONAL_PREFIX + message_hash)


def order_hash(order: Mapping[str, Any]) -> bytes:
    """keccak256 of the ABI-encoded order fields (the vectors' ``args_hash``)."""
    return keccak256(
        abi_encode(
            ORDER_TYPES,
            (
                order["time"],
                order["nonce"],
                order["orderType"],
                order["symbol"],
                order["isBuy"],
                order["size"],
                order["limitPrice"],
                order["reduceOnly"],
            ),
        )
    )


def order_digest(order: Mapping[str, Any]) -> bytes:
    """The 32 bytes the signing key signs for an order (EIP-191 over ``order_hash``)."""
    return personal_digest(order_hash(order))


def cancel_hash(cancel: Mapping[str, Any]) -> bytes:
    return keccak256(abi_encode(CANCEL_TYPES, (cancel["time"], cancel["nonce"], cancel["id"])))


_EIP712_DOMAIN_TYPEHASH = keccak256(b"EIP712Domain(string name,string version,address verifyingContract)")
_SIGNER_PROOF_TYPEHASH = keccak256(b"SignerProof(address approvedSigner,uint256 signerExpiry)")


def domain_separator(network: str) -> bytes:
    try:
        contract = VERIFYING_CONTRACTS[network]
    except KeyError:
        raise ValueError(f"network must be one of {sorted(VERIFYING_CONTRACTS)}") from None
    return keccak256(
        _EIP712_DOMAIN_TYPEHASH
        + keccak256(b"VestRouterV2")
        + keccak256(b"0.0.1")
        + abi_address(contract)
    )


_DOMAIN_SEPARATORS = {net: domain_separator(net) for net in VERIFYING_CONTRACTS}


def register_struct_hash(signing_address: str, expiry_ms: int) -> bytes:
    return keccak256(_SIGNER_PROOF_TYPEHASH + abi_address(signing_address) + abi_uint(expiry_ms))


def register_digest(signing_address: str, expiry_ms: int, network: str = "prod") -> bytes:
    """EIP-712 digest of ``SignerProof(signing_address, expiry_ms)`` for ``network``."""
    if network not in _DOMAIN_SEPARATORS:
        raise ValueError(f"network must be one of {sorted(VERIFYING_CONTRACTS)}")
    return eip712_digest(_DOMAIN_SEPARATORS[network], register_struct_hash(signing_address, expiry_ms))


def sign_order(private_key: str | bytes, order: Mapping[str, Any]) -> str:
    """Sign an order mapping (``time, nonce, orderType, symbol, isBuy, size,
    limitPrice, reduceOnly``; sizes and prices as the exact strings that will be sent)."""
    return EvmSigner(private_key).sign_hex(order_digest(order))


def sign_register(primary_private_key: str | bytes, signing_address: str, expiry_ms: int, network: str = "prod") -> str:
    """EIP-712 ``SignerProof`` signature by the primary key, for ``/register``."""
    return EvmSigner(primary_private_key).sign_hex(register_digest(signing_address, expiry_ms, network))


def build_register_body(primary_private_key: str | bytes, signing_address: str, expiry_ms: int,
                        network: str = "prod") -> dict[str, Any]:
    """The exact ``POST /register`` body: addresses lower-case, the primary key's
    ``SignerProof`` signature, ``networkType`` 0 (the only value Vest accepts)."""
    return {
        "signingAddr": signing_address.lower(),
        "primaryAddr": address_of(primary_private_key).lower(),
        "signature": sign_register(primary_private_key, signing_address, expiry_ms, network),
        "expiryTime": expiry_ms,
        "networkType": 0,
    }


class VestSigner(EvmSigner):
    """One signing key, parsed once; every ``sign_*`` is a pure function of its input."""

    __slots__ = ()

    def sign_order(self, order: Mapping[str, Any]) -> str:
        return self.sign_hex(order_digest(order))

    def sign_cancel(self, cancel: Mapping[str, Any]) -> str:
        return self.sign_hex(personal_digest(cancel_hash(cancel)))

    def sign_register(self, signing_address: str, expiry_ms: int, network: str = "prod") -> str:
        """Use when this signer holds the *primary* key."""
        return self.sign_hex(register_digest(signing_address, expiry_ms, network))
