"""Shared fixtures. Everything here is offline."""
from __future__ import annotations

import asyncio
import json
import pathlib
import socket
import sys
from typing import Any

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SAMPLES = ROOT.parent / "shared" / "vest-samples"
LOCAL_SAMPLES = pathlib.Path(__file__).resolve().parent / "samples"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def load_sample(name: str) -> object:
    """A payload from ``test_exchanges/samples`` (a copy of shared/vest-samples)."""
    return json.loads((LOCAL_SAMPLES / name).read_text())


class FakeClock:
    """The suite's one fake clock: an ``mpdex.clock.Clock`` that moves only when told.

    ``advance(seconds)`` or ``await sleep(seconds)`` (which also records the sleep, rounded
    to µs, in ``sleeps``) move it; ``now`` is the monotonic reading in seconds (settable).
    It starts at monotonic 1000.0 s and wall clock 2026-01-01T00:00:00Z unless told
    otherwise. Injectable wherever the library takes a clock: ``clock=fake`` (a ``Clock``),
    ``monotonic=fake.monotonic`` / ``clock_ms=fake.now_ms`` / ``sleep=fake.sleep``, or the
    clock itself as a ``() -> seconds`` callable.
    """

    def __init__(self, monotonic: float = 1000.0, wall_ms: int = 1_767_225_600_000) -> None:
        self.now = monotonic
        self._wall0, self._t0 = wall_ms, monotonic
        self.sleeps: list[float] = []

    @property
    def t(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    __call__ = monotonic

    def now_ms(self) -> int:
        return self._wall0 + int(round((self.now - self._t0) * 1000))

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock never goes back")
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)


@pytest.fixture
def fake_clock() -> FakeClock:
    """A hand-moved clock for anything that takes a ``clock=`` (socket state, rate limits…)."""
    return FakeClock()


@pytest.fixture
def vectors() -> dict:
    return load_sample("signing_vectors.json")  # type: ignore[return-value]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--live-keys",
        default=None,
        metavar="PATH",
        help="a pk_vest.py-style keys file; enables the read-only live smoke test against real Vest servers",
    )


_LOOPBACK = {"localhost", "127.0.0.1", "::1", "ip6-localhost"}
_real_getaddrinfo = socket.getaddrinfo


def _loopback_only_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else host
    if name is not None and name not in _LOOPBACK and not str(name).startswith("127."):
        raise OSError(f"test suite is offline: refusing to resolve {name!r} (only loopback is allowed)")
    return _real_getaddrinfo(host, *args, **kwargs)


def pytest_configure(config: pytest.Config) -> None:
    # Nothing in the suite may touch another host: a test that forgets a mock fails at
    # once instead of hanging on (or talking to) a real server. --live-keys lifts it.
    if not config.getoption("--live-keys"):
        socket.getaddrinfo = _loopback_only_getaddrinfo


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--live-keys"):
        return
    skip_live = pytest.mark.skip(reason="live smoke test: pass --live-keys PATH to run it")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip_live)
