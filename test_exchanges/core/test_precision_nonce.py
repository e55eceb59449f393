import threading
from decimal import Decimal

import pytest

from mpdex.errors import InvalidOrder
from mpdex.nonce import NonceSource
from mpdex.precision import decimals_of, fmt_fixed, round_to_step, step_of, to_decimal


@pytest.mark.parametrize("value,expected", [(0.1, "0.1"), ("0.5000", "0.5000"), (3, "3"), (Decimal("1e-3"), "0.001")])
def test_to_decimal_is_exact(value, expected):
    assert to_decimal(value) == Decimal(expected)


def test_to_decimal_accepts_float_subclasses_whose_repr_differs():
    class NumpyLikeFloat(float):  # numpy 2: repr(np.float64(1.5)) == "np.float64(1.5)"
        def __repr__(self) -> str:
            return f"np.float64({float.__repr__(self)})"

    assert to_decimal(NumpyLikeFloat(1.5), "amount") == Decimal("1.5")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "abc", None, True, [1]])
def test_to_decimal_rejects_non_numbers_with_a_typed_error(bad):
    with pytest.raises(InvalidOrder, match="amount"):
        to_decimal(bad, "amount")


def test_rounding_directions_and_fixed_format():
    step = step_of(2)
    assert step == Decimal("0.01")
    assert round_to_step(Decimal("1.239"), step, "down") == Decimal("1.23")
    assert round_to_step(Decimal("1.231"), step, "up") == Decimal("1.24")
    assert round_to_step(Decimal("-1.231"), step, "down") == Decimal("-1.24")
    assert round_to_step(Decimal("1.235"), step, "nearest") == Decimal("1.24")
    assert round_to_step(Decimal("1.245"), step, "nearest") == Decimal("1.25")  # half-up, as documented
    assert round_to_step(Decimal("-1.245"), step, "nearest") == Decimal("-1.25")
    assert fmt_fixed(Decimal("0.5"), 4) == "0.5000"
    assert fmt_fixed(Decimal("12"), 0) == "12"
    assert fmt_fixed(Decimal("1E+2"), 1) == "100.0"
    assert fmt_fixed(Decimal("-0"), 2) == "0.00"
    assert decimals_of("3500.25") == 2 and decimals_of("7") == 0


def test_rounding_direction_holds_beyond_the_decimal_context_precision():
    # more significant digits than the default 28-digit context: the quotient must not be
    # rounded across a step boundary before the directed rounding is applied
    just_below_one = Decimal("0." + "9" * 30)
    just_above_one = Decimal("1." + "0" * 29 + "1")
    assert round_to_step(just_below_one, Decimal(1), "down") == 0
    assert round_to_step(just_above_one, Decimal(1), "up") == 2
    assert round_to_step(Decimal("3500.25" + "0" * 25 + "1"), Decimal("0.25"), "up") == Decimal("3500.50")
    assert round_to_step(Decimal("3500.49" + "9" * 28), Decimal("0.25"), "down") == Decimal("3500.25")


def test_nonce_is_strictly_increasing_within_one_millisecond():
    src = NonceSource(clock_ms=lambda: 1000)
    assert [src.next() for _ in range(3)] == [1000, 1001, 1002]
    src.advance_past(5000)
    assert src.next() == 5001


def test_nonce_is_unique_across_threads():
    src = NonceSource(clock_ms=lambda: 1)
    got: list[int] = []
    lock = threading.Lock()

    def worker():
        mine = [src.next() for _ in range(500)]
        with lock:
            got.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == len(set(got)) == 4000
