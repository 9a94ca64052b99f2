"""The trusted client address: X-Forwarded-For believed only through our own proxies, always a valid IP
address or nothing, and the one answer the audit log, throttles and M-Pesa use."""

import pytest
from django.test import RequestFactory, override_settings
from rest_framework.test import APIClient

from core.ops.client_address import client_address, valid_ip
from pos.people.audit import AuditAction
from pos.people.models import AuditLog
from pos.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.sqlite_only


def _request(remote="10.0.0.5", forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_the_header_is_ignored():
    assert client_address(_request("10.0.0.5", "1.2.3.4")) == "10.0.0.5"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_one_proxy_believes_the_address_nginx_appended_not_what_the_client_wrote():
    # nginx's $proxy_add_x_forwarded_for: whatever the client sent, then the address nginx saw.
    assert client_address(_request("127.0.0.1", "6.6.6.6, 41.90.1.2")) == "41.90.1.2"
    assert client_address(_request("127.0.0.1", "41.90.1.2")) == "41.90.1.2"
    assert client_address(_request("127.0.0.1")) == "127.0.0.1"


@override_settings(TRUSTED_PROXY_COUNT=2)
def test_two_proxies():
    assert client_address(_request("127.0.0.1", "6.6.6.6, 41.90.1.2, 10.1.1.1")) == "41.90.1.2"


@override_settings(TRUSTED_PROXY_NETWORKS=["127.0.0.1/32", "10.1.0.0/16"])
def test_trusted_networks_are_walked_back_from_the_socket():
    assert client_address(_request("127.0.0.1", "6.6.6.6, 41.90.1.2, 10.1.3.4")) == "41.90.1.2"
    assert client_address(_request("41.90.9.9", "6.6.6.6")) == "41.90.9.9"  # not through our proxy


@override_settings(TRUSTED_PROXY_COUNT=1)
@pytest.mark.parametrize("odd", ["<script>alert(1)</script>", "x" * 200, "1.2.3.4.5", "fe80::1%eth0", "", ",,,"])
def test_an_odd_header_is_never_the_address(odd):
    address = client_address(_request("127.0.0.1", odd))
    assert address is None or address == "127.0.0.1"


@pytest.mark.parametrize("value,expected", [("41.90.1.2", "41.90.1.2"), (" 2001:DB8::1 ", "2001:db8::1"),
                                            ("[2001:db8::1]", "2001:db8::1"), ("999.1.1.1", None), (None, None)])
def test_valid_ip(value, expected):
    assert valid_ip(value) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["<script>alert(1)</script>", "1" * 64, "9" * 300 + ", 41.90.1.2"])
def test_a_spoofed_header_is_never_a_500_and_never_stored(branch, header):
    UserFactory(phone_number="+254712345678", branch=branch)
    api = APIClient()
    bad = api.post("/api/token/", {"phone_number": "0712345678", "password": "wrong-wrong-1"}, format="json",
                   HTTP_X_FORWARDED_FOR=header)
    assert bad.status_code == 401
    good = api.post("/api/token/", {"phone_number": "0712345678", "password": DEFAULT_PASSWORD}, format="json",
                    HTTP_X_FORWARDED_FOR=header)
    assert good.status_code == 200
    addresses = set(AuditLog.objects.filter(action__in=[AuditAction.LOGIN, AuditAction.LOGIN_FAILED])
                    .values_list("ip_address", flat=True))
    assert addresses == {"127.0.0.1"}
