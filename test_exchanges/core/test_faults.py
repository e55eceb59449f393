"""Fault injection on its own: one-shot and periodic REST faults, in the order they are
served, and lost order responses."""
from __future__ import annotations

import pytest

from mpdex.paper.faults import Faults


def test_one_shot_faults_first_then_periodic_ones() -> None:
    f = Faults()
    f.rate_limit(1, retry_after=0.5)
    f.server_error_every(3, status=502)
    f.rate_limit_every(4, retry_after=2)
    seen = [f.next_request()[1] for _ in range(12)]
    assert seen == [("rate", 0.5), None, ("error", 502), ("rate", 2), None, ("error", 502),
                    None, ("rate", 2), ("error", 502), None, None, ("rate", 2)]
    f.clear()
    assert [f.next_request() for _ in range(4)] == [(0.0, None)] * 4


def test_delays_and_lost_orders() -> None:
    f = Faults()
    f.delay(0.2, n=1)
    f.delay_every(2, 0.05)
    assert [f.next_request()[0] for _ in range(4)] == [0.2, 0.05, 0.0, 0.05]
    f.lose_next_order_response(1)
    f.lose_order_response_every(3)
    assert [f.take_lost_order() for _ in range(6)] == [True, False, True, False, False, True]
    with pytest.raises(ValueError):
        f.rate_limit_every(-1)
    with pytest.raises(ValueError):
        f.server_error_every(2, status=404)
