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


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--live-keys",
        default=None,
        metavar="PATH",
        help="a pk_vest.py-style keys file; enables the read-only live smoke test against real Vest servers",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--live-keys"):
        return
    skip_live = pytest.mark.skip(reason="live smoke test: pass --live-keys PATH to run it")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip_live)
