"""A guard that makes any attempt to reach a non-loopback host fail the test that made it."""
from __future__ import annotations

import ipaddress
import socket

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}
attempts: list[str] = []

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


class NetworkBlocked(ConnectionRefusedError):
    """Raised for a connection to a host other than this machine."""


def _is_loopback(host) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode()
    host = str(host).strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback or host in ("0.0.0.0", "::")
    except ValueError:
        return False


def _check(address) -> None:
    if isinstance(address, tuple) and address and not _is_loopback(address[0]):
        attempts.append(str(address[0]))
        raise NetworkBlocked(f"tests may only connect to loopback, not {address[0]}")


def _connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check(address)
    return _real_connect(self, address)


def _connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check(address)
    return _real_connect_ex(self, address)


def _getaddrinfo(host, *args, **kwargs):
    if not _is_loopback(host):
        attempts.append(str(host))
        raise NetworkBlocked(f"tests may only resolve loopback names, not {host}")
    return _real_getaddrinfo(host, *args, **kwargs)


def install() -> None:
    """Patch the socket module for this process."""
    socket.socket.connect = _connect
    socket.socket.connect_ex = _connect_ex
    socket.getaddrinfo = _getaddrinfo
