"""Synthetic webs: thousands of hosts made on demand from a seed, never all in memory.

``SyntheticWeb(count, seed)`` names its hosts ``site000000.example`` ... and builds a host's
:class:`~optout_audit.webfarm.model.Site` only when a request (or a test) asks for it. Each host
draws its *traits* from ``random.Random(f"{seed}/{index}")``, so host 1234 of seed 7 is the same
site in every process, every run:

=======================  =========================================================================
trait                    what the host does
=======================  =========================================================================
``nxdomain``             not in the hosts file (DNS failure); excludes every other trait
``refused``              on an address where nothing listens (all such hosts share one address)
``robots_missing``       no robots.txt: 404
``robots_server_error``  robots.txt answers 503
``robots_timeout``       robots.txt answers after ``slow_delay`` seconds
``robots_drop``          robots.txt connection dropped mid-body
``noai_meta``            home page ``<meta name="robots" content="noai, noimageai">``
``noai_header``          home page ``X-Robots-Tag: noai``
``tdm_meta``             home page ``<meta name="tdm-reservation" content="1">``
``tdm_header``           home page ``tdm-reservation: 1``
``content_usage_header`` home page ``Content-Usage: train-ai=n``
``tdmrep``               ``/.well-known/tdmrep.json`` reserving ``/``
``aitxt``                Spawning ``/ai.txt`` disallowing everything
=======================  =========================================================================

Otherwise robots.txt is one of ``robots_files`` (or of :data:`BUILTIN_ROBOTS`), chosen per host;
the trait ``robots:<n>`` says which. robots.txt and the home page carry ``ETag`` and
``Last-Modified``, so re-audit benchmarks can measure ``304 Not Modified`` runs.
"""

from __future__ import annotations

import base64
import json
import random
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from optout_audit.webfarm.faults import Drop
from optout_audit.webfarm.model import Placement, Resource, Site
from optout_audit.webfarm.pages import home_page

#: Share of hosts with each trait (independent draws; network traits first and exclusive).
DEFAULT_MIX: dict[str, float] = {
    "nxdomain": 0.01,
    "refused": 0.01,
    "robots_missing": 0.15,
    "robots_server_error": 0.02,
    "robots_timeout": 0.0,  # off by default: a bench should not wait on timeouts unless it asks
    "robots_drop": 0.0,
    "noai_meta": 0.04,
    "noai_header": 0.02,
    "tdm_meta": 0.01,
    "tdm_header": 0.01,
    "content_usage_header": 0.01,
    "tdmrep": 0.03,
    "aitxt": 0.02,
}
_ROBOTS_TRAITS = ("robots_missing", "robots_server_error", "robots_timeout", "robots_drop")

#: robots.txt bodies used when no ``robots_files`` are given.
BUILTIN_ROBOTS: tuple[bytes, ...] = (
    b"User-agent: *\nAllow: /\n\nSitemap: /sitemap.xml\n",
    b"User-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n",
    b"User-agent: GPTBot\nUser-agent: CCBot\nUser-agent: ClaudeBot\nUser-agent: Google-Extended\nDisallow: /\n",
    b"User-agent: *\nDisallow: /\n",
    b"User-agent: CCBot\nDisallow: /private/\n\nUser-agent: *\nDisallow: /search\n",
    b"User-Agent: *\nContent-Signal: search=yes, ai-train=no\nAllow: /\n",
    b"User-agent: Google\nDisallow: /\n",
)
SPAWNING_AI_TXT = (
    "# Spawning AI\n# Prevent datasets from using the following file types\n\nUser-Agent: *\nDisallow: /\n"
)


