"""Keys files: ``keys/pk_<venue>.py`` defines the venue's key object under the registry's
``keys_variable`` (``VEST_KEY = VestKey(...)``), as in mpdex.

Loading never shows a value from the file (a mistyped secret would otherwise appear in a
``NameError``). Writing is atomic, mode 0600, and never replaces a file unless told to.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import os
import tempfile
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from exchange_factory import VenueSpec
from mpdex.errors import ConfigError

__all__ = [
    "default_keys_path",
    "load_keys",
    "render_keys_file",
    "write_private_file",
    "keys_variable",
    "key_items",
    "is_secret_field",
    "account_address",
    "public_fields",
    "check_key_fields",
]

#: a key field whose name contains one of these holds a secret (api_key, signing_private_key,
#: agent_api_private_key, secret_key, session_cookies, session_token, ...)
_SECRET_FIELD_WORDS = ("key", "secret", "private", "cookie", "token", "password")


def key_items(key: Any) -> list[tuple[str, Any]]:
    """The fields of a key object: a dataclass, a dict or a namespace."""
    if isinstance(key, Mapping):
        return [(str(k), v) for k, v in key.items()]
    if dataclasses.is_dataclass(key) and not isinstance(key, type):
        return [(f.name, getattr(key, f.name)) for f in dataclasses.fields(key)]
    return [(str(k), v) for k, v in vars(key).items()] if hasattr(key, "__dict__") else []


def is_secret_field(name: str) -> bool:
    return any(word in name.lower() for word in _SECRET_FIELD_WORDS)


def account_address(key: Any, spec: VenueSpec) -> Any:
    """The account's address: the first of the venue's key fields named ``*address``."""
    fields = dict(key_items(key)) if key is not None else {}
    for name in spec.key_fields:
        if name.endswith("address"):
            return fields.get(name)
    return None


def public_fields(key: Any) -> dict[str, Any]:
    """The key's fields that are not secrets and are set (safe to print)."""
    return {k: v for k, v in key_items(key) if not is_secret_field(k) and v is not None}


def default_keys_path(exchange: str, root: Path | None = None) -> Path:
    """``<root>/keys/pk_<exchange>.py``; ``root`` is the entry point's directory (``main.py``'s)
    or the current directory (the ``mpdex`` console script)."""
    return (root if root is not None else Path.cwd()) / "keys" / f"pk_{exchange}.py"


def keys_variable(spec: VenueSpec) -> str:
    if not spec.keys_variable:
        raise ConfigError(f"the registry entry of {spec.name} names no keys_variable")
    return spec.keys_variable


def load_keys(path: Path, spec: VenueSpec, *, register_hint: str | None = None) -> Any:
    """Import a keys file and return the object it defines under ``spec.keys_variable``."""
    variable = keys_variable(spec)
    if not path.is_file():
        how = f"create it with `{register_hint}` (or " if register_hint else "("
        raise ConfigError(
            f"no keys file at {path}: {how}copy keys/copy.pk_{spec.name}.py there and fill it in), "
            "or pass --keys PATH; --paper needs no keys"
        )
    module_spec = importlib.util.spec_from_file_location(f"_mpdex_keys_{spec.name}", path)
    if module_spec is None or module_spec.loader is None:
        raise ConfigError(f"cannot load keys file {path}")
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:
        line = getattr(exc, "lineno", None)
        if line is None:
            frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
            line = frames[-1].lineno if frames else None
        at = f" at line {line}" if line else ""
        raise ConfigError(f"keys file {path} failed to load: {type(exc).__name__}{at}") from None
    if not hasattr(module, variable):
        raise ConfigError(f"keys file {path} does not define {variable}")
    return getattr(module, variable)


def render_keys_file(key: Any, variable: str, note: str, *, key_class: str | None = None) -> str:
    """Python source defining ``variable`` as the key dataclass, like keys/copy.pk_vest.py.

    ``key_class`` (the registry's ``"module:Class"``) is the class the file imports; the key
    must be an instance of it."""
    cls = type(key)
    if key_class is not None:
        module_name, _, name = key_class.partition(":")
        if (cls.__module__, cls.__name__) != (module_name, name):
            raise ConfigError(f"register returned a {cls.__module__}.{cls.__name__}, not the registry's {key_class}")
    if not dataclasses.is_dataclass(key) or isinstance(key, type):
        raise ConfigError(f"cannot write a keys file for a {cls.__name__}: it is not a dataclass")
    fields = ",\n".join(f"    {f.name}={getattr(key, f.name)!r}" for f in dataclasses.fields(key))
    return (
        f'"""{note}\n\nSecret: keep it private (mode 0600; keys/pk_*.py is git-ignored). '
        f"repr({variable}) redacts the secrets.\n\"\"\"\n"
        f"from {cls.__module__} import {cls.__name__}\n\n"
        f"{variable} = {cls.__name__}(\n{fields},\n)\n"
    )


def write_private_file(path: Path, text: str, *, force: bool) -> None:
    """Write ``text`` to ``path`` atomically with mode 0600; refuse to replace unless ``force``."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            os.fchmod(fh.fileno(), 0o600)
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if force:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # atomic and never replaces an existing file
            except FileExistsError:
                raise ConfigError(f"{path} already exists; pass --force to replace it") from None
    finally:
        tmp.unlink(missing_ok=True)


def check_key_fields(key: Any, spec: VenueSpec, path: Path, *, register_hint: str | None = None) -> None:
    """Every required field of the venue (``spec.key_fields``) is present and filled in;
    otherwise a ``ConfigError`` naming the file, the field and how to fix it."""
    fields = dict(key_items(key))
    fix = f"fill it in, or write the file with `{register_hint}`" if register_hint else "fill it in"
    for name in spec.key_fields:
        if name not in fields:
            raise ConfigError(f"keys file {path}: {keys_variable(spec)} has no field '{name}'; add it "
                              f"(keys/copy.pk_{spec.name}.py lists every field)")
        value = fields[name]
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ConfigError(f"keys file {path}: {name} is empty; {fix}")
