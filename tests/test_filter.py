"""``optout-audit filter`` and ``open_run(...).allowed``: per-URL answers from a real crawl's archive."""

from __future__ import annotations

import csv

import pytest
from crawling import crawl, optout_audit

from optout_audit.archive import open_run
from optout_audit.webfarm import Resource, Site, running_farm

HTML = "<html><head><title>t</title></head><body>x</body></html>"
ROBOTS_PATHS = (
    "User-agent: GPTBot\nDisallow: /private/\nAllow: /private/open$\n\n"
    "User-agent: *\nAllow: /\nContent-Usage: /nodata/ train-ai=n\nContent-Usage: /nodata/ok/ train-ai=y\n"
)


def _site(host, robots="User-agent: *\nAllow: /\n", home_headers=(), **extra):
    resources = {"/robots.txt": Resource.text(robots), "/": Resource.html(HTML, headers=list(home_headers))}
    resources.update(extra)
    return Site(host, resources)


SITES = [
    _site("paths.test", ROBOTS_PATHS),
    _site(
        "tdm.test",
        **{
            "/.well-known/tdmrep.json": Resource.json(
                [{"location": "/reserved/", "tdm-reservation": 1}, {"location": "/", "tdm-reservation": 0}]
            )
        },
    ),
    _site("aitxt.test", **{"/ai.txt": Resource.text("User-agent: *\nDisallow: /images/\n")}),
    _site("noai.test", home_headers=[("X-Robots-Tag", "noai")]),
    _site("signal.test", "User-agent: *\nContent-Signal: search=yes, ai-train=no\nAllow: /\n"),
    Site("broken.test", {"/robots.txt": Resource.text("oops", status=503)}),
    _site("plain.test"),
]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    with running_farm(SITES) as farm:
        return crawl(
            farm, [f"https://{site.host}/" for site in SITES], tmp_path_factory.mktemp("filter") / "run"
        ).run_dir


@pytest.mark.parametrize(
    ("url", "agent", "allowed", "signal", "rule"),
    [
        # robots.txt path rules, per agent (longest match, Allow wins a tie; $ anchors)
        ("https://paths.test/private/x", "GPTBot", "false", "robots.txt", "Disallow: /private/ (line 2) "),
        ("https://paths.test/private/open", "GPTBot", "unknown", "page", ""),
        ("https://paths.test/private/x", "OAI-SearchBot", "true", "robots.txt", ""),  # search: robots.txt alone
        # robots.txt Content-Usage path rules (longest path decides)
        ("https://paths.test/nodata/a", "CCBot", "false", "content-usage", "Content-Usage: /nodata/ train-ai=n"),
        ("https://paths.test/nodata/ok/a", "CCBot", "unknown", "page", ""),
        ("https://paths.test/nodata/a", "OAI-SearchBot", "true", "robots.txt", ""),
        # tdmrep.json: the first matching entry
        ("https://tdm.test/reserved/page", "GPTBot", "false", "tdmrep.json", 'entry 0: location "/reserved/"'),
        ("https://tdm.test/", "GPTBot", "true", "robots.txt", ""),  # the home page: its own signals were read
        ("https://tdm.test/other", "GPTBot", "unknown", "page", ""),
        # ai.txt path rules
        ("https://aitxt.test/images/a.png", "GPTBot", "false", "ai.txt", "Disallow: /images/"),
        ("https://aitxt.test/", "GPTBot", "true", "robots.txt", ""),
        # site-wide: the home page's X-Robots-Tag, robots.txt's Content-Signal
        ("https://noai.test/any/page", "GPTBot", "false", "site-wide", "noai"),
        ("https://signal.test/any", "GPTBot", "false", "content-signal", "ai-train=no"),
        ("https://signal.test/any", "OAI-SearchBot", "true", "robots.txt", ""),
        # what could not be read is unknown, never allowed
        ("https://broken.test/", "OAI-SearchBot", "unknown", "robots.txt", "server_error"),
        ("https://elsewhere.test/", "GPTBot", "unknown", "run", "not audited"),
        ("mailto:x@plain.test", "GPTBot", "unknown", "input", ""),
        ("https://plain.test/", "GPTBot", "true", "robots.txt", ""),
        ("https://plain.test/article", "MyOwnBot", "unknown", "page", ""),  # an agent we do not know: as for training
    ],
)
def test_allowed_follows_the_archived_rules(run_dir, url, agent, allowed, signal, rule):
    run = open_run(run_dir)
    answer = run.allowed(url, agent)
    assert (answer.allowed, answer.signal) == (allowed, signal), answer
    assert rule in answer.rule + " "
    assert bool(answer) is (allowed == "true")


