"""Hyperliquid signing and signer recovery (hyperliquid-api.md §4.1, §4.2). Pure: no I/O,
no clock, no globals beyond constants.

* L1 actions (trading): ``connectionId = keccak(msgpack(action) ‖ nonce u64 BE ‖ vault flag
  [‖ 20 bytes] [‖ 0x00 ‖ expiresAfter u64 BE])``, then EIP-712 ``Agent{source, connectionId}``
  under the ``Exchange`` domain (chainId 1337), source ``"a"`` mainnet / ``"b"`` testnet.
* User-signed actions: EIP-712 ``HyperliquidTransaction:<Name>`` under the
  ``HyperliquidSignTransaction`` domain whose chainId is the action's ``signatureChainId``.
  An unnamed ``approveAgent`` is signed with ``agentName: ""`` and posted without the key,
  as the SDK does. Nothing here mutates a caller's dict (unlike the SDK, pitfall §8.13).

Decisions: the signing and recovery entry points first pass the action through
``hyperliquid_canonical.canonical_action``, so what is signed is exactly what the server will
re-encode (a hand-built ``"p": "25.20"`` or an upper-case cloid cannot produce a signature the
server rejects; an unparseable action raises before anything is signed). Only the action
types that module parses can be signed. The lower-level ``action_hash`` / ``l1_digest`` hash
the action as given. Signatures use ``mpdex.evm.EvmSigner`` (key parsed once, coincurve);
r/s go out as the SDK's ``to_hex(int)`` (leading zero nibbles dropped).
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import msgpack

from mpdex.evm import (
    EvmSigner,
    abi_address,
    abi_bool,
    abi_uint,
    eip712_digest,
    eip712_type_hash,
    keccak256,
    recover_address_rsv,
)

from .hyperliquid_canonical import (
    L1_ACTION_TYPES,
    USER_SIGNED_ACTION_TYPES,
    Signature,
    WireError,
    canonical_action,
    canonical_signature,
)
from .hyperliquid_wire import (
    SIGNATURE_CHAIN_ID,
    approve_agent_action,
    approve_builder_fee_action,
    exchange_body,
    usd_class_transfer_action,
    withdraw3_action,
)

__all__ = [
    "UNABLE_TO_RECOVER",
    "L1_DOMAIN_SEPARATOR",
    "AGENT_TYPE_HASH",
    "USER_SIGNED_TYPES",
    "SignatureError",
    "action_preimage",
    "action_hash",
    "agent_struct_hash",
    "l1_digest",
    "user_signed_domain_separator",
    "user_signed_struct_hash",
    "user_signed_digest",
    "sign_l1_action",
    "recover_l1_signer",
    "recover_user_signed",
    "HyperliquidSigner",
]

#: the server's answer when a signature recovers to no key (§1.4)
UNABLE_TO_RECOVER = "Unable to recover signer."

_U64 = 1 << 64
_ZERO_ADDRESS = "0x" + "00" * 20
_DOMAIN_TYPE_HASH = eip712_type_hash("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")


def _domain_separator(name: str, chain_id: int) -> bytes:
    return keccak256(_DOMAIN_TYPE_HASH + keccak256(name.encode()) + keccak256(b"1") + abi_uint(chain_id)
                     + abi_address(_ZERO_ADDRESS))


#: EIP-712 domain ``Exchange`` v1, chainId 1337, verifyingContract 0x0…0 (``0xd79297fc…4040``)
L1_DOMAIN_SEPARATOR = _domain_separator("Exchange", 1337)
AGENT_TYPE_HASH = eip712_type_hash("Agent(string source,bytes32 connectionId)")
_SOURCE_HASH = {True: keccak256(b"a"), False: keccak256(b"b")}

#: action type → (primaryType, EIP-712 fields in type-string order)
USER_SIGNED_TYPES: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "approveAgent": ("HyperliquidTransaction:ApproveAgent", (
        ("hyperliquidChain", "string"), ("agentAddress", "address"), ("agentName", "string"), ("nonce", "uint64"))),
    "approveBuilderFee": ("HyperliquidTransaction:ApproveBuilderFee", (
        ("hyperliquidChain", "string"), ("maxFeeRate", "string"), ("builder", "address"), ("nonce", "uint64"))),
    "usdClassTransfer": ("HyperliquidTransaction:UsdClassTransfer", (
        ("hyperliquidChain", "string"), ("amount", "string"), ("toPerp", "bool"), ("nonce", "uint64"))),
    "withdraw3": ("HyperliquidTransaction:Withdraw", (
        ("hyperliquidChain", "string"), ("destination", "string"), ("amount", "string"), ("time", "uint64"))),
}
_USER_TYPE_HASH = {
    kind: eip712_type_hash(f"{primary}({','.join(f'{t} {n}' for n, t in fields)})")
    for kind, (primary, fields) in USER_SIGNED_TYPES.items()
}
_SDK_USER_DOMAIN = _domain_separator("HyperliquidSignTransaction", int(SIGNATURE_CHAIN_ID, 16))


class SignatureError(ValueError):
    """The signature recovers to no public key (the server says ``Unable to recover signer.``)."""

    def __init__(self) -> None:
        super().__init__(UNABLE_TO_RECOVER)


# -- L1 actions ------------------------------------------------------------------------------


def _u64(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _U64:
        raise WireError(f"{name} must be an unsigned 64-bit integer, got {value!r}")
    return value


def _vault_bytes(vault_address: str) -> bytes:
    text = vault_address[2:] if vault_address[:2] == "0x" else vault_address
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = b""
    if len(raw) != 20 or len(text) != 40:
        raise WireError("vault_address must be a 20-byte hex address")
    return raw


def action_preimage(action: Mapping[str, Any], vault_address: str | None, nonce: int, expires_after: int | None) -> bytes:
    """``msgpack(action) ‖ nonce (8 bytes BE) ‖ 0x00 | 0x01 + vault (20 bytes)
    [‖ 0x00 ‖ expiresAfter (8 bytes BE)]``; the action is packed as given."""
    data = msgpack.packb(action) + _u64(nonce, "nonce").to_bytes(8, "big")
    data += b"\x00" if vault_address is None else b"\x01" + _vault_bytes(vault_address)
    if expires_after is not None:
        data += b"\x00" + _u64(expires_after, "expires_after").to_bytes(8, "big")
    return bytes(data)


def action_hash(action: Mapping[str, Any], vault_address: str | None, nonce: int, expires_after: int | None) -> bytes:
    """The ``connectionId``: keccak256 of ``action_preimage``."""
    return keccak256(action_preimage(action, vault_address, nonce, expires_after))


def agent_struct_hash(connection_id: bytes, is_mainnet: bool) -> bytes:
    """``hashStruct(Agent{source, connectionId})``."""
    return keccak256(AGENT_TYPE_HASH + _SOURCE_HASH[bool(is_mainnet)] + connection_id)


def l1_digest(
    action: Mapping[str, Any], vault_address: str | None, nonce: int, expires_after: int | None, is_mainnet: bool = True
) -> bytes:
    """The 32 bytes an L1 action's signature covers (the action hashed as given)."""
    connection_id = action_hash(action, vault_address, nonce, expires_after)
    return eip712_digest(L1_DOMAIN_SEPARATOR, agent_struct_hash(connection_id, is_mainnet))


