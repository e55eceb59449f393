"""WSPool: one client per (event loop, account key), shared by reference count, with a
venue factory; a failing first start is shared and leaves nothing behind."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from wrappers.base_ws_pool import Census, WSPool


class FakeClient:
    """The smallest pooled client: counts starts/closes, can fail or stall its start."""

    instances: list[FakeClient] = []

    def __init__(self, key: str, *, fail: BaseException | None = None, gate: asyncio.Event | None = None,
                 **options: Any) -> None:
        self.key, self.options, self.fail, self.gate = key, options, fail, gate
        self.starts = self.closes = 0
        self._closed = False
        FakeClient.instances.append(self)

    @property
    def closed(self) -> bool:
        return self._closed

    async def start(self, wait: bool = True) -> bool:
        self.starts += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        return True

    async def close(self) -> None:
        self.closes += 1
        self._closed = True


def make_pool() -> WSPool[str, FakeClient]:
    return WSPool(FakeClient, key_of=lambda key: key.lower())


async def test_one_client_per_account_key_shared_by_reference_count() -> None:
    pool = make_pool()
    a, b = await asyncio.gather(pool.acquire("Acct-1", option=1), pool.acquire("acct-1", option=2))
    assert a is b and pool.refs(a) == 2 and a.starts == 1
    assert a.options == {"option": 1}  # options apply only to the call that creates the client
    other = await pool.acquire("acct-2")
    assert other is not a and pool.refs(other) == 1
    await pool.release(a)
    assert pool.refs(a) == 1 and a.closes == 0
    await pool.release(b)
    assert pool.refs(a) == 0 and a.closes == 1 and a.closed
    again = await pool.acquire("acct-1")
    assert again is not a and again.starts == 1 and pool.refs(again) == 1
    await pool.release(again)
    await pool.release(other)
    assert other.closed


async def test_each_event_loop_gets_its_own_client() -> None:
    pool = make_pool()
    here = await pool.acquire("acct")
    other_loop = asyncio.new_event_loop()
    try:
        there = await pool.acquire("acct", loop=other_loop)
        assert there is not here and pool.refs(here) == 1 and pool.refs(there) == 1
        await pool.release(there)
        assert there.closed and not here.closed
    finally:
        other_loop.close()
    await pool.release(here)


async def test_a_failing_first_start_is_shared_by_concurrent_acquirers_and_leaves_no_entry() -> None:
    pool = make_pool()
    gate = asyncio.Event()
    boom = RuntimeError("refused")
    first = asyncio.create_task(pool.acquire("acct", fail=boom, gate=gate))
    await asyncio.sleep(0)
    second = asyncio.create_task(pool.acquire("acct"))  # joins the start in flight
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert results == [boom, boom]
    failed = FakeClient.instances[-1]
    assert failed.starts == 1 and failed.closes == 1 and pool.refs(failed) == 0
    fresh = await pool.acquire("acct")  # nothing left behind: a new client starts
    assert fresh is not failed and fresh.starts == 1 and pool.refs(fresh) == 1
    await pool.release(fresh)


async def test_a_cancelled_joiner_is_counted_out() -> None:
    pool = make_pool()
    gate = asyncio.Event()
    first = asyncio.create_task(pool.acquire("acct", gate=gate))
    await asyncio.sleep(0)
    joiner = asyncio.create_task(pool.acquire("acct"))
    await asyncio.sleep(0)
    joiner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await joiner
    gate.set()
    client = await first
    assert pool.refs(client) == 1
    await pool.release(client)
    assert client.closed


async def test_releasing_an_unknown_client_closes_it() -> None:
    pool = make_pool()
    stray = FakeClient("nobody")
    await pool.release(stray)
    assert stray.closes == 1 and pool.refs(stray) == 0


async def test_a_closed_client_is_replaced_on_the_next_acquire() -> None:
    pool = make_pool()
    a = await pool.acquire("acct")
    await a.close()  # closed behind the pool's back
    b = await pool.acquire("acct")
    assert b is not a and not b.closed
    await pool.release(b)


async def test_the_census_counts_other_live_clients_of_a_group() -> None:
    census = Census()
    a, b, c = FakeClient("a"), FakeClient("b"), FakeClient("c")
    census.join("acct", a)
    census.join("acct", b)
    census.join("other", c)
    assert census.leave("acct", a) == 1  # b still uses what a and b share
    await b.close()
    census.join("acct", a)
    assert census.leave("acct", a) == 0  # b is closed: it does not count
    assert census.leave("acct", b) == 0 and census.leave("nobody", a) == 0
    assert census.leave("other", c) == 0
    assert census._groups == {}
