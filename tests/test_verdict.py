"""detect/verdict.py: evidence -> the domain verdict, as DESIGN.md "Per domain" defines it."""

from __future__ import annotations

import pytest

from optout_audit.agents import ai_agents, training_agents
from optout_audit.detect.aitxt import parse_aitxt
from optout_audit.detect.headers import parse_headers
from optout_audit.detect.html import crawler_names, parse_html_head
from optout_audit.detect.robots import RobotsTxt
from optout_audit.detect.tdmrep import parse_tdmrep
from optout_audit.detect.verdict import agent_results, domain_verdict, robots_evidence, unread_sources

AGENT_NAMES = crawler_names(ai_agents())


def read_head(body, encoding=None):
    return parse_html_head(body, encoding, agent_names=AGENT_NAMES)


TRAINING = frozenset(agent.name for agent in training_agents())


def verdict(robots=None, *, robots_read=True, answered=True, headers=None, head=None, tdmrep=None, aitxt=None,
            fetched=None):
    """``fetched``: the Fetch status of home/tdmrep/aitxt (default: each read as given)."""
    parsed = RobotsTxt.parse(robots) if robots is not None else None
    named, other = agent_results(parsed, ai_agents()) if robots_read else ([], None)
    return domain_verdict(
        site_answered=answered, robots_read=robots_read, named_agents=named, other_agents=other,
        training_agents=TRAINING,
        evidence=robots_evidence(parsed, ai_agents()) if parsed is not None and robots_read else None,
        headers=parse_headers(headers) if headers is not None else None,
        html=read_head(head.encode()) if head is not None else None,
        tdmrep=parse_tdmrep(tdmrep.encode()) if tdmrep is not None else None,
        aitxt=parse_aitxt(aitxt.encode()) if aitxt is not None else None,
        unread=unread_sources(fetched or {}),
    )


@pytest.mark.parametrize(
    ("kwargs", "answer", "signals"),
    [
        ({"robots": "User-agent: GPTBot\nDisallow: /\n"}, "yes", ["robots_training_agent_full"]),
        ({"robots": "User-agent: GPTBot\nDisallow: /a/\n"}, "partial", ["robots_training_agent_partial"]),
        # a search agent is not a training reservation
        ({"robots": "User-agent: OAI-SearchBot\nDisallow: /\n"}, "no", []),
        ({"robots": "User-agent: *\nDisallow: /\n"}, "yes", ["robots_blocks_all"]),
        ({"robots": "User-agent: *\nContent-Signal: ai-train=no\n"}, "yes", ["content_signal_ai_train_no"]),
        ({"robots": "User-agent: *\nContent-Signal: ai-train=yes\n"}, "no", []),
        ({"robots": "User-agent: *\nContent-Usage: train-ai=n\n"}, "yes", ["content_usage_train_ai_n"]),
        ({"robots": "", "headers": [("X-Robots-Tag", "noai")]}, "yes", ["noai"]),
        ({"robots": "", "head": '<meta name="robots" content="noimageai">'}, "yes", ["noimageai"]),
        ({"robots": "", "tdmrep": '[{"location": "/", "tdm-reservation": 1}]'}, "yes", ["tdm_reservation"]),
        ({"robots": "", "tdmrep": '[{"location": "/news/", "tdm-reservation": 1}]'}, "partial", ["tdmrep_partial"]),
        ({"robots": "", "aitxt": "User-Agent: *\nDisallow: /\n"}, "yes", ["ai_txt_disallow_all"]),
        ({"robots": "", "headers": [], "head": "<title>x</title>"}, "no", []),
        # robots.txt unreadable: nothing else says yes -> unknown, never no
        ({"robots_read": False}, "unknown", []),
        ({"robots_read": False, "headers": [("tdm-reservation", "1")]}, "yes", ["tdm_reservation"]),
        ({"robots_read": False, "answered": False}, "unknown", []),
    ],
)
def test_domain_verdict(kwargs, answer, signals):
    result = verdict(**kwargs)
    assert (result.reserves_ai_training, result.reservation_signals) == (answer, signals)


def test_page_not_read_leaves_noai_unknown():
    result = verdict("User-agent: *\nAllow: /\n")
    assert (result.noai, result.noimageai) == (None, None)
    assert verdict("", headers=[], head="<title>x</title>").noai is False


def test_blocks_all_is_unknown_when_robots_unread():
    assert verdict(robots_read=False).blocks_all_crawlers is None
    assert verdict("User-agent: *\nDisallow: /\n").blocks_all_crawlers is True


# -- path-scoped reservations outside agent groups (issue 17 class 4) --------------------------------


