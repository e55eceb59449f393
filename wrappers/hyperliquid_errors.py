"""Hyperliquid refusals → typed errors: the ONE table, for per-order ``{"error": …}``
strings, whole-request ``{"status":"err","response": …}`` strings and order status strings.

* Strings are matched by **prefix**: most now end with `` asset=<id>`` (or carry the
  recovered address, a nonce, a count), and some deployments drop the ``L1 error: ``
  prefix, which is removed before matching (hyperliquid-api.md §1.4).
* Each error carries ``code`` = the table's name for the refusal (``"MIN_VALUE"``, …), the
  server's text as its message, the HTTP status and the raw body. An unknown string still
  raises ``ExchangeError`` carrying the text, never passes as data.
* Non-200 answers: 400/415/422 have plain-text bodies (``BadRequest``); 429 has body
  ``null`` (``RateLimitExceeded``, which the transport backs off from); 5xx are left to the
  transport (``ExchangeUnavailable``: the outcome is unknown).
* The address budget refusal (``Too many cumulative requests sent (used > cap) …``) is a
  ``RateLimitExceeded`` with ``retry_after`` = 10 s: once exhausted, the server takes one
  action per 10 s (§6.2). ``parse_address_limit`` reads its two numbers.
"""
from __future__ import annotations

import re
from typing import Any

from mpdex.errors import (
    AuthenticationError,
    BadRequest,
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
    "ERRORS",
    "STATUS_ERRORS",
    "ADDRESS_LIMIT_WAIT",
    "BODY_DETERMINED",
    "error_for_text",
    "error_for_status",
    "decode_error",
    "is_duplicate",
    "parse_address_limit",
]

#: seconds between actions once the address budget is used up (§6.2, measured)
ADDRESS_LIMIT_WAIT = 10.0

#: (prefix, error class, name) — first match wins; prefixes are the server's own words
ERRORS: tuple[tuple[str, type[MpdexError], str], ...] = (
    # per-order refusals
    ("Insufficient margin to place order", InsufficientMargin, "INSUFFICIENT_MARGIN"),
    ("Price must be divisible by tick size", InvalidOrder, "TICK_SIZE"),
    ("Order has invalid price", InvalidOrder, "INVALID_PRICE"),
    ("Order has invalid size", InvalidOrder, "INVALID_SIZE"),
    ("Order must have minimum value of", InvalidOrder, "MIN_VALUE"),
    ("Reduce only order would increase position", InvalidOrder, "REDUCE_ONLY"),
    ("Post only order would have immediately matched", InvalidOrder, "POST_ONLY_WOULD_CROSS"),
    ("Order could not immediately match against any resting orders", InvalidOrder, "IOC_NO_MATCH"),
    ("Invalid TP/SL price", InvalidOrder, "INVALID_TPSL_PRICE"),
    ("Order price cannot be more than", InvalidOrder, "PRICE_TOO_FAR"),
    ("Order price too far from oracle", InvalidOrder, "PRICE_TOO_FAR"),
    ("No liquidity available for market order", InvalidOrder, "NO_LIQUIDITY"),
    ("Order would increase open interest", InvalidOrder, "OPEN_INTEREST_CAP"),
    ("Order rejected due to price more aggressive than oracle while at open interest cap", InvalidOrder,
     "OPEN_INTEREST_CAP"),
    ("Order would cause position to exceed margin tier limit", InvalidOrder, "MARGIN_TIER"),
    ("Order was never placed, already canceled, or filled", OrderNotFound, "ORDER_NOT_FOUND"),
    ("Orders are empty", BadRequest, "EMPTY_BATCH"),
    ("Trading is halted", MarketClosed, "HALTED"),
    # whole-request refusals
    ("User or API Wallet", AuthenticationError, "UNKNOWN_SIGNER"),
    ("Unable to recover signer", AuthenticationError, "UNRECOVERABLE_SIGNATURE"),
    ("Must deposit before performing actions", AuthenticationError, "MUST_DEPOSIT"),
    ("Mainnet and testnet require different signature", AuthenticationError, "WRONG_NETWORK"),
    ("Invalid nonce: duplicate nonce", BadRequest, "DUPLICATE_NONCE"),
    ("Invalid nonce", BadRequest, "INVALID_NONCE"),
    ("Nonce mismatch", BadRequest, "NONCE_MISMATCH"),
    ("Action already expired", BadRequest, "EXPIRED"),
    ("Too many cumulative requests sent", RateLimitExceeded, "ADDRESS_RATE_LIMIT"),
    ("Signed action over weight limit", BadRequest, "BATCH_TOO_LARGE"),
    ("Builder fee has not been approved", PermissionDenied, "BUILDER_NOT_APPROVED"),
    ("Vault not registered", PermissionDenied, "VAULT_NOT_REGISTERED"),
    ("Cannot switch leverage type with open position", BadRequest, "LEVERAGE_SWITCH"),
    ("Cross margin is not allowed for this asset", BadRequest, "CROSS_NOT_ALLOWED"),
    ("Cross position does not have sufficient margin available to decrease leverage", InsufficientMargin,
     "LEVERAGE_MARGIN"),
    ("Cannot set scheduled cancel time until enough volume traded", PermissionDenied, "SCHEDULE_CANCEL_VOLUME"),
)

