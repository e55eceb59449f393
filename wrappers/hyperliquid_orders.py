"""Hyperliquid's order rules and wire: what ``mpdex.orders`` needs from Hyperliquid.

* ``market_rules``: size step ``10 ** -szDecimals``, the 5-significant-figure price grid,
  the $10 minimum (waived for reduce-only, so a full close of a small position goes out),
  limit orders GTC (default) | IOC | ALO (post-only), market orders IOC; FOK is a known
  value Hyperliquid lacks → ``NotSupported``.
* ``DEFAULT_SLIPPAGE`` = 0.5 %: a market order is an IOC limit at ``mark × (1 ± 0.005)``,
  rounded toward the mark. Hyperliquid's liquid books sit a few basis points around the
  mark, so such an order fills; on a thin book or in a fast move it is refused cleanly
  (``IOC_NO_MATCH``, nothing filled) rather than filled far away. The official SDK's 5 %
  would let a market order fill 5 % off; Vest's adapter uses the same 0.5 %, so both legs
  of a cross-venue trade carry one cap.
* Every order carries a cloid: ``client_id`` (an integer below 2**128, its digits, or a cloid
  string) through ``cloid_for_client_id``, or a random one; it is the ``client_order_id``.
* ``HyperliquidOrderWire``: ``send`` signs when the rate-limit slot is in hand (the nonce is
  drawn then, from the signer's shared source), resends the same bytes while the outcome is
  unknown, and reads the answer's status (``resting`` / ``filled``, also an IOC's partial
  fill / ``error``). ``lookup`` asks ``orderStatus`` by cloid for the account (the master or
  the vault, never the agent: §8.9), a few times, because a fresh order can be briefly
  invisible (§8.11). An order found is ours only if every signed field matches and it was
  recorded no earlier than ``CLOCK_SKEW_MS`` before we signed.
* Cancels: one ``cancel`` action (by oid) or ``cancelByCloid`` (by cloid, when only that is
  known) per batch of up to 200, one result per order.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from mpdex.clock import now_ms
from mpdex.errors import BadRequest, ExchangeError, InvalidOrder, MpdexError, OrderStateUnknown
from mpdex.nonce import NonceSource
from mpdex.orders import MarketRules, OrderPlan, SendOutcome, signed_fields_match
from mpdex.precision import decimal_or_none
from mpdex.ratelimit import Sleep
from mpdex.types import CancelResult, OrderRecord

from . import hyperliquid_errors as hl_errors
from . import hyperliquid_parsers as P
from .hyperliquid_auth import HyperliquidSigner
from .hyperliquid_canonical import WireError
from .hyperliquid_markets import MIN_NOTIONAL, HyperliquidMarket
from .hyperliquid_wire import (
    Tif,
    cancel_action,
    cancel_by_cloid_action,
    cloid_for_client_id,
    exchange_body,
    limit_type,
    order_action,
    order_wire,
    validate_cloid,
)

if TYPE_CHECKING:
    from .hyperliquid_rest import HyperliquidRestClient

__all__ = [
    "DEFAULT_SLIPPAGE",
    "CLOCK_SKEW_MS",
    "WIRE_TIF",
    "market_rules",
    "check_client_id",
    "ActionSigning",
    "order_action_for",
    "HyperliquidOrderWire",
    "MAX_CANCEL_BATCH",
    "CancelTarget",
    "cancel_target",
    "cancel_action_for",
    "cancel_results",
    "cancel_result",
    "as_order_list",
    "HyperliquidCancelWire",
]

log = logging.getLogger("mpdex.hyperliquid.orders")

DEFAULT_SLIPPAGE = Decimal("0.005")
#: an order recorded this long before we signed is not ours (a reused cloid's older order)
CLOCK_SKEW_MS = 5_000
WIRE_TIF = {"GTC": "Gtc", "IOC": "Ioc", "ALO": "Alo"}
_RECORDED_TIF = {v: k for k, v in WIRE_TIF.items()}


def market_rules(market: HyperliquidMarket) -> MarketRules:
    return MarketRules(
        symbol=market.symbol,
        size_step=market.size_step,
        min_size=market.size_step,
        price_grid=market.price_grid,
        min_notional=MIN_NOTIONAL,
        limit_tifs=("GTC", "IOC", "ALO"),
        market_tif="IOC",
        unsupported_tifs=frozenset({"FOK"}),
        quote=market.quote,
    )


def check_client_id(client_id: Any) -> str | None:
    """The cloid a caller's ``client_id`` asks for (``None``: generate one)."""
    if client_id is None:
        return None
    if isinstance(client_id, bool) or not isinstance(client_id, (int, str)):
        raise InvalidOrder(f"client_id must be an integer below 2**128, its decimal digits or a cloid "
                           f"(0x + 32 hex digits), got {client_id!r}")
    try:
        return cloid_for_client_id(client_id)
    except WireError as exc:
        raise InvalidOrder(f"client_id: {exc}") from None


