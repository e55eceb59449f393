"""Hyperliquid's canonical wire form: the exact action objects the server re-encodes and
hashes (hyperliquid-api.md §3, §4.3), built by the client and parsed back by a strict server.

Decisions:

* Client side, builders emit each action in the server's struct order with canonical
  decimal strings (``decimal_to_wire``: no exponent, no trailing zeros, never ``-0``, at most
  8 decimals) from ``Decimal`` or ``int`` only — never floats. Optional keys are omitted,
  never ``null``. Hex (cloids, addresses) goes out lower-case.
* Server side, ``canonical_action`` / ``parse_exchange_request`` parse a posted body the way
  the real server does: unknown keys, wrong JSON types, a non-zero 9th decimal, exponents,
  signs or a cloid of the wrong length raise ``DeserializeError`` (HTTP 422 with the server's
  exact text); accepted input is re-encoded canonically, so reordered keys, padding zeros and
  upper-case hex hash the same as the canonical form. ``"-0"`` is refused (open question
  §9.7: the stricter reading).
* User-signed actions keep the official SDK's key order (their hash is EIP-712, so order
  never matters to the server, but the posted JSON then matches the SDK byte for byte);
  their ``string`` fields (``amount``, ``destination``, ``maxFeeRate``) are hashed as text,
  so a parser validates them and keeps them verbatim.
* ``cloid_for_client_id`` is the identity on the 128-bit value (``0x`` + 32 hex digits of
  the integer, as the SDK's ``Cloid.from_int``), so a cloid maps back to its client id.
* Pure except ``new_cloid`` (random, via ``secrets``), kept at the end of the module.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, TypedDict

from mpdex.evm import to_checksum_address

__all__ = [
    "DESERIALIZE_ERROR",
    "SIGNATURE_CHAIN_ID",
    "TIFS",
    "PARSED_TIFS",
    "GROUPINGS",
    "L1_ACTION_TYPES",
    "USER_SIGNED_ACTION_TYPES",
    "WireError",
    "DeserializeError",
    "Signature",
    "ExchangeRequest",
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
    "canonical_action",
    "canonical_signature",
    "parse_exchange_request",
    "new_cloid",
]

#: the server's HTTP 422 body for a payload of the wrong shape (hyperliquid-api.md §1.3)
DESERIALIZE_ERROR = "Failed to deserialize the JSON body into the target type"
#: the chain id the official SDK signs user-signed actions with (421614); any is allowed
SIGNATURE_CHAIN_ID = "0x66eee"

Tif = Literal["Gtc", "Ioc", "Alo"]
Tpsl = Literal["tp", "sl"]
Grouping = Literal["na", "normalTpsl", "positionTpsl"]

#: what the client builds: ``FrontendMarket`` (the web UI's tif) is never sent from here
TIFS: frozenset[str] = frozenset({"Gtc", "Ioc", "Alo"})
#: what the server accepts (§3.2: the UI's ``FrontendMarket`` exists too)
PARSED_TIFS: frozenset[str] = TIFS | {"FrontendMarket"}
GROUPINGS: frozenset[str] = frozenset({"na", "normalTpsl", "positionTpsl"})
L1_ACTION_TYPES: frozenset[str] = frozenset({
    "order", "cancel", "cancelByCloid", "modify", "batchModify", "updateLeverage",
    "updateIsolatedMargin", "scheduleCancel", "noop",
})
USER_SIGNED_ACTION_TYPES: frozenset[str] = frozenset({"approveAgent", "approveBuilderFee", "usdClassTransfer", "withdraw3"})

_U32 = 1 << 32
_U64 = 1 << 64
_I64 = 1 << 63
_CLOID_INT = 1 << 128
_MAX_DECIMALS = 8
_DEC_RE = re.compile(r"([0-9]+)(?:\.([0-9]+))?")
_CLOID_RE = re.compile(r"0x[0-9a-fA-F]{32}")
_ADDRESS_RE = re.compile(r"(?:0x)?([0-9a-fA-F]{40})")
_HEX_RE = re.compile(r"0x([0-9a-fA-F]{1,64})")
_FEE_RATE_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?%")
_SUBACCOUNT_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?)(?: subaccount:0x[0-9a-fA-F]{40})?")


class WireError(ValueError):
    """A value that has no canonical wire form (raised before anything is signed)."""


class DeserializeError(WireError):
    """The server's HTTP 422: the JSON is valid but not of the target type.

    ``text`` is the server's exact body; ``detail`` says what was wrong (ours, not the
    server's wording; the real server sometimes appends a serde message after ``": "``).
    """

    status = 422
    text = DESERIALIZE_ERROR

    def __init__(self, detail: str) -> None:
        super().__init__(f"{DESERIALIZE_ERROR}: {detail}")
        self.detail = detail


class Signature(TypedDict):
    """The posted ``signature``: r/s as the SDK's ``to_hex(int)`` (no leading zeros)."""

    r: str
    s: str
    v: int


