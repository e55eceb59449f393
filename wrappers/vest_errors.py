"""Vest error codes → typed errors: the ONE table, plus detection of the three body styles.

Body styles (vest-api.md §6.4), all accepted on any HTTP status:

1. ``{"code": int, "msg": str}`` (docs; non-2xx),
2. ``{"detail": {"code": int, "msg": str}}`` (FastAPI wrapper; ``detail`` may also be a
   string or a list of validation errors),
3. ``{"code": int, "msg": str}`` with HTTP 200.

Order objects legitimately carry ``"code": null`` (and no ``msg``), so a body is an error
only when it has a non-null ``code`` *and* a ``msg``. Unknown codes still raise
(``ExchangeError`` carrying the code); they never pass as data.
"""
from __future__ import annotations

from typing import Any

from mpdex.errors import (
    AuthenticationError,
    BadRequest,
    BadSymbol,
    DuplicateOrder,
    ExchangeError,
    InsufficientMargin,
    InvalidOrder,
    MarketClosed,
    MpdexError,
    OrderNotFound,
    PermissionDenied,
    RateLimitExceeded,
)

__all__ = [
    "VEST_ERRORS",
    "DUPLICATE",
    "ORDER_NOT_FOUND",
    "INVALID_LISTEN_KEY",
    "BODY_DETERMINED",
    "extract_error",
    "error_for_code",
    "decode_error",
    "is_duplicate",
]

DUPLICATE = 3015
ORDER_NOT_FOUND = 3017
INVALID_LISTEN_KEY = 1125

#: code -> (error class, Vest's name for it)
VEST_ERRORS: dict[int, tuple[type[MpdexError], str]] = {
    # general
    429: (RateLimitExceeded, "RATE_LIMITED"),  # the docs' {"code":429,"msg":"Rate limited"}
    1002: (AuthenticationError, "UNAUTHORIZED"),
    1003: (RateLimitExceeded, "TOO_MANY_REQUESTS"),
    1022: (AuthenticationError, "INVALID_SIGNATURE"),
    1023: (InvalidOrder, "INVALID_NONCE"),
    1024: (BadRequest, "INVALID_NETWORK_TYPE"),
    1099: (AuthenticationError, "ACCOUNT_NOT_FOUND"),
    # request
    1111: (InvalidOrder, "BAD_DECIMALS"),
    1116: (InvalidOrder, "INVALID_ORDER_TYPE"),
    1121: (BadSymbol, "BAD_SYMBOL"),
    1125: (AuthenticationError, "INVALID_LISTEN_KEY"),
    1130: (BadRequest, "INVALID_PARAMETER"),
    1131: (BadRequest, "BAD_RECV_WINDOW"),
    1132: (InvalidOrder, "ORDER_EXPIRED"),
    1133: (InvalidOrder, "INVALID_TIME_IN_FORCE"),
    1143: (BadRequest, "INVALID_TRANSACTION"),
    1144: (BadRequest, "ALREADY_USE_TRANSACTION"),
    1145: (InvalidOrder, "INVALID_TP_SL_PRICE"),
    1146: (PermissionDenied, "INVALID_ACCOUNT_GROUP"),
    1147: (PermissionDenied, "DECLINE_WITHDRAW_FROM_MOBILE"),
    1148: (MarketClosed, "MARKET_CLOSED"),
    # order rejection
    3001: (InvalidOrder, "PRICE_CHECK_FAILED"),
    3002: (InsufficientMargin, "MARGIN_CHECK_FAILED"),
    3003: (InvalidOrder, "PRICE_STALE"),
    3004: (InvalidOrder, "ORDER_STALE"),
    3006: (InvalidOrder, "INCREASE_WITH_SL_TP"),
    3007: (InsufficientMargin, "INCREASE_DURING_INSOLVENCY"),
    3008: (InvalidOrder, "DELETED_BY_LIQ"),
    3010: (InvalidOrder, "OI_CAP_EXCEEDED"),
    3011: (InvalidOrder, "INVALID_LIMIT_PRICE"),
    3015: (DuplicateOrder, "DUPLICATE"),
    3017: (OrderNotFound, "ORDER_NOT_FOUND"),
    3018: (InvalidOrder, "REDUCE_ONLY_INCREASES"),
    3019: (InvalidOrder, "REDUCE_ONLY_EXCEEDS_SIZE"),
    3020: (InvalidOrder, "ORDER_CHANGES_LEVERAGE"),
    3021: (InvalidOrder, "DECREASE_LEVERAGE_WITH_POSITION"),
    3022: (InvalidOrder, "INVALID_TP_SL_PRICE"),
    3023: (BadSymbol, "BAD_SYMBOL"),
    3024: (MarketClosed, "MARKET_CLOSED"),
    # LP
    4001: (InsufficientMargin, "LP_INSUFFICIENT_BALANCE"),
    4002: (InsufficientMargin, "LP_MARGIN_CHECK_FAILED"),
    4003: (InvalidOrder, "LP_PRICE_STALE"),
    4004: (InvalidOrder, "LP_ORDER_STALE"),
    4007: (InvalidOrder, "LP_WITHDRAW_WITHOUT_SHARES"),
    4010: (DuplicateOrder, "LP_DUPLICATE"),
    4012: (InvalidOrder, "LP_WITHDRAW_EXCEEDS_BALANCE"),
    # transfer
    5002: (InsufficientMargin, "TRANSFER_MARGIN_CHECK_FAILED"),
    5009: (InvalidOrder, "TRANSFER_WITHDRAW_CAP_EXCEEDED"),
    5010: (DuplicateOrder, "TRANSFER_DUPLICATE"),
    5013: (ExchangeError, "TRANSFER_EXECUTION_FAILED"),
}

