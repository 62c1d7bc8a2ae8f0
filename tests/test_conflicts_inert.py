"""The lines detect.conflicts leaves out before protego and urllib.robotparser read a file change none of their answers.

Each parser is given the file's relevant groups whole and the same lines without the inert ones;
every listed agent (and one no group can name) must get the same answer for both probe paths from
both texts, and a parser that raises on one must raise on the other.
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


def answers(text: str) -> tuple:
    """Per parser: the answers of every name for the probe paths, or the exception it raised parsing."""
    urls = [module._PROBE_HOST + path for path in module._PROBE_PATHS]
    try:
        protego = Protego.parse(text)
        by_protego = [protego.can_fetch(url, name) for name in NAMES for url in urls]
    except Exception as exc:
        by_protego = type(exc)
    try:
        stdlib = RobotFileParser()
        stdlib.parse(text.splitlines())
        by_urllib = [stdlib.can_fetch(name, url) for name in NAMES for url in urls]
    except Exception as exc:
        by_urllib = type(exc)
    return by_protego, by_urllib


def whole_and_pruned(text: str) -> tuple[str, str]:
    robots = RobotsTxt.parse(text)
    whole = "\n".join(module._relevant_groups(robots, text, AGENTS)) + "\n"
    return whole, module._relevant_lines(robots, text, AGENTS)


def test_real_files_get_the_same_answers_from_fewer_lines():
    files = sorted(FIXTURES.rglob("*.txt"))
    assert len(files) > 200
    lines_whole = lines_pruned = 0
    for path in files:
        whole, pruned = whole_and_pruned(module._decoded(path.read_bytes()))
        lines_whole += whole.count("\n")
        lines_pruned += pruned.count("\n")
        assert answers(pruned) == answers(whole), path.name
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
    whole, pruned = whole_and_pruned(text)
    assert answers(pruned) == answers(whole)


@settings(max_examples=300, deadline=None)
@given(st.booleans(), st.lists(line, max_size=30), st.sampled_from(["\n", "\r\n", "\r"]))
def test_made_up_files_get_the_same_answers_from_fewer_lines(global_first, lines, newline):
    # Lines before any user-agent line belong to no group: most files start one.
    whole, pruned = whole_and_pruned(newline.join((["User-agent: *"] if global_first else []) + lines))
    assert answers(pruned) == answers(whole)