#: order status strings (``orderStatus``, ``orderUpdates``) that mean "refused": status → (class, name)
STATUS_ERRORS: dict[str, tuple[type[MpdexError], str]] = {
    "rejected": (InvalidOrder, "REJECTED"),
    "tickRejected": (InvalidOrder, "TICK_SIZE"),
    "minTradeNtlRejected": (InvalidOrder, "MIN_VALUE"),
    "perpMarginRejected": (InsufficientMargin, "INSUFFICIENT_MARGIN"),
    "reduceOnlyRejected": (InvalidOrder, "REDUCE_ONLY"),
    "badAloPxRejected": (InvalidOrder, "POST_ONLY_WOULD_CROSS"),
    "iocCancelRejected": (InvalidOrder, "IOC_NO_MATCH"),
    "badTriggerPxRejected": (InvalidOrder, "INVALID_TPSL_PRICE"),
    "marketOrderNoLiquidityRejected": (InvalidOrder, "NO_LIQUIDITY"),
    "positionIncreaseAtOpenInterestCapRejected": (InvalidOrder, "OPEN_INTEREST_CAP"),
    "positionFlipAtOpenInterestCapRejected": (InvalidOrder, "OPEN_INTEREST_CAP"),
    "tooAggressiveAtOpenInterestCapRejected": (InvalidOrder, "OPEN_INTEREST_CAP"),
    "openInterestIncreaseRejected": (InvalidOrder, "OPEN_INTEREST_CAP"),
    "insufficientSpotBalanceRejected": (InsufficientMargin, "INSUFFICIENT_BALANCE"),
    "oracleRejected": (InvalidOrder, "PRICE_TOO_FAR"),
    "perpMaxPositionRejected": (InvalidOrder, "MAX_POSITION"),
}

#: refusals that depend only on the posted bytes: if a resend of a body got one of these,
#: the first copy was refused as well (a bad signature or a nonce error consumes nothing)
BODY_DETERMINED = frozenset({"UNKNOWN_SIGNER", "UNRECOVERABLE_SIGNATURE", "WRONG_NETWORK", "BATCH_TOO_LARGE",
                             "EMPTY_BATCH", "DESERIALIZE"})

_L1_PREFIX = "L1 error: "
_ADDRESS_LIMIT = re.compile(r"\((\d+) > (\d+)\)")
#: plain-text bodies of the non-200 answers (§1.3)
_HTTP_TEXTS: dict[int, str] = {400: "BAD_JSON", 415: "CONTENT_TYPE", 422: "DESERIALIZE"}


def _make(cls: type[MpdexError], name: str, text: str, http_status: int | None, raw: Any) -> MpdexError:
    message = f"Hyperliquid {name}: {text}"
    if cls is RateLimitExceeded:
        return RateLimitExceeded(message, code=name, http_status=http_status, raw=raw,
                                 retry_after=ADDRESS_LIMIT_WAIT if name == "ADDRESS_RATE_LIMIT" else None)
    return cls(message, code=name, http_status=http_status, raw=raw)


def error_for_text(text: Any, *, http_status: int | None = None, raw: Any = None) -> MpdexError:
    """The typed error for one refusal string (an unknown one → ``ExchangeError`` with it)."""
    message = str(text).strip()
    key = message[len(_L1_PREFIX):] if message.startswith(_L1_PREFIX) else message
    for prefix, cls, name in ERRORS:
        if key.startswith(prefix):
            return _make(cls, name, message, http_status, raw)
    return ExchangeError(f"Hyperliquid: {message}", code="UNKNOWN", http_status=http_status, raw=raw)


def error_for_status(status: str, *, raw: Any = None) -> MpdexError:
    """The typed error for a ``…Rejected`` order status (an unlisted one → ``InvalidOrder``)."""
    cls, name = STATUS_ERRORS.get(status, (InvalidOrder, "REJECTED"))
    return _make(cls, name, f"order status {status}", None, raw)


def decode_error(status: int, body: Any) -> MpdexError | None:
    """Transport callback: the typed error for an answer, or ``None`` when it is data.

    HTTP 200 ``{"status": "err", "response": "<text>"}`` is a refusal of the whole request;
    ``{"status": "ok", …}`` (even with per-order errors inside) is data for the caller to
    read. Plain-text 4xx bodies (400/415/422) and 429's ``null`` are mapped here too."""
    if isinstance(body, dict) and body.get("status") == "err":
        return error_for_text(body.get("response"), http_status=status, raw=body)
    if status == 429:
        return RateLimitExceeded("Hyperliquid: IP rate limited (HTTP 429)", code="IP_RATE_LIMIT",
                                 http_status=429, raw=body)
    if status in _HTTP_TEXTS:
        text = body if isinstance(body, str) else "" if body is None else str(body)
        return BadRequest(f"Hyperliquid HTTP {status}: {text.strip() or 'request refused'}", code=_HTTP_TEXTS[status],
                          http_status=status, raw=body)
    return None


def is_duplicate(error: BaseException) -> bool:
    """True for ``Invalid nonce: duplicate nonce …``: a resend of bytes that got through."""
    return getattr(error, "code", None) == "DUPLICATE_NONCE"


def parse_address_limit(error: BaseException) -> tuple[int, int] | None:
    """``(requests used, cap)`` from an address budget refusal, when it says them."""
    if getattr(error, "code", None) != "ADDRESS_RATE_LIMIT":
        return None
    match = _ADDRESS_LIMIT.search(str(getattr(error, "message", error)))
    return (int(match.group(1)), int(match.group(2))) if match else None
