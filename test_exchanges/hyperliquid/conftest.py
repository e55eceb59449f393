"""Fixtures for the Hyperliquid tests: the SDK-computed signing vectors, the wire samples,
a fake clock and mocked HTTP."""
from __future__ import annotations

import json
import pathlib
from collections.abc import Iterator
from typing import Any

import pytest
from aioresponses import aioresponses

from test_exchanges.http_mock import mock_http
from test_exchanges.vest.vest_fakes import Clock

SAMPLES = pathlib.Path(__file__).resolve().parent / "samples"


def load_vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / "signing_vectors.json").read_text())
    return data


def sample(name: str) -> Any:
    """The exact wire payload (``body``) of a sample file (``name`` without ``.json``)."""
    return json.loads((SAMPLES / f"{name}.json").read_text())["body"]


@pytest.fixture(scope="session")
def hl_vectors() -> dict[str, Any]:
    return load_vectors()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def http() -> Iterator[aioresponses]:
    with mock_http() as m:
        yield m
