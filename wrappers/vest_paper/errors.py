"""Vest's refusals on the paper server: the codes it answers with, the three error-body styles
(vest-api.md §6.4), and the map from the simulator's neutral ``Reason`` to a code.

Which code gets which style, and why:

* ``{"detail": {"code", "msg"}}`` (FastAPI's wrapper), HTTP 401/403 — authentication: 1002
  unknown API key, 1022 bad/foreign/expired signature (also on ``/register``), 1146 wrong
  account group (403). Two clients that ran against the server read ``detail.code`` /
  ``detail.msg`` (§6.4 style 2, C+).
* ``{"detail": {"code", "msg"}}``, HTTP **400** — the order-level refusals a live-tested
  connector met on production and read as ``error.detail.msg`` (issue 15): 3017 cancel of an
  order that is not open (its live test cancels orders that had already filled), 3018 a
  reduce-only order that would increase the position, and 1130 for a leverage above the
  market's maximum.
* ``{"code", "msg"}``, HTTP 400 — everything else refused (1023, 1024, 1111, 1116, 1121 on
  private calls, 1125, 1130 for malformed fields, 1131, 1132, 1133, 1148, 3001, 3002, 3011, 3015,
  3019, 3021): the docs' own style (§6.4 style 1; their example is 1125's "Listen key
  expired"), kept where no live client showed another; also the injected 429
  ``{"code":429,"msg":"Rate limited"}`` (the docs' example) and 5xx ``{"code","msg"}``.
* ``{"code", "msg"}`` with HTTP **200** — an unknown symbol on public reads (1121), as the
  2026 gateway answered live (§6.4 style 3).

A client must accept all three on any status (``wrappers/vest_errors.py`` does).
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
INVALID_NONCE = 1023
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

#: the simulator's reasons → (Vest code, body style, HTTP status, message prefix)
_REASONS: dict[Reason, tuple[int, str, int, str]] = {
    Reason.MARKET_HALTED: (MARKET_CLOSED, PLAIN, 400, ""),
    Reason.REDUCE_ONLY_INCREASES: (REDUCE_ONLY_INCREASES, DETAIL, 400, ""),
    Reason.REDUCE_ONLY_EXCEEDS: (REDUCE_ONLY_EXCEEDS_SIZE, PLAIN, 400, ""),
    Reason.MARKET_UNFILLABLE: (PRICE_CHECK_FAILED, PLAIN, 400, "Price check failed: "),
    Reason.INSUFFICIENT_MARGIN: (MARGIN_CHECK_FAILED, PLAIN, 400, "Margin check failed: "),
    Reason.ORDER_NOT_OPEN: (ORDER_NOT_FOUND, DETAIL, 400, ""),
    Reason.LEVERAGE_INVALID: (INVALID_PARAMETER, PLAIN, 400, ""),
    Reason.LEVERAGE_ABOVE_MAX: (INVALID_PARAMETER, DETAIL, 400, ""),
    Reason.LEVERAGE_DECREASE_MARGIN: (DECREASE_LEVERAGE_WITH_POSITION, PLAIN, 400, ""),
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
    code, style, status, prefix = _REASONS[exc.reason]
    return ApiError(code, prefix + exc.message, style, status)


def reason_code(reason: str | None) -> int | None:
    """The ``code`` a REJECTED order carries for its stored reason."""
    if reason is None:
        return None
    entry = _REASONS.get(Reason(reason))
    return entry[0] if entry else None
