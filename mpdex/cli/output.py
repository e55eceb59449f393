"""What the CLI prints: numbers without float noise, aligned tables, JSON documents, and
redaction of every secret the command has seen.

Numbers are shown as plain decimals (no exponent, no ``0.30000000000000004``); prices
with at most ``PRICE_DIGITS`` significant digits and money with at most ``MONEY_DECIMALS``
places, so an average fill of ``96958.96666667`` shows as ``96958.967`` (JSON keeps every
digit); ratios are shown with a fixed number of places (``fmt_places``, ``fmt_bp`` in basis
points, from the exact value). Numeric columns align on the decimal point, text columns are
left-aligned, and the tables and wrapped notes the modules print are laid out to fit ``WIDTH``
columns. JSON drops raw payloads.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from .keys import is_secret_field, key_items

__all__ = [
    "WIDTH",
    "Write",
    "fmt_num",
    "exact_decimal",
    "fmt_price",
    "fmt_money",
    "fmt_places",
    "fmt_bp",
    "fmt_time",
    "format_table",
    "format_pairs",
    "wrap_lines",
    "to_jsonable",
    "Secrets",
    "RedactingFormatter",
]

#: the terminal width the tables are laid out for
WIDTH = 100
PRICE_DIGITS = 8
MONEY_DECIMALS = 6

#: where a module writes its text (stdout or stderr, redacted by the caller)
Write = Callable[[str], None]


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


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        return Decimal(f"{value:.15g}") if math.isfinite(value) else None
    if isinstance(value, (int, Decimal)):
        return Decimal(value) if Decimal(value).is_finite() else None
    return None


def fmt_price(value: Any) -> str:
    """A price with at most ``PRICE_DIGITS`` significant digits (integer digits always kept)."""
    number = _decimal(value)
    if number is None or number == 0:
        return fmt_num(value)
    exponent = number.adjusted() - PRICE_DIGITS + 1
    if exponent < 0:
        number = number.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_EVEN)
    return fmt_num(number)


def fmt_money(value: Any) -> str:
    """An amount of the quote currency with at most ``MONEY_DECIMALS`` places."""
    number = _decimal(value)
    if number is None:
        return fmt_num(value)
    places = Decimal(1).scaleb(-MONEY_DECIMALS)
    return fmt_num(number.quantize(places, rounding=ROUND_HALF_EVEN) if number != number.quantize(places) else number)


def exact_decimal(value: Any) -> Decimal | None:
    """``value`` as the exact Decimal it stands for (a float by its shortest repr); ``None``
    for None and booleans."""
    if value is None or isinstance(value, bool):
        return None
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def fmt_places(value: Any, places: int, scale: int = 1) -> str:
    """``value × scale`` with exactly ``places`` decimals (``-`` when unknown)."""
    number = exact_decimal(value)
    if number is None or not number.is_finite():
        return "-"
    return format((number * scale).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN), "f")


def fmt_bp(fraction: Any, places: int) -> str:
    """A fraction in basis points (× 10 000) with exactly ``places`` decimals."""
    return fmt_places(fraction, places, 10_000)


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


def _on_the_point(cells: Sequence[str]) -> list[str]:
    """One numeric column padded so the decimal points line up (``-`` stays at the right)."""
    numbers = [c for c in cells if _is_numeric(c)]
    whole = max(len(c.partition(".")[0]) for c in numbers)
    frac = max(len(c.partition(".")[2]) + 1 if "." in c else 0 for c in numbers)
    out = []
    for c in cells:
        if _is_numeric(c):
            left, dot, right = c.partition(".")
            out.append(left.rjust(whole) + (dot + right).ljust(frac))
        else:
            out.append(c.rjust(whole + frac))
    return out


def format_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, indent: str = "  ",
                 notes: Sequence[str | None] | None = None) -> list[str]:
    """Aligned plain-text table: numeric columns aligned on the decimal point and to the
    right under their header, the rest left-aligned. Cells that are not strings go through
    ``fmt_num`` (callers format prices and money with ``fmt_price``/``fmt_money``).
    ``notes[i]``, when given, is printed on its own line under row ``i`` (e.g. a long id)."""
    cells = [[c if isinstance(c, str) else fmt_num(c) for c in row] for row in rows]
    if not cells:
        return [f"{indent}(none)"]
    columns = [[row[i] for row in cells] for i in range(len(headers))]
    numeric = [all(c == "-" or _is_numeric(c) for c in col) for col in columns]  # all "-": a number column too
    columns = [_on_the_point(col) if num and any(c != "-" for c in col) else col
               for col, num in zip(columns, numeric, strict=True)]
    widths = [max(len(h), *(len(c) for c in col)) for h, col in zip(headers, columns, strict=True)]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, numeric, strict=True)]
        return (indent + "  ".join(parts)).rstrip()

    out = [line(headers)]
    for r in range(len(cells)):
        out.append(line([col[r] for col in columns]))
        if notes is not None and notes[r]:
            out.append(f"{indent}  {notes[r]}")
    return out


def format_pairs(pairs: Sequence[tuple[str, Any]], *, indent: str = "  ") -> list[str]:
    width = max(len(k) for k, _ in pairs)
    return [f"{indent}{k.ljust(width)}  {v if isinstance(v, str) else fmt_num(v)}" for k, v in pairs]


def wrap_lines(text: str, indent: str = "  ") -> list[str]:
    """``text`` wrapped to ``WIDTH`` columns under ``indent`` (continuation lines two deeper);
    words and hyphenated names are never split."""
    return textwrap.wrap(text, width=WIDTH, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_on_hyphens=False, break_long_words=False)


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
