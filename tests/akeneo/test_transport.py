"""The transport guards: which addresses a download may reach, and whole-request deadlines.

Servers run on 127.0.0.1 only; refusals of other addresses are proven with an injected
resolver and a guard that fails any connect to a non-loopback address.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hostile import DripServer, loopback_only

from feed_export.akeneo import transport
from feed_export.akeneo.transport import (
    AddressPolicy,
    GuardedAdapter,
    is_public,
    refused_by_policy,
    request_deadline,
)

PUBLIC = [
    ("ipv4", "93.184.216.34", True),
    ("ipv6", "2606:4700::1111", True),
    ("loopback", "127.0.0.1", False),
    ("loopback-other", "127.8.9.10", False),
    ("ipv6-loopback", "::1", False),
    ("private-10", "10.0.0.1", False),
    ("private-172", "172.16.5.4", False),
    ("private-192", "192.168.1.1", False),
    ("cgnat", "100.64.0.1", False),
    ("link-local-metadata", "169.254.169.254", False),
    ("unspecified", "0.0.0.0", False),
    ("broadcast", "255.255.255.255", False),
    ("multicast", "224.0.0.1", False),
    ("reserved", "240.0.0.1", False),
    ("documentation", "203.0.113.7", False),
    ("ula", "fd00::1", False),
    ("ipv6-link-local", "fe80::1", False),
    ("ipv4-mapped-metadata", "::ffff:169.254.169.254", False),
    ("ipv4-mapped-public", "::ffff:93.184.216.34", True),
    ("nat64-loopback", "64:ff9b::7f00:1", False),
    ("nat64-public", "64:ff9b::5db8:d822", True),
    ("nat64-local-use", "64:ff9b:1::a00:1", False),
    ("6to4-private", "2002:a00:1::", False),
    ("ipv6-multicast", "ff02::1", False),
]


@pytest.mark.parametrize(("address", "public"), [p[1:] for p in PUBLIC], ids=[p[0] for p in PUBLIC])
def test_only_public_unicast_addresses_are_public(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


OPENED = [
    # id, policy, host, address -> allowed
    ("default-loopback", AddressPolicy(), "a.test", "127.0.0.1", False),
    ("private-opens-loopback", AddressPolicy(allow_private=True), "a.test", "127.0.0.1", True),
    ("private-opens-10", AddressPolicy(allow_private=True), "a.test", "10.1.2.3", True),
    ("private-keeps-metadata", AddressPolicy(allow_private=True), "a.test", "169.254.169.254", False),
    ("private-keeps-mapped-metadata", AddressPolicy(allow_private=True), "a.test",
     "::ffff:169.254.169.254", False),
    ("host-opens-anything", AddressPolicy(allow_hosts=frozenset({"img.lan"})), "IMG.LAN.",
     "169.254.1.1", True),
    ("host-is-exact", AddressPolicy(allow_hosts=frozenset({"img.lan"})), "x.img.lan",
     "10.0.0.1", False),
    ("not-an-address", AddressPolicy(allow_private=True), "a.test", "nonsense", False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("policy", "host", "address", "allowed"), [o[1:] for o in OPENED], ids=[o[0] for o in OPENED]
)
def test_what_the_flags_open(policy: AddressPolicy, host: str, address: str, allowed: bool) -> None:
    assert policy.allows(host, address) is allowed


def _session(policy: AddressPolicy | None) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.mount("http://", GuardedAdapter(policy))
    return session


def test_a_refused_host_is_never_connected_to() -> None:
    resolved: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[str]:
        resolved.append((host, port))
        return ["10.0.0.1", "169.254.169.254"]

    with (
        loopback_only() as asked,
        pytest.raises(
            requests.ConnectionError, match="no address that may be connected to"
        ) as caught,
    ):
        _session(AddressPolicy(resolve=resolve)).get("http://intranet.test:8080/x", timeout=2)
    assert refused_by_policy(caught.value)
    assert resolved == [("intranet.test", 8080)]
    assert asked == []  # nothing was connected to


def test_the_address_connected_to_is_the_one_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """One lookup, the checked address pinned; the peer checked again once connected.

    The connection is made to loopback whatever is asked (as a DNS rebinding or a NAT in
    the way would): the peer check refuses it.
    """
    with DripServer(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", lasts=5) as server:
        asked: list[Any] = []
        real = transport._connection.create_connection

        def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
            asked.append(address)
            return real(("127.0.0.1", server.port), *args, **kwargs)

        monkeypatch.setattr(transport._connection, "create_connection", create_connection)
        lookups: list[str] = []

        def resolve(host: str, port: int) -> list[str]:
            lookups.append(host)
            return ["93.184.216.34"]  # public: allowed, and never reached (see above)

        with (
            loopback_only(),
            pytest.raises(
                requests.ConnectionError, match="no address that may be connected to"
            ) as caught,
        ):
            _session(AddressPolicy(resolve=resolve)).get("http://cdn.test/a.jpg", timeout=2)
    assert refused_by_policy(caught.value)
    assert lookups == ["cdn.test"]
    assert asked == [("93.184.216.34", 80)]  # the resolved address, pinned


@pytest.fixture
def dripping_headers() -> Iterator[DripServer]:
    with DripServer(b"HTTP/1.1 200 OK\r\n", drip=b"X-Slow: 1\r\n" * 1000) as server:
        yield server


@pytest.fixture
def dripping_body() -> Iterator[DripServer]:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"
    with DripServer(head) as server:
        yield server


@pytest.mark.parametrize("which", ["dripping_headers", "dripping_body"])
def test_a_deadline_ends_a_request_that_never_ends(which: str, request: Any) -> None:
    server: DripServer = request.getfixturevalue(which)
    session = _session(None)
    started = time.monotonic()
    with request_deadline(0.4) as deadline:
        assert deadline is not None
        try:
            response = session.get(server.url, timeout=(2, 2), stream=True)
            response.content  # noqa: B018 - the body is read here
        except requests.RequestException:
            pass  # the socket was shut: whatever failed, the deadline says why
    took = time.monotonic() - started
    assert deadline.expired
    assert took < 2.0  # every single read came within the 2 s read timeout


def test_a_request_within_its_deadline_is_untouched() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
    with DripServer(head, drip=b"") as server:
        session = _session(None)
        with request_deadline(5) as deadline:
            assert session.get(server.url, timeout=2).content == b"ok"
        assert deadline is not None and not deadline.expired
        with request_deadline(5) as again:
            assert session.get(server.url, timeout=2).content == b"ok"
        assert again is not None and not again.expired


def test_no_deadline_means_none() -> None:
    with request_deadline(None) as deadline:
        assert deadline is None
        assert transport.current_deadline() is None
