"""The client's address: the one answer the audit log, throttles, the login lockout and M-Pesa use.

`X-Forwarded-For` is written by whoever sends the request, so it is believed only as far as the proxies
we run ourselves: `TRUSTED_PROXY_COUNT` (how many proxies of ours stand in front of the app, e.g. 1 for
nginx) or `TRUSTED_PROXY_NETWORKS` (their addresses, e.g. a load balancer's subnet). With neither set the
header is ignored and the address is the socket's. Whatever comes back is a valid IP address or None,
so a long or odd header can never reach a database column or a cache key.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

_MAX_HOPS = 20  # nobody has 20 proxies; more is someone padding the header


def valid_ip(value: object) -> str | None:
    """`value` as a normalised IP address, or None when it is not exactly one address."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > 45:
        return None
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if getattr(address, "scope_id", None):  # "fe80::1%eth0": not an address we can store
        return None
    return str(address)


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in spec if item.strip())


def trusted_networks() -> tuple:
    return _networks(tuple(getattr(settings, "TRUSTED_PROXY_NETWORKS", ()) or ()))


def in_networks(address: str | None, networks) -> bool:
    if address is None:
        return False
    ip = ipaddress.ip_address(address)
    return any(ip.version == net.version and ip in net for net in networks)


def client_address(request: HttpRequest | None) -> str | None:
    """The address of the person (or Safaricom) at the other end, through our own proxies only."""
    if request is None:
        return None
    remote = valid_ip(request.META.get("REMOTE_ADDR"))
    count = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    networks = trusted_networks()
    if remote is None or (not count and not networks):
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in str(forwarded).split(",")][-_MAX_HOPS:] if forwarded else []
    chain = [hop for hop in hops if hop] + [remote]  # nearest last
    if networks:
        # Walk back from the socket while the address is one of our proxies.
        for position in range(len(chain) - 1, -1, -1):
            address = valid_ip(chain[position])
            if address is None:
                return valid_ip(chain[position + 1]) if position + 1 < len(chain) else None
            if not in_networks(address, networks):
                return address
        return valid_ip(chain[0])
    # A fixed number of proxies: each appended the address it saw; the client is `count` hops back.
    if len(chain) <= count:
        return valid_ip(chain[0])
    return valid_ip(chain[-(count + 1)])