class SyntheticWeb:
    """``count`` hosts ``<prefix><index>.<tld>``, each built on demand from ``seed``."""

    def __init__(
        self,
        count: int,
        seed: int = 0,
        robots_files: Iterable[Path | str | bytes] = (),
        *,
        tld: str = "example",
        prefix: str = "site",
        mix: Mapping[str, float] | None = None,
        slow_delay: float = 30.0,
        home_bytes: tuple[int, int] | None = None,
    ) -> None:
        if count < 1:
            raise ValueError("a synthetic web needs at least one host")
        unknown = set(mix or ()) - set(DEFAULT_MIX)
        if unknown:
            raise ValueError(f"unknown synthetic traits {sorted(unknown)}; known: {sorted(DEFAULT_MIX)}")
        self.count, self.seed, self.tld, self.prefix = count, seed, tld.lower(), prefix.lower()
        self.mix = {**DEFAULT_MIX, **(mix or {})}
        self.slow_delay = slow_delay
        #: (min, max) size of the home pages in bytes, drawn per host; None: a few KB (bench: 60-100 KB)
        self.home_bytes = tuple(home_bytes) if home_bytes else None
        self.robots_files = [f if isinstance(f, bytes) else Path(f).read_bytes() for f in robots_files] or list(
            BUILTIN_ROBOTS
        )
        self._width = max(6, len(str(count - 1)))
        self._pattern = re.compile(rf"{re.escape(self.prefix)}(\d{{{self._width}}})\.{re.escape(self.tld)}")
        self.site = lru_cache(maxsize=4096)(self._build)  # type: ignore[method-assign]

    # --- naming ----------------------------------------------------------------------------------

    def host(self, index: int) -> str:
        """Return the name of host ``index`` (0-based)."""
        return f"{self.prefix}{index:0{self._width}d}.{self.tld}"

    def index(self, host: str) -> int | None:
        """Return the index of ``host``, or None if it is not one of ours."""
        match = self._pattern.fullmatch(host)
        if match is None:
            return None
        index = int(match.group(1))
        return index if index < self.count else None

    def hosts(self) -> Iterator[str]:
        """Yield every host name, in index order."""
        return (self.host(i) for i in range(self.count))

    def input_lines(self, scheme: str = "https") -> list[str]:
        """Return the URL list a crawl of the whole web starts from."""
        return [f"{scheme}://{host}/" for host in self.hosts()]

    # --- traits and sites ------------------------------------------------------------------------

    def traits(self, host: str) -> frozenset[str]:
        """Return what ``host`` was drawn to do (see the module doc); empty for a foreign host."""
        index = self.index(host)
        return frozenset() if index is None else self._traits(index)

    def _traits(self, index: int) -> frozenset[str]:
        rng = random.Random(f"{self.seed}/{index}")
        for network in ("nxdomain", "refused"):
            if rng.random() < self.mix[network]:
                return frozenset({network})
        drawn = {
            name for name, share in self.mix.items() if name not in ("nxdomain", "refused") and rng.random() < share
        }
        robots_faults = [t for t in _ROBOTS_TRAITS if t in drawn]
        drawn -= set(robots_faults[1:])  # one robots.txt outcome per host
        if not robots_faults:
            drawn.add(f"robots:{rng.randrange(len(self.robots_files))}")
        return frozenset(drawn)

    def _build(self, host: str) -> Site | None:
        index = self.index(host)
        if index is None:
            return None
        traits = self._traits(index)
        network = next((n for n in ("nxdomain", "refused") if n in traits), None)
        resources = {"/robots.txt": self._robots(traits), "/": self._home(host, index, traits)}
        if "tdmrep" in traits:
            resources["/.well-known/tdmrep.json"] = Resource.json([{"location": "/", "tdm-reservation": 1}])
        if "aitxt" in traits:
            resources["/ai.txt"] = Resource.text(SPAWNING_AI_TXT)
        return Site(host, {p: r for p, r in resources.items() if r is not None}, network=network)

    def _robots(self, traits: frozenset[str]) -> Resource | None:
        if "robots_missing" in traits:
            return None
        if "robots_server_error" in traits:
            return Resource.text("Service Unavailable\n", status=503, headers=[("Retry-After", "3600")])
        robots = next((t for t in traits if t.startswith("robots:")), None)
        body = self.robots_files[int(robots.split(":")[1])] if robots else BUILTIN_ROBOTS[0]
        resource = Resource.text(body).with_validators()
        if "robots_timeout" in traits:
            resource.delay = self.slow_delay
        if "robots_drop" in traits:
            resource.body = body.ljust(2048, b"\n")  # long enough to cut in the middle
            resource.fault = Drop(after=len(body) // 2)
        return resource

    def _home(self, host: str, index: int, traits: frozenset[str]) -> Resource:
        head = ""
        if "noai_meta" in traits:
            head += '  <meta name="robots" content="noai, noimageai">\n'
        if "tdm_meta" in traits:
            head += '  <meta name="tdm-reservation" content="1">\n'
        headers = []
        if "noai_header" in traits:
            headers.append(("X-Robots-Tag", "noai"))
        if "tdm_header" in traits:
            headers.append(("tdm-reservation", "1"))
        if "content_usage_header" in traits:
            headers.append(("Content-Usage", "train-ai=n"))
        page = home_page(host, f"Site {index}", head_extra=head, sections=4)
        if self.home_bytes:
            size = random.Random(f"{self.seed}/{index}/home").randint(*self.home_bytes)
            page = page.replace("\n  </main>", _filler(size - len(page)) + "\n  </main>", 1)
        return Resource.html(page, headers=headers).with_validators()

    # --- the Web protocol ------------------------------------------------------------------------

    def placements(self) -> Iterator[tuple[str, Placement]]:
        """Every host; the refused ones share one address (group ``synthetic:refused``)."""
        for index in range(self.count):
            traits = self._traits(index)
            if "nxdomain" in traits:
                yield self.host(index), Placement("nxdomain")
            elif "refused" in traits:
                yield self.host(index), Placement("refused", group="synthetic:refused")
            else:
                yield self.host(index), Placement()

    def cert_names(self) -> Iterator[str]:
        yield f"*.{self.tld}"

    def to_json(self) -> dict[str, Any]:
        spec = {
            "count": self.count,
            "seed": self.seed,
            "tld": self.tld,
            "prefix": self.prefix,
            "mix": self.mix,
            "slow_delay": self.slow_delay,
            "robots_b64": [base64.b64encode(b).decode("ascii") for b in self.robots_files],
        }
        if self.home_bytes:
            spec["home_bytes"] = list(self.home_bytes)
        return {"synthetic": [spec]}

    @classmethod
    def from_json(cls, spec: dict[str, Any]) -> SyntheticWeb:
        """Inverse of :meth:`to_json` (one entry of its ``synthetic`` list)."""
        spec = dict(spec)
        robots = [base64.b64decode(b) for b in spec.pop("robots_b64", [])]
        robots += [Path(p).read_bytes() for p in spec.pop("robots_paths", [])]
        return cls(spec.pop("count"), spec.pop("seed", 0), robots, **spec)

    def __repr__(self) -> str:
        return f"SyntheticWeb(count={self.count}, seed={self.seed}, tld={self.tld!r}, robots_files=<{len(self.robots_files)}>)"


@lru_cache(maxsize=1)
def _filler_block() -> str:
    return "\n".join(_filler_teaser(i) for i in range(40))


def _filler_teaser(index: int) -> str:
    words = " ".join(random.Random(index).choices(_FILLER_WORDS, k=90))
    return (
        f'    <article class="story"><h3><a href="/archive/{index}.html">Archive story {index}</a></h3>\n'
        f"      <p>{words}.</p></article>"
    )


_FILLER_WORDS = (
    "archive",
    "report",
    "council",
    "river",
    "weather",
    "market",
    "library",
    "school",
    "notes",
    "the",
    "a",
    "of",
    "and",
    "to",
    "in",
    "on",
    "with",
    "after",
    "before",
    "said",
)


def _filler(size: int) -> str:
    """About ``size`` bytes of body HTML (article teasers), to give home pages a realistic weight."""
    if size <= 0:
        return ""
    block = _filler_block()
    text = ("\n" + block) * (size // (len(block) + 1) + 1)
    cut = text.rfind("</article>", 0, size)
    return text[: cut + len("</article>")] if cut > 0 else ""


def describe(web: SyntheticWeb, sample: int = 1000) -> str:
    """Return the trait counts over the first ``sample`` hosts, as JSON (for bench logs)."""
    counts: dict[str, int] = {}
    for i in range(min(sample, web.count)):
        for trait in web._traits(i):
            key = "robots_file" if trait.startswith("robots:") else trait
            counts[key] = counts.get(key, 0) + 1
    return json.dumps(dict(sorted(counts.items())))
