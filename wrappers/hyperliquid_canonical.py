"""Hyperliquid's canonical form as the server reads it: a posted action, signature or
``/exchange`` envelope parsed strictly and re-encoded canonically, as the server does before
hashing (hyperliquid-api.md §3, §4.3) — used by the signer to canonicalise what it signs and
by the paper dialect to verify what is posted.

Decisions:

* ``canonical_action`` / ``parse_exchange_request`` parse a posted body the way the real
  server does: unknown keys, wrong JSON types, a non-zero 9th decimal, exponents, signs or a
  cloid of the wrong length raise ``DeserializeError`` (HTTP 422 with the server's exact
  text); accepted input is re-encoded canonically, so reordered keys, padding zeros and
  upper-case hex hash the same as the canonical form. ``"-0"`` is refused (open question
  §9.7: the stricter reading).
* User-signed actions' ``string`` fields (``amount``, ``destination``, ``maxFeeRate``) are
  hashed as text, so the parser validates them and keeps them verbatim.
* The form's limits (integer widths, 8 decimals, the hex patterns) and its errors are
  defined here once; the builders in ``hyperliquid_wire`` import them, and check order types
  with ``canonical_order_type``, so what is built obeys what is parsed.
* Pure.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypedDict

__all__ = [
    "DESERIALIZE_ERROR",
    "PARSED_TIFS",
    "GROUPINGS",
    "L1_ACTION_TYPES",
    "USER_SIGNED_ACTION_TYPES",
    "U32",
    "U64",
    "I64",
    "MAX_DECIMALS",
    "DECIMAL_RE",
    "CLOID_RE",
    "ADDRESS_RE",
    "HEX_RE",
    "FEE_RATE_RE",
    "WireError",
    "DeserializeError",
    "Signature",
    "ExchangeRequest",
    "canonical_order_type",
    "canonical_action",
    "canonical_signature",
    "parse_exchange_request",
]

#: the server's HTTP 422 body for a payload of the wrong shape (hyperliquid-api.md §1.3)
DESERIALIZE_ERROR = "Failed to deserialize the JSON body into the target type"

#: what the server accepts (§3.2): the client's Gtc / Ioc / Alo and the UI's ``FrontendMarket``
PARSED_TIFS: frozenset[str] = frozenset({"Gtc", "Ioc", "Alo", "FrontendMarket"})
GROUPINGS: frozenset[str] = frozenset({"na", "normalTpsl", "positionTpsl"})
L1_ACTION_TYPES: frozenset[str] = frozenset({
    "order", "cancel", "cancelByCloid", "modify", "batchModify", "updateLeverage",
    "updateIsolatedMargin", "scheduleCancel", "noop",
})
USER_SIGNED_ACTION_TYPES: frozenset[str] = frozenset({"approveAgent", "approveBuilderFee", "usdClassTransfer", "withdraw3"})

# the form's limits and patterns, shared with the builders in ``hyperliquid_wire``
U32 = 1 << 32
U64 = 1 << 64
I64 = 1 << 63
MAX_DECIMALS = 8
DECIMAL_RE = re.compile(r"([0-9]+)(?:\.([0-9]+))?")
CLOID_RE = re.compile(r"0x[0-9a-fA-F]{32}")
ADDRESS_RE = re.compile(r"(?:0x)?([0-9a-fA-F]{40})")
HEX_RE = re.compile(r"0x([0-9a-fA-F]{1,64})")
FEE_RATE_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?%")
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



# -- parse a posted body like the real server ----------------------------------------------


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
    if isinstance(value, bool) or not isinstance(value, int) or not -I64 <= value < I64:
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
    m = DECIMAL_RE.fullmatch(value)
    if m is None:
        raise _fail(path, "not a plain decimal (no sign, exponent or spaces)")
    whole = m.group(1).lstrip("0") or "0"
    frac = (m.group(2) or "").rstrip("0")
    if len(frac) > MAX_DECIMALS:
        raise _fail(path, f"more than {MAX_DECIMALS} decimals")
    return f"{whole}.{frac}" if frac else whole


def _p_cloid(value: Any, path: str) -> str:
    if not isinstance(value, str) or CLOID_RE.fullmatch(value) is None:
        raise _fail(path, "a cloid is 0x followed by exactly 32 hex digits")
    return value.lower()


def _p_address(value: Any, path: str) -> str:
    if not isinstance(value, str) or (m := ADDRESS_RE.fullmatch(value)) is None:
        raise _fail(path, "expected a 20-byte hex address")
    return "0x" + m.group(1).lower()


def _p_list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(path, "expected an array")
    return value


def canonical_order_type(value: Any, path: str) -> dict[str, Any]:
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
        "a": _p_uint(o["a"], path + ".a", U32),
        "b": _p_bool(o["b"], path + ".b"),
        "p": _p_decimal(o["p"], path + ".p"),
        "s": _p_decimal(o["s"], path + ".s"),
        "r": _p_bool(o["r"], path + ".r"),
        "t": canonical_order_type(o["t"], path + ".t"),
    }
    if o.get("c") is not None:
        wire["c"] = _p_cloid(o["c"], path + ".c")
    return wire


def _p_oid(value: Any, path: str) -> int | str:
    return _p_cloid(value, path) if isinstance(value, str) else _p_uint(value, path, U64)


def _act_order(a: dict[str, Any]) -> dict[str, Any]:
    _obj(a, "action", ("type", "orders", "grouping"), ("builder",))
    out: dict[str, Any] = {
        "type": "order",
        "orders": [_parse_order(o, f"action.orders[{i}]") for i, o in enumerate(_p_list(a["orders"], "action.orders"))],
        "grouping": _p_enum(a["grouping"], "action.grouping", GROUPINGS),
    }
    if a.get("builder") is not None:
        b = _obj(a["builder"], "action.builder", ("b", "f"))
        out["builder"] = {"b": _p_address(b["b"], "action.builder.b"), "f": _p_uint(b["f"], "action.builder.f", U64)}
    return out


def _act_cancel(a: dict[str, Any]) -> dict[str, Any]:
    _obj(a, "action", ("type", "cancels"))
    out = []
    for i, c in enumerate(_p_list(a["cancels"], "action.cancels")):
        p = f"action.cancels[{i}]"
        _obj(c, p, ("a", "o"))
        out.append({"a": _p_uint(c["a"], p + ".a", U32), "o": _p_uint(c["o"], p + ".o", U64)})
    return {"type": "cancel", "cancels": out}


def _act_cancel_by_cloid(a: dict[str, Any]) -> dict[str, Any]:
    _obj(a, "action", ("type", "cancels"))
    out = []
    for i, c in enumerate(_p_list(a["cancels"], "action.cancels")):
        p = f"action.cancels[{i}]"
        _obj(c, p, ("asset", "cloid"))
        out.append({"asset": _p_uint(c["asset"], p + ".asset", U32), "cloid": _p_cloid(c["cloid"], p + ".cloid")})
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
    return {"type": "updateLeverage", "asset": _p_uint(a["asset"], "action.asset", U32),
            "isCross": _p_bool(a["isCross"], "action.isCross"), "leverage": _p_uint(a["leverage"], "action.leverage", U32)}


def _act_update_isolated_margin(a: dict[str, Any]) -> dict[str, Any]:
    _obj(a, "action", ("type", "asset", "isBuy", "ntli"))
    return {"type": "updateIsolatedMargin", "asset": _p_uint(a["asset"], "action.asset", U32),
            "isBuy": _p_bool(a["isBuy"], "action.isBuy"), "ntli": _p_int64(a["ntli"], "action.ntli")}


def _act_schedule_cancel(a: dict[str, Any]) -> dict[str, Any]:
    _obj(a, "action", ("type",), ("time",))
    if a.get("time") is None:
        return {"type": "scheduleCancel"}
    return {"type": "scheduleCancel", "time": _p_uint(a["time"], "action.time", U64)}


def _act_noop(a: dict[str, Any]) -> dict[str, Any]:
    _obj(a, "action", ("type",))
    return {"type": "noop"}


_CHAIN_KEYS = ("signatureChainId", "hyperliquidChain")
_CHAINS = frozenset({"Mainnet", "Testnet"})


def _p_chain(a: dict[str, Any]) -> dict[str, Any]:
    chain_id = a["signatureChainId"]
    if not isinstance(chain_id, str) or HEX_RE.fullmatch(chain_id) is None:
        raise _fail("action.signatureChainId", "expected 0x-prefixed hex")
    return {"signatureChainId": chain_id.lower(), "hyperliquidChain": _p_enum(a["hyperliquidChain"], "action.hyperliquidChain", _CHAINS)}


def _p_amount(value: Any, path: str, *, subaccount: bool = False) -> str:
    """A string amount is hashed as text: validated, kept verbatim."""
    text = _p_str(value, path)
    if (_SUBACCOUNT_RE if subaccount else DECIMAL_RE).fullmatch(text) is None:
        raise _fail(path, "expected a plain decimal string")
    return text


def _act_approve_agent(a: dict[str, Any]) -> dict[str, Any]:
    _obj(a, "action", ("type", "agentAddress", "nonce", *_CHAIN_KEYS), ("agentName",))
    out: dict[str, Any] = {"type": "approveAgent", "agentAddress": _p_address(a["agentAddress"], "action.agentAddress")}
    if a.get("agentName") is not None:
        out["agentName"] = _p_str(a["agentName"], "action.agentName")
    out["nonce"] = _p_uint(a["nonce"], "action.nonce", U64)
    return out | _p_chain(a)


def _act_approve_builder_fee(a: dict[str, Any]) -> dict[str, Any]:
    _obj(a, "action", ("type", "maxFeeRate", "builder", "nonce", *_CHAIN_KEYS))
    rate = _p_str(a["maxFeeRate"], "action.maxFeeRate")
    if FEE_RATE_RE.fullmatch(rate) is None:
        raise _fail("action.maxFeeRate", "expected a percent string like 0.001%")
    return {"maxFeeRate": rate, "builder": _p_address(a["builder"], "action.builder"),
            "nonce": _p_uint(a["nonce"], "action.nonce", U64), "type": "approveBuilderFee"} | _p_chain(a)


def _act_usd_class_transfer(a: dict[str, Any]) -> dict[str, Any]:
    _obj(a, "action", ("type", "amount", "toPerp", "nonce", *_CHAIN_KEYS))
    return {"type": "usdClassTransfer", "amount": _p_amount(a["amount"], "action.amount", subaccount=True),
            "toPerp": _p_bool(a["toPerp"], "action.toPerp"), "nonce": _p_uint(a["nonce"], "action.nonce", U64)} | _p_chain(a)


def _act_withdraw3(a: dict[str, Any]) -> dict[str, Any]:
    _obj(a, "action", ("type", "destination", "amount", "time", *_CHAIN_KEYS))
    destination = _p_str(a["destination"], "action.destination")
    if ADDRESS_RE.fullmatch(destination) is None or not destination.startswith("0x"):
        raise _fail("action.destination", "expected a 0x-prefixed 20-byte hex address")
    return {"destination": destination, "amount": _p_amount(a["amount"], "action.amount"),
            "time": _p_uint(a["time"], "action.time", U64), "type": "withdraw3"} | _p_chain(a)


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
        if not isinstance(text, str) or (m := HEX_RE.fullmatch(text)) is None:
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
        nonce=_p_uint(env["nonce"], "nonce", U64),
        signature=canonical_signature(env["signature"]),
        vault_address=None if vault is None else _p_address(vault, "vaultAddress"),
        expires_after=None if expires is None else _p_uint(expires, "expiresAfter", U64),
    )
