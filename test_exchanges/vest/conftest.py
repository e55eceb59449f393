"""Fixtures of the Vest unit tests: a fake clock and mocked HTTP."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from aioresponses import aioresponses

from test_exchanges.conftest import FakeClock
from test_exchanges.http_mock import mock_http
from test_exchanges.vest.vest_fakes import Clock


@pytest.fixture
def clock() -> FakeClock:
    return Clock()


@pytest.fixture
def http() -> Iterator[aioresponses]:
    with mock_http() as m:
        yield m
