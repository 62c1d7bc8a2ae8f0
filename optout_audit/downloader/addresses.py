"""Which addresses the crawler may connect to: public unicast only, unless the user said otherwise.

A site controls its DNS answers and its redirects, so without a check one ``Location:
http://169.254.169.254/`` puts a cloud VM's metadata service into the audit, and a name resolving
to 10.0.0.5 reaches into the auditor's own network. :class:`AddressPolicy` refuses loopback,
private (RFC 1918, RFC 4193), link-local, CGNAT (100.64.0.0/10), multicast, reserved, unspecified
and documentation ranges, also when wrapped in IPv6 (IPv4-mapped ``::ffff:a.b.c.d``, 6to4,
NAT64). Addresses of the ``--hosts-file`` are trusted as given; ``--allow-private-networks``
allows everything. The connector (:class:`~optout_audit.downloader.dns.GuardedConnector`) applies
it to the very addresses it connects to.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from functools import lru_cache

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class BlockedAddressError(OSError):
    """Every address of a host is one the policy refuses."""

    fault = "blocked_address"


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


@lru_cache(maxsize=65_536)
def is_public_address(text: str) -> bool:
    """Whether ``text`` is a public unicast IPv4 or IPv6 address (False for anything unparsable)."""
    try:
        address = ipaddress.ip_address(text.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            return is_public_address(str(inner))
    # is_global alone lets multicast through (224.0.0.0/4 is "global" to Python).
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
    )


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """``allows(address)``: public addresses, the ``trusted`` ones, or all with ``allow_private``."""

    allow_private: bool = False
    trusted: frozenset[str] = field(default_factory=frozenset)

    def allows(self, address: str) -> bool:
        return self.allow_private or address in self.trusted or is_public_address(address)