def _canonical_l1(action: Any) -> dict[str, Any]:
    canon = canonical_action(action)
    if canon["type"] not in L1_ACTION_TYPES:
        raise WireError(f"{canon['type']} is user-signed, not an L1 action")
    return canon


def _to_wire(r: int, s: int, v: int) -> Signature:
    return Signature(r=hex(r), s=hex(s), v=v)


def _signer(private_key: str | bytes | EvmSigner) -> EvmSigner:
    return private_key if isinstance(private_key, EvmSigner) else HyperliquidSigner(private_key)


def sign_l1_action(
    private_key: str | bytes | EvmSigner,
    action: Mapping[str, Any],
    nonce: int,
    *,
    vault_address: str | None = None,
    expires_after: int | None = None,
    is_mainnet: bool = True,
) -> Signature:
    """``{"r", "s", "v"}`` over the canonical form of an L1 action, as the official SDK
    sends it. ``private_key`` may be an ``EvmSigner`` (parsed once; the fast path)."""
    digest = l1_digest(_canonical_l1(action), vault_address, nonce, expires_after, is_mainnet)
    return _to_wire(*_signer(private_key).sign_rsv(digest))


def _recover(digest: bytes, signature: Any) -> str:
    sig = canonical_signature(signature)
    try:
        return recover_address_rsv(digest, int(sig["r"], 16), int(sig["s"], 16), sig["v"])
    except ValueError:
        raise SignatureError() from None


def recover_l1_signer(
    action: Mapping[str, Any],
    nonce: int,
    signature: Mapping[str, Any],
    *,
    vault_address: str | None = None,
    expires_after: int | None = None,
    is_mainnet: bool = True,
) -> str:
    """The EIP-55 address that signed an L1 action, hashing its canonical form as the server
    does; ``DeserializeError`` for a malformed action or signature, ``SignatureError`` when it
    recovers to nothing. A wrong signature recovers to some other address: compare it."""
    return _recover(l1_digest(_canonical_l1(action), vault_address, nonce, expires_after, is_mainnet), signature)


# -- user-signed actions ------------------------------------------------------------------------


def user_signed_domain_separator(chain_id: int) -> bytes:
    """``HyperliquidSignTransaction`` v1 domain for ``chain_id`` (the action's ``signatureChainId``)."""
    return _SDK_USER_DOMAIN if chain_id == 0x66EEE else _domain_separator("HyperliquidSignTransaction", chain_id)


def _encode_field(kind: str, value: Any) -> bytes:
    if kind == "string":
        return keccak256(value.encode("utf-8"))
    if kind == "address":
        return abi_address(value)
    if kind == "bool":
        return abi_bool(value)
    return abi_uint(value)  # uint64, range-checked by the parser


