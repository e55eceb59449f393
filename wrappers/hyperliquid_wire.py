"""Hyperliquid's canonical wire form, built: the exact action objects and ``/exchange``
envelope the client posts, which the server re-encodes and hashes (hyperliquid-api.md §3,
§4.3). Parsing a posted body back into that form is ``hyperliquid_canonical``.

Decisions:

* Builders emit each action in the server's struct order with canonical decimal strings
  (``decimal_to_wire``: no exponent, no trailing zeros, never ``-0``, at most 8 decimals)
  from ``Decimal`` or ``int`` only — never floats. Optional keys are omitted, never
  ``null``. Hex (cloids, addresses) goes out lower-case. Bad input raises ``WireError``
  before anything is signed; the limits and errors are ``hyperliquid_canonical``'s.
* User-signed actions keep the official SDK's key order (their hash is EIP-712, so order
  never matters to the server, but the posted JSON then matches the SDK byte for byte);
  their ``string`` fields are hashed as text, so a string amount goes out verbatim.
* ``cloid_for_client_id`` is the identity on the 128-bit value (``0x`` + 32 hex digits of
  the integer, as the SDK's ``Cloid.from_int``), so a cloid maps back to its client id.
* Pure except ``new_cloid`` (random, via ``secrets``), kept at the end of the module.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

from mpdex.evm import to_checksum_address

from .hyperliquid_canonical import (
    ADDRESS_RE,
    CLOID_RE,
    DECIMAL_RE,
    FEE_RATE_RE,
    GROUPINGS,
    HEX_RE,
    I64,
    MAX_DECIMALS,
    U32,
    U64,
    DeserializeError,
    Signature,
    WireError,
    canonical_order_type,
)

__all__ = [
    "SIGNATURE_CHAIN_ID",
    "TIFS",
    "decimal_to_wire",
    "validate_cloid",
    "cloid_for_client_id",
    "hyperliquid_chain",
    "limit_type",
    "trigger_type",
    "order_wire",
    "builder_info",
    "order_action",
    "cancel_action",
    "cancel_by_cloid_action",
    "modify_action",
    "batch_modify_action",
    "update_leverage_action",
    "update_isolated_margin_action",
    "usd_to_ntli",
    "schedule_cancel_action",
    "noop_action",
    "approve_agent_action",
    "approve_builder_fee_action",
    "usd_class_transfer_action",
    "withdraw3_action",
    "exchange_body",
    "new_cloid",
]

#: the chain id the official SDK signs user-signed actions with (421614); any is allowed
SIGNATURE_CHAIN_ID = "0x66eee"

Tif = Literal["Gtc", "Ioc", "Alo"]
Tpsl = Literal["tp", "sl"]
Grouping = Literal["na", "normalTpsl", "positionTpsl"]

#: what the client builds: ``FrontendMarket`` (the web UI's tif) is never sent from here
TIFS: frozenset[str] = frozenset({"Gtc", "Ioc", "Alo"})

_CLOID_INT = 1 << 128


# -- canonical values ----------------------------------------------------------------------


def decimal_to_wire(value: Decimal | int) -> str:
    """Canonical decimal string: no exponent, trailing zeros stripped, ``-0`` → ``"0"``;
    ``WireError`` for floats, non-finite values or more than 8 significant decimals."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise WireError(f"a Decimal or int is required on the wire, got {type(value).__name__}")
    if isinstance(value, int):
        return str(value)
    if not value.is_finite():
        raise WireError(f"not a finite decimal: {value}")
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
        point = text.find(".")
        if point >= 0 and len(text) - point - 1 > MAX_DECIMALS:
            raise WireError(f"{value} has more than {MAX_DECIMALS} decimals")
    return "0" if text == "-0" else text


def _positive(value: Decimal | int, name: str) -> str:
    text = decimal_to_wire(value)
    if text.startswith("-") or text == "0":
        raise WireError(f"{name} must be positive, got {value}")
    return text


