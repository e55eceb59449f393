"""Vest's refusals on the paper server: the codes it answers with, the three error-body styles
(vest-api.md §6.4), and the map from the simulator's neutral ``Reason`` to a code.

Styles, chosen per kind of failure:

* ``DETAIL`` — HTTP 401/403 ``{"detail": {"code", "msg"}}``: authentication (1002 unknown
  API key, 1022 bad/foreign/expired signature, 1146 wrong account group);
* ``PLAIN`` — HTTP 400 ``{"code", "msg"}``: validation and order rejections (1111, 1116,
  1121 on private calls, 1125, 1130, 1131, 1132, 1133, 1148, 3001, 3002, 3011, 3015, 3017,
  3018, 3019, 3021) — also 429 ``{"code":429,"msg":"Rate limited"}``;
* ``OK200`` — HTTP 200 ``{"code", "msg"}``: unknown symbol on public reads (1121).
"""
from __future__ import annotations

from mpdex.paper.harness import WireError
from mpdex.paper.rules import Reason, Refused

__all__ = ["ApiError", "DETAIL", "PLAIN", "OK200", "refusal", "reason_code"]

DETAIL = "detail"
PLAIN = "plain"
OK200 = "ok200"

# Vest error codes used by the paper server (vest-api.md §6.3).
UNAUTHORIZED = 1002
INVALID_SIGNATURE = 1022
INVALID_NETWORK_TYPE = 1024
BAD_DECIMALS = 1111
INVALID_ORDER_TYPE = 1116
BAD_SYMBOL = 1121
INVALID_LISTEN_KEY = 1125
INVALID_PARAMETER = 1130
BAD_RECV_WINDOW = 1131
ORDER_EXPIRED = 1132
INVALID_TIME_IN_FORCE = 1133
INVALID_ACCOUNT_GROUP = 1146
MARKET_CLOSED = 1148
PRICE_CHECK_FAILED = 3001
MARGIN_CHECK_FAILED = 3002
INVALID_LIMIT_PRICE = 3011
DUPLICATE = 3015
ORDER_NOT_FOUND = 3017
REDUCE_ONLY_INCREASES = 3018
REDUCE_ONLY_EXCEEDS_SIZE = 3019
DECREASE_LEVERAGE_WITH_POSITION = 3021

_STATUS = {DETAIL: 401, PLAIN: 400, OK200: 200}

#: the simulator's reasons → (Vest code, body style, message prefix)
_REASONS: dict[Reason, tuple[int, str, str]] = {
    Reason.MARKET_HALTED: (MARKET_CLOSED, PLAIN, ""),
    Reason.REDUCE_ONLY_INCREASES: (REDUCE_ONLY_INCREASES, PLAIN, ""),
    Reason.REDUCE_ONLY_EXCEEDS: (REDUCE_ONLY_EXCEEDS_SIZE, PLAIN, ""),
    Reason.MARKET_UNFILLABLE: (PRICE_CHECK_FAILED, PLAIN, "Price check failed: "),
    Reason.INSUFFICIENT_MARGIN: (MARGIN_CHECK_FAILED, PLAIN, "Margin check failed: "),
    Reason.ORDER_NOT_OPEN: (ORDER_NOT_FOUND, PLAIN, ""),
    Reason.LEVERAGE_INVALID: (INVALID_PARAMETER, PLAIN, ""),
    Reason.LEVERAGE_ABOVE_MAX: (INVALID_PARAMETER, PLAIN, ""),
    Reason.LEVERAGE_DECREASE_MARGIN: (DECREASE_LEVERAGE_WITH_POSITION, PLAIN, ""),
}


class ApiError(WireError):
    """A refusal the server answers with a Vest error body."""

    def __init__(self, code: int, msg: str, style: str = PLAIN, status: int | None = None) -> None:
        self.code = code
        self.msg = msg
        self.style = style
        inner = {"code": code, "msg": msg}
        super().__init__(status if status is not None else _STATUS[style],
                         {"detail": inner} if style == DETAIL else inner, message=f"{code} {msg}")


def refusal(exc: Refused) -> ApiError:
    """The Vest answer to a simulator refusal (every reason the Vest rules can produce)."""
    code, style, prefix = _REASONS[exc.reason]
    return ApiError(code, prefix + exc.message, style)


def reason_code(reason: str | None) -> int | None:
    """The ``code`` a REJECTED order carries for its stored reason."""
    if reason is None:
        return None
    entry = _REASONS.get(Reason(reason))
    return entry[0] if entry else None