#: Refusals that depend only on the request bytes (not on account or market state):
#: if a resend of a body got one of these, the first copy was refused as well.
BODY_DETERMINED = frozenset({1022, 1111, 1116, 1121, 1130, 1131, 1133, 1145, 1146, 3011, 3022, 3023})


def _as_code(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def extract_error(body: Any) -> tuple[int | None, str] | None:
    """``(code, msg)`` when ``body`` is one of Vest's error shapes, else ``None``.

    ``code`` is ``None`` for FastAPI string/list ``detail`` errors that carry no code.
    """
    if not isinstance(body, dict):
        return None
    if "detail" in body and "id" not in body:
        detail = body["detail"]
        if isinstance(detail, dict):
            found = extract_error(detail)
            if found is not None:
                return found
            return None
        if isinstance(detail, str):
            return None, detail
        if isinstance(detail, list):
            parts = [str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail]
            return None, "; ".join(parts) or "invalid request"
        return None
    if body.get("code") is not None and "msg" in body:
        code = _as_code(body["code"])
        msg = body["msg"] if isinstance(body["msg"], str) else str(body["msg"])
        return (code if code is not None else None), msg
    return None


def error_for_code(
    code: int | None, msg: str = "", *, http_status: int | None = None, raw: Any = None
) -> MpdexError:
    """The typed error for a Vest ``code`` (unknown codes → ``ExchangeError`` with the code)."""
    cls: type[MpdexError]
    if code is None:
        cls, name = (BadRequest, "REQUEST_ERROR")
    else:
        cls, name = VEST_ERRORS.get(code, (ExchangeError, "UNKNOWN_CODE"))
    text = f"Vest {name}" + (f": {msg}" if msg else "")
    if cls is RateLimitExceeded:
        return RateLimitExceeded(text, code=code, http_status=http_status, raw=raw)
    return cls(text, code=code, http_status=http_status, raw=raw)


def decode_error(status: int, body: Any) -> MpdexError | None:
    """Transport callback: the typed error for a response, or ``None`` if it is data.

    Non-2xx answers without a recognisable body return ``None`` and get the transport's
    generic HTTP mapping.
    """
    found = extract_error(body)
    if found is None:
        return None
    code, msg = found
    if code is None and status < 300:
        # a bare FastAPI "detail" string on a 2xx: still not data
        return error_for_code(None, msg, http_status=status, raw=body)
    if code is None:
        if status == 401:
            return AuthenticationError(f"Vest: {msg}", http_status=status, raw=body)
        if status == 403:
            return PermissionDenied(f"Vest: {msg}", http_status=status, raw=body)
        if status == 404:
            return BadRequest(f"Vest: {msg}", http_status=status, raw=body)
        if status >= 500:
            return None
    return error_for_code(code, msg, http_status=status, raw=body)


def is_duplicate(error: BaseException) -> bool:
    """True for Vest's DUPLICATE (3015) answer."""
    return getattr(error, "code", None) == DUPLICATE
