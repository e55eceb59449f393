"""Fixtures for the Hyperliquid tests: the SDK-computed signing vectors."""
from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest

SAMPLES = pathlib.Path(__file__).resolve().parent / "samples"


def load_vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / "signing_vectors.json").read_text())
    return data


@pytest.fixture(scope="session")
def hl_vectors() -> dict[str, Any]:
    return load_vectors()
