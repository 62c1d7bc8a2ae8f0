"""A local web of many made-up hosts on real sockets: for the demo, the tests and the benchmarks.

One process answers every host by its ``Host`` header (and TLS SNI) on ports 80 and 443 of a
random loopback address; a hosts(5) file maps the names to it, and the crawler resolves through
that file only, so it fetches plain ``https://news.example/robots.txt``. Hosts with a network
fault (refused, broken TLS, one scheme only) get addresses of their own; names missing from the
hosts file fail to resolve.

The map of the fake web, from the top:

* :mod:`~optout_audit.webfarm.model` -- ``Site(host, resources, http, https, network, default)``
  and ``Resource(status, body, headers, delay, fault)``; network modes ``refused``, ``tls_fail``,
  ``tls_abort``, ``http_only``, ``https_only``, ``nxdomain``
* :mod:`~optout_audit.webfarm.faults` -- per-path faults: ``Redirect``, ``Drop``, ``Reset``,
  ``SlowDrip``, ``Garbage``, gzip/deflate/brotli ``Bomb``, ``Huge``
* :mod:`~optout_audit.webfarm.demo` -- 28 demo sites, one per signal or fault, with readings
* :mod:`~optout_audit.webfarm.synthetic` -- ``SyntheticWeb(count, seed)``: 100,000 hosts on demand
* :mod:`~optout_audit.webfarm.runner` -- ``running_farm(...)`` runs a farm in a subprocess
* :mod:`~optout_audit.webfarm.server`, ``wire``, ``netplan``, ``tls``, ``service`` -- the server

Example::

    from optout_audit.webfarm import Resource, Site, running_farm

    site = Site("news.example", {"/robots.txt": Resource.text("User-agent: GPTBot\\nDisallow: /\\n")})
    with running_farm([site, Site("down.example", network="refused")], latency=(5, 20)) as farm:
        run_crawler(["https://news.example/", "https://down.example/"], hosts_file=farm.hosts_file)
        assert ("news.example", "GET", "/", "https") not in farm.request_log()
"""

from __future__ import annotations

from optout_audit.webfarm.client import Fetched, fetch, raw_exchange
from optout_audit.webfarm.faults import (
    Bomb,
    Drop,
    Fault,
    Garbage,
    Huge,
    Redirect,
    Reset,
    SlowDrip,
    brotli_bomb,
    deflate_bomb,
    gzip_bomb,
)
from optout_audit.webfarm.model import Placement, Resource, Site, StaticWeb, Web, WebSet
from optout_audit.webfarm.requestlog import LoggedRequest
from optout_audit.webfarm.runner import Farm, FarmError, running_farm
from optout_audit.webfarm.spec import as_web, load_web
from optout_audit.webfarm.synthetic import SyntheticWeb

__all__ = [
    "Bomb",
    "Drop",
    "Farm",
    "FarmError",
    "Fault",
    "Fetched",
    "Garbage",
    "Huge",
    "LoggedRequest",
    "Placement",
    "Redirect",
    "Reset",
    "Resource",
    "Site",
    "SlowDrip",
    "StaticWeb",
    "SyntheticWeb",
    "Web",
    "WebSet",
    "as_web",
    "brotli_bomb",
    "deflate_bomb",
    "fetch",
    "gzip_bomb",
    "load_web",
    "raw_exchange",
    "running_farm",
]
