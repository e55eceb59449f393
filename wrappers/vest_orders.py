"""Vest's order rules and wire: what ``mpdex.orders`` needs from Vest.

* ``market_rules``: a ``VestMarket`` as normalisation rules (size step = minimum size, the
  price tick, limit orders GTC|FOK, market orders no time in force; IOC and post-only are
  known values Vest lacks → ``NotSupported``).
* ``check_client_id``: the nonce is Vest's client order id; a caller's ``client_id`` must be
  an integer in ``1 … MAX_CLIENT_ID`` (10**15; ASCII digits when a string). The bound keeps
  client ids in the space of the millisecond nonces (today ≈ 1.8·10**12, under 10**15 until
  the year 33658) and leaves 2**63 − 10**15 nonces of room above it, so a large client id
  can never make a later nonce of the signer unsendable.
* ``VestOrderWire``: one order's ``send`` (signed when the rate-limit token is in hand,
  resent byte for byte inside ``recvWindow`` when an attempt's fate is unknown), ``confirm``
  (from the order's own event on the live private socket when one comes within
  ``STREAM_CONFIRM``, else ``GET /orders?id=``, polled to a final state for market orders;
  the stream carries no ``realizedPnl``, so such results have ``realized_pnl`` None —
  ``get_order`` reads it) and ``lookup``
  (``GET /orders?nonce=``). An order found by nonce is ours only if every signed field
  matches (``time_in_force`` is not in Vest's order hash) and it was posted no earlier than
  our signing time allows (Vest accepts ``time`` at most 1 s ahead of its clock).
"""
from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from mpdex.errors import ExchangeError, InvalidOrder, MpdexError, OrderStateUnknown
from mpdex.orders import MarketRules, OrderPlan, SendOutcome, StepGrid, signed_fields_match
from mpdex.precision import decimal_or_none, fmt_fixed
from mpdex.ratelimit import Sleep
from mpdex.types import OrderRecord

from . import vest_errors
from . import vest_parsers as P
from .vest_auth import VestSigner
from .vest_markets import VestMarket
from .vest_rest import DEFAULT_RECV_WINDOW

if TYPE_CHECKING:
    from .vest_rest import VestRestClient


class OrderStream(Protocol):
    """What confirmation needs from the pooled private socket (``VestWSClient``)."""

    @property
    def private_live(self) -> bool: ...

    async def wait_for_order(self, client_order_id: Any, status: Any = ..., timeout: float = ...,
                             *, ask_rest: bool = ...) -> OrderRecord: ...

__all__ = [
    "MAX_CLIENT_ID",
    "CLOCK_AHEAD_MS",
    "market_rules",
    "check_client_id",
    "build_order_body",
    "build_cancel_body",
    "pick",
    "VestOrderWire",
]

MAX_CLIENT_ID = 10**15
#: seconds an accepted order waits for its own event on a live private socket before the
#: confirmation falls back to ``GET /orders?id=`` (events arrive ~ms after the answer)
STREAM_CONFIRM = 0.25
#: Vest refuses an order whose ``time`` is more than this ahead of its clock (1131)
CLOCK_AHEAD_MS = 1_000
_DIGITS = re.compile(r"^[0-9]+$")


def market_rules(market: VestMarket) -> MarketRules:
    return MarketRules(
        symbol=market.symbol,
        size_step=market.size_step,
        min_size=market.min_size,
        price_grid=StepGrid(market.tick),
        limit_tifs=("GTC", "FOK"),
        market_tif=None,
        unsupported_tifs=frozenset({"IOC", "ALO"}),
        quote=market.quote,
    )


def check_client_id(client_id: Any) -> int | None:
    """The nonce a caller's ``client_id`` asks for (see the module docstring for the range)."""
    if client_id is None:
        return None
    if isinstance(client_id, str) and _DIGITS.match(client_id.strip()):
        value = int(client_id.strip())
    elif isinstance(client_id, int) and not isinstance(client_id, bool):
        value = client_id
    else:
        raise InvalidOrder(f"client_id must be a positive integer of ASCII digits (it is Vest's nonce), "
                           f"got {client_id!r}")
    if not 0 < value <= MAX_CLIENT_ID:
        raise InvalidOrder(f"client_id must be an integer in 1..{MAX_CLIENT_ID} (it is Vest's nonce; larger ones "
                           f"would push every later nonce of this signer toward 2**63), got {client_id!r}")
    return value


