"""The benchmark's web and the documents each client fetches from it.

``bench_web`` is a :class:`~optout_audit.webfarm.SyntheticWeb` whose robots.txt files are the real
ones of ``tests/fixtures/robots/`` (cycled over the hosts) and whose home pages weigh 60-100 KB,
with the usual meta tags, plus ``noai`` metas and headers, TDMRep files and ai.txt on a few hosts.

The copies drop their ``Crawl-delay`` lines: optout-audit honours them (up to 30 s between a
site's requests), the limit and the floor would not, and a polite wait is not a cost per host.

``fetch_plan`` says which documents optout-audit fetches per host (robots.txt; the home page
when robots.txt lets ``optout-audit`` in; tdmrep.json, ai.txt, llms.txt and trust.txt unless the host
is unreachable; licence files and TDM policies, fetched only where a signal points to one, are not planned),
so that the limit and the floor fetch exactly the same documents and parse none of them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from optout_audit import PRODUCT_TOKEN
from optout_audit.detect.body import read_robots_body
from optout_audit.detect.robots import RobotsTxt
from optout_audit.webfarm import SyntheticWeb

ROOT = Path(__file__).resolve().parent.parent
ROBOTS_DIR = ROOT / "tests" / "fixtures" / "robots"
HOME_BYTES = (60_000, 100_000)
DOCUMENTS = ("/robots.txt", "/", "/.well-known/tdmrep.json", "/ai.txt", "/llms.txt", "/trust.txt")


_CRAWL_DELAY = re.compile(rb"^[ \t]*crawl-delay[ \t]*:.*(\r\n|\r|\n)?", re.IGNORECASE | re.MULTILINE)


def robots_files() -> list[bytes]:
    """The fixtures' real robots.txt files, without their Crawl-delay lines."""
    return [_CRAWL_DELAY.sub(b"", path.read_bytes()) for path in sorted(ROBOTS_DIR.rglob("*.robots.txt"))]


def bench_web(hosts: int, seed: int = 1) -> SyntheticWeb:
    return SyntheticWeb(hosts, seed, robots_files(), home_bytes=HOME_BYTES)


def planned_paths(web: SyntheticWeb, host: str, cache: dict[int, bool]) -> list[str]:
    """The paths optout-audit fetches on ``host`` (over https, as the input lists it)."""
    traits = web.traits(host)
    if "nxdomain" in traits or "refused" in traits:
        return ["/robots.txt"]  # the robots.txt fetch fails to connect: the site is given up
    if "robots_server_error" in traits:
        own = False  # RFC 9309: 5xx means complete disallow
    elif "robots_missing" in traits:
        own = True
    else:
        number = int(next(t for t in traits if t.startswith("robots:")).split(":")[1])
        if number not in cache:
            body = read_robots_body(web.robots_files[number], "text/plain; charset=utf-8")
            cache[number] = RobotsTxt.parse(body.text).can_fetch("https://x.example/", PRODUCT_TOKEN)
        own = cache[number]
    return ["/robots.txt", *(["/"] if own else []), "/.well-known/tdmrep.json", "/ai.txt", "/llms.txt", "/trust.txt"]


def write_inputs(web: SyntheticWeb, directory: Path) -> tuple[Path, Path, int]:
    """Write the crawl's URL list and the plan (JSON lines ``[root, [paths]]``); return both and the request count."""
    directory.mkdir(parents=True, exist_ok=True)
    urls, plan = directory / "sites.txt", directory / "plan.jsonl"
    cache: dict[int, bool] = {}
    requests = 0
    with urls.open("w") as url_out, plan.open("w") as plan_out:
        for host in web.hosts():
            root = f"https://{host}"
            paths = planned_paths(web, host, cache)
            requests += len(paths)
            url_out.write(root + "/\n")
            plan_out.write(json.dumps([root, paths]) + "\n")
    return urls, plan, requests


def read_plan(path: Path) -> list[tuple[str, list[str]]]:
    with path.open() as handle:
        return [tuple(json.loads(line)) for line in handle]  # type: ignore[misc]