@pytest.mark.parametrize(
    ("robots", "answer", "signals"),
    [
        # Content-Usage with a path: a reservation for part of the site
        ("User-agent: *\nContent-Usage: /articles/ train-ai=n\n", "partial", ["content_usage_train_ai_n_partial"]),
        ("User-agent: *\nContent-Usage: /*.jpg$ train-ai=n\n", "partial", ["content_usage_train_ai_n_partial"]),
        # ... and with a pattern covering every path, site-wide
        ("User-agent: *\nContent-Usage: /* train-ai=n\n", "yes", ["content_usage_train_ai_n"]),
        ("User-agent: *\nContent-Usage: / train-ai=n\n", "yes", ["content_usage_train_ai_n"]),
        # attach-05's example: n everywhere but a longer path allowing it -> part of the site
        ("User-agent: *\nContent-Usage: train-ai=n\nContent-Usage: /ai-ok/ train-ai=y\n", "partial",
         ["content_usage_train_ai_n_partial"]),
        # the same path twice: the most restrictive preference wins (vocab 7.1)
        ("User-agent: *\nContent-Usage: /a/ train-ai=y\nContent-Usage: /a/ train-ai=n\n", "partial",
         ["content_usage_train_ai_n_partial"]),
        # a longer allowing path swallowed by a longer reserving one: still everywhere
        ("User-agent: *\nContent-Usage: train-ai=n\nContent-Usage: /ai-ok train-ai=y\n"
         "Content-Usage: /ai-ok* train-ai=n\n", "yes", ["content_usage_train_ai_n"]),
        # a reserving path that a longer allowing one covers entirely reserves nothing
        ("User-agent: *\nContent-Usage: /a train-ai=n\nContent-Usage: /a* train-ai=y\n", "no", []),
        ("User-agent: *\nContent-Usage: /articles/ train-ai=y\n", "no", []),
        ("User-agent: *\nContent-Usage: /articles/\n", "no", []),  # a bare path states nothing
        # DisallowAITraining: "/" and "/*" site-wide, another path part of the site
        ("User-agent: *\nDisallowAITraining: /\n", "yes", ["disallow_ai_training", "robots_blocks_all"]),
        ("User-agent: CCBot\nDisallowAITraining: /*\n", "yes", ["disallow_ai_training", "robots_training_agent_full"]),
        ("User-agent: Foo\nDisallowAITraining: /news/\n", "partial", ["disallow_ai_training_partial"]),
        ("User-agent: Foo\nDisallowAITraining: /\nAllowAITraining: /public/\n", "partial",
         ["disallow_ai_training_partial"]),
        # Allow wins a tie, as in robots.txt
        ("User-agent: Foo\nDisallowAITraining: /\nAllowAITraining: /\n", "no", []),
        ("User-agent: Foo\nDisallowAITraining:\n", "no", []),
    ],
)
def test_path_scoped_robots_lines(robots, answer, signals):
    result = verdict(robots)
    assert (result.reserves_ai_training, result.reservation_signals) == (answer, signals)


@pytest.mark.parametrize(
    ("aitxt", "answer", "signals"),
    [
        ("User-Agent: *\nDisallow: *.jpg\nDisallow: *.png\n", "partial", ["ai_txt_partial"]),
        ("User-Agent: *\nDisallow: /private/\n", "partial", ["ai_txt_partial"]),
        ("User-Agent: *\nDisallow: /*\n", "yes", ["ai_txt_disallow_all"]),
        ("User-Agent: *\nDisallow: /\n", "yes", ["ai_txt_disallow_all"]),
        ("User-Agent: *\nAllow: /\n", "no", []),
    ],
)
def test_aitxt_paths_and_file_types(aitxt, answer, signals):
    result = verdict("", aitxt=aitxt)
    assert (result.reserves_ai_training, result.reservation_signals) == (answer, signals)


# -- a failure is never "no" (issue 11) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("fetched", "answer", "unread"),
    [
        ({"home": "ok", "tdmrep": "ok", "aitxt": "ok"}, "no", []),
        # absent protocol files are read: a 404 says there is no file
        ({"home": "ok", "tdmrep": "missing", "aitxt": "missing"}, "no", []),
        ({"home": "ok", "tdmrep": "invalid", "aitxt": "invalid"}, "no", []),
        # the home page refused as too large: noai unknown, so not "no"
        ({"home": "too_large", "tdmrep": "missing", "aitxt": "missing"}, "unknown", ["home"]),
        ({"home": "missing", "tdmrep": "missing", "aitxt": "missing"}, "unknown", ["home"]),
        ({"home": "skipped", "tdmrep": "missing", "aitxt": "missing"}, "unknown", ["home"]),
        ({"home": "ok", "tdmrep": "timeout", "aitxt": "server_error"}, "unknown", ["tdmrep", "aitxt"]),
        ({"home": "ok", "tdmrep": "too_large", "aitxt": "ok"}, "unknown", ["tdmrep"]),
    ],
)
def test_no_only_when_every_source_was_read(fetched, answer, unread):
    result = verdict("User-agent: *\nAllow: /\n", headers=[], head="<title>x</title>", fetched=fetched)
    assert (result.reserves_ai_training, result.unread_sources) == (answer, unread)


def test_unread_sources_do_not_hide_a_reservation_read_elsewhere():
    fetched = {"home": "too_large", "tdmrep": "timeout", "aitxt": "ok"}
    assert verdict("User-agent: GPTBot\nDisallow: /\n", fetched=fetched).reserves_ai_training == "yes"
    partial = verdict("User-agent: GPTBot\nDisallow: /a/\n", fetched=fetched)
    assert (partial.reserves_ai_training, partial.unread_sources) == ("partial", ["home", "tdmrep"])


def test_unreadable_robots_is_an_unread_source():
    result = verdict(robots_read=False, fetched={"home": "skipped", "tdmrep": "missing", "aitxt": "missing"})
    assert (result.reserves_ai_training, result.unread_sources) == ("unknown", ["robots", "home"])