def build_order_body(
    signer: VestSigner,
    *,
    time_ms: int,
    nonce: int,
    symbol: str,
    is_buy: bool,
    size: str,
    limit_price: str,
    order_type: str,
    reduce_only: bool,
    time_in_force: str | None,
    recv_window: int = DEFAULT_RECV_WINDOW,
) -> dict[str, Any]:
    """The exact ``POST /orders`` body: the strings signed are the strings sent."""
    order: dict[str, Any] = {
        "time": time_ms,
        "nonce": nonce,
        "symbol": symbol,
        "isBuy": is_buy,
        "size": size,
        "orderType": order_type,
        "limitPrice": limit_price,
        "reduceOnly": reduce_only,
    }
    if time_in_force is not None:
        order["timeInForce"] = time_in_force
    return {"order": order, "recvWindow": recv_window, "signature": signer.sign_order(order)}


def build_cancel_body(signer: VestSigner, *, time_ms: int, nonce: int, order_id: str,
                      recv_window: int = DEFAULT_RECV_WINDOW) -> dict[str, Any]:
    """The exact ``POST /orders/cancel`` body."""
    cancel = {"time": time_ms, "nonce": nonce, "id": order_id}
    return {"order": cancel, "recvWindow": recv_window, "signature": signer.sign_cancel(cancel)}


def pick(rows: Any, field: str, value: Any) -> dict[str, Any] | None:
    """The order in a ``GET /orders`` answer whose ``field`` equals ``value``."""
    if not isinstance(rows, list):
        raise ExchangeError("GET /orders did not return a list", raw=rows)
    for row in rows:
        if isinstance(row, dict) and str(row.get(field)) == str(value):
            return row
    return None