@dataclass(frozen=True)
class ExchangeRequest:
    """A parsed ``/exchange`` body; ``action`` is canonical, hex lower-case."""

    action: dict[str, Any]
    nonce: int
    signature: Signature
    vault_address: str | None
    expires_after: int | None


# -- client side: canonical values ---------------------------------------------------------


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
        if point >= 0 and len(text) - point - 1 > _MAX_DECIMALS:
            raise WireError(f"{value} has more than {_MAX_DECIMALS} decimals")
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
    if not isinstance(value, str) or (m := _ADDRESS_RE.fullmatch(value)) is None or not value.startswith("0x"):
        raise WireError(f"{name} must be a 0x-prefixed 20-byte hex address")
    return "0x" + m.group(1).lower()


def validate_cloid(text: Any) -> str:
    """``0x`` + exactly 32 hex digits, returned lower-case; ``WireError`` otherwise."""
    if not isinstance(text, str) or _CLOID_RE.fullmatch(text) is None:
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


# -- client side: L1 action builders --------------------------------------------------------


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
        "a": _uint(asset, "asset", _U32),
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
        parsed = _parse_order_type(order_type, "order_type")
    except DeserializeError as exc:
        raise WireError(f"order_type is not a limit_type()/trigger_type() value: {exc.detail}") from None
    if "limit" in parsed and parsed["limit"]["tif"] not in TIFS:
        raise WireError(f"tif must be one of Gtc, Ioc, Alo, got {parsed['limit']['tif']!r}")
    return parsed


def builder_info(address: str, fee: int) -> dict[str, Any]:
    """``{"b": lower-case address, "f": fee in tenths of a basis point}`` (10 = 1 bp)."""
    return {"b": _address(address, "builder address"), "f": _uint(fee, "builder fee", _U64)}


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
    return {"type": "cancel", "cancels": [{"a": _uint(a, "asset", _U32), "o": _uint(o, "oid", _U64)} for a, o in cancels]}


def cancel_by_cloid_action(cancels: Iterable[tuple[int, str]]) -> dict[str, Any]:
    """``{type: cancelByCloid, cancels: [{asset, cloid}]}`` from ``(asset, cloid)`` pairs."""
    return {
        "type": "cancelByCloid",
        "cancels": [{"asset": _uint(a, "asset", _U32), "cloid": validate_cloid(c)} for a, c in cancels],
    }


def _oid_or_cloid(oid: int | str) -> int | str:
    return validate_cloid(oid) if isinstance(oid, str) else _uint(oid, "oid", _U64)


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
    return {"type": "updateLeverage", "asset": _uint(asset, "asset", _U32), "isCross": is_cross,
            "leverage": _uint(leverage, "leverage", _U32, 1)}


def usd_to_ntli(usdc: Decimal | int) -> int:
    """USDC as the signed integer of micro-USDC that ``ntli`` carries; exact or ``WireError``."""
    if isinstance(usdc, bool) or not isinstance(usdc, (Decimal, int)):
        raise WireError(f"a Decimal or int is required, got {type(usdc).__name__}")
    micro = Decimal(usdc).scaleb(6)
    if not micro.is_finite() or micro != micro.to_integral_value():
        raise WireError(f"{usdc} USDC is not a whole number of micro-USDC")
    return _signed64(int(micro), "ntli")


