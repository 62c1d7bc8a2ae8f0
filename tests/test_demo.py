"""The demo web, audited end to end, reads exactly as each demo site says it should."""

from __future__ import annotations

import pytest
from crawling import crawl

from optout_audit.webfarm import running_farm
from optout_audit.webfarm.demo import demo_expectations, demo_input_lines

EXPECTED = demo_expectations()
_CSV_VALUE = {True: "true", False: "false", None: ""}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    with running_farm("demo") as farm:
        run = crawl(farm, demo_input_lines(), tmp_path_factory.mktemp("demo") / "run", timeout="5")
        run.requests = farm.request_log()
    return run


def _csv(value):
    return _CSV_VALUE.get(value, str(value)) if not isinstance(value, int) or isinstance(value, bool) else str(value)


@pytest.mark.parametrize("host", sorted(EXPECTED))
def test_demo_site_reads_as_expected(demo_run, host):
    expect, row, record = EXPECTED[host], demo_run.domains[host], demo_run.records[host]
    for column in (
        "status",
        "robots_status",
        "reserves_ai_training",
        "blocks_all_crawlers",
        "noai",
        "noimageai",
        "tdm_reservation",
        "tdm_source",
        "tdm_policy",
        "content_signal",
        "content_usage",
        "fault",
    ):
        if column in expect:
            assert row[column] == _csv(expect[column]), (host, column, row)
    agents = demo_run.agent_rows(host)
    for agent, verdict in expect.get("agents", {}).items():
        assert agents[agent]["verdict"] == verdict, (host, agent)
    for agent, named in expect.get("named", {}).items():
        assert agents[agent]["named"] == _csv(named), (host, agent)
    if "home_page_fetched" in expect:
        fetched = any(r.host == host and r.path == "/" for r in demo_run.requests)
        assert fetched is expect["home_page_fetched"], host
    if "robots_redirects" in expect:
        assert record["robots"]["redirects"] == expect["robots_redirects"]
    if "robots_final_url" in expect:
        assert record["robots"]["final_url"] == expect["robots_final_url"]
    if "aitxt_disallows_all" in expect:
        assert record["aitxt_evidence"].get("disallows_all") is expect["aitxt_disallows_all"]


def test_demo_has_one_row_per_input_site(demo_run):
    assert len(demo_run.domains) == len(EXPECTED) + 2  # + "not a url" and "ftp://x"
    assert demo_run.domains["not a url"]["status"] == "invalid_input"
    assert demo_run.domains["ftp://x"]["error"] == "unsupported scheme 'ftp' (only http and https)"
