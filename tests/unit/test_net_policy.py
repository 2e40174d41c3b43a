"""AddressPolicy: which hosts and addresses outbound requests may reach. No network access."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ogmint.net import AddressPolicy, BadURL, BlockedAddress, BlockedPort

POLICY = AddressPolicy()

BLOCKED_IPS = [
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("::1", "loopback"),
    ("10.0.0.1", "private"),
    ("172.16.5.4", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),
    ("168.63.129.16", "Azure WireServer"),
    ("::ffff:168.63.129.16", "Azure WireServer"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("100.127.255.254", "carrier-grade NAT"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "this network"),
    ("::", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "broadcast"),
    ("192.0.2.1", "documentation"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.9", "documentation"),
    ("2001:db8::1", "documentation"),
    ("198.18.0.1", "benchmarking"),
    ("198.19.255.255", "benchmarking"),
    ("192.0.0.8", "IETF"),
    ("::ffff:127.0.0.1", "IPv4-mapped loopback"),
    ("::ffff:10.0.0.1", "IPv4-mapped private"),
    ("::ffff:169.254.169.254", "IPv4-mapped link-local"),
    ("::127.0.0.1", "IPv4-compatible"),
    ("::8.8.8.8", "IPv4-compatible"),
    ("64:ff9b::7f00:1", "NAT64 loopback"),
    ("64:ff9b::a00:1", "NAT64 private"),
    ("64:ff9b:1::1", "local-use NAT64"),
    ("2002:7f00:1::", "6to4 loopback"),
    ("2002:a9fe:a9fe::1", "6to4 link-local"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
    ("2001:0:7f00:1::1", "Teredo"),
    ("fc00::1", "unique-local"),
    ("fd12:3456:789a::1", "unique-local"),
    ("fe80::1", "link-local"),
    ("fec0::1", "site-local"),
    ("100::1", "discard"),
]


@pytest.mark.parametrize(("ip", "reason"), BLOCKED_IPS)
def test_non_public_addresses_are_blocked(ip: str, reason: str) -> None:
    with pytest.raises(BlockedAddress) as info:
        POLICY.check_ip(ip)
    assert reason in info.value.reason
    # The public message names the class of address, never the address itself.
    assert ip not in info.value.message


@pytest.mark.parametrize(
    "ip",
    ["8.8.8.8", "1.1.1.1", "93.184.215.14", "2606:4700::1111", "2a00:1450:4001:80b::200e"],
)
def test_public_addresses_pass(ip: str) -> None:
    POLICY.check_ip(ip)
    POLICY.check_ip(ipaddress.ip_address(ip))


def test_embedded_public_ipv4_passes() -> None:
    POLICY.check_ip("::ffff:8.8.8.8")
    POLICY.check_ip("64:ff9b::808:808")


def test_garbage_is_not_an_address() -> None:
    with pytest.raises(BlockedAddress):
        POLICY.check_ip("not-an-ip")


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LOCALHOST.",
        "app.localhost",
        "metadata.google.internal",
        "metadata",
        "x.local",
        "printer.LOCAL",
        "db.internal",
        "127.0.0.1",
        "169.254.169.254",
        "::1",
        "::ffff:127.0.0.1",
        "2130706433",
        "0x7f000001",
        "0177.0.0.1",
        "127.1",
        "0",
        "0x7f.1",
        "",
        ".",
    ],
)
def test_internal_names_and_numeric_spellings_are_blocked(host: str) -> None:
    with pytest.raises(BlockedAddress):
        POLICY.check_host(host)


@pytest.mark.parametrize("host", ["example.com", "cdn.example.org.", "1e100.net", "0x.example"])
def test_ordinary_names_pass_the_name_check(host: str) -> None:
    POLICY.check_host(host)


@pytest.mark.parametrize("spelling", ["2130706433", "0x7f000001", "0177.0.0.1", "127.1", "0"])
def test_legacy_ipv4_spellings_resolve_to_blocked_addresses(spelling: str) -> None:
    # The C resolver turns these into addresses without any network traffic; whatever it
    # returns must be refused, which is why the policy checks resolved addresses.
    infos = socket.getaddrinfo(spelling, 443, type=socket.SOCK_STREAM)
    assert infos
    for *_, sockaddr in infos:
        with pytest.raises(BlockedAddress):
            POLICY.check_ip(str(sockaddr[0]))


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "0177.0.0.1", "127.1", "0"])
async def test_resolve_refuses_legacy_spellings(host: str) -> None:
    with pytest.raises(BlockedAddress):
        await POLICY.resolve(host, 443)


async def test_resolve_checks_every_returned_address(monkeypatch: pytest.MonkeyPatch) -> None:
    async def fake_getaddrinfo(
        host: str, port: int, **_: object
    ) -> list[tuple[int, int, int, str, tuple[str, int]]]:
        # One public and one private answer: the private one must poison the whole name.
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port)),
        ]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(BlockedAddress) as info:
        await POLICY.resolve("assets.example.com", 443)
    assert info.value.reason == "private"


async def test_resolve_localhost_is_blocked() -> None:
    with pytest.raises(BlockedAddress):
        await POLICY.resolve("localhost", 443)


def test_allow_list_exempts_exact_ip_only() -> None:
    policy = AddressPolicy(("127.0.0.1",))
    policy.check_ip("127.0.0.1")
    policy.check_host("127.0.0.1")
    with pytest.raises(BlockedAddress):
        policy.check_ip("127.0.0.2")


def test_allow_list_exempts_cidr() -> None:
    policy = AddressPolicy(("10.0.0.0/8", "fd00::/8"))
    policy.check_ip("10.1.2.3")
    policy.check_ip("fd00::5")
    with pytest.raises(BlockedAddress):
        policy.check_ip("192.168.0.1")


def test_allow_list_exempts_host_names_case_insensitively() -> None:
    policy = AddressPolicy(("LocalHost", "images.internal"))
    policy.check_host("localhost.")
    policy.check_host("IMAGES.internal")
    assert policy.host_exempt("localhost")
    with pytest.raises(BlockedAddress):
        policy.check_host("other.internal")


async def test_allow_listed_name_skips_address_checks() -> None:
    resolved = await AddressPolicy(("localhost",)).resolve("localhost", 443)
    assert resolved
    assert all(ip.is_loopback for _, ip in resolved)


_NON_PUBLIC_V4 = [
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
]


@st.composite
def non_public_ipv4(draw: st.DrawFn) -> ipaddress.IPv4Address:
    network = draw(st.sampled_from(_NON_PUBLIC_V4))
    offset = draw(st.integers(0, network.num_addresses - 1))
    return network.network_address + offset


@settings(deadline=None)  # no deadline: a loaded CI machine is slow, not wrong
@given(non_public_ipv4())
def test_any_non_public_ipv4_is_blocked_in_every_wrapping(ip: ipaddress.IPv4Address) -> None:
    wrapped: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [
        ip,
        ipaddress.IPv6Address(f"::ffff:{ip}"),  # IPv4-mapped
        ipaddress.IPv6Address((0x2002 << 112) | (int(ip) << 80)),  # 6to4
        ipaddress.IPv6Address(int(ipaddress.IPv6Address("64:ff9b::")) | int(ip)),  # NAT64
    ]
    for address in wrapped:
        with pytest.raises(BlockedAddress):
            POLICY.check_ip(address)
        with pytest.raises(BlockedAddress):
            POLICY.check_host(str(address))


@pytest.mark.parametrize("port", [22, 80, 6379, 8443, 0])
def test_only_443_and_configured_ports_are_allowed(port: int) -> None:
    with pytest.raises(BlockedPort):
        POLICY.check_port("example.com", port)
    POLICY.check_port("example.com", 443)
    AddressPolicy(ports=(443, port)).check_port("example.com", port)


def test_allow_listed_hosts_may_use_any_port() -> None:
    policy = AddressPolicy(("hooks.test", "127.0.0.0/8"))
    policy.check_port("hooks.test", 8443)
    policy.check_port("127.0.0.5", 8443)
    with pytest.raises(BlockedPort):
        policy.check_port("other.test", 8443)


@pytest.mark.parametrize("host", ["a..b.example", "a" * 64 + ".example", ".example"])
async def test_invalid_dns_label_is_a_bad_url(host: str) -> None:
    with pytest.raises(BadURL):
        await POLICY.resolve(host, 443)
