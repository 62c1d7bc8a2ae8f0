"""find_conflicts gives, on every case it was recorded on, exactly the conflicts it gave before it was made faster.

``tests/test_conflicts_reference.json`` holds inputs and the outputs of ``find_conflicts`` as the
code of main at commit 7d78c7e (before the speed-up) computed them, written by this module run as a
script on that commit::

    .venv/bin/python tests/test_conflicts_reference.py --write

The cases: every robots.txt of ``tests/fixtures/robots`` and of the local web's demo, the
hand-made robots.txt of tests/test_conflicts.py, the sites of tests/test_conflicts_crawl.py (robots.txt,
headers, home page, tdmrep.json, ai.txt; parsed as the crawl's record parses them) and
:data:`SYNTHETIC_FILES` robots.txt files made by a seeded generator from lines chosen to sit on the
edges of the parsers (substring names, wildcards, escapes, runs broken by non-rule lines, blank
lines, characters ``str.splitlines`` breaks at). The generated texts are stored in the JSON, so the
reference does not depend on the generator staying the same. The agent list is stored as well:
a newer bundled list does not move the reference.

Regenerate only from code whose answers are known right; a change of an answer shows here first.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest

from optout_audit.agents import Agent
from optout_audit.detect.aitxt import parse_aitxt
from optout_audit.detect.conflicts import find_conflicts
from optout_audit.detect.headers import parse_headers
from optout_audit.detect.html import crawler_names, parse_html_head
from optout_audit.detect.robots import RobotsTxt
from optout_audit.detect.tdmrep import parse_tdmrep

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = Path(__file__).with_suffix(".json")
SYNTHETIC_FILES = 250

HAND_MADE = [
    "",
    "User-agent: *\nAllow: /\n",
    "User-agent: *\nDisallow: /cgi-bin/\nDisallow: /tmp/\n\nSitemap: https://example.com/sitemap.xml\n",
    "User-agent: Googlebot\nUser-agent: Googlebot-Image\nUser-agent: bingbot\nUser-agent: SemrushBot\n"
    "Disallow: /private/\n\nUser-agent: *\nDisallow: /private/\n",
    "User-agent: *\nDisallow: /\n",
    "User-agent: Google\nDisallow: /\n",
    "User-agent: Applebot\nDisallow: /\n",
    "User-agent: GPT-Bot\nDisallow: /\n",
    "User-agent: ClaudBot\nDisallow: /\n",
    "User-agent: AnthropicAI\nDisallow: /\n",
    "User-agent: AI2Bot\nDisallow: /\n",
    "User-agent: Anthropic-AI\nDisallow: /\n",
    "User-agent: GPT-Bot\nUser-agent: GPTBot\nDisallow: /\n",
    "User-agent: *\nDisallow: /\n\nUser-agent: ClaudBot\nDisallow: /\n",
    "User-agent: Applebot\nDisallow: /\n\nUser-agent: Applebot-Extended\nDisallow: /\n",
    "# header\nUser-agent: GPTBot\n\nUser-agent: CCBot\n# note\nUser-agent: ClaudBot\nDisallow: /\n",
    "User-agent: *\nDisallow: /*.html\nAllow: /\n",
    "User-agent: GPTBot\nContent-Usage: train-ai=n\nUser-agent: CCBot\nDisallow: /\n",
    "User-Agent: *\nContent-Signal: search=yes, ai-train=no\nAllow: /\n",
    "User-Agent: *\nContent-Signal: ai-train=no\nDisallow: /\n",
    "User-agent: *\nDisallow: /\nContent-Usage: train-ai=y\n",
    "User-agent: OAI-SearchBot\nDisallow: /\n",
    "User-agent: GPTBot/1.0\nDisallow: /\n",
    "User-agent: GPTBot\nSitemap: https://x.test/s.xml\nUser-agent: CCBot\nDisallow: /\n",
    "User-agent: Spider\nDisallow: /a/\n\nUser-agent: TikTokSpider\nDisallow: /\n",
    "User-agent: GPTBot\nDisallow: /x\n\nUser-agent: *\nDisallow: /\n\nUser-agent: GPTBot\nDisallow: /\n",
    "User-agent: *\nDisallow: /*.html$\n\nUser-agent: ClaudeBot\nUser-agent: CCBot\nDisallow: /some/\nAllow: /\n",
    "User-agent: Code\nDisallow: /\n\nUser-agent: Claude-Code\nAllow: /\n",
    "\x00\xff" * 100,
    "User-agent: \u202e\nDisallow: /\x00",
    "User-agent:\n" * 500,
    "\ufeffUser-agent: Google\nDisallow: /",
]

# Lines the synthetic files are made of: each parser's edges (see detect/conflicts.py).
_AGENT_VALUES = [
    "*",
    "* ",
    "**",
    "GPTBot",
    "gptbot",
    "GPT*",
    "GPTBot/1.0",
    "GPT-Bot",
    "Google",
    "Google-Extended",
    "Applebot",
    "Applebot-Extended",
    "ClaudBot",
    "ClaudeBot",
    "Claude",
    "AI2Bot",
    "AI2Bot/1.0",
    "AI",
    "bot",
    "Bot",
    "Spider",
    "TikTokSpider",
    "CCBot",
    "ccbot crawler",
    "Mozilla/5.0 (compatible; GPTBot/1.0)",
    "Googlebot",
    "bingbot",
    "BSpider",
    "%47PTBot",
    "anthropic-ai",
    "Anthropic-AI",
    "PerplexityBot",
    "Perplexity",
    "Bytespider",
    "img2dataset",
    "ChatGPT Agent",
    "ChatGPT",
    "Meta-ExternalAgent",
    "meta",
    "OAI-SearchBot",
    "Ex",
    "e",
    "Image Fetch",
    "Code",
    "Claude-Code",
    "iaskspider/2.0",
    "iaskspider",
]
_PATTERNS = [
    "/",
    "/some",
    "/some/",
    "/some/article-2026.html",
    "/some/article",
    "/x",
    "/x/",
    "/a/b",
    "/index.html",
    "/some/index.html",
    "/*.html",
    "/*.html$",
    "/$",
    "/some$",
    "*",
    "/*",
    "/%73ome",
    "/Some",
    "/so me",
    "some",
    "//some",
    "/some/article-2026.html$",
    "/some;x",
    "/some?q",
    "/s*e/",
    "/%2A",
    "/é",
    "",
]
_OTHER_LINES = [
    "",
    "",
    "",
    "# comment",
    "Sitemap: https://x.test/s.xml",
    "Crawl-delay: 5",
    "Noindex: /x",
    "Content-Signal: ai-train=no",
    "Content-Usage: train-ai=y",
    "Host: x.test",
    "Request-rate: 1/5",
    "Disallow /x",
    "Disallow /",
    "disalow: /",
    "Useragent: GPTBot",
    "User agent: ClaudeBot",
    "user-agents: CCBot",
    "DisallowAITraining: /",
    "   ",
    "\x0c",
    "Allow: /some/\x0c",
    "\t# tab",
]


def synthetic_robots(seed: int) -> str:
    """A robots.txt of a few groups made of :data:`_AGENT_VALUES`, :data:`_PATTERNS` and :data:`_OTHER_LINES`."""
    rng = random.Random(seed)
    lines: list[str] = []
    for _ in range(rng.randint(1, 5)):
        for _ in range(rng.randint(1, 4)):
            lines.append(f"{rng.choice(['User-agent', 'user-agent', 'User-Agent'])}: {rng.choice(_AGENT_VALUES)}")
            if rng.random() < 0.15:
                lines.append(rng.choice(_OTHER_LINES))
        for _ in range(rng.randint(0, 6)):
            roll = rng.random()
            if roll < 0.7:
                lines.append(f"{rng.choice(['Disallow', 'Allow', 'disallow'])}: {rng.choice(_PATTERNS)}")
            else:
                lines.append(rng.choice(_OTHER_LINES))
        if rng.random() < 0.6:
            lines.append("")
    return rng.choice(["\n", "\r\n", "\n"]).join(lines) + "\n"


def _crawl_sites() -> list[dict]:
    """The sites of tests/test_conflicts_crawl.py, as the record reads them."""
    from test_conflicts_crawl import SITES

    sites = []
    for site in SITES:
        robots = site.resources["/robots.txt"]
        home = site.resources["/"]
        entry = {
            "name": f"crawl:{site.host}",
            "robots": robots.body.decode("utf-8") if robots.status == 200 else None,
            "headers": [list(pair) for pair in home.headers],
            "home": home.body.decode("utf-8"),
        }
        for key, path in (("tdmrep", "/.well-known/tdmrep.json"), ("aitxt", "/ai.txt")):
            if path in site.resources:
                entry[key] = site.resources[path].body.decode("utf-8")
        sites.append(entry)
    return sites


def _inputs() -> list[dict]:
    cases = []
    files = sorted((ROOT / "tests" / "fixtures" / "robots").rglob("*.txt"))
    files += sorted((ROOT / "optout_audit" / "webfarm" / "demo").glob("*robots*.txt"))
    for path in files:
        cases.append({"name": f"file:{path.relative_to(ROOT).as_posix()}", "file": path.relative_to(ROOT).as_posix()})
    cases += [{"name": f"hand:{number}", "robots": text} for number, text in enumerate(HAND_MADE)]
    cases += _crawl_sites()
    cases += [{"name": f"synthetic:{seed}", "robots": synthetic_robots(seed)} for seed in range(SYNTHETIC_FILES)]
    cases.append({"name": "unreadable", "robots": None, "rules_known": False, "aitxt": "User-Agent: *\nDisallow: /\n"})
    return cases


def _conflicts(case: dict, agents: tuple[Agent, ...]) -> list[list]:
    """``find_conflicts`` on the case's inputs, each row as [kind, severity, agent, signal, detail, line]."""
    if "file" in case:
        body: bytes | None = (ROOT / case["file"]).read_bytes()
    else:
        body = case["robots"].encode("utf-8", "surrogatepass") if case["robots"] is not None else None
    html = None
    if "home" in case:
        html = parse_html_head(case["home"].encode("utf-8"), "utf-8", agent_names=crawler_names(agents))
    found = find_conflicts(
        RobotsTxt.parse(body) if body is not None else None,
        agents,
        robots_text=body,
        rules_known=case.get("rules_known", True),
        headers=parse_headers([tuple(pair) for pair in case["headers"]]) if "headers" in case else None,
        html=html,
        tdmrep=parse_tdmrep(case["tdmrep"].encode("utf-8")) if "tdmrep" in case else None,
        aitxt=parse_aitxt(case["aitxt"].encode("utf-8")) if "aitxt" in case else None,
    )
    return [list(conflict.to_dict().values()) for conflict in found]


