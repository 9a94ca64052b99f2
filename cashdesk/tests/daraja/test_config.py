"""M-Pesa settings: environments, defaults, callback URL rules, the callback secret, `manage.py check`."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from cashdesk.mpesa.daraja.checks import mpesa_settings_check
from cashdesk.mpesa.daraja.config import (
    SANDBOX_PASSKEY,
    CallbackURLError,
    callback_secret_matches,
    callback_url,
    configuration_problems,
    get_config,
    validate_callback_url,
)

pytestmark = pytest.mark.sqlite_only

ROOT = Path(__file__).resolve().parents[3]


def test_simulator_is_the_default_without_a_consumer_key(settings):
    settings.MPESA_ENVIRONMENT = ""
    settings.MPESA_CONSUMER_KEY = ""
    settings.MPESA_BASE_URL = ""
    settings.MPESA_SIMULATOR_PORT = 8765
    config = get_config()
    assert config.environment == "simulator"
    assert config.is_simulator and not config.requires_https_callbacks
    assert config.base_url == "http://127.0.0.1:8765"


@pytest.mark.parametrize(
    "environment, url",
    [("sandbox", "https://sandbox.safaricom.co.ke"), ("production", "https://api.safaricom.co.ke")],
)
def test_base_url_follows_the_environment(settings, environment, url):
    settings.MPESA_ENVIRONMENT = environment
    settings.MPESA_BASE_URL = ""
    assert get_config().base_url == url


def test_a_consumer_key_without_environment_means_sandbox(settings):
    settings.MPESA_ENVIRONMENT = ""
    settings.MPESA_CONSUMER_KEY = "key"
    settings.MPESA_BASE_URL = ""
    assert get_config().environment == "sandbox"


def test_base_url_can_be_overridden(settings):
    settings.MPESA_ENVIRONMENT = "simulator"
    settings.MPESA_BASE_URL = "http://127.0.0.1:8201/"
    assert get_config().base_url == "http://127.0.0.1:8201"


def test_party_b_and_callback_base_defaults(settings):
    settings.MPESA_SHORTCODE = "600638"
    settings.MPESA_PARTY_B = ""
    settings.MPESA_CALLBACK_BASE_URL = ""
    settings.SITE_URL = "https://shop.example.co.ke"
    config = get_config()
    assert config.party_b == "600638"
    assert config.callback_base_url == "https://shop.example.co.ke"


@pytest.mark.parametrize(
    "name, value",
    [
        ("MPESA_ENVIRONMENT", "live"),
        ("MPESA_TRANSACTION_TYPE", "SendMoney"),
        ("MPESA_TIMEOUT", 0),
        ("MPESA_TIMEOUT", -3),
        ("MPESA_TIMEOUT", "soon"),
    ],
)
def test_bad_settings_are_improperly_configured(settings, name, value):
    setattr(settings, name, value)
    with pytest.raises(ImproperlyConfigured):
        get_config()


def test_config_repr_hides_secrets(settings):
    settings.MPESA_CONSUMER_SECRET = "very-secret-value"
    settings.MPESA_CALLBACK_SECRET = "callback-secret-value"
    text = repr(get_config())
    assert "very-secret-value" not in text
    assert "callback-secret-value" not in text
    assert SANDBOX_PASSKEY not in text


# ---------------------------------------------------------------------------- callback URLs


@pytest.mark.parametrize(
    "url",
    [
        "https://pos.example.co.ke/mpesa/callback/",
        "https://pos.example.co.ke/pay/M-PESA/x",
        "https://pos.example.co.ke/hooks/MPesa/x",
        "https://safaricom-pos.example.co.ke/hooks/x",
        "https://pos.example.co.ke/hooks/x?query=1",
        "https://pos.example.co.ke/hooks/SQL/x",
        "https://pos.example.co.ke/hooks/run.exe",
        "https://pos.example.co.ke/cmd/x",
    ],
)
def test_safaricom_refuses_urls_with_certain_words(url):
    with pytest.raises(CallbackURLError):
        validate_callback_url(url)


@pytest.mark.parametrize(
    "url, require_https",
    [
        ("http://pos.example.co.ke/hooks/x", True),
        ("https://localhost/hooks/x", True),
        ("ftp://pos.example.co.ke/x", False),
        ("/hooks/x", False),
        ("", False),
    ],
)
def test_unreachable_or_relative_urls(url, require_https):
    with pytest.raises(CallbackURLError):
        validate_callback_url(url, require_https=require_https)


def test_simulator_accepts_plain_http_on_localhost():
    assert validate_callback_url("http://127.0.0.1:8000/hooks/x/", require_https=False)


def test_callback_url_joins_the_public_base(settings):
    settings.MPESA_ENVIRONMENT = "sandbox"
    settings.MPESA_CALLBACK_BASE_URL = "https://pos.example.co.ke/"
    assert callback_url("/hooks/abc/stk/") == "https://pos.example.co.ke/hooks/abc/stk/"
    assert callback_url("hooks/abc/stk/") == "https://pos.example.co.ke/hooks/abc/stk/"
    with pytest.raises(CallbackURLError):
        callback_url("/mpesa/abc/stk/")


def test_callback_url_in_the_simulator_may_be_http(settings):
    settings.MPESA_ENVIRONMENT = "simulator"
    settings.MPESA_CALLBACK_BASE_URL = "http://127.0.0.1:8000"
    assert callback_url("/hooks/abc/") == "http://127.0.0.1:8000/hooks/abc/"


def test_callback_secret_matches(settings):
    settings.MPESA_CALLBACK_SECRET = "A" * 40
    assert callback_secret_matches("A" * 40)
    assert not callback_secret_matches("A" * 39)
    assert not callback_secret_matches("")
    assert not callback_secret_matches(None)
    settings.MPESA_CALLBACK_SECRET = ""
    assert not callback_secret_matches("")


# ---------------------------------------------------------------------------- manage.py check


def test_development_defaults_pass_the_check(settings):
    settings.MPESA_ENVIRONMENT = "simulator"
    settings.MPESA_CALLBACK_SECRET = "dev-" + "a" * 40
    assert mpesa_settings_check() == []


def test_production_with_sandbox_values_is_an_error(settings):
    settings.MPESA_ENVIRONMENT = "production"
    settings.MPESA_BASE_URL = ""
    settings.MPESA_CONSUMER_KEY = "k"
    settings.MPESA_CONSUMER_SECRET = "s"
    settings.MPESA_SHORTCODE = "174379"
    settings.MPESA_PASSKEY = SANDBOX_PASSKEY
    settings.MPESA_CALLBACK_SECRET = "short"
    settings.MPESA_CALLBACK_BASE_URL = "http://pos.example.co.ke"
    messages = mpesa_settings_check()
    assert all(isinstance(message, checks.Error) for message in messages)
    text = " ".join(message.msg for message in messages)
    assert "sandbox shortcode/passkey" in text
    assert "at least 32" in text
    assert "https" in text


def test_sandbox_without_keys_warns(settings):
    settings.MPESA_ENVIRONMENT = "sandbox"
    settings.MPESA_CONSUMER_KEY = ""
    settings.MPESA_CALLBACK_BASE_URL = "https://pos.example.co.ke"
    problems = configuration_problems(get_config())
    assert any("MPESA_CONSUMER_KEY" in problem for problem in problems)
    assert all(isinstance(message, checks.Warning) for message in mpesa_settings_check())


def test_secret_with_url_unsafe_characters(settings):
    settings.MPESA_CALLBACK_SECRET = "a/b?c#" + "d" * 40
    assert any("letters, digits" in problem for problem in configuration_problems(get_config()))


def test_invalid_environment_is_a_check_error(settings):
    settings.MPESA_ENVIRONMENT = "live"
    assert [message.id for message in mpesa_settings_check()] == ["cashdesk.E001"]


# ---------------------------------------------------------------------------- the settings modules


def _settings_value(module: str, names: list[str], **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MPESA_") and k != "DJANGO_SETTINGS_MODULE"}
    clean.update(env, ENV_FILE="/nonexistent", DJANGO_SETTINGS_MODULE=module)
    code = f"from django.conf import settings; print('|'.join(str(getattr(settings, n)) for n in {names!r}))"
    return subprocess.run(  # noqa: S603 - our own interpreter and settings
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


def test_settings_are_read_from_the_environment():
    names = ["MPESA_ENVIRONMENT", "MPESA_BASE_URL", "MPESA_PARTY_B", "MPESA_TIMEOUT", "MPESA_PASSKEY"]
    run = _settings_value("config.settings.local", names)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"simulator|http://127.0.0.1:8765|174379|15.0|{SANDBOX_PASSKEY}"
    run = _settings_value(
        "config.settings.local",
        names,
        MPESA_CONSUMER_KEY="key",
        MPESA_CONSUMER_SECRET="secret",
        MPESA_PASSKEY="  ",  # empty means the default
        MPESA_TRANSACTION_TYPE="CustomerBuyGoodsOnline",
        MPESA_PARTY_B="5123456",
        MPESA_TIMEOUT="8",
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"sandbox|https://sandbox.safaricom.co.ke|5123456|8.0|{SANDBOX_PASSKEY}"


def test_production_settings_require_a_long_callback_secret():
    base = {"SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "pos.example.co.ke"}
    missing = _settings_value("config.settings.production", ["MPESA_CALLBACK_SECRET"], **base)
    assert missing.returncode != 0
    assert "MPESA_CALLBACK_SECRET" in missing.stderr
    short = _settings_value(
        "config.settings.production", ["MPESA_CALLBACK_SECRET"], MPESA_CALLBACK_SECRET="abc", **base
    )
    assert short.returncode != 0
    assert "at least 32" in short.stderr
    good = _settings_value(
        "config.settings.production", ["MPESA_CALLBACK_SECRET"], MPESA_CALLBACK_SECRET="k" * 40, **base
    )
    assert good.returncode == 0, good.stderr
    assert good.stdout.strip() == "k" * 40
