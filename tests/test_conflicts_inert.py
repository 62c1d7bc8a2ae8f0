"""The lines detect.conflicts leaves out before protego and urllib.robotparser read a file change none of their answers.

Each parser is given the file's relevant groups whole and the same lines without the inert ones;
every agent parser_disagreements asks about (and one no group can name) must get the same answer
for both probe paths from both texts, and a parser that raises on one must raise on the other.
Pruned for every listed agent, every listed agent must.
"""

from __future__ import annotations

from pathlib import Path
from urllib.robotparser import RobotFileParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from protego import Protego

from optout_audit.agents import ai_agents
from optout_audit.detect import conflicts as module
from optout_audit.detect.robots import RobotsTxt

AGENTS = ai_agents()
NAMES = [agent.name for agent in AGENTS] + [module._NOBODY]
FIXTURES = Path(__file__).parent / "fixtures" / "robots"


def answers(text: str, names: list[str]) -> tuple:
    """Per parser: the answers of ``names`` for the probe paths, or the exception it raised parsing."""
    urls = [module._PROBE_HOST + path for path in module._PROBE_PATHS]
    try:
        protego = Protego.parse(text)
        by_protego = [protego.can_fetch(url, name) for name in names for url in urls]
    except Exception as exc:
        by_protego = type(exc)
    try:
        stdlib = RobotFileParser()
        stdlib.parse(text.splitlines())
        by_urllib = [stdlib.can_fetch(name, url) for name in names for url in urls]
    except Exception as exc:
        by_urllib = type(exc)
    return by_protego, by_urllib


def same_answers(text: str) -> tuple[int, int]:
    """Assert the parsers answer the agents detect.conflicts asks alike from both texts; (lines whole, lines pruned)."""
    robots = RobotsTxt.parse(text)
    asked = module._agents_to_compare(robots, AGENTS)
    whole = "\n".join(module._relevant_groups(robots, text, AGENTS)) + "\n"
    pruned = module._relevant_lines(robots, text, AGENTS, asked)
    names = [agent.name for agent in asked] + [module._NOBODY]
    assert answers(pruned, names) == answers(whole, names)
    # the pruned text holds every line that is not inert for every listed agent alike
    everyone = module._relevant_lines(robots, text, AGENTS, AGENTS)
    assert answers(everyone, NAMES) == answers(whole, NAMES)
    return whole.count("\n"), pruned.count("\n")


def test_real_files_get_the_same_answers_from_fewer_lines():
    files = sorted(FIXTURES.rglob("*.txt"))
    assert len(files) > 200
    lines_whole = lines_pruned = 0
    for path in files:
        whole, pruned = same_answers(module._decoded(path.read_bytes()))
        lines_whole += whole
        lines_pruned += pruned
    assert lines_pruned < lines_whole / 2  # the real files do hold long runs of inert lines


PATTERNS = [
    "/", "/s", "/some", "/some/", "/some/article-2026.html", "/some/article-2026.html$", "/x", "/x/", "/ab/c",
    "/index.html", "/in%64ex.html", "/x/index.html", "/index.htm", "/%2F[x", "//x", "//[x", "/%73ome", "/%",
    "/x%2", "/*", "/x*", "/*.html$", "/x$", "/$", "/s*e", "/so me", "/x?y", "/x;y", "/é", "/x\ud800", "/x\x85y",
    "/x\x0cy", "/x#y", "/x:y", "",
]  # fmt: skip
VALUES = [
    "*", "GPTBot", "gptbot", "GPT", "gpt*", "GPTBot/1.0", "Google", "Google-Extended", "bot", "Bot", "e", "ai",
    "CCBot", "ccbot crawler", "Mozilla/5.0 (compatible; GPTBot/1.0)", "%47PTBot", "Googlebot", "x:y", "Claude",
    "ClaudeBot", "Claude-Code", "anthropic-ai", "bingbot", "Spider", "TikTokSpider", "a b", "", "\u0130", "ı",
]  # fmt: skip
KEYS = ["Disallow: ", "Allow: ", "disallow:", " Disallow : ", "Disallow ", "User-agent: ", "user-agent:", "Useragent: "]
OTHERS = ["", "# note", "Crawl-delay: 5", "Sitemap: /s.xml", "Host: x", "Noindex: /x", "Content-Signal: ai-train=no"]

line = (
    st.tuples(st.sampled_from(KEYS[:5]), st.sampled_from(PATTERNS)).map("".join)
    | st.tuples(st.sampled_from(KEYS[5:]), st.sampled_from(VALUES) | st.text(max_size=8)).map("".join)
    | st.sampled_from(OTHERS)
    | st.text(max_size=12)
)


EDGES = [
    "User-agent: *\nDisallow: /\nAllow: /index.html\n",  # protego: "/" allowed again
    "User-agent: *\nDisallow: /x\nDisallow: //[x\n",  # urllib raises on the host "[x"
    "User-agent: *\nDisallow: /x\nDisallow: /%2F[x\n",
    "User-agent: GPTBot\nUser-agent: Foo\nCrawl-delay: 1\nUser-agent: Bar\nDisallow: /\n",
    "User-agent: GPTBot\nDisallow: /x\nUser-agent: Foo\nDisallow: /\n",
    "User-agent: *\nDisallow: /x\nDisallow: /some/article-2026.html$\nDisallow: /*.html\nDisallow: /s*e\n",
    "User-agent: *\nDisallow: /x\n\nDisallow: /\n",
]


@pytest.mark.parametrize("text", EDGES)
def test_edges_get_the_same_answers(text):
    same_answers(text)


@settings(max_examples=300, deadline=None)
@given(st.booleans(), st.lists(line, max_size=30), st.sampled_from(["\n", "\r\n", "\r"]))
def test_made_up_files_get_the_same_answers_from_fewer_lines(global_first, lines, newline):
    # Lines before any user-agent line belong to no group: most files start one.
    same_answers(newline.join((["User-agent: *"] if global_first else []) + lines))
