"""detect/verdict.py: evidence -> the domain verdict, as DESIGN.md "Per domain" defines it."""

from __future__ import annotations

import pytest

from optout_audit.agents import ai_agents, training_agents
from optout_audit.detect.aitxt import parse_aitxt
from optout_audit.detect.headers import parse_headers
from optout_audit.detect.html import crawler_names, parse_html_head
from optout_audit.detect.robots import RobotsTxt
from optout_audit.detect.tdmrep import parse_tdmrep
from optout_audit.detect.verdict import agent_results, domain_verdict, robots_evidence

AGENT_NAMES = crawler_names(ai_agents())


def read_head(body, encoding=None):
    return parse_html_head(body, encoding, agent_names=AGENT_NAMES)


TRAINING = frozenset(agent.name for agent in training_agents())


def verdict(robots=None, *, robots_read=True, answered=True, headers=None, head=None, tdmrep=None, aitxt=None):
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
