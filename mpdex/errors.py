"""The error hierarchy every exchange raises.

Two roots, as in ccxt: ``ExchangeError`` means *the exchange refused* (do not retry the
same request), ``NetworkError`` means *the outcome is unknown or the transport failed*.
``ConfigError`` is raised before anything is sent, for bad keys or settings.

Code written to mpdex's documented pattern keeps working: bad input (``ConfigError``,
``InvalidOrder`` and its subclasses, ``BadSymbol``, ``NotSupported``) is also a
``ValueError``; every exchange refusal (``ExchangeError``) is also a ``RuntimeError``.
"""
from __future__ import annotations

from typing import Any

__all__ = [
    "MpdexError",
    "ConfigError",
    "ExchangeError",
    "AuthenticationError",
    "PermissionDenied",
    "InvalidOrder",
    "InsufficientMargin",
    "BadSymbol",
    "BadRequest",
    "OrderNotFound",
    "DuplicateOrder",
    "MarketClosed",
    "NotSupported",
    "NetworkError",
    "RequestTimeout",
    "RateLimitExceeded",
    "ExchangeUnavailable",
    "OrderStateUnknown",
]


class MpdexError(Exception):
    """Root of every error raised by this library.

    ``code`` is the exchange's error code when there is one, ``message`` its text,
    ``http_status`` the HTTP status and ``raw`` the decoded body.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | str | None = None,
        http_status: int | None = None,
        raw: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status
        self.raw = raw


class ConfigError(MpdexError, ValueError):
    """Bad keys or settings, detected before anything is signed or sent.

    Messages name the offending field, never its value. Also a ``ValueError`` so that
    code written against mpdex (which raised ``ValueError``) keeps working.
    """


class ExchangeError(MpdexError, RuntimeError):
    """The exchange (or local validation standing in for it) refused the request."""

    def __str__(self) -> str:
        parts = [self.message]
        if self.code is not None:
            parts.append(f"code={self.code}")
        if self.http_status is not None:
            parts.append(f"http={self.http_status}")
        return " ".join(parts) if len(parts) == 1 else f"{parts[0]} ({', '.join(parts[1:])})"


class AuthenticationError(ExchangeError):
    """Unknown API key, bad signature, expired signer."""


class PermissionDenied(AuthenticationError):
    """Authenticated, but not allowed (wrong account group, declined operation)."""


class BadRequest(ExchangeError):
    """The request is malformed (bad parameter, bad decimals, bad recvWindow)."""


class InvalidOrder(BadRequest, ValueError):
    """The order itself is invalid: size, price, type, reduce-only rules."""


class InsufficientMargin(InvalidOrder):
    """Not enough collateral for the order."""


class BadSymbol(BadRequest, ValueError):
    """Unknown market."""


class OrderNotFound(InvalidOrder):
    """The order does not exist (or is no longer open)."""


class DuplicateOrder(InvalidOrder):
    """The exchange already has an order with this nonce / client order id."""


class MarketClosed(InvalidOrder):
    """The market is halted or closed."""


class NotSupported(ExchangeError, ValueError):
    """The exchange does not offer this feature (e.g. IOC on Vest)."""


class NetworkError(MpdexError):
    """The outcome is unknown or the transport failed."""


class RequestTimeout(NetworkError):
    """No answer in time."""


class ExchangeUnavailable(NetworkError):
    """5xx, maintenance, connection refused."""


class RateLimitExceeded(NetworkError):
    """HTTP 429 / Vest code 1003 after the retry budget was spent.

    ``retry_after`` is the server's hint in seconds, when it gave one.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class OrderStateUnknown(NetworkError):
    """A signed order was sent but neither its acceptance nor its rejection could be
    established. Query it by ``client_order_id`` before sending anything similar."""

    def __init__(self, message: str, *, client_order_id: str | int, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.client_order_id = client_order_id
