"""What the CLI prints: numbers without float noise, aligned tables, JSON documents, and
redaction of every secret the command has seen.

Numbers are shown as plain decimals (no exponent, no ``0.30000000000000004``); numeric
columns are right-aligned, text columns left-aligned; JSON drops raw payloads.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from .keys import is_secret_field, key_items

__all__ = [
    "fmt_num",
    "fmt_time",
    "format_table",
    "format_pairs",
    "to_jsonable",
    "Secrets",
    "RedactingFormatter",
]

def fmt_num(value: Any) -> str:
    """A number as a plain decimal string without float noise or exponent; ``-`` for None."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        value = Decimal(f"{value:.15g}")
    if isinstance(value, Decimal):
        text = format(value, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    return str(value)


def fmt_time(ms: Any) -> str:
    if not isinstance(ms, (int, float)) or isinstance(ms, bool) or ms <= 0:
        return "-"
    stamp = dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc)
    return stamp.strftime("%Y-%m-%d %H:%M:%SZ")


def _is_numeric(text: str) -> bool:
    try:
        Decimal(text)
    except InvalidOperation:
        return False
    return True


def format_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, indent: str = "  ") -> list[str]:
    """Aligned plain-text table: numeric columns right-aligned, the rest left-aligned."""
    cells = [[c if isinstance(c, str) else fmt_num(c) for c in row] for row in rows]
    if not cells:
        return [f"{indent}(none)"]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    right = [
        all(cell == "-" or _is_numeric(cell) for cell in (row[i] for row in cells))
        and any(_is_numeric(row[i]) for row in cells)
        for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right, strict=True)]
        return (indent + "  ".join(parts)).rstrip()

    return [line(headers)] + [line(row) for row in cells]


def format_pairs(pairs: Sequence[tuple[str, Any]], *, indent: str = "  ") -> list[str]:
    width = max(len(k) for k, _ in pairs)
    return [f"{indent}{k.ljust(width)}  {v if isinstance(v, str) else fmt_num(v)}" for k, v in pairs]


_DROP_KEYS = {"raw", "raw_data", "exception"}


def to_jsonable(value: Any) -> Any:
    """Results as plain JSON: raw payloads dropped, Decimals as numbers, no float noise."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items() if k not in _DROP_KEYS}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else str(value)
    if isinstance(value, float):
        return float(f"{value:.15g}") if math.isfinite(value) else None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    return str(value)


class Secrets:
    """Known secret strings; every line this tool writes passes through ``redact``."""

    def __init__(self) -> None:
        self._values: set[str] = set()

    def add(self, value: Any) -> None:
        if not isinstance(value, str) or len(value.strip()) < 8:
            return
        value = value.strip()
        self._values.add(value)
        bare = value[2:] if value.lower().startswith("0x") else value
        if len(bare) >= 8:
            self._values.update({bare, bare.lower(), bare.upper()})

    def add_key(self, key: Any) -> None:
        """Every secret-looking field of a key object (dataclass, namespace or dict)."""
        for name, value in key_items(key):
            if is_secret_field(name):
                self.add(value)

    def redact(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, "<redacted>")
        return text


class RedactingFormatter(logging.Formatter):
    def __init__(self, fmt: str, secrets: Secrets) -> None:
        super().__init__(fmt)
        self.secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        return self.secrets.redact(super().format(record))
