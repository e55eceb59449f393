"""A paper venue restarted on an existing ledger replays the market for the time it was down
(issue 11): resting orders crossed on the way fill, every funding hour that came due is
applied, the path is deterministic for a seed and a gap, and a month-long gap stays cheap.
Time is an injected clock: nothing here waits."""
from __future__ import annotations

import time
from dataclasses import replace
from decimal import Decimal

import aiohttp

from mpdex.paper import PaperVest
from mpdex.paper.replay import REPLAY_MAX_STEPS
from test_exchanges.paper_helpers import RawClient, now_ms

pytest_plugins = ("test_exchanges.paper_helpers",)

HOUR = 3_600_000


def clock_after_an_hour_boundary() -> list[int]:
    return [(now_ms() // HOUR) * HOUR + 1_000]


def venue(db: str, clock: list[int], *, seed: int = 7, **kw: object) -> PaperVest:
    return PaperVest(db_path=db, seed=seed, tick_interval=None, clock_ms=lambda: clock[0], **kw)  # type: ignore[arg-type]


def rebind(client: RawClient, paper: PaperVest, session: aiohttp.ClientSession) -> RawClient:
    return RawClient(replace(client.key, rest_url=paper.rest_url, ws_url=paper.ws_url), session)


async def test_a_resting_buy_crossed_while_down_fills_on_restart(tmp_path, session: aiohttp.ClientSession) -> None:
    clock = clock_after_an_hour_boundary()
    for replay in (False, True):  # the same ledger and gap, without and with the replay
        db = str(tmp_path / f"replay-{replay}.sqlite3")
        async with venue(db, clock, auto_funding=False) as paper:
            c = RawClient(await paper.create_account(usdc=10_000), session)
            paper.set_price("BTC-PERP", "97000.0")
            t0 = clock[0]
            _, near = await c.place(order_type="LIMIT", limit_price="96800.0", size="0.0100", t=t0)
            _, far = await c.place(order_type="LIMIT", limit_price="60000.0", size="0.0100", t=t0)
        clock[0] += 6 * HOUR
        async with venue(db, clock, auto_funding=False, replay=replay) as paper:
            c = rebind(c, paper, session)
            row = await c.order_by_id(near["id"])
            assert (await c.order_by_id(far["id"]))["status"] == "NEW"  # the path never went there
            if not replay:
                assert row["status"] == "NEW" and paper.price("BTC-PERP") == Decimal("97000.0")
                assert paper.last_replay is None
            else:
                assert (row["status"], row["avgFilledPrice"], row["lastFilledSize"]) == ("FILLED", "96800.0", "0.0100")
                assert t0 < row["lastFilledTime"] < clock[0]  # filled on the way, at the replayed moment
                assert (await c.position("BTC-PERP"))["size"] == "0.0100"
                report = paper.last_replay
                assert report is not None and report.orders_filled == 1
                assert report.steps == REPLAY_MAX_STEPS and report.step_ms == 6 * HOUR // REPLAY_MAX_STEPS
            clock[0] -= 6 * HOUR


async def test_funding_for_three_missed_hours_is_applied_three_times(tmp_path, session: aiohttp.ClientSession) -> None:
    clock = clock_after_an_hour_boundary()
    start_hour = clock[0] - 1_000
    db = str(tmp_path / "funding.sqlite3")
    async with venue(db, clock) as paper:
        c = RawClient(await paper.create_account(usdc=10_000), session)
        assert (await c.place(symbol="ETH-PERP", size="1.000", limit_price="9999.00", t=clock[0]))[0] == 200
        assert paper.stats["funding_events"] == 0
    clock[0] += 3 * HOUR + 30 * 60_000
    async with venue(db, clock) as paper:
        c = rebind(c, paper, session)
        assert paper.stats["funding_events"] == 3
        hours = [start_hour + k * HOUR for k in (3, 2, 1)]
        history = paper.ledger.funding_history("ETH-PERP", None, None, 10)
        assert [t for t, _ in history] == hours
        cum = Decimal(0)
        for t, rate in reversed(history):  # each event at the replay's mark of that hour
            price = paper.ledger.funding_price("ETH-PERP", t)
            assert price is not None and rate != 0
            cum = (cum + rate * price).quantize(Decimal("1e-12"))
        ticker = (await c.get("/ticker/latest", params={"symbols": "ETH-PERP"}))[1]["tickers"][0]
        assert ticker["cumFunding"] == f"{cum:.12f}"
        pos = await c.position("ETH-PERP")
        mark, entry = Decimal(pos["markPrice"]), Decimal(pos["entryPrice"])
        price_pnl = ((mark - entry) * 1).quantize(Decimal("0.000001"))
        accrued = (-cum * 1).quantize(Decimal("0.000001"))
        assert pos["unrealizedPnl"] == f"{price_pnl + accrued:.6f}"  # the long accrued all three
        assert paper.last_replay is not None and paper.last_replay.funding_events == 3
        clock[0] += 1_000
        assert paper.sim.maybe_fund() is False  # nothing left over for the live clock


async def _marks_after(tmp_path, name: str, seed: int, gap_ms: int, start: int) -> dict[str, Decimal]:
    clock = [start]
    db = str(tmp_path / f"{name}.sqlite3")
    async with venue(db, clock, seed=seed, auto_funding=False) as paper:
        paper.set_price("SOL-PERP", "180.000")
    clock[0] += gap_ms
    async with venue(db, clock, seed=seed, auto_funding=False) as paper:
        return {s: paper.price(s) for s in paper.markets}


async def test_the_same_seed_and_gap_give_the_same_marks(tmp_path) -> None:
    start = clock_after_an_hour_boundary()[0]
    first = await _marks_after(tmp_path, "a", 7, 90 * 60_000, start)
    again = await _marks_after(tmp_path, "b", 7, 90 * 60_000, start)
    assert first == again
    assert first["SOL-PERP"] != Decimal("180.000")  # the market did move
    assert await _marks_after(tmp_path, "c", 8, 90 * 60_000, start) != first  # another seed
    assert await _marks_after(tmp_path, "d", 7, 91 * 60_000, start) != first  # another gap


async def test_a_short_gap_replays_nothing(tmp_path) -> None:
    clock = clock_after_an_hour_boundary()
    db = str(tmp_path / "short.sqlite3")
    async with venue(db, clock, auto_funding=False) as paper:
        paper.set_price("BTC-PERP", "97000.0")
    clock[0] += 400  # less than one live tick
    async with venue(db, clock, auto_funding=False) as paper:
        assert paper.price("BTC-PERP") == Decimal("97000.0")
        assert paper.last_replay is not None and paper.last_replay.steps == 0


async def test_a_thirty_day_gap_stays_fast(tmp_path, session: aiohttp.ClientSession) -> None:
    clock = clock_after_an_hour_boundary()
    db = str(tmp_path / "month.sqlite3")
    async with venue(db, clock) as paper:
        c = RawClient(await paper.create_account(usdc=10_000, expiry_days=60), session)
        assert (await c.place(symbol="ETH-PERP", size="1.000", limit_price="9999.00", t=clock[0]))[0] == 200
        _, resting = await c.place(symbol="SOL-PERP", order_type="LIMIT", size="1.00", limit_price="1.000", t=clock[0])
    clock[0] += 30 * 24 * HOUR
    began = time.monotonic()
    async with venue(db, clock) as paper:
        elapsed = time.monotonic() - began
        report = paper.last_replay
        assert report is not None and report.steps == REPLAY_MAX_STEPS and report.funding_events == 30 * 24
        assert paper.stats["funding_events"] == 30 * 24
        assert elapsed < 20, f"a 30-day replay took {elapsed:.1f} s"
        c = rebind(c, paper, session)
        assert (await c.order_by_id(resting["id"]))["status"] == "NEW"
        assert len(paper.ledger.funding_history("ETH-PERP", None, None, 1000)) == 30 * 24
