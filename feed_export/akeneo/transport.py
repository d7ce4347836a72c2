"""Under every HTTP call: a whole-request deadline, and where a connection may go.

``requests`` times each socket read, not a request: a server that sends one byte
every few seconds (headers or body) keeps a call alive for as long as it likes. Here:

- ``request_deadline(seconds)`` covers everything the calling thread does with the
  connection inside the ``with`` (connect, send, headers, body): when the time is up a
  watchdog shuts the socket down, the blocked read returns at once and fails, and
  ``Deadline.expired`` tells the caller why. Enforced while reading, not between chunks.
- ``AddressPolicy`` says which addresses a connection may go to. Media URLs come from
  the feed (untrusted): a host is resolved first, only the addresses the policy allows
  are connected to (the address checked is the one connected to: no second lookup, so
  no DNS-rebinding gap), and the peer is checked again once connected. A redirect is a
  new request: checked the same way.

Both live in the connection classes of ``GuardedAdapter``, a ``requests`` adapter;
a session without it (a test's ``responses`` mock) still works, unguarded.
"""

from __future__ import annotations

import contextlib
import heapq
import ipaddress
import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection as _connection

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: host, port -> the addresses to try, in order (``socket.getaddrinfo`` by default)
Resolver = Callable[[str, int], list[str]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # IPv4 embedded in the last 32 bits
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


# --- the whole-request deadline ----------------------------------------------------------


class Deadline:
    """One call's budget in seconds; the sockets it used are shut down when it runs out."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires_at = time.monotonic() + seconds
        self.expired = False
        self._done = False
        self._lock = threading.Lock()
        self._watched: list[socket.socket] = []

    def remaining(self) -> float:
        """Seconds left (0 once expired)."""
        return max(0.0, self.expires_at - time.monotonic())

    def watch(self, sock: socket.socket) -> None:
        """Shut ``sock`` down when the deadline passes (at once if it has passed).

        A duplicate descriptor is kept: shutting it down ends the connection whatever
        wraps the original (TLS detaches it), and it can never name another socket later.
        """
        try:
            dup = socket.socket(sock.family, sock.type, sock.proto, fileno=os.dup(sock.fileno()))
        except OSError:
            return
        with self._lock:
            if self._done:
                dup.close()
                return
            self._watched.append(dup)
            if self.expired:
                _shut(dup)

    def expire(self) -> None:
        """The time is up: end every watched connection (called by the watchdog)."""
        with self._lock:
            if self._done:
                return
            self.expired = True
            for sock in self._watched:
                _shut(sock)

    def close(self) -> None:
        """The call is over: stop watching (its sockets stay usable)."""
        with self._lock:
            self._done = True
            watched, self._watched = self._watched, []
        for sock in watched:
            sock.close()

    @property
    def done(self) -> bool:
        return self._done


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread that expires deadlines in time order."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, deadline: Deadline) -> None:
        with self._cond:
            if len(self._heap) >= 1024:  # calls that ended early wait here: drop them
                self._heap = [entry for entry in self._heap if not entry[2].done]
                heapq.heapify(self._heap)
            heapq.heappush(self._heap, (deadline.expires_at, next(self._order), deadline))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="feed_export-deadlines", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                _, _, deadline = heapq.heappop(self._heap)
                deadline.expire()


_WATCHDOG = _Watchdog()
_local = threading.local()


def current_deadline() -> Deadline | None:
    """The deadline of the call this thread is making, if any."""
    return getattr(_local, "deadline", None)


@contextlib.contextmanager
def request_deadline(seconds: float | None) -> Iterator[Deadline | None]:
    """Everything this thread does over a guarded connection inside must end in ``seconds``.

    Yields the ``Deadline`` (None when ``seconds`` is None: no deadline); after a failure
    inside, ``deadline.expired`` says whether the deadline caused it.
    """
    if seconds is None:
        yield None
        return
    deadline = Deadline(seconds)
    previous = current_deadline()
    _local.deadline = deadline
    _WATCHDOG.add(deadline)
    try:
        yield deadline
    finally:
        _local.deadline = previous
        deadline.close()


# --- where a connection may go -----------------------------------------------------------


class _AddressRefused(NewConnectionError):
    """No address of the host is one the policy allows: nothing was connected to."""


def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses as the system resolves them (numeric forms included)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(address: IPAddress) -> bool:
    """Whether ``address`` is a public unicast address (forms that embed IPv4 unwrapped).

    >>> [is_public(ipaddress.ip_address(a)) for a in ("93.184.216.34", "10.0.0.1",
    ...     "::ffff:169.254.169.254", "64:ff9b::7f00:1", "224.0.0.1")]
    [True, False, False, False, False]
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public(embedded)
        if address in _NAT64_LOCAL:
            return False
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
        or address.is_private
    )