class VestOrderWire:
    """One Vest order through ``mpdex.orders.place_order`` (implements ``OrderHooks``)."""

    def __init__(
        self,
        rest: VestRestClient,
        signer: VestSigner,
        plan: OrderPlan,
        market: VestMarket,
        nonce: int,
        *,
        clock_ms: Callable[[], int],
        monotonic: Callable[[], float],
        sleep: Sleep,
        recv_window: int,
        confirm_timeout: float,
        queue_wait: float | None,
        stream: OrderStream | None = None,
    ) -> None:
        self.rest, self.signer, self.plan, self.market, self.nonce = rest, signer, plan, market, nonce
        self.cid = str(nonce)
        self._clock_ms, self._monotonic, self._sleep = clock_ms, monotonic, sleep
        self.recv_window = recv_window
        self.confirm_timeout = confirm_timeout
        self.queue_wait = queue_wait
        self.signed_time: int | None = None
        self.body: dict[str, Any] | None = None
        self.stream = stream
        self.confirmed_by = "rest"

    def _build(self) -> dict[str, Any]:
        plan, m = self.plan, self.market
        self.signed_time = self._clock_ms()
        self.body = build_order_body(
            self.signer, time_ms=self.signed_time, nonce=self.nonce, symbol=m.symbol, is_buy=plan.is_buy,
            size=fmt_fixed(plan.size, m.size_decimals), limit_price=fmt_fixed(plan.price, m.price_decimals),
            order_type=plan.order_type.upper(), reduce_only=plan.reduce_only, time_in_force=plan.time_in_force,
            recv_window=self.recv_window,
        )
        return self.body

    async def send(self) -> SendOutcome:
        sent = await self.rest.post_order(self._build, max_queue_wait=self.queue_wait)
        if sent.outcome == "accepted":
            order_id = sent.body.get("id") if isinstance(sent.body, dict) else None
            if not isinstance(order_id, str) or not order_id:
                raise OrderStateUnknown("POST /orders answered without an order id", client_order_id=self.cid,
                                        raw=sent.body)
            return SendOutcome("accepted", accepted_id=order_id, attempts=sent.attempts)
        determined = (sent.outcome == "refused_after_unknown"
                      and getattr(sent.error, "code", None) in vest_errors.BODY_DETERMINED)
        return SendOutcome("unknown", error=sent.error, attempts=sent.attempts, body_determined=determined,
                           detail=sent.outcome)

    async def confirm(self, sent: SendOutcome) -> OrderRecord:
        poll = self.plan.order_type == "market"
        raw = sent.record["raw"] if sent.record is not None else None
        if raw is None and sent.outcome == "accepted" and self.stream is not None:
            raw = await self._from_stream(sent.accepted_id, final=poll)
        if raw is None or (poll and str(raw.get("status")).upper() not in P.TERMINAL_STATUSES):
            order_id = sent.accepted_id
            if not order_id:
                raise OrderStateUnknown(f"order cid {self.cid} was found but has no id", client_order_id=self.cid,
                                        raw=raw)
            raw = await self._read(order_id, poll=poll)
        if str(raw.get("status")).upper() == "REJECTED":
            code = raw.get("code")
            if isinstance(code, int) and not isinstance(code, bool):
                raise vest_errors.error_for_code(code, f"order {raw.get('id')} (cid {self.cid}) rejected", raw=raw)
            raise InvalidOrder(f"Vest rejected order {raw.get('id')} (cid {self.cid}) without a code", raw=raw)
        return self._parse(raw)

    async def _from_stream(self, order_id: str | None, *, final: bool) -> Mapping[str, Any] | None:
        """The accepted order as the live private socket reports it (NEW or later; a market
        order: a final state), within ``STREAM_CONFIRM`` seconds — ``None`` (REST decides)
        when the socket is not live, says nothing in time, or reports another order."""
        stream = self.stream
        if stream is None or not stream.private_live:
            return None
        wanted = P.TERMINAL_STATUSES if final else frozenset({"NEW", "PARTIALLY_FILLED"})
        try:
            record = await stream.wait_for_order(self.cid, wanted, timeout=STREAM_CONFIRM, ask_rest=False)
        except (MpdexError, asyncio.TimeoutError):
            return None
        raw = record.get("raw")
        if not isinstance(raw, Mapping) or raw.get("id") != order_id or raw.get("size") is None:
            return None
        self.confirmed_by = "socket"
        return raw

    def _parse(self, raw: Mapping[str, Any]) -> OrderRecord:
        try:
            return P.parse_order(raw)
        except (MpdexError, KeyError, TypeError, ValueError) as exc:
            # the order exists on the exchange: an unreadable record must not look like a refusal
            raise OrderStateUnknown(f"order cid {self.cid} was accepted but its record could not be read: {exc}",
                                    client_order_id=self.cid, raw=raw) from exc

    async def _read(self, order_id: str, *, poll: bool) -> dict[str, Any]:
        """The accepted order's record; for market orders polled until final or the bound."""
        deadline = self._monotonic() + self.confirm_timeout
        delay = 0.05
        while True:
            try:
                rows = await self.rest.get_orders(id=order_id)
                found = pick(rows, "id", order_id)
            except MpdexError as exc:
                raise OrderStateUnknown(f"order {order_id} was accepted but its state could not be read: {exc}",
                                        client_order_id=self.cid, raw={"id": order_id}) from exc
            if found is not None and (not poll or str(found.get("status")).upper() in P.TERMINAL_STATUSES):
                return found
            remaining = deadline - self._monotonic()
            if remaining <= 0:
                if found is None:
                    raise OrderStateUnknown(f"order {order_id} was accepted but GET /orders does not show it",
                                            client_order_id=self.cid, raw={"id": order_id})
                return found  # still NEW / PARTIALLY_FILLED: reported as such
            await self._sleep(min(delay, remaining))
            delay = min(delay * 2, 0.25)

    async def lookup(self) -> OrderRecord | None:
        found = pick(await self.rest.get_orders(nonce=self.nonce), "nonce", self.nonce)
        return None if found is None else self._parse(found)

    def matches(self, record: OrderRecord, plan: OrderPlan) -> bool:
        raw = record.get("raw")
        if not isinstance(raw, Mapping):
            return False
        posted = raw.get("postTime")
        if self.signed_time is not None and isinstance(posted, int) and posted < self.signed_time - CLOCK_AHEAD_MS:
            return False  # recorded before we signed: an older order under a reused nonce
        return signed_fields_match(
            plan, symbol=raw.get("symbol"), side="buy" if raw.get("isBuy") is True else "sell" if raw.get("isBuy")
            is False else None, size=decimal_or_none(raw.get("size")), price=decimal_or_none(raw.get("limitPrice")),
            order_type=raw.get("orderType"), reduce_only=raw.get("reduceOnly"),
        )
