"""detect.conflicts: each kind of conflict found on a robots.txt / evidence made for it, nothing on clean ones."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from optout_audit.agents import ai_agents
from optout_audit.detect.aitxt import parse_aitxt
from optout_audit.detect.conflicts import CONFLICT_KINDS, find_conflicts, operator_key
from optout_audit.detect.headers import parse_headers
from optout_audit.detect.html import parse_html_head
from optout_audit.detect.robots import RobotsTxt
from optout_audit.detect.tdmrep import parse_tdmrep

AGENTS = ai_agents()
DEMO = Path(__file__).parents[1] / "optout_audit" / "webfarm" / "demo"


def conflicts(robots_text: str | None, **evidence):
    robots = RobotsTxt.parse(robots_text) if robots_text is not None else None
    return find_conflicts(robots, AGENTS, robots_text=robots_text, **evidence)


def of_kind(found, kind):
    return [c for c in found if c.kind == kind]


CLEAN = [
    "",
    "User-agent: *\nAllow: /\n",
    "User-agent: *\nDisallow: /cgi-bin/\nDisallow: /tmp/\n\nSitemap: https://example.com/sitemap.xml\n",
    # search-engine groups that look like AI names (Googlebot-Image is 0.88 from GoogleOther-Image)
    "User-agent: Googlebot\nUser-agent: Googlebot-Image\nUser-agent: bingbot\nUser-agent: SemrushBot\n"
    "Disallow: /private/\n\nUser-agent: *\nDisallow: /private/\n",
    "User-agent: *\nDisallow: /\n",  # everything closed: one answer for everybody
]


@pytest.mark.parametrize("text", CLEAN)
def test_clean_robots_have_no_conflicts(text):
    assert conflicts(text) == []


def test_no_robots_file_and_nothing_else_is_clean():
    assert find_conflicts(None, AGENTS) == []


@pytest.mark.parametrize(
    ("text", "agent", "how"),
    [
        ("User-agent: Google\nDisallow: /\n", "Google-Extended", "prefix"),
        ("User-agent: Applebot\nDisallow: /\n", "Applebot-Extended", "extended"),
        ("User-agent: GPT-Bot\nDisallow: /\n", "GPTBot", "near-miss"),
        ("User-agent: ClaudBot\nDisallow: /\n", "ClaudeBot", "near-miss"),
        ("User-agent: AnthropicAI\nDisallow: /\n", "anthropic-ai", "near-miss"),
        ("User-agent: AI2Bot\nDisallow: /\n", "AI2Bot", "cut to 'AI'"),
    ],
)
def test_silent_misses(text, agent, how):
    misses = of_kind(conflicts(text), "silent_miss")
    assert [c.agent for c in misses] == [agent]
    assert misses[0].severity == "error" and misses[0].line == 1 and how in misses[0].detail


def test_case_only_difference_is_no_miss():
    # RFC 9309 matches case-insensitively: Anthropic-AI names anthropic-ai
    assert of_kind(conflicts("User-agent: Anthropic-AI\nDisallow: /\n"), "silent_miss") == []


def test_a_miss_that_changes_nothing_is_not_reported():
    named_too = "User-agent: GPT-Bot\nUser-agent: GPTBot\nDisallow: /\n"
    closed_anyway = "User-agent: *\nDisallow: /\n\nUser-agent: ClaudBot\nDisallow: /\n"
    extended_named = "User-agent: Applebot\nDisallow: /\n\nUser-agent: Applebot-Extended\nDisallow: /\n"
    for text in (named_too, closed_anyway, extended_named):
        assert of_kind(conflicts(text), "silent_miss") == [], text


def test_the_line_is_the_user_agent_line_of_the_miss():
    text = "# header\nUser-agent: GPTBot\n\nUser-agent: CCBot\n# note\nUser-agent: ClaudBot\nDisallow: /\n"
    (miss,) = of_kind(conflicts(text), "silent_miss")
    assert (miss.agent, miss.line) == ("ClaudeBot", 6)


def test_ai_robots_list_cut_names_are_the_ones_outside_the_token_grammar():
    text = (DEMO / "ai.robots.txt").read_text("utf-8")
    cut = {c.agent for c in of_kind(conflicts(text), "silent_miss")}
    assert {"AI2Bot", "Crawl4AI", "img2dataset", "ChatGPT Agent"} <= cut
    # a version after "/" or a space leaves a listed name: no miss
    assert not cut & {"GPTBot", "MistralAI-User/1.0", "iaskspider/2.0", "Brightbot 1.0"}


def test_parsers_disagree_on_substring_names():
    found = of_kind(conflicts("User-agent: Google\nDisallow: /\n"), "parsers_disagree")
    extended = next(c for c in found if c.agent == "Google-Extended")
    assert extended.severity == "warning"
    assert "Google's parser (ours): none" in extended.detail and "protego (Scrapy): full" in extended.detail
    assert "urllib.robotparser: full" in extended.detail
    assert "GPTBot" not in {c.agent for c in found}


def test_parsers_disagree_on_rules_for_unnamed_agents():
    # urllib.robotparser knows no wildcards and takes the first matching rule, not the longest
    text = "User-agent: *\nDisallow: /*.html\nAllow: /\n"
    (row,) = of_kind(conflicts(text), "parsers_disagree")
    assert row.agent == "*" and "urllib.robotparser: none" in row.detail and "(ours): partial" in row.detail


def test_parsers_disagree_on_a_line_protego_reads_as_a_group_end():
    # protego ends a run of user-agent lines at any non-rule line (docs/signals.md); Google does not
    text = "User-agent: GPTBot\nContent-Usage: train-ai=n\nUser-agent: CCBot\nDisallow: /\n"
    found = {c.agent: c for c in of_kind(conflicts(text), "parsers_disagree")}
    assert "protego (Scrapy): none" in found["GPTBot"].detail
    assert "CCBot" not in found


def test_tdmrep_techniques_contradict():
    tdmrep = parse_tdmrep(b'[{"location": "/", "tdm-reservation": 0}]')
    headers = parse_headers([("tdm-reservation", "1")])
    (row,) = of_kind(conflicts(None, tdmrep=tdmrep, headers=headers), "signals_contradict")
    assert row.signal == "tdm_reservation" and "tdmrep.json entry 0: 0" in row.detail and "header: 1" in row.detail
    html = parse_html_head(b'<head><meta name="tdm-reservation" content="1"></head>', agent_names=frozenset())
    assert of_kind(conflicts(None, headers=headers, html=html), "signals_contradict") == []  # they agree


def test_content_signal_against_open_robots():
    text = "User-Agent: *\nContent-Signal: search=yes, ai-train=no\nAllow: /\n"
    (row,) = of_kind(conflicts(text), "signals_contradict")
    assert row.signal == "content_signal" and row.line == 2
    # the same line beside a robots.txt that keeps training agents out is consistent
    blocked = "User-Agent: *\nContent-Signal: ai-train=no\nDisallow: /\n"
    assert of_kind(conflicts(blocked), "signals_contradict") == []


def test_content_usage_yes_against_closed_robots_and_header_no_against_open():
    closed = "User-agent: *\nDisallow: /\nContent-Usage: train-ai=y\n"
    assert [c.signal for c in of_kind(conflicts(closed), "signals_contradict")] == ["content_usage"]
    header = parse_headers([("Content-Usage", "train-ai=n")])
    (row,) = of_kind(conflicts("User-agent: *\nAllow: /\n", headers=header), "signals_contradict")
    assert row.signal == "content_usage" and row.line is None


def test_aitxt_against_robots():
    aitxt = parse_aitxt(b"User-Agent: *\nDisallow: /\n")
    (row,) = of_kind(conflicts("User-agent: *\nAllow: /\n", aitxt=aitxt), "signals_contradict")
    assert row.signal == "ai_txt"
    assert of_kind(conflicts("User-agent: *\nDisallow: /\n", aitxt=aitxt), "signals_contradict") == []


def test_nothing_is_concluded_from_an_unreadable_robots_txt():
    aitxt = parse_aitxt(b"User-Agent: *\nDisallow: /\n")
    assert find_conflicts(None, AGENTS, rules_known=False, aitxt=aitxt) == []


def test_split_by_purpose_both_ways():
    (row,) = of_kind(conflicts("User-agent: GPTBot\nDisallow: /\n"), "split_by_purpose")
    assert row.severity == "info" and row.agent == "GPTBot" and "OAI-SearchBot (search)" in row.detail
    (reverse,) = of_kind(conflicts("User-agent: OAI-SearchBot\nDisallow: /\n"), "split_by_purpose")
    assert reverse.agent == "OAI-SearchBot" and "GPTBot (training)" in reverse.detail


def test_operator_names_compare_across_spellings():
    assert operator_key("[OpenAI](https://openai.com)") == operator_key("OpenAI") == "openai"
    assert operator_key("Unclear at this time.") == ""
    assert operator_key("Meta/Facebook") == operator_key("[Meta](https://developers.facebook.com)") == "meta"


@pytest.mark.parametrize(
    "text",
    [
        "\x00\xff" * 100,
        "User-agent: \u202e\nDisallow: /\x00",
        "User-agent:\n" * 500,
        "\ufeffUser-agent: Google\nDisallow: /",
    ],
)
def test_never_raises(text):
    for found in conflicts(text):
        assert found.severity == CONFLICT_KINDS[found.kind]


def test_module_stays_pure():
    code = (
        "import sys, optout_audit.detect.conflicts; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('scrapy', 'twisted', 'aiohttp', 'pandas')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


SHORTCUT_CASES = [
    (DEMO / "ai.robots.txt").read_text("utf-8"),
    "User-agent: Google\nDisallow: /\n",
    "User-agent: GPTBot/1.0\nDisallow: /\n",
    "User-agent: GPTBot\nSitemap: https://x.test/s.xml\nUser-agent: CCBot\nDisallow: /\n",
    "User-agent: Spider\nDisallow: /a/\n\nUser-agent: TikTokSpider\nDisallow: /\n",
    "User-agent: GPTBot\nDisallow: /x\n\nUser-agent: *\nDisallow: /\n\nUser-agent: GPTBot\nDisallow: /\n",
    "User-agent: *\nDisallow: /*.html$\n\nUser-agent: ClaudeBot\nUser-agent: CCBot\nDisallow: /some/\nAllow: /\n",
    "User-agent: Code\nDisallow: /\n\nUser-agent: Claude-Code\nAllow: /\n",
]


@pytest.mark.parametrize("text", SHORTCUT_CASES)
def test_comparing_a_representative_per_group_finds_what_asking_every_agent_finds(text, monkeypatch):
    from optout_audit.detect import conflicts as module

    robots = RobotsTxt.parse(text)
    quick = module.parser_disagreements(robots, text, AGENTS)
    monkeypatch.setattr(module, "_agents_to_compare", lambda robots, agents: list(agents))
    every = {(c.agent, c.detail) for c in module.parser_disagreements(robots, text, AGENTS) if c.agent != "*"}
    # the "*" row stands for every agent no group names and no value bleeds into
    expanded = {(c.agent, c.detail) for c in quick if c.agent != "*"}
    for row in quick:
        if row.agent == "*":
            detail = row.detail.removeprefix("agents no group names: ")
            expanded |= {
                (a.name, detail)
                for a in AGENTS
                if not robots.is_named(a.name) and a.name not in {c.agent for c in quick}
            }
    assert expanded == every


def test_real_robots_files_give_no_false_silent_misses():
    """The 233 real robots.txt files of tests/fixtures/robots hold block lists of old crawlers
    ("Image Fetch", "BSpider", "Mozilla/4.0 (compatible; ...)", "SemrushBot-SA"): none of them is a
    misspelling of an AI agent. What is found is names strict parsers cut, and Applebot without
    Applebot-Extended."""
    files = [p for p in (Path(__file__).parent / "fixtures" / "robots").rglob("*.txt") if p.is_file()]
    assert len(files) > 200
    found = []
    for path in files:
        body = path.read_bytes()
        found += [
            (path.name, c)
            for c in find_conflicts(RobotsTxt.parse(body), AGENTS, robots_text=body)
            if c.kind == "silent_miss"
        ]
    assert found
    for name, conflict in found:
        assert " is cut to " in conflict.detail or conflict.agent == "Applebot-Extended", (name, conflict)


def test_never_raises_on_any_bytes():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    lines = st.sampled_from(
        [
            "User-agent: ",
            "Disallow: ",
            "Allow: ",
            "Content-Signal: ",
            "Content-Usage: ",
            "Sitemap: ",
            "",
            "#",
            "*",
            "\ufeff",
        ]
    )
    words = st.text(max_size=30) | st.sampled_from(["GPTBot", "Google", "GPT-Bot", "AI2Bot", "*", "/", "/*.html$"])

    @settings(max_examples=150, deadline=None)
    @given(st.lists(st.tuples(lines, words), max_size=25), st.binary(max_size=60))
    def check(pairs, noise):
        body = "\n".join(key + value for key, value in pairs).encode("utf-8", "surrogatepass") + noise
        for found in find_conflicts(RobotsTxt.parse(body), AGENTS, robots_text=body):
            assert found.severity == CONFLICT_KINDS[found.kind]

    check()
