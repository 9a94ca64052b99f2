"""Fixtures for the Daraja layer: settings for each environment, respx, the simulator, a receiver."""

import pytest
import respx
from django.core.cache import cache

from cashdesk.mpesa.daraja.client import DarajaClient
from cashdesk.mpesa.daraja.config import SANDBOX_PASSKEY, SANDBOX_SHORTCODE
from cashdesk.mpesa.daraja.simulator import DarajaSimulator
from cashdesk.tests.daraja_support import CallbackReceiver

SANDBOX_URL = "https://sandbox.safaricom.co.ke"
CALLBACK_BASE = "https://pos.example.co.ke"


@pytest.fixture(autouse=True)
def _fresh_token_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def sandbox_settings(settings):
    """The shop configured for Safaricom's sandbox (nothing leaves the machine: respx answers)."""
    settings.MPESA_ENVIRONMENT = "sandbox"
    settings.MPESA_BASE_URL = SANDBOX_URL
    settings.MPESA_CONSUMER_KEY = "test-consumer-key"
    settings.MPESA_CONSUMER_SECRET = "test-consumer-secret-value"
    settings.MPESA_SHORTCODE = SANDBOX_SHORTCODE
    settings.MPESA_PASSKEY = SANDBOX_PASSKEY
    settings.MPESA_TRANSACTION_TYPE = "CustomerPayBillOnline"
    settings.MPESA_PARTY_B = SANDBOX_SHORTCODE
    settings.MPESA_CALLBACK_SECRET = "s3cr3t-" + "x" * 40
    settings.MPESA_CALLBACK_BASE_URL = CALLBACK_BASE
    settings.MPESA_TIMEOUT = 5
    return settings


@pytest.fixture
def daraja(sandbox_settings):
    """respx router on the sandbox base URL; every unmatched request fails the test."""
    with respx.mock(base_url=SANDBOX_URL, assert_all_called=False) as router:
        yield router


@pytest.fixture
def token_route(daraja):
    return daraja.get("/oauth/v1/generate").respond(200, json={"access_token": "tok-1", "expires_in": "3599"})


@pytest.fixture
def client(sandbox_settings):
    with DarajaClient() as daraja_client:
        yield daraja_client


@pytest.fixture
def receiver():
    callback_receiver = CallbackReceiver().start()
    yield callback_receiver
    callback_receiver.stop()


@pytest.fixture
def simulator():
    sim = DarajaSimulator("127.0.0.1", 0, callback_delay=0.15).start()
    yield sim
    sim.stop()


@pytest.fixture
def simulator_settings(settings, simulator):
    settings.MPESA_ENVIRONMENT = "simulator"
    settings.MPESA_BASE_URL = simulator.base_url
    settings.MPESA_CONSUMER_KEY = ""
    settings.MPESA_CONSUMER_SECRET = ""
    settings.MPESA_SHORTCODE = SANDBOX_SHORTCODE
    settings.MPESA_PASSKEY = SANDBOX_PASSKEY
    settings.MPESA_TRANSACTION_TYPE = "CustomerPayBillOnline"
    settings.MPESA_PARTY_B = SANDBOX_SHORTCODE
    settings.MPESA_TIMEOUT = 5
    return settings


@pytest.fixture
def sim_client(simulator_settings):
    with DarajaClient() as daraja_client:
        yield daraja_client
