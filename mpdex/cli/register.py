"""The ``register`` module, for venues whose registry entry lists it in ``extra_modules``.

Such a venue's exchange class has ``await cls.register(primary_private_key, *, network,
expiry_days, rest_url)`` returning a key of the registry's ``key_class``; the primary key
comes from ``spec.primary_key_env`` or a hidden prompt, is used once and never shown. The
keys file is written with mode 0600 and never replaces one without ``--force``. On a paper
venue no wallet key is needed: without one in the environment a throwaway wallet is made,
so nobody types a real key into a test.
"""
from __future__ import annotations

import dataclasses
import getpass
import os
import secrets
import sys
import time
from typing import Any

import exchange_factory
from mpdex.errors import ConfigError
from mpdex.evm import address_of

from .keys import (
    account_address,
    default_keys_path,
    key_items,
    keys_variable,
    public_fields,
    render_keys_file,
    write_private_file,
)
from .output import fmt_time, format_pairs
from .session import Context, Report, default_paper_keys_path

__all__ = ["read_primary_key", "cmd_register"]


def read_primary_key(env: str | None) -> str:
    """The primary wallet key from ``$env`` or a hidden prompt (never echoed)."""
    value = os.environ.get(env) if env else None
    if value:
        return value.strip()
    if not sys.stdin or not sys.stdin.isatty():
        where = f"set {env} or run" if env else "run"
        raise ConfigError(f"no primary key: {where} register from a terminal")
    value = getpass.getpass("Primary wallet private key (hidden, used once to sign the registration): ")
    if not value.strip():
        raise ConfigError("no primary key given")
    return value.strip()


async def cmd_register(ctx: Context) -> Report:
    a, venue = ctx.args, ctx.venue
    spec = venue.spec
    cls = exchange_factory.load_exchange_class(spec.name)
    if a.keys is not None:
        target = a.keys
    elif a.paper_url is not None:
        target = default_paper_keys_path(spec.name, ctx.root)
    else:
        target = default_keys_path(spec.name, ctx.root)
    if target.exists() and not a.force:
        raise ConfigError(f"{target} already exists; pass --force to replace it")
    throwaway = ctx.paper is not None and not (spec.primary_key_env and os.environ.get(spec.primary_key_env))
    # a paper account never needs a real wallet key: without one given, a fresh throwaway wallet
    primary = "0x" + secrets.token_hex(32) if throwaway else read_primary_key(spec.primary_key_env)
    ctx.secrets.add(primary)
    days = a.expiry_days or 7
    if ctx.paper is not None:
        network, rest_url = a.network or ctx.paper.network, ctx.paper.rest_url
    else:
        network, rest_url = a.network or spec.default_network or spec.networks[0], None
        ctx.activity.where = f"{spec.name} {network}"
    with ctx.activity.step(f"registering with {ctx.where}", sending="registering (no keys file was written)"):
        key: Any = await cls.register(primary, network=network, expiry_days=days, rest_url=rest_url)
    ctx.secrets.add_key(key)
    if ctx.paper is not None:
        key = _pointed_at(key, spec, ctx.paper)
    expires = fmt_time(int((time.time() + days * 86400) * 1000))
    where = f"the paper exchange at {ctx.paper.rest_url}" if ctx.paper is not None else f"{spec.name} {network}"
    note = (f"{spec.name} keys written by `{ctx.run} --module register` for {where}; "
            f"signing key valid until about {expires}.")
    if ctx.paper is not None:
        note += "\nPaper account: it exists only in that paper exchange's ledger."
    text = render_keys_file(key, keys_variable(spec), note, key_class=spec.key_class)
    write_private_file(target, text, force=bool(a.force))
    shown = public_fields(key)
    signing = dict(key_items(key)).get("signing_private_key") if "signing_private_key" in spec.key_fields else None
    signing_address = address_of(signing) if isinstance(signing, str) and signing else None
    account = account_address(key, spec)
    data = {
        "keys_file": str(target),
        "mode": "0600",
        "network": network,
        **shown,
        "signing_address": signing_address,
        "expires_approx": expires,
    }
    pairs: list[tuple[str, Any]] = [("account address", str(account or "-") + (" (a new throwaway paper wallet)"
                                                                              if throwaway else ""))]
    if signing_address:
        pairs.append(("signing address", signing_address))
    pairs += [(name.replace("_", " "), value) for name, value in shown.items()
              if name not in ("network",) and value != account]
    pairs += [("network", network), ("key valid until", f"about {expires}"), ("keys file", f"{target} (mode 0600)")]
    lines = ["Registered"] + format_pairs(pairs)
    if ctx.paper is None:
        lines += ["", f"Next: {ctx.run} --module check{'' if a.keys is None else f' --keys {target}'}"]
    elif a.paper_url is not None:
        lines += ["", f"Next: {ctx.run} --paper-url {a.paper_url} --module check"
                  + ("" if a.keys is None else f" --keys {target}"),
                  "(a new paper account holds no money until the paper server credits it)"]
    return Report(data, lines)


def _pointed_at(key: Any, spec: Any, paper: Any) -> Any:
    """The key with its URL fields set to the paper venue's, so the keys file reaches it
    (the registry's ``rest_url``/``ws_url`` key fields)."""
    urls = {name: url for name, url in (("rest_url", paper.rest_url), ("ws_url", paper.ws_url))
            if name in spec.optional_key_fields}
    if "rest_url" not in urls:
        raise ConfigError(f"{spec.name} keys have no rest_url field: a keys file cannot point at a paper venue")
    return dataclasses.replace(key, **urls)
