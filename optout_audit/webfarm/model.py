"""The site model: what each made-up host answers, as plain data.

A *web* maps host names to :class:`Site` objects. Each site maps exact paths to a
:class:`Resource` (status, headers, body, delay, optional fault); anything else gets
``site.default`` or a small 404 page. Host-level *network modes* decide what a client meets
before HTTP even starts:

==============  ==============================================================================
network         what a client meets (each non-normal host gets its own loopback address)
==============  ==============================================================================
``None``        normal: the shared farm address answers HTTP (port 80) and HTTPS (port 443)
``refused``     nothing listens on the host's address (connection refused)
``tls_fail``    port 443 answers a TLS ClientHello with garbage; port 80 works if ``http``
``tls_abort``   port 443 reads the ClientHello and answers a fatal ``handshake_failure`` alert
``http_only``   port 80 works, nothing listens on 443
``https_only``  port 443 works, nothing listens on 80
``nxdomain``    the name is left out of the hosts file: the crawler's resolver fails
==============  ==============================================================================

``Site(http=False)`` or ``Site(https=False)`` on a normal host mean ``https_only`` /
``http_only``. Names that no web knows at all also fail to resolve.

A web is anything with the :class:`Web` methods: :class:`StaticWeb` (a dict of sites),
:class:`~optout_audit.webfarm.synthetic.SyntheticWeb` (sites made on demand from a seed), or a
:class:`WebSet` of several. Every web has a JSON form (see :mod:`optout_audit.webfarm.spec`).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, Protocol

from optout_audit.webfarm.faults import Fault, fault_to_json, parse_fault

Headers = list[tuple[str, str]]

NETWORK_MODES = ("refused", "tls_fail", "tls_abort", "http_only", "https_only", "nxdomain")


def normalise_host(host: str) -> str:
    """Return ``host`` lower-case, IDNA-encoded (``bücher.test`` -> ``xn--bcher-kva.test``), no port or dot."""
    host = host.strip().rstrip(".").lower()
    if host.startswith("["):  # an IPv6 literal keeps its brackets; its port goes
        return host.split("]")[0] + "]"
    host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if not host.isascii():
        host = host.encode("idna").decode("ascii")
    return host


@dataclass(slots=True)
class Resource:
    """What one path answers. ``body`` may be given as ``str`` (stored UTF-8).

    ``delay`` is seconds to wait before answering (on top of the farm's latency); ``fault`` is
    one of :mod:`optout_audit.webfarm.faults` or its name (``"reset"``, ``"gzip_bomb"`` ...).
    ``Content-Length`` is added by the server unless ``headers`` set it (or
    ``Transfer-Encoding``), so a resource can also lie about its length on purpose.
    """

    status: int = 200
    body: bytes = b""
    headers: Headers = field(default_factory=lambda: [("Content-Type", "text/plain")])
    delay: float = 0.0
    fault: Fault | None = None

    def __post_init__(self) -> None:
        if isinstance(self.body, str):
            self.body = self.body.encode("utf-8")
        self.headers = [(str(k), str(v)) for k, v in self.headers]
        self.fault = parse_fault(self.fault)  # type: ignore[arg-type]

    def header(self, name: str) -> str | None:
        """Return the first value of header ``name`` (case-insensitive), or None."""
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    @classmethod
    def text(cls, body: str | bytes, status: int = 200, headers: Iterable[tuple[str, str]] = (), **kw: Any) -> Resource:
        """A ``text/plain; charset=utf-8`` resource (robots.txt, ai.txt)."""
        return cls(status, body, [("Content-Type", "text/plain; charset=utf-8"), *headers], **kw)

    @classmethod
    def html(cls, body: str | bytes, status: int = 200, headers: Iterable[tuple[str, str]] = (), **kw: Any) -> Resource:
        """A ``text/html; charset=utf-8`` resource."""
        return cls(status, body, [("Content-Type", "text/html; charset=utf-8"), *headers], **kw)

    @classmethod
    def json(cls, value: Any, status: int = 200, headers: Iterable[tuple[str, str]] = (), **kw: Any) -> Resource:
        """An ``application/json`` resource holding ``value`` (or a str/bytes body as is)."""
        body = value if isinstance(value, (str, bytes)) else json.dumps(value, indent=2) + "\n"
        return cls(status, body, [("Content-Type", "application/json"), *headers], **kw)

    @classmethod
    def redirect(cls, location: str, status: int = 301) -> Resource:
        """A redirect to ``location`` (see :class:`~optout_audit.webfarm.faults.Redirect`)."""
        from optout_audit.webfarm.faults import Redirect

        return cls(status, b"", [("Content-Type", "text/html")], fault=Redirect(location, status))

    def with_validators(self, last_modified: datetime | None = None) -> Resource:
        """Add a strong ``ETag`` (from the body) and ``Last-Modified``, for conditional re-fetches."""
        last_modified = last_modified or datetime(2026, 1, 15, 8, 0, tzinfo=UTC)
        etag = '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'
        self.headers = [h for h in self.headers if h[0].lower() not in ("etag", "last-modified")]
        self.headers += [("ETag", etag), ("Last-Modified", format_datetime(last_modified, usegmt=True))]
        return self


@dataclass(slots=True)
class Site:
    """One made-up host: its resources by exact path, and how it is reached (see module doc)."""

    host: str
    resources: dict[str, Resource] = field(default_factory=dict)
    http: bool = True
    https: bool = True
    network: str | None = None
    #: What unknown paths answer (e.g. a catch-all HTML page); None means a 404 page.
    default: Resource | None = None

    def __post_init__(self) -> None:
        self.host = normalise_host(self.host)
        if self.network is not None and self.network not in NETWORK_MODES:
            raise ValueError(f"{self.host}: unknown network mode {self.network!r}; known: {NETWORK_MODES}")

    @property
    def mode(self) -> str | None:
        """The effective network mode: ``network``, else what the ``http``/``https`` flags imply."""
        if self.network is not None:
            return self.network
        if not self.http and not self.https:
            return "refused"
        if not self.https:
            return "http_only"
        if not self.http:
            return "https_only"
        return None

    def lookup(self, target: str) -> Resource | None:
        """Return the resource for a request target: exact match, then without the query."""
        found = self.resources.get(target)
        if found is None and "?" in target:
            found = self.resources.get(target.split("?", 1)[0])
        return found if found is not None else self.default


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a host lives on the farm: its network mode and which address group it shares.

    Hosts with the same non-None ``group`` share one loopback address. A normal host (``mode``
    None) lives on the shared address and needs no group.
    """

    mode: str | None = None
    http: bool = True
    group: str | None = None


class Web(Protocol):
    """A source of sites: looked up per request, listed once for the hosts file."""

    def site(self, host: str) -> Site | None:
        """Return the site for an already normalised host name, or None."""
        ...

    def placements(self) -> Iterator[tuple[str, Placement]]:
        """Yield every host with its placement (``nxdomain`` hosts included, they are skipped later)."""
        ...

    def cert_names(self) -> Iterator[str]:
        """Yield the names worth putting in the TLS certificate: hosts, or ``*.tld`` for thousands."""
        ...

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form (see :mod:`optout_audit.webfarm.spec`)."""
        ...


class StaticWeb:
    """A web of explicit :class:`Site` objects, looked up in a dict."""

    def __init__(self, sites: Iterable[Site] = ()) -> None:
        self.sites: dict[str, Site] = {}
        for site in sites:
            if site.host in self.sites:
                raise ValueError(f"site {site.host} is defined twice")
            self.sites[site.host] = site

    def site(self, host: str) -> Site | None:
        return self.sites.get(host)

    def placements(self) -> Iterator[tuple[str, Placement]]:
        for host, site in self.sites.items():
            mode = site.mode
            # Every explicit special host gets an address of its own: the brief of the farm.
            yield host, Placement(mode, site.http, group=None if mode is None else f"host:{host}")

    def cert_names(self) -> Iterator[str]:
        return iter(self.sites)

    def to_json(self) -> dict[str, Any]:
        return {"sites": [site_to_json(s) for s in self.sites.values()]}


class WebSet:
    """Several webs answering as one; the first that knows a host wins."""

    def __init__(self, webs: Iterable[Web]) -> None:
        self.webs = list(webs)

    def site(self, host: str) -> Site | None:
        for web in self.webs:
            found = web.site(host)
            if found is not None:
                return found
        return None

    def placements(self) -> Iterator[tuple[str, Placement]]:
        seen: set[str] = set()
        for web in self.webs:
            for host, placement in web.placements():
                if host not in seen:  # a shadowed host would resolve to the wrong address
                    seen.add(host)
                    yield host, placement

    def cert_names(self) -> Iterator[str]:
        for web in self.webs:
            yield from web.cert_names()

    def to_json(self) -> dict[str, Any]:
        merged: dict[str, Any] = {"sites": [], "synthetic": []}
        for web in self.webs:
            part = web.to_json()
            merged["sites"] += part.get("sites", [])
            merged["synthetic"] += part.get("synthetic", [])
        return merged


# --- JSON form of sites and resources ----------------------------------------------------------


def resource_to_json(res: Resource) -> dict[str, Any]:
    """Return the JSON form; the body as ``text`` when it is UTF-8, else ``body_b64``."""
    out: dict[str, Any] = {"status": res.status, "headers": [list(h) for h in res.headers]}
    try:
        out["text"] = res.body.decode("utf-8")
    except UnicodeDecodeError:
        out["body_b64"] = base64.b64encode(res.body).decode("ascii")
    if res.delay:
        out["delay"] = res.delay
    if res.fault is not None:
        out["fault"] = fault_to_json(res.fault)
    return out


def resource_from_json(data: dict[str, Any]) -> Resource:
    """Inverse of :func:`resource_to_json`."""
    body: bytes | str = base64.b64decode(data["body_b64"]) if "body_b64" in data else data.get("text", "")
    kwargs: dict[str, Any] = {"status": data.get("status", 200), "body": body}
    if "headers" in data:
        kwargs["headers"] = [tuple(h) for h in data["headers"]]
    return Resource(**kwargs, delay=data.get("delay", 0.0), fault=parse_fault(data.get("fault")))


def site_to_json(site: Site) -> dict[str, Any]:
    """Return the JSON form of a site."""
    out: dict[str, Any] = {
        "host": site.host,
        "resources": {path: resource_to_json(r) for path, r in site.resources.items()},
    }
    if not site.http:
        out["http"] = False
    if not site.https:
        out["https"] = False
    if site.network is not None:
        out["network"] = site.network
    if site.default is not None:
        out["default"] = resource_to_json(site.default)
    return out


def site_from_json(data: dict[str, Any]) -> Site:
    """Inverse of :func:`site_to_json`."""
    return Site(
        host=data["host"],
        resources={path: resource_from_json(r) for path, r in data.get("resources", {}).items()},
        http=data.get("http", True),
        https=data.get("https", True),
        network=data.get("network"),
        default=resource_from_json(data["default"]) if data.get("default") else None,
    )
