#!/usr/bin/env python3
"""``python main.py …``: the mpdex-vest command line (the same as the ``mpdex`` console script).

    python main.py --paper --module check                      # embedded paper exchange, no keys
    python main.py --module order --coin ETH --side buy --amount 0.05
    python main.py --module close --coin ETH

The commands live in ``mpdex/cli/``; this entry point only says where ``keys/`` is (beside
this file).
"""
from __future__ import annotations

import sys
from pathlib import Path

from mpdex.cli import run

ROOT = Path(__file__).resolve().parent

if __name__ == "__main__":
    sys.exit(run(root=ROOT, prog="main.py"))