def test_every_false_names_the_record_it_was_read_from(run_dir):
    run = open_run(run_dir)
    rows = {row["record_id"]: row for row in csv.DictReader((run_dir / "evidence.csv").open(newline=""))}
    for url, document in (
        ("https://paths.test/private/x", "robots"),
        ("https://tdm.test/reserved/a", "tdmrep"),
        ("https://aitxt.test/images/a", "aitxt"),
        ("https://noai.test/x", "home"),
    ):
        answer = run.allowed(url, "GPTBot")
        row = rows[answer.record_id]
        assert (answer.allowed, row["domain"], row["document"]) == ("false", url.split("/")[2], document)


def test_a_purpose_checks_every_training_agent_the_file_names(run_dir):
    run = open_run(run_dir)
    answer = run.allowed("https://paths.test/private/x", purpose="training")
    assert (answer.allowed, answer.rule) == ("false", "Disallow: /private/ (line 2) for GPTBot")
    assert run.allowed("https://paths.test/", purpose="training").allowed == "true"
    assert run.allowed("https://paths.test/private/x", purpose="search").allowed == "true"


def test_the_filter_command_writes_permissions_csv(run_dir, tmp_path):
    urls = tmp_path / "urls.txt"
    urls.write_text("# a comment\nhttps://paths.test/private/x\n\nhttps://plain.test/\nhttps://plain.test/a\n")
    out = tmp_path / "permissions.csv"
    completed = optout_audit("filter", str(run_dir), str(urls), "--agent", "GPTBot", "--out", str(out))
    assert completed.returncode == 0, completed.stderr
    rows = list(csv.DictReader(out.open(newline="")))
    assert list(rows[0]) == ["url", "agent", "allowed", "signal", "rule", "record_id"]
    assert [(r["url"], r["agent"], r["allowed"]) for r in rows] == [
        ("https://paths.test/private/x", "GPTBot", "false"),
        ("https://plain.test/", "GPTBot", "true"),
        ("https://plain.test/a", "GPTBot", "unknown"),
    ]
    assert "1 allowed, 1 not allowed, 1 unknown" in completed.stdout


def test_filter_usage_errors(run_dir, tmp_path):
    completed = optout_audit("filter", str(run_dir), str(tmp_path / "missing.txt"), "--agent", "GPTBot")
    assert completed.returncode == 2 and "URL list not found" in completed.stderr
    completed = optout_audit("filter", str(run_dir), str(tmp_path / "missing.txt"))
    assert completed.returncode == 2 and "--agent" in completed.stderr


def test_the_prefix_index_decides_as_robots_txt_does():
    """AgentRules (filter's fast path) against RobotsTxt.decide on the robots.txt corpus."""
    import random
    from pathlib import Path

    from optout_audit.archive.matcher import UNNAMED, AgentRules
    from optout_audit.detect.robots import RobotsTxt, path_of

    rng = random.Random(7)
    files = sorted(Path(__file__).parent.joinpath("fixtures", "robots").rglob("*.robots.txt"))
    assert len(files) > 100
    checked = disallowed = 0
    for path in files:
        robots = RobotsTxt.parse(path.read_bytes())
        patterns = [rule.pattern.decode("latin-1") for group in robots.groups for rule in group.rules]
        urls = ["/", "/index.html", "/a/b?c=d", "/search", "/%E2%82%AC/x"]
        for pattern in rng.sample(patterns, min(25, len(patterns))):
            literal = pattern.replace("*", "x").rstrip("$")
            urls += [literal, literal + "/more.html", literal[:-1], "/x" + literal]
        for agent in ("GPTBot", "CCBot", "Googlebot", "optout-audit", UNNAMED):
            view = AgentRules(robots, agent)
            for url in urls:
                target = path_of("https://x.test" + (url if url.startswith("/") else "/" + url))
                decision = robots.decide(target, "*" if agent == UNNAMED else agent)
                rule = view.disallowed_by(target)
                assert (rule is None) == decision.allowed, (path.name, agent, url)
                assert rule is None or rule is decision.rule
                checked += 1
                disallowed += rule is not None
    assert checked > 20_000 and disallowed > 2_000