def _signed64(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -_I64 <= value < _I64:
        raise WireError(f"{name} must be a signed 64-bit integer, got {value!r}")
    return value


def update_isolated_margin_action(asset: int, ntli: int, *, is_buy: bool = True) -> dict[str, Any]:
    """``{type: updateIsolatedMargin, asset, isBuy, ntli}``; ``ntli`` in micro-USDC, > 0 adds."""
    if not isinstance(is_buy, bool):
        raise WireError("is_buy must be a bool")
    return {"type": "updateIsolatedMargin", "asset": _uint(asset, "asset", _U32), "isBuy": is_buy,
            "ntli": _signed64(ntli, "ntli")}


def schedule_cancel_action(time_ms: int | None = None) -> dict[str, Any]:
    """``{type: scheduleCancel, time?}``; no time clears the dead-man switch."""
    if time_ms is None:
        return {"type": "scheduleCancel"}
    return {"type": "scheduleCancel", "time": _uint(time_ms, "time", _U64)}


def noop_action() -> dict[str, Any]:
    """``{type: noop}``: burns a nonce, invalidating actions signed with lower ones."""
    return {"type": "noop"}


# -- client side: user-signed action builders (SDK key order) -------------------------------


def _chain_fields(is_mainnet: bool, signature_chain_id: str) -> dict[str, Any]:
    if not isinstance(signature_chain_id, str) or _HEX_RE.fullmatch(signature_chain_id) is None:
        raise WireError(f"signature_chain_id must be 0x-prefixed hex, got {signature_chain_id!r}")
    return {"signatureChainId": signature_chain_id.lower(), "hyperliquidChain": hyperliquid_chain(is_mainnet)}


def _amount(amount: Decimal | int | str, name: str = "amount") -> str:
    if not isinstance(amount, str):
        return _positive(amount, name)
    if _DEC_RE.fullmatch(amount) is None:
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
    action["nonce"] = _uint(nonce, "nonce", _U64)
    return action | _chain_fields(is_mainnet, signature_chain_id)


def approve_builder_fee_action(
    builder: str, max_fee_rate: str | Decimal, nonce: int, *, is_mainnet: bool = True,
    signature_chain_id: str = SIGNATURE_CHAIN_ID,
) -> dict[str, Any]:
    """The posted ``approveBuilderFee``; ``max_fee_rate`` a percent string (``"0.001%"``) or a
    Decimal percent (``Decimal("0.001")`` → ``"0.001%"``)."""
    rate = max_fee_rate if isinstance(max_fee_rate, str) else decimal_to_wire(max_fee_rate) + "%"
    if _FEE_RATE_RE.fullmatch(rate) is None:
        raise WireError(f"max_fee_rate must be a percent like '0.001%', got {max_fee_rate!r}")
    return {"maxFeeRate": rate, "builder": _address(builder, "builder"), "nonce": _uint(nonce, "nonce", _U64),
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
            "nonce": _uint(nonce, "nonce", _U64)} | _chain_fields(is_mainnet, signature_chain_id)


def withdraw3_action(
    destination: str, amount: Decimal | int | str, time_ms: int, *, is_mainnet: bool = True,
    signature_chain_id: str = SIGNATURE_CHAIN_ID,
) -> dict[str, Any]:
    """The posted ``withdraw3`` (bridge withdrawal); ``destination`` is hashed as text, so it
    goes out lower-case; ``time_ms`` must equal the envelope nonce."""
    return {"destination": _address(destination, "destination"), "amount": _amount(amount),
            "time": _uint(time_ms, "time", _U64), "type": "withdraw3"} | _chain_fields(is_mainnet, signature_chain_id)


def exchange_body(
    action: Mapping[str, Any], nonce: int, signature: Signature, *, vault_address: str | None = None,
    expires_after: int | None = None,
) -> dict[str, Any]:
    """The ``/exchange`` envelope in the SDK's form (unused ``vaultAddress`` /
    ``expiresAfter`` sent as ``null``, which the server accepts like absent keys)."""
    return {
        "action": dict(action),
        "nonce": _uint(nonce, "nonce", _U64),
        "signature": signature,
        "vaultAddress": None if vault_address is None else _address(vault_address, "vault_address"),
        "expiresAfter": None if expires_after is None else _uint(expires_after, "expires_after", _U64),
    }


# -- server side: parse a posted body like the real server -----------------------------------


def _fail(path: str, what: str) -> DeserializeError:
    return DeserializeError(f"{path}: {what}")


def _obj(value: Any, path: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(path, "expected an object")
    for key in value:
        if key not in required and key not in optional:
            raise _fail(path, f"unknown field `{key}`")
    for key in required:
        if key not in value:
            raise _fail(path, f"missing field `{key}`")
    return value


def _p_uint(value: Any, path: str, bound: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < bound:
        raise _fail(path, f"expected an unsigned integer below 2^{bound.bit_length() - 1}")
    return value


def _p_int64(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -_I64 <= value < _I64:
        raise _fail(path, "expected a signed 64-bit integer")
    return value


def _p_bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(path, "expected a boolean")
    return value


def _p_str(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise _fail(path, "expected a string")
    return value


def _p_enum(value: Any, path: str, allowed: frozenset[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise _fail(path, f"expected one of {sorted(allowed)}")
    return value


def _p_decimal(value: Any, path: str) -> str:
    """An unsigned decimal string → canonical (leading and trailing zeros stripped)."""
    if not isinstance(value, str):
        raise _fail(path, "expected a decimal string")
    m = _DEC_RE.fullmatch(value)
    if m is None:
        raise _fail(path, "not a plain decimal (no sign, exponent or spaces)")
    whole = m.group(1).lstrip("0") or "0"
    frac = (m.group(2) or "").rstrip("0")
    if len(frac) > _MAX_DECIMALS:
        raise _fail(path, f"more than {_MAX_DECIMALS} decimals")
    return f"{whole}.{frac}" if frac else whole


def _p_cloid(value: Any, path: str) -> str:
    if not isinstance(value, str) or _CLOID_RE.fullmatch(value) is None:
        raise _fail(path, "a cloid is 0x followed by exactly 32 hex digits")
    return value.lower()


def _p_address(value: Any, path: str) -> str:
    if not isinstance(value, str) or (m := _ADDRESS_RE.fullmatch(value)) is None:
        raise _fail(path, "expected a 20-byte hex address")
    return "0x" + m.group(1).lower()


def _p_list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(path, "expected an array")
    return value


def _parse_order_type(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict) or len(value) != 1:
        raise _fail(path, "expected exactly one of `limit`, `trigger`")
    if "limit" in value:
        limit = _obj(value["limit"], path + ".limit", ("tif",))
        return {"limit": {"tif": _p_enum(limit["tif"], path + ".limit.tif", PARSED_TIFS)}}
    if "trigger" in value:
        p = path + ".trigger"
        trig = _obj(value["trigger"], p, ("isMarket", "triggerPx", "tpsl"))
        return {"trigger": {
            "isMarket": _p_bool(trig["isMarket"], p + ".isMarket"),
            "triggerPx": _p_decimal(trig["triggerPx"], p + ".triggerPx"),
            "tpsl": _p_enum(trig["tpsl"], p + ".tpsl", frozenset({"tp", "sl"})),
        }}
    raise _fail(path, "expected exactly one of `limit`, `trigger`")


_ORDER_KEYS = ("a", "b", "p", "s", "r", "t")


def _parse_order(value: Any, path: str) -> dict[str, Any]:
    o = _obj(value, path, _ORDER_KEYS, ("c",))
    wire: dict[str, Any] = {
        "a": _p_uint(o["a"], path + ".a", _U32),
        "b": _p_bool(o["b"], path + ".b"),
        "p": _p_decimal(o["p"], path + ".p"),
        "s": _p_decimal(o["s"], path + ".s"),
        "r": _p_bool(o["r"], path + ".r"),
        "t": _parse_order_type(o["t"], path + ".t"),
    }
    if o.get("c") is not None:
        wire["c"] = _p_cloid(o["c"], path + ".c")
    return wire


def _p_oid(value: Any, path: str) -> int | str:
    return _p_cloid(value, path) if isinstance(value, str) else _p_uint(value, path, _U64)


def _act_order(a: dict[str, Any]) -> dict[str, Any]:
    _obj(a, "action", ("type", "orders", "grouping"), ("builder",))
    out: dict[str, Any] = {
        "type": "order",
        "orders": [_parse_order(o, f"action.orders[{i}]") for i, o in enumerate(_p_list(a["orders"], "action.orders"))],
        "grouping": _p_enum(a["grouping"], "action.grouping", GROUPINGS),
    }
    if a.get("builder") is not None:
        b = _obj(a["builder"], "action.builder", ("b", "f"))
        out["builder"] = {"b": _p_address(b["b"], "action.builder.b"), "f": _p_uint(b["f"], "action.builder.f", _U64)}
    return out


def _act_cancel(a: dict[str, Any]) -> dict[str, Any]:
    _obj(a, "action", ("type", "cancels"))
    out = []
    for i, c in enumerate(_p_list(a["cancels"], "action.cancels")):
        p = f"action.cancels[{i}]"
        _obj(c, p, ("a", "o"))
        out.append({"a": _p_uint(c["a"], p + ".a", _U32), "o": _p_uint(c["o"], p + ".o", _U64)})
    return {"type": "cancel", "cancels": out}


def _act_cancel_by_cloid(a: dict[str, Any]) -> dict[str, Any]:
    _obj(a, "action", ("type", "cancels"))
    out = []
    for i, c in enumerate(_p_list(a["cancels"], "action.cancels")):
        p = f"action.cancels[{i}]"
        _obj(c, p, ("asset", "cloid"))
        out.append({"asset": _p_uint(c["asset"], p + ".asset", _U32), "cloid": _p_cloid(c["cloid"], p + ".cloid")})
    return {"type": "cancelByCloid", "cancels": out}


def _act_modify(a: dict[str, Any]) -> dict[str, Any]:
    _obj(a, "action", ("type", "oid", "order"))
    return {"type": "modify", "oid": _p_oid(a["oid"], "action.oid"), "order": _parse_order(a["order"], "action.order")}


def _act_batch_modify(a: dict[str, Any]) -> dict[str, Any]:
    _obj(a, "action", ("type", "modifies"))
    out = []
    for i, m in enumerate(_p_list(a["modifies"], "action.modifies")):
        p = f"action.modifies[{i}]"
        _obj(m, p, ("oid", "order"))
        out.append({"oid": _p_oid(m["oid"], p + ".oid"), "order": _parse_order(m["order"], p + ".order")})
    return {"type": "batchModify", "modifies": out}


def _act_update_leverage(a: dict[str, Any]) -> dict[str, Any]:
    _obj(a, "action", ("type", "asset", "isCross", "leverage"))
    return {"type": "updateLeverage", "asset": _p_uint(a["asset"], "action.asset", _U32),
            "isCross": _p_bool(a["isCross"], "action.isCross"), "leverage": _p_uint(a["leverage"], "action.leverage", _U32)}


def _act_update_isolated_margin(a: dict[str, Any]) -> dict[str, Any]:
    _obj(a, "action", ("type", "asset", "isBuy", "ntli"))
    return {"type": "updateIsolatedMargin", "asset": _p_uint(a["asset"], "action.asset", _U32),
            "isBuy": _p_bool(a["isBuy"], "action.isBuy"), "ntli": _p_int64(a["ntli"], "action.ntli")}


def _act_schedule_cancel(a: dict[str, Any]) -> dict[str, Any]:
    _obj(a, "action", ("type",), ("time",))
    if a.get("time") is None:
        return {"type": "scheduleCancel"}
    return {"type": "scheduleCancel", "time": _p_uint(a["time"], "action.time", _U64)}


def _act_noop(a: dict[str, Any]) -> dict[str, Any]:
    _obj(a, "action", ("type",))
    return {"type": "noop"}


_CHAIN_KEYS = ("signatureChainId", "hyperliquidChain")
_CHAINS = frozenset({"Mainnet", "Testnet"})


def _p_chain(a: dict[str, Any]) -> dict[str, Any]:
    chain_id = a["signatureChainId"]
    if not isinstance(chain_id, str) or _HEX_RE.fullmatch(chain_id) is None:
        raise _fail("action.signatureChainId", "expected 0x-prefixed hex")
    return {"signatureChainId": chain_id.lower(), "hyperliquidChain": _p_enum(a["hyperliquidChain"], "action.hyperliquidChain", _CHAINS)}


def _p_amount(value: Any, path: str, *, subaccount: bool = False) -> str:
    """A string amount is hashed as text: validated, kept verbatim."""
    text = _p_str(value, path)
    if (_SUBACCOUNT_RE if subaccount else _DEC_RE).fullmatch(text) is None:
        raise _fail(path, "expected a plain decimal string")
    return text


def _act_approve_agent(a: dict[str, Any]) -> dict[str, Any]:
    _obj(a, "action", ("type", "agentAddress", "nonce", *_CHAIN_KEYS), ("agentName",))
    out: dict[str, Any] = {"type": "approveAgent", "agentAddress": _p_address(a["agentAddress"], "action.agentAddress")}
    if a.get("agentName") is not None:
        out["agentName"] = _p_str(a["agentName"], "action.agentName")
    out["nonce"] = _p_uint(a["nonce"], "action.nonce", _U64)
    return out | _p_chain(a)


def _act_approve_builder_fee(a: dict[str, Any]) -> dict[str, Any]:
    _obj(a, "action", ("type", "maxFeeRate", "builder", "nonce", *_CHAIN_KEYS))
    rate = _p_str(a["maxFeeRate"], "action.maxFeeRate")
    if _FEE_RATE_RE.fullmatch(rate) is None:
        raise _fail("action.maxFeeRate", "expected a percent string like 0.001%")
    return {"maxFeeRate": rate, "builder": _p_address(a["builder"], "action.builder"),
            "nonce": _p_uint(a["nonce"], "action.nonce", _U64), "type": "approveBuilderFee"} | _p_chain(a)


def _act_usd_class_transfer(a: dict[str, Any]) -> dict[str, Any]:
    _obj(a, "action", ("type", "amount", "toPerp", "nonce", *_CHAIN_KEYS))
    return {"type": "usdClassTransfer", "amount": _p_amount(a["amount"], "action.amount", subaccount=True),
            "toPerp": _p_bool(a["toPerp"], "action.toPerp"), "nonce": _p_uint(a["nonce"], "action.nonce", _U64)} | _p_chain(a)


def _act_withdraw3(a: dict[str, Any]) -> dict[str, Any]:
    _obj(a, "action", ("type", "destination", "amount", "time", *_CHAIN_KEYS))
    destination = _p_str(a["destination"], "action.destination")
    if _ADDRESS_RE.fullmatch(destination) is None or not destination.startswith("0x"):
        raise _fail("action.destination", "expected a 0x-prefixed 20-byte hex address")
    return {"destination": destination, "amount": _p_amount(a["amount"], "action.amount"),
            "time": _p_uint(a["time"], "action.time", _U64), "type": "withdraw3"} | _p_chain(a)


_PARSERS = {
    "order": _act_order,
    "cancel": _act_cancel,
    "cancelByCloid": _act_cancel_by_cloid,
    "modify": _act_modify,
    "batchModify": _act_batch_modify,
    "updateLeverage": _act_update_leverage,
    "updateIsolatedMargin": _act_update_isolated_margin,
    "scheduleCancel": _act_schedule_cancel,
    "noop": _act_noop,
    "approveAgent": _act_approve_agent,
    "approveBuilderFee": _act_approve_builder_fee,
    "usdClassTransfer": _act_usd_class_transfer,
    "withdraw3": _act_withdraw3,
}


def canonical_action(obj: Any) -> dict[str, Any]:
    """A posted action parsed like the server does and re-encoded in its struct order with
    canonical decimals and lower-case hex; ``DeserializeError`` (HTTP 422) for an unknown
    ``type``, unknown or missing keys, wrong JSON types or non-canonicalisable values.
    ``null`` optional keys are dropped. Never mutates ``obj``."""
    if not isinstance(obj, dict):
        raise _fail("action", "expected an object")
    kind = obj.get("type")
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        raise _fail("action.type", f"unknown variant {kind!r}")
    return parser(obj)


def canonical_signature(value: Any, path: str = "signature") -> Signature:
    """``{r, s, v}`` with r/s ``0x`` hex of 1–64 digits (leading zeros dropped or not) and
    v 27/28 → the SDK's form (lower-case, no leading zeros)."""
    sig = _obj(value, path, ("r", "s", "v"))
    out: dict[str, Any] = {}
    for part in ("r", "s"):
        text = sig[part]
        if not isinstance(text, str) or (m := _HEX_RE.fullmatch(text)) is None:
            raise _fail(f"{path}.{part}", "expected 0x-prefixed hex of at most 32 bytes")
        out[part] = hex(int(m.group(1), 16))
    v = sig["v"]
    if isinstance(v, bool) or not isinstance(v, int) or v not in (27, 28):
        raise _fail(f"{path}.v", "expected 27 or 28")
    return Signature(r=out["r"], s=out["s"], v=v)


def parse_exchange_request(body: Any) -> ExchangeRequest:
    """A decoded ``/exchange`` JSON body → ``ExchangeRequest``; ``DeserializeError`` (422)
    for unknown envelope keys or wrong types. ``vaultAddress`` may come with or without
    ``0x``; ``vaultAddress`` / ``expiresAfter`` may be ``null`` or absent."""
    env = _obj(body, "body", ("action", "nonce", "signature"), ("vaultAddress", "expiresAfter"))
    vault = env.get("vaultAddress")
    expires = env.get("expiresAfter")
    return ExchangeRequest(
        action=canonical_action(env["action"]),
        nonce=_p_uint(env["nonce"], "nonce", _U64),
        signature=canonical_signature(env["signature"]),
        vault_address=None if vault is None else _p_address(vault, "vaultAddress"),
        expires_after=None if expires is None else _p_uint(expires, "expiresAfter", _U64),
    )


# -- not pure: random cloids ---------------------------------------------------------------


def new_cloid() -> str:
    """A random cloid (128 bits from ``secrets``) for an order whose caller gave no client id."""
    return "0x" + secrets.token_hex(16)