def _stored_agents(reference: dict) -> tuple[Agent, ...]:
    return tuple(Agent(**agent) for agent in reference["agents"])


def _write() -> None:
    import subprocess
    from dataclasses import asdict

    from optout_audit.agents import ai_agents

    agents = ai_agents()
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    cases = [{**case, "conflicts": _conflicts(case, agents)} for case in _inputs()]
    # One case a line: a changed answer shows as a changed line in a diff.
    lines = ",\n".join(json.dumps(case, ensure_ascii=True) for case in cases)
    head = json.dumps({"commit": commit, "agents": [asdict(agent) for agent in agents]}, ensure_ascii=True)[:-1]
    REFERENCE.write_text(f'{head}, "cases": [\n{lines}\n]}}\n', "utf-8")
    print(f"{len(cases)} cases, {sum(len(c['conflicts']) for c in cases)} conflicts -> {REFERENCE}")


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads(REFERENCE.read_text("utf-8"))


def test_the_reference_covers_the_real_files_and_finds_every_kind(reference):
    cases = reference["cases"]
    assert sum(1 for case in cases if case["name"].startswith("file:tests/fixtures/robots/")) > 200
    assert sum(1 for case in cases if case["name"].startswith("synthetic:")) == SYNTHETIC_FILES
    kinds = {conflict[0] for case in cases for conflict in case["conflicts"]}
    assert kinds == {"silent_miss", "parsers_disagree", "signals_contradict", "split_by_purpose"}


def test_every_case_gives_the_recorded_conflicts(reference):
    agents = _stored_agents(reference)
    differing = [case["name"] for case in reference["cases"] if _conflicts(case, agents) != case["conflicts"]]
    assert differing == []


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/test_conflicts_reference.py --write")
    sys.path.insert(0, str(Path(__file__).parent))
    _write()