@dataclass(frozen=True)
class ActionSigning:
    """Who signs, for whom and where: every L1 action of one exchange instance goes through
    ``body``, which draws the nonce (from the signer's shared source) at signing time."""

    signer: HyperliquidSigner
    nonces: NonceSource
    vault_address: str | None
    is_mainnet: bool
    #: orders carry ``expiresAfter`` = the clock at signing + ``order_expiry_ms``: a copy
    #: delayed past it can never land, so "not found" after it proves it was never placed
    order_expiry_ms: int | None = None
    #: the clock ``expiresAfter`` counts from (the nonce may run a few ms ahead of it)
    clock_ms: Callable[[], int] = now_ms

    def body(self, action: Mapping[str, Any], *, expiring: bool = False) -> dict[str, Any]:
        nonce = self.nonces.next()
        expires = self.clock_ms() + self.order_expiry_ms if expiring and self.order_expiry_ms is not None else None
        signature = self.signer.sign_l1(action, nonce, vault_address=self.vault_address, expires_after=expires,
                                        is_mainnet=self.is_mainnet)
        return exchange_body(action, nonce, signature, vault_address=self.vault_address, expires_after=expires)


def order_action_for(plan: OrderPlan, market: HyperliquidMarket, cloid: str,
                     builder: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The canonical ``order`` action of one plan (no builder unless one is given)."""
    assert plan.time_in_force is not None
    wire = order_wire(market.asset, plan.is_buy, plan.price, plan.size, reduce_only=plan.reduce_only,
                      order_type=limit_type(cast(Tif, WIRE_TIF[plan.time_in_force])), cloid=cloid)
    return order_action([wire], builder=builder)



class HyperliquidOrderWire:
    """One Hyperliquid order through ``mpdex.orders.place_order`` (implements ``OrderHooks``)."""

    def __init__(
        self,
        rest: HyperliquidRestClient,
        signing: ActionSigning,
        plan: OrderPlan,
        market: HyperliquidMarket,
        cloid: str,
        *,
        builder: Mapping[str, Any] | None,
        queue_wait: float | None,
        sleep: Sleep,
        clock_ms: Callable[[], int],
        lookup_attempts: int = 3,
        lookup_delay: float = 0.25,
    ) -> None:
        self.rest, self.signing, self.plan, self.market, self.cid = rest, signing, plan, market, cloid
        self.builder = builder
        self.queue_wait = queue_wait
        self._sleep, self._clock_ms = sleep, clock_ms
        self.lookup_attempts, self.lookup_delay = lookup_attempts, lookup_delay
        self.nonce: int | None = None
        self.body: dict[str, Any] | None = None

    def _build(self) -> dict[str, Any]:
        self.body = self.signing.body(order_action_for(self.plan, self.market, self.cid, self.builder), expiring=True)
        self.nonce = self.body["nonce"]
        return self.body

    async def send(self) -> SendOutcome:
        sent = await self.rest.post_action(self._build, batch=1, kind="order", max_queue_wait=self.queue_wait)
        if sent.outcome == "accepted":
            return self._read_answer(sent.body, sent.attempts)
        determined = (sent.outcome == "refused_after_unknown"
                      and getattr(sent.error, "code", None) in hl_errors.BODY_DETERMINED)
        return SendOutcome("unknown", error=sent.error, attempts=sent.attempts, body_determined=determined,
                           detail=sent.outcome)

    def _read_answer(self, body: Any, attempts: int) -> SendOutcome:
        try:
            statuses = P.response_statuses(body, "order")
        except ExchangeError as exc:
            return SendOutcome("unknown", error=exc, attempts=attempts, detail="unreadable answer")
        status = statuses[0] if len(statuses) == 1 else None
        if isinstance(status, Mapping):
            if isinstance(status.get("error"), str):
                return SendOutcome("refused", error=hl_errors.error_for_text(status["error"], http_status=200,
                                                                             raw=body), attempts=attempts)
            for state in ("resting", "filled"):
                detail = status.get(state)
                oid = detail.get("oid") if isinstance(detail, Mapping) else None
                if isinstance(oid, int) and not isinstance(oid, bool):
                    assert isinstance(detail, Mapping)
                    record = self._answered(oid, state, detail, body)
                    return SendOutcome("accepted", record=record, accepted_id=str(oid), attempts=attempts)
        return SendOutcome("unknown", error=ExchangeError("/exchange answered an unreadable order status", raw=body),
                           attempts=attempts, detail=f"status {status!r}")

    def _answered(self, oid: int, state: str, detail: Mapping[str, Any], body: Any) -> OrderRecord:
        """The record the answer states: resting, or filled (``totalSz`` / ``avgPx``)."""
        plan = self.plan
        status, filled, avg = "NEW", Decimal(0), None
        if state == "filled":
            filled, avg = P.dec(detail.get("totalSz"), "totalSz"), P.dec(detail.get("avgPx"), "avgPx")
            if filled >= plan.size:
                status = "FILLED"
            else:  # a GTC order rests with its remainder; an IOC's remainder was cancelled
                status = "PARTIALLY_FILLED" if plan.time_in_force == "GTC" else "CANCELLED"
        return {
            "id": str(oid), "order_id": str(oid), "client_order_id": self.cid, "symbol": plan.symbol,
            "side": plan.side, "size": float(plan.size), "filled_size": float(filled), "price": float(plan.price),
            "order_type": plan.order_type, "status": status, "reduce_only": plan.reduce_only, "created_at": None,
            "avg_price": None if avg is None else float(avg), "fee": None, "realized_pnl": None, "code": None,
            "raw": body,
        }

    async def confirm(self, sent: SendOutcome) -> OrderRecord:
        record = sent.record
        if record is None:
            raise OrderStateUnknown(f"order cid {self.cid} was accepted without a readable record",
                                    client_order_id=self.cid)
        if record["status"] == "REJECTED":
            raise hl_errors.error_for_status(str(record.get("code")), raw=record.get("raw"))
        if record["order_type"] == "limit":
            # a market order is an IOC limit on the wire: matched field by field, it is this one
            record = {**record, "order_type": self.plan.order_type}
        return record

    async def lookup(self) -> OrderRecord | None:
        for attempt in range(self.lookup_attempts):
            record = P.parse_order_status(await self.rest.order_status(self.cid))
            if record is not None:
                return await self._with_fills(record)
            if attempt + 1 < self.lookup_attempts:
                await self._sleep(self.lookup_delay * 2 ** attempt)
        return None

    async def _with_fills(self, record: OrderRecord) -> OrderRecord:
        if record["status"] not in ("FILLED", "CANCELLED", "PARTIALLY_FILLED") or self.nonce is None:
            return record
        try:
            fills = await self.rest.user_fills_by_time(self.nonce - CLOCK_SKEW_MS)
        except MpdexError as exc:  # the order is found; its fills are a detail
            log.warning("hyperliquid order cid=%s: its fills could not be read (%s)", self.cid, type(exc).__name__)
            return record
        return P.with_fills(record, fills if isinstance(fills, list) else [])

    def matches(self, record: OrderRecord, plan: OrderPlan) -> bool:
        raw = record.get("raw")
        wrapper = raw.get("order") if isinstance(raw, Mapping) else None
        order = wrapper.get("order") if isinstance(wrapper, Mapping) else None
        if not isinstance(order, Mapping) or str(order.get("cloid") or "").lower() != self.cid:
            return False
        stamp = order.get("timestamp")
        if self.nonce is not None and isinstance(stamp, int) and stamp < self.nonce - CLOCK_SKEW_MS:
            return False  # recorded before we signed: an older order under a reused cloid
        kind = plan.order_type if order.get("orderType") == "Limit" else order.get("orderType")
        size = order.get("origSz") if order.get("origSz") is not None else order.get("sz")
        return signed_fields_match(
            plan, symbol=order.get("coin"), side={"B": "buy", "A": "sell"}.get(str(order.get("side"))),
            size=decimal_or_none(size), price=decimal_or_none(order.get("limitPx")), order_type=kind,
            reduce_only=order.get("reduceOnly") is True, time_in_force=_RECORDED_TIF.get(str(order.get("tif"))),
        )


# -- cancels ------------------------------------------------------------------------------------

#: at most this many cancels fit in one action (201 → ``Signed action over weight limit``)
MAX_CANCEL_BATCH = 200


@dataclass(frozen=True)
class CancelTarget:
    """One order to cancel: by exchange id when known, else by cloid."""

    market: HyperliquidMarket
    oid: int | None = None
    cloid: str | None = None

    @property
    def ident(self) -> str:
        return str(self.oid) if self.oid is not None else str(self.cloid)


def cancel_target(order: Any, market_of: Callable[[str], HyperliquidMarket], default: HyperliquidMarket) -> CancelTarget:
    """An oid (int or digits), a cloid string, or an order dict (``id``/``order_id``, else
    ``client_order_id``; its ``symbol`` when given) → ``CancelTarget``; ``BadRequest`` otherwise."""
    market = default
    value: Any = order
    if isinstance(order, Mapping):
        if order.get("symbol"):
            market = market_of(str(order["symbol"]))
        value = order.get("id") or order.get("order_id")
        if value is None and order.get("client_order_id"):
            value = order["client_order_id"]
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return CancelTarget(market, oid=value)
    if isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        return CancelTarget(market, oid=int(value.strip()))
    if isinstance(value, str) and value.strip().lower().startswith("0x"):
        try:
            return CancelTarget(market, cloid=validate_cloid(value.strip()))
        except WireError:
            pass
    raise BadRequest(f"cannot cancel {order!r}: give an order id, a cloid, an order dict with 'id' or "
                     "'client_order_id', or a list of them")


def cancel_action_for(targets: Sequence[CancelTarget]) -> dict[str, Any]:
    """The ``cancel`` (all by oid) or ``cancelByCloid`` (all by cloid) action."""
    if all(t.oid is not None for t in targets):
        return cancel_action((t.market.asset, t.oid) for t in targets if t.oid is not None)
    return cancel_by_cloid_action((t.market.asset, t.cloid) for t in targets if t.cloid is not None)


def cancel_results(targets: Sequence[CancelTarget], body: Any) -> list[CancelResult] | None:
    """One result per target from a ``cancel`` answer; ``None`` when it cannot be read."""
    try:
        statuses = P.response_statuses(body, "cancel")
    except ExchangeError:
        return None
    if len(statuses) != len(targets):
        return None
    out = []
    for target, status in zip(targets, statuses, strict=True):
        if status == "success":
            out.append(cancel_result(target))
        elif isinstance(status, Mapping) and isinstance(status.get("error"), str):
            out.append(cancel_result(target, hl_errors.error_for_text(status["error"], http_status=200, raw=body)))
        else:
            return None
    return out


def cancel_result(target: CancelTarget, error: BaseException | None = None) -> CancelResult:
    result: CancelResult = {"id": target.ident, "order_id": target.ident, "symbol": target.market.symbol,
                            "status": "ok" if error is None else "error", "error": None if error is None else str(error)}
    if error is not None:
        result["exception"] = error
    return result


def as_order_list(orders: Any) -> list[Any]:
    """mpdex passes one order (an id or a dict) or a list of them."""
    if isinstance(orders, (str, int, Mapping)) and not isinstance(orders, bool):
        return [orders]
    if isinstance(orders, (list, tuple)):
        return list(orders)
    raise BadRequest(f"open_orders must be an order id, an order dict or a list of them, got {type(orders).__name__}")


class HyperliquidCancelWire:
    """Cancels of one exchange instance: by oid, then by cloid, in batches of
    ``MAX_CANCEL_BATCH``; one result per target, in the order given. When an answer is lost
    or unreadable, each order's own state (``status_of``) decides."""

    def __init__(self, rest: HyperliquidRestClient, signing: ActionSigning, *, queue_wait: float | None,
                 status_of: Callable[[int | str], Awaitable[OrderRecord]], account: str,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.rest, self.signing, self.queue_wait = rest, signing, queue_wait
        self.status_of, self.account, self._monotonic = status_of, account, monotonic

    async def cancel(self, targets: Sequence[CancelTarget]) -> list[CancelResult]:
        results: dict[int, CancelResult] = {}
        for by_oid in (True, False):
            group = [(i, t) for i, t in enumerate(targets) if (t.oid is not None) is by_oid]
            for start in range(0, len(group), MAX_CANCEL_BATCH):
                chunk = group[start:start + MAX_CANCEL_BATCH]
                done = await self._batch([t for _, t in chunk])
                results.update((i, r) for (i, _), r in zip(chunk, done, strict=True))
        return [results[i] for i in range(len(targets))]

    async def _batch(self, targets: Sequence[CancelTarget]) -> list[CancelResult]:
        started = self._monotonic()
        action = cancel_action_for(targets)
        try:
            sent = await self.rest.post_action(lambda: self.signing.body(action), batch=len(targets), kind="cancel",
                                               max_queue_wait=self.queue_wait)
            results = cancel_results(targets, sent.body) if sent.outcome == "accepted" else None
            if results is None:
                results = [await self._outcome(t, sent.error) for t in targets]
        except MpdexError as exc:
            results = [cancel_result(t, exc) for t in targets]
        log.info("hyperliquid %s cancel %d order(s): %d ok, latency=%.1f ms", self.account, len(targets),
                 sum(r["status"] == "ok" for r in results), (self._monotonic() - started) * 1e3)
        return results

    async def _outcome(self, target: CancelTarget, error: BaseException | None) -> CancelResult:
        try:
            state = await self.status_of(target.oid if target.oid is not None else str(target.cloid))
        except MpdexError as exc:
            return cancel_result(target, OrderStateUnknown(f"cancel of {target.ident} unconfirmed: {exc}",
                                                           client_order_id=target.ident))
        if state["status"] == "CANCELLED":
            return cancel_result(target)
        return cancel_result(target, OrderStateUnknown(
            f"cancel of {target.ident} unconfirmed ({error}); the order is {state['status']}",
            client_order_id=target.ident, raw=state.get("raw")))
