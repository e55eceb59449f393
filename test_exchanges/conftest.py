"""Shared fixtures. Everything here is offline."""
from __future__ import annotations

import json
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SAMPLES = ROOT.parent / "shared" / "vest-samples"
LOCAL_SAMPLES = pathlib.Path(__file__).resolve().parent / "samples"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def load_sample(name: str) -> object:
    """A payload from ``test_exchanges/samples`` (a copy of shared/vest-samples)."""
    return json.loads((LOCAL_SAMPLES / name).read_text())


@pytest.fixture
def vectors() -> dict:
    return load_sample("signing_vectors.json")  # type: ignore[return-value]