def _uint(value: Any, name: str, bound: int, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value < bound:
        raise WireError(f"{name} must be an integer in [{minimum}, {bound}), got {value!r}")
    return value


def _address(value: Any, name: str) -> str:
    if not isinstance(value, str) or (m := ADDRESS_RE.fullmatch(value)) is None or not value.startswith("0x"):
        raise WireError(f"{name} must be a 0x-prefixed 20-byte hex address")
    return "0x" + m.group(1).lower()


def validate_cloid(text: Any) -> str:
    """``0x`` + exactly 32 hex digits, returned lower-case; ``WireError`` otherwise."""
    if not isinstance(text, str) or CLOID_RE.fullmatch(text) is None:
        raise WireError(f"a cloid is 0x followed by exactly 32 hex digits, got {text!r}")
    return text.lower()


def cloid_for_client_id(client_id: int | str) -> str:
    """The cloid for a caller's client id: a positive int below 2**128 (or its decimal
    digits, as ``new_client_id()`` hands them out) becomes ``0x`` + its 32-digit hex, equal to
    the SDK's ``Cloid.from_int``; a valid cloid string passes through lower-cased."""
    if isinstance(client_id, str):
        text = client_id.strip()
        if text.isdigit() and text.isascii():
            client_id = int(text)
        else:
            return validate_cloid(text)
    if isinstance(client_id, bool) or not isinstance(client_id, int) or not 0 < client_id < _CLOID_INT:
        raise WireError(f"client_id must be a positive integer below 2**128 or a cloid, got {client_id!r}")
    return f"0x{client_id:032x}"


def hyperliquid_chain(is_mainnet: bool) -> str:
    return "Mainnet" if is_mainnet else "Testnet"


# -- L1 action builders --------------------------------------------------------------------


def limit_type(tif: Tif = "Gtc") -> dict[str, Any]:
    """``{"limit": {"tif": tif}}`` with tif ∈ Gtc | Ioc | Alo."""
    if tif not in TIFS:
        raise WireError(f"tif must be one of Gtc, Ioc, Alo, got {tif!r}")
    return {"limit": {"tif": tif}}


def trigger_type(trigger_px: Decimal | int, *, is_market: bool, tpsl: Tpsl) -> dict[str, Any]:
    """``{"trigger": {"isMarket", "triggerPx", "tpsl"}}`` in that order."""
    if not isinstance(is_market, bool):
        raise WireError("is_market must be a bool")
    if tpsl not in ("tp", "sl"):
        raise WireError(f"tpsl must be 'tp' or 'sl', got {tpsl!r}")
    return {"trigger": {"isMarket": is_market, "triggerPx": _positive(trigger_px, "trigger_px"), "tpsl": tpsl}}


def order_wire(
    asset: int,
    is_buy: bool,
    price: Decimal | int,
    size: Decimal | int,
    *,
    reduce_only: bool = False,
    order_type: Mapping[str, Any] | None = None,
    cloid: str | None = None,
) -> dict[str, Any]:
    """One order ``{a, b, p, s, r, t, c?}``; ``order_type`` from ``limit_type`` /
    ``trigger_type`` (default Gtc limit). ``p`` is the limit or worst price, also for market
    and trigger orders."""
    if not isinstance(is_buy, bool) or not isinstance(reduce_only, bool):
        raise WireError("is_buy and reduce_only must be bools")
    wire: dict[str, Any] = {
        "a": _uint(asset, "asset", U32),
        "b": is_buy,
        "p": _positive(price, "price"),
        "s": _positive(size, "size"),
        "r": reduce_only,
        "t": _order_type_copy(order_type),
    }
    if cloid is not None:
        wire["c"] = validate_cloid(cloid)
    return wire


def _order_type_copy(order_type: Mapping[str, Any] | None) -> dict[str, Any]:
    if order_type is None:
        return {"limit": {"tif": "Gtc"}}
    try:
        parsed = canonical_order_type(order_type, "order_type")
    except DeserializeError as exc:
        raise WireError(f"order_type is not a limit_type()/trigger_type() value: {exc.detail}") from None
    if "limit" in parsed and parsed["limit"]["tif"] not in TIFS:
        raise WireError(f"tif must be one of Gtc, Ioc, Alo, got {parsed['limit']['tif']!r}")
    return parsed


def builder_info(address: str, fee: int) -> dict[str, Any]:
    """``{"b": lower-case address, "f": fee in tenths of a basis point}`` (10 = 1 bp)."""
    return {"b": _address(address, "builder address"), "f": _uint(fee, "builder fee", U64)}


def order_action(
    orders: Sequence[Mapping[str, Any]], *, grouping: Grouping = "na", builder: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``{type: order, orders, grouping, builder?}`` from ``order_wire`` values; ``builder``
    as ``builder_info`` returns it (omit it for no builder fee: none is ever added here)."""
    if grouping not in GROUPINGS:
        raise WireError(f"grouping must be one of {sorted(GROUPINGS)}, got {grouping!r}")
    action: dict[str, Any] = {"type": "order", "orders": [dict(o) for o in orders], "grouping": grouping}
    if builder is not None:
        action["builder"] = builder_info(builder.get("b"), builder.get("f"))  # type: ignore[arg-type]
    return action


def cancel_action(cancels: Iterable[tuple[int, int]]) -> dict[str, Any]:
    """``{type: cancel, cancels: [{a, o}]}`` from ``(asset, oid)`` pairs."""
    return {"type": "cancel", "cancels": [{"a": _uint(a, "asset", U32), "o": _uint(o, "oid", U64)} for a, o in cancels]}


def cancel_by_cloid_action(cancels: Iterable[tuple[int, str]]) -> dict[str, Any]:
    """``{type: cancelByCloid, cancels: [{asset, cloid}]}`` from ``(asset, cloid)`` pairs."""
    return {
        "type": "cancelByCloid",
        "cancels": [{"asset": _uint(a, "asset", U32), "cloid": validate_cloid(c)} for a, c in cancels],
    }


def _oid_or_cloid(oid: int | str) -> int | str:
    return validate_cloid(oid) if isinstance(oid, str) else _uint(oid, "oid", U64)


def modify_action(oid: int | str, order: Mapping[str, Any]) -> dict[str, Any]:
    """``{type: modify, oid, order}``; ``oid`` is an order id or a cloid."""
    return {"type": "modify", "oid": _oid_or_cloid(oid), "order": dict(order)}


def batch_modify_action(modifies: Iterable[tuple[int | str, Mapping[str, Any]]]) -> dict[str, Any]:
    """``{type: batchModify, modifies: [{oid, order}]}`` (the SDK sends this even for one)."""
    return {"type": "batchModify", "modifies": [{"oid": _oid_or_cloid(o), "order": dict(w)} for o, w in modifies]}


def update_leverage_action(asset: int, leverage: int, *, is_cross: bool) -> dict[str, Any]:
    """``{type: updateLeverage, asset, isCross, leverage}``; leverage a positive integer."""
    if not isinstance(is_cross, bool):
        raise WireError("is_cross must be a bool")
    return {"type": "updateLeverage", "asset": _uint(asset, "asset", U32), "isCross": is_cross,
            "leverage": _uint(leverage, "leverage", U32, 1)}


def usd_to_ntli(usdc: Decimal | int) -> int:
    """USDC as the signed integer of micro-USDC that ``ntli`` carries; exact or ``WireError``."""
    if isinstance(usdc, bool) or not isinstance(usdc, (Decimal, int)):
        raise WireError(f"a Decimal or int is required, got {type(usdc).__name__}")
    micro = Decimal(usdc).scaleb(6)
    if not micro.is_finite() or micro != micro.to_integral_value():
        raise WireError(f"{usdc} USDC is not a whole number of micro-USDC")
    return _signed64(int(micro), "ntli")


def _signed64(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -I64 <= value < I64:
        raise WireError(f"{name} must be a signed 64-bit integer, got {value!r}")
    return value


def update_isolated_margin_action(asset: int, ntli: int, *, is_buy: bool = True) -> dict[str, Any]:
    """``{type: updateIsolatedMargin, asset, isBuy, ntli}``; ``ntli`` in micro-USDC, > 0 adds."""
    if not isinstance(is_buy, bool):
        raise WireError("is_buy must be a bool")
    return {"type": "updateIsolatedMargin", "asset": _uint(asset, "asset", U32), "isBuy": is_buy,
            "ntli": _signed64(ntli, "ntli")}


def schedule_cancel_action(time_ms: int | None = None) -> dict[str, Any]:
    """``{type: scheduleCancel, time?}``; no time clears the dead-man switch."""
    if time_ms is None:
        return {"type": "scheduleCancel"}
    return {"type": "scheduleCancel", "time": _uint(time_ms, "time", U64)}


def noop_action() -> dict[str, Any]:
    """``{type: noop}``: burns a nonce, invalidating actions signed with lower ones."""
    return {"type": "noop"}


# -- user-signed action builders (SDK key order) -------------------------------------------


def _chain_fields(is_mainnet: bool, signature_chain_id: str) -> dict[str, Any]:
    if not isinstance(signature_chain_id, str) or HEX_RE.fullmatch(signature_chain_id) is None:
        raise WireError(f"signature_chain_id must be 0x-prefixed hex, got {signature_chain_id!r}")
    return {"signatureChainId": signature_chain_id.lower(), "hyperliquidChain": hyperliquid_chain(is_mainnet)}


def _amount(amount: Decimal | int | str, name: str = "amount") -> str:
    if not isinstance(amount, str):
        return _positive(amount, name)
    if DECIMAL_RE.fullmatch(amount) is None:
        raise WireError(f"{name} must be a plain decimal string (digits, optional point), got {amount!r}")
    if not amount.strip("0."):
        raise WireError(f"{name} must be positive, got {amount!r}")
    return amount


def approve_agent_action(
    agent_address: str, nonce: int, *, agent_name: str | None = None, is_mainnet: bool = True,
    signature_chain_id: str = SIGNATURE_CHAIN_ID,
) -> dict[str, Any]:
    """The posted ``approveAgent``; without a name the key is absent (the server, like the
    SDK, signs ``agentName: ""`` then). The address goes out EIP-55 checksummed, as the SDK's."""
    action: dict[str, Any] = {"type": "approveAgent", "agentAddress": to_checksum_address(_address(agent_address, "agent_address"))}
    if agent_name is not None:
        if not isinstance(agent_name, str) or not 1 <= len(agent_name) <= 16:
            raise WireError("agent_name must be 1 to 16 characters")
        action["agentName"] = agent_name
    action["nonce"] = _uint(nonce, "nonce", U64)
    return action | _chain_fields(is_mainnet, signature_chain_id)


def approve_builder_fee_action(
    builder: str, max_fee_rate: str | Decimal, nonce: int, *, is_mainnet: bool = True,
    signature_chain_id: str = SIGNATURE_CHAIN_ID,
) -> dict[str, Any]:
    """The posted ``approveBuilderFee``; ``max_fee_rate`` a percent string (``"0.001%"``) or a
    Decimal percent (``Decimal("0.001")`` → ``"0.001%"``)."""
    rate = max_fee_rate if isinstance(max_fee_rate, str) else decimal_to_wire(max_fee_rate) + "%"
    if FEE_RATE_RE.fullmatch(rate) is None:
        raise WireError(f"max_fee_rate must be a percent like '0.001%', got {max_fee_rate!r}")
    return {"maxFeeRate": rate, "builder": _address(builder, "builder"), "nonce": _uint(nonce, "nonce", U64),
            "type": "approveBuilderFee"} | _chain_fields(is_mainnet, signature_chain_id)


def usd_class_transfer_action(
    amount: Decimal | int | str, to_perp: bool, nonce: int, *, vault_address: str | None = None,
    is_mainnet: bool = True, signature_chain_id: str = SIGNATURE_CHAIN_ID,
) -> dict[str, Any]:
    """The posted ``usdClassTransfer`` (perp ↔ spot); for a sub-account the amount carries
    ``" subaccount:0x…"`` and the envelope's ``vaultAddress`` stays null (§3.1). A string
    amount is sent verbatim (it is hashed as text); a Decimal goes through ``decimal_to_wire``."""
    if not isinstance(to_perp, bool):
        raise WireError("to_perp must be a bool")
    text = _amount(amount)
    if vault_address is not None:
        text += f" subaccount:{_address(vault_address, 'vault_address')}"
    return {"type": "usdClassTransfer", "amount": text, "toPerp": to_perp,
            "nonce": _uint(nonce, "nonce", U64)} | _chain_fields(is_mainnet, signature_chain_id)


def withdraw3_action(
    destination: str, amount: Decimal | int | str, time_ms: int, *, is_mainnet: bool = True,
    signature_chain_id: str = SIGNATURE_CHAIN_ID,
) -> dict[str, Any]:
    """The posted ``withdraw3`` (bridge withdrawal); ``destination`` is hashed as text, so it
    goes out lower-case; ``time_ms`` must equal the envelope nonce."""
    return {"destination": _address(destination, "destination"), "amount": _amount(amount),
            "time": _uint(time_ms, "time", U64), "type": "withdraw3"} | _chain_fields(is_mainnet, signature_chain_id)


def exchange_body(
    action: Mapping[str, Any], nonce: int, signature: Signature, *, vault_address: str | None = None,
    expires_after: int | None = None,
) -> dict[str, Any]:
    """The ``/exchange`` envelope in the SDK's form (unused ``vaultAddress`` /
    ``expiresAfter`` sent as ``null``, which the server accepts like absent keys)."""
    return {
        "action": dict(action),
        "nonce": _uint(nonce, "nonce", U64),
        "signature": signature,
        "vaultAddress": None if vault_address is None else _address(vault_address, "vault_address"),
        "expiresAfter": None if expires_after is None else _uint(expires_after, "expires_after", U64),
    }


# -- not pure: random cloids ---------------------------------------------------------------


def new_cloid() -> str:
    """A random cloid (128 bits from ``secrets``) for an order whose caller gave no client id."""
    return "0x" + secrets.token_hex(16)
