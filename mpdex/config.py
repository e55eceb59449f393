"""Reading credentials and settings from a dataclass, a namespace or a dict."""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import BadRequest, ConfigError

_MISSING = object()


def _get(source: Any, name: str) -> Any:
    if isinstance(source, Mapping):
        return source.get(name, _MISSING)
    return getattr(source, name, _MISSING)


def read_fields(
    source: Any,
    required: Iterable[str],
    optional: Mapping[str, Any],
    *,
    what: str = "key_params",
) -> dict[str, Any]:
    """Return ``{field: value}`` for every required and optional field.

    A required field that is absent, ``None`` or an empty string raises
    ``ConfigError`` naming the field (never its value). Optional fields fall back to
    their defaults. Unknown extra fields are ignored, so one key object may carry
    settings for several tools.
    """
    if source is None:
        raise ConfigError(f"{what} is required")
    out: dict[str, Any] = {}
    for name in required:
        value = _get(source, name)
        if value is _MISSING or value is None or (isinstance(value, str) and not value.strip()):
            raise ConfigError(f"{what} is missing required field '{name}'")
        out[name] = value.strip() if isinstance(value, str) else value
    for name, default in optional.items():
        value = _get(source, name)
        out[name] = default if value is _MISSING or value is None else value
    return out


def check_seconds(value: object, name: str, *, allow_zero: bool = False) -> float:
    """A finite, positive number of seconds (``>= 0`` with ``allow_zero``), or ``ConfigError``
    (a ``ValueError``) naming ``name`` — never a network error or a silent default."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):  # type: ignore[operator]
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{name} must be a finite number of seconds {bound}, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def positive_int(value: object, name: str, *, maximum: int | None = None) -> int:
    """``value`` when it is an ``int`` (not a bool) in ``1 … maximum``, else ``BadRequest``
    naming ``name`` — for call arguments (a leverage, a row limit, a time bound)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or (maximum and value > maximum):
        bound = f" and at most {maximum}" if maximum else ""
        raise BadRequest(f"{name} must be a positive integer{bound}, got {value!r}")
    return value
