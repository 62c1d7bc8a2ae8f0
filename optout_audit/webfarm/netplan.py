"""Loopback addresses and sockets: which address each host resolves to, and what listens there.

Linux routes all of 127.0.0.0/8 to the loopback interface, so a farm can bind ports 80 and 443
on an address of its own, picked at random: parallel farms (tests run in parallel) do not
collide, and the crawler can fetch plain ``https://news.example/robots.txt`` through a hosts
file. An address is kept only if every port it needs binds; otherwise another is drawn.

Roles of a bound port:

``http`` / ``https``       the farm's HTTP handler (plain or TLS)
``tls_fail``, ``tls_abort``  a TCP listener that breaks the TLS handshake (see model)
``closed``                 bound but never listening: connections are refused, and no other farm
                           can take the port while we hold it
"""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from optout_audit.webfarm.model import Placement, Web

Role = Literal["http", "https", "tls_fail", "tls_abort", "closed"]
BACKLOG = 1024
MAX_TRIES = 64


class AddressError(OSError):
    """No loopback address could be bound for the farm."""


@dataclass(slots=True)
class Listener:
    """One bound socket and what it does."""

    address: str
    port: int
    role: Role
    sock: socket.socket


@dataclass(slots=True)
class NetPlan:
    """The farm's addresses and bound sockets."""

    address: str
    http_port: int
    https_port: int
    group_addresses: dict[str, str] = field(default_factory=dict)
    listeners: list[Listener] = field(default_factory=list)

    def address_of(self, placement: Placement) -> str | None:
        """Return the address a host with ``placement`` resolves to; None for ``nxdomain``."""
        if placement.mode == "nxdomain":
            return None
        if placement.mode is None:
            return self.address
        return self.group_addresses[placement.group or ""]

    def close(self) -> None:
        """Close every socket of the plan."""
        for listener in self.listeners:
            listener.sock.close()


def roles(placement: Placement) -> tuple[Role, Role]:
    """Return the (port 80, port 443) roles for a network mode."""
    http: Role = "http" if placement.http else "closed"
    return {
        None: ("http", "https"),
        "refused": ("closed", "closed"),
        "tls_fail": (http, "tls_fail"),
        "tls_abort": (http, "tls_abort"),
        "http_only": ("http", "closed"),
        "https_only": ("closed", "https"),
    }[placement.mode]


def plan_network(
    web: Web,
    *,
    address: str | None = None,
    http_port: int = 80,
    https_port: int = 443,
    rng: random.Random | None = None,
) -> NetPlan:
    """Bind the shared address (``address`` or a random one) and one address per special group."""
    rng = rng or random.Random()
    groups: dict[str, Placement] = {}
    for _host, placement in web.placements():
        if placement.mode not in (None, "nxdomain") and placement.group not in groups:
            groups[placement.group or ""] = placement
    used: set[str] = set()
    plan = NetPlan("", http_port, https_port)
    try:
        shared, listeners = _bind_somewhere(Placement(), (http_port, https_port), address, used, rng)
        plan.address, plan.listeners = shared, listeners
        for group, placement in groups.items():
            addr, listeners = _bind_somewhere(placement, (http_port, https_port), None, used, rng)
            plan.group_addresses[group] = addr
            plan.listeners += listeners
    except BaseException:
        plan.close()
        raise
    return plan


def _bind_somewhere(
    placement: Placement, ports: tuple[int, int], fixed: str | None, used: set[str], rng: random.Random
) -> tuple[str, list[Listener]]:
    candidates = [fixed] if fixed else _random_addresses(rng, used)
    last: OSError | None = None
    for addr in candidates:
        try:
            listeners = _bind_all(addr, list(zip(ports, roles(placement), strict=False)))
        except OSError as exc:
            last = exc
            continue
        used.add(addr)
        return addr, listeners
    raise AddressError(f"could not bind ports {ports} on {fixed or 'any random loopback address'}: {last}")


def _random_addresses(rng: random.Random, used: set[str]) -> Iterator[str]:
    for _ in range(MAX_TRIES):
        # 127.0.x.x and 127.1.x.x hold the usual suspects (127.0.0.1, 127.0.0.53, 127.0.1.1).
        addr = f"127.{rng.randint(2, 254)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        if addr not in used:
            yield addr


def _bind_all(addr: str, wanted: list[tuple[int, Role]]) -> list[Listener]:
    bound: list[Listener] = []
    try:
        for port, role in wanted:
            bound.append(Listener(addr, port, role, _bind(addr, port, role)))
    except OSError:
        for listener in bound:
            listener.sock.close()
        raise
    return bound


def _bind(addr: str, port: int, role: Role) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if role != "closed":
            # Lets a restarted farm reuse a port whose old connections sit in TIME_WAIT; Linux
            # still refuses a second listener. A "closed" holder must not share its port at all.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((addr, port))
        if role != "closed":
            sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock
