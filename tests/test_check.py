"""``optout-audit check SITE``: each exit code against local-web sites, the advice, and what reaches the terminal."""

from __future__ import annotations

import json

import pytest
from crawling import optout_audit

from optout_audit.agents import ai_agents
from optout_audit.webfarm import Resource, Site, running_farm

TRAINING = [agent.name for agent in ai_agents() if agent.purpose == "training"]
ESCAPES = "\x1b[31mRED\x1b]0;pwned\x07\u202eevil\x9b2J"


def _site(host: str, robots: str, **resources: Resource) -> Site:
    return Site(
        host,
        {
            "/robots.txt": Resource.text(robots),
            "/": Resource.html("<html><head></head><body>hi</body></html>"),
            **{path: value for path, value in resources.items()},
        },
    )


SITES = [
    _site("closed.test", "User-agent: *\nDisallow: /\n"),
    _site(
        "names-training.test",
        "".join(f"User-agent: {name}\n" for name in TRAINING) + "Disallow: /\n\nUser-agent: *\nAllow: /\n",
    ),
    _site(
        "typo-too.test",
        "".join(f"User-agent: {name}\n" for name in TRAINING) + "Disallow: /\n\n"
        "User-agent: Claude-SearchBt\nDisallow: /\n",
    ),
    _site("google.test", "User-agent: Google\nDisallow: /\n"),
    _site(
        "search-only.test",
        "".join(f"User-agent: {a.name}\n" for a in ai_agents() if a.purpose in ("training", "user-triggered"))
        + "Disallow: /\n",
    ),
    _site("escapes.test", f"User-agent: *\nContent-Signal: ai-train=no{ESCAPES}\nAllow: /\n"),
]


@pytest.fixture(scope="module")
def farm():
    with running_farm(SITES) as running:
        yield running


def check(farm, site: str, *extra: str):
    return optout_audit("check", site, "--hosts-file", str(farm.hosts_file), "--timeout", "5", *extra, timeout=120)


def test_exit_0_when_robots_closes_every_training_agent(farm):
    done = check(farm, "closed.test")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Goal met." in done.stdout and "line 2: Disallow: /" in done.stdout


def test_exit_0_naming_every_training_agent_and_why_the_cut_names_do_not_count(farm):
    done = check(farm, "names-training.test")
    assert done.returncode == 0, done.stdout
    assert "Not counted:" in done.stdout and "AI2Bot" in done.stdout
    # the other signals are still advised
    assert '{"location": "/", "tdm-reservation": 1}' in done.stdout


def test_exit_1_with_advice_for_the_agents_still_let_in(farm):
    done = check(farm, "google.test")
    assert done.returncode == 1
    assert "Goal NOT met" in done.stdout and "silent_miss Google-Extended (line 1)" in done.stdout
    advice = done.stdout.split("Advice: add to robots.txt", 1)[1]
    assert "User-agent: Google-Extended" in advice and "User-agent: GPTBot" in advice and "Disallow: /" in advice
    assert '<meta name="robots" content="noai, noimageai">' in done.stdout


def test_exit_1_on_an_error_even_when_the_goal_holds(farm):
    done = check(farm, "typo-too.test")
    assert done.returncode == 1
    assert "error silent_miss Claude-SearchBot" in done.stdout and "severity error" in done.stdout


def test_goals_differ(farm):
    assert check(farm, "search-only.test", "--goal", "allow-search-only").returncode == 0
    assert check(farm, "search-only.test", "--goal", "block-ai").returncode == 1
    assert check(farm, "closed.test", "--goal", "allow-search-only").returncode == 1  # search agents shut out too


def test_json(farm):
    done = check(farm, "google.test", "--json")
    answer = json.loads(done.stdout)
    assert done.returncode == answer["exit_code"] == 1 and answer["goal_met"] is False
    assert "Google-Extended" in answer["classes"]["training"]["none"]
    assert "User-agent: Google-Extended" in answer["advice"]["robots.txt"]


def test_exit_1_when_the_site_cannot_be_reached(farm):
    done = check(farm, "not-in-hosts-file.test")
    assert done.returncode == 1 and "robots.txt could not be read" in done.stdout


@pytest.mark.parametrize("args", [["not a site"], ["ftp://x.test/"], ["x.test", "--goal", "be-nice"]])
def test_exit_2_on_usage_errors(farm, args):
    done = check(farm, *args)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "error:" in done.stderr.strip().splitlines()[-1]


def test_exit_2_without_the_hosts_file(tmp_path):
    done = optout_audit("check", "x.test", "--hosts-file", str(tmp_path / "missing"))
    assert done.returncode == 2 and "hosts file not found" in done.stderr


def test_site_escapes_never_reach_the_terminal(farm):
    done = check(farm, "escapes.test")
    assert "\x1b" not in done.stdout and "\u202e" not in done.stdout and "\x07" not in done.stdout
    assert "\x9b" not in done.stdout
    assert "\\x1b[31mRED\\x1b]0;pwned\\x07\\u202eevil\\x9b2J" in done.stdout