def _is_private_range(address: IPAddress) -> bool:
    """Loopback or a private network (what ``allow_private`` opens); never link-local."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _is_private_range(address.ipv4_mapped)
    if address.is_link_local or address.is_multicast or address.is_unspecified:
        return False
    return address.is_loopback or address.is_private or address in _SHARED


_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: a private range too


def host_key(host: str) -> str:
    """A host as the allow list compares it: lower case, no brackets, no final dot."""
    return host.strip("[]").rstrip(".").lower()


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Which addresses connections may go to: public unicast ones, unless opened.

    ``allow_hosts``: hosts connected to whatever they resolve to; ``allow_private``:
    loopback and private ranges too (never link-local, where cloud metadata lives).
    """

    allow_hosts: frozenset[str] = frozenset()
    allow_private: bool = False
    resolve: Resolver = field(default=system_resolver, repr=False, compare=False)

    def allows(self, host: str, address: str) -> bool:
        """Whether a connection to ``address`` (an answer for ``host``) may be made."""
        if host_key(host) in self.allow_hosts:
            return True
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        return is_public(ip) or (self.allow_private and _is_private_range(ip))

    def connect(self, conn: HTTPConnection, timeout: Any) -> socket.socket:
        """A socket to one of ``conn``'s allowed addresses; ``_AddressRefused`` if none."""
        host = conn._dns_host  # what urllib3 resolves: no brackets
        try:
            addresses = self.resolve(host, conn.port or 0)
        except OSError as exc:
            raise NewConnectionError(conn, f"cannot resolve {host}: {exc}") from exc
        allowed = [a for a in addresses if self.allows(host, a)]
        if not allowed:
            log.debug("not connecting to %s: %s are not public addresses", host, addresses)
            raise _AddressRefused(conn, f"{host}: no address that may be connected to")
        last: OSError | None = None
        for address in allowed:
            try:
                sock = _connection.create_connection(
                    (address, conn.port or 0),
                    timeout,
                    source_address=conn.source_address,
                    socket_options=conn.socket_options,
                )
            except TimeoutError as exc:
                raise ConnectTimeoutError(conn, f"connecting to {host} timed out") from exc
            except OSError as exc:
                last = exc
                continue
            peer = str(sock.getpeername()[0])
            if not self.allows(host, peer):  # what was connected to, not what was asked
                sock.close()
                raise _AddressRefused(conn, f"{host}: no address that may be connected to")
            return sock
        raise NewConnectionError(conn, f"cannot connect to {host}: {last}")


class _Guarded:
    """Mixed into urllib3's connections: the deadline watches them, the policy places them."""

    address_policy: AddressPolicy | None = None

    def _new_conn(self) -> socket.socket:
        conn: Any = self
        deadline = current_deadline()
        if deadline is not None:
            left = deadline.remaining()
            if left <= 0:
                raise ConnectTimeoutError(conn, "no time left to connect (deadline)")
            if not isinstance(conn.timeout, int | float) or conn.timeout > left:
                conn.timeout = left
        if self.address_policy is None:
            sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        else:
            sock = self.address_policy.connect(conn, conn.timeout)
        if deadline is not None:
            deadline.watch(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> Any:
        deadline = current_deadline()
        sock = getattr(self, "sock", None)
        if deadline is not None and sock is not None:  # a connection reused from the pool
            deadline.watch(sock)
        return super().request(*args, **kwargs)  # type: ignore[misc]


class GuardedAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose connections obey ``request_deadline`` and ``policy``.

    ``policy`` None: any address (the PIM's, which the user configured).
    """

    def __init__(self, policy: AddressPolicy | None = None, **kwargs: Any) -> None:
        self._policy = policy
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pool_classes(self._policy)


def _pool_classes(policy: AddressPolicy | None) -> dict[str, type[HTTPConnectionPool]]:
    attrs = {"address_policy": policy}
    http = type("GuardedHTTPConnection", (_Guarded, HTTPConnection), attrs)
    https = type("GuardedHTTPSConnection", (_Guarded, HTTPSConnection), attrs)
    return {
        "http": type("GuardedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
        "https": type(
            "GuardedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https}
        ),
    }


def refused_by_policy(exc: BaseException) -> bool:
    """Whether a failed request was refused by an ``AddressPolicy`` (nothing connected)."""
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, _AddressRefused):
            return True
        todo += [current.__cause__, current.__context__, getattr(current, "reason", None)]
        todo += [arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException)]
    return False


def allowed_hosts(names: Iterable[str]) -> frozenset[str]:
    """``--allow-media-host`` values as the policy compares them."""
    return frozenset(host_key(n) for n in names if n.strip())
