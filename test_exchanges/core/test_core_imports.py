"""The simulator core imports no venue: ``import mpdex.paper`` (and every core module) loads no
``wrappers`` module, and the dialects are reached only through the lazy name table."""
from __future__ import annotations

import subprocess
import sys

import pytest

from test_exchanges.conftest import ROOT

CORE_MODULES = ("engine", "faults", "harness", "ledger", "markets", "prices", "replay", "rules", "simulator", "sockets")


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60, check=True)
    return done.stdout.strip()


def test_import_mpdex_paper_loads_no_wrappers_module() -> None:
    out = _run("import mpdex.paper, sys; print([m for m in sys.modules if m.startswith('wrappers')])")
    assert out == "[]"


def test_every_core_module_loads_no_wrappers_module() -> None:
    imports = "; ".join(f"import mpdex.paper.{m}" for m in CORE_MODULES)
    out = _run(f"{imports}; import sys; print(sorted(m for m in sys.modules if m.startswith('wrappers')))")
    assert out == "[]"


def test_paper_vest_resolves_lazily_and_once() -> None:
    out = _run(
        "import sys, mpdex.paper as p; before = 'wrappers.vest_paper' in sys.modules; "
        "from mpdex.paper import PaperVest; from wrappers.vest_paper import PaperVest as Direct; "
        "print(before, PaperVest is Direct, p.dialect('vest') is Direct, PaperVest.NAME)"
    )
    assert out == "False True True vest"


def test_unknown_names_and_dialects_are_refused() -> None:
    import mpdex.paper as paper

    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        paper.Nope  # noqa: B018
    with pytest.raises(ValueError, match="known: vest, hyperliquid"):
        paper.dialect("nope")
    assert set(paper.DIALECTS) == {"vest", "hyperliquid"} and {"PaperVest", "PaperHyperliquid"} <= set(dir(paper))
