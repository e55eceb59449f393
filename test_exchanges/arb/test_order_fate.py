"""``mpdex.arb.order_fate``: when "not found" proves "never placed", on a hand-moved clock.

A scripted venue: ``create_order`` spends ``call_seconds`` (queueing, signing, sending) and
then raises ``OrderStateUnknown``; the order shows up to ``get_order`` only from ``lands_at``
(a delayed copy arriving late) or never. The proof must be a read begun at least the venue's
``order_validity`` after the call *ended* (the signing happened before that, not at the start
of the call)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from mpdex.arb.order_fate import Leg, Settings, send_order
from mpdex.errors import OrderNotFound, OrderStateUnknown
from test_exchanges.conftest import FakeClock

SIZE = Decimal("0.01")


class ScriptedVenue:
    name = "scripted"

    def __init__(self, clock: FakeClock, *, validity: float | None, call_seconds: float,
                 lands_after_call: float | None) -> None:
        self.clock, self.order_validity, self.call_seconds = clock, validity, call_seconds
        self.lands_after_call = lands_after_call
        self.lands_at: float | None = None
        self.creates: list[dict[str, Any]] = []
        self.reads: list[float] = []  # when each lookup began

    def new_client_id(self) -> str:
        return "4242"

    async def create_order(self, symbol: str, side: str, amount: float, price: Any = None, order_type: Any = None,
                           **kw: Any) -> Any:
        self.creates.append({"symbol": symbol, "side": side, "amount": amount, **kw})
        self.clock.advance(self.call_seconds)  # it signs somewhere in here
        if self.lands_after_call is not None:
            self.lands_at = self.clock.now + self.lands_after_call
        raise OrderStateUnknown("no answer", client_order_id="4242")

    async def get_order(self, *, client_order_id: str) -> dict[str, Any]:
        self.reads.append(self.clock.now)
        if self.lands_at is None or self.clock.now < self.lands_at:
            raise OrderNotFound(f"no order {client_order_id}")
        return {"id": "7", "client_order_id": client_order_id, "symbol": "BTC-PERP", "side": "buy", "size": 0.01,
                "filled_size": 0.01, "price": 97000.0, "avg_price": 97000.0, "status": "FILLED", "fee": 0.097}


def settings(clock: FakeClock) -> Settings:
    return Settings(reconcile_timeout=0.5, poll_interval=0.1, order_timeout=None, read_timeout=1.0, clock=clock,
                    sleep=clock.sleep)


async def send(venue: ScriptedVenue, clock: FakeClock) -> Any:
    leg = Leg("long", venue, "BTC-PERP", "v")  # type: ignore[arg-type]
    return await send_order(leg, "buy", SIZE, purpose="open", reduce_only=False, slippage=None,
                            settings=settings(clock))


async def test_a_copy_landing_after_the_reconcile_bound_but_inside_the_validity_is_found() -> None:
    # the call took 2 s (a long rate-limit wait, then signing): counted from its start the
    # 3 s validity would end 1 s after the call, before the copy lands at +2.5 s
    clock = FakeClock()
    venue = ScriptedVenue(clock, validity=3.0, call_seconds=2.0, lands_after_call=2.5)
    att = await send(venue, clock)
    assert (att.state, att.filled, att.avg_price, att.fee) == ("filled", SIZE, Decimal("97000.0"), Decimal("0.097"))
    assert len(venue.creates) == 1  # reconciled, never sent again


async def test_never_found_is_absent_only_from_a_read_begun_after_the_validity() -> None:
    clock = FakeClock()
    venue = ScriptedVenue(clock, validity=3.0, call_seconds=2.0, lands_after_call=None)
    t0 = clock.now
    att = await send(venue, clock)
    ended = t0 + 2.0
    assert att.state == "absent" and att.filled == 0
    assert venue.reads[-1] >= ended + 3.0  # the proving read
    assert venue.reads[0] < ended + 0.5  # it began reconciling at once, not after a blind wait
    assert len(venue.creates) == 1


async def test_without_a_validity_not_found_is_unresolved() -> None:
    clock = FakeClock()
    venue = ScriptedVenue(clock, validity=None, call_seconds=0.1, lands_after_call=None)
    att = await send(venue, clock)
    assert att.state == "unresolved" and "no proof" in (att.error or "")
    assert venue.reads[-1] - venue.reads[0] == pytest.approx(0.5, abs=0.11)  # the reconcile bound, no longer
    assert len(venue.creates) == 1
