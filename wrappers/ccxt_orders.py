"""The order wire of the ccxt adapter: what ``mpdex.orders.place_order`` needs for one order.

* ``send``: ccxt's formatting of size and price is checked against the plan (a difference
  refuses locally), then one ``create_order`` as a limit order (a market order is IOC at its
  cap) carrying our client order id. An error before any request went out is a refusal; a
  specific ccxt refusal after sending is one; anything else after sending (timeouts, 5xx,
  ccxt's bare ``ExchangeError`` for answers it does not recognise) is an unknown outcome;
* ``confirm``: the accepted order's record, read by id (or client id) until complete, and for
  a market order until final or ``confirm_timeout``; unreadable → ``OrderStateUnknown``. A
  later read keeps the fill price / fee the accepted answer carried, and what is still missing
  of a filled order is read from its fills (``CcxtReads._with_fills``);
* ``lookup``: the order under our client order id (see ``CcxtReads._find_by_client_id``);
* ``matches``: every field we sent (symbol, side, size, price, type, reduce-only).
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mpdex.errors import ExchangeError, InvalidOrder, MpdexError, OrderStateUnknown
from mpdex.orders import OrderPlan, SendOutcome, signed_fields_match
from mpdex.types import OrderRecord

from . import ccxt_parsers as P
from .ccxt_errors import map_ccxt_error
from .ccxt_http import QUEUE_WAIT, SENT

if TYPE_CHECKING:
    from .ccxt_perp import CcxtPerpExchange

__all__ = ["CcxtOrderWire"]

log = logging.getLogger("mpdex.ccxt")

_TERMINAL = frozenset({"FILLED", "CANCELLED", "EXPIRED", "REJECTED"})


class CcxtOrderWire:
    """One order through ``mpdex.orders.place_order`` (implements ``OrderHooks``)."""

    def __init__(self, ex: CcxtPerpExchange, plan: OrderPlan, cid: str) -> None:
        self.ex, self.plan, self.cid = ex, plan, cid
        self.unified: str = ex._markets[plan.symbol]["symbol"]

    def _params(self) -> dict[str, Any]:
        rule = self.ex.entry.client_id
        params: dict[str, Any] = {rule.param: int(self.cid) if rule.as_int else self.cid,
                                  "reduceOnly": self.plan.reduce_only}
        if self.plan.time_in_force == "ALO":
            params["postOnly"] = True
        elif self.plan.time_in_force is not None:
            params["timeInForce"] = self.ex.entry.tif_names.get(self.plan.time_in_force, self.plan.time_in_force)
        return params

    def _check_formatting(self) -> None:
        """ccxt formats the numbers again before signing: it must give our strings."""
        ex, plan = self.ex.exchange, self.plan
        try:
            amount = Decimal(ex.amount_to_precision(self.unified, float(plan.size)))
            price = Decimal(ex.price_to_precision(self.unified, float(plan.price)))
        except Exception as exc:
            raise map_ccxt_error(exc, self.ex.name) from exc
        if amount != plan.size or price != plan.price:
            raise InvalidOrder(f"{self.ex.name}: ccxt would send size {amount} / price {price} instead of "
                               f"{plan.size} / {plan.price}; refused, nothing was sent")

    async def send(self) -> SendOutcome:
        self._check_formatting()
        sent: list[str] = []
        token, sent_token = QUEUE_WAIT.set(self.ex.order_queue_wait), SENT.set(sent)
        try:
            order = await self.ex.exchange.create_order(self.unified, "limit", self.plan.side, float(self.plan.size),
                                                        float(self.plan.price), self._params())
        except asyncio.CancelledError:
            if sent:
                log.warning("%s %s order cid=%s was cancelled by the caller after it may have been sent; look it "
                            "up by client_order_id", self.ex.name, self.ex._who, self.cid)
            raise
        except Exception as exc:
            error = map_ccxt_error(exc, self.ex.name)
            if not sent:
                return SendOutcome("refused", error=error)  # nothing went out
            # a specific refusal is one; ccxt's bare ExchangeError is its bucket for answers it
            # does not recognise (an internal error may still have placed the order): reconcile
            if isinstance(error, ExchangeError) and type(error) is not ExchangeError:
                return SendOutcome("refused", error=error)
            return SendOutcome("unknown", error=error, detail=type(error).__name__)
        finally:
            QUEUE_WAIT.reset(token)
            SENT.reset(sent_token)
        try:
            record = self.ex._record(order)
        except (MpdexError, KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise OrderStateUnknown(f"{self.ex.name} order cid {self.cid} was accepted but its answer could not "
                                    f"be read: {exc}", client_order_id=self.cid, raw=order.get("info")) from exc
        return SendOutcome("accepted", record=record, accepted_id=record["id"] or None)

    @staticmethod
    def _complete(record: OrderRecord | None) -> bool:
        return (record is not None and bool(record["id"]) and record["side"] in ("buy", "sell")
                and record["size"] > 0 and record["price"] is not None and record["status"] != "UNKNOWN")

    async def confirm(self, sent: SendOutcome) -> OrderRecord:
        record = sent.record
        final_needed = self.plan.order_type == "market"
        deadline = time.monotonic() + self.ex.confirm_timeout
        delay = 0.05
        while not self._complete(record) or (final_needed and record is not None and record["status"] not in _TERMINAL):
            if not (record and record["id"]) and not sent.accepted_id:
                fresh = await self._read_state(self.ex._find_by_client_id(self.cid, self.unified))
            else:
                order_id = (record["id"] if record and record["id"] else sent.accepted_id) or ""
                fresh = await self._read_state(self._fetch_by_id(order_id))
            if fresh is not None:
                record = P.keep_fill_facts(fresh, record)
            if self._complete(record) and (not final_needed or record["status"] in _TERMINAL):  # type: ignore[index]
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await asyncio.sleep(min(delay, remaining))
            delay = min(delay * 2, 0.25)
        if record is None or not self._complete(record):
            raise OrderStateUnknown(f"{self.ex.name} order cid {self.cid} was accepted but its record could not be "
                                    "read", client_order_id=self.cid, raw=record["raw"] if record else None)
        if record["status"] == "REJECTED":
            raise InvalidOrder(f"{self.ex.name} rejected order {record['id']} (cid {self.cid})", raw=record["raw"])
        if self.plan.order_type == "market" and str(record["order_type"]) == "limit":
            record["order_type"] = "market"  # sent as an IOC limit at the cap, as documented
        if record["client_order_id"] in (None, ""):
            record["client_order_id"] = self.cid
        return await self.ex._with_fills(record, self.unified)

    async def _fetch_by_id(self, order_id: str) -> OrderRecord | None:
        if self.ex._has("fetchOrder"):
            return self.ex._record(await self.ex._read("fetch_order", order_id, self.unified))
        return await self.ex._find_by_client_id(self.cid, self.unified)

    async def _read_state(self, read: Awaitable[OrderRecord | None]) -> OrderRecord | None:
        try:
            return await read
        except MpdexError as exc:
            raise OrderStateUnknown(f"{self.ex.name} order cid {self.cid} was accepted but its state could not be "
                                    f"read: {exc}", client_order_id=self.cid) from exc

    async def lookup(self) -> OrderRecord | None:
        found = await self.ex._find_by_client_id(self.cid, self.unified)
        if found is not None and not self._complete(found):
            raise ExchangeError(f"{self.ex.name}: the order under client id {self.cid} has an incomplete record",
                                raw=found["raw"])
        return found

    def matches(self, record: OrderRecord, plan: OrderPlan) -> bool:
        sent_type = "limit"
        recorded = str(record.get("order_type") or "").lower()
        order_type = plan.order_type if recorded in (sent_type, plan.order_type) else recorded
        return signed_fields_match(
            plan, symbol=record.get("symbol"), side=record.get("side"), size=P.dec(record.get("size")),
            price=P.dec(record.get("price")), order_type=order_type, reduce_only=record.get("reduce_only"),
        )
