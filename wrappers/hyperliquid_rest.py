"""``HyperliquidRestClient``: ``POST /info`` and ``POST /exchange`` on ``mpdex.transport``,
with Hyperliquid's two rate limits. Knows the wire, not the contract's shapes
(``hyperliquid_parsers``) nor signing (``hyperliquid_auth``: the caller passes a function
that signs when called).

Rate limits (hyperliquid-api.md §6):

* **IP weight**, 1200 per minute: one token bucket of weight (20/s, burst 1200) per host,
  shared by every client in the process (``shared_limiter``). ``/info`` costs its type's
  weight (2, 20 or 60) plus, for listing types, 1 per 20 (candles: 60) returned items,
  charged once the answer is in; ``/exchange`` costs ``1 + ⌊batch / 40⌋``. HTTP 429
  (body ``null``) pauses the bucket with backoff and the request is retried.
* **Address budget** (10 000 + 1 per USDC traded, lifetime): tracked from the server's
  answers, per account and host. Once it says ``Too many cumulative requests sent``, the
  account is in the 10 s regime: its actions go out one per 10 s (a separate bucket, paused
  10 s after each such refusal; an order that cannot get a slot within its queue wait is
  refused locally, unsent), and ``userRateLimit`` is re-read at most every 10 s to see
  whether traded volume freed requests. Cancels have their own, larger cap
  (``min(cap + 100000, 2 × cap)``) and are not held back while it lasts.

A signed body is never re-signed: ``post_action`` resends the same bytes for
``resend_window`` seconds when an attempt's fate is unknown (a processed copy makes the
resend fail with ``duplicate nonce``, which ``post_signed`` reports as ``duplicate``).
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Any, Literal

import orjson

from mpdex.config import check_seconds
from mpdex.errors import ConfigError, ExchangeError, MpdexError, RateLimitExceeded
from mpdex.ratelimit import RateLimiter, TokenBucket, shared_limiter
from mpdex.transport import HttpTransport, RetryPolicy, SignedPost
from mpdex.transport import Sleep as _Sleep

from . import hyperliquid_errors as hl_errors
from .hyperliquid_keys import HyperliquidKey

__all__ = [
    "HyperliquidRestClient",
    "AddressBudget",
    "INFO_WEIGHTS",
    "DEFAULT_INFO_WEIGHT",
    "IP_LIMIT",
    "ADDRESS_REGIME",
    "info_weight",
    "item_weight",
    "exchange_weight",
    "PAGE",
]

log = logging.getLogger("mpdex.hyperliquid.rest")

#: /info weights (§6.1); every other type weighs ``DEFAULT_INFO_WEIGHT``
INFO_WEIGHTS = {"l2Book": 2, "allMids": 2, "clearinghouseState": 2, "orderStatus": 2, "spotClearinghouseState": 2,
                "exchangeStatus": 2, "userRole": 60}
DEFAULT_INFO_WEIGHT = 20
#: types charged 1 more per this many returned items
_PER_ITEMS = {"candleSnapshot": 60} | dict.fromkeys(
    ("recentTrades", "historicalOrders", "userFills", "userFillsByTime", "fundingHistory", "userFunding",
     "nonUserFundingUpdates", "twapHistory", "userTwapSliceFills", "userTwapSliceFillsByTime", "delegatorHistory",
     "delegatorRewards", "validatorStats"), 20)
#: (weight per second, burst): 1200 per minute
IP_LIMIT = (20.0, 1200.0)
#: one action per 10 s once the address budget is used up
ADDRESS_REGIME = (1.0 / hl_errors.ADDRESS_LIMIT_WAIT, 1.0)
ActionKind = Literal["order", "cancel", "other"]
#: a time-range /info answer holds at most this many rows
PAGE = 500


def info_weight(kind: str) -> int:
    return INFO_WEIGHTS.get(kind, DEFAULT_INFO_WEIGHT)


def item_weight(kind: str, answer: Any) -> int:
    per = _PER_ITEMS.get(kind)
    return len(answer) // per if per and isinstance(answer, list) else 0


def exchange_weight(batch: int) -> int:
    return 1 + batch // 40


class AddressBudget:
    """What the server told us of one account's lifetime request budget (see the module
    docstring). ``regime`` is the 1-per-10 s bucket used while it is exhausted."""

    def __init__(self, regime: TokenBucket, monotonic: Callable[[], float]) -> None:
        self.regime = regime
        self._monotonic = monotonic
        self.used: int | None = None
        self.cap: int | None = None
        self.exhausted = False
        self.checked_at: float | None = None

    def holds_back(self, kind: ActionKind, n: int) -> bool:
        if not self.exhausted:
            return False
        if kind == "cancel" and self.used is not None and self.cap is not None:
            return self.used + n > min(self.cap + 100_000, 2 * self.cap)
        return True

    def due_for_check(self) -> bool:
        return self.exhausted and (self.checked_at is None
                                   or self._monotonic() - self.checked_at >= hl_errors.ADDRESS_LIMIT_WAIT)

    def refused(self, used: int | None, cap: int | None) -> None:
        if used is not None:
            self.used, self.cap = used, cap
        if not self.exhausted:
            log.warning("hyperliquid address budget used up (%s > %s): one action per %.0f s until traded volume "
                        "frees requests", used, cap, hl_errors.ADDRESS_LIMIT_WAIT)
        self.exhausted = True
        self.regime.pause(hl_errors.ADDRESS_LIMIT_WAIT)

    def sent(self, n: int) -> None:
        if self.used is not None:
            self.used += n

    def status(self, used: int, cap: int) -> None:
        """From ``userRateLimit``: the budget as the server counts it now."""
        self.used, self.cap, self.checked_at = used, cap, self._monotonic()
        if used < cap and self.exhausted:
            log.info("hyperliquid address budget has room again (%d < %d)", used, cap)
        self.exhausted = used >= cap


_BUDGETS: weakref.WeakKeyDictionary[RateLimiter, AddressBudget] = weakref.WeakKeyDictionary()


class HyperliquidRestClient:
    """``/info`` and ``/exchange`` for one account (``key``). Options: ``timeout`` (s per
    read), ``order_timeout`` (s per signed attempt), ``resend_window`` (s a signed body may
    be resent), ``rate_limits`` (``{"ip"|"address": (rate, burst)}``), ``retry``, and the
    injectable ``monotonic``, ``sleep``, ``rng``."""

    def __init__(
        self,
        key: HyperliquidKey,
        *,
        timeout: float = 10.0,
        order_timeout: float = 2.0,
        resend_window: float = 4.0,
        rate_limits: Mapping[str, tuple[float, float]] | None = None,
        retry: RetryPolicy | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: _Sleep = asyncio.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        unknown = sorted(set(rate_limits or {}) - {"ip", "address"})
        if unknown:
            raise ConfigError(f"unknown rate_limits group(s): {', '.join(unknown)}; known: address, ip")
        self.key = key
        self.account = key.account_address
        self.order_timeout = check_seconds(order_timeout, "order_timeout")
        self.resend_window = check_seconds(resend_window, "resend_window")
        self._monotonic = monotonic
        url = key.base_url
        limits = dict(rate_limits or {})
        self.limiter = shared_limiter(("hyperliquid", url), {"ip": IP_LIMIT},
                                      {"ip": limits["ip"]} if "ip" in limits else None, clock=monotonic, sleep=sleep)
        account_limiter = shared_limiter(("hyperliquid", url, self.account), {"address": ADDRESS_REGIME},
                                         {"address": limits["address"]} if "address" in limits else None,
                                         clock=monotonic, sleep=sleep)
        budget = _BUDGETS.get(account_limiter)
        if budget is None:
            budget = _BUDGETS[account_limiter] = AddressBudget(account_limiter.bucket("address"), monotonic)
        self.budget = budget
        self.transport = HttpTransport(
            url,
            decode_error=hl_errors.decode_error,
            limiter=self.limiter,
            headers={"Accept": "application/json", "User-Agent": "mpdex-vest/0.1 (+aiohttp)"},
            proxy=key.proxy,
            timeout=check_seconds(timeout, "timeout"),
            policy=retry or RetryPolicy(),
            clock=monotonic,
            sleep=sleep,
            rng=rng,
            name="hyperliquid",
        )

    def __repr__(self) -> str:
        return f"HyperliquidRestClient(base_url={self.base_url!r}, account={self.account})"

    @property
    def base_url(self) -> str:
        return self.transport.base_url

    async def close(self) -> None:
        """Close the HTTP session. Idempotent."""
        await self.transport.close()

    # -- /info -----------------------------------------------------------------------

    async def info(self, body: Mapping[str, Any]) -> Any:
        """One ``/info`` request, weighed by its type (plus its items once answered)."""
        kind = str(body.get("type"))
        answer = await self.transport.request("POST", "/info", data=orjson.dumps(body), group="ip", safe=True,
                                              weight=info_weight(kind))
        extra = item_weight(kind, answer)
        if extra:
            await self.limiter.bucket("ip").acquire(extra)
        return answer

    async def meta(self) -> Any:
        return await self.info({"type": "meta"})

    async def meta_and_asset_ctxs(self) -> Any:
        return await self.info({"type": "metaAndAssetCtxs"})

    async def all_mids(self) -> Any:
        return await self.info({"type": "allMids"})

    async def l2_book(self, coin: str) -> Any:
        return await self.info({"type": "l2Book", "coin": coin})

    async def clearinghouse_state(self) -> Any:
        return await self.info({"type": "clearinghouseState", "user": self.account})

    async def frontend_open_orders(self) -> Any:
        return await self.info({"type": "frontendOpenOrders", "user": self.account})

    async def order_status(self, oid: int | str) -> Any:
        """By order id (int) or cloid (``0x`` + 32 hex), for the account (never the agent)."""
        return await self.info({"type": "orderStatus", "user": self.account, "oid": oid})

    async def user_fills_by_time(self, start_time: int, end_time: int | None = None) -> Any:
        body: dict[str, Any] = {"type": "userFillsByTime", "user": self.account, "startTime": start_time}
        if end_time is not None:
            body["endTime"] = end_time
        return await self.info(body)

    async def funding_history(self, coin: str, start_time: int, end_time: int | None = None) -> Any:
        body: dict[str, Any] = {"type": "fundingHistory", "coin": coin, "startTime": start_time}
        if end_time is not None:
            body["endTime"] = end_time
        return await self.info(body)

    async def funding_history_pages(self, coin: str, start_time: int, end_time: int | None, count: int) -> list[Any]:
        """At least ``count`` rows from ``start_time`` on (or all there are): a time-range
        answer holds at most ``PAGE`` rows, so the next page starts after the last row."""
        rows: list[Any] = []
        while len(rows) < count:
            page = await self.funding_history(coin, start_time, end_time)
            if not isinstance(page, list):
                raise ExchangeError("fundingHistory did not return a list", raw=page)
            rows.extend(page)
            last = max((r.get("time", 0) for r in page if isinstance(r, dict)), default=None)
            if len(page) < PAGE or not isinstance(last, int) or last < start_time:
                break
            start_time = last + 1
        return rows

    async def predicted_fundings(self) -> Any:
        return await self.info({"type": "predictedFundings"})

    async def candle_snapshot(self, coin: str, interval: str, start_time: int, end_time: int) -> Any:
        return await self.info({"type": "candleSnapshot", "req": {"coin": coin, "interval": interval,
                                                                  "startTime": start_time, "endTime": end_time}})

    async def user_fees(self) -> Any:
        return await self.info({"type": "userFees", "user": self.account})

    async def active_asset_data(self, coin: str) -> Any:
        return await self.info({"type": "activeAssetData", "user": self.account, "coin": coin})

    async def user_rate_limit(self) -> Any:
        return await self.info({"type": "userRateLimit", "user": self.account})

    # -- /exchange -------------------------------------------------------------------

    async def _refresh_budget(self) -> None:
        try:
            answer = await self.user_rate_limit()
        except MpdexError as exc:
            log.warning("hyperliquid %s: userRateLimit could not be read (%s); staying in the 10 s regime",
                        self.account, type(exc).__name__)
            self.budget.checked_at = self._monotonic()
            return
        used, cap = (answer.get("nRequestsUsed"), answer.get("nRequestsCap")) if isinstance(answer, dict) else (None, None)
        if isinstance(used, int) and isinstance(cap, int):
            self.budget.status(used, cap)
        else:
            self.budget.checked_at = self._monotonic()

    def _note(self, error: BaseException | None) -> None:
        if error is not None and getattr(error, "code", None) == "ADDRESS_RATE_LIMIT":
            used, cap = hl_errors.parse_address_limit(error) or (None, None)
            self.budget.refused(used, cap)

    async def post_action(self, build: Callable[[], Mapping[str, Any]], *, batch: int = 1, kind: ActionKind = "order",
                          max_queue_wait: float | None = None) -> SignedPost:
        """POST one signed action. ``build`` signs it (drawing its nonce) and is called once,
        when the rate-limit slot is in hand; ``batch`` is the number of orders or cancels in
        it. A slot further away than ``max_queue_wait`` is refused locally
        (``RateLimitExceeded``: nothing signed or sent). See ``HttpTransport.post_signed``."""
        if self.budget.due_for_check():
            await self._refresh_budget()
        if self.budget.holds_back(kind, batch):
            await self.budget.regime.acquire(max_wait=max_queue_wait)

        def signed() -> tuple[bytes, float]:
            return orjson.dumps(build()), self._monotonic() + self.resend_window

        try:
            sent = await self.transport.post_signed(
                "/exchange", signed, is_duplicate=hl_errors.is_duplicate, group="ip", weight=exchange_weight(batch),
                attempt_timeout=self.order_timeout, max_queue_wait=max_queue_wait,
            )
        except RateLimitExceeded as exc:
            self._note(exc)
            raise
        self._note(sent.error)
        if sent.outcome == "accepted":
            self.budget.sent(batch)
        return sent
