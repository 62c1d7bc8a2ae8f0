"""Parse time of detect/html.py now against the marker-cutting version it replaced (issue 17 class 3).

    python -m bench.html_head [--rounds 5] [--pages 200]

Both versions parse the same documents in the same run: the HTML fixtures of tests/fixtures and
the bench web's home pages (60-100 KB, the pages a crawl parses). The baseline is
``optout_audit/detect/html.py`` as of commit BASELINE_COMMIT, read with ``git show`` and loaded as
a module of its own. Prints the time per page of each, the ratio new / baseline and the difference
per page, to be set against the crawl's CPU per host (``make bench``), which may rise by at most
10% (issue 17).
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import time
from pathlib import Path

from optout_audit.agents import ai_agents
from optout_audit.detect import html as current
from optout_audit.webfarm import SyntheticWeb

ROOT = Path(__file__).resolve().parent.parent
BASELINE_COMMIT = "7af54c3"
FIXTURES = ROOT / "tests" / "fixtures"


def baseline_module():
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{BASELINE_COMMIT}:optout_audit/detect/html.py"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    spec = importlib.util.spec_from_loader("baseline_html", loader=None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    exec(compile(source, "baseline_html.py", "exec"), module.__dict__)
    return module


def documents(pages: int) -> list[bytes]:
    found = [p.read_bytes() for p in sorted(FIXTURES.rglob("*.html"))]
    web = SyntheticWeb(pages, 1, [b"User-agent: *\nAllow: /\n"], home_bytes=(60_000, 100_000))
    for host in list(web.hosts())[:pages]:
        site = web._build(host)
        if site is not None and "/" in site.resources:
            found.append(site.resources["/"].body)
    return found


def per_page(parse, docs: list[bytes], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for body in docs:
            parse(body)
        best = min(best, time.perf_counter() - start)
    return best / len(docs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args(argv)
    old = baseline_module()
    names = current.crawler_names(ai_agents())
    docs = documents(args.pages)
    # The answers must agree where the old version could see the head at all.
    differing = sum(
        old.parse_html_head(body).meta != current.parse_html_head(body, agent_names=names).meta for body in docs
    )
    before = per_page(old.parse_html_head, docs, args.rounds)
    after = per_page(lambda body: current.parse_html_head(body, agent_names=names), docs, args.rounds)
    print(f"documents: {len(docs)} (fixtures and bench home pages), {differing} with different meta lists")
    print(f"baseline ({BASELINE_COMMIT}): {before * 1e6:.1f} us per page")
    print(f"now:                {after * 1e6:.1f} us per page")
    print(f"ratio now / baseline: {after / before:.2f} ({(after - before) * 1e6:+.1f} us per home page)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
