"""ccxt's errors as ours: refusal stays refusal, unknown outcome stays unknown.

The mapping walks the error's class hierarchy (by class name, so this module does not
import ccxt) and takes the first class it knows. Decisions:

* ccxt's ``InvalidNonce`` is a ``NetworkError`` there (ccxt retries it), but the server did
  answer: it refused the request, so it is a ``BadRequest`` here;
* ccxt turns an ``aiohttp.ClientError`` that is not a connection error (a truncated or
  undecodable answer) into an ``ExchangeError``; the request did go out, so it is a
  ``NetworkError`` (unknown outcome) here;
* anything unknown that is not an ``ExchangeError`` is a ``NetworkError``: when in doubt the
  outcome is unknown, never a refusal.

Messages keep ccxt's text, which carries the venue's error body; ccxt never puts
credentials in it.
"""
from __future__ import annotations

from typing import Any

from mpdex import errors as E

__all__ = ["map_ccxt_error", "is_ccxt_error"]

_BY_NAME: dict[str, type[E.MpdexError]] = {
    "InsufficientFunds": E.InsufficientMargin,
    "OrderNotFound": E.OrderNotFound,
    "OrderNotCached": E.OrderNotFound,
    "DuplicateOrderId": E.DuplicateOrder,
    "MarketClosed": E.MarketClosed,
    "InvalidOrder": E.InvalidOrder,
    "BadSymbol": E.BadSymbol,
    "AccountSuspended": E.PermissionDenied,
    "PermissionDenied": E.PermissionDenied,
    "AuthenticationError": E.AuthenticationError,
    "NotSupported": E.NotSupported,
    "ArgumentsRequired": E.BadRequest,
    "BadRequest": E.BadRequest,
    "InvalidNonce": E.BadRequest,
    "ExchangeError": E.ExchangeError,
    "RateLimitExceeded": E.RateLimitExceeded,
    "DDoSProtection": E.RateLimitExceeded,
    "RequestTimeout": E.RequestTimeout,
    "ExchangeNotAvailable": E.ExchangeUnavailable,
    "NetworkError": E.NetworkError,
    "BadResponse": E.NetworkError,
    "CancelPending": E.NetworkError,
}


def is_ccxt_error(exc: BaseException) -> bool:
    return any(c.__module__.startswith("ccxt.") and c.__name__ == "BaseError" for c in type(exc).__mro__)


def _transport_cause(exc: BaseException) -> bool:
    cause = exc.__cause__
    return cause is not None and any(c.__module__.startswith("aiohttp") for c in type(cause).__mro__)


def map_ccxt_error(exc: BaseException, venue: str) -> E.MpdexError:
    """Our typed error for ``exc`` (an ``MpdexError`` passes through unchanged)."""
    if isinstance(exc, E.MpdexError):
        return exc
    message = f"{venue}: {exc}" if str(exc) else f"{venue}: {type(exc).__name__}"
    names = [c.__name__ for c in type(exc).__mro__]
    if is_ccxt_error(exc) and "ExchangeError" in names and _transport_cause(exc) \
            and "AuthenticationError" not in names:
        return E.NetworkError(f"{message} (the request went out; its answer could not be read)")
    target: type[E.MpdexError] = E.NetworkError
    if is_ccxt_error(exc):
        for name in names:
            if name in _BY_NAME:
                target = _BY_NAME[name]
                break
    kwargs: dict[str, Any] = {"raw": getattr(exc, "args", None)}
    return target(message, **kwargs)
