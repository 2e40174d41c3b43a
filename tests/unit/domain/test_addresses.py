"""Who is calling from where: forwarded addresses are believed from trusted proxies only, and
the per-address limits count IPv4 addresses and IPv6 /64s."""

from __future__ import annotations

import ipaddress

from ogmint.domain.addresses import TrustedProxies, limit_subject


def test_the_subject_of_an_address() -> None:
    assert limit_subject(ipaddress.ip_address("192.0.2.7")) == "192.0.2.7"
    assert limit_subject(ipaddress.ip_address("2001:db8:1:2:3:4:5:6")) == "2001:db8:1:2::/64"
    assert limit_subject(ipaddress.ip_address("::ffff:192.0.2.7")) == "192.0.2.7"


def test_forwarded_addresses_count_from_trusted_proxies_only() -> None:
    proxies = TrustedProxies(("10.0.0.0/8",))
    forwarded = "198.51.100.1, 203.0.113.9, 10.1.1.1"
    assert proxies.limit_subject("192.0.2.7", forwarded) == "ip:192.0.2.7"  # not a proxy
    # The right-most address that is not a trusted proxy; junk hops are skipped.
    assert proxies.limit_subject("10.0.0.2", forwarded) == "ip:203.0.113.9"
    assert proxies.limit_subject("10.0.0.2", "junk, 10.2.2.2") == "ip:10.2.2.2"
    assert proxies.limit_subject("10.0.0.2", "") == "ip:10.0.0.2"
    assert proxies.from_proxy("10.9.9.9") and not proxies.from_proxy("192.0.2.7")
    assert not proxies.from_proxy("not an address")
    assert TrustedProxies(()).limit_subject("/tmp/socket", "") == "ip:0.0.0.0"
