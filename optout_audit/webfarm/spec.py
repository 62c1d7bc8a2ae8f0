"""Webs to and from JSON, the form in which a farm subprocess receives its sites.

A sites file is either a JSON list of sites or an object::

    {"sites": [{"host": "news.example",
                "resources": {"/robots.txt": {"status": 200, "text": "User-agent: *\\nDisallow: /\\n",
                                              "headers": [["Content-Type", "text/plain"]]},
                              "/": {"status": 200, "body_b64": "PCFET0NUWVBF...",
                                    "delay": 2.5, "fault": {"kind": "drop", "after": 100}}},
                "network": null, "http": true, "https": true, "default": null}],
     "synthetic": [{"count": 3000, "seed": 1, "tld": "example", "robots_paths": ["corpus/a.robots.txt"]}],
     "include": ["demo"]}

A fault is ``{"kind": ...}`` with its fields (bytes fields as ``<field>_b64`` or text) or just its
name (``"reset"``, ``"gzip_bomb"``). On the command line a spec is also ``demo`` or
``synthetic:COUNT[:SEED]``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from optout_audit.webfarm.model import Site, StaticWeb, Web, WebSet, site_from_json
from optout_audit.webfarm.synthetic import SyntheticWeb

#: What :func:`as_web` accepts: a web, a site, an iterable of either, or a spec string / path.
WebLike = Web | Site | Iterable[Site | Web] | str | Path


def web_from_json(data: Any) -> Web:
    """Return the web described by a parsed sites file."""
    if isinstance(data, list):
        data = {"sites": data}
    webs: list[Web] = [load_web(name) for name in data.get("include", [])]
    if data.get("sites"):
        webs.insert(0, StaticWeb(site_from_json(s) for s in data["sites"]))
    webs += [SyntheticWeb.from_json(s) for s in data.get("synthetic", [])]
    return webs[0] if len(webs) == 1 else WebSet(webs)


def load_web(spec: str | Path) -> Web:
    """Return the web for ``demo``, ``synthetic:COUNT[:SEED]`` or a sites file path."""
    text = str(spec)
    if text == "demo":
        from optout_audit.webfarm.demo import demo_web

        return demo_web()
    if text.startswith("synthetic:"):
        count, _, seed = text.removeprefix("synthetic:").partition(":")
        return SyntheticWeb(int(count), int(seed or 0))
    return web_from_json(json.loads(Path(spec).read_text("utf-8")))


def as_web(sites_or_spec: WebLike) -> Web:
    """Return a web from anything :func:`~optout_audit.webfarm.runner.running_farm` accepts."""
    if isinstance(sites_or_spec, (str, Path)):
        return load_web(sites_or_spec)
    if isinstance(sites_or_spec, Site):
        return StaticWeb([sites_or_spec])
    if hasattr(sites_or_spec, "placements"):
        return sites_or_spec  # type: ignore[return-value]
    sites: list[Site] = []
    webs: list[Web] = []
    for item in sites_or_spec:  # type: ignore[union-attr]
        (sites if isinstance(item, Site) else webs).append(item)  # type: ignore[arg-type]
    if sites:
        webs.insert(0, StaticWeb(sites))
    if not webs:
        raise ValueError("a farm needs at least one site")
    return webs[0] if len(webs) == 1 else WebSet(webs)


def write_web(web: Web, path: Path) -> Path:
    """Write ``web`` as a sites file at ``path``."""
    path.write_text(json.dumps(web.to_json(), ensure_ascii=False), "utf-8")
    return path
