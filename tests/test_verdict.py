"""detect/verdict.py: evidence -> the domain verdict, as README "Verdict semantics" defines it."""

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


def verdict(
    robots=None, *, robots_read=True, answered=True, headers=None, head=None, tdmrep=None, aitxt=None, fetched=None
):
    """``fetched``: the Fetch status of home/tdmrep/aitxt (default: each read as given)."""
    parsed = RobotsTxt.parse(robots) if robots is not None else None
    named, other = agent_results(parsed, ai_agents()) if robots_read else ([], None)
    return domain_verdict(
        site_answered=answered,
        robots_read=robots_read,
        named_agents=named,
        other_agents=other,
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
        (
            "User-agent: *\nContent-Usage: train-ai=n\nContent-Usage: /ai-ok/ train-ai=y\n",
            "partial",
            ["content_usage_train_ai_n_partial"],
        ),
        # the same path twice: the most restrictive preference wins (vocab 7.1)
        (
            "User-agent: *\nContent-Usage: /a/ train-ai=y\nContent-Usage: /a/ train-ai=n\n",
            "partial",
            ["content_usage_train_ai_n_partial"],
        ),
        # a longer allowing path swallowed by a longer reserving one: still everywhere
        (
            "User-agent: *\nContent-Usage: train-ai=n\nContent-Usage: /ai-ok train-ai=y\n"
            "Content-Usage: /ai-ok* train-ai=n\n",
            "yes",
            ["content_usage_train_ai_n"],
        ),
        # a reserving path that a longer allowing one covers entirely reserves nothing
        ("User-agent: *\nContent-Usage: /a train-ai=n\nContent-Usage: /a* train-ai=y\n", "no", []),
        ("User-agent: *\nContent-Usage: /articles/ train-ai=y\n", "no", []),
        ("User-agent: *\nContent-Usage: /articles/\n", "no", []),  # a bare path states nothing
        # DisallowAITraining: "/" and "/*" site-wide, another path part of the site
        ("User-agent: *\nDisallowAITraining: /\n", "yes", ["disallow_ai_training", "robots_blocks_all"]),
        ("User-agent: CCBot\nDisallowAITraining: /*\n", "yes", ["disallow_ai_training", "robots_training_agent_full"]),
        ("User-agent: Foo\nDisallowAITraining: /news/\n", "partial", ["disallow_ai_training_partial"]),
        (
            "User-agent: Foo\nDisallowAITraining: /\nAllowAITraining: /public/\n",
            "partial",
            ["disallow_ai_training_partial"],
        ),
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


# -- issue 17's new signals in the verdict -----------------------------------------------------------

from optout_audit.detect.llmstxt import parse_llmstxt  # noqa: E402
from optout_audit.detect.rsl import parse_rsl  # noqa: E402
from optout_audit.detect.tdmpolicy import parse_tdm_policy  # noqa: E402
from optout_audit.detect.trusttxt import parse_trusttxt  # noqa: E402

RSL = '<rsl xmlns="https://rslstandard.org/rsl">{}</rsl>'


def new_verdict(robots="User-agent: *\nAllow: /\n", head="<title>x</title>", headers=(), **kwargs):
    parsed = RobotsTxt.parse(robots)
    named, other = agent_results(parsed, ai_agents())
    return domain_verdict(
        site_answered=True, robots_read=True, named_agents=named, other_agents=other, training_agents=TRAINING,
        evidence=robots_evidence(parsed, ai_agents()), headers=parse_headers(list(headers)),
        html=read_head(head.encode()), tdmrep=None, aitxt=None, unread=[], origin="https://site.test", **kwargs,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("content", "answer", "signals", "training"),
    [
        (
            '<content url="/"><license><prohibits type="usage">ai-train</prohibits></license></content>',
            "yes",
            ["rsl_prohibits_ai_train"],
            "prohibited",
        ),
        (
            '<content url="/news/"><license><prohibits type="usage">ai-all</prohibits></license></content>',
            "partial",
            ["rsl_prohibits_ai_train_partial"],
            "prohibited",
        ),
        (
            '<content url="/"><license><payment type="training"/></license></content>',
            "yes",
            ["rsl_licence_required"],
            "licence_required",
        ),
        ('<content url="/"><license><permits type="usage">all</permits></license></content>', "no", [], ""),
        # a content for another site says nothing of this one
        (
            '<content url="https://other.test/"><license><prohibits type="usage">all</prohibits></license></content>',
            "no",
            [],
            "",
        ),
    ],
)
def test_rsl_in_the_verdict(content, answer, signals, training):
    result = new_verdict(rsl=[parse_rsl(RSL.format(content))])
    assert (result.reserves_ai_training, result.reservation_signals, result.rsl_training) == (answer, signals, training)
    assert "rsl_document" in result.signals


def test_inline_rsl_script_is_read_from_the_home_page():
    script = RSL.format('<content url="/"><license><prohibits type="usage">all</prohibits></license></content>')
    result = new_verdict(head=f'<script type="application/rsl+xml">{script}</script>')
    assert result.reservation_signals == ["rsl_prohibits_ai_train"]


def test_trust_txt_llms_txt_bing_and_policy_in_the_verdict():
    result = new_verdict(
        headers=[("X-Robots-Tag", "noarchive")], head='<meta name="robots" content="nocache">',
        trusttxt=parse_trusttxt(b"datatrainingallowed=no\n"), llms=parse_llmstxt(b"# S\n", "https://site.test/llms.txt"),
        tdm_policy=parse_tdm_policy(b'{"@type": "Offer", "permission": [{"action": "tdm:mine", "duty": [{"action": "compensate"}]}]}'),
    )  # fmt: skip
    assert (result.reserves_ai_training, result.reservation_signals) == ("yes", ["trust_txt_datatraining_no"])
    assert (result.trust_txt_datatraining, result.llms_txt, result.bing_ai) == ("no", True, "nocache")
    assert {"trust_txt", "llms_txt", "bing_nocache", "tdm_policy_document"} <= set(result.signals)
    assert result.tdm_policy_terms["duties"] == ["compensate"]
    # llms.txt and Bing's directives are recorded, never a reservation
    plain = new_verdict(headers=[("X-Robots-Tag", "noarchive")], llms=parse_llmstxt(b"# S\n", "https://site.test/"))
    assert (plain.reserves_ai_training, plain.bing_ai) == ("no", "noarchive")