def _canonical_user(action: Any) -> dict[str, Any]:
    canon = canonical_action(action)
    if canon["type"] not in USER_SIGNED_ACTION_TYPES:
        raise WireError(f"{canon['type']} is an L1 action, not user-signed")
    return canon


def user_signed_struct_hash(action: Mapping[str, Any]) -> bytes:
    """``hashStruct`` of a posted user-signed action (a missing ``agentName`` counts as ``""``)."""
    canon = _canonical_user(action)
    _, fields = USER_SIGNED_TYPES[canon["type"]]
    encoded = b"".join(_encode_field(kind, canon.get(name, "")) for name, kind in fields)
    return keccak256(_USER_TYPE_HASH[canon["type"]] + encoded)


def user_signed_digest(action: Mapping[str, Any]) -> bytes:
    """The 32 bytes a user-signed action's signature covers."""
    chain_id = int(_canonical_user(action)["signatureChainId"], 16)
    return eip712_digest(user_signed_domain_separator(chain_id), user_signed_struct_hash(action))


def recover_user_signed(action: Mapping[str, Any], signature: Mapping[str, Any]) -> str:
    """The EIP-55 address that signed a posted user-signed action. Its ``hyperliquidChain``
    is part of the hash, so the caller checks it against its own network."""
    return _recover(user_signed_digest(action), signature)


# -- the signer ---------------------------------------------------------------------------------


class HyperliquidSigner(EvmSigner):
    """One key, parsed once; signs L1 and user-signed actions. ``repr`` shows the address only.

    The user-signed helpers return the whole ``/exchange`` body (SDK form, ``vaultAddress``
    and ``expiresAfter`` null); the envelope nonce is the action's ``nonce`` / ``time``.
    """

    __slots__ = ()

    def __init__(self, private_key: str | bytes) -> None:
        try:
            super().__init__(private_key)
        except (ValueError, TypeError, AttributeError):
            raise ValueError("private key must be 32 bytes (64 hex digits), not zero, below the curve order") from None

    def sign_l1(
        self,
        action: Mapping[str, Any],
        nonce: int,
        *,
        vault_address: str | None = None,
        expires_after: int | None = None,
        is_mainnet: bool = True,
    ) -> Signature:
        return sign_l1_action(self, action, nonce, vault_address=vault_address, expires_after=expires_after,
                              is_mainnet=is_mainnet)

    def sign_user_signed(self, action: Mapping[str, Any]) -> Signature:
        """Signature of a complete posted user-signed action (with ``signatureChainId`` and
        ``hyperliquidChain``)."""
        return _to_wire(*self.sign_rsv(user_signed_digest(action)))

    def _body(self, action: dict[str, Any], nonce: int) -> dict[str, Any]:
        return exchange_body(action, nonce, self.sign_user_signed(action))

    def approve_agent(
        self, agent_address: str, nonce: int, *, agent_name: str | None = None, is_mainnet: bool = True,
        signature_chain_id: str = SIGNATURE_CHAIN_ID,
    ) -> dict[str, Any]:
        """Approve ``agent_address`` as an API wallet (unnamed: replaces the unnamed one)."""
        return self._body(approve_agent_action(agent_address, nonce, agent_name=agent_name, is_mainnet=is_mainnet,
                                               signature_chain_id=signature_chain_id), nonce)

    def approve_builder_fee(
        self, builder: str, max_fee_rate: str | Decimal, nonce: int, *, is_mainnet: bool = True,
        signature_chain_id: str = SIGNATURE_CHAIN_ID,
    ) -> dict[str, Any]:
        """Allow ``builder`` to charge up to ``max_fee_rate`` (percent string, ``"0.001%"``)."""
        return self._body(approve_builder_fee_action(builder, max_fee_rate, nonce, is_mainnet=is_mainnet,
                                                     signature_chain_id=signature_chain_id), nonce)

    def usd_class_transfer(
        self, amount: Decimal | int | str, to_perp: bool, nonce: int, *, vault_address: str | None = None, is_mainnet: bool = True,
        signature_chain_id: str = SIGNATURE_CHAIN_ID,
    ) -> dict[str, Any]:
        """Move USDC between spot and perp (``to_perp``); a sub-account via ``vault_address``."""
        return self._body(usd_class_transfer_action(amount, to_perp, nonce, vault_address=vault_address,
                                                    is_mainnet=is_mainnet, signature_chain_id=signature_chain_id), nonce)

    def withdraw3(
        self, destination: str, amount: Decimal | int | str, nonce: int, *, is_mainnet: bool = True,
        signature_chain_id: str = SIGNATURE_CHAIN_ID,
    ) -> dict[str, Any]:
        """Withdraw ``amount`` USDC through the bridge to ``destination``."""
        return self._body(withdraw3_action(destination, amount, nonce, is_mainnet=is_mainnet,
                                           signature_chain_id=signature_chain_id), nonce)
