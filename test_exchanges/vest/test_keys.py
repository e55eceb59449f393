"""Vest key parsing, validation and redaction."""
from __future__ import annotations

import importlib.util
import logging
import subprocess
import types

import pytest

from mpdex.errors import ConfigError
from mpdex.redact import redact_url
from test_exchanges.conftest import ROOT
from wrappers.vest_keys import VestKey, parse_vest_key

API_KEY = "c0ffee00deadbeef0123456789abcdef"
SIGNING = "0xb2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"
PRIMARY = "0x5d5c99EdF529335160FF180fA141Dd4967fc00D2"
FIELDS = {"api_key": API_KEY, "signing_private_key": SIGNING, "primary_address": PRIMARY}


@pytest.mark.parametrize("form", ["dataclass", "namespace", "dict"])
def test_parse_from_all_three_forms(form):
    source = {"dataclass": VestKey(**FIELDS, account_group=3),
              "namespace": types.SimpleNamespace(**FIELDS, account_group=3),
              "dict": dict(FIELDS, account_group=3)}[form]
    key = parse_vest_key(source)
    assert key == VestKey(api_key=API_KEY, signing_private_key=SIGNING, primary_address=PRIMARY,
                          account_group=3, network="prod")


def test_private_key_without_0x_is_normalised():
    key = parse_vest_key(dict(FIELDS, signing_private_key=SIGNING[2:].upper()))
    assert key.signing_private_key == SIGNING


@pytest.mark.parametrize(
    "override,field",
    [({"signing_private_key": "0x1234"}, "signing_private_key"),
     ({"primary_address": "0xnothex"}, "primary_address"),
     ({"account_group": -1}, "account_group"),
     ({"account_group": "x"}, "account_group"),
     ({"network": "mainnet"}, "network"),
     ({"api_key": None}, "api_key")],
)
def test_bad_fields_name_the_field_never_the_secret(override, field):
    with pytest.raises(ConfigError) as info:
        parse_vest_key(dict(FIELDS, **override))
    assert field in str(info.value)
    assert API_KEY not in str(info.value) and SIGNING[2:] not in str(info.value)


def test_repr_and_str_hide_both_secrets_and_proxy_credentials(caplog):
    key = VestKey(**FIELDS, proxy="http://user:pa55@127.0.0.1:3128")
    for text in (repr(key), str(key), f"{key}", repr([key])):
        assert API_KEY not in text and SIGNING[2:] not in text and "pa55" not in text
        assert "<redacted>" in text and PRIMARY in text
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("t").info("keys: %s", key)
    assert API_KEY not in caplog.text
    assert redact_url("http://u:p@host:1") == "http://<redacted>@host:1"


def test_template_loads_and_is_redacted():
    spec = importlib.util.spec_from_file_location("tmpl", ROOT / "keys" / "copy.pk_vest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert isinstance(module.VEST_KEY, VestKey)
    assert module.VEST_KEY.account_group == 0 and module.VEST_KEY.network == "prod"
    with pytest.raises(ConfigError, match="api_key"):  # the empty template is not usable as is
        parse_vest_key(module.VEST_KEY)


def test_real_key_files_are_git_ignored():
    out = subprocess.run(["git", "check-ignore", "keys/pk_vest.py", "keys/pk_other.py"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.split() == ["keys/pk_vest.py", "keys/pk_other.py"]
    out = subprocess.run(["git", "check-ignore", "keys/copy.pk_vest.py"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 1  # the template is tracked
